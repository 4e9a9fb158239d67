/* CUBIC congestion control (RFC 9438) for lwIP's congestion avoidance (patch 0013's hooks,
 * net/inst_cc.c): pure integer math on a few words of state per connection, windows in bytes,
 * time in ms. No floating point: C = 0.4 and beta = 0.7 are fractions, the cube root is integer. */
#ifndef POLLUX_TCP_CUBIC_H
#define POLLUX_TCP_CUBIC_H

#include <stdint.h>

#define CUBIC_EPOCH 1u          /* epoch, k and w_est hold for the current congestion avoidance */
#define CUBIC_RTO 2u            /* the last loss was a timeout: K = 0 and W_max from cwnd (RFC 9438 4.8) */

/* One connection's state: 20 bytes in its pcb, zero at first. */
struct tcp_cubic {
	uint32_t w_max;         /* bytes: the window at the last loss (lowered by fast convergence) */
	uint32_t k;             /* ms from the epoch until W_cubic is back at w_max */
	uint32_t epoch;         /* ms (sys_now) when congestion avoidance began after the loss */
	uint32_t w_est;         /* bytes: the Reno-friendly estimate (RFC 9438 4.3) */
	uint8_t flags;
};

/* floor(cbrt(x)), by the bits of the root (three bits of x at a time). */
uint32_t cubic_cbrt(uint64_t x);
/* K in ms (RFC 9438 eq. 2): cbrt((w_max - cwnd_epoch) / C) seconds, the windows in bytes, C in
 * segments of mss per s^3; 0 when cwnd_epoch >= w_max. */
uint32_t cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
/* W_cubic(t) in bytes (RFC 9438 eq. 1): C * (t - K)^3 + W_max, t and k in ms; 0 at least,
 * CUBIC_WND_MAX at most. */
#define CUBIC_WND_MAX (1u << 30)
uint32_t cubic_window(uint32_t w_max, uint32_t k, uint32_t t, uint32_t mss);
/* A loss of a window of wnd bytes (min(cwnd, the peer's window)); rto: found by a timeout.
 * Returns ssthresh, wnd * beta (0.7); W_max is wnd, or wnd * (1 + beta) / 2 when wnd is below
 * the last W_max (fast convergence, 4.7). The next congestion avoidance starts a new epoch. */
uint32_t cubic_loss(struct tcp_cubic *c, uint32_t wnd, int rto);
/* An ACK of acked bytes in congestion avoidance at time now (ms): the new cwnd (never less). */
uint32_t cubic_ack(struct tcp_cubic *c, uint32_t cwnd, uint32_t acked, uint32_t mss, uint32_t now);

#endif
