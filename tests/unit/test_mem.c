/* Host test of mempool.c: free ranges from a boot map, aligned disjoint blocks, and arenas that conserve memory. */
#include <stdint.h>

#include "kernel.h"
#include "test.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;    /* fixed seed: failures reproduce */
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Sorted, non-empty, non-overlapping, 64-byte edges, within the slot count. */
static bool pool_ok(const struct mem_pool *p)
{
	if (p->n > MEM_MAX_FREE)
		return false;
	for (uint32_t i = 0; i < p->n; i++) {
		if (p->r[i].base >= p->r[i].end || (p->r[i].base | p->r[i].end) % 64)
			return false;
		if (i > 0 && p->r[i - 1].end > p->r[i].base)
			return false;
	}
	return true;
}

/* [a, a + size) lies inside one range of p. */
static bool inside(const struct mem_pool *p, uint64_t a, uint64_t size)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (a >= p->r[i].base && a + size <= p->r[i].end && a + size >= a)
			return true;
	return false;
}

struct blk { uint64_t a, size; };

static int blk_cmp(const void *x, const void *y)
{
	const struct blk *a = x, *b = y;
	return a->a < b->a ? -1 : a->a > b->a;
}

/* Sort and count neighbours that overlap. */
static unsigned overlaps(struct blk *b, size_t n)
{
	qsort(b, n, sizeof(*b), blk_cmp);
	unsigned bad = 0;
	for (size_t i = 1; i < n; i++)
		bad += b[i - 1].a + b[i - 1].size > b[i].a;
	return bad;
}

static void init_map(void)
{
	/* Unsorted on purpose, every kind, unaligned edges, page 0, a merge seam, a wrap past 2^64. */
	static const struct mem_range map[] = {
		{ 0x100000000ULL, GiB(1), MEM_FREE, 7 },        /* 4 GiB .. 5 GiB */
		{ 0x0, 0x9f000, MEM_FREE, 7 },                  /* below min_addr: dropped */
		{ 0x9f000, 0x61000, MEM_RESERVED, 0 },
		{ 0xff000, 0x3000, MEM_FREE, 7 },               /* straddles min_addr 0x100800 */
		{ 0x102000, 0x7efe000, MEM_FREE, 7 },           /* seam at 0x102000: merges with the above */
		{ 0x8000000, 0x100000, MEM_USED, 2 },
		{ 0x8100123, 0x1f00000, MEM_FREE, 7 },          /* unaligned both ends: rounded inward */
		{ 0xa000000, 0x1000, MEM_USED, 4 },
		{ 0xa001001, 0xffe, MEM_FREE, 7 },              /* less than a page after rounding */
		{ 0xa003000, 0, MEM_FREE, 7 },                  /* empty */
		{ 0xc0000000, 0x1000000, MEM_MMIO, 11 },
		{ 0xfee00000, 0x1000, MEM_MMIO, 11 },
		{ 0xffffffffffe00000ULL, 0x400000, MEM_FREE, 7 }, /* runs past 2^64: clipped */
	};
	struct mem_pool p;
	memset(&p, 0xa5, sizeof(p));    /* init must not depend on a zeroed pool */
	mem_pool_init(&p, map, ARRAY_SIZE(map), 0x100800);
	CHECK(pool_ok(&p));
	CHECK_EQ(p.n, 4);
	CHECK_EQ(p.r[0].base, 0x101000);        /* min_addr rounded up to a page */
	CHECK_EQ(p.r[0].end, 0x8000000);        /* two ranges merged across their seam */
	CHECK_EQ(p.r[1].base, 0x8101000);
	CHECK_EQ(p.r[1].end, 0xa000000);
	CHECK_EQ(p.r[2].base, 0x100000000ULL);
	CHECK_EQ(p.r[2].end, 0x140000000ULL);
	CHECK_EQ(p.r[3].base, 0xffffffffffe00000ULL);
	CHECK_EQ(p.r[3].end, 0xfffffffffffff000ULL);
	CHECK_EQ(mem_pool_bytes(&p), (0x8000000 - 0x101000) + (0xa000000 - 0x8101000) + GiB(1) + 0x1ff000);

	/* A map that breaks the sorted, non-overlapping promise still gives a clean list: a range
	 * touching the next one from below merges, and one covering several swallows them. */
	static const struct mem_range messy[] = {
		{ MiB(2), MiB(1), MEM_FREE, 7 },
		{ MiB(4), MiB(1), MEM_FREE, 7 },
		{ MiB(9), MiB(1), MEM_FREE, 7 },
		{ MiB(8), MiB(1), MEM_FREE, 7 },        /* ends where [9, 10) starts */
		{ MiB(1), MiB(5), MEM_FREE, 7 },        /* covers [2, 3) and [4, 5) */
		{ MiB(3), MiB(2), MEM_USED, 2 },
	};
	mem_pool_init(&p, messy, ARRAY_SIZE(messy), 0);
	CHECK(pool_ok(&p));
	CHECK_EQ(p.n, 2);
	CHECK_EQ(p.r[0].base, MiB(1));
	CHECK_EQ(p.r[0].end, MiB(6));
	CHECK_EQ(p.r[1].base, MiB(8));
	CHECK_EQ(p.r[1].end, MiB(10));

	/* min_addr 0 still never yields page 0: 0 is the failure value. */
	mem_pool_init(&p, map, ARRAY_SIZE(map), 0);
	CHECK_EQ(p.r[0].base, 0x1000);
	CHECK_EQ(p.r[0].end, 0x9f000);
	/* Nothing free above a high min_addr but the top range. */
	mem_pool_init(&p, map, ARRAY_SIZE(map), GiB(6));
	CHECK_EQ(p.n, 1);
	mem_pool_init(&p, map, 0, 0);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(mem_pool_bytes(&p), 0);
	CHECK_EQ(mem_pool_alloc(&p, 64, 64, 0), 0);
}

/* More free ranges than slots: the largest MEM_MAX_FREE survive, still sorted. */
static void init_cap(void)
{
	enum { N = 3 * MEM_MAX_FREE };
	static struct mem_range map[2 * N];
	static uint64_t sizes[N];
	uint64_t at = MiB(1);
	for (int i = 0; i < N; i++) {
		/* Distinct page counts, shuffled by a multiplier coprime to N. */
		uint64_t pages = 1 + (uint64_t)((i * 149) % N);
		map[2 * i] = (struct mem_range){ at, pages * 4096, MEM_FREE, 7 };
		map[2 * i + 1] = (struct mem_range){ at + pages * 4096, 4096, MEM_USED, 2 };
		sizes[i] = pages * 4096;
		at += (pages + 1) * 4096;
	}
	struct mem_pool p;
	mem_pool_init(&p, map, 2 * N, 0);
	CHECK(pool_ok(&p));
	CHECK_EQ(p.n, MEM_MAX_FREE);
	/* The sizes are 1..N pages, so the survivors are exactly those above N - MEM_MAX_FREE pages. */
	uint64_t min = UINT64_MAX, sum = 0;
	for (uint32_t i = 0; i < p.n; i++) {
		uint64_t s = p.r[i].end - p.r[i].base;
		min = s < min ? s : min;
		sum += s;
	}
	CHECK_EQ(min, (uint64_t)(N - MEM_MAX_FREE + 1) * 4096);
	uint64_t want = 0;
	for (int k = N - MEM_MAX_FREE + 1; k <= N; k++)
		want += (uint64_t)k * 4096;
	CHECK_EQ(sum, want);
	(void)sizes;
}

static const struct mem_range basic_map[] = {
	{ 0x0, 0x9f000, MEM_FREE, 7 },
	{ 0x100000, 0x7f00000, MEM_FREE, 7 },           /* 1 MiB .. 128 MiB */
	{ 0x8000000, 0x100000, MEM_USED, 2 },
	{ 0x8100123, 0x1f00000, MEM_FREE, 7 },          /* 129 MiB + 4 KiB .. 160 MiB */
	{ 0xfee00000, 0x1000, MEM_MMIO, 11 },
	{ 0x100000000ULL, 0x80000000, MEM_FREE, 7 },    /* 4 GiB .. 6 GiB */
};

static void alloc_basics(void)
{
	struct mem_pool p;
	mem_pool_init(&p, basic_map, ARRAY_SIZE(basic_map), MiB(1));
	CHECK_EQ(p.n, 3);
	uint64_t total = mem_pool_bytes(&p);

	/* Rejected requests change nothing. */
	CHECK_EQ(mem_pool_alloc(&p, 0, 64, 0), 0);
	CHECK_EQ(mem_pool_alloc(&p, 4096, 3, 0), 0);
	CHECK_EQ(mem_pool_alloc(&p, 4096, 4096 + 64, 0), 0);
	CHECK_EQ(mem_pool_alloc(&p, UINT64_MAX, 64, 0), 0);
	CHECK_EQ(mem_pool_alloc(&p, GiB(3), 4096, 0), 0);      /* bigger than any range */
	CHECK_EQ(mem_pool_alloc(&p, 64, 1ULL << 63, 0), 0);    /* no such alignment inside RAM */
	CHECK_EQ(mem_pool_bytes(&p), total);
	CHECK_EQ(p.n, 3);

	/* First fit from the lowest range; sizes round up to 64; small aligns mean 64. */
	CHECK_EQ(mem_pool_alloc(&p, 100, 64, 0), MiB(1));
	CHECK_EQ(mem_pool_bytes(&p), total - 128);
	CHECK_EQ(mem_pool_alloc(&p, 1, 0, 0), MiB(1) + 128);
	CHECK_EQ(mem_pool_alloc(&p, 1, 1, 0), MiB(1) + 192);
	CHECK_EQ(mem_pool_bytes(&p), total - 256);

	/* 4 KiB alignment: the gap below stays free as its own range. */
	uint64_t a = mem_pool_alloc(&p, 4096, 4096, 0);
	CHECK_EQ(a, MiB(1) + 4096);
	CHECK_EQ(p.n, 4);
	CHECK_EQ(p.r[0].base, MiB(1) + 256);
	CHECK_EQ(p.r[0].end, MiB(1) + 4096);
	CHECK_EQ(mem_pool_bytes(&p), total - 256 - 4096);
	/* ...and the next small block fills that gap first. */
	CHECK_EQ(mem_pool_alloc(&p, 64, 64, 0), MiB(1) + 256);

	/* 2 MiB and 1 GiB alignment. */
	uint64_t m2 = mem_pool_alloc(&p, 4096, MiB(2), 0);
	CHECK_EQ(m2, MiB(2));
	uint64_t g = mem_pool_alloc(&p, MiB(1), GiB(1), 0);
	CHECK_EQ(g, GiB(4));
	uint64_t g2 = mem_pool_alloc(&p, 64, GiB(1), 0);
	CHECK_EQ(g2, GiB(5));
	CHECK(pool_ok(&p));

	/* below: the block must end at or below it; exactly at the limit is allowed. */
	uint64_t low = mem_pool_alloc(&p, MiB(4), MiB(2), MiB(8));
	CHECK_EQ(low, MiB(4));
	CHECK_EQ(mem_pool_alloc(&p, MiB(4), MiB(2), MiB(8)), 0);       /* [4, 8) is gone */
	uint64_t top = mem_pool_alloc(&p, 4096, 4096, MiB(128));
	CHECK(top && top + 4096 <= MiB(128));
	/* A free range that is big enough lies above the limit only. */
	CHECK_EQ(mem_pool_alloc(&p, MiB(130), 4096, GiB(4)), 0);
	uint64_t big = mem_pool_alloc(&p, MiB(130), 4096, 0);
	CHECK(big >= GiB(4));
	CHECK(pool_ok(&p));

	/* Exhaustion: take everything in 1 MiB blocks, then nothing more fits anywhere. */
	uint64_t got = 0;
	while (mem_pool_alloc(&p, MiB(1), 64, 0))
		got += MiB(1);
	CHECK(got > GiB(1));
	CHECK(mem_pool_bytes(&p) < MiB(1) * p.n + 1);
	CHECK_EQ(mem_pool_alloc(&p, MiB(1), 64, 0), 0);
	while (mem_pool_alloc(&p, 64, 64, 0))
		;
	CHECK_EQ(mem_pool_bytes(&p), 0);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(mem_pool_alloc(&p, 64, 64, 0), 0);
}

/* With every slot in use a split cannot be tracked: the gap is lost, the allocation still works. */
static void alloc_full_list(void)
{
	static struct mem_range map[2 * MEM_MAX_FREE];
	for (int i = 0; i < MEM_MAX_FREE; i++) {
		map[2 * i] = (struct mem_range){ GiB(1) + (uint64_t)i * MiB(8), MiB(4), MEM_FREE, 7 };
		map[2 * i + 1] = (struct mem_range){ GiB(1) + (uint64_t)i * MiB(8) + MiB(4), MiB(4), MEM_USED, 2 };
	}
	struct mem_pool p;
	mem_pool_init(&p, map, ARRAY_SIZE(map), 0);
	CHECK_EQ(p.n, MEM_MAX_FREE);
	/* Make the first range start off 2 MiB, then ask for a 2 MiB-aligned block in its middle. */
	CHECK_EQ(mem_pool_alloc(&p, 4096, 4096, 0), GiB(1));
	uint64_t before = mem_pool_bytes(&p);
	uint64_t a = mem_pool_alloc(&p, MiB(1), MiB(2), 0);
	CHECK_EQ(a, GiB(1) + MiB(2));
	CHECK_EQ(p.n, MEM_MAX_FREE);
	CHECK_EQ(p.r[0].base, GiB(1) + MiB(3));
	CHECK_EQ(mem_pool_bytes(&p), before - MiB(3) + 4096);  /* the block plus the lost gap */
	CHECK(pool_ok(&p));
	/* A block ending exactly at its range's end needs no new slot, so its gap is kept. */
	CHECK_EQ(mem_pool_alloc(&p, MiB(1) + 64, 64, 0), GiB(1) + MiB(8));    /* too big for r[0] */
	before = mem_pool_bytes(&p);
	CHECK_EQ(mem_pool_alloc(&p, MiB(2), MiB(2), 0), GiB(1) + MiB(10));
	CHECK_EQ(mem_pool_bytes(&p), before - MiB(2));
	CHECK_EQ(p.r[1].base, GiB(1) + MiB(9) + 64);
	CHECK_EQ(p.r[1].end, GiB(1) + MiB(10));
	CHECK(pool_ok(&p));
}

/* 10000 random requests: aligned, inside the initial free ranges, disjoint from each other and
 * from what is still free, and the byte count falls by exactly the rounded size unless a gap
 * had to be dropped because the list was full. */
static void alloc_random(void)
{
	enum { COUNT = 10000 };
	static struct mem_range map[96];
	uint64_t at = MiB(1) + 0x123;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		uint64_t size = 4096 + rnd() % MiB(300);
		static const uint32_t kinds[] = { MEM_FREE, MEM_USED, MEM_RESERVED, MEM_MMIO };
		map[i] = (struct mem_range){ at, size, i % 2 ? kinds[rnd() % 4] : MEM_FREE, 7 };
		at += size + rnd() % MiB(1);
	}
	struct mem_pool p, initial;
	mem_pool_init(&p, map, ARRAY_SIZE(map), MiB(16));
	initial = p;
	CHECK(pool_ok(&p));
	for (uint32_t i = 0; i < p.n; i++) {
		bool in_map = false;
		for (size_t k = 0; k < ARRAY_SIZE(map); k++)
			if (map[k].kind == MEM_FREE && p.r[i].base >= map[k].base &&
			    p.r[i].end <= map[k].base + map[k].size)
				in_map = true;
		/* Merged seams can span two map ranges; accept if both edges are in free ranges. */
		if (!in_map) {
			bool lo = false, hi = false;
			for (size_t k = 0; k < ARRAY_SIZE(map); k++) {
				lo |= map[k].kind == MEM_FREE && p.r[i].base >= map[k].base &&
				      p.r[i].base < map[k].base + map[k].size;
				hi |= map[k].kind == MEM_FREE && p.r[i].end > map[k].base &&
				      p.r[i].end <= map[k].base + map[k].size;
			}
			in_map = lo && hi;
		}
		CHECK(in_map);
		CHECK(p.r[i].base >= MiB(16));
	}

	static struct blk b[COUNT + MEM_MAX_FREE];
	size_t n = 0;
	unsigned misaligned = 0, outside = 0, miscount = 0, too_high = 0, broken = 0, failed = 0;
	uint64_t used = 0;
	for (int i = 0; i < COUNT; i++) {
		uint64_t size, align, below = 0;
		uint64_t kind = rnd() % 64;
		if (kind == 0) {                /* rare: a 1 GiB boundary is a scarce thing */
			size = 64 + rnd() % 8192;
			align = GiB(1);
		} else if (kind <= 8) {
			size = MiB(2);
			align = MiB(2);
		} else if (kind <= 16) {
			size = 4096 * (1 + rnd() % 16);
			align = 4096;
		} else if (kind <= 24) {        /* early-style: below 4 GiB */
			size = 1 + rnd() % MiB(1);
			align = 64ULL << (rnd() % 12);
			below = GiB(4);
		} else {
			size = 1 + rnd() % 20000;
			align = 1ULL << (rnd() % 14);
		}
		uint64_t before = mem_pool_bytes(&p);
		bool full = p.n == MEM_MAX_FREE;
		uint64_t a = mem_pool_alloc(&p, size, align, below);
		if (!a) {
			failed++;
			miscount += mem_pool_bytes(&p) != before;
			continue;
		}
		uint64_t rs = ALIGN_UP(size, 64);
		misaligned += a % align != 0 || a % 64 != 0;
		outside += !inside(&initial, a, rs);
		too_high += below && a + rs > below;
		miscount += full ? mem_pool_bytes(&p) > before - rs : mem_pool_bytes(&p) != before - rs;
		if (i % 97 == 0)
			broken += !pool_ok(&p);
		b[n++] = (struct blk){ a, rs };
		used += rs;
	}
	CHECK_EQ(misaligned, 0);
	CHECK_EQ(outside, 0);
	CHECK_EQ(too_high, 0);
	CHECK_EQ(miscount, 0);
	CHECK_EQ(broken, 0);
	CHECK(pool_ok(&p));
	CHECK(n > COUNT * 9 / 10);
	CHECK(mem_pool_bytes(&p) + used <= mem_pool_bytes(&initial));
	/* Blocks and the remaining free ranges together: nothing overlaps anything. */
	for (uint32_t i = 0; i < p.n; i++)
		b[n++] = (struct blk){ p.r[i].base, p.r[i].end - p.r[i].base };
	CHECK_EQ(overlaps(b, n), 0);
	(void)failed;
}

static uint64_t pool_min(const struct mem_pool *p)
{
	return p->n ? p->r[0].base : 0;
}

static void take_basics(void)
{
	static const struct mem_range one[] = { { MiB(16), GiB(1), MEM_FREE, 7 } };
	struct mem_pool p, a, b, c;
	mem_pool_init(&p, one, 1, 0);
	uint64_t end = MiB(16) + GiB(1);

	/* The split lands on a 2 MiB boundary, rounded so no more than asked moves. */
	memset(&a, 0, sizeof(a));
	CHECK_EQ(mem_pool_take(&p, &a, MiB(100) + 12345), MiB(100));
	CHECK_EQ(a.n, 1);
	CHECK_EQ(a.r[0].base, end - MiB(100));
	CHECK_EQ(a.r[0].end, end);
	CHECK_EQ(p.r[0].end, end - MiB(100));
	/* Less than the distance to the next 2 MiB boundary: a 4 KiB split. */
	memset(&b, 0, sizeof(b));
	CHECK_EQ(mem_pool_take(&p, &b, MiB(1) + 100), MiB(1));
	CHECK_EQ(b.r[0].base, end - MiB(101));
	/* Less than a page: nothing moves. */
	memset(&c, 0, sizeof(c));
	CHECK_EQ(mem_pool_take(&p, &c, 4095), 0);
	CHECK_EQ(c.n, 0);
	CHECK_EQ(mem_pool_take(&p, &c, 0), 0);
	/* A second take into b lands next to its range and merges with it. */
	CHECK_EQ(mem_pool_take(&p, &b, MiB(1)), MiB(1));
	CHECK_EQ(b.n, 1);
	CHECK_EQ(b.r[0].base, end - MiB(102));
	/* More than all: everything moves, p ends empty. */
	uint64_t rest = mem_pool_bytes(&p);
	CHECK_EQ(mem_pool_take(&p, &c, UINT64_MAX), rest);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(mem_pool_take(&p, &c, MiB(1)), 0);
	CHECK_EQ(mem_pool_bytes(&a) + mem_pool_bytes(&b) + mem_pool_bytes(&c), GiB(1));
	CHECK(pool_ok(&a) && pool_ok(&b) && pool_ok(&c));

	/* A full out that nothing merges with takes nothing, and p keeps it all. */
	static struct mem_range many[MEM_MAX_FREE];
	for (int i = 0; i < MEM_MAX_FREE; i++)
		many[i] = (struct mem_range){ GiB(8) + (uint64_t)i * MiB(4), MiB(2), MEM_FREE, 7 };
	struct mem_pool full;
	mem_pool_init(&full, many, MEM_MAX_FREE, 0);
	CHECK_EQ(full.n, MEM_MAX_FREE);
	mem_pool_init(&p, one, 1, 0);
	CHECK_EQ(mem_pool_take(&p, &full, MiB(10)), 0);
	CHECK_EQ(mem_pool_bytes(&p), GiB(1));
}

/* The way mem.c uses it: keep some, split the rest into N arenas; memory is neither created
 * nor lost, arenas are disjoint, each gets at most its share and close to it. */
static void take_arenas(void)
{
	static struct mem_range map[64];
	uint64_t at = MiB(1);
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		uint64_t size = 4096 + rnd() % MiB(700);
		size += rnd() & 0xfff;          /* separate: the order of rnd() calls is fixed */
		map[i] = (struct mem_range){ at, size, i % 3 == 2 ? MEM_USED : MEM_FREE, 7 };
		at += size + (i % 5 == 0 ? rnd() % MiB(3) : 0);
	}
	for (uint32_t ncores = 1; ncores <= 64; ncores = ncores * 2 + 1) {
		struct mem_pool p;
		static struct mem_pool arena[64];
		memset(arena, 0, sizeof(arena));
		mem_pool_init(&p, map, ARRAY_SIZE(map), MiB(1));
		/* Some early allocations first, as the boot core makes them. */
		for (int i = 0; i < 50; i++)
			CHECK(mem_pool_alloc(&p, 4096 * (1 + rnd() % 8), 4096, GiB(4)) != 0);
		const struct mem_pool initial = p;
		uint64_t total = mem_pool_bytes(&p), keep = total / 16;
		uint64_t share = (total - keep) / ncores, sum = 0;
		unsigned bad = 0;
		for (uint32_t i = 0; i < ncores; i++) {
			uint64_t m = mem_pool_take(&p, &arena[i], share);
			bad += m != mem_pool_bytes(&arena[i]);
			bad += m > share || m + MiB(2) < share;
			bad += !pool_ok(&arena[i]) || !pool_ok(&p);
			for (uint32_t j = 0; j < arena[i].n; j++)
				bad += !inside(&initial, arena[i].r[j].base, arena[i].r[j].end - arena[i].r[j].base);
			sum += m;
			/* Arenas come off the top: each lies wholly below the one before. */
			if (i > 0)
				bad += arena[i].r[arena[i].n - 1].end > pool_min(&arena[i - 1]);
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(sum + mem_pool_bytes(&p), total);
		CHECK(mem_pool_bytes(&p) >= keep);
		/* Everything: arenas and the remainder, disjoint. */
		static struct blk b[65 * MEM_MAX_FREE];
		size_t n = 0;
		for (uint32_t i = 0; i < ncores; i++)
			for (uint32_t j = 0; j < arena[i].n; j++)
				b[n++] = (struct blk){ arena[i].r[j].base, arena[i].r[j].end - arena[i].r[j].base };
		for (uint32_t j = 0; j < p.n; j++)
			b[n++] = (struct blk){ p.r[j].base, p.r[j].end - p.r[j].base };
		CHECK_EQ(overlaps(b, n), 0);
		/* Each arena can allocate, 2 MiB-aligned too, when its share allows. */
		for (uint32_t i = 0; i < ncores; i++)
			if (share >= MiB(8))
				CHECK(mem_pool_alloc(&arena[i], MiB(1), MiB(2), 0) != 0);
	}
}

TEST_MAIN("test_mem: proves the allocator core takes only free RAM above min_addr (rounded, merged, capped to the "
	  "largest ranges), hands out aligned disjoint blocks under `below` until exhausted, and splits into arenas "
	  "without creating or losing memory",
	  init_map(); init_cap(); alloc_basics(); alloc_full_list(); alloc_random(); take_basics(); take_arenas())
