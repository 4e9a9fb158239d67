/* A host model of a modern virtio-net PCI device (virtio 1.2, transport-pci and 5.1), strict about
 * what a driver may do: PCI function with the vendor capabilities, common/notify/ISR/device config in
 * one memory BAR, split virtqueues, the control queue (MQ pairs, RSS, RX mode and MAC table),
 * EVENT_IDX, NEEDS_RESET. */
#ifndef POLLUX_VNET_MODEL_H
#define POLLUX_VNET_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

#define VM_BAR 0xfe000000ull            /* BAR4 (64-bit memory): every virtio structure */
#define VM_BAR_SIZE 0x4000ull
#define VM_COMMON 0x0000u               /* offsets of the structures inside the BAR */
#define VM_ISR 0x1000u
#define VM_DEVCFG 0x2000u
#define VM_NOTIFY 0x3000u
#define VM_MAX_PAIRS 8
#define VM_MAX_Q (2 * VM_MAX_PAIRS + 1)
#define VM_TABLE_MAX 256                /* indirection entries the model can hold */
#define VM_MAC_TABLE 64                 /* MAC filter entries, unicast and multicast together (QEMU's
					 * MAC_TABLE_ENTRIES, hw/net/virtio-net.c) */

/* A device that lies in its capabilities or registers. */
enum vm_hostile {
	VM_H_NONE = 0,
	VM_H_COMMON_BEYOND_BAR,         /* common cfg offset + length past the BAR's end */
	VM_H_DEVCFG_LEN_HUGE,           /* device cfg length 0xffffff00: past the BAR */
	VM_H_CAP_BAR_MISSING,           /* notify capability names BAR 2, which does not exist */
	VM_H_NOTIFY_OFF_BEYOND,         /* queue 3's queue_notify_off past the notify region */
};

struct vm_cfg {
	uint64_t features;              /* offered; 0: the default set (vm_default_features) */
	uint16_t pairs;                 /* queue pairs the device has (default 4) */
	bool zero_pairs;                /* device cfg says max_virtqueue_pairs = 0 */
	uint16_t qmax;                  /* queue_size offered (default 256) */
	uint16_t rss_table;             /* rss_max_indirection_table_length (default 128) */
	uint8_t rss_key;                /* rss_max_key_size (default 40) */
	uint32_t hash_types;            /* supported_hash_types (default all nine, as QEMU offers) */
	uint32_t notify_mult;           /* notify_off_multiplier (default 4) */
	bool tx_poll;                   /* TX taken only by vm_step; avail_event says "do not notify" */
	bool tx_defer;                  /* TX chains held, read and completed only by vm_tx_release */
	bool ctrl_hang;                 /* control commands taken and never answered */
	bool mac_refuse;                /* MAC_TABLE_SET refused (VIRTIO_NET_ERR) */
	enum vm_hostile hostile;
};

struct vm_q {
	bool enabled;
	uint16_t size, msix, notify_off;
	uint64_t desc, avail, used;
	uint16_t last_avail;            /* next avail entry the device takes */
	uint16_t used_idx;              /* the device's used idx */
	uint16_t seen;                  /* avail idx at the last doorbell or processing */
	bool parked;                    /* RX found empty: waits for a doorbell (avail_event set) */
	uint16_t avail_at_ok;           /* buffers made available when DRIVER_OK was written */
	uint64_t doorbells;
};

struct vm_stats {
	uint64_t violations;            /* a driver broke a MUST: the device set NEEDS_RESET */
	uint64_t resets, status_writes, features_refused, doorbells, spurious_tx_doorbells, missed_notify;
	uint64_t would_interrupt;       /* used buffer notifications the driver did not suppress */
	uint64_t rx_frames, rx_drop_nobuf, rx_drop_down, tx_frames, tx_csum, tx_inplace_reads;
	uint64_t tx_gso;                /* segmentation frames (each segment counts in tx_frames) */
	uint64_t ctrl_cmds, ctrl_refused, rss_configs, pairs_sets, wild;
	uint64_t rx_drop_filter;        /* frames the RX filter refused (QEMU's receive_filter) */
	uint64_t mac_table_sets;
};

struct vm_wire {
	uint8_t f[2048];
	uint32_t len;
	uint16_t pair;                  /* the transmit queue pair it left on */
};

struct vm_state {
	struct vm_cfg cfg;
	uint8_t status;                 /* as the driver wrote it (NEEDS_RESET kept apart) */
	bool needs_reset;
	bool halted;                    /* after a violation: no queue is processed until reset */
	bool driver_failed;             /* the driver wrote FAILED */
	char why[256];                  /* the first violation */
	uint32_t dfsel, drsel;
	uint64_t drv_features, features;        /* written by the driver; accepted at FEATURES_OK */
	uint16_t msix_config;
	uint16_t qsel, num_queues, ctrl_q;
	struct vm_q q[VM_MAX_Q];
	uint8_t status_log[32];
	int nstatus;
	bool link;
	uint8_t mac[6];
	uint8_t isr;
	/* Steering: active pairs (VQ_PAIRS_SET or RSS max_tx_vq), RSS parameters. */
	uint16_t active_pairs;
	bool rss;
	uint32_t hash_types;
	uint16_t reta_mask, unclassified;
	uint16_t reta[VM_TABLE_MAX];
	uint8_t key[64], key_len;
	/* The RX filter as QEMU keeps it: promiscuous from every reset until the driver says
	 * otherwise (VIRTIO_NET_CTRL_RX), all multicast, and the MAC table (uni, then multi); a table
	 * longer than VM_MAC_TABLE overflows into accepting all of that kind. */
	bool promisc, allmulti, uni_overflow, multi_overflow;
	uint8_t uni[VM_MAC_TABLE][6], multi[VM_MAC_TABLE][6];
	uint32_t nuni, nmulti;
	/* A control command held forever (ctrl_hang): its readable bytes as taken. */
	bool ctrl_held;
	uint16_t ctrl_held_avail;
	uint8_t ctrl_snap[4096];
	uint64_t ctrl_snap_pa[8];
	uint32_t ctrl_snap_len[8];
	int ctrl_snap_n;
	/* TX chains held (tx_defer). */
	uint16_t held_q[1024], held_head[1024];
	int nheld;
	/* Frames sent, in order. */
	struct vm_wire wire[64];
	int wire_n;
	/* The last TX descriptor addresses read (to see pieces sent in place). */
	uint64_t seg_pa[64];
	uint32_t nseg_pa;
	uint32_t rx_len_lie;            /* next RX frame: report this used length instead (0: none) */
	struct vm_stats st;
};
extern struct vm_state vm;
extern struct acpi_info vm_acpi;

uint64_t vm_default_features(void);
/* A fresh device and PCI function (pci_scan(&vm_acpi) finds it); forgets registered memory. */
void vm_init(const struct vm_cfg *c);
/* Memory the device may reach by DMA; every descriptor and ring must lie inside one region. */
void vm_dma_add(const void *p, uint64_t len);
/* A frame from the wire: placed by RSS (or pair 0) into the next posted buffer of that RX queue
 * with a virtio_net_hdr, DATA_VALID when data_valid. Returns the pair, or -1 when dropped. */
int vm_rx(const uint8_t *f, uint32_t len, bool data_valid);
/* The pair RSS would choose for f (and its hash), as the spec's steps say; -1 without RSS. */
int vm_rss_pair(const uint8_t *f, uint32_t len, uint32_t *hash);
/* Work a polling device does between doorbells: TX (tx_poll), notification checks. */
void vm_step(void);
/* Read and complete every held TX chain (tx_defer). */
void vm_tx_release(void);
/* Hostile moves. */
void vm_used_idx_jump(uint16_t qi, uint16_t by);                /* used idx moved by `by` */
void vm_put_used(uint16_t qi, uint32_t id, uint32_t len);       /* a used entry as given */
void vm_set_link(bool up);
void vm_set_needs_reset(void);
/* The one's-complement check of an IPv4 TCP/UDP frame's L4 checksum: 0 when it is correct. */
uint16_t vm_l4_check(const uint8_t *f, uint32_t len);
/* A control command's answer (VIRTIO_NET_OK or _ERR) as the control queue would give it, applied
 * (the model's own checks). */
uint8_t vm_ctrl(uint8_t cls, uint8_t cmd, const uint8_t *d, uint32_t n);
/* Raw register access for a hand-written driver (the model's own checks). */
void vm_notify(uint16_t qi);

#endif
