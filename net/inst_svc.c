/* The service API (net/service.h) over one core's lwIP instance: raw-API callbacks calling the
 * service, the svc_ops it calls back, backpressure and the close path. Linked once per core. */
#include <string.h>

#include "inst_priv.h"
#include "service.h"
#include "slab.h"

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/mem.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

/* tcp_recved takes a 16-bit length: the receive window must fit (ours is not scaled). */
_Static_assert(TCP_WND <= 0xffff && TCP_RCV_SCALE == 0, "the receive window fits in 16 bits");
/* lwIP counts a connection's queued pbufs in 16 bits. */
_Static_assert(TCP_SND_QUEUELEN <= 0xffff, "the send queue's length fits in 16 bits");

#define POLL_TICKS (1000 / TCP_SLOW_INTERVAL)   /* tcp_poll interval: 1 s, in lwIP's slow ticks */
#define TICK_MS 500             /* the time limits are checked this often */

/*
 * Every connection is in one of these lists, by what it waits for, and each list is ordered by the
 * time its limit runs from (since): entries join at the tail with since = now, and move there
 * again when that time restarts. So the time limits (a tick every TICK_MS) and the cap's
 * displacement look only at the heads: the cost is the same with 10 connections and with 100,000,
 * and lwIP's timers do not visit a connection at rest at all (net/port/patches/0003).
 */
enum {
	C_IDLE,         /* nothing to read or send, no request begun: since the last activity */
	C_PARTIAL,      /* a request begun (svc_conn.partial): since it began */
	C_SENDING,      /* something written is not acknowledged: since the peer last took some */
	C_OTHER,        /* input or a FIN the service has yet to take: its retry poll runs */
	C_LISTS
};

struct iconn {
	struct svc_conn c;              /* first: the service's handle is the connection */
	const struct svc *svc;          /* the service its port belongs to */
	struct tcp_pcb *pcb;
	struct iconn *prev, *next;      /* in lists[cls] */
	struct pbuf *in;                /* received, not yet consumed: its first pbuf trimmed */
	uint32_t held;                  /* in->tot_len as counted in held_total */
	uint32_t queued;                /* written, not acknowledged, as counted in send_total */
	uint32_t since;                 /* sys_now() the list's time limit runs from */
	uint8_t cls;                    /* the list it is in */
	bool received, acked;           /* since the last conn_settle: input came, the peer took some */
	bool polling;                   /* lwIP's poll is set: a retry is due (conn_poll) */
	bool fin;                       /* the peer's FIN arrived */
	bool fin_told;                  /* data(NULL, 0) was called */
	bool stalled;                   /* data consumed less than offered: wait for sent */
	bool short_send;                /* a svc_send fell short since this callback began */
	_Alignas(8) unsigned char state[];      /* svc->conn_size bytes */
};

struct iudp {
	struct svc_udp u;               /* first, as above */
	struct udp_pcb *pcb;
};

/*
 * Input a service has not consumed yet is bounded per connection by the TCP window (the glue does
 * not acknowledge it) and per core by HELD_MAX. It never stays in the NIC's buffers: what is kept
 * past a callback is copied into this core's heap, so a peer that stalls its service cannot pin
 * the receive ring. When the core's budget or heap runs out, the connection holding the most is
 * reset (counted in held_resets), never the ring.
 */
#define HELD_MAX ((uint32_t)POLLUX_HELD_INPUT_KB * 1024)

static const struct svc *svc;
static const struct svc *mgmt;          /* on its own port beside svc (metrics), or NULL */
static struct net_inst_stats *st;
static struct { struct iconn *head, *tail; } lists[C_LISTS];
static uint32_t max_conns;              /* open connections at most (net_inst_cfg.max_conns) */
static uint64_t send_budget;            /* bytes written and not acknowledged, at most, over all */
static uint64_t send_total, send_high;  /* such bytes now, and at most */
static uint32_t conn_bytes;             /* memory of one idle connection: PCB and state blocks */
static uint64_t listen_ignored;         /* segments to a listener lwIP ignores without a count */
static uint32_t mgmt_ip;                /* the management address (network order), 0: none */
static ip6_addr_t mgmt_ip6;             /* the management IPv6 address, zoneless */
static bool mgmt6;                      /* it is set */
static uint64_t wrong_addr;             /* segments and datagrams refused: sent to the other's address */
static uint32_t held_total;
static struct svc_stats sst;            /* this core's counts, kept by the service */
static struct iudp iudp;
/* The loop's profile (inst_svc_prof): while *prof_on, calls into the service are timed. */
static const bool prof_never;
static const bool *prof_on = &prof_never;
static unsigned (*prof_enter_svc)(void);
static void (*prof_end_svc)(unsigned back);

/* Around every call into the service: one untaken branch each when profiling is off. */
static inline unsigned svc_in(void)
{
	return *prof_on ? prof_enter_svc() : 0;
}

static inline void svc_out(unsigned back)
{
	if (*prof_on)
		prof_end_svc(back);
}

/* ---- what the service calls ---- */

static bool shed_sender(struct iconn *ic);

/* What ic has written and not had acknowledged, counted into the core's total. */
static void conn_queued(struct iconn *ic)
{
	uint32_t q = (uint32_t)(TCP_SND_BUF - ic->pcb->snd_buf);
	send_total = send_total - ic->queued + q;
	ic->queued = q;
	if (send_total > send_high)
		send_high = send_total;
}

/* Bytes ic may write now: its share by its path, less what it has queued. The share grows to twice
 * what may be in flight (the smaller of the congestion window and the peer's window), from
 * INST_SND_MIN up to TCP_SND_BUF (lwipopts.h), as Linux's send buffer autotuning does: a peer that
 * reads slowly or not at all holds INST_SND_MIN, a fast long path gets what it can carry. */
static size_t conn_room(const struct iconn *ic)
{
	const struct tcp_pcb *pcb = ic->pcb;
	if (tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN)
		return 0;
	uint64_t share = 2ull * LWIP_MIN(pcb->cwnd, pcb->snd_wnd);
	share = LWIP_MIN(LWIP_MAX(share, INST_SND_MIN), TCP_SND_BUF);
	uint64_t queued = TCP_SND_BUF - pcb->snd_buf;    /* tcp_sndbuf() stops at 64 KiB */
	return queued < share ? (size_t)(share - queued) : 0;
}

static size_t conn_send(struct svc_conn *sc, const void *p, size_t n, unsigned flags)
{
	struct iconn *ic = (struct iconn *)sc;
	size_t take = conn_room(ic);
	u8_t f = (u8_t)((flags & SVC_COPY ? TCP_WRITE_FLAG_COPY : 0) | (flags & SVC_MORE ? TCP_WRITE_FLAG_MORE : 0));
	if (take > n)
		take = n;
	/* The core's send budget: past it, the peer holding the most that reads nothing makes way;
	 * with none such, this connection waits for its own data to be acknowledged. */
	conn_queued(ic);
	if (take && send_total + take > send_budget && !shed_sender(ic)) {
		take = send_total < send_budget ? (size_t)(send_budget - send_total) : 0;
		st->send_waits++;
	}
	/* tcp_write takes at most 64 KiB at a time: pieces before the last are followed by more. */
	size_t done = 0;
	while (done < take) {
		size_t k = take - done > 0xffff ? 0xffff : take - done;
		u8_t fk = (u8_t)(done + k < take ? f | TCP_WRITE_FLAG_MORE : f);
		if (tcp_write(ic->pcb, (const u8_t *)p + done, (u16_t)k, fk) != ERR_OK)
			break;
		done += k;
	}
	take = done;
	conn_queued(ic);
	if (take < n)
		ic->short_send = true;
	return take;
}

static size_t conn_send_room(struct svc_conn *sc)
{
	return conn_room((struct iconn *)sc);
}

static int dgram_send(struct svc_udp *u, const void *p, size_t len, const struct svc_peer *to)
{
	struct iudp *iu = (struct iudp *)u;
	struct pbuf *q = len <= 0xffff - 8 - 40 ? pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM) : NULL;
	if (!q || pbuf_take(q, p, (u16_t)len) != ERR_OK) {
		if (q)
			pbuf_free(q);
		st->udp_drop++;
		return -1;
	}
	ip_addr_t a;
	if (to->family == SVC_INET6)
		IP_ADDR6(&a, ((const u32_t *)to->ip6)[0], ((const u32_t *)to->ip6)[1], ((const u32_t *)to->ip6)[2],
			 ((const u32_t *)to->ip6)[3]);
	else
		ip_addr_set_ip4_u32_val(a, to->ip);
	err_t e = udp_sendto(iu->pcb, q, &a, to->port);
	pbuf_free(q);
	if (e != ERR_OK) {
		st->udp_drop++;
		return -1;
	}
	return 0;
}

/* A remote end as services see it (net/service.h). */
static void peer_of(struct svc_peer *out, const ip_addr_t *a, u16_t port)
{
	*out = (struct svc_peer){ .port = port };
	if (IP_IS_V6(a)) {
		out->family = SVC_INET6;
		memcpy(out->ip6, ip_2_ip6(a)->addr, 16);
	} else {
		out->family = SVC_INET;
		out->ip = ip4_addr_get_u32(ip_2_ip4(a));
	}
}

static const struct svc_ops ops = {
	.send = conn_send,
	.send_room = conn_send_room,
	.udp_send = dgram_send,
};

/* ---- TCP ---- */

static void conn_unlink(struct iconn *ic)
{
	if (ic->prev)
		ic->prev->next = ic->next;
	else
		lists[ic->cls].head = ic->next;
	if (ic->next)
		ic->next->prev = ic->prev;
	else
		lists[ic->cls].tail = ic->prev;
	ic->prev = ic->next = NULL;
}

/* To the tail of lists[cls], its time limit running from now. */
static void conn_append(struct iconn *ic, unsigned cls)
{
	ic->cls = (uint8_t)cls;
	ic->since = sys_now();
	ic->prev = lists[cls].tail;
	ic->next = NULL;
	if (lists[cls].tail)
		lists[cls].tail->next = ic;
	else
		lists[cls].head = ic;
	lists[cls].tail = ic;
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb);

/*
 * After lwIP or the service did something to ic (alive): the list it belongs in now, where its
 * time limit runs from, what it has queued to send, and whether it needs lwIP's poll (only a
 * connection that waits without anything in flight to bring a sent does; the rest are quiet for
 * lwIP's timers). An idle connection's limit restarts with any activity, a sending one's only
 * when the peer takes some, a partial request's only when it ends.
 */
static void conn_settle(struct iconn *ic)
{
	struct tcp_pcb *pcb = ic->pcb;
	unsigned cls = ic->c.partial ? C_PARTIAL : (pcb->unsent || pcb->unacked) ? C_SENDING :
		       (ic->in || ic->fin) ? C_OTHER : C_IDLE;
	bool restart = cls == C_SENDING ? ic->acked : cls != C_PARTIAL && (ic->received || ic->acked);
	if (cls != ic->cls || (restart && ic != lists[cls].tail)) {
		conn_unlink(ic);
		conn_append(ic, cls);
	} else if (restart) {
		ic->since = sys_now();
	}
	ic->received = ic->acked = false;
	conn_queued(ic);
	bool want = ic->in || ic->short_send || ic->fin_told;
	if (want != ic->polling) {
		ic->polling = want;
		tcp_poll(pcb, want ? conn_poll : NULL, want ? POLL_TICKS : 0);
	}
}

/* The connection is over for the service: tell it, free its state. */
static void conn_free(struct iconn *ic, int why)
{
	if (ic->svc->closed) {
		unsigned back = svc_in();
		ic->svc->closed(&ic->c, ic->state, why);
		svc_out(back);
	}
	if (ic->in)
		pbuf_free(ic->in);
	held_total -= ic->held;
	send_total -= ic->queued;
	st->tcp_open--;
	st->tcp6_open -= ic->c.peer.family == SVC_INET6;
	conn_unlink(ic);
	mem_free(ic);
}

/* Does the chain hold one of the NIC's buffers (a zero-copy RX pbuf)? */
static bool has_ring_pbuf(const struct pbuf *p)
{
	for (; p; p = p->next)
		if (p->flags & PBUF_FLAG_IS_CUSTOM)
			return true;
	return false;
}

/* Reset the connection holding the most input (ic's callback is running: true if it was ic). Only
 * when the held input's budget or the heap ran out: it searches every connection that can hold
 * input (those waiting for their service, or for send room to answer). */
static bool reset_heaviest(struct iconn *ic)
{
	struct iconn *v = NULL;
	for (unsigned l = C_PARTIAL; l < C_LISTS; l++)
		for (struct iconn *c = lists[l].head; c; c = c->next)
			if (!v || c->held > v->held)
				v = c;
	if (!v)
		return false;
	st->held_resets++;
	tcp_abort(v->pcb);              /* conn_err frees v */
	return v == ic;
}

/*
 * After a callback: count what ic keeps, move it out of the NIC's buffers, and keep the core
 * within its budget. Returns ERR_ABRT when ic itself had to be reset.
 */
static err_t hold_input(struct iconn *ic)
{
	struct pbuf *p = ic->in;
	if (p) {
		struct pbuf *c = has_ring_pbuf(p) ? pbuf_clone(PBUF_RAW, PBUF_RAM, p) : p;
		if (!c) {
			/* No heap for the copy: make room, then try once more. */
			if (reset_heaviest(ic))
				return ERR_ABRT;
			c = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
			if (!c) {
				st->held_resets++;
				tcp_abort(ic->pcb);
				return ERR_ABRT;
			}
		}
		if (c != p) {
			pbuf_free(p);
			ic->in = c;
		}
	}
	uint32_t now = ic->in ? ic->in->tot_len : 0;
	held_total = held_total - ic->held + now;
	ic->held = now;
	while (held_total > HELD_MAX)
		if (reset_heaviest(ic))
			return ERR_ABRT;
	return ERR_OK;
}

/* A callback asked to close. Input never consumed is acknowledged first: lwIP answers a close
 * with unread data by a reset, which could destroy the response still in flight. Returns what
 * the lwIP callback must: ERR_ABRT when the pcb had to be aborted. */
static err_t conn_close(struct iconn *ic)
{
	struct tcp_pcb *pcb = ic->pcb;
	if (ic->in) {
		tcp_recved(pcb, ic->in->tot_len);
		pbuf_free(ic->in);
		ic->in = NULL;
	}
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	err_t e = tcp_close(pcb);       /* queues FIN after what was written, and sends */
	if (e != ERR_OK) {
		tcp_abort(pcb);
		st->tcp_abort++;
	}
	conn_free(ic, e == ERR_OK ? SVC_CLOSED : SVC_ABORTED);
	return e == ERR_OK ? ERR_OK : ERR_ABRT;
}

/* Offer what is buffered, then the FIN once all of it is consumed; acknowledge what was
 * consumed, send what was written. */
static err_t conn_run(struct iconn *ic)
{
	uint32_t consumed = 0;
	long r = 0;
	while (ic->in) {
		struct pbuf *p = ic->in;
		if (p->len) {
			unsigned back = svc_in();
			r = ic->svc->data(&ic->c, ic->state, p->payload, p->len);
			svc_out(back);
			if (r < 0)
				break;
			LWIP_ASSERT("svc: data consumed more than it was offered", r <= p->len);
			consumed += (uint32_t)r;
			if (r < p->len) {
				pbuf_remove_header(p, (size_t)r);
				ic->stalled = true;     /* offered again after sent */
				break;
			}
		}
		/* Drop the consumed pbuf; the chain's reference to the next passes to ic->in. */
		ic->in = p->next;
		p->next = NULL;
		pbuf_free(p);
	}
	if (r >= 0 && !ic->in && ic->fin && !ic->fin_told) {
		ic->fin_told = true;
		unsigned back = svc_in();
		r = ic->svc->data(&ic->c, ic->state, NULL, 0);
		svc_out(back);
	}
	if (consumed)
		tcp_recved(ic->pcb, (u16_t)consumed);
	if (r < 0)
		return conn_close(ic);
	if (hold_input(ic) != ERR_OK)
		return ERR_ABRT;
	tcp_output(ic->pcb);
	conn_settle(ic);
	return ERR_OK;
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct iconn *ic = arg;
	(void)pcb, (void)err;
	ic->received = true;
	if (!p) {
		ic->fin = true;
	} else if (ic->in) {
		if (ic->stalled && has_ring_pbuf(p)) {
			/* Kept past this call: copied now, alone, so hold_input need not copy it all again. */
			struct pbuf *c = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
			if (c) {
				pbuf_free(p);
				p = c;
			}
		}
		pbuf_cat(ic->in, p);
	} else {
		ic->in = p;
	}
	if (ic->stalled) {              /* queued behind what the service could not take yet */
		if (hold_input(ic) != ERR_OK)
			return ERR_ABRT;
		conn_settle(ic);
		return ERR_OK;
	}
	ic->short_send = false;
	return conn_run(ic);
}

/* Room freed (len acknowledged, or 0 from poll): the service continues, then input is offered. */
static err_t conn_resume(struct iconn *ic, size_t len)
{
	ic->short_send = false;
	ic->stalled = false;
	if (ic->svc->sent) {
		unsigned back = svc_in();
		int r = ic->svc->sent(&ic->c, ic->state, len);
		svc_out(back);
		if (r < 0)
			return conn_close(ic);
	}
	return conn_run(ic);
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct iconn *ic = arg;
	(void)pcb;
	ic->acked = true;
	return conn_resume(ic, len);
}

/*
 * A time limit as the core fills: the configured one up to three quarters of the cap, then
 * shrinking in proportion to the room left, to a quarter of it (one second at least), so that
 * under pressure slow and idle clients make way sooner (as nginx-style servers shorten their
 * timeouts), while a real client on a slow path still has time for its request.
 */
static uint32_t limit_ms(uint32_t seconds)
{
	uint32_t ms = seconds * 1000u, open = (uint32_t)st->tcp_open, quarter = max_conns / 4;
	uint32_t least = ms / 4 > 1000 ? ms / 4 : 1000;
	if (open <= max_conns - quarter || !quarter)
		return ms;
	uint64_t room = open < max_conns ? max_conns - open : 0;
	uint64_t t = (uint64_t)ms * room / quarter;
	return t > least ? (uint32_t)t : least;
}

/*
 * Connections the time limits close, at most LIMIT_CLOSES per half second: when thousands expire
 * together (a crowd of keep-alive clients that went quiet at once), their FINs would fill the TX
 * ring and push out everything else for a while. The rest wait for their next poll (a second
 * later); a new connection at the cap displaces an idle one at once anyway (evict_one).
 */
#define LIMIT_CLOSES 256
static uint32_t closes_window, closes_left;

static bool may_close(uint32_t now)
{
	if (now / 500 != closes_window) {
		closes_window = now / 500;
		closes_left = LIMIT_CLOSES;
	}
	if (!closes_left)
		return false;
	closes_left--;
	return true;
}

/* A peer that takes nothing (a zero window, or no acknowledgement) holds what was queued for it:
 * it is reset, since a close would wait on the same peer (lwIP's persist timer alone would probe
 * a zero window for many minutes). The reset carries the number the peer expects next (what it
 * acknowledged), not snd_nxt, which a zero-window probe moved past its window: a peer drops a
 * reset outside it. conn_err frees ic. */
static void conn_reset(struct iconn *ic)
{
	struct tcp_pcb *pcb = ic->pcb;
	tcp_rst(pcb, pcb->lastack, pcb->rcv_nxt, &pcb->local_ip, &pcb->remote_ip, pcb->local_port, pcb->remote_port);
	tcp_abandon(pcb, 0);
}

/* The time limits, every TICK_MS: each list's head is the first to pass its limit. */
static void limits_tick(void *arg)
{
	(void)arg;
	uint32_t now = sys_now(), hdr = limit_ms(POLLUX_HEADER_TIMEOUT_S), idle = limit_ms(POLLUX_IDLE_TIMEOUT_S);
	struct iconn *c;
	while ((c = lists[C_PARTIAL].head) && now - c->since > hdr && may_close(now)) {
		st->hdr_timeouts++;
		conn_close(c);
	}
	while ((c = lists[C_IDLE].head) && now - c->since > idle && may_close(now)) {
		st->idle_closed++;
		conn_close(c);
	}
	while ((c = lists[C_SENDING].head) && now - c->since > POLLUX_SEND_TIMEOUT_S * 1000u && may_close(now)) {
		st->send_timeouts++;
		conn_reset(c);
	}
	sys_timeout(TICK_MS, limits_tick, NULL);
}

/* A connection that waits without anything in flight gets no sent: lwIP's poll (set by
 * conn_settle only then) retries from here. */
static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct iconn *ic = arg;
	(void)pcb;
	return conn_resume(ic, 0);
}

static void conn_err(void *arg, err_t err)
{
	struct iconn *ic = arg;         /* the pcb is already gone */
	if (err == ERR_RST)
		st->tcp_reset++;
	else
		st->tcp_abort++;
	conn_free(ic, err == ERR_RST ? SVC_RESET : SVC_ABORTED);
}

/*
 * The sender that makes way when memory for sending runs short: among the EVICT_SCAN connections
 * that went longest without the peer taking anything, one that has taken nothing for a second
 * (not reading, or gone), holding the most. Not `except`, whose callback is running. NULL: none.
 */
#define EVICT_SCAN 64

static struct iconn *stalled_sender(uint32_t now, const struct iconn *except)
{
	struct iconn *v = NULL;
	int n = 0;
	for (struct iconn *c = lists[C_SENDING].head; c && n < EVICT_SCAN && now - c->since >= 1000; c = c->next, n++)
		if (c != except && (!v || c->queued > v->queued))
			v = c;
	return v;
}

/* ic's write would take the core past its send budget: reset the stalled sender holding the most,
 * if there is one (counted in send_shed). */
static bool shed_sender(struct iconn *ic)
{
	struct iconn *v = stalled_sender(sys_now(), ic);
	if (!v)
		return false;
	st->send_shed++;
	conn_reset(v);
	return true;
}

/*
 * At the connection cap, make room for a new connection: the one idle the longest, else the
 * request in progress that began the longest ago (a client sending its headers slowly, or not at
 * all), else the peer that reads nothing holding the most; with none of these the new one is
 * refused. False when nothing could go.
 */
static bool evict_one(void)
{
	struct iconn *c = lists[C_IDLE].head;
	if (c) {
		st->evicted++;
		conn_close(c);
		return true;
	}
	if ((c = lists[C_PARTIAL].head)) {
		st->evicted_partial++;
		conn_close(c);
		return true;
	}
	if ((c = stalled_sender(sys_now(), NULL))) {
		st->evicted_send++;
		conn_reset(c);
		return true;
	}
	return false;
}

static err_t conn_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (st->tcp_open >= max_conns && !evict_one()) {
		st->cap_refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	/* The port says whose connection it is: the service's, or the management port's. */
	const struct svc *sv = mgmt && pcb->local_port == mgmt->tcp_port ? mgmt : svc;
	size_t size = sizeof(struct iconn) + sv->conn_size;
	struct iconn *ic = mem_malloc((mem_size_t)size);
	if (!ic) {
		st->tcp_drop_mem++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(ic, 0, size);
	ic->svc = sv;
	ic->c.ops = &ops;
	ic->c.stats = &sst;
	peer_of(&ic->c.peer, &pcb->remote_ip, pcb->remote_port);
	ic->pcb = pcb;
	st->tcp_accepted++;
	tcp_nagle_disable(pcb);
	unsigned back = svc_in();
	int refused = sv->accept ? sv->accept(&ic->c, ic->state) < 0 : 0;
	svc_out(back);
	if (refused) {
		mem_free(ic);
		st->tcp_reset++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	st->tcp_open++;
	st->tcp6_open += ic->c.peer.family == SVC_INET6;
	conn_append(ic, C_IDLE);
	tcp_arg(pcb, ic);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_err);
	tcp_output(pcb);
	conn_settle(ic);
	return ERR_OK;
}

/* ---- segments lwIP shows us first (LWIP_HOOK_TCP_INPACKET_PCB, lwipopts.h) ---- */

static struct pbuf *reinput;           /* a segment to input again (after the current one) */

void inst_svc_reinput(struct netif *nif)
{
	struct pbuf *p = reinput;
	reinput = NULL;
	if (p && ip_input(p, nif) != ERR_OK)
		pbuf_free(p);
}

/*
 * Keep a copy of the segment being input, to input again once it is done: its IP and TCP headers
 * (contiguous in the first pbuf, as lwIP requires) and then its payload p, which may be a chain
 * (a reassembled datagram). tcp_input has turned the TCP header's ports, numbers and window to
 * host order in place: the copy gets the wire's order back. False (nothing kept) when there is no
 * memory or the headers are not where they should be.
 */
static bool keep_segment(const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len, struct pbuf *p)
{
	bool v6 = ip_current_is_v6();
	const u8_t *iph = v6 ? (const u8_t *)ip6_current_header() : (const u8_t *)ip4_current_header();
	/* IPv6: the fixed header only; a segment that came behind extension headers is not kept. */
	u16_t hl = v6 ? IP6_HLEN : (u16_t)(IPH_HL((const struct ip_hdr *)iph) * 4), tl = (u16_t)(TCP_HLEN + optlen);
	if (reinput || iph + hl != (const u8_t *)hdr || opt1len != optlen || (u32_t)hl + tl + p->tot_len > 0xffff)
		return false;
	u16_t len = (u16_t)(hl + tl + p->tot_len);
	struct pbuf *q = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);
	if (!q)
		return false;
	u8_t *b = q->payload;
	memcpy(b, iph, (size_t)hl + tl);
	pbuf_copy_partial(p, b + hl + tl, p->tot_len, 0);
	if (v6) {
		struct ip6_hdr *q6 = (struct ip6_hdr *)b;
		IP6H_PLEN_SET(q6, (u16_t)(len - IP6_HLEN));
	} else {
		struct ip_hdr *qi = (struct ip_hdr *)b;
		IPH_LEN_SET(qi, lwip_htons(len));
		IPH_OFFSET_SET(qi, 0);
		IPH_CHKSUM_SET(qi, 0);
		IPH_CHKSUM_SET(qi, inet_chksum(qi, hl));
	}
	struct tcp_hdr *h = (struct tcp_hdr *)(b + hl);
	h->src = lwip_htons(h->src);
	h->dest = lwip_htons(h->dest);
	h->seqno = lwip_htonl(h->seqno);
	h->ackno = lwip_htonl(h->ackno);
	h->wnd = lwip_htons(h->wnd);
	reinput = q;
	return true;
}

/*
 * SYN cookies (RFC 4987). When a listener's backlog of half-open connections is full (a SYN
 * flood, or a burst of real clients), a SYN is answered with a SYN-ACK whose sequence number
 * encodes the connection, and nothing is kept: the flood costs no memory and displaces nobody.
 * The client's ACK brings the number back; if it checks, the connection is made then as if its
 * SYN had been kept. The number: a time slot's low bit (slots of 65.5 s; the current and the
 * previous one are accepted), the client's MSS as an index into cookie_mss, and 28 bits of a
 * keyed MAC over the four-tuple, the client's sequence number and the slot (lwip_port_cookie).
 * Options other than the MSS are lost, as everywhere SYN cookies are used: such a connection has
 * no SACK (its SYN-ACK does not offer it; losses are recovered with NewReno) and no window scale.
 */
static const u16_t cookie_mss[8] = { 536, 1024, 1200, 1280, 1360, 1400, 1440, 1460 };
static u32_t cookies_until;             /* ACKs are checked as cookies only while they are sent */

#define COOKIE_SLOT(now) ((now) >> 16)

static u32_t cookie_mac(const struct tcp_hdr *hdr, u16_t lport, u32_t seq, u32_t slot)
{
	const ip_addr_t *l = ip_current_dest_addr(), *r = ip_current_src_addr();
	u32_t mac = IP_IS_V6(r) ? lwip_port_cookie((const u8_t *)ip_2_ip6(l)->addr, lport, (const u8_t *)ip_2_ip6(r)->addr,
						   hdr->src, 16, seq, slot)
				: lwip_port_cookie((const u8_t *)&ip_2_ip4(l)->addr, lport, (const u8_t *)&ip_2_ip4(r)->addr,
						   hdr->src, 4, seq, slot);
	return mac & 0x0fffffffu;
}

/* The MSS option of a SYN (its options in the first pbuf, after the header); 536 without one. */
static u16_t syn_mss(const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len)
{
	const u8_t *o = (const u8_t *)hdr + TCP_HLEN;
	for (u16_t i = 0; optlen == opt1len && i < optlen;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || o[i + 1] < 2 || i + o[i + 1] > optlen)
			break;
		if (o[i] == 2 && o[i + 1] == 4)
			return (u16_t)(o[i + 2] << 8 | o[i + 3]);
		i = (u16_t)(i + o[i + 1]);
	}
	return 536;
}

/* Answer the segment being input with one that has no connection behind it: a SYN-ACK (with our
 * MSS: what the link's MTU holds after this family's IP and TCP headers, as lwIP's own SYN-ACK
 * says), an ACK or a RST. True when it was sent. */
static bool send_bare(u16_t lport, u16_t rport, u32_t seq, u32_t ack, u8_t flags)
{
	u16_t optlen = flags & TCP_SYN ? 4 : 0;
	struct pbuf *q = pbuf_alloc(PBUF_IP, (u16_t)(TCP_HLEN + optlen), PBUF_RAM);
	if (!q) {
		st->tcp_drop_mem++;
		return false;
	}
	struct tcp_hdr *t = q->payload;
	t->src = lwip_htons(lport);
	t->dest = lwip_htons(rport);
	t->seqno = lwip_htonl(seq);
	t->ackno = lwip_htonl(ack);
	TCPH_HDRLEN_FLAGS_SET(t, 5 + optlen / 4, flags);
	t->wnd = lwip_htons(TCPWND_MIN16(TCP_WND));
	t->chksum = 0;
	t->urgp = 0;
	if (optlen) {
		u8_t *o = (u8_t *)(t + 1);
		o[0] = 2;
		o[1] = 4;
		u16_t mss = tcp_eff_send_mss(TCP_MSS, ip_current_dest_addr(), ip_current_src_addr());
		o[2] = (u8_t)(mss >> 8);
		o[3] = (u8_t)mss;
	}
	/* The whole checksum, which linkoutput replaces by the pseudo-header's when the NIC
	 * completes it. */
	t->chksum = ip_chksum_pseudo(q, IP_PROTO_TCP, q->tot_len, ip_current_dest_addr(), ip_current_src_addr());
	bool ok = ip_output(q, ip_current_dest_addr(), ip_current_src_addr(), TCP_TTL, 0, IP_PROTO_TCP) == ERR_OK;
	pbuf_free(q);
	return ok;
}

static void send_cookie(const struct tcp_pcb_listen *l, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len)
{
	u16_t mss = syn_mss(hdr, optlen, opt1len);
	u32_t now = sys_now(), i = 0;
	while (i < 7 && cookie_mss[i + 1] <= mss)
		i++;
	u32_t slot = COOKIE_SLOT(now);
	u32_t cookie = (slot & 1) << 31 | i << 28 | cookie_mac(hdr, l->local_port, hdr->seqno, slot);
	if (send_bare(l->local_port, hdr->src, cookie, hdr->seqno + 1, TCP_SYN | TCP_ACK))
		st->syn_cookies++;
	cookies_until = now + (2u << 16);
}

/*
 * An ACK for a listener: a cookie's, if one checks. The connection is made as tcp_listen_input
 * makes one for a SYN (SYN_RCVD, its SYN-ACK counted as sent), and the ACK input again reaches it
 * there, so lwIP's own code establishes it, calls accept and takes any data it carries. Returns
 * ERR_ABRT when it did; ERR_OK lets lwIP answer as it would (a reset).
 */
static err_t cookie_ack(struct tcp_pcb_listen *l, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len, struct pbuf *p)
{
	u32_t now = sys_now();
	if ((s32_t)(cookies_until - now) < 0)
		return ERR_OK;
	u32_t cookie = hdr->ackno - 1, slot = COOKIE_SLOT(now);
	if ((slot & 1) != cookie >> 31)
		slot--;
	if ((cookie & 0x0fffffffu) != cookie_mac(hdr, l->local_port, hdr->seqno - 1, slot)) {
		st->cookie_bad++;
		return ERR_OK;
	}
	struct tcp_pcb *n = tcp_alloc(l->prio);
	if (!n) {
		st->tcp_drop_mem++;
		return ERR_OK;
	}
	ip_addr_copy(n->local_ip, *ip_current_dest_addr());
	ip_addr_copy(n->remote_ip, *ip_current_src_addr());
	n->local_port = l->local_port;
	n->remote_port = hdr->src;
	n->state = SYN_RCVD;
	n->rcv_nxt = hdr->seqno;
	n->rcv_ann_right_edge = n->rcv_nxt;
	n->lastack = cookie;
	n->snd_wl2 = cookie;
	n->snd_nxt = n->snd_lbb = cookie + 1;
	n->snd_wl1 = hdr->seqno - 1;    /* forces the window update, as for a SYN */
	n->callback_arg = l->callback_arg;
	n->listener = l;
	n->so_options = l->so_options & SOF_INHERITED;
	n->netif_idx = l->netif_idx;
	n->snd_wnd = n->snd_wnd_max = hdr->wnd;
	n->mss = tcp_eff_send_mss(cookie_mss[(cookie >> 28) & 7], &n->local_ip, &n->remote_ip);
	TCP_REG_ACTIVE(n);
	if (!keep_segment(hdr, optlen, opt1len, p)) {
		tcp_abandon(n, 0);
		st->tcp_drop_mem++;
		return ERR_OK;
	}
	st->cookie_ok++;
	return ERR_ABRT;                /* this copy is dropped; the kept one reaches n */
}

/*
 * A segment for a connection in TIME_WAIT (inst_tw: this side closed first, 2 MSL ago at most),
 * answered as RFC 793 has it and lwIP would for a pcb in TIME_WAIT: a reset is ignored (RFC 1337),
 * a FIN again starts the 2 MSL again, anything that takes sequence space is acknowledged. A SYN
 * beyond what the old connection received starts a new one (RFC 1122 4.2.2.13: HTTP with
 * `Connection: close` makes the server close first, and a busy client cycling through its ports
 * comes back on the same ones): the entry ends and the SYN goes on to the listener. Returns ERR_OK
 * for that, ERR_ABRT when the segment was handled here.
 */
static err_t timewait_input(struct inst_tw *e, struct tcp_hdr *hdr, struct pbuf *p)
{
	u8_t flags = TCPH_FLAGS(hdr);
	if (flags & TCP_RST)
		return ERR_ABRT;
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && TCP_SEQ_GT(hdr->seqno, e->rcv_nxt)) {
		st->tw_reused++;
		inst_tw_end(e);
		return ERR_OK;
	}
	u32_t snd_nxt = e->snd_nxt, rcv_nxt = e->rcv_nxt;
	if (flags & TCP_FIN)
		inst_tw_restart(e);
	if (p->tot_len || (flags & (TCP_SYN | TCP_FIN)))
		send_bare(hdr->dest, hdr->src, snd_nxt, rcv_nxt, TCP_ACK);
	return ERR_ABRT;
}

/*
 * With a management address (IPv4, IPv6 or both), the management port is answered on them alone
 * and the service on every other address, so that the network can keep the two apart (a
 * management subnet, routes, ACLs): true when what is being input is for the other one's address
 * (for_mgmt: it reached the management port). Once per connection (its SYN) or datagram.
 */
static bool addr_wrong(bool for_mgmt)
{
	if (!mgmt_ip && !mgmt6)
		return false;
	const ip_addr_t *d = ip_current_dest_addr();
	bool to_mgmt = IP_IS_V4(d) ? mgmt_ip && ip4_addr_get_u32(ip_2_ip4(d)) == mgmt_ip
				   : mgmt6 && ip6_addr_cmp_zoneless(ip_2_ip6(d), &mgmt_ip6);
	return to_mgmt != for_mgmt;
}

/* A segment for a listener at the wrong address is refused as one for a closed port is (RFC 9293
 * 3.10.7.1): a RST, unless it is one. */
static void refuse(const struct tcp_hdr *hdr, u8_t flags, struct pbuf *p)
{
	wrong_addr++;
	if (flags & TCP_RST)
		return;
	if (flags & TCP_ACK)
		send_bare(hdr->dest, hdr->src, hdr->ackno, 0, TCP_RST);
	else
		send_bare(hdr->dest, hdr->src, 0, hdr->seqno + p->tot_len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN),
			  TCP_RST | TCP_ACK);
}

int inst_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len, struct pbuf *p)
{
	u8_t flags = TCPH_FLAGS(hdr);
	if (pcb->state == LISTEN && addr_wrong(mgmt && pcb->local_port == mgmt->tcp_port)) {
		refuse(hdr, flags, p);
		return ERR_ABRT;
	}
	if (pcb->state == LISTEN) {
		struct inst_ip r = inst_ip_of(ip_current_src_addr());
		struct inst_tw *e = inst_tw_find(&r, hdr->src, hdr->dest);
		if (e && timewait_input(e, hdr, p) != ERR_OK)
			return ERR_ABRT;
	}
	if (pcb->state == LISTEN && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK)
		return cookie_ack((struct tcp_pcb_listen *)pcb, hdr, optlen, opt1len, p);
	if (pcb->state == LISTEN && ((flags & TCP_RST) || !(flags & (TCP_SYN | TCP_ACK)))) {
		listen_ignored++;       /* tcp_listen_input drops these quietly: count them here */
		return ERR_OK;
	}
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN || pcb->state != LISTEN)
		return ERR_OK;
	struct tcp_pcb_listen *l = (struct tcp_pcb_listen *)pcb;
	if (l->accepts_pending < l->backlog)
		return ERR_OK;
	send_cookie(l, hdr, optlen, opt1len);
	return ERR_ABRT;
}

/* ---- UDP ---- */

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	(void)arg, (void)pcb;
	st->udp_rx++;
	if (addr_wrong(false)) {
		wrong_addr++;
		pbuf_free(p);
		return;
	}
	if (p->next) {          /* reassembled from fragments: the service gets one piece */
		struct pbuf *q = pbuf_coalesce(p, PBUF_RAW);
		if (q == p) {
			st->udp_drop++;
			pbuf_free(p);
			return;
		}
		p = q;
	}
	struct svc_peer from;
	peer_of(&from, addr, port);
	unsigned back = svc_in();
	svc->udp(&iudp.u, p->payload, p->len, &from);
	svc_out(back);
	pbuf_free(p);
}

/* ---- set-up ---- */

void inst_svc_prof(const bool *on, unsigned (*enter)(void), void (*end)(unsigned back))
{
	prof_on = on && enter && end ? on : &prof_never;
	prof_enter_svc = enter;
	prof_end_svc = end;
}

int inst_svc_check(const struct svc *s)
{
	if (!s)
		return ERR_OK;
	if (s->conn_size > SVC_CONN_MAX || (s->tcp_port && !s->data) || (s->udp_port && !s->udp))
		return ERR_ARG;
	return ERR_OK;
}

/* A listener on s's TCP port. */
static int listen_for(const struct svc *s)
{
	struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_ANY);      /* IPv4 and IPv6 */
	if (!l || tcp_bind(l, IP_ANY_TYPE, s->tcp_port) != ERR_OK)
		return ERR_USE;
	l = tcp_listen_with_backlog(l, POLLUX_SYN_BACKLOG);
	if (!l)
		return ERR_MEM;
	tcp_accept(l, conn_accept);
	return ERR_OK;
}

int inst_svc_start(const struct svc *s, const struct svc *m, uint32_t m_ip, const uint8_t m_ip6[16],
		   struct net_inst_stats *stats, uint32_t conns_max, uint64_t budget, uint64_t send_max)
{
	svc = s;
	st = stats;
	if (!s)
		return ERR_OK;
	mgmt = m && m->tcp_port && m->tcp_port != s->tcp_port ? m : NULL;
	mgmt_ip = m_ip;
	memcpy(mgmt_ip6.addr, m_ip6, 16);
	ip6_addr_clear_zone(&mgmt_ip6);
	mgmt6 = !ip6_addr_isany(&mgmt_ip6);
	/* What an idle connection holds: its PCB (a pool element) and its state, each one block with
	 * lwIP's size word in front; half the budget goes to these, the rest to buffers in flight. */
	size_t word = LWIP_MEM_ALIGN_SIZE(sizeof(mem_size_t));
	conn_bytes = slab_block_size(sizeof(struct tcp_pcb) + word) +
		     slab_block_size(sizeof(struct iconn) + svc->conn_size + word);
	max_conns = conns_max;
	send_budget = send_max ? send_max : budget / 2;
	if (!max_conns) {
		uint64_t n = budget / 2 / conn_bytes;
		max_conns = n < 16 ? 16 : n > 0x7fffffff ? 0x7fffffff : (uint32_t)n;
	}
	int e;
	if (s->tcp_port && (e = listen_for(s)) != ERR_OK)
		return e;
	if (mgmt && (e = listen_for(mgmt)) != ERR_OK)
		return e;
	if (s->tcp_port || mgmt)
		sys_timeout(TICK_MS, limits_tick, NULL);
	if (s->udp_port) {
		iudp.u.ops = &ops;
		iudp.u.stats = &sst;
		iudp.pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
		if (!iudp.pcb || udp_bind(iudp.pcb, IP_ANY_TYPE, s->udp_port) != ERR_OK)
			return ERR_USE;
		udp_recv(iudp.pcb, udp_in, NULL);
	}
	return ERR_OK;
}

void inst_svc_mem(struct net_inst_mem *out)
{
	out->max_conns = max_conns;
	out->conn_bytes = conn_bytes;
	out->send_budget = send_budget;
	out->send_queued = send_total;
	out->send_high = send_high;
	out->timer_pcbs = tcp_busy_count;
}

/* struct net_inst_stats names the service's counts for the columns `stats` shows. */
void inst_svc_stats(struct net_inst_stats *out)
{
	out->http_requests = sst.requests;
	out->http_2xx = sst.ok;
	out->http_3xx = sst.redirected;
	out->http_4xx = sst.errors;
	out->http_bad = sst.bad;
	out->held_bytes = held_total;
	out->l4_drop += listen_ignored + wrong_addr;
}
