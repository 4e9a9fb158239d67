/*
 * The NIC interface. A driver supplies only what is hardware (struct nic_ops: rings, descriptors,
 * doorbells, registers); drivers/nic.c holds, once for every driver, what they would otherwise
 * repeat: per-queue buffer pools in the owning core's arena, batched refill, buffer cookies, the
 * RX floor, TX slots and the lifetime of pieces sent in place, the copy-or-in-place choice, the
 * device reset hand-shake between cores, and the counters. The network layer calls nic_* only and
 * never names a driver. Adding a NIC is one driver file, its register header and one line in the
 * probe table (drivers/nic.c).
 *
 * Cores: queue pair q is owned by core q; only that core calls the per-queue functions. Core 0
 * also owns the device: attach, start and the slow path run there.
 */
#ifndef POLLUX_NIC_H
#define POLLUX_NIC_H

#include <stdbool.h>
#include <stdint.h>

#define NIC_BUF_SIZE 2048       /* one RX buffer or TX slot: a frame plus the device's header */
#define NIC_MAX_QUEUES 64
#define NIC_RSS_KEY_LEN 40      /* Toeplitz key bytes (RSS and software steering) */
#define NIC_RETA_LEN 128        /* indirection table entries: hash bucket -> queue */
#define NIC_TX_REF_MIN 256      /* TX pieces this long are sent in place, shorter ones copied */
#define NIC_TX_MAX_REFS 8       /* pieces sent in place per frame; a longer chain is copied whole */
#define NIC_TX_MAX_SEGS (1 + NIC_TX_MAX_REFS)
#define NIC_RX_BURST 256        /* most frames one nic_rx_burst takes (QEMU's whole virtio-net ring) */
/* Returned RX buffers go back to the device (nic_flush) once its ring lacks this many: a post is a
 * doorbell or a tail write. */
static inline uint32_t nic_rx_refill_batch(uint32_t rx_size)
{
	return rx_size >= 4 ? rx_size / 4 : 1;
}
#define NIC_MAX_COUNTERS 24     /* named counters a driver reports per queue or for the device */
#define NIC_MCAST_MAX 32        /* multicast addresses nic_set_mcast keeps; past it, all multicast */
#define NIC_MCAST_ALL 0xffffffffu       /* set_mcast's count: receive every multicast frame */

/* One piece of a frame to send. */
struct nic_frag {
	const void *p;
	uint32_t len;
};

/* Offloads asked for a TX frame: the L4 checksum field at csum_start + csum_offset holds the
 * pseudo-header sum, and the NIC adds the rest. csum_start == 0: none.
 * TCP segmentation (gso, with the checksum and caps.tso_max): the frame is one header of hdr_len
 * bytes (Ethernet, IP, TCP) and the payload of several segments, which the NIC cuts into segments
 * of gso_size bytes (the last may be shorter), each with the header, its own sequence number,
 * lengths and checksums; PSH and FIN only on the last. The pseudo-header sum then covers the whole
 * TCP length, as for one big segment. The header's hdr_len bytes are in the leading pieces nic.c
 * copies (each shorter than NIC_TX_REF_MIN; else the frame is dropped, tx_drop_big), so a driver
 * whose NIC wants another checksum convention (Intel's: without the length) adjusts its slot. */
#define NIC_GSO_TCP4 1
#define NIC_GSO_TCP6 2
struct nic_txo {
	uint16_t csum_start, csum_offset;
	uint16_t gso_size;
	uint8_t gso;            /* 0, NIC_GSO_TCP4 or NIC_GSO_TCP6 */
	uint8_t hdr_len;
};

/* RX frame flags. */
#define NIC_RX_CSUM_OK 1        /* TCP/UDP checksum checked by the NIC, or left partial by a sender
				 * on the same host that the NIC trusts: do not verify it */
#define NIC_RX_HASH 2           /* hash is the NIC's Toeplitz hash of the flow */
#define NIC_RX_COPY 4           /* the queue's buffers are scarce: copy the frame and give the
				 * buffer back at once (nic_rx_return) */

/* What the device can do; filled by the driver's attach. */
struct nic_caps {
	uint32_t max_pairs;     /* queue pairs the device offers */
	bool rss;               /* hashes flows with our key over our indirection table */
	bool rx_hash;           /* reports each frame's hash */
	bool tx_csum;           /* completes TCP/UDP checksums (struct nic_txo) */
	bool rx_csum;           /* vouches for received checksums (NIC_RX_CSUM_OK) */
	bool tx_sg;             /* reads TX pieces in place, up to NIC_TX_MAX_SEGS per frame */
	uint16_t reta_len;      /* entries of its indirection table: a power of two <= NIC_RETA_LEN */
	uint16_t rx_hdr;        /* bytes the device writes before the frame in an RX buffer */
	uint16_t tx_hdr;        /* bytes the driver keeps before the frame in a TX slot */
	uint32_t tso_max;       /* bytes of a TCP segmentation frame (struct nic_txo); 0: none */
};

/* A received frame as the driver reports it: frame at nic_rx_buf(q, buf) + caps.rx_hdr. */
struct nic_rxd {
	uint32_t buf;           /* the buffer id (cookie) nic.c posted */
	uint32_t len;           /* frame bytes, without the device's header */
	uint32_t hash;          /* with NIC_RX_HASH */
	uint32_t flags;         /* NIC_RX_CSUM_OK, NIC_RX_HASH */
};

/* A frame for the driver to describe to the device. seg[0] starts at the slot's buffer (the
 * driver's caps.tx_hdr bytes, then the copied leading pieces); the rest are sent in place. */
struct nic_txd {
	uint32_t slot;          /* returned by tx_reap when the device is done with every segment */
	uint32_t nseg;
	uint32_t len;           /* frame bytes, without tx_hdr */
	uint8_t *buf;           /* the slot's buffer: the driver may write its header at buf[0..tx_hdr) */
	struct nic_txo o;       /* csum_start 0: none; only set when caps.tx_csum */
	struct { uint64_t pa; uint32_t len; } seg[NIC_TX_MAX_SEGS];
};

struct nic_counter {
	const char *name;
	uint64_t value;
};
/* For a driver's counters op: append name = v to out[*k] while *k < max. */
static inline void nic_counter(struct nic_counter *out, unsigned *k, unsigned max, const char *name, uint64_t v)
{
	if (*k < max)
		out[(*k)++] = (struct nic_counter){ name, v };
}

/* Slow-path events (nic_ops.slow_poll). */
#define NIC_EV_LINK_UP 1
#define NIC_EV_LINK_DOWN 2
#define NIC_EV_RESET 4          /* the device cannot be trusted or asked for it: reset it */

struct nic;
struct pci_dev;

/*
 * What a driver supplies. Per-queue calls run on the queue's owning core and never wait; device
 * calls (attach, start, slow_poll, reset, counters with q < 0) run on core 0.
 */
struct nic_ops {
	const char *name;       /* device prefix in logs: "vnet", "igb", "ena" */
	/* Bit n: BAR n is device memory the driver writes descriptors and headers into (ENA's LLQ),
	 * mapped write-combining when the page tables are built (nic_wc_ranges). */
	uint8_t wc_bars;
	/* Reset d and set up up to want queue pairs, not live yet. Fills n->caps, n->mac, n->npairs,
	 * n->rx_size and n->tx_size (descriptors per ring). Returns 0 or a negative error, logged once. */
	int (*attach)(struct nic *n, struct pci_dev *d, uint32_t want);
	/* After every RX ring was filled (rx_post): go live. With caps.rss, hash with key and send
	 * hash bucket i to queue reta[i], i < caps.reta_len; clear caps.rss when refused. */
	int (*start)(struct nic *n, const uint8_t *key, const uint8_t *reta);
	/* Post RX buffers ids[0..cnt) (at nic_rx_buf, NIC_BUF_SIZE bytes); never more than the ring
	 * has room for (nic.c keeps count). Seen by the device after flush. */
	void (*rx_post)(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt);
	/* Up to max received frames into out; returns how many. A frame the driver cannot trust
	 * (length beyond the buffer, an id not posted) is reported with len 0: nic.c counts it and
	 * posts the buffer again. */
	int (*rx_poll)(struct nic *n, uint32_t q, struct nic_rxd *out, int max);
	/* Free descriptors for a frame of nseg segments. */
	bool (*tx_room)(struct nic *n, uint32_t q, uint32_t nseg);
	/* Describe d to the device (room was checked); seen by the device after flush. */
	void (*tx_post)(struct nic *n, uint32_t q, const struct nic_txd *d);
	/* Slots of frames the device has finished reading, up to max; returns how many. */
	int (*tx_reap)(struct nic *n, uint32_t q, uint32_t *slots, int max);
	/* Once per loop iteration: publish what was posted and ring each doorbell at most once. */
	void (*flush)(struct nic *n, uint32_t q);
	/* A few times a second, never on a data path: link state, device health, device events.
	 * Returns NIC_EV_* bits. */
	unsigned (*slow_poll)(struct nic *n);
	/* Every queue is stopped: reset the device and set the rings up again, empty and not live, as
	 * attach left them. Returns 0, or a negative error (the device is then left failed). */
	int (*reset)(struct nic *n);
	/* Named counters of queue q, or of the device with q < 0, into out; returns how many. May be
	 * called from core 0 for any queue: each value is read once, possibly mid-update. */
	unsigned (*counters)(struct nic *n, int q, struct nic_counter *out, unsigned max);
	/* Live, on core 0: receive the multicast frames sent to mac[0..cnt) (broadcast and our own
	 * address always), or every multicast frame when cnt is NIC_MCAST_ALL. Returns 0 when the
	 * device filters (a hash filter may let a few other groups through), 1 when it receives all
	 * multicast: asked for, more addresses than it holds, or a refused command (the driver
	 * counts why). NULL: the device filters nothing it can be told about. */
	int (*set_mcast)(struct nic *n, const uint8_t (*mac)[6], uint32_t cnt);
};

/* A driver as the probe table lists it: the PCI IDs it serves, ending with vendor 0. */
struct nic_id {
	uint16_t vendor, device;
};
struct nic_driver {
	const struct nic_ops *ops;
	const struct nic_id *ids;
};

/* The device: common state plus the driver's (priv). */
struct nic {
	const struct nic_ops *ops;
	struct pci_dev *pci;
	void *priv;                     /* the driver's softc */
	struct nic_caps caps;
	uint8_t mac[6];
	uint32_t npairs;                /* queue pairs in use */
	uint32_t rx_size, tx_size;      /* descriptors per RX / TX ring */
	bool link;
};

/* ---- for drivers ---- */
/* RX buffer id of queue q: its address (physical = virtual). */
uint8_t *nic_rx_buf(uint32_t q, uint32_t id);
/* From slow_poll: the link is now up (or not). When that is a change, records and logs it and
 * returns the NIC_EV_LINK_* bit to report; otherwise 0. */
unsigned nic_link_change(struct nic *n, bool up);

/* ---- for the network layer ---- */

/* Common per-queue counters (drivers add their own, named, through nic_counters). */
struct nic_qstats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_csum_ok;            /* frames whose checksum the NIC vouched for */
	uint64_t rx_copied;             /* frames copied because the queue's buffers were scarce */
	uint64_t rx_empty;              /* times the ring ran empty: the device drops frames silently */
	uint64_t rx_drop_bad;           /* a frame the device reported that cannot be trusted */
	uint64_t tx_zero_copy;          /* frames with pieces sent in place */
	uint64_t tx_csum_offload;       /* frames whose checksum the NIC completes */
	uint64_t tx_full;               /* TX ring full: the caller keeps the frame or drops it */
	uint64_t tx_drop_big;           /* frame larger than a slot (or than caps.tso_max) */
	uint64_t tx_tso, tx_tso_segs;   /* segmentation frames, and the segments the NIC made of them */
	uint64_t rx_held;               /* now: RX buffers the network layer holds (a gauge) */
};

/* Device-wide counters. */
struct nic_dstats {
	uint64_t link_down, link_up;    /* link changes seen after boot */
	uint64_t resets;                /* device resets done while running */
	uint64_t reset_failed;
	uint32_t mcast_entries;         /* multicast addresses the device filters on */
	bool mcast_all;                 /* it receives every multicast frame instead */
	uint64_t mcast_fallbacks;       /* times a list was asked for and all multicast was set */
};

struct acpi_info;
struct pt_range;
/* Boot core, before the page tables (kernel_wc_probe): scan PCI and store in out[0..max) the BARs
 * the probe table's drivers mark in wc_bars, for every device they serve. Returns how many. */
uint32_t nic_wc_ranges(const struct acpi_info *ai, struct pt_range *out, uint32_t max);
/* Boot core, arenas made: find the first NIC the probe table knows and set up to want pairs.
 * Returns the pairs, or a negative error (no device, or it failed; logged). */
int nic_attach(uint32_t want);
/* Boot core: fill every RX queue from its owner's arena and go live, hashing with key over reta
 * (reta[i]: queue of hash bucket i, NIC_RETA_LEN entries). Returns 0 or a negative error. */
int nic_start(const uint8_t key[NIC_RSS_KEY_LEN], const uint8_t reta[NIC_RETA_LEN]);
const struct nic *nic_dev(void);        /* NULL when no NIC is up */

/* Owning core, before its loop: tx_done(ref) runs on this core when a frame sent in place with
 * ref has been read by the device. */
void nic_queue_start(uint32_t q, void (*tx_done)(void *ref));

/* A received frame handed to the network layer: frame[0..len) inside buffer buf of the queue. */
struct nic_rxf {
	uint8_t *frame;
	uint32_t len;
	uint32_t buf;
	uint32_t hash;
	uint32_t flags;                 /* NIC_RX_* */
};
/* Up to max frames of queue q into out. Each buffer stays the network layer's until
 * nic_rx_return; with NIC_RX_COPY it must be returned before the next nic_rx_burst. */
int nic_rx_burst(uint32_t q, struct nic_rxf *out, int max);
void nic_rx_return(uint32_t q, uint32_t buf);

/*
 * Queue one frame of n pieces on queue q. Leading pieces are copied into a slot; from the first
 * piece of NIC_TX_REF_MIN bytes on, pieces are sent in place when ref is not NULL and the device
 * reads pieces in place (the caller keeps them unchanged until tx_done(ref)). o asks for
 * offloads (NULL: none; ignored without caps.tx_csum; a segmentation frame without
 * caps.tso_max is dropped). Returns NIC_TX_INPLACE (tx_done(ref)
 * follows), NIC_TX_COPIED, NIC_TX_FULL (no room now: try again later, counted) or NIC_TX_DROP
 * (cannot be sent: too long, counted).
 */
#define NIC_TX_INPLACE 1
#define NIC_TX_COPIED 0
#define NIC_TX_FULL (-1)
#define NIC_TX_DROP (-2)
int nic_tx(uint32_t q, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref);
/* End of a loop iteration on queue q: refill RX in one batch, reap TX, one doorbell each. */
void nic_flush(uint32_t q);

/* Core 0, a few times a second: the driver's slow path, link changes and device resets (done
 * without stopping the other cores' loops: their queues pause while the device is reset).
 * Returns NIC_EV_LINK_* seen now. */
unsigned nic_slow_poll(void);
/* Core 0: receive multicast for mac[0..cnt) only. NIC_MCAST_ALL: every multicast frame; any other
 * cnt > NIC_MCAST_MAX (a list too long to keep) too, counted in mcast_fallbacks like a device that
 * could not take the list. Kept and set again after a device reset; until the first call the
 * device receives all multicast. */
void nic_set_mcast(const uint8_t (*mac)[6], uint32_t cnt);
/* Ask for a device reset (e.g. from a test command); nic_slow_poll carries it out. */
void nic_request_reset(void);

/* Counters of queue q, read from any core: each field once, possibly mid-update. */
void nic_qstats(uint32_t q, struct nic_qstats *out);
void nic_dstats(struct nic_dstats *out);
/* The driver's named counters of queue q (q < 0: the device). */
unsigned nic_counters(int q, struct nic_counter *out, unsigned max);

#endif
