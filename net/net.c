/* Per-core network loop: NIC queue -> this core's lwIP instance -> batched TX, plus the few
 * frames that must cross cores (ARP to everyone, DHCP to core 0) over SPSC rings. */
#include <string.h>

#include "kernel.h"
#include "net.h"
#include "inst.h"
#include "service.h"
#include "spsc.h"
#include "flow.h"
#include "../drivers/virtio_net.h"

#define NET_BATCH 64            /* frames per RX poll */
#define XRING_SMALL 16          /* ARP and DHCP between two cores that both own a queue */
#define XRING_BIG 256           /* software steering and forwarded TX */
#define XF_TX 0x100             /* ring slot flag: a frame for the consumer to transmit */

/*
 * Who does what. Core q < vnet_pairs() owns NIC queue pair q. With as many pairs as cores, a frame
 * is handled where the NIC put it (RSS, or the host's own flow hashing without it). With fewer
 * pairs (EC2 A1: 2 queues for 16 vCPUs), each owner steers every IPv4 frame by its Toeplitz flow
 * hash to the core core_of[hash] over a single-producer ring, so all cores serve flows and none is
 * hot beyond the NIC work itself; a core without a queue hands its frames to transmit to the owner
 * of queue (core % pairs). ARP goes to every core, DHCP replies to core 0 (which holds the lease).
 */
struct net_core {
	const struct net_inst *inst;
	int32_t queue;                  /* NIC queue pair this core owns, -1 if none */
	uint32_t tx_owner;              /* the core whose queue sends our frames (ourselves if we own one) */
	bool up;
	bool have_addr;
	bool addr_announced;            /* core 0: `pollux: ip=` printed */
	uint64_t next_timers;
	uint64_t steered;               /* frames passed to the core owning their flow */
	uint64_t forwarded;             /* frames passed to tx_owner to send */
	uint64_t xring_drops;           /* frames for another core refused (its ring full) */
	struct spsc *in;                /* in[src]: frames other cores send to this core */
} __attribute__((aligned(CACHELINE)));

static struct net_core ncores[POLLUX_MAX_CORES];
static uint32_t nnet;                   /* cores taking part */
static bool steer;                      /* fewer queue pairs than cores */
static struct flow_key flow_key;        /* read-only after net_init, like core_of */
static uint8_t core_of[FLOW_TABLE_LEN];
/* Core 0 publishes the DHCP (or static) address once; the others copy it into their instance. */
static volatile uint32_t shared_ip, shared_mask, shared_gw;
static volatile uint32_t addr_adopted;  /* other cores that have taken it */
static volatile uint32_t nup;           /* cores whose instance is up */

/* A Toeplitz key of this boot's own: flows cannot be aimed at one core by a key known in advance. */
static void make_key(uint8_t key[FLOW_KEY_LEN])
{
	uint64_t x = arch_counter() ^ 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < FLOW_KEY_LEN; i++) {
		x ^= arch_counter() << 17;      /* splitmix64 over the counter's jitter */
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		key[i] = (uint8_t)(z ^ (z >> 31));
	}
}

int net_init(uint32_t cores)
{
	if (cores > lwip_ninsts)
		cores = lwip_ninsts;
	uint8_t key[FLOW_KEY_LEN];
	make_key(key);
	flow_key_init(&flow_key, key);
	int pairs = vnet_attach(cores, key);
	if (pairs <= 0) {
		kprintf("net: no virtio-net device: running without network\n");
		return -1;
	}
	nnet = cores;
	steer = (uint32_t)pairs < cores;
	for (uint32_t i = 0; i < FLOW_TABLE_LEN; i++)
		core_of[i] = (uint8_t)(i % cores);
	for (uint32_t i = 0; i < cores; i++) {
		ncores[i].queue = i < (uint32_t)pairs ? (int32_t)i : -1;
		ncores[i].tx_owner = i % (uint32_t)pairs;
	}
	if (steer)
		kprintf("net: %d queue pair%s for %u cores: steering flows in software\n", pairs, pairs > 1 ? "s" : "",
			cores);
	if (POLLUX_SERVICE.init)
		POLLUX_SERVICE.init();  /* shared, read-only set-up (HTTP: routes), before any core serves */
	return 0;
}

/* Copy the pieces of a frame into a ring slot of dst (from src). */
static bool push_frags(uint32_t src, uint32_t dst, const struct nic_frag *f, unsigned n, uint32_t flags,
		       const struct nic_txo *o)
{
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++)
		len += f[i].len;
	struct spsc *r = &ncores[dst].in[src];
	struct spsc_slot *s = len <= SPSC_SLOT_BYTES ? spsc_reserve(r) : NULL;
	if (!s) {
		ncores[src].xring_drops++;
		return false;
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
	return true;
}

static bool cross(uint32_t src, uint32_t dst, const void *frame, uint32_t len, uint32_t flags)
{
	struct nic_frag f = { frame, len };
	return push_frags(src, dst, &f, 1, flags, NULL);
}

/* The instance's way out: our own queue, or the owner's through its ring. Returns 1 when the
 * pieces are sent in place (tx_done(ref) follows), 0 when copied, -1 when dropped (counted). */
static int tx_frame(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	struct net_core *c = &ncores[core];
	if (c->queue >= 0)
		return vnet_tx((uint32_t)c->queue, f, n, o, ref);
	if (!push_frags(core, c->tx_owner, f, n, XF_TX, o))
		return -1;
	c->forwarded++;
	return 0;
}

static void tx_done(void *ref)
{
	ncores[this_cpu()->idx].inst->tx_done(ref);
}

static void rx_release(void *frame, void *arg)
{
	(void)frame;
	struct net_core *n = &ncores[this_cpu()->idx];
	vnet_rx_release((uint32_t)n->queue, arg);
}

static bool ring_big(uint32_t src, uint32_t dst)
{
	return steer && ((int32_t)src < (int32_t)vnet_pairs() || ncores[src].tx_owner == dst);
}

int net_core_init(struct cpu *c)
{
	if (!nnet || c->idx >= nnet)
		return 0;
	struct net_core *n = &ncores[c->idx];
	n->inst = lwip_insts[c->idx];
	n->in = (struct spsc *)(uintptr_t)mem_alloc(c->idx, sizeof(struct spsc) * nnet, CACHELINE);
	void *heap = (void *)(uintptr_t)mem_alloc(c->idx, NET_INST_HEAP_SIZE, 4096);
	if (!n->in || !heap) {
		kprintf("net: core %u: no memory for its lwIP instance\n", c->idx);
		return -1;
	}
	for (uint32_t i = 0; i < nnet; i++) {
		uint32_t size = ring_big(i, c->idx) ? XRING_BIG : XRING_SMALL;
		uint64_t slots = mem_alloc(c->idx, sizeof(struct spsc_slot) * size, 4096);
		if (!slots) {
			kprintf("net: core %u: no memory for its rings\n", c->idx);
			return -1;
		}
		spsc_init(&n->in[i], (struct spsc_slot *)(uintptr_t)slots, size);
	}
	if (n->queue >= 0 && vnet_queue_start((uint32_t)n->queue, tx_done) != 0)
		return -1;
	struct net_inst_cfg cfg = {
		.core = c->idx,
		.mtu = 1500,
		.heap = heap,
		.heap_size = NET_INST_HEAP_SIZE,
		.svc = &POLLUX_SERVICE,
		.csum_offload = vnet_csum_offload(),
		.tx = tx_frame,
	};
	memcpy(cfg.mac, vnet_mac(), 6);
	/* Only core 0 asks DHCP; the others wait for its answer (net_poll). */
	cfg.dhcp = POLLUX_USE_DHCP && c->idx == 0;
	int err = n->inst->init(&cfg);
	if (err) {
		kprintf("net: core %u: lwIP instance init failed (%d)\n", c->idx, err);
		return -1;
	}
	if (!POLLUX_USE_DHCP) {
		/* Static addresses come from the config header, parsed by lwIP in core 0's instance. */
		n->inst->set_addr(net_parse_ip(POLLUX_STATIC_IP), net_parse_ip(POLLUX_STATIC_NETMASK),
				  net_parse_ip(POLLUX_STATIC_GW));
	}
	n->up = true;
	__sync_fetch_and_add(&nup, 1);
	return 0;
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

/* A frame from our queue: to this core's stack without a copy, or copied to the core that must see it. */
static void deliver(void *frame, uint32_t len, void *buf, unsigned flags)
{
	uint32_t me = this_cpu()->idx;
	struct net_core *n = &ncores[me];
	uint32_t hash = 0;
	switch (flow_classify(steer ? &flow_key : NULL, frame, len, &hash)) {
	case FLOW_EVERY_CORE:
		for (uint32_t i = 0; i < nnet; i++)
			if (i != me && ncores[i].up)
				cross(me, i, frame, len, flags);
		break;
	case FLOW_DHCP_CLIENT:
		if (me != 0) {
			cross(me, 0, frame, len, flags);
			vnet_rx_release((uint32_t)n->queue, buf);
			return;
		}
		break;
	case FLOW_HASHED:
		if (steer) {
			uint32_t dst = core_of[hash & (FLOW_TABLE_LEN - 1)];
			if (dst != me && ncores[dst].up) {
				if (cross(me, dst, frame, len, flags))
					n->steered++;
				vnet_rx_release((uint32_t)n->queue, buf);
				return;
			}
		}
		break;
	case FLOW_LOCAL:
		break;
	}
	n->inst->input(frame, len, flags, rx_release, buf);
}

void net_poll(struct cpu *c, uint64_t now)
{
	struct net_core *n = &ncores[c->idx];
	if (!n->up)
		return;
	if (n->queue >= 0)
		vnet_rx((uint32_t)n->queue, deliver, NET_BATCH);
	for (uint32_t src = 0; src < nnet; src++) {
		struct spsc_slot *s;
		while ((s = spsc_peek(&n->in[src])) != 0) {
			if (s->flags & XF_TX) {
				struct nic_frag f = { s->data, s->len };
				struct nic_txo o = { s->csum_start, s->csum_offset };
				vnet_tx((uint32_t)n->queue, &f, 1, &o, NULL);  /* a full ring is counted there */
			} else {
				n->inst->input_copy(s->data, s->len, s->flags & NIC_RX_CSUM_OK);
			}
			spsc_pop(&n->in[src]);
		}
	}
	if (now >= n->next_timers) {    /* lwIP's timers are in milliseconds: look once per ms */
		n->next_timers = now + arch_counter_hz() / 1000;
		n->inst->poll();
		if (!n->have_addr) {
			uint32_t mask, gw, ip = n->inst->addr(&mask, &gw);
			if (c->idx == 0 && ip) {
				shared_mask = mask, shared_gw = gw;
				wmb();
				shared_ip = ip;
				n->have_addr = true;
			} else if (c->idx != 0 && shared_ip) {
				rmb();
				n->inst->set_addr(shared_ip, shared_mask, shared_gw);
				n->have_addr = true;
				__sync_fetch_and_add(&addr_adopted, 1);
			}
		} else if (c->idx == 0 && !n->addr_announced && addr_adopted == nup - 1) {
			/* Announce the address only when every core answers on it. */
			uint32_t ip = shared_ip;
			n->addr_announced = true;
			kprintf("pollux: ip=%u.%u.%u.%u\n", ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24);
		}
	}
	if (n->queue >= 0)
		vnet_flush((uint32_t)n->queue);
}

void net_print_stats(void)
{
	/* Two tables filled in one pass over the cores; only the console core prints. */
	static char out[2][210 * POLLUX_MAX_CORES + 512];
	struct kbuf t = { out[0], sizeof(out[0]), 0 }, d = { out[1], sizeof(out[1]), 0 };
	/* Traffic, per core and the queue it owns (-1: none; its frames go through tx_owner's). */
	kbprintf(&t, "%-4s %-3s %10s %12s %10s %12s %9s %9s %7s %7s %7s %9s %7s %11s %9s\n", "core", "q", "rx_pkts",
		 "rx_bytes", "tx_pkts", "tx_bytes", "steered", "fwd_tx", "tcp_acc", "tcp_open", "tcp_rst", "http_req",
		 "http_4xx", "loops", "max_gap_us");
	/* Drops, each where it happened, and what the NIC's rings show. */
	kbprintf(&d, "%-4s %-3s %7s %8s %7s %8s %7s %8s %8s %8s %8s %8s | %10s %10s %9s %9s %9s %8s\n", "core", "q",
		 "rx_bad", "tx_full", "tx_big", "refused", "xdrops", "ip_drop", "l4_drop", "csum_err", "tcp_mem",
		 "mem_err", "doorbells", "db_saved", "rx_csumok", "tx_csumof", "tx_zcopy", "bad_used");
	for (uint32_t i = 0; i < nnet; i++) {
		struct net_core *n = &ncores[i];
		if (!n->up)
			continue;
		struct net_inst_stats s;
		n->inst->stats(&s);
		struct vnet_qstats q = { 0 };
		if (n->queue >= 0)
			vnet_stats((uint32_t)n->queue, &q);
		struct cpu *c = &cpus[i];
		kbprintf(&t, "%-4u %-3d %10llu %12llu %10llu %12llu %9llu %9llu %7llu %7llu %7llu %9llu %7llu %11llu %9llu\n",
			 i, n->queue, (unsigned long long)q.rx_packets, (unsigned long long)q.rx_bytes,
			 (unsigned long long)q.tx_packets, (unsigned long long)q.tx_bytes,
			 (unsigned long long)n->steered, (unsigned long long)n->forwarded,
			 (unsigned long long)s.tcp_accepted, (unsigned long long)s.tcp_open,
			 (unsigned long long)s.tcp_reset, (unsigned long long)s.http_requests,
			 (unsigned long long)s.http_4xx, (unsigned long long)c->loops,
			 (unsigned long long)(ticks_to_ns(c->max_gap) / 1000));
		c->reset_gen++;         /* a fresh maximum from now on (see `cores`) */
		kbprintf(&d, "%-4u %-3d %7llu %8llu %7llu %8llu %7llu %8llu %8llu %8llu %8llu %8llu | %10llu %10llu %9llu %9llu "
			 "%9llu %8llu\n",
			 i, n->queue, (unsigned long long)q.rx_drop_bad, (unsigned long long)q.tx_drop_full,
			 (unsigned long long)q.tx_drop_big, (unsigned long long)s.rx_refused,
			 (unsigned long long)n->xring_drops, (unsigned long long)s.ip_drop,
			 (unsigned long long)s.l4_drop, (unsigned long long)s.csum_err,
			 (unsigned long long)s.tcp_drop_mem, (unsigned long long)s.mem_err,
			 (unsigned long long)q.notifies, (unsigned long long)q.notifies_saved,
			 (unsigned long long)q.rx_csum_ok, (unsigned long long)q.tx_csum_offload,
			 (unsigned long long)q.tx_zero_copy, (unsigned long long)q.bad_used);
	}
	kputs(out[0]);
	kputs(out[1]);
}
