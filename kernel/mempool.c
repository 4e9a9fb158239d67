/* The allocator's pure core: sorted free ranges carved first-fit, and split into per-core arenas. */
#include "kernel.h"

#define MP_PAGE 4096ULL

static uint64_t mp_len(const struct pt_range *r)
{
	return r->end - r->base;
}

static void mp_remove(struct mem_pool *p, uint32_t i)
{
	for (uint32_t j = i; j + 1 < p->n; j++)
		p->r[j] = p->r[j + 1];
	p->n--;
}

/* Insert [b, e) at index i, shifting the rest up; false (nothing changed) when the list is full. */
static bool mp_insert_at(struct mem_pool *p, uint32_t i, uint64_t b, uint64_t e)
{
	if (p->n == MEM_MAX_FREE)
		return false;
	for (uint32_t j = p->n; j > i; j--)
		p->r[j] = p->r[j - 1];
	p->r[i].base = b;
	p->r[i].end = e;
	p->n++;
	return true;
}

/* Add [b, e) keeping the list sorted, merging with ranges it touches or overlaps (so the
 * 128 slots are spent on real holes, not on seams). When the list is full and nothing merges:
 * with evict, the smallest range gives way if the new one is larger, so big memory is never
 * lost to many small fragments; without, false is returned and nothing changes. */
static bool mp_add(struct mem_pool *p, uint64_t b, uint64_t e, bool evict)
{
	uint32_t i = 0;
	while (i < p->n && p->r[i].base <= b)
		i++;
	if (i > 0 && p->r[i - 1].end >= b) {
		i--;
		if (e > p->r[i].end)
			p->r[i].end = e;
	} else if (i < p->n && p->r[i].base <= e) {
		p->r[i].base = b;
		if (e > p->r[i].end)
			p->r[i].end = e;
	} else if (!mp_insert_at(p, i, b, e)) {
		if (!evict)
			return false;
		uint32_t small = 0;
		for (uint32_t j = 1; j < p->n; j++)
			if (mp_len(&p->r[j]) < mp_len(&p->r[small]))
				small = j;
		if (e - b <= mp_len(&p->r[small]))
			return false;
		mp_remove(p, small);
		/* It touches nothing (else it would have merged), so a plain sorted insert is right. */
		i = 0;
		while (i < p->n && p->r[i].base < b)
			i++;
		mp_insert_at(p, i, b, e);
		return true;
	}
	/* The grown range may now reach its successors. */
	while (i + 1 < p->n && p->r[i + 1].base <= p->r[i].end) {
		if (p->r[i + 1].end > p->r[i].end)
			p->r[i].end = p->r[i + 1].end;
		mp_remove(p, i + 1);
	}
	return true;
}

void mem_pool_init(struct mem_pool *p, const struct mem_range *ranges, uint32_t n, uint64_t min_addr)
{
	p->n = 0;
	/* Address 0 is the allocator's failure value, so page 0 is never handed out. */
	if (min_addr < MP_PAGE)
		min_addr = MP_PAGE;
	for (uint32_t i = 0; i < n; i++) {
		const struct mem_range *m = &ranges[i];
		if (m->kind != MEM_FREE || m->size == 0)
			continue;
		/* A range running past 2^64 is clipped rather than wrapped. */
		uint64_t b = m->base, e = m->size > UINT64_MAX - b ? UINT64_MAX : b + m->size;
		if (b < min_addr)
			b = min_addr;
		if (b > UINT64_MAX - (MP_PAGE - 1))
			continue;
		b = ALIGN_UP(b, MP_PAGE);
		e = ALIGN_DOWN(e, MP_PAGE);
		if (b >= e)
			continue;
		mp_add(p, b, e, true);
	}
}

/* Hand out [a, a + size) from range i. */
static void mp_carve(struct mem_pool *p, uint32_t i, uint64_t a, uint64_t size)
{
	struct pt_range *r = &p->r[i];
	uint64_t e = a + size;
	if (a == r->base) {
		r->base = e;
		if (r->base == r->end)
			mp_remove(p, i);
	} else if (e == r->end) {
		r->end = a;             /* the alignment gap is what remains */
	} else if (p->n < MEM_MAX_FREE) {
		uint64_t old_end = r->end;
		r->end = a;             /* keep the gap below, the rest above as a new range */
		mp_insert_at(p, i + 1, e, old_end);
	} else {
		/* No slot to track the gap: lose [base, a) rather than fail an allocation that fits. */
		r->base = e;
	}
}

uint64_t mem_pool_alloc(struct mem_pool *p, uint64_t size, uint64_t align, uint64_t below)
{
	if (size == 0 || size > UINT64_MAX - (CACHELINE - 1))
		return 0;
	if (align & (align - 1))
		return 0;               /* not a power of two */
	/* Blocks are whole cache lines, so every range edge stays 64-byte aligned. */
	if (align < CACHELINE)
		align = CACHELINE;
	size = ALIGN_UP(size, CACHELINE);
	for (uint32_t i = 0; i < p->n; i++) {
		struct pt_range *r = &p->r[i];
		if (r->base > UINT64_MAX - (align - 1))
			break;          /* aligning would wrap; later ranges are higher still */
		uint64_t a = ALIGN_UP(r->base, align);
		if (a >= r->end || r->end - a < size)
			continue;
		/* Ranges are sorted, so if this one ends past `below` every later one does too. */
		if (below && (a > below || below - a < size))
			break;
		mp_carve(p, i, a, size);
		return a;
	}
	return 0;
}

uint64_t mem_pool_bytes(const struct mem_pool *p)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < p->n; i++)
		sum += mp_len(&p->r[i]);
	return sum;
}

/* Whole ranges go from the top of p until the next one is larger than what is still wanted;
 * that one is split so out gets its top part. The cut is rounded up, so at most `bytes` move
 * (arenas never overdraw what the caller meant to keep), and lands on a 2 MiB boundary when
 * one lies inside the range, so large pages and 2 MiB blocks are not split between arenas. */
uint64_t mem_pool_take(struct mem_pool *p, struct mem_pool *out, uint64_t bytes)
{
	uint64_t moved = 0;
	while (moved < bytes && p->n > 0) {
		struct pt_range *top = &p->r[p->n - 1];
		uint64_t want = bytes - moved, cut = top->base;
		if (mp_len(top) > want) {
			uint64_t x = top->end - want;           /* > top->base */
			cut = ALIGN_UP(x, MiB(2));
			if (cut < x || cut >= top->end)
				cut = ALIGN_UP(x, MP_PAGE);
			if (cut < x || cut >= top->end)
				break;  /* less than a page wanted: close enough */
		}
		if (!mp_add(out, cut, top->end, false))
			break;          /* out is full */
		moved += top->end - cut;
		if (cut == top->base) {
			p->n--;
		} else {
			top->end = cut;
			break;          /* a split is always the last piece */
		}
	}
	return moved;
}
