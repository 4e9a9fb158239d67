/* Split virtqueue (virtio 1.2, 2.7): rings, batched posting, notification and completion rules. */
#ifndef POLLUX_VIRTQ_H
#define POLLUX_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Everything here is transport-independent: the transport (virtio-pci) programs the three ring
 * addresses, writes the notify register when virtq_need_notify() says so, and owns the buffers.
 * A buffer is one descriptor (a virtio-net header and the frame in one piece, which
 * VIRTIO_F_VERSION_1 allows: it implies VIRTIO_F_ANY_LAYOUT) or a short chain of them (a frame sent
 * from several pieces of memory without a copy, a control command and its status byte). No
 * indirect tables.
 *
 * One core owns a queue: no function here may run concurrently with another on the same queue.
 * The only other party is the device, and the rings are its interface: all fields are
 * little-endian (virtio 1.x), which both our architectures are natively.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

/* Descriptor table entry (2.7.5), 16 bytes, 16-byte aligned table. */
struct virtq_desc {
	uint64_t addr;          /* physical address of the buffer */
	uint32_t len;           /* bytes */
	uint16_t flags;
#define VIRTQ_DESC_F_NEXT  0x1  /* chained through next */
#define VIRTQ_DESC_F_WRITE 0x2  /* device writes the buffer (RX); otherwise it reads it (TX) */
	uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");

/* Available ring (2.7.6), written by the driver: flags, idx, ring[size], then used_event. */
struct virtq_avail {
	uint16_t flags;
#define VIRTQ_AVAIL_F_NO_INTERRUPT 0x1  /* no used buffer notifications (ignored with EVENT_IDX) */
	uint16_t idx;           /* next ring slot the driver fills, free-running mod 2^16 */
	uint16_t ring[];        /* descriptor ids; ring[size] is used_event */
};
_Static_assert(sizeof(struct virtq_avail) == 4, "avail header is flags + idx");

/* Used ring (2.7.8), written by the device: flags, idx, ring[size] of {id, len}, then avail_event. */
struct virtq_used_elem {
	uint32_t id;            /* descriptor id the device returns */
	uint32_t len;           /* bytes the device wrote into the buffer */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");

struct virtq_used {
	uint16_t flags;
#define VIRTQ_USED_F_NO_NOTIFY 0x1      /* device asks for no notifications (without EVENT_IDX) */
	uint16_t idx;           /* next ring slot the device fills, free-running mod 2^16 */
	struct virtq_used_elem ring[];  /* then a uint16_t avail_event */
};
_Static_assert(sizeof(struct virtq_used) == 4, "used header is flags + idx");

#define VIRTQ_MAX_SIZE 32768    /* split queues: a power of two up to 32768 (2.7) */

/*
 * Layout of the caller's block (base aligned to VIRTQ_MEM_ALIGN):
 *   desc   at 0                          16 * size     spec alignment 16
 *   avail  right after desc              6 + 2 * size  spec alignment 2
 *   used   next 4096 boundary            6 + 8 * size  spec alignment 4; we use 4096
 *   slots  next 64-byte boundary         16 * size     driver-private, never seen by the device
 *   free   right after slots             2 * size      driver-private
 * The used ring gets its own page, as the legacy layout had it, so the lines the device writes
 * (used ring, avail_event) never share a cache line with those the driver writes (descriptors,
 * avail ring, used_event): each side's stores do not keep invalidating the other side's lines.
 * It costs at most 4 KiB per queue. The private arrays sit in the same block only so that the
 * caller makes one allocation.
 */
#define VIRTQ_MEM_ALIGN 4096

/* Driver-private record of one descriptor. */
struct virtq_slot {
	uint64_t cookie;        /* the caller's, handed back on completion */
	uint32_t len;           /* device-writable bytes posted: the device may not report more */
	uint16_t ndesc;         /* head: descriptors in its chain from virtq_add until completion
				 * is taken; 0 when not in flight (or not a head) */
	uint16_t link;          /* next descriptor of the chain: our copy, the device's is writable */
};
_Static_assert(sizeof(struct virtq_slot) == 16, "virtq_slot is 16 bytes");

struct virtq_stats {
	uint64_t add_full;              /* virtq_add refused: no free descriptor (a drop) */
	uint64_t notifies;              /* virtq_need_notify said yes */
	uint64_t notifies_suppressed;   /* new buffers published but the device said not to */
	uint64_t completions;           /* used entries handed to the caller */
	uint64_t bad_used;              /* used entries skipped: id out of range or not in flight */
	uint64_t bad_len;               /* used lengths above what was posted, clamped */
	uint64_t bad_idx;               /* used idx more than a ring ahead of what we took */
};

struct virtq {
	uint16_t size;          /* entries, a power of two */
	uint16_t mask;          /* size - 1 */
	uint16_t avail_idx;     /* shadow of avail->idx, counts every virtq_add */
	uint16_t published;     /* avail->idx as last stored by virtq_publish */
	uint16_t kicked;        /* published as of the last virtq_need_notify (its "old") */
	uint16_t last_used;     /* next used ring slot to read */
	uint16_t nfree;         /* entries on the free stack */
	bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated: set by the caller after virtq_init */
	bool broken;            /* the device moved used idx impossibly far: nothing more is taken
				 * from this ring until virtq_init (the device must be reset) */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t *used_event;   /* &avail->ring[size]: driver-written */
	volatile uint16_t *avail_event; /* &used->ring[size]: device-written */
	struct virtq_slot *slot;        /* [size] */
	uint16_t *free;                 /* [size] stack of free descriptor ids */
	uint64_t desc_pa, avail_pa, used_pa;
	struct virtq_stats stats;
};

/* One completed buffer, in the order the device returned it. */
struct virtq_done {
	uint64_t cookie;
	uint32_t len;           /* bytes the device wrote (0 for a buffer it only read), clamped */
	bool clamped;           /* the device claimed more than was posted (len is the posted size):
				 * its data cannot be trusted, e.g. a frame must not be handed up */
};

/* Bytes the block for a queue of qsize entries needs (base aligned to VIRTQ_MEM_ALIGN). */
size_t virtq_mem_size(uint16_t qsize);

/* Lay out a queue of qsize entries (a power of two, 1..32768) in mem, whose physical address is
 * mem_pa (both VIRTQ_MEM_ALIGN-aligned, virtq_mem_size(qsize) bytes, DMA-coherent). Sets
 * avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT and used_event out of reach: we only ever poll.
 * All descriptors start free; event_idx starts false. The transport issues a dma_wmb() before
 * writing queue_enable, so these stores reach the device first. */
void virtq_init(struct virtq *q, uint16_t qsize, void *mem, uint64_t mem_pa);

/* Where the transport points the device (queue_desc, queue_driver, queue_device). */
static inline uint64_t virtq_desc_pa(const struct virtq *q) { return q->desc_pa; }
static inline uint64_t virtq_avail_pa(const struct virtq *q) { return q->avail_pa; }
static inline uint64_t virtq_used_pa(const struct virtq *q) { return q->used_pa; }

/* Descriptors neither posted nor awaiting collection. */
static inline uint16_t virtq_free_count(const struct virtq *q) { return q->nfree; }

/* Post the buffer at physical address pa, len bytes; device_writes marks it for the device to fill
 * (RX). cookie comes back with its completion. Fills a descriptor and the next avail ring slot but
 * publishes nothing: the device sees it after virtq_publish(). Returns the descriptor id, or -1
 * when every descriptor is in use (counted in stats.add_full). */
int virtq_add(struct virtq *q, uint64_t pa, uint32_t len, bool device_writes, uint64_t cookie);

/* One piece of a chained buffer. */
struct virtq_seg {
	uint64_t pa;
	uint32_t len;
	bool device_writes;     /* the device fills it; all such pieces follow the read-only ones */
};

/* Post a buffer made of n pieces (1..size) as one chain, otherwise as virtq_add. Returns the head
 * descriptor id, or -1 when fewer than n descriptors are free (counted in stats.add_full). */
int virtq_add_chain(struct virtq *q, const struct virtq_seg *seg, unsigned n, uint64_t cookie);

/* Make every buffer added since the last publish visible to the device: one dma_wmb() and one
 * store of avail->idx for the whole batch. Nothing is stored when nothing was added. */
void virtq_publish(struct virtq *q);

/* After virtq_publish: must the device be notified of what was published since the previous call?
 * Call it after every publish (at the latest every 65535 buffers: the rule compares 16-bit indices).
 * With event_idx, per the avail_event rule (2.7.10); without it, unless the device set
 * VIRTQ_USED_F_NO_NOTIFY. Counts stats.notifies / notifies_suppressed. On true the caller writes
 * the queue's notify register; the full barrier taken here already orders the avail->idx store
 * before that write as seen from other cores (where the hypervisor's device model runs). */
bool virtq_need_notify(struct virtq *q);

/* The vring_need_event rule: has the index moved from old to new_idx past event, i.e. is event in
 * [old, new_idx) modulo 2^16? Used both ways round by the spec; exposed for the tests. */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Take up to max completed buffers in the order the device used them, into out[]; their
 * descriptors become free. Entries failing virtq_check_used are skipped (not returned) but still
 * consumed. A used idx more than size entries ahead cannot come from a working device: it is
 * counted (stats.bad_idx), the queue is marked broken and nothing is taken. Returns how many were
 * stored in out. */
int virtq_poll_used(struct virtq *q, struct virtq_done *out, int max);

/* Validate a used element from the device: returns false (counting stats.bad_used) when id is out
 * of range or not in flight; otherwise clamps *len to the length posted (counting stats.bad_len)
 * and returns true. A buggy or hostile device must not make us free a descriptor twice or read
 * past a buffer. */
bool virtq_check_used(struct virtq *q, uint32_t id, uint32_t *len);

#endif
