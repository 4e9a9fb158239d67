/* Pollux's service API: what a network service implements and the calls it makes. No lwIP types. */
#ifndef POLLUX_SERVICE_H
#define POLLUX_SERVICE_H

/*
 * A service is a const struct svc of callbacks, linked once into the image. Every core runs its
 * own lwIP instance, and the instance's glue (net/inst_svc.c) calls the service from lwIP's own
 * callbacks, on the core that owns the flow, while the received segment is still in that core's
 * cache; nothing is queued between the stack and the service, and no lock is ever taken. The
 * calls a service makes (svc_send, svc_udp_send) go back through the same core's instance.
 *
 * A connection's life, in order:
 *   accept   once, when the handshake completes; its state (conn_size bytes) is zeroed.
 *   data     received bytes, in order, as often as they arrive; the service returns how many it
 *            consumed. Fewer than offered is backpressure: the glue keeps the rest, leaves it
 *            unacknowledged in the TCP window (the peer stops sending once the window is full)
 *            and offers it again, from the first byte not consumed, after the next `sent`.
 *            Then data(NULL, 0) once, when the peer's FIN arrives and every byte before it has
 *            been consumed.
 *   sent     the peer acknowledged bytes: send room freed, a response cut short may continue.
 *   closed   once, last, however the connection ended; the state is freed after it returns.
 * A callback returns SVC_CLOSE to end the connection: the glue acknowledges any input left
 * unconsumed (so the stack does not answer the close with a reset), sends what svc_send took,
 * then FIN, and calls closed(SVC_CLOSED). A connection ends otherwise only by the peer's reset
 * or the stack giving up (SVC_RESET, SVC_ABORTED); closed is the only call that tells so.
 *
 * Memory: the glue allocates each connection's state from the core's lwIP heap (4 MiB, shared
 * with the stack's own buffers), so conn_size bounds how many connections a core holds; it may
 * be at most SVC_CONN_MAX. When the allocation fails the connection is reset and counted
 * (tcp_drop_mem in `stats`). Input waiting for the service is bounded by the TCP window.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_check.h"

#define SVC_CLOSE (-1)                  /* data, sent: every response is written; close */
#define SVC_CONN_MAX (64u * 1024)       /* largest conn_size */

/* svc_send flags */
#define SVC_COPY 0x1    /* p is valid only during the call: copy it. Without: p is static memory
			 * (valid for the life of the image) and is sent by reference, no copy */
#define SVC_MORE 0x2    /* more follows at once: no PSH on this piece */

/* closed: why */
#define SVC_CLOSED 0    /* a callback returned SVC_CLOSE; what was written is being sent */
#define SVC_RESET 1     /* the peer reset the connection */
#define SVC_ABORTED 2   /* the stack gave up: retransmissions unanswered, or out of memory */

#define SVC_INET 4
#define SVC_INET6 6

/* A remote end of either family. */
struct svc_peer {
	uint8_t family;         /* SVC_INET or SVC_INET6 */
	uint16_t port;          /* host byte order */
	union {
		uint32_t ip;            /* SVC_INET: network byte order */
		uint8_t ip6[16];        /* SVC_INET6: network byte order */
	};
};

/* What a service counts, per core; `stats` shows requests and errors in each core's row. */
struct svc_stats {
	uint64_t requests;      /* requests answered */
	uint64_t ok;            /* answered with success (HTTP: 2xx) */
	uint64_t redirected;    /* answered elsewhere or unchanged (HTTP: 3xx) */
	uint64_t errors;        /* answered with the client's error (HTTP: 4xx) */
	uint64_t bad;           /* malformed (HTTP: 400) */
};

struct svc_conn;
struct svc_udp;

/* The calls back into one core's instance; services use the svc_* wrappers below. */
struct svc_ops {
	size_t (*send)(struct svc_conn *c, const void *p, size_t n, unsigned flags);
	size_t (*send_room)(struct svc_conn *c);
	int (*udp_send)(struct svc_udp *u, const void *p, size_t len, const struct svc_peer *to);
};

/* One TCP connection, owned by the glue; valid from accept until closed returns. */
struct svc_conn {
	const struct svc_ops *ops;      /* the owning core's instance */
	struct svc_stats *stats;        /* the owning core's counts */
	struct svc_peer peer;           /* the remote end */
	bool partial;                   /* set by the service while it holds an incomplete request:
					 * the request must be complete within POLLUX_HEADER_TIMEOUT_S
					 * of when this became true, or the connection is closed */
};

/* The service's UDP port on one core. */
struct svc_udp {
	const struct svc_ops *ops;
	struct svc_stats *stats;
};

struct svc {
	uint16_t tcp_port;              /* 0: no TCP */
	uint16_t udp_port;              /* 0: no UDP */
	uint32_t conn_size;             /* bytes of state per connection, zeroed, 8-byte aligned */

	/* Once at boot on the boot core, before any core serves; may be NULL. */
	void (*init)(void);
	/* A new connection. Returns 0 to keep it, or negative to refuse it: it is reset (counted
	 * as tcp_reset) and closed is not called. May call svc_send. NULL: keep every one. */
	int (*accept)(struct svc_conn *c, void *state);
	/*
	 * p[0..len) arrived (len > 0, p valid only during the call). Returns the bytes consumed
	 * (0..len): the rest is offered again, from its first byte, after the next sent. Or
	 * SVC_CLOSE. One segment may come in several calls.
	 * p == NULL, len == 0: the peer's FIN, once, after every byte before it was consumed.
	 * Return SVC_CLOSE when nothing is left to write, or 0 while a response is unfinished
	 * (a svc_send fell short): a later sent then returns SVC_CLOSE once it is written.
	 * Required when tcp_port is set.
	 */
	long (*data)(struct svc_conn *c, void *state, const void *p, size_t len);
	/* len bytes were acknowledged; len 0: no acknowledgement, but room may have freed (called
	 * about once a second while input waits, a send fell short, or after the FIN was kept
	 * open). Continue writing here. Returns 0 or SVC_CLOSE. NULL: always 0. */
	int (*sent)(struct svc_conn *c, void *state, size_t len);
	/* The connection is gone (SVC_CLOSED, SVC_RESET, SVC_ABORTED): no more svc_send. Called
	 * exactly once per accepted connection. NULL: nothing to do. */
	void (*closed)(struct svc_conn *c, void *state, int why);
	/* A datagram to udp_port, p[0..len) valid only during the call. Required when udp_port is
	 * set. */
	void (*udp)(struct svc_udp *u, const void *p, size_t len, const struct svc_peer *from);
};

/*
 * Queue n bytes at p on c (SVC_COPY, SVC_MORE). Returns how many it took from the front: n, or
 * fewer (0 included) when the send buffer is full. Then wait for sent and write the rest there.
 * What is taken goes out when the callback returns (one TCP output per callback).
 */
static inline size_t svc_send(struct svc_conn *c, const void *p, size_t n, unsigned flags)
{
	return c->ops->send(c, p, n, flags);
}

/* Bytes svc_send would take now, at most (it may take fewer when the queue of pieces is full). */
static inline size_t svc_send_room(struct svc_conn *c)
{
	return c->ops->send_room(c);
}

/* Send p[0..len) (copied) as one datagram from the service's UDP port to `to`. Returns 0, or -1
 * when it was dropped (no memory, too long, no route: counted as udp_drop). */
static inline int svc_udp_send(struct svc_udp *u, const void *p, size_t len, const struct svc_peer *to)
{
	return u->ops->udp_send(u, p, len, to);
}

/* The services in this tree (net/svc_*.c); svc_metrics answers the management port beside
 * whichever service runs. */
extern const struct svc svc_http, svc_echo, svc_metrics;

/* The service every core runs: the config header's POLLUX_SERVICE names its definition. */
extern const struct svc POLLUX_SERVICE;

#endif
