/* The allocator's pure core: sorted free ranges, carved first-fit, split into per-core arenas. */
#include "kernel.h"

static void remove_at(struct mem_pool *p, uint32_t i)
{
	for (uint32_t j = i; j + 1 < p->n; j++)
		p->r[j] = p->r[j + 1];
	p->n--;
}

/* Insert keeping the list sorted; false (nothing changed) when the list is full. */
static bool insert(struct mem_pool *p, struct pt_range r)
{
	if (p->n == MEM_MAX_FREE)
		return false;
	uint32_t i = p->n;
	while (i > 0 && p->r[i - 1].base > r.base) {
		p->r[i] = p->r[i - 1];
		i--;
	}
	p->r[i] = r;
	p->n++;
	return true;
}

void mem_pool_init(struct mem_pool *p, const struct mem_range *ranges, uint32_t n, uint64_t min_addr)
{
	p->n = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (ranges[i].kind != MEM_FREE)
			continue;
		uint64_t b = ALIGN_UP(ranges[i].base, 4096), e = ALIGN_DOWN(ranges[i].base + ranges[i].size, 4096);
		if (b < min_addr)
			b = min_addr;
		if (b >= e)
			continue;
		struct pt_range r = { b, e };
		if (insert(p, r))
			continue;
		/* Full: replace the smallest range if this one is larger, so big memory is never lost
		 * to many small fragments. */
		uint32_t small = 0;
		for (uint32_t j = 1; j < p->n; j++)
			if (p->r[j].end - p->r[j].base < p->r[small].end - p->r[small].base)
				small = j;
		if (e - b > p->r[small].end - p->r[small].base) {
			remove_at(p, small);
			insert(p, r);
		}
	}
}

uint64_t mem_pool_alloc(struct mem_pool *p, uint64_t size, uint64_t align, uint64_t below)
{
	if (size == 0 || align == 0 || (align & (align - 1)))
		return 0;
	size = ALIGN_UP(size, 64);
	for (uint32_t i = 0; i < p->n; i++) {
		struct pt_range *r = &p->r[i];
		uint64_t a = ALIGN_UP(r->base, align);
		if (a < r->base || a >= r->end || r->end - a < size)
			continue;
		if (below && a + size > below)
			return 0;       /* sorted: every later range is higher still */
		uint64_t end = a + size;
		if (a == r->base) {
			r->base = end;
		} else {
			/* Keep the alignment gap as its own range when there is room to track it. */
			struct pt_range gap = { r->base, a };
			r->base = end;
			insert(p, gap);
		}
		/* r may have moved if the gap was inserted before it; drop empty ranges by value. */
		for (uint32_t j = 0; j < p->n; j++)
			if (p->r[j].base >= p->r[j].end) {
				remove_at(p, j);
				break;
			}
		return a;
	}
	return 0;
}

uint64_t mem_pool_bytes(const struct mem_pool *p)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < p->n; i++)
		sum += p->r[i].end - p->r[i].base;
	return sum;
}

uint64_t mem_pool_take(struct mem_pool *p, struct mem_pool *out, uint64_t bytes)
{
	uint64_t moved = 0;
	while (moved < bytes && p->n > 0 && out->n < MEM_MAX_FREE) {
		struct pt_range *last = &p->r[p->n - 1];
		uint64_t want = bytes - moved, have = last->end - last->base;
		if (have <= want) {
			insert(out, *last);
			moved += have;
			p->n--;
			continue;
		}
		/* Split the top of the range off at a 2 MiB boundary when that still moves something,
		 * else at 4 KiB. */
		uint64_t cut = ALIGN_DOWN(last->end - want, MiB(2));
		if (cut <= last->base || cut >= last->end)
			cut = ALIGN_DOWN(last->end - want, 4096);
		if (cut <= last->base)
			cut = last->base;
		struct pt_range top = { cut, last->end };
		insert(out, top);
		moved += top.end - top.base;
		last->end = cut;
		if (last->base == last->end)
			p->n--;
		break;
	}
	return moved;
}
