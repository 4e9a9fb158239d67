/* test_tcphash: proves lwIP's pcb lists with Pollux's patches (net/port/patches) and the index of
 * net/inst_hash.c: 100,000 connections and TIME-WAIT pcbs registered through lwIP's own TCP_REG,
 * each found by its four-tuple in about one comparison (as with 10), unknown tuples not found, and
 * all removed in scattered order through TCP_RMV and tcp_slowtmr's unlink with the lists intact. */
#include <stdint.h>
#include "test.h"
#include "net/inst_priv.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ip6.h"
#include "lwip/tcp.h"

/* What TCP_REG and TCP_RMV name of lwIP's tcp.c. */
struct tcp_pcb *tcp_active_pcbs, *tcp_tw_pcbs, *tcp_bound_pcbs;
union tcp_listen_pcbs_t tcp_listen_pcbs;
u8_t tcp_active_pcbs_changed;
void tcp_timer_needed(void) {}
/* tcp.c's list for the timers (patch 0003, proven by test_svc): here only who is in it, to check
 * that registering an active pcb puts it there and that leaving its list takes it out. */
static uint32_t busy;
void tcp_busy(struct tcp_pcb *p)
{
	if (!p->busy_pprev) {
		p->busy_pprev = &p->busy_next;
		busy++;
	}
}
void tcp_unbusy(struct tcp_pcb *p)
{
	if (p->busy_pprev) {
		p->busy_pprev = NULL;
		busy--;
	}
}

static void *alloc(size_t n) { return calloc(1, n); }

/* What a Packet Too Big asks of lwIP's TCP (patch 0018, proven by test_svc): here, whose MSS and
 * how; and the output that follows. */
static struct tcp_pcb *lowered;
static u16_t lowered_mss, held;         /* held: segments the NIC still has, for each call to say */
static u8_t lowered_resend;
static unsigned lowers, outputs;
u16_t tcp_mss_lower(struct tcp_pcb *pcb, u16_t mss, u8_t resend)
{
	lowered = pcb, lowered_mss = mss, lowered_resend = resend;
	lowers++;
	if (mss < pcb->mss)
		pcb->mss = mss;
	return held;
}
extern uint32_t now_ms;                 /* tests/unit/host/lwip_port.c: sys_now() */
err_t tcp_output(struct tcp_pcb *pcb)
{
	outputs += pcb == lowered;
	return ERR_OK;
}

static uint32_t list_len(struct tcp_pcb *p)
{
	uint32_t n = 0;
	for (struct tcp_pcb **link = &p; *link && n < 10000000; link = &(*link)->next, n++)
		if ((*link)->pprev == NULL)
			return UINT32_MAX;      /* a member without its back-link */
	return n;
}

static void tuple(struct tcp_pcb *p, uint32_t i)
{
	/* 198.18.x.y clients on ports 1024.., to local port 80 (remote fields as lwIP keeps them); every
	 * other one an IPv6 client fd00:198:18::x.y whose last 32 bits are the IPv4 one's */
	if (i % 2) {
		IP_ADDR6(&p->remote_ip, PP_HTONL(0xfd000198u), PP_HTONL(0x00180000u), 0, PP_HTONL(0xC6120000u + 2 + i / 60000));
		IP_ADDR6(&p->local_ip, PP_HTONL(0xfd000198u), PP_HTONL(0x00180000u), 0, PP_HTONL(1));
	} else {
		ip_addr_set_ip4_u32_val(p->remote_ip, PP_HTONL(0xC6120000u + 2 + i / 60000));
		ip_addr_set_ip4_u32_val(p->local_ip, PP_HTONL(0xC6130001u));
	}
	p->remote_port = (u16_t)(1024 + i % 60000);
	p->local_port = 80;
}

static double probes_per_lookup(struct inst_hash_stats *before)
{
	struct inst_hash_stats h;
	inst_hash_stats(&h);
	double r = (double)(h.probes - before->probes) / (double)(h.lookups - before->lookups);
	*before = h;
	return r;
}

static void index_many(uint32_t n)
{
	struct tcp_pcb *pcbs = calloc(n, sizeof(*pcbs));
	CHECK_EQ(inst_hash_init(n, 256, alloc), 0);
	tcp_active_pcbs = tcp_tw_pcbs = tcp_bound_pcbs = NULL;
	tcp_listen_pcbs.pcbs = NULL;
	struct tcp_pcb bound = { 0 };
	TCP_REG(&tcp_bound_pcbs, &bound);               /* a bound pcb: listed, never indexed */
	for (uint32_t i = 0; i < n; i++) {
		tuple(&pcbs[i], i);
		pcbs[i].state = i % 4 == 3 ? TIME_WAIT : ESTABLISHED;
		if (pcbs[i].state == TIME_WAIT)
			TCP_REG(&tcp_tw_pcbs, &pcbs[i]);
		else
			TCP_REG_ACTIVE(&pcbs[i]);
	}
	struct inst_hash_stats h0;
	inst_hash_stats(&h0);
	CHECK_EQ(h0.entries, n);
	CHECK_EQ(h0.time_wait, 0);                      /* pcbs still in lwIP's list: not taken yet */
	CHECK_EQ(list_len(tcp_active_pcbs) + list_len(tcp_tw_pcbs), n);
	CHECK_EQ(busy, n - n / 4);                      /* every active one, for the timers */
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct tcp_pcb *p = &pcbs[(uint64_t)i * 7919 % n];
		wrong += inst_tcp_lookup(p->remote_port, p->local_port, &p->remote_ip, &p->local_ip) != p;
	}
	CHECK_EQ(wrong, 0);
	double found = probes_per_lookup(&h0);
	CHECK(found >= 1.0 && found < 1.5);             /* a bucket or more per connection */
	/* Tuples nobody has: the other local port, a client one beyond, the bound pcb's. */
	struct tcp_pcb x = pcbs[0];
	uint32_t misses = 0;
	for (uint32_t i = 0; i < n; i++) {
		tuple(&x, i);
		x.local_port = 81;
		misses += inst_tcp_lookup(x.remote_port, x.local_port, &x.remote_ip, &x.local_ip) == NULL;
	}
	/* The IPv4 tuple with an IPv6 connection's last 32 bits and ports: not that connection. */
	for (uint32_t i = 1; i < n && i < 2000; i += 2) {
		x = pcbs[i];
		ip_addr_set_ip4_u32_val(x.remote_ip, ip_2_ip6(&pcbs[i].remote_ip)->addr[3]);
		ip_addr_set_ip4_u32_val(x.local_ip, PP_HTONL(0xC6130001u));
		misses += inst_tcp_lookup(x.remote_port, x.local_port, &x.remote_ip, &x.local_ip) == NULL;
	}
	CHECK_EQ(misses, n + (n < 2000 ? n : 2000) / 2);
	CHECK(probes_per_lookup(&h0) < 1.0);            /* the walk would compare every pcb */
	CHECK(inst_tcp_lookup(0, 0, &bound.remote_ip, &bound.local_ip) == NULL);
	printf("  %u pcbs: %.2f compared per segment found, buckets %llu\n", n, found,
	       (unsigned long long)h0.buckets);
	/* Scattered removals: TCP_RMV (a close, an abort) for most, the timer's unlink for the rest;
	 * a connection moving to TIME-WAIT in between. */
	for (uint32_t i = 0; i < n; i++) {
		struct tcp_pcb *p = &pcbs[(uint64_t)i * 7919 % n];
		if (p->state == ESTABLISHED && i % 5 == 0) {
			TCP_RMV_ACTIVE(p);      /* in lwIP's order: the state changes between the two */
			p->state = TIME_WAIT;
			TCP_REG(&tcp_tw_pcbs, p);
			CHECK(inst_tcp_lookup(p->remote_port, p->local_port, &p->remote_ip, &p->local_ip) == p);
		}
		if (i % 3 == 0) {
			TCP_PCB_UNLINK(p);
		} else if (p->state == TIME_WAIT) {
			TCP_RMV(&tcp_tw_pcbs, p);
		} else {
			TCP_RMV_ACTIVE(p);
		}
		if (inst_tcp_lookup(p->remote_port, p->local_port, &p->remote_ip, &p->local_ip) != NULL)
			wrong++;
	}
	CHECK_EQ(wrong, 0);
	CHECK(tcp_active_pcbs == NULL);
	CHECK(tcp_tw_pcbs == NULL);
	CHECK(tcp_bound_pcbs == &bound && bound.next == NULL);
	inst_hash_stats(&h0);
	CHECK_EQ(h0.entries, 0);
	CHECK_EQ(h0.time_wait, 0);
	CHECK_EQ(busy, 0);
	free(pcbs);
}

/* What inst_tw_take calls of tcp.c: the pcb leaves its list, closed (the test owns its memory). */
void tcp_pcb_remove(struct tcp_pcb **pcbs, struct tcp_pcb *pcb)
{
	TCP_RMV(pcbs, pcb);
	pcb->state = CLOSED;
}
void tcp_free(struct tcp_pcb *pcb) { (void)pcb; }
extern uint32_t now_ms;

/*
 * Connections in TIME_WAIT become 24-byte entries: lwIP's pcbs are taken and freed, each entry is
 * found by its four-tuple, the oldest end early when the room (256 here) is full, one ends at once
 * for a new SYN, one restarts for a FIN again, and all end 2 MSL after they began.
 */
static void time_wait_entries(void)
{
	enum { N = 300, ROOM = 256 };
	static struct tcp_pcb pcbs[N];
	CHECK_EQ(inst_hash_init(10, ROOM, alloc), 0);
	tcp_active_pcbs = tcp_tw_pcbs = NULL;
	now_ms = 1000;
	for (uint32_t i = 0; i < N; i++) {
		tuple(&pcbs[i], i);
		pcbs[i].state = TIME_WAIT;
		pcbs[i].snd_nxt = 1000 + i;
		pcbs[i].rcv_nxt = 5000 + i;
		TCP_REG(&tcp_tw_pcbs, &pcbs[i]);
		if (i % 2)                      /* after each input: one pcb, or two */
			inst_tw_take();
	}
	inst_tw_take();
	CHECK(tcp_tw_pcbs == NULL);
	struct inst_hash_stats h;
	inst_hash_stats(&h);
	CHECK_EQ(h.entries, 0);
	CHECK_EQ(h.tw_cap, ROOM);
	CHECK_EQ(h.time_wait, ROOM);
	CHECK_EQ(h.tw_entered, N);
	CHECK_EQ(h.tw_dropped, N - ROOM);
	uint32_t found = 0, right = 0;
	for (uint32_t i = 0; i < N; i++) {
		struct tcp_pcb *p = &pcbs[i];
		struct inst_ip r = inst_ip_of(&p->remote_ip);
		struct inst_tw *e = inst_tw_find(&r, p->remote_port, p->local_port);
		found += e != NULL;
		right += e && i >= N - ROOM && e->snd_nxt == 1000 + i && e->rcv_nxt == 5000 + i;
	}
	CHECK_EQ(found, ROOM);                          /* the newest */
	CHECK_EQ(right, ROOM);
	struct tcp_pcb *a = &pcbs[N - 1], *b = &pcbs[N - 2];
	struct inst_ip ar = inst_ip_of(&a->remote_ip), br = inst_ip_of(&b->remote_ip), *aip = &ar, *bip = &br;
	/* The same ports from the IPv4 address of a's last 32 bits: not a's entry. */
	struct inst_ip a4 = { { 0, 0, PP_HTONL(0xffffu), ar.w[3] } };
	CHECK(IP_IS_V6(&a->remote_ip) && inst_tw_find(&a4, a->remote_port, a->local_port) == NULL);
	inst_tw_end(inst_tw_find(aip, a->remote_port, a->local_port));
	CHECK(inst_tw_find(aip, a->remote_port, a->local_port) == NULL);
	now_ms += 30000;
	inst_tw_restart(inst_tw_find(bip, b->remote_port, b->local_port));
	struct inst_tw *e = inst_tw_find(bip, b->remote_port, b->local_port);
	CHECK(e && e->until == now_ms + 2 * TCP_MSL && e->rcv_nxt == 5000 + N - 2);
	inst_hash_stats(&h);
	CHECK_EQ(h.time_wait, ROOM - 2);                /* a ended; the oldest made room for b again */
	CHECK_EQ(h.tw_dropped, N - ROOM + 1);
	now_ms += 2 * TCP_MSL - 30000;                  /* the others' time is up, not b's */
	inst_tw_take();
	inst_hash_stats(&h);
	CHECK_EQ(h.time_wait, 1);
	CHECK(inst_tw_find(bip, b->remote_port, b->local_port) != NULL);
	now_ms += 30000;
	inst_tw_take();
	inst_hash_stats(&h);
	CHECK_EQ(h.time_wait, 0);
	CHECK(inst_tw_find(bip, b->remote_port, b->local_port) == NULL);
}

/* IPv6 (patch 0010's hooks): a flow's packets share one label, other flows get others, none 0 or
 * wider than 20 bits; fragment identifications per destination in turn, not from one counter. */
static void ip6_labels(void)
{
	ip6_addr_t a, b, c;
	IP6_ADDR(&a, PP_HTONL(0xfd000198u), PP_HTONL(0x00180000u), 0, PP_HTONL(1));
	IP6_ADDR(&b, PP_HTONL(0xfd000198u), PP_HTONL(0x00180000u), 0, PP_HTONL(2));
	IP6_ADDR(&c, PP_HTONL(0xfd000198u), PP_HTONL(0x00180000u), 0, PP_HTONL(3));
	static u8_t pkt[IP6_HLEN + 20];
	struct pbuf p = { .payload = pkt, .len = sizeof(pkt), .tot_len = sizeof(pkt) };
	pkt[IP6_HLEN + 1] = 80, pkt[IP6_HLEN + 2] = 0x9c, pkt[IP6_HLEN + 3] = 0x40;     /* 80 -> 40000 */
	u32_t l0 = inst_ip6_flowlabel(&a, &b, IP6_NEXTH_TCP, &p);
	CHECK(l0 && l0 <= 0xfffff);
	CHECK_EQ(inst_ip6_flowlabel(&a, &b, IP6_NEXTH_TCP, &p), l0);
	unsigned same = 0, zero = 0, wide = 0;
	for (int port = 40001; port < 41000; port++) {
		pkt[IP6_HLEN + 2] = (u8_t)(port >> 8), pkt[IP6_HLEN + 3] = (u8_t)port;
		u32_t l = inst_ip6_flowlabel(&a, &b, IP6_NEXTH_TCP, &p);
		same += l == l0, zero += l == 0, wide += l > 0xfffff;
	}
	CHECK(same < 3 && !zero && !wide);
	pkt[IP6_HLEN + 2] = 0x9c, pkt[IP6_HLEN + 3] = 0x40;
	CHECK(inst_ip6_flowlabel(&a, &c, IP6_NEXTH_TCP, &p) != l0);
	CHECK(inst_ip6_flowlabel(&a, &b, IP6_NEXTH_UDP, &p) != l0);
	CHECK(inst_ip6_flowlabel(NULL, &b, IP6_NEXTH_ICMP6, &p) != 0);
	u32_t b0 = inst_ip6_frag_id(&b), c0 = inst_ip6_frag_id(&c);
	int in_turn = 1;
	for (u32_t i = 1; i < 100; i++) {
		in_turn &= inst_ip6_frag_id(&b) == b0 + i;
		in_turn &= inst_ip6_frag_id(&c) == c0 + i;
	}
	CHECK(in_turn);
	CHECK(c0 != b0 + 1 && c0 != b0 + 100);
}

/* IPv4 identifications (patch 0004's hook): each destination's datagrams numbered in turn, and not
 * from one counter: two destinations' sequences interleave without touching, and the first
 * datagrams to a thousand destinations are not numbered one after another. */
static void ip_ids(void)
{
	uint32_t a = PP_HTONL(0xC6120002), b = PP_HTONL(0xC6120063);
	uint16_t a0 = inst_ip4_id(a), b0 = inst_ip4_id(b);
	int in_turn = 1;
	for (int i = 1; i < 100; i++) {
		in_turn &= inst_ip4_id(a) == (uint16_t)(a0 + i);
		in_turn &= inst_ip4_id(b) == (uint16_t)(b0 + i);
	}
	CHECK(in_turn);
	CHECK(b0 != (uint16_t)(a0 + 1));
	unsigned next = 0;
	uint16_t prev = inst_ip4_id(PP_HTONL(0x0a000001));
	for (uint32_t d = 2; d < 1000; d++) {
		uint16_t id = inst_ip4_id(PP_HTONL(0x0a000000 + d));
		next += id == (uint16_t)(prev + 1);
		prev = id;
	}
	CHECK(next < 10);
}

/* A Packet Too Big (patch 0018's hook): the connection the quoted segment names lowers its MSS to
 * the path's less 60 bytes and sends again what was too long; a quote cut before the sequence
 * number, of UDP, naming an MTU under 1280, of no connection (a port of nobody's), of a sequence
 * number it has not sent or already had acknowledged, or of a connection in TIME_WAIT or not yet
 * established changes nothing. */
static void packet_too_big(void)
{
	CHECK_EQ(inst_hash_init(16, 256, alloc), 0);
	tcp_active_pcbs = tcp_tw_pcbs = NULL;
	static struct tcp_pcb a, b;
	tuple(&a, 1);                           /* IPv6 (odd) */
	tuple(&b, 3);
	a.state = b.state = ESTABLISHED;
	a.mss = b.mss = 1440;
	a.lastack = 1000, a.snd_nxt = 30000, a.snd_lbb = 60000;
	TCP_REG_ACTIVE(&a);
	TCP_REG_ACTIVE(&b);
	static u8_t q[IP6_HLEN + 20];
	struct ip6_hdr *h = (struct ip6_hdr *)q;
	q[0] = 0x60;                            /* version 6 */
	IP6H_NEXTH_SET(h, IP6_NEXTH_TCP);
	ip6_addr_copy_to_packed(h->src, *ip_2_ip6(&a.local_ip));      /* we sent it: ours first */
	ip6_addr_copy_to_packed(h->dest, *ip_2_ip6(&a.remote_ip));
	u8_t *t = q + IP6_HLEN;
	t[0] = (u8_t)(a.local_port >> 8), t[1] = (u8_t)a.local_port;
	t[2] = (u8_t)(a.remote_port >> 8), t[3] = (u8_t)a.remote_port;
	t[4] = 0, t[5] = 0, t[6] = 0x4e, t[7] = 0x20;                   /* seq 20000: in flight */
	inst_ip6_ptb(h, IP6_HLEN + 7, 1280, 1280, NULL);                /* cut short */
	IP6H_NEXTH_SET(h, IP6_NEXTH_UDP);
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);                   /* not TCP */
	IP6H_NEXTH_SET(h, IP6_NEXTH_TCP);
	inst_ip6_ptb(h, sizeof(q), 1279, 1280, NULL);                   /* under IPv6's minimum */
	inst_ip6_ptb(h, sizeof(q), 1000, 1280, NULL);
	CHECK_EQ(lowers, 0);
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 1);
	CHECK(lowered == &a && lowered_mss == 1280 - 60 && lowered_resend == 1 && a.mss == 1280 - 60);
	CHECK_EQ(outputs, 1);
	inst_ptb_poll();                                                /* nothing was held: nothing waits */
	CHECK_EQ(lowers, 1);
	inst_ip6_ptb(h, sizeof(q), 1400, 1400, NULL);                   /* tcp_mss_lower never raises */
	CHECK(lowers == 2 && lowered_mss == 1400 - 60 && a.mss == 1280 - 60);
	/* The NIC still holds two of its segments: sent again from the poll once it lets them go, once
	 * for the burst of messages the segments brought; or left to the timer after PTB_WAIT_MS. */
	held = 2;
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 4);
	inst_ptb_poll();
	CHECK(lowers == 5 && lowered_mss == a.mss && lowered_resend == 1);
	held = 0;
	inst_ptb_poll();
	CHECK_EQ(lowers, 6);
	CHECK_EQ(outputs, 5);
	inst_ptb_poll();
	CHECK_EQ(lowers, 6);                                            /* done with it */
	held = 1;
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	now_ms += 499;
	inst_ptb_poll();
	CHECK_EQ(lowers, 8);
	now_ms += 1;
	inst_ptb_poll();
	inst_ptb_poll();
	CHECK_EQ(lowers, 9);                                            /* given up */
	held = 0;
	lowers = 2, outputs = 2;
	/* sequence numbers: the last queued one is taken; one past it, the one acknowledged last, one
	 * below, and one half the space away are not */
	t[4] = 0, t[5] = 0, t[6] = 0xea, t[7] = 0x5f;                   /* 59999 */
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 3);
	static const u32_t bad_seq[] = { 60000, 999, 0x80000000u + 20000 };
	for (unsigned i = 0; i < sizeof(bad_seq) / sizeof(bad_seq[0]); i++) {
		t[4] = (u8_t)(bad_seq[i] >> 24), t[5] = (u8_t)(bad_seq[i] >> 16);
		t[6] = (u8_t)(bad_seq[i] >> 8), t[7] = (u8_t)bad_seq[i];
		inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	}
	CHECK_EQ(lowers, 3);
	a.lastack = 1001;
	t[4] = 0, t[5] = 0, t[6] = 0x03, t[7] = 0xe8;                   /* 1000: acknowledged now */
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 3);
	t[7] = 0xe9;                                                    /* 1001: the first unacknowledged */
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 4);
	a.state = SYN_RCVD;
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	a.state = TIME_WAIT;
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	a.state = ESTABLISHED;
	t[3] ^= 1;                                                      /* a port of nobody's */
	inst_ip6_ptb(h, sizeof(q), 1280, 1280, NULL);
	CHECK_EQ(lowers, 4);
	CHECK_EQ(outputs, 4);
	CHECK_EQ(b.mss, 1440);                                          /* another connection: untouched */
	TCP_RMV_ACTIVE(&a);
	TCP_RMV_ACTIVE(&b);
}

/* The listen list keeps lwIP's own walk: its pcbs have no back-link to write. */
static void listen_list(void)
{
	static struct tcp_pcb_listen l[3];
	tcp_listen_pcbs.pcbs = NULL;
	for (int i = 0; i < 3; i++)
		TCP_REG(&tcp_listen_pcbs.pcbs, (struct tcp_pcb *)&l[i]);
	TCP_RMV(&tcp_listen_pcbs.pcbs, (struct tcp_pcb *)&l[1]);
	CHECK(tcp_listen_pcbs.listen_pcbs == &l[2] && l[2].next == &l[0] && l[0].next == NULL);
}

TEST_MAIN("test_tcphash: proves O(1) pcb removal (lwIP patched), the keyed four-tuple index with 10 and 100,000 pcbs, "
	  "TIME_WAIT as bounded 24-byte entries (taken from lwIP, found, dropped oldest first, ended, restarted, expired), "
	  "IPv4 identifications per destination, and a Packet Too Big lowering the MSS of the connection it "
	  "quotes only (four-tuple, state and sequence number checked), and sending again what the NIC held once "
	  "it lets go",
	  index_many(10); index_many(100000); listen_list(); time_wait_entries(); ip_ids(); ip6_labels();
	  packet_too_big())
