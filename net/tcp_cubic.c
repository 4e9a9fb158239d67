/* CUBIC (RFC 9438) in integers: see tcp_cubic.h. */
#include "tcp_cubic.h"

/* C = 0.4 segments/s^3 = 4 / (10 * 10^9) segments/ms^3; 1 - beta = 3/10; the Reno-friendly
 * alpha = 3 (1 - beta) / (1 + beta) = 9/17 (4.3); (1 + beta) / 2 = 17/20 (4.7). */
#define D_MAX 100000u           /* |t - K| in ms beyond which W_cubic is taken as there: 100 s */

uint32_t cubic_cbrt(uint64_t x)
{
	uint64_t y = 0;
	for (int s = 63; s >= 0; s -= 3) {
		y <<= 1;
		uint64_t b = 3 * y * (y + 1) + 1;       /* (y + 1)^3 - y^3, for the next bit */
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

uint32_t cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	if (cwnd_epoch >= w_max || mss == 0)
		return 0;
	uint64_t d = w_max - cwnd_epoch;
	if (d > CUBIC_WND_MAX)
		d = CUBIC_WND_MAX;
	/* (d / mss) / 0.4 segments of s^3 = d * 10^10 / (4 mss) ms^3 (under 2^64: d <= 2^30) */
	return cubic_cbrt(d * 10000000000ull / (4ull * mss));
}

uint32_t cubic_window(uint32_t w_max, uint32_t k, uint32_t t, uint32_t mss)
{
	uint32_t d = t >= k ? t - k : k - t;
	if (d > D_MAX)
		d = D_MAX;
	/* C d^3 in segments, times 1024: d^3 * 4096 / 10^10 (d^3 <= 10^15, times 4096 under 2^63) */
	uint64_t seg1024 = (uint64_t)d * d * d * 4096u / 10000000000ull;
	uint64_t off = seg1024 * mss >> 10;
	uint64_t w;
	if (t >= k)
		w = w_max + off;
	else
		w = off < w_max ? w_max - off : 0;
	return w > CUBIC_WND_MAX ? CUBIC_WND_MAX : (uint32_t)w;
}

uint32_t cubic_loss(struct tcp_cubic *c, uint32_t wnd, int rto)
{
	if (rto) {
		c->flags |= CUBIC_RTO;
	} else {
		c->w_max = wnd < c->w_max ? (uint32_t)((uint64_t)wnd * 17 / 20) : wnd;
		c->flags &= (uint8_t)~CUBIC_RTO;
	}
	c->flags &= (uint8_t)~CUBIC_EPOCH;
	return (uint32_t)((uint64_t)wnd * 7 / 10);
}

uint32_t cubic_ack(struct tcp_cubic *c, uint32_t cwnd, uint32_t acked, uint32_t mss, uint32_t now)
{
	if (cwnd == 0 || mss == 0)
		return cwnd;
	if (!(c->flags & CUBIC_EPOCH)) {
		/* congestion avoidance begins (4.2: t from here): after a timeout, or above the window
		 * of the last loss, K is 0 and W_max is this window (4.8) */
		c->flags |= CUBIC_EPOCH;
		c->epoch = now;
		c->w_est = cwnd;
		if ((c->flags & CUBIC_RTO) || c->w_max <= cwnd) {
			c->w_max = cwnd;
			c->k = 0;
		} else {
			c->k = cubic_k(c->w_max, cwnd, mss);
		}
		c->flags &= (uint8_t)~CUBIC_RTO;
	}
	uint32_t t = now - c->epoch;
	if (t > 0x7fffffffu)
		t = 0;
	/* Reno-friendly estimate (4.3): alpha segments a window acknowledged, 1 from W_max on */
	uint64_t inc = (uint64_t)acked * mss;
	inc = c->w_est >= c->w_max ? inc / cwnd : inc * 9 / (17ull * cwnd);
	uint64_t est = c->w_est + inc;
	c->w_est = est > CUBIC_WND_MAX ? CUBIC_WND_MAX : (uint32_t)est;

	uint32_t w = cubic_window(c->w_max, c->k, t, mss);
	if (w < c->w_est)       /* the Reno-friendly region: as fast as Reno would be */
		return c->w_est > cwnd ? c->w_est : cwnd;
	/* concave or convex (4.4, 4.5): towards the target, at most half a window more, by
	 * (target - cwnd) / cwnd for each segment acknowledged */
	uint64_t target = w;
	if (target > (uint64_t)cwnd * 3 / 2)
		target = (uint64_t)cwnd * 3 / 2;
	if (target <= cwnd)
		return cwnd;
	uint64_t n = cwnd + (target - cwnd) * acked / cwnd;
	return n > CUBIC_WND_MAX ? CUBIC_WND_MAX : (uint32_t)n;
}
