/* Per-core network loop: NIC queue -> this core's lwIP instance -> batched TX, plus the few
 * frames that must cross cores (ARP to everyone, DHCP to core 0) over SPSC rings. */
#include <string.h>

#include "kernel.h"
#include "net.h"
#include "inst.h"
#include "service.h"
#include "spsc.h"
#include "../drivers/virtio_net.h"

#define NET_BATCH 64            /* frames per RX poll */
#define XRING_SLOTS 16          /* per (sender, receiver) pair: ARP and DHCP are rare */

struct net_core {
	const struct net_inst *inst;
	int32_t queue;                  /* NIC queue pair this core owns, -1 if none */
	bool up;
	bool have_addr;
	bool addr_announced;            /* core 0: `pollux: ip=` printed */
	uint64_t next_timers;
	uint64_t xring_drops;           /* cross-core frames refused (ring full) */
	struct spsc *in;                /* in[src]: frames other cores send to this core */
} __attribute__((aligned(CACHELINE)));

static struct net_core ncores[POLLUX_MAX_CORES];
static uint32_t nnet;                   /* cores taking part */
/* Core 0 publishes the DHCP (or static) address once; the others copy it into their instance. */
static volatile uint32_t shared_ip, shared_mask, shared_gw;
static volatile uint32_t addr_adopted;  /* other cores that have taken it */
static volatile uint32_t nup;           /* cores whose instance is up */

int net_init(uint32_t cores)
{
	if (cores > lwip_ninsts)
		cores = lwip_ninsts;
	int pairs = vnet_attach(cores);
	if (pairs <= 0) {
		kprintf("net: no virtio-net device: running without network\n");
		return -1;
	}
	nnet = cores;
	if (POLLUX_SERVICE.init)
		POLLUX_SERVICE.init();  /* shared, read-only set-up (HTTP: routes), before any core serves */
	return 0;
}

static int tx_frame(uint32_t core, const void *frame, uint32_t len)
{
	struct net_core *n = &ncores[core];
	return n->queue >= 0 ? vnet_tx((uint32_t)n->queue, frame, len) : -1;
}

static void rx_release(void *frame, void *arg)
{
	(void)frame;
	struct net_core *n = &ncores[this_cpu()->idx];
	vnet_rx_release((uint32_t)n->queue, arg);
}

int net_core_init(struct cpu *c)
{
	if (!nnet || c->idx >= nnet)
		return 0;
	struct net_core *n = &ncores[c->idx];
	n->queue = c->idx < vnet_pairs() ? (int32_t)c->idx : -1;
	n->inst = lwip_insts[c->idx];
	n->in = (struct spsc *)(uintptr_t)mem_alloc(c->idx, sizeof(struct spsc) * nnet, CACHELINE);
	uint64_t slots = mem_alloc(c->idx, sizeof(struct spsc_slot) * XRING_SLOTS * nnet, 4096);
	void *heap = (void *)(uintptr_t)mem_alloc(c->idx, NET_INST_HEAP_SIZE, 4096);
	if (!n->in || !slots || !heap) {
		kprintf("net: core %u: no memory for its lwIP instance\n", c->idx);
		return -1;
	}
	for (uint32_t i = 0; i < nnet; i++)
		spsc_init(&n->in[i], (struct spsc_slot *)(uintptr_t)slots + i * XRING_SLOTS, XRING_SLOTS);
	if (n->queue >= 0 && vnet_queue_start((uint32_t)n->queue, c->idx) != 0)
		return -1;
	struct net_inst_cfg cfg = {
		.core = c->idx,
		.mtu = 1500,
		.heap = heap,
		.heap_size = NET_INST_HEAP_SIZE,
		.svc = &POLLUX_SERVICE,
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

/* Send a copy of frame to core dst's ring from core src. */
static void cross(uint32_t src, uint32_t dst, const void *frame, uint32_t len)
{
	if (!spsc_push(&ncores[dst].in[src], frame, len))
		ncores[src].xring_drops++;
}

/* Frames that belong to no single flow: ARP goes to every instance (any core may have to
 * resolve or answer), DHCP replies to core 0, which owns the lease. */
static void deliver(void *frame, uint32_t len, void *buf)
{
	uint32_t me = this_cpu()->idx;
	struct net_core *n = &ncores[me];
	const uint8_t *f = frame;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806) {
		for (uint32_t i = 0; i < nnet; i++)
			if (i != me && ncores[i].up)
				cross(me, i, frame, len);
	} else if (me != 0 && type == 0x0800 && len >= 14 + 20 + 8 && f[23] == 17) {
		uint32_t ihl = (f[14] & 0xf) * 4u;
		if (len >= 14 + ihl + 8 && f[14 + ihl + 2] == 0 && f[14 + ihl + 3] == 68) {
			cross(me, 0, frame, len);
			vnet_rx_release((uint32_t)n->queue, buf);
			return;
		}
	}
	n->inst->input(frame, len, rx_release, buf);
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
			n->inst->input_copy(s->data, s->len);
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
	char out[8192];
	struct kbuf b = { out, sizeof(out), 0 };
	kbprintf(&b, "%-4s %-3s %10s %12s %10s %12s %8s %8s %8s %8s %7s %7s %7s %9s %7s\n", "core", "q", "rx_pkts",
		 "rx_bytes", "tx_pkts", "tx_bytes", "rx_bad", "tx_full", "refused", "xdrops", "tcp_acc", "tcp_open",
		 "tcp_rst", "http_req", "http_4xx");
	for (uint32_t i = 0; i < nnet; i++) {
		struct net_core *n = &ncores[i];
		if (!n->up)
			continue;
		struct net_inst_stats s;
		n->inst->stats(&s);
		struct vnet_qstats q = { 0 };
		if (n->queue >= 0)
			q = *vnet_stats((uint32_t)n->queue);
		kbprintf(&b, "%-4u %-3d %10llu %12llu %10llu %12llu %8llu %8llu %8llu %8llu %7llu %7llu %7llu %9llu %7llu\n", i,
			 n->queue, (unsigned long long)q.rx_packets, (unsigned long long)q.rx_bytes,
			 (unsigned long long)q.tx_packets, (unsigned long long)q.tx_bytes,
			 (unsigned long long)q.rx_drop_bad, (unsigned long long)(q.tx_drop_full + q.tx_drop_big),
			 (unsigned long long)s.rx_refused, (unsigned long long)n->xring_drops,
			 (unsigned long long)s.tcp_accepted, (unsigned long long)s.tcp_open,
			 (unsigned long long)s.tcp_reset, (unsigned long long)s.http_requests,
			 (unsigned long long)s.http_4xx);
	}
	kprintf("%s", out);
}
