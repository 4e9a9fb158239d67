/* The one-time identity map: chooses page sizes from the memory map, asks the arch format for bits. */
#include "kernel.h"

/*
 * Every address below the limit has a kind: PT_TEXT inside an exec range, else PT_RODATA inside a
 * read-only data range, else PT_RAM inside a FREE/USED/RESERVED range, else PT_DEVICE inside an MMIO
 * range, else PT_HOLE. A page may be a leaf
 * only if everything in it falls in one class, where HOLE and DEVICE are one class (both are mapped
 * uncached) and no cache bound lies strictly inside it: mapping RAM uncached or MMIO write-back
 * would be wrong, and a large page spanning MTRR ranges of different types gets an undefined
 * memory type (SDM vol 3, 11.11.9). AArch64 has no MTRRs and passes no bounds.
 * 1 GiB is tried first, then 2 MiB, then 4 KiB.
 *
 * Guard ranges (the page below each stack) are a kind of their own, stronger than all others, and
 * always 4 KiB: any larger page holding one is split, and a 4 KiB page touching one gets an entry of
 * 0, not present, so that the first access to it faults instead of reaching whatever lies there.
 *
 * Write-combining ranges (a NIC's device-memory BAR) turn the HOLE and DEVICE space inside them
 * into PT_WC, a class of its own; RAM inside one stays RAM. WC is the weakest kind, so a page is
 * write-combining only when all of it is: a page that also holds other device space stays
 * uncached (strictly ordered), which is always correct, only slower.
 *
 * A 4 KiB page cannot be split, so it takes the strongest kind present in it:
 * GUARD > TEXT > RODATA > RAM > DEVICE > HOLE > WC. With 4 KiB aligned ranges (UEFI descriptors always
 * are; the linker script aligns the text and the read-only data) that is simply the kind of every
 * byte. If a RAM range is not 4 KiB aligned, the page holding its partial end counts as RAM: memory
 * the firmware says is RAM stays reachable and cacheable. A partly-text page is TEXT so the code in
 * it can still run; a page partly read-only data is read-only, as text already is.
 *
 * Classification never walks pages: it intersects the queried interval with the sorted memory map
 * (binary search, then the few ranges overlapping it) and with the short exec and read-only lists,
 * so a 256 TiB limit costs one query per 1 GiB entry.
 */

#define PT_ENTRIES 512
#define PT_PAGE 4096ULL
#define PT_MAX_LIMIT (1ULL << 48)       /* what 4 levels of 512 x 4 KiB reach */

/* Kind bits for the set of kinds present in an interval. */
#define PT_M_HOLE   (1u << PT_HOLE)
#define PT_M_RAM    (1u << PT_RAM)
#define PT_M_DEVICE (1u << PT_DEVICE)
#define PT_M_TEXT   (1u << PT_TEXT)
#define PT_M_GUARD  (1u << PT_GUARD)
#define PT_M_WC     (1u << PT_WC)
#define PT_M_RODATA (1u << PT_RODATA)

struct pt_ctx {
	const struct pt_input *in;
	const struct pt_format *f;
	pt_alloc_fn alloc;
	void *actx;
	uint64_t limit;
	struct pt_stats *st;
};

/* Bytes covered by level's entries: 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
static uint64_t pt_size(int level)
{
	return PT_PAGE << (9 * (3 - level));
}

/* End of a memory range, saturating instead of wrapping. */
static uint64_t pt_range_end(const struct mem_range *r)
{
	uint64_t e = r->base + r->size;
	return e < r->base ? UINT64_MAX : e;
}

/* Kinds the boot map can name; an unknown kind is treated like an unlisted address. */
static unsigned pt_mem_bit(uint32_t kind)
{
	switch (kind) {
	case MEM_FREE:
	case MEM_USED:
	case MEM_RESERVED:
		return PT_M_RAM;
	case MEM_MMIO:
		return PT_M_DEVICE;
	default:
		return PT_M_HOLE;
	}
}

/* Kinds of the memory map (exec ranges ignored) present in [lo, hi), lo < hi. */
static unsigned pt_mem_mask(const struct pt_input *in, uint64_t lo, uint64_t hi)
{
	/* Ranges are sorted and disjoint, so their ends are sorted too: find the first ending above lo. */
	uint32_t a = 0, b = in->nranges;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;
		if (pt_range_end(&in->ranges[mid]) <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	unsigned mask = 0;
	uint64_t cur = lo;
	for (uint32_t i = a; i < in->nranges && in->ranges[i].base < hi; i++) {
		const struct mem_range *r = &in->ranges[i];
		if (r->size == 0)
			continue;
		if (r->base > cur)
			mask |= PT_M_HOLE;      /* the gap before r */
		mask |= pt_mem_bit(r->kind);
		cur = pt_range_end(r);
	}
	if (cur < hi)
		mask |= PT_M_HOLE;              /* the gap after the last range */
	return mask;
}

/* Kinds of the memory map with the write-combining ranges applied, in [lo, hi), lo < hi. */
static unsigned pt_wc_mask(const struct pt_input *in, uint64_t lo, uint64_t hi)
{
	unsigned mask = 0;
	uint64_t cur = lo;
	while (cur < hi) {
		/* The furthest end of the WC ranges covering cur (they may overlap), else the next start. */
		uint64_t in_end = 0, next = hi;
		for (uint32_t j = 0; j < in->nwc; j++) {
			const struct pt_range *w = &in->wc[j];
			if (w->base <= cur && cur < w->end && w->end > in_end)
				in_end = w->end;
			else if (w->base > cur && w->base < next)
				next = w->base;
		}
		if (in_end) {
			uint64_t end = in_end < hi ? in_end : hi;
			unsigned m = pt_mem_mask(in, cur, end);
			if (m & (PT_M_HOLE | PT_M_DEVICE))
				m = (m & ~(PT_M_HOLE | PT_M_DEVICE)) | PT_M_WC;
			mask |= m;
			cur = end;
		} else {
			mask |= pt_mem_mask(in, cur, next);
			cur = next;
		}
	}
	return mask;
}

/* Kinds present in [lo, hi), lo < hi: a guard range anywhere in it adds GUARD (which forces 4 KiB
 * pages and wins there); exec and read-only data ranges (few, in any order, maybe overlapping) win
 * over the map, and the gaps between them take the memory map's kinds with the write-combining
 * ranges applied. */
static unsigned pt_mask(const struct pt_input *in, uint64_t lo, uint64_t hi)
{
	const struct { const struct pt_range *r; uint32_t n; unsigned bit; } over[] = {
		{ in->exec, in->nexec, PT_M_TEXT },
		{ in->rodata, in->nrodata, PT_M_RODATA },
	};
	unsigned mask = 0;
	for (uint32_t j = 0; j < in->nguards; j++)
		if (in->guards[j].base < hi && lo < in->guards[j].end)
			mask |= PT_M_GUARD;
	uint64_t cur = lo;
	while (cur < hi) {
		/* Skip past every exec or read-only range covering cur; overlapping ones chain. */
		for (int moved = 1; moved && cur < hi;) {
			moved = 0;
			for (uint32_t k = 0; k < ARRAY_SIZE(over); k++)
				for (uint32_t j = 0; j < over[k].n; j++) {
					const struct pt_range *x = &over[k].r[j];
					if (x->base <= cur && cur < x->end) {
						mask |= over[k].bit;
						cur = x->end;
						moved = 1;
					}
				}
		}
		if (cur >= hi)
			break;
		/* cur is outside every such range: take the map up to the next one. */
		uint64_t next = hi;
		for (uint32_t k = 0; k < ARRAY_SIZE(over); k++)
			for (uint32_t j = 0; j < over[k].n; j++) {
				const struct pt_range *x = &over[k].r[j];
				if (x->base > cur && x->base < next && x->end > x->base)
					next = x->base;
			}
		mask |= pt_wc_mask(in, cur, next);
		cur = next;
	}
	return mask;
}

/* The strongest kind in mask: GUARD > TEXT > RODATA > RAM > DEVICE > HOLE > WC (see the top of the file). */
static enum pt_kind pt_strongest(unsigned mask)
{
	if (mask & PT_M_GUARD)
		return PT_GUARD;
	if (mask & PT_M_TEXT)
		return PT_TEXT;
	if (mask & PT_M_RODATA)
		return PT_RODATA;
	if (mask & PT_M_RAM)
		return PT_RAM;
	if (mask & PT_M_DEVICE)
		return PT_DEVICE;
	if (mask & PT_M_HOLE)
		return PT_HOLE;
	return mask & PT_M_WC ? PT_WC : PT_HOLE;
}

/* One class only? HOLE and DEVICE are the same class: both are mapped as device memory. A guard
 * is never part of a large page. */
static int pt_uniform(unsigned mask)
{
	if (mask & PT_M_GUARD)
		return 0;
	int classes = !!(mask & PT_M_TEXT) + !!(mask & PT_M_RODATA) + !!(mask & PT_M_RAM) +
		      !!(mask & (PT_M_HOLE | PT_M_DEVICE)) + !!(mask & PT_M_WC);
	return classes == 1;
}

/* Does a cache bound lie strictly inside [p, p + size)? A bound on the page's edge is harmless. */
static int pt_bound_inside(const struct pt_input *in, uint64_t p, uint64_t size)
{
	for (uint32_t i = 0; i < in->nbounds; i++)
		if (in->bounds[i] > p && in->bounds[i] - p < size)
			return 1;
	return 0;
}

enum pt_kind pt_classify(const struct pt_input *in, uint64_t pa, uint64_t size)
{
	if (size == 0)
		size = 1;
	uint64_t hi = pa + size < pa ? UINT64_MAX : pa + size;
	return pt_strongest(pt_mask(in, pa, hi));
}

static void pt_count_leaf(struct pt_ctx *c, int level, enum pt_kind k)
{
	uint64_t size = pt_size(level);
	if (k == PT_GUARD) {
		c->st->guard_pages++;
		return;
	}
	if (level == 1)
		c->st->pages_1g++;
	else if (level == 2)
		c->st->pages_2m++;
	else
		c->st->pages_4k++;
	if (k == PT_RAM || k == PT_TEXT || k == PT_RODATA)
		c->st->ram_bytes += size;
	else
		c->st->device_bytes += size;
	if (k == PT_WC)
		c->st->wc_bytes += size;
}

/*
 * Fill the table at pa (level, covering from base). Every one of the 512 entries is written, so the
 * result does not depend on what the page held. A child table is complete before the entry that
 * points to it is written.
 */
static int pt_fill(struct pt_ctx *c, uint64_t pa, int level, uint64_t base)
{
	uint64_t *t = (uint64_t *)(uintptr_t)pa;
	uint64_t size = pt_size(level);

	for (int i = 0; i < PT_ENTRIES; i++) {
		uint64_t p = base + (uint64_t)i * size;
		uint64_t e = 0;
		if (p < c->limit) {
			if (level == 3) {
				enum pt_kind k = pt_strongest(pt_mask(c->in, p, p + size));
				e = k == PT_GUARD ? 0 : c->f->leaf(p, level, k);
				pt_count_leaf(c, level, k);
			} else {
				/* Level 0 entries are always tables (no 512 GiB leaves with a 4 KiB granule). */
				unsigned mask = 0;
				int leaf = level > 0 && p + size <= c->limit;
				if (leaf) {
					mask = pt_mask(c->in, p, p + size);
					leaf = pt_uniform(mask) && !pt_bound_inside(c->in, p, size);
				}
				if (leaf) {
					enum pt_kind k = pt_strongest(mask);
					e = c->f->leaf(p, level, k);
					pt_count_leaf(c, level, k);
				} else {
					uint64_t child = c->alloc(c->actx);
					if (child == 0 || (child & (PT_PAGE - 1)))
						return -1;
					c->st->tables++;
					if (pt_fill(c, child, level + 1, p) < 0)
						return -1;
					e = c->f->table(child);
				}
			}
		}
		t[i] = e;
	}
	return 0;
}

int pt_build(const struct pt_input *in, const struct pt_format *f, pt_alloc_fn alloc, void *ctx,
	     uint64_t *root, struct pt_stats *st)
{
	struct pt_stats local;
	if (!st)
		st = &local;
	*st = (struct pt_stats){0};

	/* The binary search in pt_mem_mask relies on the order boot/ promises; refuse anything else
	 * rather than silently mapping RAM as device memory or the reverse. */
	for (uint32_t i = 1; i < in->nranges; i++)
		if (in->ranges[i].base < pt_range_end(&in->ranges[i - 1]))
			return -1;
	/* Round a stray limit up to a page: mapping a little more device space is harmless. */
	uint64_t limit = (in->limit + PT_PAGE - 1) & ~(PT_PAGE - 1);
	if (in->limit > PT_MAX_LIMIT || limit > PT_MAX_LIMIT)
		return -1;

	struct pt_ctx c = { .in = in, .f = f, .alloc = alloc, .actx = ctx, .limit = limit, .st = st };
	uint64_t r = alloc(ctx);
	if (r == 0 || (r & (PT_PAGE - 1)))
		return -1;
	st->tables = 1;
	if (pt_fill(&c, r, 0, 0) < 0)
		return -1;      /* pages taken so far are lost; the caller panics anyway */
	*root = r;
	return 0;
}

/* FNV-1a 64 (offset basis and prime from the published FNV definition). */
#define PT_FNV_BASIS 0xcbf29ce484222325ULL
#define PT_FNV_PRIME 0x00000100000001b3ULL

/* Hash the table at pa, then descend into the tables its entries point to, in index order. */
static uint64_t pt_hash(uint64_t h, uint64_t pa, int level, const struct pt_format *f)
{
	const uint64_t *t = (const uint64_t *)(uintptr_t)pa;
	/* Bytes taken least significant first: the in-memory order on both (little-endian) targets. */
	for (int i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = t[i];
		for (int b = 0; b < 8; b++) {
			h ^= (e >> (8 * b)) & 0xff;
			h *= PT_FNV_PRIME;
		}
	}
	if (level < 3)
		for (int i = 0; i < PT_ENTRIES; i++)
			if (f->is_table(t[i], level))
				h = pt_hash(h, f->next(t[i]), level + 1, f);
	return h;
}

/*
 * Pre-order walk: a table's 4096 bytes, then each child table in index order. The map is never
 * changed after pt_build and every entry has its accessed/dirty bits preset, so the CPU has no
 * reason to write to the tables and the sum stays constant; a change means something scribbled on
 * them. The depth is bounded by the 4 levels, so even corrupted tables cannot make it loop.
 */
uint64_t pt_checksum(uint64_t root, const struct pt_format *f)
{
	if (root == 0)
		return PT_FNV_BASIS;
	return pt_hash(PT_FNV_BASIS, root, 0, f);
}
