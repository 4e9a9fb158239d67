/* One core's lwIP instance: netif, zero-copy RX pbufs, timers; its service glue is inst_svc.c.
 * Linked once per core. */
#include <string.h>

#include "inst_priv.h"
#include "slab.h"

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/ethip6.h"
#include "lwip/memp.h"
#include "lwip/mld6.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

static struct net_inst_cfg cfg;
static struct netif nif;
/*
 * The management address (cfg.mgmt_ip) as a second netif on the same NIC and MAC: lwIP holds one
 * IPv4 address per netif, and a netif of its own gives the address its own ARP answers, subnet
 * route and gratuitous ARP with no patch to lwIP. Frames all enter through nif: ip4_input
 * accepts those to mif's address for mif; only ARP, which lwIP answers per netif, is handed to
 * mif here, by its target address (input_pbuf). Output takes the first netif whose subnet holds
 * the destination, nif first (mif is added before it, and lwIP puts the newest first), else nif
 * through its gateway: either sends on the one NIC, from the connection's own address.
 *
 * The management IPv6 address (cfg.mgmt_ip6) is a static address of mif's too (lwIP takes its
 * subnet as an on-link /64), through lwIP's duplicate address detection as any address is. ip6_input
 * accepts on nif what is sent to it for mif; nd6 answers (and defends) only the receiving netif's
 * addresses, so neighbour solicitations and advertisements whose target it is are handed to mif
 * (input_pbuf), as ARP is. mif joins the address's solicited-node group (lwIP, on its way through
 * DAD) so that ip6_input accepts the solicitations there, and nif joins it too: MLD queries reach
 * nif alone, which then reports it from its link-local address (mif has none: its own reports, at
 * the join, come from the unspecified address, as RFC 3590 allows while it has none).
 */
static struct netif mif;
static bool mif_on, mif6;              /* mif added; with the IPv6 address */
static s8_t mif6_slot = -1;            /* its index among mif's IPv6 addresses */
/* Frames this long at least may be neighbour discovery for mif (ND_TARGET_END with mif6, else
 * never): with the length a frame for the service's address pays one compare, or two. */
static uint32_t nd_min = UINT32_MAX;
static struct net_inst_stats st;
static uint16_t csum_base;              /* NETIF_CHECKSUM_* for frames nobody vouched for */

/* Zero-copy RX: a custom pbuf per frame in flight, from a fixed free list. */
#define RX_WRAPS 2048
struct rx_wrap {
	struct pbuf_custom pc;          /* first: lwIP hands back the pbuf pointer */
	void (*release)(void *frame, void *arg);
	void *frame, *arg;
	struct rx_wrap *next;
};
static struct rx_wrap *wrap_free;     /* allocated once at init, never freed */

static void rx_free(struct pbuf *p)
{
	struct rx_wrap *w = (struct rx_wrap *)p;
	w->release(w->frame, w->arg);
	w->next = wrap_free;
	wrap_free = w;
}

/* Checks lwIP skips for this frame: the NIC vouched for its TCP/UDP checksum. */
static void csum_for(unsigned flags)
{
	uint16_t f = csum_base;
	if (flags & NIC_RX_CSUM_OK)
		f &= (uint16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	NETIF_SET_CHECKSUM_CTRL(&nif, f);
	NETIF_SET_CHECKSUM_CTRL(&mif, f);       /* TCP's checks are the accepting netif's */
}

/* The netif an ARP frame is for: mif when it asks for or answers to the management address. */
static struct netif *arp_netif(const uint8_t *f)
{
	uint32_t tip;
	memcpy(&tip, f + SIZEOF_ETH_HDR + 24, 4);       /* the target protocol address */
	return cfg.mgmt_ip && tip == cfg.mgmt_ip ? &mif : &nif;
}

/* Where the ICMPv6 message of an IPv6 packet without extension headers starts, and where a
 * neighbour solicitation's or advertisement's target address ends (RFC 4861 4.3, 4.4). */
#define ND_ICMP (SIZEOF_ETH_HDR + IP6_HLEN)
#define ND_TARGET_END (ND_ICMP + 8 + 16)

/* The netif an ICMPv6 frame (ND_TARGET_END bytes at least) is for: mif when it is a neighbour
 * solicitation or advertisement whose target is the management IPv6 address. */
static struct netif *nd_netif(const uint8_t *f)
{
	const uint8_t *m = f + ND_ICMP;
	if (m[0] != ICMP6_TYPE_NS && m[0] != ICMP6_TYPE_NA)
		return &nif;
	return memcmp(m + 8, cfg.mgmt_ip6, 16) ? &nif : &mif;
}

static void input_pbuf(struct pbuf *p, uint32_t len, unsigned flags)
{
	const uint8_t *f = p->payload;
	struct netif *n = &nif;
	if (len >= SIZEOF_ETH_HDR && f[12] == 0x08 && f[13] == 0x06) {
		if (len < SIZEOF_ETH_HDR + 28) {
			st.rx_refused++;        /* lwIP's ARP reads 28 bytes without checking (net.c drops these first) */
			pbuf_free(p);
			return;
		}
		n = arp_netif(f);
	} else if (len >= nd_min && f[20] == IP6_NEXTH_ICMP6 && f[12] == 0x86 && f[13] == 0xdd) {
		n = nd_netif(f);        /* a frame of TCP or UDP, or of IPv4, is past at f[20] */
	}
	st.rx_frames++;
	st.rx_bytes += len;
	if (len >= SIZEOF_ETH_HDR && f[0] == 0x33 && f[1] == 0x33 && !inst_mcast_joined(f)) {
		st.mcast_drop++;        /* lwIP would drop it too: counted apart, the NIC's filter's leak */
		pbuf_free(p);
		return;
	}
	csum_for(flags);
	if (n->input(p, n) != ERR_OK) {
		st.rx_refused++;
		pbuf_free(p);
	}
	inst_svc_reinput(&nif);
	inst_tw_take();
	NETIF_SET_CHECKSUM_CTRL(&nif, csum_base);
	NETIF_SET_CHECKSUM_CTRL(&mif, csum_base);
}

static void inst_input(void *frame, uint32_t len, unsigned flags, void (*release)(void *, void *), void *arg)
{
	struct rx_wrap *w = wrap_free;
	if (!w || len > 0xffff) {
		st.rx_refused++;
		release(frame, arg);
		return;
	}
	wrap_free = w->next;
	w->pc.custom_free_function = rx_free;
	w->release = release;
	w->frame = frame;
	w->arg = arg;
	input_pbuf(pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &w->pc, frame, (u16_t)len), len, flags);
}

/*
 * With the NIC completing checksums, lwIP leaves TCP and UDP ones at 0; put the pseudo-header sum
 * there (not complemented, as the partial-checksum convention wants) and tell the NIC where it is.
 * lwIP builds Ethernet, IP and TCP/UDP headers in the first piece of a frame, with no IPv6
 * extension header but a fragment's; other frames (ARP, ICMP, ICMPv6, fragments) carry their own
 * checksums (an IPv6 fragment's, where a UDP checksum of 0 is not allowed: lwIP patch 0014).
 */
static bool csum_offload(struct pbuf *p, struct nic_txo *o)
{
	if (p->len < SIZEOF_ETH_HDR + IP_HLEN)
		return false;
	uint8_t *f = p->payload;
	uint16_t off = 0;
	uint32_t l4;
	u16_t sum;
	if (f[12] == 0x86 && f[13] == 0xdd) {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(f + SIZEOF_ETH_HDR);
		uint8_t nh = IP6H_NEXTH(ip6);
		off = nh == IP6_NEXTH_TCP ? 16 : nh == IP6_NEXTH_UDP ? 6 : 0;
		l4 = SIZEOF_ETH_HDR + IP6_HLEN;
		if (IP6H_V(ip6) != 6 || !off || p->len < l4 + off + 2)
			return false;
		ip6_addr_t src, dst;
		ip6_addr_copy_from_packed(src, ip6->src);
		ip6_addr_copy_from_packed(dst, ip6->dest);
		ip6_addr_clear_zone(&src);
		ip6_addr_clear_zone(&dst);
		sum = (u16_t)~ip6_chksum_pseudo_partial(p, nh, IP6H_PLEN(ip6), 0, &src, &dst);
	} else {
		struct ip_hdr *ip = (struct ip_hdr *)(f + SIZEOF_ETH_HDR);
		if (f[12] != 0x08 || f[13] != 0x00 || IPH_V(ip) != 4 || (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)))
			return false;
		uint16_t ihl = (uint16_t)(IPH_HL(ip) * 4);
		uint8_t proto = IPH_PROTO(ip);
		off = proto == IP_PROTO_TCP ? 16 : proto == IP_PROTO_UDP ? 6 : 0;
		l4 = SIZEOF_ETH_HDR + ihl;
		if (!off || p->len < l4 + off + 2 || lwip_ntohs(IPH_LEN(ip)) < ihl)
			return false;
		uint16_t l4len = (uint16_t)(lwip_ntohs(IPH_LEN(ip)) - ihl);
		ip4_addr_t src, dst;
		ip4_addr_copy(src, ip->src);
		ip4_addr_copy(dst, ip->dest);
		/* lwIP's pseudo-header sum over no payload bytes, complemented; undo the complement. */
		sum = (u16_t)~inet_chksum_pseudo_partial(p, proto, l4len, 0, &src, &dst);
	}
	SMEMCPY(f + l4 + off, &sum, 2);
	o->csum_start = (uint16_t)l4;
	o->csum_offset = off;
	return true;
}

/* Hand p to the NIC: cfg.tx's answer (-1: no room now, -2: never). In place when the NIC can read
 * its pieces (a reference is taken, freed by inst_tx_done), else copied. */
static int tx_send(struct pbuf *p, const struct nic_txo *o)
{
	static uint8_t flat[1518 + 64];
	struct nic_frag f[16];
	unsigned nf = 0;
	struct pbuf *q;
	void *ref = p;
	for (q = p; q && nf < 16; q = q->next)
		if (q->len)
			f[nf++] = (struct nic_frag){ q->payload, q->len };
	if (q) {        /* more pieces than we describe: one flat copy, which the NIC copies again */
		if (p->tot_len > sizeof(flat))
			return -2;
		pbuf_copy_partial(p, flat, p->tot_len, 0);
		f[0] = (struct nic_frag){ flat, p->tot_len };
		nf = 1;
		ref = NULL;
	}
	int r = cfg.tx(cfg.core, f, nf, o, ref);
	if (r == 1)
		pbuf_ref(p);            /* the NIC reads it in place: freed by inst_tx_done */
	if (r >= 0) {
		st.tx_frames++;
		st.tx_bytes += p->tot_len;
	}
	return r;
}

/*
 * Frames the NIC's ring had no room for. A burst (thousands of retransmissions due in one tick of
 * lwIP's timer, a crowd of connections closed at once) would otherwise lose all but the ring's few
 * hundred frames, each then waiting a whole retransmission timeout, and the next tick's burst the
 * same. They wait here in order, each holding a reference to its pbuf (lwIP does not touch a
 * segment's pbuf while someone else holds it), and go out as the ring drains (inst_poll); frames
 * sent meanwhile queue behind them. Beyond TX_BACKLOG frames, dropped and counted (tx_ring).
 */
#define TX_BACKLOG 4096
struct tx_wait {
	void *p;                        /* a pbuf, or a frame of several segments (inst_frame_of) */
	struct nic_txo o;
};
static struct tx_wait *backlog;         /* TX_BACKLOG entries, from the instance's memory */
static uint32_t bl_head, bl_len;

/* One frame to the NIC now, or to wait in the backlog behind those already there. */
err_t inst_tx_out(struct pbuf *p, const struct nic_txo *o)
{
	int r = bl_len ? -1 : tx_send(p, o);
	if (r >= 0)
		return ERR_OK;
	if (r == -2 || !backlog || bl_len == TX_BACKLOG) {
		st.tx_drop_ring++;
		return ERR_MEM;
	}
	pbuf_ref(p);
	backlog[(bl_head + bl_len++) % TX_BACKLOG] = (struct tx_wait){ p, *o };
	st.tx_waited++;
	return ERR_OK;
}

/* A frame of several segments to the NIC: cfg.tx's answer. */
static int tx_batch(void *ref)
{
	const struct inst_frame *fr = inst_frame_of(ref);
	int r = cfg.tx(cfg.core, fr->f, fr->nf, &fr->o, ref);
	if (r >= 0) {
		st.tx_frames += fr->segs;
		st.tx_bytes += fr->wire;
	}
	if (r == 0)
		inst_tso_done(ref);     /* copied after all: nothing to wait for */
	return r;
}

void inst_tx_batch(void *ref)
{
	const struct inst_frame *fr = inst_frame_of(ref);
	int r = bl_len ? -1 : tx_batch(ref);
	if (r >= 0)
		return;
	if (r == -2 || !backlog || bl_len == TX_BACKLOG) {
		st.tx_drop_ring += fr->segs;
		inst_tso_done(ref);
		return;
	}
	backlog[(bl_head + bl_len++) % TX_BACKLOG] = (struct tx_wait){ ref, fr->o };
	st.tx_waited += fr->segs;
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
	(void)n;
	struct nic_txo o = { 0 };
	if (cfg.csum_offload)
		csum_offload(p, &o);
	if (inst_tso_add(p, &o))        /* held, to leave with the next segments of its connection */
		return ERR_OK;
	return inst_tx_out(p, &o);
}

/* Send what waits, in order, while the ring takes it (a frame that can never go is dropped). */
static void tx_flush(void)
{
	while (bl_len) {
		struct tx_wait *w = &backlog[bl_head];
		bool several = (uintptr_t)w->p & 1;
		int r = several ? tx_batch(w->p) : tx_send(w->p, &w->o);
		if (r == -1)
			return;
		if (r == -2) {
			st.tx_drop_ring += several ? inst_frame_of(w->p)->segs : 1;
			if (several)
				inst_tso_done(w->p);
		}
		if (!several)
			pbuf_free(w->p);        /* the backlog's reference */
		bl_head = (bl_head + 1) % TX_BACKLOG;
		bl_len--;
	}
}

static void inst_tx_done(void *ref)
{
	if ((uintptr_t)ref & 1)
		inst_tso_done(ref);     /* a frame of several segments */
	else
		pbuf_free(ref);
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 'e';
	n->name[1] = 'n';
	n->mtu = cfg.mtu ? cfg.mtu : 1500;
	n->hwaddr_len = 6;
	for (int i = 0; i < 6; i++)
		n->hwaddr[i] = cfg.mac[i];
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP |
		   NETIF_FLAG_MLD6;
	n->output = etharp_output;
	n->output_ip6 = ethip6_output;
	n->linkoutput = linkoutput;
	csum_base = NETIF_CHECKSUM_ENABLE_ALL;
	if (cfg.csum_offload)
		csum_base &= (uint16_t)~(NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP);
	NETIF_SET_CHECKSUM_CTRL(n, csum_base);
	return ERR_OK;
}

/* ---- memory: lwIP's mem_clib_* (lwipopts.h), this instance's size classes ---- */

static struct slab slab;

static void *grow(void *ctx, size_t bytes)
{
	(void)ctx;
	return cfg.mem_grow(cfg.core, bytes);
}

void *inst_mem_alloc(size_t size)
{
	return slab_alloc(&slab, size);
}

void inst_mem_free(void *p)
{
	slab_free(&slab, p);
}

void *inst_mem_calloc(size_t n, size_t size)
{
	if (size && n > SLAB_MAX / size)
		return NULL;
	void *p = slab_alloc(&slab, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

/* The connection index's buckets: one block straight from the arena, outside the classes. */
static uint64_t index_bytes;

static void *slab_take(size_t bytes)
{
	return slab_alloc(&slab, bytes);
}

static void *index_alloc(size_t bytes)
{
	bytes = (bytes + 63) & ~(size_t)63;
	void *p = index_bytes + bytes <= slab.budget / 8 ? cfg.mem_grow(cfg.core, bytes) : NULL;
	if (p)
		index_bytes += bytes;
	return p;
}

/* Out-of-order limits (lwipopts.h): per connection, and nothing while memory runs low. Counted
 * in requested bytes, which the fuzzer's own allocator keeps too. */
static bool heap_low(void)
{
	return lwip_stats.mem.used > cfg.mem_budget / 4 * 3;
}

unsigned inst_ooseq_bytes(void)
{
	return heap_low() ? 0 : TCP_OOSEQ_MAX_BYTES;
}

unsigned short inst_ooseq_pbufs(void)
{
	return heap_low() ? 0 : TCP_OOSEQ_MAX_PBUFS;
}

/* The names of lwIP's pools, in memp_t order. */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};
_Static_assert(sizeof(pool_names) / sizeof(pool_names[0]) <= NET_INST_POOLS, "NET_INST_POOLS holds lwIP's pools");

static void inst_mem(struct net_inst_mem *out)
{
	*out = (struct net_inst_mem){
		.budget = slab.budget, .taken = slab.taken, .in_use = slab.in_use, .high = slab.high,
		.fails = slab.fails, .requested = lwip_stats.mem.used,
	};
	for (int i = 0; i < SLAB_CLASSES; i++)
		out->free_listed += (uint64_t)slab.cls[i].nfree * slab.cls[i].size;
	for (unsigned i = 0; i < MEMP_MAX; i++) {
		out->pool[i].name = pool_names[i];
		out->pool[i].size = memp_pools[i]->size;
		out->pool[i].used = lwip_stats.memp[i]->used;
		out->pool[i].high = lwip_stats.memp[i]->max;
	}
	out->npools = MEMP_MAX;
	struct inst_hash_stats h;
	inst_hash_stats(&h);
	out->index_bytes = index_bytes;
	out->index_entries = h.entries;
	out->time_wait = h.time_wait;
	out->tw_cap = h.tw_cap;
	out->tw_dropped = h.tw_dropped;
	out->lookups = h.lookups;
	out->probes = h.probes;
	inst_svc_mem(out);
}

/* ---- entry points ---- */

/* mif, up with the management addresses: IPv4 (or none: 0.0.0.0, which lwIP neither routes to
 * nor answers ARP for), and IPv6 (mif6), tentative until lwIP's duplicate address detection
 * passes (a second or two), else no IPv6 and no MLD; no gateway (a scraper off its subnet is
 * reached through nif's); no link-local address, so no router solicitations either (lwIP sends
 * them only from a netif's first address). Coming up announces the IPv4 address (gratuitous ARP). */
static err_t mgmt_add(void)
{
	ip4_addr_t ip, mask;
	ip4_addr_set_u32(&ip, cfg.mgmt_ip);
	ip4_addr_set_u32(&mask, cfg.mgmt_mask);
	if (!netif_add(&mif, &ip, &mask, IP4_ADDR_ANY4, NULL, nif_init, ethernet_input))
		return ERR_IF;
	mif.name[0] = 'm';
	mif.name[1] = 'g';
	if (mif6) {
		ip6_addr_t a;
		memcpy(a.addr, cfg.mgmt_ip6, 16);
		ip6_addr_clear_zone(&a);
		inst_mcast_start(&mif);         /* its solicited-node group into the instance's list */
		if (netif_add_ip6_address(&mif, &a, &mif6_slot) != ERR_OK)
			return ERR_IF;
	} else {
		mif.flags &= (u8_t)~NETIF_FLAG_MLD6;
	}
	netif_set_up(&mif);
	mif_on = true;
	return ERR_OK;
}

/* nif joins the management IPv6 address's solicited-node group too (see mif). */
static err_t mgmt_join(void)
{
	ip6_addr_t sn;
	ip6_addr_set_solicitednode(&sn, netif_ip6_addr(&mif, mif6_slot)->addr[3]);
	ip6_addr_assign_zone(&sn, IP6_MULTICAST, &nif);
	return mld6_joingroup_netif(&nif, &sn);
}

static int inst_init(const struct net_inst_cfg *c)
{
	cfg = *c;
	if (!cfg.tx || !cfg.mem_grow || cfg.mem_budget < NET_INST_MIN_MEM || inst_svc_check(cfg.svc) != ERR_OK ||
	    inst_svc_check(cfg.mgmt) != ERR_OK)
		return ERR_ARG;
	slab_init(&slab, cfg.mem_budget, NET_INST_CHUNK, grow, NULL);
	backlog = slab_alloc(&slab, TX_BACKLOG * sizeof(*backlog));
	bl_head = bl_len = 0;
	if (!backlog || inst_tso_init(cfg.tso_max, slab_take) != ERR_OK)
		return ERR_MEM;
	for (int i = 0; i < RX_WRAPS; i += 256) {
		struct rx_wrap *w = slab_alloc(&slab, 256 * sizeof(*w));
		if (!w)
			return ERR_MEM;
		for (int j = 0; j < 256; j++) {
			w[j].next = wrap_free;
			wrap_free = &w[j];
		}
	}
	lwip_init();
	ip4_addr_t ip, mask, gw;
	ip4_addr_set_u32(&ip, cfg.dhcp ? 0 : cfg.ip);
	ip4_addr_set_u32(&mask, cfg.dhcp ? 0 : cfg.mask);
	ip4_addr_set_u32(&gw, cfg.dhcp ? 0 : cfg.gw);
	static const uint8_t none[16];
	mif6 = !cfg.no_ip6 && memcmp(cfg.mgmt_ip6, none, 16);
	nd_min = mif6 ? ND_TARGET_END : UINT32_MAX;
	if ((cfg.mgmt_ip || mif6) && mgmt_add() != ERR_OK)
		return ERR_IF;
	if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ethernet_input))
		return ERR_IF;
	netif_set_default(&nif);
	if (!cfg.no_ip6) {
		inst_mcast_start(&nif);         /* before the first address joins its group */
		netif_create_ip6_linklocal_address(&nif, 1);
		nif.ip6_autoconfig_enabled = 1;        /* SLAAC from router advertisements */
	}
	netif_set_up(&nif);
	if (mif6 && mgmt_join() != ERR_OK)
		return ERR_MEM;
	err_t e6 = inst_dhcp6_start(&nif, cfg.mac, cfg.no_ip6 ? NET_DHCP6_OFF : cfg.dhcp6);
	if (e6 != ERR_OK)
		return e6;
	if (cfg.dhcp) {
		err_t e = dhcp_start(&nif);
		if (e != ERR_OK)
			return e;
	}
	inst_svc_prof(cfg.prof_on, cfg.prof_svc, cfg.prof_svc_end);
	err_t e = inst_svc_start(cfg.svc, cfg.mgmt, cfg.mgmt_ip, mif6 ? cfg.mgmt_ip6 : none, &st, cfg.max_conns,
				 cfg.mem_budget, cfg.send_budget);
	if (e != ERR_OK)
		return e;
	struct net_inst_mem m = { 0 };
	inst_svc_mem(&m);
	/* A bucket per connection the cap allows (rounded up to a power of two), within a sixteenth
	 * of the budget; in the rest of an eighth, room for twice as many in TIME_WAIT (a client
	 * that closes and comes back keeps both), 256 at least. */
	uint64_t conns = m.max_conns ? m.max_conns : cfg.max_conns, most = 1024;
	while (most * 2 * sizeof(void *) <= cfg.mem_budget / 16)
		most *= 2;
	uint64_t n = conns < most ? conns : most, buckets = 1024;
	while (buckets < n)
		buckets *= 2;
	uint64_t room = cfg.mem_budget / 8 - buckets * sizeof(void *), tw = 256;
	while (tw < 2 * n && tw * 2 * (sizeof(struct inst_tw) + sizeof(uint32_t)) <= room)
		tw *= 2;
	return inst_hash_init((uint32_t)n, (uint32_t)tw, index_alloc);
}

/* The end of a loop iteration: what waits for the ring first, then the segments held to leave
 * as one frame (behind them). */
static void inst_tx_end(void)
{
	tx_flush();
	inst_tso_flush();
}

static void inst_poll(void)
{
	tx_flush();
	sys_check_timeouts();
	inst_dhcp6_poll();
	inst_tw_take();
	inst_ptb_poll();
}

static void inst_input_copy(const void *frame, uint32_t len, unsigned flags)
{
	struct pbuf *p = len <= 0xffff ? pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM) : NULL;
	if (!p || pbuf_take(p, frame, (u16_t)len) != ERR_OK) {
		st.rx_refused++;
		if (p)
			pbuf_free(p);
		return;
	}
	input_pbuf(p, len, flags);
}

static uint32_t inst_addr(uint32_t *mask, uint32_t *gw)
{
	if (mask)
		*mask = ip4_addr_get_u32(netif_ip4_netmask(&nif));
	if (gw)
		*gw = ip4_addr_get_u32(netif_ip4_gw(&nif));
	return ip4_addr_get_u32(netif_ip4_addr(&nif));
}

static unsigned inst_addr6(uint8_t (*out)[16], unsigned max)
{
	unsigned n = 0;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && n < max; i++)
		if (ip6_addr_ispreferred(netif_ip6_addr_state(&nif, i)))
			memcpy(out[n++], netif_ip6_addr(&nif, i)->addr, 16);
	return n;
}

static void inst_set_addr(uint32_t ip, uint32_t mask, uint32_t gw)
{
	ip4_addr_t a, m, g;
	ip4_addr_set_u32(&a, ip);
	ip4_addr_set_u32(&m, mask);
	ip4_addr_set_u32(&g, gw);
	netif_set_addr(&nif, &a, &m, &g);
}

static void inst_stats(struct net_inst_stats *out)
{
	*out = st;
	out->ip_drop = lwip_stats.ip.drop;
	out->arp_drop = lwip_stats.etharp.drop;
	out->mem_err = lwip_stats.mem.err;
	out->ip6_drop = lwip_stats.ip6.drop;
	/* nd6.c counts a message refused for want of a router or neighbour entry as memerr only. */
	out->nd_drop = lwip_stats.nd6.drop + lwip_stats.nd6.memerr + lwip_stats.mld6.drop;
	out->csum_err = lwip_stats.ip.chkerr + lwip_stats.tcp.chkerr + lwip_stats.udp.chkerr + lwip_stats.icmp.chkerr +
			lwip_stats.icmp6.chkerr;
	/* ICMP: dropped, too short, refused (echo to a broadcast), and echo replies (we never ping). */
	out->l4_drop = lwip_stats.tcp.drop + lwip_stats.udp.drop + lwip_stats.icmp.drop + lwip_stats.icmp.lenerr +
		       lwip_stats.icmp.err + lwip_stats.mib2.icmpinechoreps + lwip_stats.icmp6.drop;
	/* UDP that neither reached a socket nor was counted dropped: broadcasts nobody listens to. */
	out->l4_drop += (uint32_t)(lwip_stats.udp.recv - lwip_stats.udp.drop - lwip_stats.mib2.udpindatagrams);
	/* Fragments refused (overlap, too many, no memory) and datagrams given up (timed out, evicted). */
	out->reasm_drop = lwip_stats.ip_frag.drop + lwip_stats.ip_frag.err + lwip_stats.ip_frag.memerr +
			  lwip_stats.mib2.ipreasmfails + lwip_stats.ip6_frag.drop + lwip_stats.ip6_frag.err + lwip_stats.ip6_frag.memerr;
	out->icmp_echo = lwip_stats.mib2.icmpoutechoreps;
#if LWIP_TCP_SACK_IN
	out->sack_recoveries = lwip_stats.tcp_sack.recovery;    /* lwIP patch 0009 */
	out->sack_rexmits = lwip_stats.tcp_sack.rexmit;
	out->sack_bad = lwip_stats.tcp_sack.bad;
#endif
	out->tcp_rto = lwip_stats.tcp_rto;                      /* lwIP patch 0012 */
	inst_dhcp6_stats(out);
	inst_svc_stats(out);
}

static void inst_link(bool up)
{
	struct netif *mg = mif_on ? &mif : NULL;
	if (up) {
		netif_set_link_up(&nif);
		if (mg)
			netif_set_link_up(mg);
		inst_dhcp6_link_up();
	} else {
		netif_set_link_down(&nif);
		if (mg)
			netif_set_link_down(mg);
	}
}

static int inst_mgmt6(void)
{
	if (!mif6)
		return -1;
	u8_t s = netif_ip6_addr_state(&mif, mif6_slot);
	return ip6_addr_isvalid(s) ? 1 : ip6_addr_istentative(s) ? 0 : -1;
}

/* The only symbol the kernel looks up; renamed per core to lwip<N>_net_inst. */
const struct net_inst net_inst = {
	.init = inst_init,
	.input = inst_input,
	.input_copy = inst_input_copy,
	.tx_done = inst_tx_done,
	.poll = inst_poll,
	.tx_end = inst_tx_end,
	.addr = inst_addr,
	.addr6 = inst_addr6,
	.set_addr = inst_set_addr,
	.dhcp6 = inst_dhcp6_lease,
	.set_addr6 = inst_dhcp6_take,
	.stats = inst_stats,
	.mem = inst_mem,
	.mcast = inst_mcast_list,
	.link = inst_link,
	.mgmt6 = inst_mgmt6,
};
