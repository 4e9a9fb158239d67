/* Lock-free single-producer single-consumer frame rings (see spsc.h). */
#include <string.h>

#include "kernel.h"
#include "spsc.h"

void spsc_init(struct spsc *r, struct spsc_slot *mem, uint32_t size)
{
	assert(size && !(size & (size - 1)));
	r->head = r->tail = r->head_cache_tail = 0;
	r->size = size;
	r->drops = 0;
	r->slots = mem;
}

struct spsc_slot *spsc_reserve(struct spsc *r)
{
	uint32_t h = r->head;
	if (h - r->head_cache_tail == r->size) {
		r->head_cache_tail = r->tail;   /* only look at the consumer's line when we must */
		if (h - r->head_cache_tail == r->size) {
			r->drops++;
			return NULL;
		}
	}
	return &r->slots[h & (r->size - 1)];
}

void spsc_commit(struct spsc *r)
{
	wmb();                  /* slot contents before the index that publishes them */
	r->head = r->head + 1;
}

bool spsc_push(struct spsc *r, const void *frame, uint32_t len, uint32_t flags)
{
	if (len > SPSC_SLOT_BYTES) {
		r->drops++;
		return false;
	}
	struct spsc_slot *s = spsc_reserve(r);
	if (!s)
		return false;
	memcpy(s->data, frame, len);
	s->len = len;
	s->flags = flags;
	spsc_commit(r);
	return true;
}

struct spsc_slot *spsc_peek(struct spsc *r)
{
	uint32_t t = r->tail;
	if (t == r->head)
		return 0;
	rmb();                  /* the index before the slot contents it covers */
	return &r->slots[t & (r->size - 1)];
}

void spsc_pop(struct spsc *r)
{
	mb();                   /* finish reading the slot before the producer may reuse it */
	r->tail = r->tail + 1;
}
