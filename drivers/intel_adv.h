/*
 * The ring engine of Intel's advanced descriptors, shared by the 82576 (drivers/igb.c) and the
 * 82599 (drivers/ixgbe.c): the descriptor formats, queue register blocks, RX one-buffer rings with
 * DD/EOP write-back and the RSS hash, TX data descriptors behind one context descriptor for
 * checksum offload, completions reaped by DD, one tail write per ring per loop. A chip supplies a
 * small table (struct iadv_chip) and its own reset, enable and link code. (82599 datasheet 331520
 * sections 7.1.6 and 7.2.3; 82576 datasheet sections 7.1.5 and 7.2.2: byte-identical formats.)
 */
#ifndef POLLUX_INTEL_ADV_H
#define POLLUX_INTEL_ADV_H

#include <stdbool.h>
#include <stdint.h>

#include "nic.h"

/* ---- descriptors ---- */

/* RX, as the driver posts it (read format) and as the device writes it back. */
union iadv_rxd {
	struct {
		uint64_t pkt_addr;      /* buffer; bit 0 doubles as A0 of the header address */
		uint64_t hdr_addr;      /* 0: one-buffer mode; clears DD in the write-back view */
	} rd;
	struct {
		uint16_t pkt_info;      /* bits 3:0 RSS type (0: no hash) */
		uint16_t hdr_info;
		uint32_t rss;           /* RSS hash (RXCSUM.PCSD set) */
		uint32_t status_error;
#define IADV_RXD_DD (1u << 0)
#define IADV_RXD_EOP (1u << 1)
#define IADV_RXD_L4CS (1u << 5)         /* L4 checksum checked; the chip's l4_err bit says how */
#define IADV_RXD_IPCS (1u << 6)
		uint16_t length;
		uint16_t vlan;
	} wb;
};
_Static_assert(sizeof(union iadv_rxd) == 16, "advanced RX descriptor is 16 bytes");

/* TX data descriptor (read format) and its write-back. */
union iadv_txd {
	struct {
		uint64_t addr;
		uint32_t cmd_type_len;
#define IADV_TXD_DTYP_DATA (0x3u << 20)
#define IADV_TXD_DTYP_CTXT (0x2u << 20)
#define IADV_TXD_EOP (1u << 24)
#define IADV_TXD_IFCS (1u << 25)        /* insert the Ethernet CRC */
#define IADV_TXD_RS (1u << 27)          /* report status: write DD back */
#define IADV_TXD_DEXT (1u << 29)        /* advanced (extended) descriptor */
#define IADV_TXD_TSE (1u << 31)         /* TCP segmentation: cut by the context's MSS and L4LEN */
		uint32_t olinfo_status;
#define IADV_TXD_IDX0 (0u << 4)         /* context slot 0 */
#define IADV_TXD_CC (1u << 7)           /* 82599: check the context */
#define IADV_TXD_IXSM (1u << 8)         /* POPTS: insert the IPv4 header checksum */
#define IADV_TXD_TXSM (1u << 9)         /* POPTS: insert the L4 checksum */
#define IADV_TXD_PAYLEN_SHIFT 14        /* bits 31:14: frame bytes; with TSE, TCP payload bytes only */
	} rd;
	struct {
		uint64_t rsvd;
		uint32_t nxtseq_seed;
		uint32_t status;
#define IADV_TXD_STAT_DD (1u << 0)
	} wb;
};
_Static_assert(sizeof(union iadv_txd) == 16, "advanced TX descriptor is 16 bytes");

/* TX context descriptor: where the L3 and L4 headers start, which L4 checksum. */
struct iadv_txctx {
	uint32_t vlan_macip_lens;
#define IADV_CTX_MACLEN_SHIFT 9         /* bits 15:9; IPLEN bits 8:0 */
	uint32_t seqnum_seed;
	uint32_t type_tucmd_mlhl;
#define IADV_CTX_TUCMD_IPV4 (1u << 10)
#define IADV_CTX_TUCMD_L4T_TCP (1u << 11)       /* 0: UDP */
	uint32_t mss_l4len_idx;
#define IADV_CTX_L4LEN_SHIFT 8          /* bits 15:8: TCP header bytes, with TSE 12..255 */
#define IADV_CTX_MSS_SHIFT 16           /* bits 31:16: TCP payload bytes of each segment */
};
_Static_assert(sizeof(struct iadv_txctx) == 16, "advanced context descriptor is 16 bytes");

/* Offsets inside a queue's register block, the same on both chips. */
#define IADV_Q_BAL 0x00         /* RW, descriptor base low (128-byte aligned) */
#define IADV_Q_BAH 0x04         /* RW */
#define IADV_Q_LEN 0x08         /* RW, bytes, a multiple of 128 */
#define IADV_Q_H 0x10           /* RW, head: written 0 before the queue is enabled */
#define IADV_Q_T 0x18           /* RW, tail */
#define IADV_Q_DCTL 0x28        /* RW, RXDCTL / TXDCTL */
#define IADV_Q_DCTL_ENABLE (1u << 25)

/* RSS registers at the same place on both chips. */
#define IADV_MRQC 0x5818        /* RW, multiple receive queues command */
/* The fields hashed (82576 8.10.19, 82599 8.2.3.7.12): 18 TcpIPv6Ex, 19 IPv6Ex and 24 UdpIPv6Ex
 * take the addresses of a home address option or type 2 routing header, not net/flow.c's: unused. */
#define IADV_MRQC_IPV4_TCP (1u << 16)
#define IADV_MRQC_IPV4 (1u << 17)
#define IADV_MRQC_IPV6 (1u << 20)
#define IADV_MRQC_IPV6_TCP (1u << 21)
#define IADV_MRQC_IPV4_UDP (1u << 22)
#define IADV_MRQC_IPV6_UDP (1u << 23)
#define IADV_RETA(n) (0x5C00 + 4 * (n))  /* RW, 32 registers, 4 one-byte entries each */
#define IADV_RSSRK(n) (0x5C80 + 4 * (n)) /* RW, 10 registers, the 40-byte key */
#define IADV_RETA_LEN 128
/* The multicast table, also at the same place on both chips (82576 MTA[127:0] with RCTL.MO, as
 * the 82575EB manual's 14.5.1 describes it and Linux e1000_regs.h E1000_MTA places it; 82599
 * filter registers, 8.2.3.7, with MCSTCTRL.MO): 4096 bits, one per
 * value of a 12-bit slice of the destination address. A multicast frame whose bit is set passes
 * (with the 82599's MCSTCTRL.MFE); with offset MO = 0 the slice is address bits 47:36, the last
 * byte and the high nibble of the one before: (m[4] >> 4 | m[5] << 4) & 0xfff, bit (h & 31) of
 * register h >> 5 (e1000_mac.c e1000_hash_mc_addr_generic, ixgbe_common.c ixgbe_mta_vector). */
#define IADV_MTA(n) (0x5200 + 4 * (n))  /* RW, 128 registers, undefined after reset */
#define IADV_MTA_LEN 128

/* What differs per chip in the ring engine. */
struct iadv_chip {
	uint32_t (*rxq)(uint32_t q);    /* offset of queue q's RX register block */
	uint32_t (*txq)(uint32_t q);
	uint32_t (*srrctl)(uint32_t q); /* offset of queue q's SRRCTL */
	uint32_t srrctl_val;            /* advanced one-buffer, 2 KiB buffers, DROP_EN */
	uint32_t rx_l4_err;             /* status_error bit: L4 checksum wrong */
	uint32_t rx_ip_err;
	uint32_t tx_olinfo;             /* olinfo bits every offloaded frame carries (CC on 82599) */
	uint32_t reta_mask;             /* queue bits of a RETA entry */
};

/* Counters of one queue pair (read by core 0 through nic_counters). */
struct iadv_qstats {
	uint64_t rx_not_eop;            /* a frame spread over descriptors: cannot happen with 2 KiB
					 * buffers and no jumbo frames, so it is dropped */
	uint64_t rx_bad_len;
	uint64_t rx_stray_wb;           /* DD on a descriptor we had not posted */
	uint64_t rx_csum_err;
	uint64_t tx_ctx;                /* context descriptors written */
	uint64_t doorbells;
};

/* One ring. Indices run free (uint32_t) and are masked by size - 1. */
struct iadv_ring {
	void *desc;                     /* size descriptors of 16 bytes, physical = virtual */
	uint32_t *cookie;               /* RX: buffer id per descriptor; TX: slot per frame's first */
	uint32_t *last;                 /* TX: index of the frame's last descriptor, per first */
	uint64_t tail_reg;              /* absolute MMIO address of RDT / TDT */
	uint32_t size;
	uint32_t next;                  /* next descriptor to fill */
	uint32_t clean;                 /* next descriptor to look at for write-back */
	uint32_t written;               /* `next` as last written to the tail */
};

struct iadv_pair {
	struct iadv_ring rx, tx;
	bool rx_skip;                   /* in the middle of a multi-descriptor frame: drop to EOP */
	struct iadv_qstats st;
} __attribute__((aligned(64)));

/* TCP segmentation (caps.tso_max): one frame of up to 64 KiB (the IPv4 total length's bound; the
 * chips take 256 KiB) behind its context. The 82599 reads at most 40 data descriptors for one frame
 * (DPDK's IXGBE_TX_MAX_SEG; the 82576 has no such bound below the ring), nic.c gives at most
 * NIC_TX_MAX_SEGS pieces. */
#define IADV_TSO_MAX 65535
#define IADV_TX_MAX_DATA 40
_Static_assert(NIC_TX_MAX_SEGS <= IADV_TX_MAX_DATA, "a frame's pieces fit the 82599's descriptors per frame");

/* The engine's share of a driver's softc. */
struct iadv {
	const struct iadv_chip *chip;
	uint64_t bar;
	uint32_t npairs;
	uint32_t rx_ring, tx_ring;      /* descriptors per ring (powers of two) */
	struct iadv_pair pair[NIC_MAX_QUEUES];
};

/* All register access of both drivers goes through these two. */
uint32_t iadv_rd(const struct iadv *a, uint32_t off);
void iadv_wr(const struct iadv *a, uint32_t off, uint32_t v);
/* Wait until (register & mask) == want, ms milliseconds at most by the kernel's counter
 * (arch_counter at arch_counter_hz). Returns true when it happened. */
bool iadv_wait(const struct iadv *a, uint32_t off, uint32_t mask, uint32_t want, uint32_t ms);
/* Wait at least us microseconds by the same counter, touching no register. */
void iadv_delay_us(uint32_t us);

/*
 * The semaphore both chips share with their manageability firmware. SWSM first: SMBI is ours when
 * a read finds it clear (the read sets it), then SWESMBI when it reads back set after we set it.
 * Under SWSM, a resource is ours when neither its bit in the sync register nor the firmware's twin
 * (fw_shift bits higher) is set: we set ours and let SWSM go. Each chip's register offsets and
 * bounds follow its reference driver (struct iadv_swfw in igb.c and ixgbe.c).
 */
#define IADV_SWSM_SMBI (1u << 0)
#define IADV_SWSM_SWESMBI (1u << 1)
struct iadv_swfw {
	uint32_t swsm, sync;            /* register offsets */
	uint32_t fw_shift;              /* the firmware's bit of a resource: ours << fw_shift */
	uint32_t smbi_ms;               /* how long SMBI may stay taken */
	bool smbi_force;                /* then clear it once and look again (ixgbe: a driver that died) */
	uint32_t swesmbi_tries;         /* 50 us apart */
	uint32_t sync_tries;            /* 5 ms apart */
};
/* Take the resource mask: false when SWSM or the resource stayed taken for the bounds. */
bool iadv_swfw_get(const struct iadv *a, const struct iadv_swfw *s, uint32_t mask);
/* Let it go (with SWSM when it can be had: without it the bit is cleared all the same, which is
 * better than holding the resource for ever). */
void iadv_swfw_put(const struct iadv *a, const struct iadv_swfw *s, uint32_t mask);

/* Rings for n pairs, rx_ring / tx_ring descriptors each: allocated the first time (queue q's from
 * core q's arena), emptied every time. Returns 0, or -1 when memory ran out. */
int iadv_rings_init(struct iadv *a, uint32_t n, uint32_t rx_ring, uint32_t tx_ring);
/* Write queue q's ring registers (base, length, head = tail = 0, SRRCTL), not enabled. */
void iadv_rx_program(struct iadv *a, uint32_t q);
void iadv_tx_program(struct iadv *a, uint32_t q);
/* Set the queue's enable bit and wait for it to read back (about 10 ms). Returns 0 or -1. */
int iadv_rx_enable(struct iadv *a, uint32_t q);
int iadv_tx_enable(struct iadv *a, uint32_t q);
/* RX tail to what rx_post filled (after the queue is enabled). */
void iadv_rx_tail(struct iadv *a, uint32_t q);
#define IADV_RAH_AV (1u << 31)          /* receive address high: the address is valid (both chips) */
/* The MAC address the EEPROM loaded into receive address 0 (RAL at ral, RAH at ral + 4, valid
 * when RAH's AV bit is set). Returns 0, or -1 (logged with the chip's name) when there is none. */
int iadv_read_mac(struct iadv *a, uint32_t ral, const char *name, uint8_t mac[6]);
/* Key into RSSRK and reta (NIC_RETA_LEN entries of queue numbers < npairs) into RETA. */
void iadv_rss_program(struct iadv *a, const uint8_t *key, const uint8_t *reta);
/* The MTA (offset 0) with a bit for each of mac[0..cnt), every other bit clear. */
void iadv_mta_program(struct iadv *a, const uint8_t (*mac)[6], uint32_t cnt);

/* nic_ops entries both drivers use as they are (n->priv points at a struct iadv). */
void iadv_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt);
int iadv_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max);
bool iadv_tx_room(struct nic *n, uint32_t q, uint32_t nseg);
void iadv_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d);
int iadv_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max);
void iadv_flush(struct nic *n, uint32_t q);
/* The engine's named counters of queue q, appended at out[k..max); returns the new k. */
unsigned iadv_counters(const struct iadv *a, uint32_t q, struct nic_counter *out, unsigned k, unsigned max);

#endif
