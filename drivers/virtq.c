/* Split virtqueue (virtio 1.2, 2.7): buffers of one descriptor or a chain, batched publish, polled
 * completions. */
#include "kernel.h"
#include "virtq.h"

/* Device-shared fields are read and written through these: one access each, never cached in a
 * register or merged by the compiler. Ordering against the device is the barriers' job. */
#define VQ_READ16(p) (*(const volatile uint16_t *)(p))
#define VQ_READ32(p) (*(const volatile uint32_t *)(p))
#define VQ_WRITE16(p, v) (*(volatile uint16_t *)(p) = (uint16_t)(v))

struct virtq_layout {
	size_t avail, used, slot, free, end;
};

static void virtq_layout(uint16_t qsize, struct virtq_layout *l)
{
	l->avail = 16 * (size_t)qsize;
	l->used = ALIGN_UP(l->avail + 6 + 2 * (size_t)qsize, 4096);
	l->slot = ALIGN_UP(l->used + 6 + 8 * (size_t)qsize, CACHELINE);
	l->free = l->slot + sizeof(struct virtq_slot) * qsize;
	l->end = l->free + 2 * (size_t)qsize;
}

size_t virtq_mem_size(uint16_t qsize)
{
	struct virtq_layout l;
	virtq_layout(qsize, &l);
	return l.end;
}

void virtq_init(struct virtq *q, uint16_t qsize, void *mem, uint64_t mem_pa)
{
	struct virtq_layout l;
	uint8_t *base = mem;

	assert(qsize != 0 && (qsize & (qsize - 1)) == 0);       /* hence also <= 32768 */
	assert(((uintptr_t)mem & (VIRTQ_MEM_ALIGN - 1)) == 0 && (mem_pa & (VIRTQ_MEM_ALIGN - 1)) == 0);
	virtq_layout(qsize, &l);

	/* Field by field: a whole-struct clear would be a memset call on AArch64 (-mstrict-align). */
	q->size = qsize;
	q->mask = (uint16_t)(qsize - 1);
	q->desc = (struct virtq_desc *)base;
	q->avail = (struct virtq_avail *)(base + l.avail);
	q->used = (struct virtq_used *)(base + l.used);
	q->used_event = &q->avail->ring[qsize];
	q->avail_event = (volatile uint16_t *)&q->used->ring[qsize];
	q->slot = (struct virtq_slot *)(base + l.slot);
	q->free = (uint16_t *)(base + l.free);
	q->desc_pa = mem_pa;
	q->avail_pa = mem_pa + l.avail;
	q->used_pa = mem_pa + l.used;
	q->avail_idx = q->published = q->kicked = q->last_used = 0;
	q->broken = false;
	q->event_idx = false;
	q->stats = (struct virtq_stats){ 0 };

	/* The device reads nothing before queue_enable, so plain stores do, provided the transport
	 * issues a dma_wmb() before writing queue_enable. Both indices start at 0. */
	q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	q->avail->idx = 0;
	q->used->flags = 0;
	q->used->idx = 0;
	*q->avail_event = 0;
	/* We never take interrupts: MSI-X stays off and INTx is disabled at the PCI command register.
	 * Without EVENT_IDX the device honours NO_INTERRUPT above. With EVENT_IDX it ignores that flag
	 * and signals when its used idx moves past used_event (2.7.7); keeping used_event at
	 * last_used - 1 puts it just behind every index the device can reach, since the device is
	 * never more than size <= 32768 entries ahead of last_used: the condition is never met. It is
	 * written whatever was negotiated (the device ignores it without EVENT_IDX). */
	*q->used_event = (uint16_t)(q->last_used - 1);

	for (uint32_t i = 0; i < qsize; i++) {
		q->desc[i] = (struct virtq_desc){ 0 };
		q->slot[i] = (struct virtq_slot){ 0 };
		q->free[i] = (uint16_t)(qsize - 1 - i);   /* pops as 0, 1, 2, ... */
	}
	q->nfree = qsize;
}

int virtq_add(struct virtq *q, uint64_t pa, uint32_t len, bool device_writes, uint64_t cookie)
{
	if (q->nfree == 0) {
		q->stats.add_full++;
		return -1;
	}
	uint16_t id = q->free[--q->nfree];
	struct virtq_desc *d = &q->desc[id];
	d->addr = pa;
	d->len = len;
	d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
	d->next = 0;
	q->slot[id] = (struct virtq_slot){ .cookie = cookie, .len = device_writes ? len : 0, .ndesc = 1 };
	/* This avail slot was last filled size adds ago. With a free descriptor at most size - 1
	 * buffers are in flight, so one of those size entries has completed; the device reads the
	 * ring in order, so it has read this slot too and we may overwrite it. */
	q->avail->ring[q->avail_idx & q->mask] = id;
	q->avail_idx++;
	return id;
}

int virtq_add_chain(struct virtq *q, const struct virtq_seg *seg, unsigned n, uint64_t cookie)
{
	if (n == 0 || n > q->nfree) {
		q->stats.add_full++;
		return -1;
	}
	/* Pop from the back so the chain is linked head to tail as we go. */
	uint16_t next = 0, id = 0;
	uint32_t wlen = 0;
	for (unsigned i = n; i-- > 0;) {
		id = q->free[--q->nfree];
		struct virtq_desc *d = &q->desc[id];
		d->addr = seg[i].pa;
		d->len = seg[i].len;
		d->flags = (uint16_t)((seg[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		d->next = i + 1 < n ? next : 0;
		q->slot[id].ndesc = 0;
		q->slot[id].link = d->next;
		next = id;
		if (seg[i].device_writes)
			wlen += seg[i].len;
	}
	q->slot[id].cookie = cookie;
	q->slot[id].len = wlen;
	q->slot[id].ndesc = (uint16_t)n;
	q->avail->ring[q->avail_idx & q->mask] = id;    /* free as in virtq_add */
	q->avail_idx++;
	return id;
}

void virtq_publish(struct virtq *q)
{
	if (q->avail_idx == q->published)
		return;
	/* Descriptors and ring slots before the index that exposes them (2.7.13). */
	dma_wmb();
	VQ_WRITE16(&q->avail->idx, q->avail_idx);
	q->published = q->avail_idx;
}

bool virtq_need_notify(struct virtq *q)
{
	uint16_t new_idx = q->published, old = q->kicked;
	bool need;

	if (new_idx == old)
		return false;
	/*
	 * A full barrier: our store of avail->idx must be visible before we load avail_event (or
	 * used->flags). A device about to go idle does the mirror image: it stores avail_event, then
	 * (after its own barrier) re-reads avail->idx for work that arrived meanwhile. Were our load
	 * allowed to pass our store (x86 store buffer, AArch64 weak ordering; neither dma_wmb nor
	 * dma_rmb orders a store before a load), we could read the old avail_event ("busy, do not
	 * notify") while the device reads the old avail->idx ("nothing new") and sleeps: the batch
	 * would sit in the ring with nobody to look at it. dma_mb() is outer shareable on AArch64,
	 * which covers a hardware device as well as a device model on the host's cores.
	 */
	dma_mb();
	if (q->event_idx)
		need = virtq_need_event(*q->avail_event, new_idx, old);
	else
		need = !(VQ_READ16(&q->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
	q->kicked = new_idx;
	if (need)
		q->stats.notifies++;
	else
		q->stats.notifies_suppressed++;
	return need;
}

bool virtq_check_used(struct virtq *q, uint32_t id, uint32_t *len)
{
	if (id >= q->size || !q->slot[id].ndesc) {
		q->stats.bad_used++;
		return false;
	}
	if (*len > q->slot[id].len) {
		q->stats.bad_len++;
		*len = q->slot[id].len;
	}
	return true;
}

int virtq_poll_used(struct virtq *q, struct virtq_done *out, int max)
{
	uint16_t used_idx = VQ_READ16(&q->used->idx);
	int n = 0;

	if (used_idx == q->last_used || max <= 0 || q->broken)
		return 0;
	if ((uint16_t)(used_idx - q->last_used) > q->size) {
		q->stats.bad_idx++;
		q->broken = true;
		return 0;
	}
	/* The entries, and the buffers they describe, are read only after the index (2.7.14). */
	dma_rmb();
	while (q->last_used != used_idx && n < max) {
		const struct virtq_used_elem *e = &q->used->ring[q->last_used & q->mask];
		uint32_t id = VQ_READ32(&e->id), len = VQ_READ32(&e->len), claimed = len;
		q->last_used++;
		if (!virtq_check_used(q, id, &len))
			continue;
		/* The whole chain back on the free stack, by our own links: a device scribbling on the
		 * table cannot make us free a descriptor of another buffer. */
		uint16_t d = (uint16_t)id;
		for (uint16_t k = q->slot[id].ndesc; k > 0; k--) {
			q->free[q->nfree++] = d;        /* cannot overflow: the chain was in flight */
			d = q->slot[d].link;
		}
		q->slot[id].ndesc = 0;
		out[n].cookie = q->slot[id].cookie;
		out[n].len = len;
		out[n].clamped = len != claimed;
		n++;
	}
	q->stats.completions += (uint64_t)n;
	VQ_WRITE16(q->used_event, q->last_used - 1);    /* out of the device's reach: see virtq_init */
	return n;
}
