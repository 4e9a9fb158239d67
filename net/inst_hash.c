/* One instance's index of its TCP connections: a keyed hash of the four-tuple over every pcb in
 * tcp_active_pcbs and tcp_tw_pcbs, kept by lwIP's hooks (net/port/patches/0002), so tcp_input
 * finds a segment's pcb in O(1) however many connections the core holds; and the connections in
 * TIME_WAIT, each a small entry instead of a whole pcb. Linked once per core. */
#include <string.h>

#include "inst_priv.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

static struct tcp_pcb **table;          /* NULL until inst_hash_init: nothing indexed */
static uint32_t mask;
static uint64_t key0, key1;             /* per boot: the buckets cannot be aimed at from outside */
static struct inst_hash_stats hs;

/*
 * TIME_WAIT (2 MSL after this side closed first) as small entries: a ring in the order they began,
 * which is the order they end, since all last the same; and a hash of them. An entry restarted (a
 * FIN again) or ended early (a new SYN) is unhooked from its bucket and left dead in the ring until
 * the head passes it. When the ring is full the oldest ends early (counted in tw_dropped), as
 * Linux does past tcp_max_tw_buckets: the number is bounded, the memory fixed at boot.
 */
static struct inst_tw *tw;              /* tw_cap entries */
static uint32_t *tw_bucket;             /* entry index + 1 of each bucket's first; 0: none */
static uint32_t tw_cap, tw_mask, tw_head, tw_len;       /* ring: [tw_head, tw_head + tw_len) */

/*
 * The bucket of a remote address and port and a local port (the local address is the same for
 * every connection of an instance). A multiply-xorshift with a secret key: cheap per segment,
 * and a peer that does not know the key cannot choose tuples that pile into one bucket.
 */
static uint64_t keyed_mix(uint64_t x, uint64_t k0, uint64_t k1)
{
	x ^= k0;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= k1;
	return x ^ x >> 32;
}

static uint32_t bucket(const struct inst_ip *rip, uint16_t rport, uint16_t lport)
{
	uint64_t x = (uint64_t)rip->w[3] << 32 | (uint32_t)rport << 16 | lport;
	if (rip->w[0] | rip->w[1] | (rip->w[2] ^ PP_HTONL(0xffffu)))       /* IPv6: the rest of it first */
		x ^= keyed_mix(keyed_mix((uint64_t)rip->w[0] << 32 | rip->w[1], key1, key0) ^ rip->w[2], key1, key0);
	return (uint32_t)keyed_mix(x, key0, key1) & mask;
}

static uint32_t bucket_of(const struct tcp_pcb *pcb)
{
	struct inst_ip r = inst_ip_of(&pcb->remote_ip);
	return bucket(&r, pcb->remote_port, pcb->local_port);
}

int inst_hash_init(uint32_t conns, uint32_t time_wait, void *(*alloc)(size_t bytes))
{
	uint32_t n = 1024;
	while (n < conns && n < (1u << 24))
		n <<= 1;
	table = alloc((size_t)n * sizeof(*table));
	if (!table)
		return ERR_MEM;
	memset(table, 0, (size_t)n * sizeof(*table));
	mask = n - 1;
	key0 = (uint64_t)lwip_port_rand() << 32 | lwip_port_rand();
	key1 = ((uint64_t)lwip_port_rand() << 32 | lwip_port_rand()) | 1;
	hs = (struct inst_hash_stats){ .buckets = n };
	uint32_t t = 256;
	while (t < time_wait && t < (1u << 24))
		t <<= 1;
	tw = alloc((size_t)t * sizeof(*tw));
	tw_bucket = alloc((size_t)t * sizeof(*tw_bucket));
	if (!tw || !tw_bucket)
		return ERR_MEM;
	memset(tw_bucket, 0, (size_t)t * sizeof(*tw_bucket));
	tw_cap = t;
	tw_mask = t - 1;
	tw_head = tw_len = 0;
	hs.tw_cap = t;
	return ERR_OK;
}

void inst_tcp_linked(struct tcp_pcb **pcbs, struct tcp_pcb *pcb)
{
	if (!table || (pcbs != &tcp_active_pcbs && pcbs != &tcp_tw_pcbs))
		return;
	struct tcp_pcb **b = &table[bucket_of(pcb)];
	pcb->hash_next = *b;
	*b = pcb;
	hs.entries++;
}

void inst_tcp_unlinked(struct tcp_pcb *pcb)
{
	if (!table)
		return;
	for (struct tcp_pcb **b = &table[bucket_of(pcb)]; *b; b = &(*b)->hash_next)
		if (*b == pcb) {
			*b = pcb->hash_next;
			pcb->hash_next = NULL;
			hs.entries--;
			return;
		}
	/* not indexed: a pcb leaving the bound list */
}

struct tcp_pcb *inst_tcp_lookup(u16_t rport, u16_t lport, const ip_addr_t *rip, const ip_addr_t *lip)
{
	if (!table)
		return NULL;
	hs.lookups++;
	struct inst_ip r = inst_ip_of(rip);
	for (struct tcp_pcb *p = table[bucket(&r, rport, lport)]; p; p = p->hash_next) {
		hs.probes++;
		if (p->remote_port == rport && p->local_port == lport && ip_addr_cmp(&p->remote_ip, rip) &&
		    ip_addr_cmp(&p->local_ip, lip))
			return p;
	}
	return NULL;
}

/* ---- TIME_WAIT entries ---- */

static uint32_t tw_bucket_of(const struct inst_ip *rip, uint16_t rport, uint16_t lport)
{
	return bucket(rip, rport, lport) & tw_mask;
}

/* Take e (live) out of its bucket: it stays in the ring, dead, until the head passes it. */
static void tw_unhook(struct inst_tw *e)
{
	uint32_t i = (uint32_t)(e - tw) + 1;
	for (uint32_t *l = &tw_bucket[tw_bucket_of(&e->rip, e->rport, e->lport)]; *l; l = &tw[*l - 1].next)
		if (*l == i) {
			*l = e->next;
			e->lport = 0;
			hs.time_wait--;
			return;
		}
}

/* Drop the oldest entry of the ring (dead or alive). */
static void tw_pop(void)
{
	struct inst_tw *e = &tw[tw_head];
	if (e->lport)
		tw_unhook(e);
	tw_head = (tw_head + 1) & tw_mask;
	tw_len--;
}

static void tw_add(const struct inst_ip *rip, uint16_t rport, uint16_t lport, uint32_t snd_nxt, uint32_t rcv_nxt)
{
	if (tw_len == tw_cap) {
		if (tw[tw_head].lport)
			hs.tw_dropped++;
		tw_pop();
	}
	uint32_t i = (tw_head + tw_len) & tw_mask;
	tw_len++;
	struct inst_tw *e = &tw[i];
	*e = (struct inst_tw){ .rip = *rip, .rport = rport, .lport = lport, .snd_nxt = snd_nxt, .rcv_nxt = rcv_nxt,
			       .until = sys_now() + 2 * TCP_MSL };
	uint32_t *b = &tw_bucket[tw_bucket_of(rip, rport, lport)];
	e->next = *b;
	*b = i + 1;
	hs.time_wait++;
}

void inst_tw_take(void)
{
	struct tcp_pcb *pcb;
	while (tw && (pcb = tcp_tw_pcbs) != NULL) {
		struct inst_ip r = inst_ip_of(&pcb->remote_ip);
		tw_add(&r, pcb->remote_port, pcb->local_port, pcb->snd_nxt, pcb->rcv_nxt);
		hs.tw_entered++;
		tcp_pcb_remove(&tcp_tw_pcbs, pcb);
		tcp_free(pcb);
	}
	uint32_t now = sys_now();
	while (tw_len && (!tw[tw_head].lport || (int32_t)(now - tw[tw_head].until) >= 0))
		tw_pop();
}

struct inst_tw *inst_tw_find(const struct inst_ip *rip, uint16_t rport, uint16_t lport)
{
	if (!tw)
		return NULL;
	for (uint32_t i = tw_bucket[tw_bucket_of(rip, rport, lport)]; i; i = tw[i - 1].next) {
		struct inst_tw *e = &tw[i - 1];
		if (e->rport == rport && e->lport == lport && inst_ip_eq(&e->rip, rip))
			return e;
	}
	return NULL;
}

void inst_tw_end(struct inst_tw *e)
{
	tw_unhook(e);
}

void inst_tw_restart(struct inst_tw *e)
{
	struct inst_tw c = *e;
	tw_unhook(e);
	tw_add(&c.rip, c.rport, c.lport, c.snd_nxt, c.rcv_nxt);
}
void inst_hash_stats(struct inst_hash_stats *out)
{
	*out = hs;
}

/* LWIP_HOOK_TCP_ISN (lwipopts.h): the kernel's RFC 6528 function over the tuple of either family. */
u32_t inst_tcp_isn(const ip_addr_t *lip, u16_t lport, const ip_addr_t *rip, u16_t rport)
{
	if (IP_IS_V6(rip))
		return lwip_port_isn((const u8_t *)ip_2_ip6(lip)->addr, lport, (const u8_t *)ip_2_ip6(rip)->addr, rport, 16);
	return lwip_port_isn((const u8_t *)&ip_2_ip4(lip)->addr, lport, (const u8_t *)&ip_2_ip4(rip)->addr, rport, 4);
}

/*
 * The identification of the IPv4 datagrams this instance sends (RFC 7739 5.3): a counter per
 * bucket of destinations, each starting anywhere, plus an offset per destination, both from a
 * keyed hash. A peer sees its own datagrams numbered in turn (what reassembly needs), and nothing
 * of how much the core sends to others, or which core it is.
 */
#define ID_BUCKETS 1024
static uint16_t id_next[ID_BUCKETS];
static uint64_t id_key0, id_key1;

static void id_keys(void)
{
	if (!id_key1) {                 /* at the first datagram: lwIP sends before inst_hash_init */
		id_key0 = (uint64_t)lwip_port_rand() << 32 | lwip_port_rand();
		id_key1 = ((uint64_t)lwip_port_rand() << 32 | lwip_port_rand()) | 1;
		for (int i = 0; i < ID_BUCKETS; i++)
			id_next[i] = (uint16_t)lwip_port_rand();
	}
}

uint16_t inst_ip4_id(uint32_t dst)
{
	id_keys();
	uint64_t x = keyed_mix((uint64_t)dst << 32 | dst, id_key0, id_key1);
	return (uint16_t)((x >> 16) + id_next[x & (ID_BUCKETS - 1)]++);
}

static uint64_t ip6_mix(const ip6_addr_t *a, uint64_t x)
{
	x = keyed_mix(x ^ ((uint64_t)a->addr[0] << 32 | a->addr[1]), id_key0, id_key1);
	return keyed_mix(x ^ ((uint64_t)a->addr[2] << 32 | a->addr[3]), id_key0, id_key1);
}

/* IPv6 fragment identification (patch 0010): 32 bits, as IPv4's per destination bucket. */
u32_t inst_ip6_frag_id(const ip6_addr_t *dst)
{
	id_keys();
	uint64_t x = ip6_mix(dst, 0);
	return (u32_t)(x >> 32) + id_next[x & (ID_BUCKETS - 1)]++;
}

/*
 * A Packet Too Big (lwIP patch 0018's hook, for each one): the TCP connection of ours that the
 * quoted segment belongs to takes segments of at most pmtu bytes from now on (tcp_mss_lower: its
 * MSS falls to pmtu less the IPv6 and TCP headers; lwIP sends no options in data segments here,
 * neither timestamps nor SACK blocks), what it had queued included, and what it had in flight
 * larger than that, which the router dropped, is sent again at once, split. Nothing else of the
 * quote is trusted: the connection must exist, found by its four-tuple as any segment's, in a
 * state that sends data, and the quoted sequence number must be one it has queued and not had
 * acknowledged (RFC 5927 section 4.1: a blind attacker must guess it). A message naming less than
 * IPv6's minimum MTU changes no connection (as Linux's tcp_v6_err); lwIP keeps the estimate at
 * 1280 then (patch 0011), which the connections to that destination follow at their next output.
 *
 * The segments in flight are usually still the NIC's when their Packet Too Big is taken: sent in
 * place, and the router's answer comes back within the same loop, before the ring is reaped.
 * Those the NIC held are sent again from the loop once it has let them go (inst_ptb_poll), as
 * Linux defers the retransmission of a packet still in the host's queues to its release: a few
 * connections at a time, each for at most PTB_WAIT_MS; the retransmission timer does the rest.
 */
#define PTB_PENDING 8
#define PTB_WAIT_MS 500
static struct ptb_wait {
	ip_addr_t lip, rip;
	u16_t lport, rport;
	u32_t until;                    /* sys_now() when it is left to the timer */
} ptb_wait[PTB_PENDING];
static unsigned ptb_nwait;

static void ptb_resend(struct ptb_wait *w)
{
	struct tcp_pcb *pcb = inst_tcp_lookup(w->rport, w->lport, &w->rip, &w->lip);
	if (pcb && pcb->state >= ESTABLISHED && pcb->state <= LAST_ACK && tcp_mss_lower(pcb, pcb->mss, 1) &&
	    (s32_t)(w->until - sys_now()) > 0)
		return;                 /* the NIC still holds some: the next loop */
	if (pcb)
		tcp_output(pcb);
	*w = ptb_wait[--ptb_nwait];
}

void inst_ptb_poll(void)
{
	for (unsigned i = ptb_nwait; i-- > 0;)
		ptb_resend(&ptb_wait[i]);
}

void inst_ip6_ptb(const struct ip6_hdr *q, u16_t len, u32_t mtu, u16_t pmtu, struct netif *inp)
{
	if (len < IP6_HLEN + 8 || IP6H_NEXTH(q) != IP6_NEXTH_TCP || mtu < IP6_MIN_MTU_LENGTH ||
	    pmtu < IP6_MIN_MTU_LENGTH)
		return;
	const u8_t *t = (const u8_t *)q + IP6_HLEN;
	ip_addr_t lip, rip;
	ip_addr_copy_from_ip6_packed(lip, q->src);      /* we sent it: ours first */
	ip_addr_copy_from_ip6_packed(rip, q->dest);
	ip6_addr_assign_zone(ip_2_ip6(&lip), IP6_UNKNOWN, inp);
	ip6_addr_assign_zone(ip_2_ip6(&rip), IP6_UNKNOWN, inp);
	LWIP_UNUSED_ARG(inp);
	u16_t lport = (u16_t)(t[0] << 8 | t[1]), rport = (u16_t)(t[2] << 8 | t[3]);
	struct tcp_pcb *pcb = inst_tcp_lookup(rport, lport, &rip, &lip);
	u32_t seq = (u32_t)t[4] << 24 | (u32_t)t[5] << 16 | (u32_t)t[6] << 8 | t[7];
	if (!pcb || pcb->state < ESTABLISHED || pcb->state > LAST_ACK ||
	    seq - pcb->lastack >= pcb->snd_lbb - pcb->lastack)
		return;
	if (tcp_mss_lower(pcb, (u16_t)(pmtu - IP6_HLEN - TCP_HLEN), 1) && ptb_nwait < PTB_PENDING) {
		unsigned i = 0;
		while (i < ptb_nwait && !(ptb_wait[i].lport == lport && ptb_wait[i].rport == rport &&
					  ip_addr_cmp(&ptb_wait[i].rip, &rip)))
			i++;
		if (i == ptb_nwait)
			ptb_wait[ptb_nwait++] = (struct ptb_wait){ lip, rip, lport, rport, sys_now() + PTB_WAIT_MS };
	}
	tcp_output(pcb);
}

/*
 * The flow label of an IPv6 packet (RFC 6437 section 3): a keyed hash of its addresses, next
 * header and, for TCP and UDP right after the header, its ports; the same for every packet of a
 * flow, unguessable from outside, never 0 (0: no label).
 */
u32_t inst_ip6_flowlabel(const ip6_addr_t *src, const ip6_addr_t *dst, u8_t nexth, const struct pbuf *p)
{
	id_keys();
	uint64_t x = nexth;
	if ((nexth == IP6_NEXTH_TCP || nexth == IP6_NEXTH_UDP) && p->len >= IP6_HLEN + 4) {
		const u8_t *l4 = (const u8_t *)p->payload + IP6_HLEN;
		x |= (uint64_t)l4[0] << 40 | (uint64_t)l4[1] << 32 | (uint64_t)l4[2] << 24 | (uint64_t)l4[3] << 16;
	}
	if (src)
		x = ip6_mix(src, x);
	x = ip6_mix(dst, x) >> 40 & 0xfffff;
	return x ? (u32_t)x : 1;
}
