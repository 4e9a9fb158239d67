/* virtio-net, modern PCI transport (drivers/virtio_pci.c), split virtqueues (drivers/virtq.c): the
 * hardware half of a NIC under drivers/nic.h (vnet_). Polled, one queue pair per core, interrupts off
 * for good. */
#include <string.h>

#include "kernel.h"
#include "nic.h"
#include "pci.h"
#include "virtio_net_reg.h"
#include "virtio_pci.h"
#include "virtq.h"

#define VNET_HDR ((uint32_t)sizeof(struct virtio_net_hdr))
#define VNET_CTRL_TIMEOUT_MS 1000

/* One pair, touched only by its core. */
struct vnet_pair {
	struct virtio_vq rx, tx;
} __attribute__((aligned(CACHELINE)));

/* The softc. */
static struct {
	struct virtio_pci t;            /* the transport: regions, negotiated features */
	uint32_t max_pairs;
	uint16_t reta_len;
	struct virtio_vq ctrl;
	uint8_t *ctrl_buf;
	bool ctrl_broken;               /* a command timed out with its buffer still in flight */
	bool rss_quirk;                 /* ring every RX doorbell after a queue ran dry (see flush) */
	uint64_t rx_doorbell[NIC_MAX_QUEUES];   /* read-only while live: any core may ring them */
	uint64_t ctrl_timeouts, needs_reset, bad_idx_resets;
	uint64_t mcast_refused;         /* RX mode or MAC table commands the device refused */
} vn;
static struct vnet_pair pairs[NIC_MAX_QUEUES];

static bool has(unsigned bit) { return virtio_pci_has(&vn.t, bit); }

/*
 * Send one control command and wait for the device's answer (core 0, at start). A command that
 * times out leaves its buffer with the device, which may still write it: the queue is not used
 * again and the device is reset from the slow path.
 */
static int ctrl_cmd(uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	uint8_t *buf = vn.ctrl_buf;
	volatile uint8_t *ack = buf + 2048;
	if (vn.ctrl_broken)
		return -5;
	if (2 + len > 2048)
		return -3;
	buf[0] = class;
	buf[1] = cmd;
	memcpy(buf + 2, data, len);
	*ack = 0xff;
	struct virtq_seg seg[2] = {
		{ (uint64_t)(uintptr_t)buf, 2 + len, false },
		{ (uint64_t)(uintptr_t)ack, 1, true },
	};
	if (virtq_add_chain(&vn.ctrl.q, seg, 2, 0) < 0)
		return -4;
	virtio_pci_kick(&vn.ctrl);
	struct virtq_done done;
	uint64_t deadline = arch_counter() + arch_counter_hz() / 1000 * VNET_CTRL_TIMEOUT_MS;
	while (virtq_poll_used(&vn.ctrl.q, &done, 1) == 0) {
		if (arch_counter() > deadline || vn.ctrl.q.broken) {
			vn.ctrl_broken = true;
			vn.ctrl_timeouts++;
			kprintf("vnet0: control command %u/%u timed out: the device will be reset\n", class, cmd);
			return -1;
		}
		arch_relax();
	}
	return *ack == VIRTIO_NET_OK ? 0 : -2;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }

/* The types net/flow.c hashes as the device must: TCP and UDP over IPv4 and IPv6 on the 4-tuple
 * (the ports, 5.1.6.4.3.2, after any extension headers; the addresses the IPv6 header's, not the
 * _EX types'), other IP on the addresses. The 4-tuple ones are required (VNET_RSS_NEED). */
#define VNET_RSS_NEED (VIRTIO_NET_HASH_TCPV4 | VIRTIO_NET_HASH_UDPV4 | VIRTIO_NET_HASH_TCPV6 | VIRTIO_NET_HASH_UDPV6)
#define VNET_RSS_TYPES (VNET_RSS_NEED | VIRTIO_NET_HASH_IPV4 | VIRTIO_NET_HASH_IPV6)

/* RSS (5.1.6.5.7.1): VNET_RSS_TYPES, hash bucket i to queue reta[i], the rest (ARP) to pair 0.
 * Also sets the pairs in use. */
static int rss_config(uint32_t n, const uint8_t *key, const uint8_t *reta)
{
	uint32_t types = mmio_read32(vn.t.device_cfg + VNET_CFG_RSS_HASH_TYPES) & VNET_RSS_TYPES;
	uint8_t c[4 + 2 + 2 + 2 * NIC_RETA_LEN + 2 + 1 + NIC_RSS_KEY_LEN], *p = c;
	put32(p, types), p += 4;
	put16(p, (uint16_t)(vn.reta_len - 1)), p += 2;
	put16(p, 0), p += 2;                    /* unclassified: pair 0 */
	for (uint32_t i = 0; i < vn.reta_len; i++, p += 2)
		put16(p, (uint16_t)(reta[i] % n));      /* the pair (QEMU reads it as a pair, not a vq) */
	put16(p, (uint16_t)n), p += 2;          /* max_tx_vq */
	*p++ = NIC_RSS_KEY_LEN;
	memcpy(p, key, NIC_RSS_KEY_LEN), p += NIC_RSS_KEY_LEN;
	return ctrl_cmd(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, c, (uint32_t)(p - c));
}

static int fail(int err, const char *why)
{
	return virtio_pci_fail(&vn.t, err, why);
}

/* MQ, RSS and the RX filter are configured through the control queue, and RSS spreads over
 * several queues; segmentation needs the checksum offload (5.1.3.1). */
static uint64_t vnet_prune(uint64_t use)
{
	if (!(use & (1ull << VIRTIO_NET_F_CSUM)))
		use &= ~((1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6));
	if (!(use & (1ull << VIRTIO_NET_F_CTRL_VQ)))
		use &= ~((1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_RSS) | (1ull << VIRTIO_NET_F_CTRL_RX));
	if (!(use & (1ull << VIRTIO_NET_F_MQ)))
		use &= ~(1ull << VIRTIO_NET_F_RSS);     /* one queue: nothing to spread */
	return use;
}

/* 3.1.1 Driver Requirements, steps 1 to 6 (virtio_pci.c). */
static int negotiate(uint64_t want)
{
	return virtio_pci_negotiate(&vn.t, want, vnet_prune);
}

/* Step 7: virtqueues rx0, tx0, rx1, tx1, ..., then the control queue at 2 * max_pairs. */
static int queues_setup(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (virtio_pci_vq_setup(&vn.t, &pairs[i].rx, (uint16_t)(2 * i), POLLUX_RX_RING_SIZE) ||
		    virtio_pci_vq_setup(&vn.t, &pairs[i].tx, (uint16_t)(2 * i + 1), POLLUX_TX_RING_SIZE))
			return fail(-6, "cannot set up a queue pair");
	if (has(VIRTIO_NET_F_CTRL_VQ)) {
		if (virtio_pci_vq_setup(&vn.t, &vn.ctrl, (uint16_t)(2 * vn.max_pairs), 16))
			return fail(-7, "cannot set up the control queue");
		vn.ctrl_broken = false;
	}
	if (pairs[0].rx.size != pairs[n - 1].rx.size || pairs[0].tx.size != pairs[n - 1].tx.size)
		return fail(-8, "queues of different sizes");
	return 0;
}

static bool link_up(void)
{
	/* Only with VIRTIO_NET_F_STATUS; a device without it is always up (5.1.4). */
	return !has(VIRTIO_NET_F_STATUS) || (mmio_read16(vn.t.device_cfg + VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP);
}

static int vnet_attach(struct nic *n, struct pci_dev *d, uint32_t want_pairs)
{
	int err = virtio_pci_attach(&vn.t, d, "vnet0", 24);
	if (err)
		return err;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
			(1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_CSUM) |
			(1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_RSS) |
			(1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_CTRL_RX);
	err = negotiate(want);
	if (err)
		return err;
	for (int i = 0; i < 6; i++)
		n->mac[i] = mmio_read8(vn.t.device_cfg + VNET_CFG_MAC + i);
	vn.max_pairs = 1;
	if (has(VIRTIO_NET_F_MQ)) {
		vn.max_pairs = mmio_read16(vn.t.device_cfg + VNET_CFG_MAX_PAIRS);
		if (vn.max_pairs == 0 || vn.max_pairs > 0x8000) {
			kprintf("vnet0: device offers %u queue pairs: using 1\n", vn.max_pairs);
			vn.max_pairs = 1;
			vn.t.features &= ~((1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_RSS));
		}
	}
	uint32_t np = want_pairs < vn.max_pairs ? want_pairs : vn.max_pairs;
	if (np > NIC_MAX_QUEUES)
		np = NIC_MAX_QUEUES;
	n->caps.rss = false;
	uint32_t types = has(VIRTIO_NET_F_RSS) ? mmio_read32(vn.t.device_cfg + VNET_CFG_RSS_HASH_TYPES) : 0;
	if (has(VIRTIO_NET_F_RSS) && (types & VNET_RSS_NEED) != VNET_RSS_NEED)
		kprintf("vnet0: device hashes types %#x, not TCP and UDP over IPv4 and IPv6: RSS not used\n", types);
	if (has(VIRTIO_NET_F_RSS) && mmio_read8(vn.t.device_cfg + VNET_CFG_RSS_MAX_KEY) >= NIC_RSS_KEY_LEN &&
	    (types & VNET_RSS_NEED) == VNET_RSS_NEED) {
		/* All four, or some flows (UDP, or all of IPv6 on the unclassified queue) would be
		 * placed otherwise than their fragments and ICMP errors, which net/ steers by the
		 * 4-tuple. QEMU offers every type since its RSS came (5.1); a device short of one is
		 * steered in software. */
		uint32_t tab = mmio_read16(vn.t.device_cfg + VNET_CFG_RSS_MAX_TABLE);
		if (tab > NIC_RETA_LEN)
			tab = NIC_RETA_LEN;
		if (tab) {
			vn.reta_len = (uint16_t)(1u << (31 - __builtin_clz(tab)));
			n->caps.rss = true;
			n->caps.reta_len = vn.reta_len;
		}
	}
	if ((err = queues_setup(np)))
		return err;
	if (has(VIRTIO_NET_F_CTRL_VQ) && !(vn.ctrl_buf = (void *)(uintptr_t)mem_alloc_early(4096, 4096, 0)))
		return fail(-7, "no memory for the control queue");
	n->npairs = np;
	n->rx_size = pairs[0].rx.size;
	n->tx_size = pairs[0].tx.size;
	n->caps.max_pairs = vn.max_pairs;
	n->caps.tx_csum = has(VIRTIO_NET_F_CSUM);
	/* Both families or neither: the network layer asks for segmentation without looking at which.
	 * A frame's IP length is 16 bits (5.1.6.2: the device takes up to 64 KiB). */
	n->caps.tso_max = has(VIRTIO_NET_F_CSUM) && has(VIRTIO_NET_F_HOST_TSO4) && has(VIRTIO_NET_F_HOST_TSO6) ?
			  0xffff : 0;
	n->caps.rx_csum = has(VIRTIO_NET_F_GUEST_CSUM);
	n->caps.tx_sg = true;
	n->caps.rx_hdr = VNET_HDR;
	n->caps.tx_hdr = VNET_HDR;
	n->priv = &vn;
	n->link = link_up();
	kprintf("vnet0: %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u queue pairs of %u, rings %u/%u, event idx %s, "
		"csum offload tx %s rx %s, tso %s\n", n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
		n->link ? "up" : "down", np, vn.max_pairs, n->rx_size, n->tx_size,
		has(VIRTIO_F_RING_EVENT_IDX) ? "on" : "off", n->caps.tx_csum ? "on" : "off", n->caps.rx_csum ? "on" : "off",
		n->caps.tso_max ? "on" : "off");
	return 0;
}

/*
 * Step 8, DRIVER_OK, once every RX queue is full: QEMU's software RSS parks a frame whose target
 * queue has no buffer on the queue it came from, and a queue no one kicks stays parked. Then RSS
 * over reta, or the number of pairs without it.
 */
static int vnet_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	for (uint32_t i = 0; i < n->npairs; i++)
		virtq_publish(&pairs[i].rx.q);
	virtio_pci_driver_ok(&vn.t);
	/* Only a refusal turns RSS off. A command that timed out left the control queue broken and
	 * the slow path resets the device; the next start asks again. Clearing caps.rss then would
	 * leave RSS off for good (VQ_PAIRS_SET instead) while net/, which chose at boot whether to
	 * steer in software, still counts on the NIC placing each flow on its core's queue. */
	int rss_err = n->caps.rss ? rss_config(n->npairs, key, reta) : 0;
	if (rss_err && !vn.ctrl_broken) {
		kprintf("vnet0: device refused the RSS configuration\n");
		n->caps.rss = false;
	}
	vn.rss_quirk = n->caps.rss;
	for (uint32_t i = 0; i < n->npairs; i++)
		vn.rx_doorbell[i] = pairs[i].rx.notify;
	if (n->npairs > 1 && !n->caps.rss) {
		uint8_t np[2];
		put16(np, (uint16_t)n->npairs);
		if (ctrl_cmd(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, np, 2) != 0)
			kprintf("vnet0: device refused %u queue pairs: frames may arrive on pair 0 only\n", n->npairs);
	}
	kprintf("vnet0: live, rss %s\n", n->caps.rss ? "on" : "off");
	return 0;
}

/* One RX mode switch (5.1.6.5.1); counted when refused. */
static int rx_mode(uint8_t cmd, bool on)
{
	uint8_t v = on;
	int err = ctrl_cmd(VIRTIO_NET_CTRL_RX, cmd, &v, 1);
	if (err)
		vn.mcast_refused++;
	return err;
}

/* MAC_TABLE_SET (5.1.6.5.2): no unicast entry (our own address is always received), then the
 * multicast ones, each table a le32 count and 6 bytes per address. Counted when refused. */
static int mac_table(const uint8_t (*mac)[6], uint32_t cnt)
{
	uint8_t t[4 + 4 + 6 * NIC_MCAST_MAX];
	put32(t, 0);
	put32(t + 4, cnt);
	memcpy(t + 8, mac, 6 * (size_t)cnt);
	int err = ctrl_cmd(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 8 + 6 * cnt);
	if (err)
		vn.mcast_refused++;
	return err;
}

/*
 * The multicast filter. Without VIRTIO_NET_F_CTRL_RX the device cannot be told, and QEMU's stays
 * promiscuous as every reset leaves it (hw/net/virtio-net.c virtio_net_reset): all multicast
 * arrives. Broadcast is received either way (only VIRTIO_NET_F_CTRL_RX_EXTRA's NOBCAST, not
 * negotiated, would stop it). With it: the table (a device holding fewer addresses than sent,
 * like QEMU's 64 for both tables, receives all multicast instead by itself), ALLMULTI off, and
 * PROMISC off last, so that a refusal on the way leaves the device receiving too much, never too
 * little. A refused table turns ALLMULTI on instead; a command that times out breaks the control
 * queue and the slow path resets the device, after which nic.c sets the filter again.
 */
static int vnet_set_mcast(struct nic *n, const uint8_t (*mac)[6], uint32_t cnt)
{
	(void)n;
	if (!has(VIRTIO_NET_F_CTRL_RX))
		return 1;
	bool all = cnt > NIC_MCAST_MAX || mac_table(mac, cnt) != 0;
	if (rx_mode(VIRTIO_NET_CTRL_RX_ALLMULTI, all) != 0) {
		if (all)
			return 1;       /* still promiscuous */
		all = true;             /* ALLMULTI as it was: assume on */
	}
	rx_mode(VIRTIO_NET_CTRL_RX_PROMISC, false);
	return all;
}

static void vnet_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt)
{
	(void)n;
	struct virtq *v = &pairs[q].rx.q;
	for (uint32_t i = 0; i < cnt; i++)      /* room: nic.c posts at most rx_size buffers */
		virtq_add(v, (uint64_t)(uintptr_t)nic_rx_buf(q, ids[i]), NIC_BUF_SIZE, true, ids[i]);
}

static int vnet_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max)
{
	struct virtq_done done[NIC_RX_BURST];
	if (max > NIC_RX_BURST)
		max = NIC_RX_BURST;
	int got = virtq_poll_used(&pairs[q].rx.q, done, max);
	for (int i = 0; i < got; i++) {
		uint32_t id = (uint32_t)done[i].cookie, len = done[i].len;      /* clamped by virtq */
		/* A length past the buffer was clamped to it: handing up 2036 bytes nobody wrote would
		 * pass stale buffer contents on as a frame. Length 0, as nic.h asks: nic.c counts the
		 * drop and posts the buffer again. */
		if (done[i].clamped)
			len = 0;
		out[i] = (struct nic_rxd){ id, len >= VNET_HDR ? len - VNET_HDR : 0, 0, 0 };
		if (len < VNET_HDR)
			continue;
		const struct virtio_net_hdr *h = (const void *)nic_rx_buf(q, id);
		if (n->caps.rx_csum && (h->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM)))
			out[i].flags = NIC_RX_CSUM_OK;
	}
	return got;
}

static bool vnet_tx_room(struct nic *n, uint32_t q, uint32_t nseg)
{
	(void)n;
	return virtq_free_count(&pairs[q].tx.q) >= nseg;
}

static void vnet_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d)
{
	(void)n;
	struct virtio_net_hdr *h = (void *)d->buf;
	*h = (struct virtio_net_hdr){ 0 };
	if (d->o.csum_start) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = d->o.csum_start;
		h->csum_offset = d->o.csum_offset;
	}
	if (d->o.gso) {
		h->gso_type = d->o.gso == NIC_GSO_TCP4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h->hdr_len = d->o.hdr_len;
		h->gso_size = d->o.gso_size;
	}
	struct virtq_seg seg[NIC_TX_MAX_SEGS];
	for (uint32_t i = 0; i < d->nseg; i++)
		seg[i] = (struct virtq_seg){ d->seg[i].pa, d->seg[i].len, false };
	virtq_add_chain(&pairs[q].tx.q, seg, d->nseg, d->slot);        /* room checked by nic.c */
}

static int vnet_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max)
{
	(void)n;
	struct virtq_done done[64];
	if (max > 64)
		max = 64;
	int got = virtq_poll_used(&pairs[q].tx.q, done, max);
	for (int i = 0; i < got; i++)
		slots[i] = (uint32_t)done[i].cookie;
	return got;
}

static void vnet_flush(struct nic *n, uint32_t q)
{
	struct vnet_pair *p = &pairs[q];
	virtq_publish(&p->rx.q);
	if (virtq_need_notify(&p->rx.q)) {
		/*
		 * The device found this queue empty and asked to hear of new buffers. QEMU's software
		 * RSS parks the frame it could not place here on the queue the frame came in on, and
		 * only a doorbell on that queue releases it: ring every RX doorbell. This happens only
		 * after a queue ran dry, and with RSS only; otherwise just our own.
		 */
		if (!vn.rss_quirk)
			mmio_write16(vn.rx_doorbell[q], (uint16_t)(2 * q));
		else
			for (uint32_t i = 0; i < n->npairs; i++)
				mmio_write16(vn.rx_doorbell[i], (uint16_t)(2 * i));
	}
	virtio_pci_kick(&p->tx);
}

/* Link state, NEEDS_RESET, and rings the device has broken. */
static unsigned vnet_slow_poll(struct nic *n)
{
	unsigned ev = nic_link_change(n, link_up());
	uint8_t st = virtio_pci_status(&vn.t);
	if (st & VSTAT_NEEDS_RESET) {
		vn.needs_reset++;
		kprintf("vnet0: device set NEEDS_RESET\n");
		ev |= NIC_EV_RESET;
	}
	bool broken = vn.ctrl_broken;
	for (uint32_t i = 0; i < n->npairs; i++)
		broken |= pairs[i].rx.q.broken || pairs[i].tx.q.broken;
	if (broken) {
		vn.bad_idx_resets++;
		ev |= NIC_EV_RESET;
	}
	return ev;
}

/* Every queue stopped: reset and set the rings up again, on the same memory, not live. */
static int vnet_reset(struct nic *n)
{
	int err = negotiate(vn.t.features);
	if (!err)
		err = queues_setup(n->npairs);
	return err;
}

static unsigned vnet_counters(struct nic *n, int q, struct nic_counter *out, unsigned max)
{
	(void)n;
	unsigned k = 0;
#define C(name, v) nic_counter(out, &k, max, name, v)
	if (q < 0) {
		C("ctrl_timeouts", vn.ctrl_timeouts);
		C("needs_reset", vn.needs_reset);
		C("broken_rings", vn.bad_idx_resets);
		C("mcast_refused", vn.mcast_refused);
		return k;
	}
	const struct vnet_pair *p = &pairs[q];
	const struct virtq_stats *r = &p->rx.q.stats, *t = &p->tx.q.stats;
	C("doorbells", r->notifies + t->notifies + p->rx.past.notifies + p->tx.past.notifies);
	C("db_saved", r->notifies_suppressed + t->notifies_suppressed + p->rx.past.notifies_suppressed +
			      p->tx.past.notifies_suppressed);
	C("rx_bells", r->notifies + p->rx.past.notifies);
	C("tx_bells", t->notifies + p->tx.past.notifies);
	C("tx_saved", t->notifies_suppressed + p->tx.past.notifies_suppressed);
	C("bad_used", r->bad_used + r->bad_len + t->bad_used + t->bad_len + p->rx.past.bad_used + p->tx.past.bad_used);
	C("bad_idx", r->bad_idx + t->bad_idx + p->rx.past.bad_idx + p->tx.past.bad_idx);
#undef C
	return k;
}

static const struct nic_ops vnet_ops = {
	.name = "vnet",
	.attach = vnet_attach,
	.start = vnet_start,
	.rx_post = vnet_rx_post,
	.rx_poll = vnet_rx_poll,
	.tx_room = vnet_tx_room,
	.tx_post = vnet_tx_post,
	.tx_reap = vnet_tx_reap,
	.flush = vnet_flush,
	.slow_poll = vnet_slow_poll,
	.reset = vnet_reset,
	.counters = vnet_counters,
	.set_mcast = vnet_set_mcast,
};

static const struct nic_id vnet_ids[] = {
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET },
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET_TRANSITIONAL },
	{ 0, 0 },
};

const struct nic_driver vnet_driver = { &vnet_ops, vnet_ids };
