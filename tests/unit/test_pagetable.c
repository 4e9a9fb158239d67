/* Host test of pagetable.c and both PTE formats: every leaf is checked against an independent oracle. */
#include <stdint.h>
#include <time.h>

#include "kernel.h"
#include "test.h"

/* ---- table pages: one aligned_alloc each (valgrind sees overruns), or a fixed arena ---- */
struct talloc {
	void **pages;
	size_t n, cap;
	size_t budget;          /* pages to hand out before returning 0 */
	uint8_t *arena;         /* if set: hand out consecutive arena pages instead */
	size_t arena_pages;
	int fill;               /* byte the arena pages are filled with (0 = as the contract says) */
};

static uint64_t talloc_page(void *ctx)
{
	struct talloc *a = ctx;
	if (a->n >= a->budget)
		return 0;
	if (a->arena) {
		if (a->n >= a->arena_pages)
			return 0;
		uint8_t *p = a->arena + a->n++ * 4096;
		memset(p, a->fill, 4096);
		return (uint64_t)(uintptr_t)p;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->pages = realloc(a->pages, a->cap * sizeof(*a->pages));
		if (!a->pages)
			abort();
	}
	void *p = aligned_alloc(4096, 4096);
	if (!p)
		abort();
	memset(p, 0, 4096);
	a->pages[a->n++] = p;
	return (uint64_t)(uintptr_t)p;
}

static struct talloc talloc_new(size_t budget)
{
	struct talloc a = {0};
	a.budget = budget;
	return a;
}

static void talloc_free(struct talloc *a)
{
	if (!a->arena)
		for (size_t i = 0; i < a->n; i++)
			free(a->pages[i]);
	free(a->pages);
	a->pages = NULL;
	a->n = a->cap = 0;
}

/* ---- a reference decoder, written from the manuals, not from the encoders ---- */
enum { D_INVALID = 0, D_TABLE, D_LEAF, D_BAD };
struct dec { int type; uint64_t pa; int kind; };

/* Intel SDM vol 3, 4.5: P 0, RW 1, US 2, PWT 3, PCD 4, A 5, D 6, PS 7, G 8, NX 63. */
static struct dec dec_x86(uint64_t e, int level)
{
	struct dec d = { D_INVALID, 0, 0 };
	if (!(e & 1))
		return d;
	int leaf = level == 3 || (level > 0 && (e & 0x80));
	if (level == 0 && (e & 0x80)) {
		d.type = D_BAD;         /* PS is reserved in a PML4E */
		return d;
	}
	if (!leaf) {
		d.pa = e & 0x000FFFFFFFFFF000ULL;
		/* Exactly P|RW|A: supervisor, no cache bits, no NX (which would apply to the whole subtree). */
		d.type = (e & ~d.pa) == 0x23 ? D_TABLE : D_BAD;
		return d;
	}
	int shift = 12 + 9 * (3 - level);
	uint64_t amask = 0x000FFFFFFFFFF000ULL & ~((1ULL << shift) - 1);
	d.pa = e & amask;
	uint64_t flags = e & ~amask;
	uint64_t ps = level < 3 ? 0x80 : 0;
	/* Allowed: P RW PWT PCD A D (PS on large leaves) NX; US, G, PAT, low address bits must be 0. */
	if ((flags & ~(0x7BULL | ps | (1ULL << 63))) || (flags & 0x61) != 0x61 || (flags & 0x80) != ps) {
		d.type = D_BAD;
		return d;
	}
	/* The memory type is IA32_PAT's entry PAT:PCD:PWT (SDM vol 3, 11.12.3), with the PAT every core
	 * loads (PAT bit always 0 here): 6 WB, 1 WC, 0 UC. */
	int rw = !!(e & 2), nx = !!(e >> 63), type = (int)((PT_X86_PAT >> (8 * ((e >> 3) & 3))) & 7);
	d.type = D_LEAF;
	if (!rw && !nx && type == 6)
		d.kind = PT_TEXT;
	else if (!rw && nx && type == 6)
		d.kind = PT_RODATA;
	else if (rw && nx && type == 6)
		d.kind = PT_RAM;
	else if (rw && nx && type == 0)
		d.kind = PT_DEVICE;
	else if (rw && nx && type == 1)
		d.kind = PT_WC;
	else
		d.type = D_BAD;
	return d;
}

/* ARM ARM D8.3: bits 1:0 type, AttrIndx 4:2, NS 5, AP 7:6, SH 9:8, AF 10, nG 11, PXN 53, UXN 54. */
static struct dec dec_arm(uint64_t e, int level)
{
	struct dec d = { D_INVALID, 0, 0 };
	int type = (int)(e & 3);
	if (type == 0 || type == 2)
		return d;
	if ((level == 0 && type == 1) || (level == 3 && type == 1)) {
		d.type = D_BAD;
		return d;
	}
	if (level < 3 && type == 3) {
		d.pa = e & 0x0000FFFFFFFFF000ULL;
		d.type = (e & ~d.pa) == 3 ? D_TABLE : D_BAD;
		return d;
	}
	int shift = 12 + 9 * (3 - level);
	uint64_t amask = 0x0000FFFFFFFFF000ULL & ~((1ULL << shift) - 1);
	d.pa = e & amask;
	uint64_t allowed = amask | 3 | (7 << 2) | (3 << 6) | (3 << 8) | (1 << 10) | (1ULL << 53) | (1ULL << 54);
	if ((e & ~allowed) || !(e & (1 << 10))) {
		d.type = D_BAD;
		return d;
	}
	/* The attribute is MAIR_EL1's byte AttrIndx, with the MAIR every core loads: 0xFF Normal
	 * write-back, 0x04 Device-nGnRE, 0x44 Normal non-cacheable. */
	int attr = (int)((PT_AARCH64_MAIR >> (8 * ((e >> 2) & 7))) & 0xff), ap = (int)((e >> 6) & 3);
	int sh = (int)((e >> 8) & 3), pxn = !!(e & (1ULL << 53)), uxn = !!(e & (1ULL << 54));
	d.type = D_LEAF;
	if (attr == 0xff && ap == 2 && sh == 3 && !pxn && uxn)
		d.kind = PT_TEXT;
	else if (attr == 0xff && ap == 2 && sh == 3 && pxn && uxn)
		d.kind = PT_RODATA;
	else if (attr == 0xff && ap == 0 && sh == 3 && pxn && uxn)
		d.kind = PT_RAM;
	else if (attr == 0x04 && ap == 0 && sh == 0 && pxn && uxn)
		d.kind = PT_DEVICE;
	else if (attr == 0x44 && ap == 0 && sh == 2 && pxn && uxn)
		d.kind = PT_WC;
	else
		d.type = D_BAD;
	return d;
}

static struct dec dec(int arm, uint64_t e, int level)
{
	return arm ? dec_arm(e, level) : dec_x86(e, level);
}

static uint64_t lvl_size(int level) { return 4096ULL << (9 * (3 - level)); }
static uint64_t *tab(uint64_t pa) { return (uint64_t *)(uintptr_t)pa; }

/* Translate va: 0 with *pa, *size, *kind; -1 unmapped; -2 malformed. *slot gets the leaf entry. */
static int translate(int arm, uint64_t root, uint64_t va, uint64_t *pa, uint64_t *size, int *kind,
		     uint64_t **slot)
{
	uint64_t t = root;
	for (int level = 0; level < 4; level++) {
		uint64_t *e = &tab(t)[(va >> (39 - 9 * level)) & 511];
		struct dec d = dec(arm, *e, level);
		if (d.type == D_INVALID)
			return -1;
		if (d.type == D_BAD)
			return -2;
		if (d.type == D_TABLE) {
			t = d.pa;
			continue;
		}
		*size = lvl_size(level);
		*pa = d.pa + (va & (*size - 1));
		*kind = d.kind;
		if (slot)
			*slot = e;
		return 0;
	}
	return -2;
}

/* ---- the oracle: a slow, obviously-right restatement of the rules ---- */
static int ref_point(const struct pt_input *in, uint64_t a)
{
	for (uint32_t j = 0; j < in->nguards; j++)
		if (in->guards[j].base <= a && a < in->guards[j].end)
			return PT_GUARD;
	for (uint32_t j = 0; j < in->nexec; j++)
		if (in->exec[j].base <= a && a < in->exec[j].end)
			return PT_TEXT;
	for (uint32_t j = 0; j < in->nrodata; j++)
		if (in->rodata[j].base <= a && a < in->rodata[j].end)
			return PT_RODATA;
	int k = PT_HOLE;
	for (uint32_t i = 0; i < in->nranges; i++) {
		const struct mem_range *r = &in->ranges[i];
		if (r->base <= a && a - r->base < r->size)
			k = r->kind == MEM_MMIO ? PT_DEVICE : r->kind >= MEM_FREE && r->kind <= MEM_RESERVED ? PT_RAM : PT_HOLE;
	}
	/* Inside a write-combining range, device space and holes are write-combining; RAM stays. */
	for (uint32_t j = 0; j < in->nwc && k != PT_RAM; j++)
		if (in->wc[j].base <= a && a < in->wc[j].end)
			return PT_WC;
	return k;
}

/* Kinds in [lo, hi): the kind only changes at a range edge, so test lo and every edge inside. */
static unsigned ref_mask(const struct pt_input *in, uint64_t lo, uint64_t hi)
{
	unsigned m = 1u << ref_point(in, lo);
	for (uint32_t i = 0; i < in->nranges; i++) {
		uint64_t b = in->ranges[i].base, e = in->ranges[i].base + in->ranges[i].size;
		if (b > lo && b < hi) m |= 1u << ref_point(in, b);
		if (e > lo && e < hi) m |= 1u << ref_point(in, e);
	}
	for (uint32_t j = 0; j < in->nexec; j++) {
		uint64_t b = in->exec[j].base, e = in->exec[j].end;
		if (b > lo && b < hi) m |= 1u << ref_point(in, b);
		if (e > lo && e < hi) m |= 1u << ref_point(in, e);
	}
	for (uint32_t j = 0; j < in->nrodata; j++) {
		uint64_t b = in->rodata[j].base, e = in->rodata[j].end;
		if (b > lo && b < hi) m |= 1u << ref_point(in, b);
		if (e > lo && e < hi) m |= 1u << ref_point(in, e);
	}
	for (uint32_t j = 0; j < in->nguards; j++) {
		uint64_t b = in->guards[j].base, e = in->guards[j].end;
		if (b > lo && b < hi) m |= 1u << ref_point(in, b);
		if (e > lo && e < hi) m |= 1u << ref_point(in, e);
	}
	for (uint32_t j = 0; j < in->nwc; j++) {
		uint64_t b = in->wc[j].base, e = in->wc[j].end;
		if (b > lo && b < hi) m |= 1u << ref_point(in, b);
		if (e > lo && e < hi) m |= 1u << ref_point(in, e);
	}
	return m;
}

static int ref_one_class(unsigned m)
{
	unsigned dev = (1u << PT_HOLE) | (1u << PT_DEVICE);
	if (m & (1u << PT_GUARD))
		return 0;       /* guards only ever as 4 KiB pages */
	return m == (1u << PT_TEXT) || m == (1u << PT_RODATA) || m == (1u << PT_RAM) || m == (1u << PT_WC) ||
	       (m & ~dev) == 0;
}

/* As the decoder reports it: HOLE reads back as DEVICE; write-combining only where all of it is. */
static int ref_kind(unsigned m)
{
	if (m & (1u << PT_GUARD)) return PT_GUARD;
	if (m & (1u << PT_TEXT)) return PT_TEXT;
	if (m & (1u << PT_RODATA)) return PT_RODATA;
	if (m & (1u << PT_RAM)) return PT_RAM;
	if (m == (1u << PT_WC)) return PT_WC;
	return PT_DEVICE;
}

static int ref_can_leaf(const struct pt_input *in, uint64_t p, uint64_t size, uint64_t limit)
{
	if (p + size > limit || !ref_one_class(ref_mask(in, p, p + size)))
		return 0;
	for (uint32_t i = 0; i < in->nbounds; i++)
		if (p < in->bounds[i] && in->bounds[i] < p + size)
			return 0;
	return 1;
}

/* Page size and kind the rules demand for the page holding va. */
static void ref_expect(const struct pt_input *in, uint64_t limit, uint64_t va, uint64_t *size, int *kind)
{
	for (int level = 1; level <= 3; level++) {
		uint64_t s = lvl_size(level), p = va & ~(s - 1);
		if (level == 3 || ref_can_leaf(in, p, s, limit)) {
			*size = s;
			*kind = ref_kind(ref_mask(in, p, p + s));
			return;
		}
	}
}

/* ---- whole-map verification: walk every entry, compare every leaf with the oracle ---- */
struct walk {
	const struct pt_input *in;
	int arm;
	uint64_t limit, next_va;
	struct pt_stats seen;
	unsigned errors;
};

static void walk_err(struct walk *w, const char *what, uint64_t va, uint64_t x)
{
	if (w->errors++ < 8)
		fprintf(stderr, "  walk: %s at va 0x%llx (0x%llx)\n", what, (unsigned long long)va,
			(unsigned long long)x);
}

static void walk_table(struct walk *w, uint64_t t, int level, uint64_t base)
{
	w->seen.tables++;
	for (int i = 0; i < 512; i++) {
		uint64_t va = base + (uint64_t)i * lvl_size(level), e = tab(t)[i];
		struct dec d = dec(w->arm, e, level);
		if (d.type == D_BAD) {
			walk_err(w, "malformed entry", va, e);
			continue;
		}
		if (d.type == D_INVALID) {
			uint64_t esize = 0;
			int ekind = -1;
			if (va < w->limit)
				ref_expect(w->in, w->limit, va, &esize, &ekind);
			if (va < w->limit && level == 3 && ekind == PT_GUARD && e == 0) {
				if (va != w->next_va)
					walk_err(w, "leaves not contiguous", va, w->next_va);
				w->next_va = va + 4096;
				w->seen.guard_pages++;
			} else if (va < w->limit)
				walk_err(w, "unmapped below limit", va, e);
			else if (e != 0)
				walk_err(w, "junk entry above limit", va, e);
			continue;
		}
		if (va >= w->limit) {
			walk_err(w, "mapped above limit", va, e);
			continue;
		}
		if (d.type == D_TABLE) {
			walk_table(w, d.pa, level + 1, va);
			continue;
		}
		uint64_t size = lvl_size(level), esize = 0;
		int ekind = -1;
		ref_expect(w->in, w->limit, va, &esize, &ekind);
		if (d.pa != va)
			walk_err(w, "not identity", va, d.pa);
		if (va != w->next_va)
			walk_err(w, "leaves not contiguous", va, w->next_va);
		if (size != esize)
			walk_err(w, "wrong page size", va, size);
		if (d.kind != ekind)
			walk_err(w, "wrong kind", va, (uint64_t)d.kind);
		w->next_va = va + size;
		if (level == 1) w->seen.pages_1g++;
		else if (level == 2) w->seen.pages_2m++;
		else w->seen.pages_4k++;
		if (d.kind == PT_DEVICE || d.kind == PT_WC) w->seen.device_bytes += size;
		else w->seen.ram_bytes += size;
		if (d.kind == PT_WC) w->seen.wc_bytes += size;
	}
}

/* Walks the map built from in and checks it leaf by leaf; also that the stats tell the truth. */
static void verify(const struct pt_input *in, int arm, uint64_t root, const struct pt_stats *st)
{
	struct walk w = { .in = in, .arm = arm, .limit = ALIGN_UP(in->limit, 4096) };
	walk_table(&w, root, 0, 0);
	CHECK_EQ(w.errors, 0);
	CHECK_EQ(w.next_va, w.limit);
	CHECK_EQ(w.seen.pages_1g, st->pages_1g);
	CHECK_EQ(w.seen.pages_2m, st->pages_2m);
	CHECK_EQ(w.seen.pages_4k, st->pages_4k);
	CHECK_EQ(w.seen.tables, st->tables);
	CHECK_EQ(w.seen.guard_pages, st->guard_pages);
	CHECK_EQ(w.seen.ram_bytes, st->ram_bytes);
	CHECK_EQ(w.seen.device_bytes, st->device_bytes);
	CHECK_EQ(w.seen.wc_bytes, st->wc_bytes);
}

static const struct pt_format *fmt(int arm) { return arm ? &pt_format_aarch64 : &pt_format_x86_64; }

/* Build in with format arm into a fresh allocator, verify all of it; caller frees a. */
static uint64_t build_verify(const struct pt_input *in, int arm, struct talloc *a, struct pt_stats *st)
{
	uint64_t root = 0;
	*a = talloc_new(SIZE_MAX);
	int rc = pt_build(in, fmt(arm), talloc_page, a, &root, st);
	CHECK_EQ(rc, 0);
	if (rc)
		return 0;
	CHECK_EQ(a->n, st->tables);
	verify(in, arm, root, st);
	return root;
}

/* Expect va to translate to itself with this page size and kind. */
#define CHECK_MAP(arm, root, va, esize, ekind) do { uint64_t _pa = 0, _sz = 0; int _k = -1; \
	CHECK_EQ(translate(arm, root, va, &_pa, &_sz, &_k, NULL), 0); CHECK_EQ(_pa, va); \
	CHECK_EQ(_sz, esize); CHECK_EQ(_k, ekind); } while (0)

#define R(b, s, k) { (b), (s), (k), 0 }

/* A PC-like map: low RAM, the VGA hole, the BIOS area, RAM up to 2 GiB with a hole, an IOAPIC. */
static const struct mem_range map_pc[] = {
	R(0, 0x9F000, MEM_FREE),
	R(0xF0000, 0x10000, MEM_RESERVED),
	R(0x100000, 0x7F000000 - 0x100000, MEM_FREE),
	R(0x7F800000, 0x800000, MEM_USED),
	R(0xFEC00000, 0x1000, MEM_MMIO),
};

static void test_pc_map(int arm)
{
	struct pt_input in = { map_pc, ARRAY_SIZE(map_pc), GiB(4), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);

	/* By hand. GiB 0 holds RAM and the hole at 0x9F000: 2 MiB pages, the first split into 4 KiB
	 * (159 RAM, 81 hole, 272 RAM pages) and 511 RAM 2 MiB pages. GiB 1: 504 RAM, 4 hole, 4 RAM
	 * 2 MiB pages. GiB 2 is all hole, GiB 3 hole plus the IOAPIC: one device class, 1 GiB each.
	 * Tables: root, one PDPT, two PDs, one PT. */
	CHECK_EQ(st.pages_1g, 2);
	CHECK_EQ(st.pages_2m, 511 + 512);
	CHECK_EQ(st.pages_4k, 512);
	CHECK_EQ(st.tables, 5);
	CHECK_EQ(st.ram_bytes, (159 + 272) * KiB(4) + (511 + 508) * MiB(2));
	CHECK_EQ(st.device_bytes, 81 * KiB(4) + 4 * MiB(2) + GiB(2));
	CHECK_EQ(st.ram_bytes + st.device_bytes, GiB(4));

	CHECK_MAP(arm, root, 0x0, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x9E000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x9F000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0xEF000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0xF0000, KiB(4), PT_RAM);      /* reserved: mapped as RAM */
	CHECK_MAP(arm, root, 0x100000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x200000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x12345678, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x7EFFFFF8, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x7F000000, MiB(2), PT_DEVICE);
	CHECK_MAP(arm, root, 0x7F7FF000, MiB(2), PT_DEVICE);
	CHECK_MAP(arm, root, 0x7F800000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x80000000, GiB(1), PT_DEVICE);
	CHECK_MAP(arm, root, 0xFEC00010, GiB(1), PT_DEVICE);
	uint64_t pa, sz, *slot;
	int k;
	CHECK_EQ(translate(arm, root, GiB(4), &pa, &sz, &k, &slot), -1);
	CHECK_EQ(translate(arm, root, GiB(512) + 5, &pa, &sz, &k, &slot), -1);

	CHECK_EQ(pt_classify(&in, 0x9F000, 4096), PT_HOLE);
	CHECK_EQ(pt_classify(&in, 0xF0000, 4096), PT_RAM);
	CHECK_EQ(pt_classify(&in, 0xFEC00000, 4096), PT_DEVICE);
	CHECK_EQ(pt_classify(&in, 0xFEC01000, 4096), PT_HOLE);
	CHECK_EQ(pt_classify(&in, 0xFEC00000 - 4096, 8192), PT_DEVICE);   /* hole + device */
	CHECK_EQ(pt_classify(&in, 0, GiB(1)), PT_RAM);                     /* strongest kind */
	talloc_free(&a);
}

/* Cache bounds: one strictly inside GiB 1 (and a 2 MiB page), one on a 2 MiB edge in GiB 3, one on
 * the 2 GiB edge (splits nothing). */
static void test_bounds(int arm)
{
	static const struct mem_range ram[] = { R(0, GiB(4), MEM_FREE) };
	static const uint64_t bounds[] = { 0x40100000, GiB(3) + MiB(2), GiB(2) };
	struct pt_input in = { ram, 1, GiB(4), NULL, 0, bounds, 3, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_EQ(st.pages_1g, 2);
	CHECK_EQ(st.pages_2m, 511 + 512);
	CHECK_EQ(st.pages_4k, 512);
	CHECK_EQ(st.tables, 5);
	CHECK_EQ(st.ram_bytes, GiB(4));
	CHECK_EQ(st.device_bytes, 0);
	CHECK_MAP(arm, root, 0x0, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, 0x400FF000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40100000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40200000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, GiB(2) + 7, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, GiB(3), MiB(2), PT_RAM);
	CHECK_MAP(arm, root, GiB(3) + MiB(2), MiB(2), PT_RAM);
	talloc_free(&a);
}

/* Exec ranges inside a RAM GiB; the second straddles a 2 MiB edge. */
static const struct pt_range text[] = { { 0x40300000, 0x40305000 }, { 0x403FF000, 0x40401000 } };

static void test_exec(int arm)
{
	static const struct mem_range ram[] = { R(0, GiB(4), MEM_FREE) };
	struct pt_input in = { ram, 1, GiB(4), text, 2, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	/* GiB 1 becomes 2 MiB pages; those at 0x40200000 and 0x40400000 become 4 KiB. */
	CHECK_EQ(st.pages_1g, 3);
	CHECK_EQ(st.pages_2m, 510);
	CHECK_EQ(st.pages_4k, 1024);
	CHECK_EQ(st.tables, 5);
	CHECK_EQ(st.ram_bytes, GiB(4));
	CHECK_MAP(arm, root, 0x402FF000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40300000, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x40304FFF, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x40305000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x403FE000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x403FF000, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x40400000, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x40401000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40000000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x40600000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x0, GiB(1), PT_RAM);

	/* The raw bits of a text page and its neighbour. */
	uint64_t pa, sz, *t = NULL, *r = NULL;
	int k;
	CHECK_EQ(translate(arm, root, 0x40300000, &pa, &sz, &k, &t), 0);
	CHECK_EQ(translate(arm, root, 0x40305000, &pa, &sz, &k, &r), 0);
	if (t && r) {
		if (!arm) {
			CHECK_EQ(*t >> 63, 0);                  /* executable */
			CHECK_EQ(*t & 2, 0);                    /* read-only */
			CHECK_EQ(*r >> 63, 1);                  /* NX */
			CHECK_EQ(*r & 2, 2);                    /* RW */
			CHECK_EQ(*t & 0x80, 0);                 /* PAT bit of a PTE: 0 */
		} else {
			CHECK_EQ((*t >> 6) & 3, 2);             /* AP: RO at EL1 */
			CHECK_EQ((*t >> 53) & 3, 2);            /* PXN clear, UXN set */
			CHECK_EQ((*r >> 6) & 3, 0);             /* AP: RW at EL1 */
			CHECK_EQ((*r >> 53) & 3, 3);            /* PXN and UXN */
		}
	}
	CHECK_EQ(pt_classify(&in, 0x40300000, 4096), PT_TEXT);
	CHECK_EQ(pt_classify(&in, 0x40305000, 4096), PT_RAM);
	talloc_free(&a);
}

/* Read-only data next to text, as the image lays them out: the text, then its constant data from
 * the next page on (one range ends where the other starts), then a range that overlaps the text's
 * last page (that page stays executable) and one spanning a 2 MiB edge. */
static void test_rodata(int arm)
{
	static const struct mem_range ram[] = { R(0, GiB(4), MEM_FREE) };
	static const struct pt_range ro[] = {
		{ 0x40305000, 0x40308000 }, { 0x40303000, 0x40306000 }, { 0x405FE000, 0x40602000 },
	};
	struct pt_input in = { ram, 1, GiB(4), text, 2, NULL, 0, NULL, 0, NULL, 0, ro, ARRAY_SIZE(ro) };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_EQ(st.ram_bytes, GiB(4));
	CHECK_MAP(arm, root, 0x40302000, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x40304000, KiB(4), PT_TEXT);      /* text and read-only data: text */
	CHECK_MAP(arm, root, 0x40305000, KiB(4), PT_RODATA);
	CHECK_MAP(arm, root, 0x40307FF8, KiB(4), PT_RODATA);
	CHECK_MAP(arm, root, 0x40308000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x405FE000, KiB(4), PT_RODATA);
	CHECK_MAP(arm, root, 0x40601000, KiB(4), PT_RODATA);
	CHECK_MAP(arm, root, 0x40602000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40800000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x0, GiB(1), PT_RAM);

	/* The raw bits: read-only and never executable, where text is read-only and executable. */
	uint64_t pa, sz, *r = NULL;
	int k;
	CHECK_EQ(translate(arm, root, 0x40305000, &pa, &sz, &k, &r), 0);
	if (r) {
		if (!arm) {
			CHECK_EQ(*r & 2, 0);                    /* read-only */
			CHECK_EQ(*r >> 63, 1);                  /* NX */
		} else {
			CHECK_EQ((*r >> 6) & 3, 2);             /* AP: RO at EL1 */
			CHECK_EQ((*r >> 53) & 3, 3);            /* PXN and UXN */
		}
	}
	CHECK_EQ(pt_classify(&in, 0x40305000, 4096), PT_RODATA);
	CHECK_EQ(pt_classify(&in, 0x40304000, 8192), PT_TEXT);
	CHECK_EQ(pt_classify(&in, 0x40307000, 8192), PT_RODATA);
	talloc_free(&a);

	/* A whole 2 MiB of read-only data is one large page. */
	static const struct pt_range big[] = { { 0x40200000, 0x40400000 } };
	struct pt_input in2 = { ram, 1, GiB(4), NULL, 0, NULL, 0, NULL, 0, NULL, 0, big, 1 };
	root = build_verify(&in2, arm, &a, &st);
	CHECK_MAP(arm, root, 0x40200000, MiB(2), PT_RODATA);
	CHECK_EQ(st.pages_4k, 0);
	talloc_free(&a);
}

/* RAM and MMIO in one GiB: 2 MiB pages, and 4 KiB where they share a 2 MiB page. */
static void test_mmio_mixed(int arm)
{
	static const struct mem_range map[] = {
		R(0, 0xB0000000, MEM_FREE),
		R(0xB0000000, MiB(2), MEM_MMIO),
		R(0xB0200000, 0x1000, MEM_USED),
		R(0xB0201000, 0x1000, MEM_MMIO),
		R(0xFE000000, MiB(16), MEM_MMIO),
	};
	struct pt_input in = { map, ARRAY_SIZE(map), GiB(4), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_MAP(arm, root, 0x0, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, 0x40000000, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, 0xAFFFF000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0xB0000000, MiB(2), PT_DEVICE);
	CHECK_MAP(arm, root, 0xB0200000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0xB0201000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0xB0202000, KiB(4), PT_DEVICE);   /* hole */
	CHECK_MAP(arm, root, 0xB0400000, MiB(2), PT_DEVICE);   /* hole, in a mixed GiB */
	CHECK_MAP(arm, root, 0xFE000000, GiB(1), PT_DEVICE);
	CHECK_EQ(st.pages_1g, 3);
	CHECK_EQ(st.pages_2m, 511);
	CHECK_EQ(st.pages_4k, 512);
	CHECK_EQ(st.ram_bytes, 0xB0000000 + KiB(4));
	talloc_free(&a);
}

/* Ranges not 4 KiB aligned: a partly-RAM page is RAM; a 2 MiB page with a sliver of hole splits. */
static void test_unaligned(int arm)
{
	static const struct mem_range map[] = {
		R(0x1000, 0x9F800 - 0x1000, MEM_FREE),          /* ends inside page 0x9F000 */
		R(0xA0000, 0x20000, MEM_MMIO),
		R(0x100200, 0x40000000 - 0x100200, MEM_FREE),   /* starts inside page 0x100000 */
		R(0x40000000, 0x40000000 - 0x800, MEM_FREE),    /* ends 2 KiB short of 2 GiB */
	};
	static const struct pt_range x[] = { { 0x200800, 0x201000 } };
	struct pt_input in = { map, ARRAY_SIZE(map), GiB(2), x, 1, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_MAP(arm, root, 0x0, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0x1000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x9F000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0xA0000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0xC0000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0x100000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x200000, KiB(4), PT_TEXT);        /* partly text */
	CHECK_MAP(arm, root, 0x201000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x400000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x7FDFF000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x7FE00000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x7FFFF000, KiB(4), PT_RAM);       /* partly RAM */
	CHECK_EQ(pt_classify(&in, 0x9F000, 4096), PT_RAM);
	CHECK_EQ(pt_classify(&in, 0x7FFFF800, 0x800), PT_HOLE);
	talloc_free(&a);
}

/* RAM above 512 GiB: two level-0 entries. */
static void test_high_ram(int arm)
{
	static const struct mem_range map[] = { R(0, GiB(2), MEM_FREE), R(GiB(600), GiB(3), MEM_FREE) };
	struct pt_input in = { map, 2, GiB(1024), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_EQ(st.pages_1g, 1024);
	CHECK_EQ(st.pages_2m + st.pages_4k, 0);
	CHECK_EQ(st.tables, 3);
	CHECK_EQ(st.ram_bytes, GiB(5));
	CHECK_EQ(st.device_bytes, GiB(1019));
	CHECK_MAP(arm, root, GiB(600) + 5, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, GiB(602) + GiB(1) - 8, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, GiB(599), GiB(1), PT_DEVICE);
	CHECK_MAP(arm, root, GiB(603), GiB(1), PT_DEVICE);
	CHECK_MAP(arm, root, GiB(1), GiB(1), PT_RAM);
	CHECK_EQ(dec(arm, tab(root)[0], 0).type, D_TABLE);
	CHECK_EQ(dec(arm, tab(root)[1], 0).type, D_TABLE);
	CHECK_EQ(tab(root)[2], 0);
	CHECK_EQ(tab(root)[511], 0);
	talloc_free(&a);

	/* The same with the high RAM off GiB and 2 MiB alignment, and a limit off 1 GiB. */
	static const struct mem_range map2[] = { R(0, GiB(2), MEM_FREE), R(GiB(600) + 0x101000, GiB(1), MEM_USED) };
	struct pt_input in2 = { map2, 2, GiB(700) + MiB(3), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	root = build_verify(&in2, arm, &a, &st);
	CHECK_MAP(arm, root, GiB(600) + 0x100000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, GiB(600) + 0x101000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, GiB(600) + MiB(2), MiB(2), PT_RAM);
	CHECK_MAP(arm, root, GiB(700) + MiB(2), KiB(4), PT_DEVICE);
	talloc_free(&a);
}

/* 256 TiB, no RAM above 1 TiB: 256 Ki 1 GiB entries, quickly. */
static void test_256t(int arm)
{
	static const struct mem_range map[] = {
		R(0, GiB(2), MEM_FREE),
		R(0xFE000000, MiB(32), MEM_MMIO),
		R(GiB(4), GiB(4), MEM_FREE),
		R(GiB(1023), GiB(1), MEM_FREE),
	};
	struct pt_input in = { map, ARRAY_SIZE(map), 1ULL << 48, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a = talloc_new(SIZE_MAX);
	struct pt_stats st;
	uint64_t root = 0;
	clock_t t0 = clock();
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), 0);
	double ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
	printf("  %s: 256 TiB map built in %.1f ms\n", fmt(arm)->name, ms);
	CHECK(ms < 2000);
	CHECK_EQ(st.pages_1g, 256 * 1024);
	CHECK_EQ(st.pages_2m + st.pages_4k, 0);
	CHECK_EQ(st.tables, 1 + 512);
	CHECK_EQ(st.ram_bytes, GiB(7));
	verify(&in, arm, root, &st);
	CHECK_MAP(arm, root, (1ULL << 48) - 8, GiB(1), PT_DEVICE);
	CHECK_MAP(arm, root, GiB(1023) + 1, GiB(1), PT_RAM);
	talloc_free(&a);

	in.limit = (1ULL << 48) + GiB(1);          /* beyond 4 levels */
	a = talloc_new(SIZE_MAX);
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), -1);
	talloc_free(&a);
}

/* Guard pages: 4 KiB entries of 0 wherever a guard range lies, inside RAM, next to text, across a
 * 2 MiB edge, and a whole 2 MiB of them; everything around stays mapped as before. */
static void test_guards(int arm)
{
	static const struct mem_range ram[] = { R(0, GiB(4), MEM_FREE), R(GiB(4), GiB(1), MEM_MMIO) };
	static const struct pt_range x[] = { { 0x40300000, 0x40305000 } };
	static const struct pt_range g[] = {
		{ 0x40010000, 0x40011000 },             /* one page below a "stack" */
		{ 0x402FF000, 0x40300000 },             /* right below text */
		{ 0x801FF000, 0x80201000 },             /* two pages across a 2 MiB edge */
		{ 0xC0000000, 0xC0200000 },             /* a whole 2 MiB */
		{ GiB(4) + 0x5000, GiB(4) + 0x6000 },   /* in device space */
	};
	struct pt_input in = { ram, 2, GiB(5), x, 1, NULL, 0, g, ARRAY_SIZE(g), NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_EQ(st.guard_pages, 1 + 1 + 2 + 512 + 1);
	uint64_t pa, sz, *slot;
	int k;
	CHECK_EQ(translate(arm, root, 0x40010000, &pa, &sz, &k, &slot), -1);
	CHECK_EQ(translate(arm, root, 0x40010FF8, &pa, &sz, &k, &slot), -1);
	CHECK_MAP(arm, root, 0x4000F000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x40011000, KiB(4), PT_RAM);
	CHECK_EQ(translate(arm, root, 0x402FF000, &pa, &sz, &k, &slot), -1);
	CHECK_MAP(arm, root, 0x40300000, KiB(4), PT_TEXT);
	CHECK_MAP(arm, root, 0x801FE000, KiB(4), PT_RAM);
	CHECK_EQ(translate(arm, root, 0x801FF000, &pa, &sz, &k, &slot), -1);
	CHECK_EQ(translate(arm, root, 0x80200000, &pa, &sz, &k, &slot), -1);
	CHECK_MAP(arm, root, 0x80201000, KiB(4), PT_RAM);
	CHECK_MAP(arm, root, 0x80400000, MiB(2), PT_RAM);
	CHECK_EQ(translate(arm, root, 0xC0000000, &pa, &sz, &k, &slot), -1);
	CHECK_EQ(translate(arm, root, 0xC01FF000, &pa, &sz, &k, &slot), -1);
	CHECK_MAP(arm, root, 0xC0200000, MiB(2), PT_RAM);
	CHECK_MAP(arm, root, 0x0, GiB(1), PT_RAM);
	CHECK_MAP(arm, root, GiB(4) + 0x4000, KiB(4), PT_DEVICE);
	CHECK_EQ(translate(arm, root, GiB(4) + 0x5000, &pa, &sz, &k, &slot), -1);
	CHECK_EQ(pt_classify(&in, 0x40010000, 4096), PT_GUARD);
	CHECK_EQ(pt_classify(&in, 0x40000000, GiB(1)), PT_GUARD);
	CHECK_EQ(pt_classify(&in, 0x40011000, 4096), PT_RAM);
	/* The bytes mapped plus the guard pages are the whole space. */
	CHECK_EQ(st.ram_bytes + st.device_bytes + st.guard_pages * KiB(4), GiB(5));
	talloc_free(&a);
}

/* FNV-1a 64 of each table page's bytes as they lie in memory, pre-order, children in index order. */
static uint64_t ref_fnv(int arm, uint64_t t, int level, uint64_t h)
{
	const unsigned char *b = (const unsigned char *)tab(t);
	for (int i = 0; i < 4096; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	for (int i = 0; i < 512; i++)
		if (dec(arm, tab(t)[i], level).type == D_TABLE)
			h = ref_fnv(arm, dec(arm, tab(t)[i], level).pa, level + 1, h);
	return h;
}

/* Checksum: the documented FNV-1a walk, stable, sensitive to one bit, independent of the pages'
 * prior contents. */
static void test_checksum(int arm)
{
	struct pt_input in = { map_pc, ARRAY_SIZE(map_pc), GiB(4), text, 2, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a = talloc_new(SIZE_MAX);
	a.arena = aligned_alloc(4096, 64 * 4096);
	a.arena_pages = 64;
	uint64_t root = 0;
	struct pt_stats st;
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), 0);
	verify(&in, arm, root, &st);
	uint64_t c1 = pt_checksum(root, fmt(arm));
	CHECK_EQ(pt_checksum(root, fmt(arm)), c1);
	CHECK_EQ(c1, ref_fnv(arm, root, 0, 0xcbf29ce484222325ULL));

	uint64_t pa, sz, *slot = NULL;
	int k;
	CHECK_EQ(translate(arm, root, 0x40300000, &pa, &sz, &k, &slot), 0);
	if (slot) {
		uint64_t keep = *slot;
		*slot ^= 1ULL << 54 | 1ULL << 63;       /* flip an execute bit */
		CHECK(pt_checksum(root, fmt(arm)) != c1);
		*slot = keep;
		CHECK_EQ(pt_checksum(root, fmt(arm)), c1);
	}
	uint64_t keep = tab(root)[5];
	tab(root)[5] = 0x1000;                      /* a stray, invalid entry in the root */
	CHECK(pt_checksum(root, fmt(arm)) != c1);
	tab(root)[5] = keep;
	CHECK_EQ(pt_checksum(root, fmt(arm)), c1);

	/* Rebuild into the same pages, this time handed out full of 0xA5: pt_build writes every entry,
	 * so the tables, and their sum, come out the same. */
	a.n = 0;
	a.fill = 0xA5;
	uint64_t root2 = 0;
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root2, &st), 0);
	CHECK_EQ(root2, root);
	CHECK_EQ(pt_checksum(root2, fmt(arm)), c1);
	verify(&in, arm, root2, &st);

	/* The other format's tables differ. */
	a.n = 0;
	a.fill = 0;
	CHECK_EQ(pt_build(&in, fmt(!arm), talloc_page, &a, &root2, &st), 0);
	CHECK(pt_checksum(root2, fmt(!arm)) != c1);
	CHECK_EQ(pt_checksum(0, fmt(arm)), 0xcbf29ce484222325ULL);
	free(a.arena);
	talloc_free(&a);
}

/* Out of pages at every point of the build: -1, root untouched, nothing crashes or leaks. */
static void test_out_of_pages(int arm)
{
	struct pt_input in = { map_pc, ARRAY_SIZE(map_pc), GiB(4), text, 2, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	build_verify(&in, arm, &a, &st);
	size_t need = a.n;
	talloc_free(&a);
	CHECK(need >= 5);
	for (size_t budget = 0; budget < need; budget++) {
		a = talloc_new(budget);
		uint64_t root = 0x5a5a000;
		CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), -1);
		CHECK_EQ(root, 0x5a5a000);
		CHECK_EQ(a.n, budget);
		talloc_free(&a);
	}
	a = talloc_new(need);
	uint64_t root = 0;
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, NULL), 0);
	talloc_free(&a);
}

/* Bad input: unsorted or overlapping ranges are refused; an empty map is all device. */
static void test_input(int arm)
{
	static const struct mem_range unsorted[] = { R(GiB(1), GiB(1), MEM_FREE), R(0, GiB(1), MEM_FREE) };
	static const struct mem_range overlap[] = { R(0, GiB(1), MEM_FREE), R(GiB(1) - 4096, GiB(1), MEM_MMIO) };
	struct pt_input in = { unsorted, 2, GiB(4), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	struct talloc a = talloc_new(SIZE_MAX);
	struct pt_stats st;
	uint64_t root = 0;
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), -1);
	in.ranges = overlap;
	CHECK_EQ(pt_build(&in, fmt(arm), talloc_page, &a, &root, &st), -1);
	talloc_free(&a);

	struct pt_input empty = { NULL, 0, GiB(2), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	root = build_verify(&empty, arm, &a, &st);
	CHECK_EQ(st.pages_1g, 2);
	CHECK_EQ(st.device_bytes, GiB(2));
	CHECK_EQ(st.tables, 2);
	talloc_free(&a);

	struct pt_input none = { NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
	root = build_verify(&none, arm, &a, &st);
	CHECK_EQ(st.tables, 1);
	CHECK_EQ(st.pages_1g + st.pages_2m + st.pages_4k, 0);
	CHECK_EQ(pt_checksum(root, fmt(arm)), pt_checksum(root, fmt(arm)));
	talloc_free(&a);
}

/* The encoders' exact bits, from the manuals. */
static void test_encodings(void)
{
	const struct pt_format *x = &pt_format_x86_64, *m = &pt_format_aarch64;
	CHECK_STR(x->name, "x86_64");
	CHECK_STR(m->name, "aarch64");
	/* x86: table P|RW|A; leaves P|RW|A|D (+PS on 1 GiB/2 MiB) +NX; UC = PCD|PWT; text P|A|D. */
	CHECK_EQ(x->table(0x123000), 0x123023);
	CHECK_EQ(x->leaf(GiB(1), 1, PT_RAM), 0x80000000400000E3ULL);
	CHECK_EQ(x->leaf(MiB(2), 2, PT_DEVICE), 0x80000000002000FBULL);
	CHECK_EQ(x->leaf(MiB(2), 2, PT_HOLE), 0x80000000002000FBULL);
	CHECK_EQ(x->leaf(0x1000, 3, PT_RAM), 0x8000000000001063ULL);
	CHECK_EQ(x->leaf(0x1000, 3, PT_TEXT), 0x1061);
	CHECK_EQ(x->leaf(0x1000, 3, PT_RODATA), 0x8000000000001061ULL);
	CHECK_EQ(x->leaf(MiB(2), 2, PT_RODATA), 0x80000000002000E1ULL);
	CHECK_EQ(x->leaf(0x1000, 3, PT_DEVICE), 0x800000000000107BULL);
	CHECK_EQ(x->leaf(0, 0, PT_RAM), 0);
	CHECK(x->is_table(0x123023, 0));
	CHECK(x->is_table(0x123023, 2));
	CHECK(!x->is_table(0x80000000400000E3ULL, 1));
	CHECK(!x->is_table(0x1063, 3));
	CHECK(!x->is_table(0, 1));
	CHECK_EQ(x->next(0x80000001234560E3ULL), 0x123456000ULL);
	/* AArch64: table 0b11; RAM page AttrIndx 1, SH 11, AF, PXN, UXN; device block AttrIndx 0, AF,
	 * PXN, UXN; text page AttrIndx 1, AP 10, SH 11, AF, UXN. */
	CHECK_EQ(m->table(0x123000), 0x123003);
	CHECK_EQ(m->leaf(0x1000, 3, PT_RAM), 0x0060000000001707ULL);
	CHECK_EQ(m->leaf(MiB(2), 2, PT_DEVICE), 0x0060000000200401ULL);
	CHECK_EQ(m->leaf(GiB(1), 1, PT_HOLE), 0x0060000040000401ULL);
	CHECK_EQ(m->leaf(0x1000, 3, PT_TEXT), 0x0040000000001787ULL);
	CHECK_EQ(m->leaf(0x1000, 3, PT_RODATA), 0x0060000000001787ULL);
	CHECK_EQ(m->leaf(GiB(1), 1, PT_RAM), 0x0060000040000705ULL);
	CHECK_EQ(m->leaf(0, 0, PT_RAM), 0);
	CHECK(m->is_table(0x123003, 0));
	CHECK(!m->is_table(0x200401, 2));
	CHECK(!m->is_table(0x1707, 3));
	CHECK_EQ(m->next(0x0060000123456707ULL), 0x123456000ULL);
	CHECK_EQ(PT_AARCH64_MAIR, 0x44FF04);
	/* Write-combining. x86: PWT alone (PAT index 1, which PT_X86_PAT makes WC = 1), RW, NX; the PAT
	 * bit (7 in a 4 KiB leaf, 12 in a large one) clear. AArch64: AttrIndx 2 (MAIR byte 0x44 Normal
	 * non-cacheable), SH 10 outer, AF, PXN, UXN. */
	CHECK_EQ(x->leaf(0x1000, 3, PT_WC), 0x800000000000106BULL);
	CHECK_EQ(x->leaf(MiB(2), 2, PT_WC), 0x80000000002000EBULL);
	CHECK_EQ(x->leaf(GiB(1), 1, PT_WC), 0x80000000400000EBULL);
	CHECK_EQ((PT_X86_PAT >> 8) & 0xff, 0x01);
	CHECK_EQ(PT_X86_PAT & ~0xff00ULL, 0x0007040600070406ULL & ~0xff00ULL);  /* the rest as at power-on */
	CHECK_EQ(m->leaf(0x1000, 3, PT_WC), 0x006000000000160BULL);
	CHECK_EQ(m->leaf(MiB(2), 2, PT_WC), 0x0060000000200609ULL);
	CHECK_EQ((PT_AARCH64_MAIR >> 16) & 0xff, 0x44);
}

/* Write-combining ranges (NIC BARs): whole pages inside one are PT_WC with the largest page that
 * fits; a page partly inside stays uncached device memory; RAM inside one stays RAM; a device
 * range (MEM_MMIO) inside one becomes WC; overlapping ranges merge. */
static void test_wc(int arm)
{
	static const struct mem_range map[] = {
		R(0, GiB(2), MEM_FREE),
		R(0xFEC00000, 0x1000, MEM_MMIO),
	};
	static const struct pt_range wc[] = {
		{ 0xC0000000, 0xC0004000 },             /* 16 KiB BAR in a hole: 4 KiB pages */
		{ 0xD0000800, 0xD0003800 },             /* unaligned: only its 2 whole pages */
		{ GiB(5), GiB(5) + MiB(2) },            /* one 2 MiB page */
		{ GiB(6), GiB(6) + MiB(512) },          /* two ranges overlapping into one GiB */
		{ GiB(6) + MiB(256), GiB(7) },
		{ GiB(1) + MiB(1), GiB(1) + MiB(3) },   /* over RAM: stays RAM */
		{ 0xFEC00000, 0xFEC01000 },             /* over an MMIO range: WC */
	};
	struct pt_input in = { map, ARRAY_SIZE(map), GiB(8), NULL, 0, NULL, 0, NULL, 0, wc, ARRAY_SIZE(wc), NULL, 0 };
	struct talloc a;
	struct pt_stats st;
	uint64_t root = build_verify(&in, arm, &a, &st);
	CHECK_MAP(arm, root, 0xC0000000, KiB(4), PT_WC);
	CHECK_MAP(arm, root, 0xC0003FF8, KiB(4), PT_WC);
	CHECK_MAP(arm, root, 0xC0004000, KiB(4), PT_DEVICE);
	CHECK_MAP(arm, root, 0xBFFFF000, GiB(1), PT_DEVICE);
	CHECK_MAP(arm, root, 0xC0200000, MiB(2), PT_DEVICE);
	CHECK_MAP(arm, root, 0xD0000000, KiB(4), PT_DEVICE);    /* partly WC */
	CHECK_MAP(arm, root, 0xD0001000, KiB(4), PT_WC);
	CHECK_MAP(arm, root, 0xD0002000, KiB(4), PT_WC);
	CHECK_MAP(arm, root, 0xD0003000, KiB(4), PT_DEVICE);    /* partly WC */
	CHECK_MAP(arm, root, GiB(5), MiB(2), PT_WC);
	CHECK_MAP(arm, root, GiB(5) + MiB(2), MiB(2), PT_DEVICE);
	CHECK_MAP(arm, root, GiB(6) + 12345, GiB(1), PT_WC);
	CHECK_MAP(arm, root, GiB(1) + MiB(2), GiB(1), PT_RAM);   /* the WC range over RAM splits nothing */
	CHECK_MAP(arm, root, 0xFEC00000, KiB(4), PT_WC);
	CHECK_MAP(arm, root, 0xFEC01000, KiB(4), PT_DEVICE);
	CHECK_EQ(st.wc_bytes, KiB(16) + KiB(8) + MiB(2) + GiB(1) + KiB(4));
	CHECK_EQ(st.ram_bytes, GiB(2));
	CHECK_EQ(st.ram_bytes + st.device_bytes, GiB(8));
	CHECK_EQ(pt_classify(&in, 0xC0001000, 4096), PT_WC);
	CHECK_EQ(pt_classify(&in, 0xD0000000, 4096), PT_HOLE);
	CHECK_EQ(pt_classify(&in, 0xFEC00000, 4096), PT_WC);
	CHECK_EQ(pt_classify(&in, GiB(1) + MiB(1), 4096), PT_RAM);
	talloc_free(&a);

	/* Without the WC ranges the same map has none, and the tables differ. */
	struct pt_input plain = in;
	plain.nwc = 0;
	struct talloc b;
	uint64_t root2 = build_verify(&plain, arm, &b, &st);
	CHECK_EQ(st.wc_bytes, 0);
	CHECK_MAP(arm, root2, 0xC0000000, GiB(1), PT_DEVICE);
	talloc_free(&b);
}

TEST_MAIN("test_pagetable: proves the identity map picks the largest page that holds one kind and no "
	  "cache bound, maps RAM/text/read-only data/device/holes/write-combining BARs with the right x86-64 (PAT) and "
	  "AArch64 (MAIR) bits up to 256 TiB, leaves stack guard pages unmapped, "
	  "fails cleanly out of pages, and that its checksum is stable and catches one changed bit", {
	test_encodings();
	for (int arm = 0; arm < 2; arm++) {
		test_pc_map(arm);
		test_bounds(arm);
		test_exec(arm);
		test_rodata(arm);
		test_mmio_mixed(arm);
		test_unaligned(arm);
		test_high_ram(arm);
		test_256t(arm);
		test_guards(arm);
		test_checksum(arm);
		test_out_of_pages(arm);
		test_input(arm);
		test_wc(arm);
	}
})
