/* One core's network memory in size classes (net/slab.h). Pure: the arena comes through grow. */
#include "slab.h"

#define LIVE 0x5ab1ce00u        /* ^ class: the header of a block handed out */
#define FREED 0xf4eeb10cu       /* the header of a block on a free list */

struct hdr {
	uint32_t cls;
	uint32_t magic;
};
_Static_assert(sizeof(struct hdr) == SLAB_HDR, "header size");

static uint32_t class_size(int i)
{
	if (i < 8)
		return 16u * (uint32_t)(i + 1);
	int j = i - 8, k = 7 + j / 4;
	return (1u << k) + (uint32_t)(j % 4 + 1) * (1u << (k - 2));
}

int slab_class_of(size_t n)
{
	if (n > SLAB_MAX)
		return -1;
	uint32_t t = (uint32_t)n + SLAB_HDR;
	if (t <= 128)
		return (int)((t + 15) / 16) - 1;
	int k = 31 - __builtin_clz(t - 1);      /* 2^k < t <= 2^(k+1) */
	return 8 + (k - 7) * 4 + (int)((t - 1 - (1u << k)) >> (k - 2));
}

uint32_t slab_block_size(size_t n)
{
	int i = slab_class_of(n);
	return i < 0 ? 0 : class_size(i);
}

void slab_init(struct slab *s, uint64_t budget, uint32_t chunk, void *(*grow)(void *ctx, size_t bytes), void *ctx)
{
	*s = (struct slab){ .grow = grow, .ctx = ctx, .budget = budget, .chunk = chunk };
	for (int i = 0; i < SLAB_CLASSES; i++)
		s->cls[i].size = class_size(i);
}

/* The current chunk's tail, too short for the block wanted, becomes free blocks of the largest
 * classes that fit, so nothing taken is lost; under 16 bytes is slack. */
static void tail_to_lists(struct slab *s)
{
	int i = SLAB_CLASSES - 1;
	while (s->end - s->bump >= 16) {
		while (s->cls[i].size > (size_t)(s->end - s->bump))
			i--;
		struct hdr *h = (struct hdr *)s->bump;
		s->bump += s->cls[i].size;
		h->cls = (uint32_t)i;
		h->magic = FREED;
		*(void **)(h + 1) = s->cls[i].free;
		s->cls[i].free = h;
		s->cls[i].nfree++;
		s->cls[i].blocks++;
	}
	s->slack += (uint64_t)(s->end - s->bump);
}

/* A fresh block of size bytes from the current chunk, or a new one. */
static void *carve(struct slab *s, uint32_t size)
{
	if ((size_t)(s->end - s->bump) < size) {
		if (s->taken + s->chunk > s->budget)
			return NULL;
		uint8_t *c = s->grow(s->ctx, s->chunk);
		if (!c)
			return NULL;
		tail_to_lists(s);
		s->taken += s->chunk;
		s->bump = c;
		s->end = c + s->chunk;
	}
	void *b = s->bump;
	s->bump += size;
	return b;
}

void *slab_alloc(struct slab *s, size_t n)
{
	int i = slab_class_of(n);
	if (i < 0) {
		s->fails++;
		return NULL;
	}
	struct slab_class *c = &s->cls[i];
	struct hdr *h = c->free;
	if (h) {
		c->free = *(void **)(h + 1);
		c->nfree--;
	} else {
		h = carve(s, c->size);
		if (!h) {
			s->fails++;
			return NULL;
		}
		c->blocks++;
	}
	h->cls = (uint32_t)i;
	h->magic = LIVE ^ (uint32_t)i;
	s->in_use += c->size;
	if (s->in_use > s->high)
		s->high = s->in_use;
	return h + 1;
}

void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	if (((uintptr_t)p & 7) || h->cls >= SLAB_CLASSES || h->magic != (LIVE ^ h->cls)) {
		s->bad_frees++;
		return;
	}
	struct slab_class *c = &s->cls[h->cls];
	h->magic = FREED;
	*(void **)p = c->free;
	c->free = h;
	c->nfree++;
	s->in_use -= c->size;
}

uint64_t slab_avail(const struct slab *s)
{
	/* taken = in_use + free lists + the chunk's uncarved tail + slack */
	return s->budget - s->in_use - s->slack;
}
