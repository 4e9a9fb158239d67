/* Per-core network loop: NIC queue (drivers/nic.h) -> this core's lwIP instance -> batched TX, plus
 * the frames that must cross cores (steering, ARP, DHCP, fragments, ICMP errors) over SPSC rings. */
#include <string.h>

#include "kernel.h"
#include "net.h"
#include "inst.h"
#include "metrics.h"
#include "service.h"
#include "spsc.h"
#include "flow.h"
#include "../drivers/nic.h"

#define XRING_SMALL 16          /* ARP and DHCP between two cores that both own a queue */
#define XRING_BIG 256           /* software steering and forwarded TX */
#define XF_TX 0x100             /* ring slot flag: a frame for the consumer to transmit */
#define FRAG_TABLE 64           /* datagrams in reassembly whose core is known, per queue owner */
#define FRAG_HOLD 16            /* later fragments waiting for their first, per queue owner */
#define FRAG_TTL_MS 2000        /* how long either is remembered */
#define SLOW_POLL_MS 100        /* core 0: the NIC's slow path */

/*
 * Who does what. Core q < npairs owns NIC queue pair q. One indirection table, core_of, maps a
 * flow's hash bucket to the core that serves it; the NIC's RSS table sends bucket i to the queue
 * of core_of[i] (its owner, or with fewer queues than cores the owner that steers for it), so
 * with RSS and a queue per core a flow arrives where it is served. Otherwise (fewer queue pairs,
 * EC2 A1: 2 queues for 16 vCPUs; or a NIC without RSS) each owner computes the same Toeplitz hash
 * and passes frames whose flow belongs to another core over a single-producer ring. Fragments and
 * ICMP errors, which the NIC cannot place by flow, are steered the same way in every case. A
 * core without a queue hands its frames to transmit to the owner of queue (core % npairs). ARP
 * goes to every core (answered by the one that received it), and so do IPv6 neighbour and router
 * discovery and MLD reports (flow.c leaves what a stack answers to the receiving core); DHCP and
 * DHCPv6 replies go to core 0. An IPv6 frame whose extension headers flow.c cannot walk is dropped
 * here and counted, before any stack.
 */
struct net_core {
	const struct net_inst *inst;
	struct prof *prof;              /* this core's loop profile (`prof`, kernel/prof.h) */
	int32_t queue;                  /* NIC queue pair this core owns, -1 if none */
	uint32_t tx_owner;              /* the core whose queue sends our frames (ourselves if we own one) */
	volatile uint32_t up;           /* instance ready: published with release, read with acquire */
	uint32_t lease_seen;            /* lease.seq this core applied */
	bool addr_announced;            /* core 0: `pollux: ip=` printed for lease_seen */
	bool mgmt_announced;            /* core 0: `pollux: mgmt=` printed */
	volatile int32_t mgmt6_state;   /* this core's instance's mgmt6(): 1 in use, 0 not yet, -1 never */
	bool mgmt6_announced;           /* core 0: `pollux: mgmt6=` (or why not) printed */
	volatile uint32_t ip6_sig;      /* a digest of the IPv6 addresses this core's instance uses */
	uint32_t ip6_printed;           /* core 0: the digest whose `pollux: ip6=` lines were printed */
	uint32_t lease6_seen;           /* lease6.seq this core applied; core 0: its instance's count */
	uint64_t next_timers, next_slow;
	uint32_t mcast_gen;             /* core 0: the instance's multicast list last given the NIC */
	uint64_t steered;               /* frames passed to the core owning their flow */
	uint64_t forwarded;             /* frames passed to tx_owner to send */
	uint64_t xring_drops;           /* frames for another core refused (its ring full) */
	uint64_t fwd_waits;             /* forwarded frames kept in the ring because our TX was full */
	uint64_t fwd_drops;             /* forwarded frames that cannot be sent (too big) */
	uint64_t frag_drops;            /* later fragments whose first never came */
	uint64_t not_up;                /* frames for a core not yet up, handled here instead */
	uint64_t runts;                 /* ARP frames too short to hold an ARP packet */
	uint64_t bad_ext;               /* IPv6 frames whose extension headers cannot be walked (FLOW_BAD) */
	struct spsc *in;                /* in[src]: frames other cores send to this core */
	/* Fragments, owners only: where each datagram's first fragment went, and later ones waiting. */
	struct { uint32_t key[FLOW_FRAG_WORDS]; uint32_t core; uint64_t until; } frag[FRAG_TABLE];
	uint32_t frag_next;
	struct { uint32_t key[FLOW_FRAG_WORDS]; uint32_t len, flags; uint64_t until; uint8_t *data; } hold[FRAG_HOLD];
} __attribute__((aligned(CACHELINE)));

static struct net_core ncores[POLLUX_MAX_CORES];
static uint32_t nnet;                   /* cores taking part */
static uint32_t npairs;
static bool steer;                      /* owners steer every flow in software */
static uint32_t rx_batch;               /* frames per RX poll (net_init: half an RX ring) */
static struct flow_key flow_key;        /* read-only after net_init, like core_of */
static uint8_t core_of[NIC_RETA_LEN];
/* Core 0 publishes the address (DHCP lease or static) under a sequence count; every core takes
 * each new one. seq is odd while core 0 writes. */
static struct {
	volatile uint32_t seq;
	volatile uint32_t ip, mask, gw;
} lease;
/* The same for core 0's DHCPv6 address (all zero: none) and its lifetimes left, in seconds. */
static struct {
	volatile uint32_t seq;
	uint8_t addr[16];
	volatile uint32_t valid, pref;
} lease6;
static volatile uint32_t link_gen;      /* core 0: bumped at each link change (for `stats`) */
/* The management address and mask (POLLUX_METRICS_ADDR), network order, 0: none, and the IPv6 one
 * (POLLUX_METRICS_ADDR6), all zero: none. Set in net_init. */
static uint32_t mgmt_ip, mgmt_mask;
static uint8_t mgmt_ip6[16];
static bool mgmt6;
static bool mcast_all_asked;            /* core 0: the test command `mcast all` is in force */

/* Big rings where frames flow in bulk: from a queue owner that steers, and to the owner that
 * sends for a core without a queue. The rest carry only ARP, DHCP, fragments and ICMP errors. */
static bool ring_big(uint32_t src, uint32_t dst)
{
	return (steer && src < npairs) || ncores[src].tx_owner == dst;
}

/* Every core's inbound rings, made here on the boot core before any core starts, so that no core
 * can ever send into a ring that does not exist yet. */
static int rings_init(void)
{
	for (uint32_t c = 0; c < nnet; c++) {
		struct net_core *n = &ncores[c];
		n->in = (struct spsc *)(uintptr_t)mem_alloc(c, sizeof(struct spsc) * nnet, CACHELINE);
		if (!n->in)
			return -1;
		for (uint32_t i = 0; i < nnet; i++) {
			uint32_t size = ring_big(i, c) ? XRING_BIG : XRING_SMALL;
			uint64_t slots = mem_alloc(c, sizeof(struct spsc_slot) * size, 4096);
			if (!slots)
				return -1;
			spsc_init(&n->in[i], (struct spsc_slot *)(uintptr_t)slots, size);
		}
		if (c < npairs)
			for (uint32_t h = 0; h < FRAG_HOLD; h++)
				if (!(n->hold[h].data = (void *)(uintptr_t)mem_alloc(c, SPSC_SLOT_BYTES, CACHELINE)))
					return -1;
	}
	return 0;
}

static void net_stats_fn(int argc, char **argv)
{
	(void)argc, (void)argv;
	net_print_stats();
}

static const struct console_cmd net_stats_cmd = {
	"stats", "network: per core and queue packets, bytes, drops, TCP connections", net_stats_fn
};

#if POLLUX_TEST_COMMANDS
/* Test-only (console, core 0): `mcast all` has the NIC receive every multicast frame, as without
 * a filter, `mcast` the groups joined again (tests/net/net.py shows the filter drops frames). */
static void net_mcast_fn(int argc, char **argv)
{
	mcast_all_asked = argc > 1 && !strcmp(argv[1], "all");
	ncores[0].mcast_gen = 0;        /* set again by the next slow path */
}

static const struct console_cmd net_mcast_cmd = {
	"mcast", "test only: [all] the NIC receives all multicast, or (no argument) the groups joined", net_mcast_fn
};
#endif

/* POLLUX_METRICS_ADDR6 into mgmt_ip6 (mgmt6), or why not on the console. */
static void mgmt6_parse(void)
{
	uint32_t len = 0;
	uint8_t a[16] = { 0 };
	if (!POLLUX_IPV6) {
		kprintf("net: POLLUX_METRICS_ADDR6 \"%s\" without POLLUX_IPV6: the IPv6 management address is off\n",
			POLLUX_METRICS_ADDR6);
		return;
	}
	bool ok = net_parse_prefix6(POLLUX_METRICS_ADDR6, a, &len) && len == 64;
	/* A unicast address of global or unique local scope: not ::, ::1, multicast or link-local
	 * (mif has no link of its own to scope one to). */
	static const uint8_t loop[16] = { [15] = 1 };
	uint8_t any = 0;
	for (int i = 0; i < 16; i++)
		any |= a[i];
	if (!ok || !any || !memcmp(a, loop, 16) || a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)) {
		kprintf("net: POLLUX_METRICS_ADDR6 \"%s\" is not an IPv6 unicast address with prefix length 64 "
			"(x:x::x/64; lwIP takes a static address's subnet as /64): the IPv6 management address is off\n",
			POLLUX_METRICS_ADDR6);
		return;
	}
	memcpy(mgmt_ip6, a, 16);
	mgmt6 = true;
}

int net_init(uint32_t cores)
{
	cpu_poll_register(net_poll);    /* returns at once on a core without a NIC queue or instance */
	console_register(&net_stats_cmd);
#if POLLUX_TEST_COMMANDS
	console_register(&net_mcast_cmd);
#endif
	if (random_short() && POLLUX_REQUIRE_ENTROPY) {
		kprintf("net: not serving: the random generators were seeded with %u bits of entropy, %u wanted "
			"(POLLUX_REQUIRE_ENTROPY)\n", random_info()->bits, RANDOM_WANT_BITS);
		return -1;
	}
	if (cores > lwip_ninsts)
		cores = lwip_ninsts;
	if (POLLUX_METRICS_PORT && POLLUX_METRICS_ADDR[0] && !net_parse_prefix(POLLUX_METRICS_ADDR, &mgmt_ip, &mgmt_mask))
		kprintf("net: POLLUX_METRICS_ADDR \"%s\" is not an IPv4 address and prefix length (a.b.c.d/n): "
			"the management port is off\n", POLLUX_METRICS_ADDR);
	if (POLLUX_METRICS_PORT && POLLUX_METRICS_ADDR6[0])
		mgmt6_parse();
	int pairs = nic_attach(cores);
	if (pairs <= 0) {
		kprintf("net: no usable NIC: running without network\n");
		return -1;
	}
	nnet = cores;
	npairs = (uint32_t)pairs;
	uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
	random_bytes(key, sizeof(key));    /* this boot's own: flows cannot be aimed at one core */
	flow_key_init(&flow_key, key);
	for (uint32_t i = 0; i < cores; i++) {
		ncores[i].queue = i < npairs ? (int32_t)i : -1;
		ncores[i].tx_owner = i % npairs;
	}
	/* The one indirection table: bucket i to core i % cores, and the NIC's entry to that core's
	 * queue. */
	for (uint32_t i = 0; i < NIC_RETA_LEN; i++) {
		core_of[i] = (uint8_t)(i % cores);
		reta[i] = (uint8_t)(core_of[i] % npairs);
	}
	int err = nic_start(key, reta);
	if (err) {
		kprintf("net: the NIC did not start (%d): running without network\n", err);
		nnet = 0;
		return -1;
	}
	/* A NIC with a shorter table takes reta[0..len) and repeats it: core_of repeats with it. */
	const struct nic *dev = nic_dev();
	if (dev->caps.rss && dev->caps.reta_len < NIC_RETA_LEN)
		for (uint32_t i = dev->caps.reta_len; i < NIC_RETA_LEN; i++)
			core_of[i] = core_of[i % dev->caps.reta_len];
	/* Frames per RX poll: half a ring, so the device has the other half to fill while a batch goes
	 * through the stack, and the echoes of a whole batch fit a TX ring of the same size beside
	 * the last batch's still in flight. Under load every poll ends with a flush and its doorbells
	 * (each a trap to the hypervisor): the more frames a poll takes, the fewer doorbells per frame
	 * (64 a poll before; README, issue 17's UDP profile). */
	rx_batch = dev->rx_size / 2 < NIC_RX_BURST ? dev->rx_size / 2 : NIC_RX_BURST;
	if (!rx_batch)
		rx_batch = 1;
	kprintf("net: up to %u frames per RX poll (half of %u RX descriptors)\n", rx_batch, dev->rx_size);
	/* Steer in software unless the NIC puts each flow on the queue of the core serving it. */
	steer = npairs < cores || (npairs > 1 && !dev->caps.rss);
	if (rings_init()) {
		kprintf("net: no memory for the cross-core rings\n");
		nnet = 0;
		return -1;
	}
	if (steer)
		kprintf("net: %u queue pair%s for %u cores: steering flows in software\n", npairs, npairs > 1 ? "s" : "",
			cores);
	if (POLLUX_SERVICE.init)
		POLLUX_SERVICE.init();  /* shared, read-only set-up (HTTP: routes), before any core serves */
	return 0;
}

static bool is_up(uint32_t core)
{
	return core < nnet && __atomic_load_n(&ncores[core].up, __ATOMIC_ACQUIRE);
}

/* Copy the pieces of a frame into a ring slot of dst (from src). 0, or -1 when the ring is full
 * (counted), -2 when the frame is too long for a slot (counted). */
static int push_frags(uint32_t src, uint32_t dst, const struct nic_frag *f, unsigned n, uint32_t flags,
		      const struct nic_txo *o)
{
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++)
		len += f[i].len;
	struct spsc *r = &ncores[dst].in[src];
	struct spsc_slot *s = len <= SPSC_SLOT_BYTES ? spsc_reserve(r) : NULL;
	if (!s) {
		ncores[src].xring_drops++;
		return len <= SPSC_SLOT_BYTES ? -1 : -2;
	}
	uint32_t off = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(s->data + off, f[i].p, f[i].len);
		off += f[i].len;
	}
	s->len = len;
	s->flags = flags;
	s->csum_start = o ? o->csum_start : 0;
	s->csum_offset = o ? o->csum_offset : 0;
	spsc_commit(r);
	return 0;
}

static bool cross(uint32_t src, uint32_t dst, const void *frame, uint32_t len, uint32_t flags)
{
	struct nic_frag f = { frame, len };
	return push_frags(src, dst, &f, 1, flags, NULL) == 0;
}

/* The instance's way out: our own queue, or the owner's through its ring. Returns 1 when the
 * pieces are sent in place (tx_done(ref) follows), 0 when copied, -1 when dropped (counted). */
static int tx_frame(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	struct net_core *c = &ncores[core];
	unsigned back = prof_enter(c->prof, PROF_TX);
	int r;
	if (c->queue >= 0) {
		r = nic_tx((uint32_t)c->queue, f, n, o, ref);
		r = r == NIC_TX_INPLACE ? 1 : r == NIC_TX_COPIED ? 0 : r == NIC_TX_DROP ? -2 : -1;
	} else {
		r = push_frags(core, c->tx_owner, f, n, XF_TX, o);
		if (r == 0)
			c->forwarded++;
	}
	prof_leave(c->prof, back);
	return r;
}

/* The service's stage (net_inst_cfg.prof_svc), entered from the instance on this core. */
static unsigned prof_svc(void)
{
	return prof_switch(ncores[this_cpu()->idx].prof, PROF_SVC);
}

static void prof_svc_end(unsigned back)
{
	prof_switch(ncores[this_cpu()->idx].prof, back);
}

static void tx_done(void *ref)
{
	ncores[this_cpu()->idx].inst->tx_done(ref);
}

static void rx_release(void *frame, void *arg)
{
	(void)frame;
	nic_rx_return((uint32_t)ncores[this_cpu()->idx].queue, (uint32_t)(uintptr_t)arg);
}

/* A chunk of the instance's network memory, from the core's own arena (it initializes it). */
static void *net_mem_grow(uint32_t core, size_t bytes)
{
	return (void *)(uintptr_t)mem_alloc_raw(core, bytes, 64);
}

/* The network memory a core's instance may take: POLLUX_NET_MEM_PCT of what its arena holds
 * now, at most POLLUX_NET_MEM_MAX_MB. Taken as used, so an idle core holds almost nothing. */
static uint64_t net_mem_budget(uint32_t core)
{
	uint64_t b = mem_arena_bytes(core) / 100 * POLLUX_NET_MEM_PCT;
	if (POLLUX_NET_MEM_MAX_MB && b > MiB((uint64_t)POLLUX_NET_MEM_MAX_MB))
		b = MiB((uint64_t)POLLUX_NET_MEM_MAX_MB);
	return b;
}

int net_core_init(struct cpu *c)
{
	if (!nnet || c->idx >= nnet)
		return 0;
	struct net_core *n = &ncores[c->idx];
	n->inst = lwip_insts[c->idx];
	n->prof = &c->prof;
	uint64_t budget = net_mem_budget(c->idx);
	if (budget < NET_INST_MIN_MEM) {
		kprintf("net: core %u: %lluMiB for its network memory, %uMiB needed\n", c->idx,
			(unsigned long long)(budget >> 20), NET_INST_MIN_MEM >> 20);
		return -1;
	}
	if (n->queue >= 0)
		nic_queue_start((uint32_t)n->queue, tx_done);
	const struct nic *dev = nic_dev();
	struct net_inst_cfg cfg = {
		.core = c->idx,
		.mtu = 1500,
		.mem_budget = budget,
		.mem_grow = net_mem_grow,
		.max_conns = POLLUX_MAX_CONNS,
		.send_budget = budget / 100 * POLLUX_SEND_MEM_PCT,
		.svc = &POLLUX_SERVICE,
		/* Off when the management addresses asked for are all refused (net_init said why). */
		.mgmt = POLLUX_METRICS_PORT && (mgmt_ip || mgmt6 || (!POLLUX_METRICS_ADDR[0] && !POLLUX_METRICS_ADDR6[0]))
				? &svc_metrics : NULL,
		.mgmt_ip = mgmt_ip,
		.mgmt_mask = mgmt_mask,
		.csum_offload = dev->caps.tx_csum,
		/* Segmentation frames only to a queue of our own (a cross-core ring slot holds one
		 * frame of NIC_BUF_SIZE). */
		.tso_max = n->queue >= 0 && dev->caps.tx_csum ? dev->caps.tso_max : 0,
		.tx = tx_frame,
		.prof_on = &c->prof.on,
		.prof_svc = prof_svc,
		.prof_svc_end = prof_svc_end,
	};
	memcpy(cfg.mac, dev->mac, 6);
	memcpy(cfg.mgmt_ip6, mgmt_ip6, 16);
	/* Only core 0 asks DHCP; the others take its lease (net_poll). */
	cfg.dhcp = POLLUX_IPV4 && POLLUX_USE_DHCP && c->idx == 0;
	cfg.no_ip6 = !POLLUX_IPV6;
	cfg.dhcp6 = c->idx == 0 ? POLLUX_DHCP6 : NET_DHCP6_OFF;        /* the others take core 0's (lease6) */
	if (POLLUX_IPV4 && !POLLUX_USE_DHCP && c->idx == 0) {
		cfg.ip = net_parse_ip(POLLUX_STATIC_IP);
		cfg.mask = net_parse_ip(POLLUX_STATIC_NETMASK);
		cfg.gw = net_parse_ip(POLLUX_STATIC_GW);
	}
	int err = n->inst->init(&cfg);
	if (err) {
		kprintf("net: core %u: lwIP instance init failed (%d)\n", c->idx, err);
		return -1;
	}
	if (c->idx == 0) {
		struct net_inst_mem m;
		n->inst->mem(&m);
		kprintf("net: memory per core %lluMiB (%u%% of the arena), connections up to %u per core "
			"(%u bytes each when idle), %lluMiB for data in flight\n", (unsigned long long)(m.budget >> 20),
			POLLUX_NET_MEM_PCT, m.max_conns, m.conn_bytes, (unsigned long long)(m.send_budget >> 20));
		if (!dev->link)
			n->inst->link(false);
	}
	__atomic_store_n(&n->up, 1, __ATOMIC_RELEASE);
	return 0;
}

uint32_t net_cores(void)
{
	return nnet;
}

bool net_sample(uint32_t core, struct net_sample *out)
{
	if (!is_up(core))
		return false;
	const struct net_core *n = &ncores[core];
	n->inst->stats(&out->s);
	n->inst->mem(&out->m);
	out->queue = n->queue;
	out->q = (struct nic_qstats){ 0 };
	if (n->queue >= 0)
		nic_qstats((uint32_t)n->queue, &out->q);
	out->c.steered = n->steered;
	out->c.forwarded = n->forwarded;
	out->c.xring_drops = n->xring_drops;
	out->c.fwd_waits = n->fwd_waits;
	out->c.fwd_drops = n->fwd_drops;
	out->c.frag_drops = n->frag_drops;
	out->c.not_up = n->not_up;
	out->c.runts = n->runts;
	out->c.bad_ext = n->bad_ext;
	out->c.loops = cpus[core].loops;
	return true;
}

uint32_t net_parse_ip(const char *s)
{
	uint32_t parts[4] = { 0 }, i = 0;
	for (; *s && i < 4; s++) {
		if (*s == '.')
			i++;
		else
			parts[i] = parts[i] * 10 + (uint32_t)(*s - '0');
	}
	/* Network byte order in memory: first octet at the lowest address (little-endian CPUs). */
	return parts[0] | parts[1] << 8 | parts[2] << 16 | parts[3] << 24;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "x:x:x:x:x:x:x:x/n" (n 1..128), with one "::" for a run of zero groups (RFC 4291 2.2: forms 1
 * and 2, not the dotted IPv4 tail), to the address in network order and n; false, nothing set,
 * for anything else. */
bool net_parse_prefix6(const char *s, uint8_t ip[16], uint32_t *len)
{
	uint16_t g[8] = { 0 };
	int n = 0, gap = -1;                    /* groups read; how many stood before "::" */
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = 0;
		s += 2;
	}
	while (*s && *s != '/') {
		uint32_t v = 0;
		int digits = 0;
		for (; digits < 4 && hex_digit(*s) >= 0; s++, digits++)
			v = v << 4 | (uint32_t)hex_digit(*s);
		if (!digits || n == 8)
			return false;
		g[n++] = (uint16_t)v;
		if (*s == ':') {
			s++;
			if (*s == ':') {
				if (gap >= 0)
					return false;   /* a second "::" */
				gap = n;
				s++;
			} else if (!*s || *s == '/') {
				return false;           /* a lone ':' at the end */
			}
		} else if (*s && *s != '/') {
			return false;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;
	if (*s++ != '/')
		return false;
	uint32_t plen = 0, digits = 0;
	for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
		plen = plen * 10 + (uint32_t)(*s - '0');
	if (*s || !digits || plen < 1 || plen > 128)
		return false;
	uint16_t full[8] = { 0 };
	for (int i = 0; i < n; i++)
		full[gap >= 0 && i >= gap ? 8 - n + i : i] = g[i];
	for (int i = 0; i < 8; i++) {
		ip[2 * i] = (uint8_t)(full[i] >> 8);
		ip[2 * i + 1] = (uint8_t)full[i];
	}
	*len = plen;
	return true;
}

/* "a.b.c.d/n" (n 1..32) to an address and mask in network byte order; false when s is anything
 * else (octets past 255, parts missing or extra). */
bool net_parse_prefix(const char *s, uint32_t *ip, uint32_t *mask)
{
	uint32_t v[5] = { 0 }, i = 0, digits = 0;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9' && digits < 3) {
			v[i] = v[i] * 10 + (uint32_t)(*s - '0');
			digits++;
		} else if (digits && (*s == '.' ? i < 3 : *s == '/' && i == 3)) {
			i++;
			digits = 0;
		} else {
			return false;
		}
	}
	if (i != 4 || !digits || v[0] > 255 || v[1] > 255 || v[2] > 255 || v[3] > 255 || v[4] < 1 || v[4] > 32)
		return false;
	uint32_t m = (uint32_t)(0xffffffffull << (32 - v[4]));     /* host order */
	*ip = v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24;
	*mask = m >> 24 | (m >> 8 & 0xff00) | (m << 8 & 0xff0000) | m << 24;
	return true;
}

/* The same datagram: every word of its identity (flow_info.frag: addresses, id, IP version), so an
 * IPv6 datagram matches only its own fragments, never another that shares a word or two. */
static bool frag_match(const uint32_t a[FLOW_FRAG_WORDS], const uint32_t b[FLOW_FRAG_WORDS])
{
	uint32_t d = 0;
	for (unsigned i = 0; i < FLOW_FRAG_WORDS; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* A later fragment's core: the one its first fragment went to, or -1 while unknown. */
static int frag_core(struct net_core *n, const uint32_t key[FLOW_FRAG_WORDS], uint64_t now)
{
	for (uint32_t i = 0; i < FRAG_TABLE; i++)
		if (n->frag[i].until > now && frag_match(n->frag[i].key, key))
			return (int)n->frag[i].core;
	return -1;
}

/* Hand a frame to dst: this core's stack (zero-copy unless the buffer must go back now), or a
 * copy over dst's ring. Returns true when the buffer was taken by the stack. */
static bool hand(uint32_t me, uint32_t dst, const struct nic_rxf *f)
{
	struct net_core *n = &ncores[me];
	if (dst != me && !is_up(dst)) {
		n->not_up++;
		dst = me;
	}
	if (dst != me) {
		if (cross(me, dst, f->frame, f->len, f->flags & NIC_RX_CSUM_OK))
			n->steered++;
		return false;
	}
	if (f->flags & NIC_RX_COPY) {
		n->inst->input_copy(f->frame, f->len, f->flags & NIC_RX_CSUM_OK);
		return false;
	}
	n->inst->input(f->frame, f->len, f->flags & NIC_RX_CSUM_OK, rx_release, (void *)(uintptr_t)f->buf);
	return true;
}

/* A first fragment: remember where its datagram goes, and send the later ones that waited. */
static void frag_first(uint32_t me, const struct flow_info *fi, uint32_t dst, uint64_t now)
{
	struct net_core *n = &ncores[me];
	uint64_t ttl = arch_counter_hz() / 1000 * FRAG_TTL_MS;
	uint32_t i = n->frag_next++ % FRAG_TABLE;
	memcpy(n->frag[i].key, fi->frag, sizeof(fi->frag));
	n->frag[i].core = dst;
	n->frag[i].until = now + ttl;
	for (uint32_t h = 0; h < FRAG_HOLD; h++)
		if (n->hold[h].until > now && frag_match(n->hold[h].key, fi->frag)) {
			struct nic_rxf f = { n->hold[h].data, n->hold[h].len, 0, 0, n->hold[h].flags | NIC_RX_COPY };
			hand(me, dst, &f);
			n->hold[h].until = 0;
		}
}

/* Later fragments whose first never came, dropped and counted when their time is up. */
static void frag_expire(struct net_core *n, uint64_t now)
{
	for (uint32_t h = 0; h < FRAG_HOLD; h++)
		if (n->hold[h].until && n->hold[h].until <= now) {
			n->frag_drops++;
			n->hold[h].until = 0;
		}
}

/* A later fragment before its first: keep a copy a while (bounded; counted when it expires). */
static void frag_hold(uint32_t me, const struct nic_rxf *f, const struct flow_info *fi, uint64_t now)
{
	struct net_core *n = &ncores[me];
	uint32_t slot = 0;
	for (uint32_t h = 0; h < FRAG_HOLD; h++) {
		if (n->hold[h].until <= now) {
			if (n->hold[h].until) {
				n->frag_drops++;        /* expired: its first never came */
				n->hold[h].until = 0;
			}
			slot = h;
			break;
		}
		if (n->hold[h].until < n->hold[slot].until)
			slot = h;
	}
	if (n->hold[slot].until > now)
		n->frag_drops++;                /* all full: the oldest gives way */
	if (f->len > SPSC_SLOT_BYTES) {
		n->frag_drops++;
		return;
	}
	memcpy(n->hold[slot].data, f->frame, f->len);
	memcpy(n->hold[slot].key, fi->frag, sizeof(fi->frag));
	n->hold[slot].len = f->len;
	n->hold[slot].flags = f->flags & NIC_RX_CSUM_OK;
	n->hold[slot].until = now + arch_counter_hz() / 1000 * FRAG_TTL_MS;
}

/* ARP reaches every core so that each learns its peers, but only the receiving core answers:
 * the others get the request turned into a reply, which lwIP learns from without answering. */
static void arp_to_all(uint32_t me, const struct nic_rxf *f)
{
	uint8_t copy[14 + 28];
	const uint8_t *p = f->frame;
	uint32_t len = f->len;
	if (p[14 + 6] == 0 && p[14 + 7] == 1) {
		len = sizeof(copy);     /* the ARP packet, without padding */
		memcpy(copy, p, len);
		copy[14 + 7] = 2;
		p = copy;
	}
	for (uint32_t i = 0; i < nnet; i++)
		if (i != me && is_up(i))
			cross(me, i, p, len, 0);
}

/* IPv6 neighbour and router discovery and MLD reports: a copy for every other core, as it came.
 * Each core's stack keeps its own neighbour cache and router list. Stacks answer none of these
 * (flow.c keeps what they answer, a peer's solicitation and MLD queries, on the receiving core)
 * but a duplicate address probe, which every core holding the address defends: a conflict, rare,
 * that a core whose address is still tentative must see. */
static void nd_to_all(uint32_t me, const struct nic_rxf *f)
{
	for (uint32_t i = 0; i < nnet; i++)
		if (i != me && is_up(i))
			cross(me, i, f->frame, f->len, f->flags & NIC_RX_CSUM_OK);
}

/* A frame from our queue: to the core that must see it. */
static void deliver(uint32_t me, const struct nic_rxf *f, uint64_t now)
{
	struct flow_info fi;
	uint32_t dst = me;
	switch (flow_classify(&flow_key, f->frame, f->len, steer && !(f->flags & NIC_RX_HASH), &fi)) {
	case FLOW_EVERY_CORE:
		if (f->frame[12] == 0x86 && f->frame[13] == 0xdd) {
			nd_to_all(me, f);
			break;
		}
		if (f->len < 14 + 28) {
			ncores[me].runts++;     /* lwIP would read the ARP packet past the frame's end */
			nic_rx_return((uint32_t)ncores[me].queue, f->buf);
			return;
		}
		arp_to_all(me, f);
		break;
	case FLOW_BAD:
		ncores[me].bad_ext++;           /* an IPv6 header chain no core's stack should walk */
		nic_rx_return((uint32_t)ncores[me].queue, f->buf);
		return;
	case FLOW_DHCP_CLIENT:
		dst = 0;
		break;
	case FLOW_HASHED:
		if (steer)
			dst = core_of[((f->flags & NIC_RX_HASH) ? f->hash : fi.hash) % NIC_RETA_LEN];
		break;
	case FLOW_ICMP_ERR:
		dst = core_of[fi.hash % NIC_RETA_LEN];
		break;
	case FLOW_FRAG:
		if (fi.first) {
			dst = core_of[fi.hash % NIC_RETA_LEN];
			frag_first(me, &fi, dst, now);
		} else {
			int c = frag_core(&ncores[me], fi.frag, now);
			if (c < 0) {
				frag_hold(me, f, &fi, now);
				nic_rx_return((uint32_t)ncores[me].queue, f->buf);
				return;
			}
			dst = (uint32_t)c;
		}
		break;
	case FLOW_ADDR:
	case FLOW_LOCAL:
		break;
	}
	if (!hand(me, dst, f))
		nic_rx_return((uint32_t)ncores[me].queue, f->buf);
}

/* Frames other cores sent us: to our stack, or (forwarded by a core without a queue) to our TX.
 * A forwarded frame our ring has no room for stays in its slot until the next iteration, so the
 * sender, told it went out, is not lied to; the ring bounds how many wait. Returns how many
 * frames it took. */
static uint32_t drain_rings(struct net_core *n)
{
	uint32_t took = 0;
	for (uint32_t src = 0; src < nnet; src++) {
		struct spsc_slot *s;
		while ((s = spsc_peek(&n->in[src])) != 0) {
			if (s->flags & XF_TX) {
				struct nic_frag f = { s->data, s->len };
				struct nic_txo o = { .csum_start = s->csum_start, .csum_offset = s->csum_offset };
				unsigned back = prof_enter(n->prof, PROF_TX);
				int r = nic_tx((uint32_t)n->queue, &f, 1, &o, NULL);
				prof_leave(n->prof, back);
				if (r == NIC_TX_FULL) {
					n->fwd_waits++;
					break;
				}
				if (r == NIC_TX_DROP)
					n->fwd_drops++;
			} else {
				n->inst->input_copy(s->data, s->len, s->flags & NIC_RX_CSUM_OK);
			}
			spsc_pop(&n->in[src]);
			took++;
		}
	}
	return took;
}

static void print_ip(const char *what, uint32_t ip)
{
	kprintf("%s%u.%u.%u.%u\n", what, ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24);
}

/* a[0..16) as RFC 5952 writes it: lower case, the longest run of two or more zero groups as "::". */
void net_fmt_ip6(char out[40], const uint8_t a[16])
{
	static const char hex[] = "0123456789abcdef";
	uint16_t g[8];
	int best = -1, best_len = 1;
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > best_len)
			best = i, best_len = j - i;
		i = j > i ? j : i + 1;
	}
	char *o = out;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*o++ = ':';
			if (i == 0)
				*o++ = ':';
			i += best_len - 1;
			continue;
		}
		bool lead = true;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = g[i] >> sh & 0xf;
			if (d || !lead || sh == 0)
				*o++ = hex[d], lead = false;
		}
		if (i < 7)
			*o++ = ':';
	}
	*o = 0;
}

/* Every core: publish a digest of its IPv6 addresses. Core 0: print its addresses once every
 * core uses the same (each configures its own from the router advertisements all of them see). */
static void addr6_sync(uint32_t me, struct net_core *n)
{
	uint8_t a[4][16];
	unsigned k = n->inst->addr6(a, 4);
	uint32_t sig = 2166136261u;
	for (unsigned i = 0; i < k; i++)
		for (unsigned j = 0; j < 16; j++)
			sig = (sig ^ a[i][j]) * 16777619u;
	sig = k ? sig | 1 : 0;
	if (sig != n->ip6_sig)
		__atomic_store_n(&n->ip6_sig, sig, __ATOMIC_RELEASE);
	if (me != 0 || !sig || sig == n->ip6_printed)
		return;
	for (uint32_t i = 1; i < nnet; i++)
		if (!is_up(i) || __atomic_load_n(&ncores[i].ip6_sig, __ATOMIC_ACQUIRE) != sig)
			return;
	n->ip6_printed = sig;
	for (unsigned i = 0; i < k; i++) {
		char t[40];
		net_fmt_ip6(t, a[i]);
		kprintf("pollux: ip6=%s\n", t);
	}
}

/* The sequence count both publications use: odd while core 0 writes. The writer's begin returns
 * the count its end publishes; a reader takes a new, whole value only between read_begin (false:
 * nothing new since seen, or a write under way) and a read_end that finds the count unmoved. */
static uint32_t seq_write_begin(volatile uint32_t *seq)
{
	uint32_t s = *seq;
	__atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return s + 2;
}

static void seq_write_end(volatile uint32_t *seq, uint32_t s)
{
	__atomic_store_n(seq, s, __ATOMIC_RELEASE);
}

static bool seq_read_begin(volatile uint32_t *seq, uint32_t seen, uint32_t *s)
{
	*s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
	return *s != seen && !(*s & 1);
}

static bool seq_read_end(volatile uint32_t *seq, uint32_t s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(seq, __ATOMIC_RELAXED) == s;
}

/* Core 0: publish its instance's address whenever it changes (a lease obtained, renewed to
 * another address, or lost); the others take each new one. */
static void lease_sync(uint32_t me, struct net_core *n)
{
	if (me == 0) {
		uint32_t mask, gw, ip = n->inst->addr(&mask, &gw);
		if (ip != lease.ip || mask != lease.mask || gw != lease.gw) {
			uint32_t s = seq_write_begin(&lease.seq);
			lease.ip = ip, lease.mask = mask, lease.gw = gw;
			seq_write_end(&lease.seq, s);
			n->lease_seen = s;
			n->addr_announced = false;
		}
		if (!n->addr_announced && lease.ip) {
			/* Announce the address only when every core answers on it. */
			bool all = true;
			for (uint32_t i = 1; i < nnet; i++)
				all &= is_up(i) && __atomic_load_n(&ncores[i].lease_seen, __ATOMIC_ACQUIRE) == n->lease_seen;
			if (all) {
				n->addr_announced = true;
				print_ip("pollux: ip=", lease.ip);
			}
		}
		return;
	}
	uint32_t s1;
	if (!seq_read_begin(&lease.seq, n->lease_seen, &s1))
		return;
	uint32_t ip = lease.ip, mask = lease.mask, gw = lease.gw;
	if (!seq_read_end(&lease.seq, s1))
		return;                 /* torn: next time */
	n->inst->set_addr(ip, mask, gw);
	__atomic_store_n(&n->lease_seen, s1, __ATOMIC_RELEASE);
}

/* Core 0: print the management address once every core answers on it (each adds it at init). */
static void mgmt_announce(struct net_core *n)
{
	if (!mgmt_ip || n->mgmt_announced)
		return;
	for (uint32_t i = 1; i < nnet; i++)
		if (!is_up(i))
			return;
	n->mgmt_announced = true;
	print_ip("pollux: mgmt=", mgmt_ip);
}

/* Every core: publish its instance's state of the IPv6 management address. Core 0: print it once
 * every core answers on it (each through its own duplicate address detection), or say once that
 * another node holds it. */
static void mgmt6_announce(uint32_t me, struct net_core *n)
{
	if (!mgmt6)
		return;
	int32_t s = n->inst->mgmt6();
	if (s != n->mgmt6_state)
		__atomic_store_n(&n->mgmt6_state, s, __ATOMIC_RELEASE);
	if (me != 0 || n->mgmt6_announced)
		return;
	int32_t least = 1;
	uint32_t which = 0;
	for (uint32_t i = 0; i < nnet && least >= 0; i++) {
		int32_t si = is_up(i) ? __atomic_load_n(&ncores[i].mgmt6_state, __ATOMIC_ACQUIRE) : 0;
		if (si < least)
			least = si, which = i;
	}
	if (!least)
		return;
	char t[40];
	net_fmt_ip6(t, mgmt_ip6);
	n->mgmt6_announced = true;
	if (least > 0)
		kprintf("pollux: mgmt6=%s\n", t);
	else
		kprintf("net: the IPv6 management address %s is taken on the link (duplicate address detection, "
			"core %u): not answered\n", t, which);
}

/* Core 0: publish its DHCPv6 address whenever its instance's count moves; the others take it. */
static void lease6_sync(uint32_t me, struct net_core *n)
{
	if (me == 0) {
		uint8_t a[16];
		uint32_t valid, pref, g = n->inst->dhcp6(a, &valid, &pref);
		if (g == n->lease6_seen)
			return;
		n->lease6_seen = g;
		uint32_t s = seq_write_begin(&lease6.seq);
		memcpy(lease6.addr, a, 16);
		lease6.valid = valid, lease6.pref = pref;
		seq_write_end(&lease6.seq, s);
		return;
	}
	uint32_t s1;
	if (!seq_read_begin(&lease6.seq, n->lease6_seen, &s1))
		return;
	uint8_t a[16];
	memcpy(a, lease6.addr, 16);
	uint32_t valid = lease6.valid, pref = lease6.pref;
	if (!seq_read_end(&lease6.seq, s1))
		return;                 /* torn: next time */
	n->inst->set_addr6(a, valid, pref);
	n->lease6_seen = s1;
}

/* A stage boundary in poll_body: compiled away in the untimed copy. */
#define STAGE(s) (timed ? prof_switch(p, (s)) : 0)

/*
 * Core 0's slow path: the NIC's multicast filter follows the groups core 0's instance joined
 * (net_inst.mcast). Every instance configures the same addresses from the same MAC and router
 * advertisements, and the others take core 0's DHCPv6 address, so they join the same groups:
 * core 0's list stands for all, and the device is programmed here only, never from a data path.
 * Until the first list the NIC receives all multicast (nic.c).
 */
static void mcast_sync(struct net_core *n)
{
	uint8_t mac[NET_MCAST_MAX][6];
	uint32_t cnt;
	uint32_t gen = n->inst->mcast(mac, &cnt);
	if (gen == n->mcast_gen)
		return;
	n->mcast_gen = gen;
	nic_set_mcast(mac, mcast_all_asked ? NIC_MCAST_ALL : cnt);
}

/* One iteration's work; returns the frames it took in. Inlined twice, timed and not (the constant
 * folds every STAGE away in the second), so that with the profile off net.c's own stage boundaries
 * cost nothing; those inside the calls (TX post, reap, refill, the service) keep one branch each. */
static inline __attribute__((always_inline)) uint32_t poll_body(struct cpu *c, struct net_core *n, struct prof *p,
								 uint64_t now, bool timed)
{
	uint32_t frames = 0;
	unsigned back;
	if (n->queue >= 0) {
		struct nic_rxf f[NIC_RX_BURST];
		back = STAGE(PROF_RX);
		int got = nic_rx_burst((uint32_t)n->queue, f, (int)rx_batch);
		STAGE(back);
		if (got > 0)    /* when frames arrive, and their length: the generators' next reseed */
			random_stir(now ^ (uint64_t)got << 56 ^ (uint64_t)f[0].len << 40);
		back = STAGE(PROF_INPUT);
		for (int i = 0; i < got; i++)
			deliver(c->idx, &f[i], now);
		STAGE(back);
		frames = got > 0 ? (uint32_t)got : 0;
	}
	back = STAGE(PROF_RINGS);
	frames += drain_rings(n);
	STAGE(back);
	back = STAGE(PROF_TIMERS);
	if (now >= n->next_timers) {    /* lwIP's timers are in milliseconds: look once per ms */
		n->next_timers = now + arch_counter_hz() / 1000;
		n->inst->poll();
		lease_sync(c->idx, n);
		lease6_sync(c->idx, n);
		addr6_sync(c->idx, n);
		if (c->idx == 0)
			mgmt_announce(n);
		mgmt6_announce(c->idx, n);
		if (n->queue >= 0)
			frag_expire(n, now);
	}
	if (c->idx == 0 && now >= n->next_slow) {
		n->next_slow = now + arch_counter_hz() / 1000 * SLOW_POLL_MS;
		mcast_sync(n);
		unsigned ev = nic_slow_poll();
		if (ev & NIC_EV_LINK_DOWN)
			n->inst->link(false);
		if (ev & NIC_EV_LINK_UP)
			n->inst->link(true);    /* a gratuitous ARP, and DHCP checks its lease */
		if (ev)
			link_gen++;
	}
	STAGE(back);
	if (n->queue >= 0) {
		back = STAGE(PROF_TX);
		n->inst->tx_end();
		STAGE(back);
		back = STAGE(PROF_DOORBELL);
		nic_flush((uint32_t)n->queue);
		STAGE(back);
	}
	return frames;
}

#undef STAGE

void net_poll(struct cpu *c, uint64_t now)
{
	/* The first thing of every iteration (net is the loop's only poll hook): the console's `prof`
	 * request taken, and one branch on the core's own flag picks the timed copy of the work. */
	struct prof *p = &c->prof;
	prof_take(p, c->prof_req);
	struct net_core *n = &ncores[c->idx];
	bool live = c->idx < nnet && n->up;
	if (__builtin_expect(p->on, 0)) {
		prof_start(p);
		prof_tally(p, live ? poll_body(c, n, p, now, true) : 0);
	} else if (live) {
		poll_body(c, n, p, now, false);
	}
}

#define U(x) ((unsigned long long)(x))

void net_print_stats(void)
{
	/* Four tables filled in one pass over the cores; only the console core prints. */
	static char out[4][260 * POLLUX_MAX_CORES + 1024], mout[600 * POLLUX_MAX_CORES + 1024];
	struct kbuf t = { out[0], sizeof(out[0]), 0 }, d = { out[1], sizeof(out[1]), 0 };
	struct kbuf x = { out[2], sizeof(out[2]), 0 }, l = { out[3], sizeof(out[3]), 0 };
	struct kbuf m = { mout, sizeof(mout), 0 };
	if (random_short())
		kprintf("stats: warning: the random generators were seeded with %u bits of entropy, %u wanted: "
			"TCP sequence numbers and the RSS key may be guessable%s\n", random_info()->bits, RANDOM_WANT_BITS,
			POLLUX_REQUIRE_ENTROPY ? " (not serving: POLLUX_REQUIRE_ENTROPY)" : "");
	/* Traffic, per core and the queue it owns (-1: none; its frames go through tx_owner's). */
	kbprintf(&t, "%-4s %-3s %10s %12s %10s %12s %9s %9s %7s %7s %9s %7s %9s %7s %9s %11s %9s %8s %8s %7s\n", "core",
		 "q", "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes", "steered", "fwd_tx", "tcp_acc", "tcp_open", "tcp6_open",
		 "tcp_rst", "http_req", "http_4xx", "echo", "loops", "max_gap_us", "sack_rec", "sack_rtx", "rto");
	/* Drops, each where it happened. */
	kbprintf(&d, "%-4s %-3s %6s %6s %6s %7s %6s %7s %7s %6s %6s %6s %6s %6s %6s %6s %7s %7s %7s %7s %7s %7s %7s %6s %8s %7s "
		 "%7s %7s %7s %7s %8s %7s %7s\n",
		 "core", "q", "rx_bad", "rx_cpy", "rx_emp", "tx_full", "tx_big", "tx_ring", "tx_wait", "xdrops", "fwd_wt",
		 "fwd_dr", "frag_d", "not_up", "runt", "v6_bad", "refused", "ip_drop", "ip6_drp", "nd_drp", "arp_drp", "udp_drp",
		 "l4_drop", "reasm",
		 "csum_err", "tcp_mem", "tcp_abt", "held_rs", "held_kb", "mem_err", "sack_bad", "dhcp6_d", "mc_drop");
	/* Connection limits (config header), each time one was applied. */
	kbprintf(&l, "%-4s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %9s\n", "core", "hdr_tmo", "idle_cls",
		 "snd_tmo", "evicted", "prt_evct", "snd_evct", "snd_shed", "snd_wait", "cap_ref", "syn_ckie", "ckie_ok",
		 "ckie_bad", "tw_reuse", "max_conns");
	/* Network memory (net/slab.c): taken from the arena = in use + free in the classes' lists +
	 * the current chunk's rest; in use = what lwIP and the service asked for + rounding to the
	 * class. Then lwIP's pools, elements in use and at most, each of size bytes. */
	kbprintf(&m, "%-4s %9s %9s %9s %9s %9s %9s %7s %7s %8s %8s %7s %7s %6s %8s %9s %7s\n", "core", "budget_kb",
		 "taken_kb", "used_kb", "high_kb", "listed_kb", "asked_kb", "fails", "conn_b", "index_kb", "indexed", "tw",
		 "tw_drop", "probes", "send_kb", "sendhi_kb", "timers");
	for (uint32_t i = 0; i < nnet; i++) {
		struct net_core *n = &ncores[i];
		struct net_sample sm;          /* what /metrics reads too */
		if (!net_sample(i, &sm))
			continue;
		const struct net_inst_stats s = sm.s;
		const struct nic_qstats q = sm.q;
		const struct net_inst_mem nm = sm.m;
		struct cpu *c = &cpus[i];
		kbprintf(&t, "%-4u %-3d %10llu %12llu %10llu %12llu %9llu %9llu %7llu %7llu %9llu %7llu %9llu %7llu "
			 "%9llu %11llu %9llu %8llu %8llu %7llu\n",
			 i, n->queue, U(q.rx_packets), U(q.rx_bytes), U(q.tx_packets), U(q.tx_bytes), U(n->steered),
			 U(n->forwarded), U(s.tcp_accepted), U(s.tcp_open), U(s.tcp6_open), U(s.tcp_reset),
			 U(s.http_requests), U(s.http_4xx), U(s.icmp_echo), U(c->loops), U(ticks_to_ns(c->max_gap) / 1000),
			 U(s.sack_recoveries), U(s.sack_rexmits), U(s.tcp_rto));
		c->reset_gen++;         /* a fresh maximum from now on (see `cores`) */
		kbprintf(&d, "%-4u %-3d %6llu %6llu %6llu %7llu %6llu %7llu %7llu %6llu %6llu %6llu %6llu %6llu %6llu %6llu "
			 "%7llu %7llu %7llu %7llu %7llu %7llu %7llu %6llu %8llu %7llu %7llu %7llu %7llu %7llu %8llu %7llu %7llu\n",
			 i, n->queue, U(q.rx_drop_bad), U(q.rx_copied), U(q.rx_empty), U(q.tx_full), U(q.tx_drop_big),
			 U(s.tx_drop_ring), U(s.tx_waited), U(n->xring_drops), U(n->fwd_waits), U(n->fwd_drops), U(n->frag_drops),
			 U(n->not_up), U(n->runts), U(n->bad_ext), U(s.rx_refused), U(s.ip_drop), U(s.ip6_drop), U(s.nd_drop),
			 U(s.arp_drop), U(s.udp_drop),
			 U(s.l4_drop), U(s.reasm_drop), U(s.csum_err), U(s.tcp_drop_mem), U(s.tcp_abort), U(s.held_resets), U(s.held_bytes / 1024),
			 U(s.mem_err), U(s.sack_bad), U(s.dhcp6_drop), U(s.mcast_drop));
		kbprintf(&l, "%-4u %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %9u\n", i,
			 U(s.hdr_timeouts), U(s.idle_closed), U(s.send_timeouts), U(s.evicted), U(s.evicted_partial),
			 U(s.evicted_send), U(s.send_shed), U(s.send_waits), U(s.cap_refused), U(s.syn_cookies),
			 U(s.cookie_ok), U(s.cookie_bad), U(s.tw_reused), nm.max_conns);
		/* probes: connections compared per segment looked up, in hundredths (100: one each) */
		kbprintf(&m, "%-4u %9llu %9llu %9llu %9llu %9llu %9llu %7llu %7u %8llu %8llu %7llu %7llu %6llu %8llu %9llu "
			 "%7llu\n", i, U(nm.budget >> 10), U(nm.taken >> 10), U(nm.in_use >> 10), U(nm.high >> 10),
			 U(nm.free_listed >> 10), U(nm.requested >> 10), U(nm.fails), nm.conn_bytes,
			 U(nm.index_bytes >> 10), U(nm.index_entries), U(nm.time_wait), U(nm.tw_dropped),
			 U(nm.lookups ? nm.probes * 100 / nm.lookups : 0), U(nm.send_queued >> 10), U(nm.send_high >> 10),
			 U(nm.timer_pcbs));
		kbprintf(&m, "     pools");
		for (unsigned j = 0; j < nm.npools; j++)
			if (nm.pool[j].high)
				kbprintf(&m, " %s=%llu/%llux%u", nm.pool[j].name, U(nm.pool[j].used), U(nm.pool[j].high),
					 nm.pool[j].size);
		kbprintf(&m, "\n");
		if (n->queue >= 0) {
			struct nic_counter nc[NIC_MAX_COUNTERS];
			unsigned k = nic_counters(n->queue, nc, NIC_MAX_COUNTERS);
			kbprintf(&x, "nic q%-3d rx_csum_ok=%llu tx_csum_off=%llu tx_zero_copy=%llu tx_tso=%llu tso_segs=%llu",
				 n->queue, U(q.rx_csum_ok), U(q.tx_csum_offload), U(q.tx_zero_copy), U(q.tx_tso),
				 U(q.tx_tso_segs));
			for (unsigned j = 0; j < k; j++)
				kbprintf(&x, " %s=%llu", nc[j].name, U(nc[j].value));
			kbprintf(&x, "\n");
		}
	}
	const struct nic *dev = nic_dev();
	if (dev) {
		struct nic_dstats ds;
		nic_dstats(&ds);
		struct nic_counter nc[NIC_MAX_COUNTERS];
		unsigned k = nic_counters(-1, nc, NIC_MAX_COUNTERS);
		kbprintf(&x, "nic %s0: link %s link_down=%llu link_up=%llu resets=%llu reset_failed=%llu "
			 "mcast_entries=%u mcast_all=%u mcast_fallbacks=%llu", dev->ops->name, dev->link ? "up" : "down",
			 U(ds.link_down), U(ds.link_up), U(ds.resets), U(ds.reset_failed), ds.mcast_entries,
			 ds.mcast_all ? 1u : 0u, U(ds.mcast_fallbacks));
		for (unsigned j = 0; j < k; j++)
			kbprintf(&x, " %s=%llu", nc[j].name, U(nc[j].value));
		kbprintf(&x, "\n");
	}
	kputs(out[0]);
	kputs(out[1]);
	kputs(out[2]);
	kputs(out[3]);
	kputs(mout);
}
