/* test_slab: proves the per-core network allocator: size classes cover every size with bounded
 * waste, blocks are reused O(1) without touching the arena, the budget is a hard limit, bad frees
 * are counted and ignored, and 100,000 connection-sized blocks cost what their classes say. */
#include <stdint.h>
#include "test.h"
#include "net/slab.h"

static unsigned grows;
static void *grow(void *ctx, size_t n)
{
	(void)ctx;
	grows++;
	return aligned_alloc(64, n);
}

static void classes(void)
{
	int prev = 0, bad = 0;
	struct slab s;
	slab_init(&s, 0, 1 << 20, grow, NULL);
	for (size_t n = 1; n <= SLAB_MAX; n++) {
		int i = slab_class_of(n);
		uint32_t size = s.cls[i].size;
		/* fits, in the smallest class that does, monotonic, waste at most a fifth (or 16 bytes) */
		bad += i < prev || size < n + SLAB_HDR || (i > 0 && s.cls[i - 1].size >= n + SLAB_HDR) ||
		       (size - n - SLAB_HDR > 16 && (size - n - SLAB_HDR) * 5 > size);
		prev = i;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(slab_class_of(0), 0);
	CHECK_EQ(slab_class_of(SLAB_MAX), SLAB_CLASSES - 1);
	CHECK_EQ(s.cls[SLAB_CLASSES - 1].size, 128 * 1024);
	CHECK_EQ(slab_class_of(SLAB_MAX + 1), -1);
	for (int i = 0; i < SLAB_CLASSES; i++)
		CHECK_EQ(s.cls[i].size % 16, 0);
}

static void reuse_and_budget(void)
{
	struct slab s;
	grows = 0;
	slab_init(&s, 4u << 20, 1 << 20, grow, NULL);
	void *a = slab_alloc(&s, 100), *b = slab_alloc(&s, 100);
	CHECK(a && b && a != b);
	CHECK_EQ((uintptr_t)a % 8, 0);
	CHECK_EQ(grows, 1);
	CHECK_EQ(s.in_use, 2 * 112);
	memset(a, 0xaa, 100);
	slab_free(&s, a);
	CHECK_EQ(s.in_use, 112);
	CHECK(slab_alloc(&s, 97) == a);                 /* same class: the freed block, LIFO */
	slab_free(&s, a);
	slab_free(&s, a);                               /* double free: counted, list intact */
	CHECK_EQ(s.bad_frees, 1);
	int stack;
	slab_free(&s, &stack + 1);                      /* not a block */
	CHECK(s.bad_frees >= 2);
	CHECK(slab_alloc(&s, 100) == a);
	CHECK(slab_alloc(&s, 100) != a);                /* list was one deep, not corrupted into a loop */
	CHECK(slab_alloc(&s, SLAB_MAX + 1) == NULL);
	CHECK_EQ(s.fails, 1);
	/* Fill the budget with the largest blocks: 4 MiB / 128 KiB = 32 less what is taken. */
	unsigned n = 0;
	void *big[64];
	while (n < 64 && (big[n] = slab_alloc(&s, SLAB_MAX)))
		n++;
	CHECK(n >= 28 && n <= 31);
	CHECK_EQ(grows, 4);                             /* never past the budget */
	CHECK(s.taken <= s.budget);
	CHECK_EQ(s.fails, 2);
	/* Chunk tails became free blocks of smaller classes: every byte taken is accounted for. */
	uint64_t listed = 0;
	for (int i = 0; i < SLAB_CLASSES; i++)
		listed += (uint64_t)s.cls[i].nfree * s.cls[i].size;
	CHECK(listed > 0);
	CHECK_EQ(s.slack, 0);
	CHECK_EQ(s.in_use + listed + (uint64_t)(s.end - s.bump), s.taken);
	slab_free(&s, big[0]);
	CHECK(slab_alloc(&s, SLAB_MAX) == big[0]);      /* a freed one serves again at the budget */
	CHECK(s.high >= s.in_use);
	CHECK(slab_avail(&s) <= s.budget - s.in_use);
}

/* A grow that fails (the arena ran out before the budget did): NULL, counted, nothing broken. */
static void *no_grow(void *ctx, size_t n)
{
	(void)ctx, (void)n;
	return NULL;
}

static void arena_empty(void)
{
	struct slab s;
	slab_init(&s, 1u << 30, 1 << 20, no_grow, NULL);
	CHECK(slab_alloc(&s, 8) == NULL);
	CHECK_EQ(s.fails, 1);
	CHECK_EQ(s.taken, 0);
}

/* 100,000 connections' worth of PCB-, state- and segment-sized blocks, freed in a scattered
 * order and taken again: the second round takes no new chunk (reuse is exact per class), and the
 * memory taken is what the class sizes say, whatever the order. */
static void many(void)
{
	enum { N = 100000 };
	static void *pcb[N], *state[N], *seg[N];
	struct slab s;
	grows = 0;
	slab_init(&s, 2ull << 30, 1 << 20, grow, NULL);
	for (int round = 0; round < 2; round++) {
		unsigned before = grows;
		for (int i = 0; i < N; i++) {
			pcb[i] = slab_alloc(&s, 200);
			state[i] = slab_alloc(&s, 2200);
			seg[i] = slab_alloc(&s, 40);
		}
		CHECK_EQ(s.fails, 0);
		uint64_t want = (uint64_t)N * (s.cls[slab_class_of(200)].size + s.cls[slab_class_of(2200)].size +
					       s.cls[slab_class_of(40)].size);
		CHECK_EQ(s.in_use, want);
		if (round == 1)
			CHECK_EQ(grows, before);
		for (int i = 0; i < N; i++) {
			int j = (int)(((uint64_t)i * 7919) % N);  /* scattered */
			slab_free(&s, state[j]);
			slab_free(&s, pcb[j]);
			slab_free(&s, seg[j]);
		}
		CHECK_EQ(s.in_use, 0);
		CHECK_EQ(s.bad_frees, 0);
	}
	CHECK(s.taken <= (uint64_t)N * (224 + 2560 + 48) + 2 * (1 << 20));
	CHECK(s.slack < 16 * s.taken / (1 << 20));
}

TEST_MAIN("test_slab: proves the per-core network allocator's classes, O(1) reuse, hard budget and counted bad frees",
	  classes(); reuse_and_budget(); arena_empty(); many())
