/* test_cubic: CUBIC's integer math (net/tcp_cubic.c) against RFC 9438's formulas computed by hand. */
#include "test.h"
#include "net/tcp_cubic.h"

#define MSS 1460u
#define SEG(n) ((uint32_t)((n) * MSS))

/* |a - b| <= tol */
#define NEAR(a, b, tol) ((a) >= (b) ? (a) - (b) <= (tol) : (b) - (a) <= (tol))

static void cbrt_range(void)
{
	CHECK_EQ(cubic_cbrt(0), 0);
	CHECK_EQ(cubic_cbrt(1), 1);
	CHECK_EQ(cubic_cbrt(7), 1);
	CHECK_EQ(cubic_cbrt(8), 2);
	CHECK_EQ(cubic_cbrt(26), 2);
	CHECK_EQ(cubic_cbrt(27), 3);
	CHECK_EQ(cubic_cbrt(75000000000ull), 4217);             /* 4217.163... */
	CHECK_EQ(cubic_cbrt(1000000000000000000ull), 1000000);
	CHECK_EQ(cubic_cbrt(999999999999999999ull), 999999);
	CHECK_EQ(cubic_cbrt(1ull << 63), 1u << 21);
	CHECK_EQ(cubic_cbrt(~0ull), 2642245);                   /* 2642245.9496... */
	/* every root up to 2^21 on its cube and one below it, and pseudo-random values bracketed */
	unsigned bad = 0;
	for (uint64_t y = 1; y <= (1u << 21); y++) {
		uint64_t c = y * y * y;
		bad += cubic_cbrt(c) != y || cubic_cbrt(c - 1) != y - 1 || cubic_cbrt(c + 3 * y) != y;
	}
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 1000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (i % 64), r = cubic_cbrt(v);
		bad += !(r * r * r <= v && (r + 1) * (r + 1) * (r + 1) > v);
	}
	CHECK_EQ(bad, 0);
}

/* W_max 100 segments, cwnd after the loss 70: K = cbrt((100 - 70) / 0.4) = cbrt(75) = 4.2172 s;
 * W_cubic(0) = 100 - 0.4 * 75 = 70 segments, W_cubic(K) = 100, W_cubic(K + 1 s) = 100.4,
 * W_cubic(K + 10 s) = 500, W_cubic(K - 2 s) = 100 - 0.4 * 8 = 96.8. */
static void window_function(void)
{
	uint32_t k = cubic_k(SEG(100), SEG(70), MSS);
	CHECK_EQ(k, 4217);
	CHECK_EQ(cubic_k(SEG(100), SEG(100), MSS), 0);
	CHECK_EQ(cubic_k(SEG(50), SEG(70), MSS), 0);
	/* K = cbrt(1000 / 0.4) = cbrt(2500) = 13.572 s */
	CHECK_EQ(cubic_k(SEG(1070), SEG(70), MSS), 13572);
	uint32_t w0 = cubic_window(SEG(100), k, 0, MSS);
	CHECK(NEAR(w0, SEG(70), 10));
	CHECK_EQ(cubic_window(SEG(100), k, k, MSS), SEG(100));
	CHECK(NEAR(cubic_window(SEG(100), k, k + 1000, MSS), SEG(100) + 584, 2));
	CHECK(NEAR(cubic_window(SEG(100), k, k + 10000, MSS), SEG(500), 2));
	CHECK(NEAR(cubic_window(SEG(100), k, k - 2000, MSS), SEG(96.8), 2));
	/* never under 0, capped far out */
	CHECK_EQ(cubic_window(SEG(1), 100000, 0, MSS), 0);
	CHECK_EQ(cubic_window(SEG(100), 0, 0xffffffffu, MSS), SEG(100) + SEG(400000));  /* t - K at 100 s */
	CHECK_EQ(cubic_window(SEG(1000000), 0, 100000, MSS), CUBIC_WND_MAX);
	printf("  W_cubic, W_max 100 segments, K %u ms: t=0 %u B (70 segments: %u), t=K+1s %u B (100.4: %u)\n", k,
	       w0, SEG(70), cubic_window(SEG(100), k, k + 1000, MSS), SEG(100) + 584);
}

/* ssthresh 0.7 of the window; W_max the window, lowered to 0.85 of it by fast convergence when
 * below the last W_max; a timeout: K 0 and W_max the window congestion avoidance starts from. */
static void loss(void)
{
	struct tcp_cubic c = { 0 };
	CHECK_EQ(cubic_loss(&c, SEG(100), 0), SEG(70));
	CHECK_EQ(c.w_max, SEG(100));
	CHECK_EQ(c.flags & CUBIC_EPOCH, 0);
	CHECK_EQ(cubic_loss(&c, SEG(80), 0), SEG(56));
	CHECK_EQ(c.w_max, SEG(68));                            /* 80 * (1 + 0.7) / 2 */
	CHECK_EQ(cubic_loss(&c, SEG(90), 0), SEG(63));
	CHECK_EQ(c.w_max, SEG(90));                            /* above the last: no convergence */
	/* the first ACK of congestion avoidance starts the epoch: K from W_max and cwnd */
	cubic_ack(&c, SEG(63), MSS, MSS, 5000);
	CHECK(c.flags & CUBIC_EPOCH);
	CHECK_EQ(c.epoch, 5000);
	CHECK_EQ(c.k, cubic_k(SEG(90), SEG(63), MSS));
	CHECK_EQ(cubic_loss(&c, SEG(40), 1), SEG(28));
	CHECK_EQ(c.w_max, SEG(90));                             /* a timeout: set when CA starts */
	cubic_ack(&c, SEG(28), MSS, MSS, 9000);
	CHECK_EQ(c.w_max, SEG(28));
	CHECK_EQ(c.k, 0);
	CHECK_EQ(c.flags, CUBIC_EPOCH);
}

/* Rounds of one RTT, each a window of ACKs of one segment: the window at the end of each. */
static unsigned sim(struct tcp_cubic *c, uint32_t *cwnd, uint32_t rtt, unsigned rounds, uint32_t *now,
		    uint32_t *trace)
{
	for (unsigned r = 0; r < rounds; r++) {
		uint32_t n = *cwnd / MSS, t0 = *now;
		for (uint32_t i = 0; i < n; i++)
			*cwnd = cubic_ack(c, *cwnd, MSS, MSS, t0 + i * rtt / n);
		*now = t0 + rtt;
		if (trace)
			trace[r] = *cwnd;
	}
	return rounds;
}

/* A loss at 100 segments, RTT 100 ms: from 70 segments the window grows fast, slows towards
 * W_max (concave), stays near it around K (4.2 s) and grows faster and faster past it (convex). */
static void concave_convex(void)
{
	struct tcp_cubic c = { 0 };
	uint32_t cwnd = cubic_loss(&c, SEG(100), 0), now = 1000, tr[100];
	CHECK_EQ(cwnd, SEG(70));
	sim(&c, &cwnd, 100, 100, &now, tr);
	/* growth per round (the first round aside, whose target is still near cwnd): falling up to 4 s,
	 * rising after 5 s */
	unsigned falls = 0, rises = 0;
	for (int r = 3; r < 40; r++)
		falls += tr[r] - tr[r - 1] <= tr[r - 1] - tr[r - 2] + MSS / 8;
	for (int r = 52; r < 100; r++)
		rises += tr[r] - tr[r - 1] + MSS / 8 >= tr[r - 1] - tr[r - 2];
	CHECK_EQ(falls, 37);
	CHECK_EQ(rises, 48);
	CHECK(tr[5] - tr[0] > tr[40] - tr[35]);                 /* concave: fast, then slow */
	CHECK(tr[99] - tr[94] > tr[50] - tr[45]);               /* convex: slow, then fast */
	CHECK(NEAR(tr[41], SEG(100), SEG(3)));                  /* at K (about 42 rounds): W_max */
	CHECK(tr[99] > SEG(110));
	/* W_cubic rules here, not the Reno-friendly estimate (70 + 0.53 a round: 91 at 40 rounds) */
	CHECK(tr[30] > SEG(96));
	printf("  RTT 100 ms after a loss at 100 segments: %u %u %u %u %u %u segments at 0, 1, 2, 4.2, 6, 10 s\n",
	       tr[0] / MSS, tr[9] / MSS, tr[19] / MSS, tr[41] / MSS, tr[59] / MSS, tr[99] / MSS);
}

/* RTT 1 ms: in 100 rounds (0.1 s) W_cubic barely moves from 70 (72 segments), Reno adds 9/17 of a
 * segment a round up to W_max (57 rounds), then one: the Reno-friendly region sets the window,
 * about 140 segments. */
static void reno_friendly(void)
{
	struct tcp_cubic c = { 0 };
	uint32_t cwnd = cubic_loss(&c, SEG(100), 0), now = 1000;
	sim(&c, &cwnd, 1, 100, &now, NULL);
	uint32_t w = cubic_window(c.w_max, c.k, now - c.epoch, MSS);
	CHECK(w < SEG(73));
	CHECK(cwnd > SEG(130) && cwnd < SEG(145));
	CHECK_EQ(cwnd, c.w_est);
	printf("  RTT 1 ms, 100 rounds after a loss at 100 segments: %u segments (W_cubic %u, Reno-friendly %u)\n",
	       cwnd / MSS, w / MSS, c.w_est / MSS);
}

TEST_MAIN("test_cubic: CUBIC's integer math (RFC 9438): the cube root exact over 2^21 roots and a million "
	  "values, K and W_cubic(t) as computed by hand, ssthresh 0.7 of the window and fast convergence, "
	  "K 0 after a timeout, growth concave then convex around W_max, the Reno-friendly region at short RTTs", {
	cbrt_range();
	window_function();
	loss();
	concave_convex();
	reno_friendly();
})
