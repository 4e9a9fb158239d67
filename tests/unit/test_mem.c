/* test_mem: the allocator core hands out aligned, disjoint memory from free ranges only. */
#include "test.h"
#include "kernel.h"

static struct mem_range map[] = {
	{ 0x0, 0x9f000, MEM_FREE, 7 },
	{ 0x100000, 0x7f00000, MEM_FREE, 7 },          /* 1 MiB .. 128 MiB */
	{ 0x8000000, 0x100000, MEM_USED, 2 },
	{ 0x8100123, 0x1f00000, MEM_FREE, 7 },         /* unaligned both ends */
	{ 0xfee00000, 0x1000, MEM_MMIO, 11 },
	{ 0x100000000ull, 0x40000000, MEM_FREE, 7 },   /* 4 GiB .. 5 GiB */
};

static bool inside_free(uint64_t a, uint64_t size)
{
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].kind == MEM_FREE && a >= map[i].base && a + size <= map[i].base + map[i].size)
			return true;
	return false;
}

static void basics(void)
{
	struct mem_pool p;
	mem_pool_init(&p, map, 6, MiB(1));
	CHECK_EQ(p.n, 3);
	CHECK_EQ(p.r[0].base, 0x100000);               /* below min_addr dropped */
	CHECK_EQ(p.r[1].base, 0x8101000);              /* rounded inward */
	CHECK_EQ(p.r[1].end, 0xa000000);
	uint64_t total = mem_pool_bytes(&p);
	uint64_t a = mem_pool_alloc(&p, 100, 64, 0);
	CHECK_EQ(a, 0x100000);
	CHECK_EQ(mem_pool_bytes(&p), total - 128);     /* rounded to 64 bytes */
	uint64_t b = mem_pool_alloc(&p, 4096, MiB(2), 0);
	CHECK_EQ(b % MiB(2), 0);
	CHECK(inside_free(b, 4096));
	uint64_t g = mem_pool_alloc(&p, MiB(1), GiB(1), 0);
	CHECK_EQ(g, 0x100000000ull);
	CHECK_EQ(mem_pool_alloc(&p, GiB(2), 4096, 0), 0);      /* too big anywhere */
	CHECK_EQ(mem_pool_alloc(&p, 4096, 3, 0), 0);           /* alignment not a power of two */
	uint64_t low = mem_pool_alloc(&p, 4096, 4096, MiB(200));
	CHECK(low && low + 4096 <= MiB(200));
	CHECK_EQ(mem_pool_alloc(&p, MiB(130), 4096, MiB(200)), 0);   /* no free range that big below */
}

static int cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* Random sizes and alignments: every block inside free memory, aligned, and disjoint. */
static void random_disjoint(void)
{
	static uint64_t blk[10000][2];
	struct mem_pool p;
	mem_pool_init(&p, map, 6, MiB(1));
	uint64_t before = mem_pool_bytes(&p), used = 0;
	unsigned n = 0;
	srand(1234);
	for (int i = 0; i < 10000; i++) {
		uint64_t size = 64 + (uint64_t)(rand() % 20000);
		uint64_t align = 64ull << (rand() % 8);
		uint64_t a = mem_pool_alloc(&p, size, align, 0);
		if (!a)
			continue;
		CHECK_EQ(a % align, 0);
		CHECK(inside_free(a, size));
		blk[n][0] = a;
		blk[n][1] = ALIGN_UP(size, 64);
		used += blk[n][1];
		n++;
	}
	CHECK(n > 9000);
	qsort(blk, n, sizeof(blk[0]), cmp);
	unsigned overlaps = 0;
	for (unsigned i = 1; i < n; i++)
		overlaps += blk[i - 1][0] + blk[i - 1][1] > blk[i][0];
	CHECK_EQ(overlaps, 0);
	/* Alignment gaps are kept or lost, but never double-counted. */
	CHECK(mem_pool_bytes(&p) + used <= before);
}

/* Splitting the pool into arenas moves memory without creating or losing any. */
static void arenas(void)
{
	struct mem_pool p, a[5];
	memset(a, 0, sizeof(a));
	mem_pool_init(&p, map, 6, MiB(1));
	uint64_t total = mem_pool_bytes(&p), share = total / 6, sum = 0;
	for (int i = 0; i < 5; i++) {
		uint64_t m = mem_pool_take(&p, &a[i], share);
		CHECK_EQ(m, mem_pool_bytes(&a[i]));
		CHECK(m >= share);
		sum += m;
		for (uint32_t j = 0; j < a[i].n; j++)
			CHECK(inside_free(a[i].r[j].base, a[i].r[j].end - a[i].r[j].base));
	}
	CHECK_EQ(sum + mem_pool_bytes(&p), total);
	CHECK(mem_pool_alloc(&a[0], MiB(1), MiB(2), 0) != 0);
}

TEST_MAIN("test_mem: proves the allocator hands out aligned, disjoint blocks from free RAM only, and arenas conserve memory",
	  basics(); random_disjoint(); arenas())
