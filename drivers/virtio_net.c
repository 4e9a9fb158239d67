/* virtio-net, modern PCI transport, split virtqueues (drivers/virtq.c); polled, one queue pair per
 * core (vnet_). */
#include <string.h>

#include "kernel.h"
#include "pci.h"
#include "virtio_net.h"
#include "virtio_net_reg.h"
#include "virtq.h"

#define VNET_MAX_PAIRS 64
#define VNET_HDR ((uint32_t)sizeof(struct virtio_net_hdr))
#define VNET_RSS_KEY_LEN 40
#define VNET_RSS_TABLE 128

/* A queue: the ring (virtq) plus its doorbell. */
struct vq {
	struct virtq q;
	uint64_t notify;
	uint16_t index;
};

/*
 * One pair, touched only by its core. RX buffer i is rxbufs + i * VNET_BUF_SIZE and travels as
 * cookie i; a TX slot i is txbufs + i * VNET_BUF_SIZE (header and copied bytes) with the caller's
 * reference for pieces sent in place.
 */
struct vnet_pair {
	struct vq rx, tx;
	uint8_t *rxbufs, *txbufs;
	uint16_t *refill;               /* RX buffers released, posted again by vnet_flush */
	uint16_t nrefill;
	uint16_t *txfree;               /* free TX slots */
	uint16_t ntxfree;
	void **txref;                   /* [slot]: tx_done argument, or NULL */
	void (*tx_done)(void *ref);
	struct vnet_qstats st;
} __attribute__((aligned(CACHELINE)));

static struct {
	struct pci_dev *pci;
	uint64_t common, notify_base, device_cfg;
	uint32_t notify_mult;
	bool event_idx, rss, csum, guest_csum;
	uint32_t npairs;
	uint8_t mac[6];
	struct vq ctrl;
	uint8_t *ctrl_buf;
	uint64_t rx_doorbell[VNET_MAX_PAIRS];   /* read-only after attach: any core may ring them */
} vn;
static struct vnet_pair pairs[VNET_MAX_PAIRS];

/* All register access goes through these. */
static uint8_t cfg_r8(uint32_t off) { return mmio_read8(vn.common + off); }
static uint16_t cfg_r16(uint32_t off) { return mmio_read16(vn.common + off); }
static uint32_t cfg_r32(uint32_t off) { return mmio_read32(vn.common + off); }
static void cfg_w8(uint32_t off, uint8_t v) { mmio_write8(vn.common + off, v); }
static void cfg_w16(uint32_t off, uint16_t v) { mmio_write16(vn.common + off, v); }
static void cfg_w32(uint32_t off, uint32_t v) { mmio_write32(vn.common + off, v); }
static void cfg_w64(uint32_t off, uint64_t v)
{
	cfg_w32(off, (uint32_t)v);      /* two 32-bit halves: 4.1.3.1 allows nothing wider */
	cfg_w32(off + 4, (uint32_t)(v >> 32));
}

bool vnet_present(void) { return vn.npairs != 0; }
uint32_t vnet_pairs(void) { return vn.npairs; }
bool vnet_rss(void) { return vn.rss; }
bool vnet_csum_offload(void) { return vn.csum; }
const uint8_t *vnet_mac(void) { return vn.mac; }

void vnet_stats(uint32_t qi, struct vnet_qstats *out)
{
	const struct vnet_pair *p = &pairs[qi];
	*out = p->st;
	out->notifies = p->rx.q.stats.notifies + p->tx.q.stats.notifies;
	out->notifies_saved = p->rx.q.stats.notifies_suppressed + p->tx.q.stats.notifies_suppressed;
	out->bad_used = p->rx.q.stats.bad_used + p->tx.q.stats.bad_used + p->rx.q.stats.bad_len +
			p->tx.q.stats.bad_len;
}

/* Set up queue `index` (4.1.5.1.3): size, ring addresses, no MSI-X vector, enable. */
static int vq_setup(struct vq *v, uint16_t index, uint16_t want)
{
	cfg_w16(VCFG_QUEUE_SELECT, index);
	uint16_t max = cfg_r16(VCFG_QUEUE_SIZE);
	if (max == 0)
		return -1;
	uint16_t size = want < max ? want : max;
	size = (uint16_t)(1u << (31 - __builtin_clz(size)));   /* the ring code wants a power of two */
	uint64_t mem = mem_alloc_early(virtq_mem_size(size), VIRTQ_MEM_ALIGN, 0);
	if (!mem)
		return -2;
	virtq_init(&v->q, size, (void *)(uintptr_t)mem, mem);  /* RAM is identity-mapped */
	v->q.event_idx = vn.event_idx;
	v->index = index;
	cfg_w16(VCFG_QUEUE_SIZE, size);
	cfg_w16(VCFG_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	cfg_w64(VCFG_QUEUE_DESC, virtq_desc_pa(&v->q));
	cfg_w64(VCFG_QUEUE_DRIVER, virtq_avail_pa(&v->q));
	cfg_w64(VCFG_QUEUE_DEVICE, virtq_used_pa(&v->q));
	v->notify = vn.notify_base + (uint64_t)cfg_r16(VCFG_QUEUE_NOTIFY_OFF) * vn.notify_mult;
	dma_wmb();                      /* the rings' initial contents before the device may look */
	cfg_w16(VCFG_QUEUE_ENABLE, 1);
	return 0;
}

/* Publish what was added and ring the doorbell only if the device asked for it. */
static void vq_kick(struct vq *v)
{
	virtq_publish(&v->q);
	if (virtq_need_notify(&v->q))
		mmio_write16(v->notify, v->index);
}

/* Send one control command and wait for the device's answer (boot only). */
static int ctrl_cmd(uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	uint8_t *buf = vn.ctrl_buf;
	volatile uint8_t *ack = buf + 2048;
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
	vq_kick(&vn.ctrl);
	struct virtq_done done;
	uint64_t deadline = arch_counter() + arch_counter_hz();
	while (virtq_poll_used(&vn.ctrl.q, &done, 1) == 0) {
		if (arch_counter() > deadline)
			return -1;
		arch_relax();
	}
	return *ack == VIRTIO_NET_OK ? 0 : -2;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }

/* RSS (5.1.6.5.7.1): TCP/UDP over IPv4 hashed on the 4-tuple, other IPv4 on the addresses, entry i
 * of the table to pair i % n, the rest (ARP) to pair 0. Also sets n pairs in use. */
static int rss_config(uint32_t n, const uint8_t *key)
{
	uint32_t types = mmio_read32(vn.device_cfg + VNET_CFG_RSS_HASH_TYPES) &
			 (VIRTIO_NET_HASH_IPV4 | VIRTIO_NET_HASH_TCPV4 | VIRTIO_NET_HASH_UDPV4);
	uint32_t tab = mmio_read16(vn.device_cfg + VNET_CFG_RSS_MAX_TABLE);
	if (tab > VNET_RSS_TABLE)
		tab = VNET_RSS_TABLE;
	if (tab == 0 || !(types & VIRTIO_NET_HASH_TCPV4))
		return -1;
	tab = 1u << (31 - __builtin_clz(tab));
	uint8_t c[4 + 2 + 2 + 2 * VNET_RSS_TABLE + 2 + 1 + VNET_RSS_KEY_LEN], *p = c;
	put32(p, types), p += 4;
	put16(p, (uint16_t)(tab - 1)), p += 2;
	put16(p, 0), p += 2;                    /* unclassified: pair 0 */
	for (uint32_t i = 0; i < tab; i++, p += 2)
		put16(p, (uint16_t)(i % n));
	put16(p, (uint16_t)n), p += 2;          /* max_tx_vq */
	*p++ = VNET_RSS_KEY_LEN;
	memcpy(p, key, VNET_RSS_KEY_LEN), p += VNET_RSS_KEY_LEN;
	return ctrl_cmd(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, c, (uint32_t)(p - c));
}

/* Post the released RX buffers again, in one batch the device sees at once. */
static void rx_post(struct vnet_pair *p)
{
	for (uint16_t i = 0; i < p->nrefill; i++)
		virtq_add(&p->rx.q, (uint64_t)(uintptr_t)(p->rxbufs + (uint64_t)p->refill[i] * VNET_BUF_SIZE),
			  VNET_BUF_SIZE, true, p->refill[i]);   /* never full: each buffer has its descriptor */
	p->nrefill = 0;
	virtq_publish(&p->rx.q);
}

/* Pair qi's buffers from the arena of the core that will own it, and every RX buffer posted. */
static int pair_fill(uint32_t qi)
{
	struct vnet_pair *p = &pairs[qi];
	uint16_t nrx = p->rx.q.size, ntx = p->tx.q.size;
	p->rxbufs = (void *)(uintptr_t)mem_alloc(qi, (uint64_t)nrx * VNET_BUF_SIZE, 4096);
	p->txbufs = (void *)(uintptr_t)mem_alloc(qi, (uint64_t)ntx * VNET_BUF_SIZE, 4096);
	p->refill = (void *)(uintptr_t)mem_alloc(qi, 2ull * nrx, CACHELINE);
	p->txfree = (void *)(uintptr_t)mem_alloc(qi, 2ull * ntx, CACHELINE);
	p->txref = (void *)(uintptr_t)mem_alloc(qi, sizeof(void *) * ntx, CACHELINE);
	if (!p->rxbufs || !p->txbufs || !p->refill || !p->txfree || !p->txref)
		return -1;
	for (uint16_t i = 0; i < ntx; i++)
		p->txfree[i] = i;
	p->ntxfree = ntx;
	for (uint16_t i = 0; i < nrx; i++)
		p->refill[i] = i;
	p->nrefill = nrx;
	rx_post(p);
	return 0;
}

static int fail(int err, const char *why)
{
	kprintf("vnet0: %s\n", why);
	if (vn.common)
		cfg_w8(VCFG_DEVICE_STATUS, VSTAT_FAILED);
	vn.npairs = 0;
	return err;
}

int vnet_attach(uint32_t want_pairs, const uint8_t *rss_key)
{
	struct pci_dev *d = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET, 0);
	if (!d)
		d = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET_TRANSITIONAL, 0);
	if (!d)
		return -1;
	vn.pci = d;
	/* Find the common, notify and device config regions among the vendor capabilities. */
	for (int off = pci_find_cap(d, PCI_CAP_VENDOR, 0); off; off = pci_find_cap(d, PCI_CAP_VENDOR, off)) {
		uint8_t type = pci_cfg_read8(d, (uint16_t)(off + VIRTIO_CAP_CFG_TYPE));
		uint8_t bar = pci_cfg_read8(d, (uint16_t)(off + VIRTIO_CAP_BAR));
		if (bar > 5 || pci_bar_addr(d, bar) == 0)
			continue;       /* no such BAR, or an I/O BAR: we use memory-mapped regions only */
		uint64_t a = pci_bar_addr(d, bar) + pci_cfg_read32(d, (uint16_t)(off + VIRTIO_CAP_OFFSET));
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && !vn.common)
			vn.common = a;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !vn.notify_base) {
			vn.notify_base = a;
			vn.notify_mult = pci_cfg_read32(d, (uint16_t)(off + VIRTIO_CAP_NOTIFY_MULT));
		} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !vn.device_cfg)
			vn.device_cfg = a;
	}
	if (!vn.common || !vn.notify_base || !vn.device_cfg) {
		vn.common = 0;
		return fail(-2, "not a modern virtio device (no common/notify/device capability)");
	}
	pci_enable(d);

	/* 3.1.1 Driver Requirements: 1. Reset the device. */
	cfg_w8(VCFG_DEVICE_STATUS, 0);
	for (uint32_t spin = 0; cfg_r8(VCFG_DEVICE_STATUS) != 0; spin++)
		if (spin > 1000000)
			return fail(-3, "reset did not complete");
	/* 2. ACKNOWLEDGE. 3. DRIVER. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE);
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER);
	/* 4. Read the features, write the subset we understand. */
	cfg_w32(VCFG_DEVICE_FEATURE_SELECT, 0);
	uint64_t have = cfg_r32(VCFG_DEVICE_FEATURE);
	cfg_w32(VCFG_DEVICE_FEATURE_SELECT, 1);
	have |= (uint64_t)cfg_r32(VCFG_DEVICE_FEATURE) << 32;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
			(1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_CSUM) |
			(1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_STATUS);
	if (rss_key)
		want |= 1ull << VIRTIO_NET_F_RSS;
	uint64_t use = have & want;
	if (!(use & (1ull << VIRTIO_F_VERSION_1)))
		return fail(-4, "device lacks VIRTIO_F_VERSION_1");
	if (!(use & (1ull << VIRTIO_NET_F_CTRL_VQ)))    /* both are configured through the control queue */
		use &= ~((1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_RSS));
	if (!(use & (1ull << VIRTIO_NET_F_MQ)))
		use &= ~(1ull << VIRTIO_NET_F_RSS);     /* one queue: nothing to spread */
	cfg_w32(VCFG_DRIVER_FEATURE_SELECT, 0);
	cfg_w32(VCFG_DRIVER_FEATURE, (uint32_t)use);
	cfg_w32(VCFG_DRIVER_FEATURE_SELECT, 1);
	cfg_w32(VCFG_DRIVER_FEATURE, (uint32_t)(use >> 32));
	/* 5. FEATURES_OK, 6. and check the device kept it. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK);
	if (!(cfg_r8(VCFG_DEVICE_STATUS) & VSTAT_FEATURES_OK))
		return fail(-5, "device refused our features");
	vn.event_idx = (use >> VIRTIO_F_RING_EVENT_IDX) & 1;
	vn.csum = (use >> VIRTIO_NET_F_CSUM) & 1;
	vn.guest_csum = (use >> VIRTIO_NET_F_GUEST_CSUM) & 1;
	for (int i = 0; i < 6; i++)
		vn.mac[i] = mmio_read8(vn.device_cfg + VNET_CFG_MAC + i);
	uint32_t max_pairs = 1;
	if (use & (1ull << VIRTIO_NET_F_MQ))
		max_pairs = mmio_read16(vn.device_cfg + VNET_CFG_MAX_PAIRS);
	uint32_t n = want_pairs < max_pairs ? want_pairs : max_pairs;
	if (n > VNET_MAX_PAIRS)
		n = VNET_MAX_PAIRS;
	if (n == 0)
		n = 1;
	bool rss = (use >> VIRTIO_NET_F_RSS) & 1 && mmio_read8(vn.device_cfg + VNET_CFG_RSS_MAX_KEY) >= VNET_RSS_KEY_LEN;

	/* 7. Virtqueues: rx0, tx0, rx1, tx1, ..., then the control queue at 2 * max_pairs. Every RX
	 * queue is full before the device goes live: QEMU's software RSS parks a frame whose target
	 * queue has no buffer on the queue it came from, and a queue no one kicks stays parked. */
	for (uint32_t i = 0; i < n; i++)
		if (vq_setup(&pairs[i].rx, (uint16_t)(2 * i), POLLUX_RX_RING_SIZE) ||
		    vq_setup(&pairs[i].tx, (uint16_t)(2 * i + 1), POLLUX_TX_RING_SIZE) || pair_fill(i))
			return fail(-6, "cannot set up a queue pair or its buffers");
	if (use & (1ull << VIRTIO_NET_F_CTRL_VQ)) {
		if (vq_setup(&vn.ctrl, (uint16_t)(2 * max_pairs), 16) ||
		    !(vn.ctrl_buf = (void *)(uintptr_t)mem_alloc_early(4096, 4096, 0)))
			return fail(-7, "cannot set up the control queue");
	}
	/* 8. DRIVER_OK: the device is live. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	if (rss && rss_config(n, rss_key) != 0) {
		kprintf("vnet0: device refused the RSS configuration\n");
		rss = false;
	}
	vn.rss = rss;
	for (uint32_t i = 0; i < n; i++)
		vn.rx_doorbell[i] = pairs[i].rx.notify;
	if (n > 1 && !rss) {
		uint8_t np[2];
		put16(np, (uint16_t)n);
		if (ctrl_cmd(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, np, 2) != 0) {
			kprintf("vnet0: device refused %u queue pairs, using 1\n", n);
			n = 1;
		}
	}
	vn.npairs = n;
	/* Link state: only with VIRTIO_NET_F_STATUS; a device without it is always up (5.1.4). */
	bool link = !((use >> VIRTIO_NET_F_STATUS) & 1) || (mmio_read16(vn.device_cfg + VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP);
	kprintf("vnet0: %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u queue pairs of %u, rings %u/%u, event idx %s, rss %s, "
		"csum offload tx %s rx %s\n", vn.mac[0], vn.mac[1], vn.mac[2], vn.mac[3], vn.mac[4], vn.mac[5],
		link ? "up" : "down", n, max_pairs, pairs[0].rx.q.size, pairs[0].tx.q.size, vn.event_idx ? "on" : "off",
		vn.rss ? "on" : "off", vn.csum ? "on" : "off", vn.guest_csum ? "on" : "off");
	return (int)n;
}

int vnet_queue_start(uint32_t qi, void (*tx_done)(void *ref))
{
	pairs[qi].tx_done = tx_done;
	vnet_flush(qi);                 /* the first doorbell, if the device wants one */
	return 0;
}

int vnet_rx(uint32_t qi, void (*deliver)(void *frame, uint32_t len, void *buf, unsigned flags), int max)
{
	struct vnet_pair *p = &pairs[qi];
	struct virtq_done done[64];
	int n = 0;
	if (max > 64)
		max = 64;
	int got = virtq_poll_used(&p->rx.q, done, max);
	for (int i = 0; i < got; i++) {
		uint16_t id = (uint16_t)done[i].cookie;
		uint8_t *buf = p->rxbufs + (uint64_t)id * VNET_BUF_SIZE;
		uint32_t len = done[i].len;     /* clamped by virtq to what was posted */
		if (len < VNET_HDR + 14) {
			p->st.rx_drop_bad++;
			p->refill[p->nrefill++] = id;
			continue;
		}
		const struct virtio_net_hdr *h = (const void *)buf;
		unsigned flags = 0;
		if (vn.guest_csum && (h->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM))) {
			flags |= NIC_RX_CSUM_OK;
			p->st.rx_csum_ok++;
		}
		p->st.rx_packets++;
		p->st.rx_bytes += len - VNET_HDR;
		deliver(buf + VNET_HDR, len - VNET_HDR, buf, flags);
		n++;
	}
	return n;
}

void vnet_rx_release(uint32_t qi, void *buf)
{
	struct vnet_pair *p = &pairs[qi];
	uint64_t id = ((uint8_t *)buf - p->rxbufs) / VNET_BUF_SIZE;
	p->refill[p->nrefill++] = (uint16_t)id; /* posted in a batch by vnet_flush */
}

/* Take back the TX slots the device has finished with; hand in-place pieces back to their owner. */
static void tx_reap(struct vnet_pair *p)
{
	struct virtq_done done[64];
	int got;
	while ((got = virtq_poll_used(&p->tx.q, done, 64)) > 0)
		for (int i = 0; i < got; i++) {
			uint16_t slot = (uint16_t)done[i].cookie;
			if (p->txref[slot]) {
				p->tx_done(p->txref[slot]);
				p->txref[slot] = NULL;
			}
			p->txfree[p->ntxfree++] = slot;
		}
}

/* A free slot and desc free descriptors for its chain. */
static bool tx_room(const struct vnet_pair *p, unsigned desc)
{
	return p->ntxfree != 0 && virtq_free_count(&p->tx.q) >= desc;
}

int vnet_tx(uint32_t qi, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	struct vnet_pair *p = &pairs[qi];
	/* How many leading pieces to copy: up to the first long one, or all. */
	unsigned ncopy = n;
	if (ref) {
		for (unsigned i = 0; i < n; i++)
			if (f[i].len >= VNET_TX_REF_MIN) {
				ncopy = i;
				break;
			}
		if (n - ncopy > VNET_TX_MAX_REFS)
			ncopy = n;
	}
	uint32_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += f[i].len;
	if (total > VNET_BUF_SIZE - VNET_HDR) {        /* also bounds the copied part */
		p->st.tx_drop_big++;
		return -1;
	}
	if (!tx_room(p, 1 + n - ncopy))
		tx_reap(p);
	if (!tx_room(p, 1 + n - ncopy)) {
		p->st.tx_drop_full++;
		return -1;
	}
	uint16_t slot = p->txfree[--p->ntxfree];
	uint8_t *buf = p->txbufs + (uint64_t)slot * VNET_BUF_SIZE;
	struct virtio_net_hdr *h = (void *)buf;
	*h = (struct virtio_net_hdr){ 0 };
	if (o && o->csum_start && vn.csum) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = o->csum_start;
		h->csum_offset = o->csum_offset;
		p->st.tx_csum_offload++;
	}
	uint32_t off = VNET_HDR;
	for (unsigned i = 0; i < ncopy; i++) {
		memcpy(buf + off, f[i].p, f[i].len);
		off += f[i].len;
	}
	struct virtq_seg seg[1 + VNET_TX_MAX_REFS];
	seg[0] = (struct virtq_seg){ (uint64_t)(uintptr_t)buf, off, false };
	for (unsigned i = ncopy; i < n; i++)
		seg[1 + i - ncopy] = (struct virtq_seg){ (uint64_t)(uintptr_t)f[i].p, f[i].len, false };
	p->txref[slot] = ncopy < n ? ref : NULL;
	virtq_add_chain(&p->tx.q, seg, 1 + n - ncopy, slot);    /* room checked above */
	if (ncopy < n)
		p->st.tx_zero_copy++;
	p->st.tx_packets++;
	p->st.tx_bytes += total;
	return ncopy < n;
}

void vnet_flush(uint32_t qi)
{
	struct vnet_pair *p = &pairs[qi];
	rx_post(p);
	if (virtq_need_notify(&p->rx.q)) {
		/*
		 * The device found this queue empty and asked to hear of new buffers. QEMU's software
		 * RSS parks the frame it could not place here on the queue the frame came in on, and
		 * only a doorbell on that queue releases it: ring every RX doorbell. This happens only
		 * after a queue ran dry, and with RSS only; otherwise just our own.
		 */
		if (!vn.rss)
			mmio_write16(vn.rx_doorbell[qi], (uint16_t)(2 * qi));
		else
			for (uint32_t i = 0; i < vn.npairs; i++)
				mmio_write16(vn.rx_doorbell[i], (uint16_t)(2 * i));
	}
	vq_kick(&p->tx);
	tx_reap(p);
}
