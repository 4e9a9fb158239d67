/* virtio-net, modern PCI transport, split virtqueues; polled, one queue pair per core (vnet_). */
#include <string.h>

#include "kernel.h"
#include "pci.h"
#include "virtio_net.h"
#include "virtio_net_reg.h"

#define VNET_MAX_PAIRS 64
#define VNET_QSIZE_RX POLLUX_RX_RING_SIZE
#define VNET_QSIZE_TX POLLUX_TX_RING_SIZE
#define VNET_HDR 12

/* Split virtqueue layout (virtio 1.2, 2.7). */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
#define  VRING_DESC_F_NEXT 1
#define  VRING_DESC_F_WRITE 2
	uint16_t next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "virtq descriptor is 16 bytes");
struct vring_avail {
	uint16_t flags;
#define  VRING_AVAIL_F_NO_INTERRUPT 1
	uint16_t idx;
	uint16_t ring[];        /* then used_event */
};
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
#define  VRING_USED_F_NO_NOTIFY 1
	uint16_t idx;
	struct vring_used_elem ring[];  /* then avail_event */
};

/* One virtqueue. Every buffer is one descriptor, and descriptor i always owns buffer i, so the
 * descriptor table is written once and a posting is a single avail-ring store. */
struct vq {
	uint16_t size, index;
	uint16_t avail_idx;     /* our shadow of avail->idx */
	uint16_t kicked;        /* avail_idx at the last notification */
	uint16_t last_used;
	uint16_t nfree;         /* free descriptor ids on the stack (TX) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t notify;        /* doorbell address */
	uint8_t *bufs;          /* size * VNET_BUF_SIZE */
	uint16_t *free;         /* TX: free ids; RX: ids waiting to be reposted */
	uint16_t nrefill;
};

struct vnet_pair {
	struct vq rx, tx;
	struct vnet_qstats st;
	uint32_t core;
} __attribute__((aligned(CACHELINE)));

static struct {
	struct pci_dev *pci;
	uint64_t common, notify_base, device_cfg;
	uint32_t notify_mult;
	bool event_idx;
	uint32_t npairs;
	uint8_t mac[6];
	struct vq ctrl;
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
const uint8_t *vnet_mac(void) { return vn.mac; }
const struct vnet_qstats *vnet_stats(uint32_t q) { return &pairs[q].st; }

/* Set up queue `index` (4.1.5.1.3): size, ring addresses, no MSI-X vector, enable. */
static int vq_setup(struct vq *q, uint16_t index, uint16_t want)
{
	cfg_w16(VCFG_QUEUE_SELECT, index);
	uint16_t max = cfg_r16(VCFG_QUEUE_SIZE);
	if (max == 0)
		return -1;
	uint16_t size = want < max ? want : max;
	size = (uint16_t)(1u << (31 - __builtin_clz(size)));   /* power of two for the masks */
	q->size = size;
	q->index = index;
	q->desc = (void *)(uintptr_t)mem_alloc_early(16ul * size, 4096, 0);
	q->avail = (void *)(uintptr_t)mem_alloc_early(6 + 2ul * size, 4096, 0);
	q->used = (void *)(uintptr_t)mem_alloc_early(6 + 8ul * size, 4096, 0);
	q->free = (void *)(uintptr_t)mem_alloc_early(2ul * size, 64, 0);
	if (!q->desc || !q->avail || !q->used || !q->free)
		return -2;
	/* Interrupts stay off: MSI-X is disabled and INTx masked at the PCI level; say so here too. */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	cfg_w16(VCFG_QUEUE_SIZE, size);
	cfg_w16(VCFG_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	cfg_w64(VCFG_QUEUE_DESC, (uint64_t)(uintptr_t)q->desc);
	cfg_w64(VCFG_QUEUE_DRIVER, (uint64_t)(uintptr_t)q->avail);
	cfg_w64(VCFG_QUEUE_DEVICE, (uint64_t)(uintptr_t)q->used);
	q->notify = vn.notify_base + (uint64_t)cfg_r16(VCFG_QUEUE_NOTIFY_OFF) * vn.notify_mult;
	cfg_w16(VCFG_QUEUE_ENABLE, 1);
	return 0;
}

/* Make what was added visible with one index store, and ring the doorbell only if the device
 * asked for it (EVENT_IDX, 2.7.10) or did not opt out (NO_NOTIFY). */
static void vq_kick(struct vq *q, struct vnet_qstats *st)
{
	if (q->avail_idx == q->kicked && q->avail->idx == q->avail_idx)
		return;
	dma_wmb();                      /* ring entries before the index */
	q->avail->idx = q->avail_idx;
	mb();                           /* the index store before reading the device's event */
	bool need;
	if (vn.event_idx) {
		uint16_t event = *(volatile uint16_t *)&q->used->ring[q->size];
		need = (uint16_t)(q->avail_idx - event - 1) < (uint16_t)(q->avail_idx - q->kicked);
	} else {
		need = !(q->used->flags & VRING_USED_F_NO_NOTIFY);
	}
	if (need) {
		mmio_write16(q->notify, q->index);
		if (st)
			st->notifies++;
	} else if (st) {
		st->notifies_saved++;
	}
	q->kicked = q->avail_idx;
}

/* Send one control command and wait for the device's answer (init only). */
static int ctrl_cmd(uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	struct vq *q = &vn.ctrl;
	uint8_t *buf = q->bufs;
	buf[0] = class;
	buf[1] = cmd;
	for (uint32_t i = 0; i < len; i++)
		buf[2 + i] = ((const uint8_t *)data)[i];
	volatile uint8_t *ack = buf + 512;
	*ack = 0xff;
	q->desc[0] = (struct vring_desc){ (uint64_t)(uintptr_t)buf, 2 + len, VRING_DESC_F_NEXT, 1 };
	q->desc[1] = (struct vring_desc){ (uint64_t)(uintptr_t)ack, 1, VRING_DESC_F_WRITE, 0 };
	q->avail->ring[q->avail_idx & (q->size - 1)] = 0;
	q->avail_idx++;
	dma_wmb();
	q->avail->idx = q->avail_idx;
	mb();
	mmio_write16(q->notify, q->index);
	uint64_t deadline = arch_counter() + arch_counter_hz();
	while (*(volatile uint16_t *)&q->used->idx == q->last_used) {
		if (arch_counter() > deadline)
			return -1;
		arch_relax();
	}
	dma_rmb();
	q->last_used++;
	return *ack == VIRTIO_NET_OK ? 0 : -2;
}

int vnet_attach(uint32_t want_pairs)
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
		kprintf("vnet0: not a modern virtio device (no common/notify/device capability)\n");
		return -2;
	}
	pci_enable(d);

	/* 3.1.1 Driver Requirements: 1. Reset the device. */
	cfg_w8(VCFG_DEVICE_STATUS, 0);
	for (uint32_t spin = 0; cfg_r8(VCFG_DEVICE_STATUS) != 0; spin++)
		if (spin > 1000000) {
			kprintf("vnet0: reset did not complete\n");
			return -3;
		}
	/* 2. ACKNOWLEDGE. 3. DRIVER. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE);
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER);
	/* 4. Read the features, write the subset we understand. */
	cfg_w32(VCFG_DEVICE_FEATURE_SELECT, 0);
	uint64_t have = cfg_r32(VCFG_DEVICE_FEATURE);
	cfg_w32(VCFG_DEVICE_FEATURE_SELECT, 1);
	have |= (uint64_t)cfg_r32(VCFG_DEVICE_FEATURE) << 32;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
			(1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_MQ);
	uint64_t use = have & want;
	if (!(use & (1ull << VIRTIO_F_VERSION_1))) {
		kprintf("vnet0: device lacks VIRTIO_F_VERSION_1\n");
		return -4;
	}
	if (!(use & (1ull << VIRTIO_NET_F_CTRL_VQ)))
		use &= ~(1ull << VIRTIO_NET_F_MQ);     /* MQ is configured through the control queue */
	cfg_w32(VCFG_DRIVER_FEATURE_SELECT, 0);
	cfg_w32(VCFG_DRIVER_FEATURE, (uint32_t)use);
	cfg_w32(VCFG_DRIVER_FEATURE_SELECT, 1);
	cfg_w32(VCFG_DRIVER_FEATURE, (uint32_t)(use >> 32));
	/* 5. FEATURES_OK, 6. and check the device kept it. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK);
	if (!(cfg_r8(VCFG_DEVICE_STATUS) & VSTAT_FEATURES_OK)) {
		kprintf("vnet0: device refused our features 0x%llx\n", (unsigned long long)use);
		cfg_w8(VCFG_DEVICE_STATUS, VSTAT_FAILED);
		return -5;
	}
	vn.event_idx = (use >> VIRTIO_F_RING_EVENT_IDX) & 1;
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

	/* 7. Virtqueues: rx0, tx0, rx1, tx1, ..., then the control queue at 2 * max_pairs. */
	for (uint32_t i = 0; i < n; i++) {
		if (vq_setup(&pairs[i].rx, (uint16_t)(2 * i), VNET_QSIZE_RX) ||
		    vq_setup(&pairs[i].tx, (uint16_t)(2 * i + 1), VNET_QSIZE_TX)) {
			kprintf("vnet0: cannot set up queue pair %u\n", i);
			cfg_w8(VCFG_DEVICE_STATUS, VSTAT_FAILED);
			return -6;
		}
	}
	if (use & (1ull << VIRTIO_NET_F_CTRL_VQ)) {
		if (vq_setup(&vn.ctrl, (uint16_t)(2 * max_pairs), 16) ||
		    !(vn.ctrl.bufs = (void *)(uintptr_t)mem_alloc_early(4096, 4096, 0))) {
			kprintf("vnet0: cannot set up the control queue\n");
			cfg_w8(VCFG_DEVICE_STATUS, VSTAT_FAILED);
			return -7;
		}
	}
	/* 8. DRIVER_OK: the device is live. */
	cfg_w8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	if (n > 1) {
		uint16_t np = (uint16_t)n;
		if (ctrl_cmd(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &np, 2) != 0) {
			kprintf("vnet0: device refused %u queue pairs, using 1\n", n);
			n = 1;
		}
	}
	vn.npairs = n;
	kprintf("vnet0: %02x:%02x:%02x:%02x:%02x:%02x, %u queue pairs of %u, rings %u/%u, event idx %s\n",
		vn.mac[0], vn.mac[1], vn.mac[2], vn.mac[3], vn.mac[4], vn.mac[5], n, max_pairs, pairs[0].rx.size,
		pairs[0].tx.size, vn.event_idx ? "on" : "off");
	return (int)n;
}

/* Bind buffers to descriptors once; RX descriptors are device-writable. */
static int vq_bufs(struct vq *q, uint32_t core, bool rx)
{
	q->bufs = (void *)(uintptr_t)mem_alloc(core, (uint64_t)q->size * VNET_BUF_SIZE, 4096);
	if (!q->bufs)
		return -1;
	for (uint16_t i = 0; i < q->size; i++) {
		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + (uint64_t)i * VNET_BUF_SIZE);
		q->desc[i].len = VNET_BUF_SIZE;
		q->desc[i].flags = rx ? VRING_DESC_F_WRITE : 0;
		q->desc[i].next = 0;
	}
	return 0;
}

int vnet_queue_start(uint32_t qi, uint32_t core)
{
	struct vnet_pair *p = &pairs[qi];
	p->core = core;
	if (vq_bufs(&p->rx, core, true) || vq_bufs(&p->tx, core, false)) {
		kprintf("vnet0: no memory for queue %u buffers on core %u\n", qi, core);
		return -1;
	}
	for (uint16_t i = 0; i < p->rx.size; i++)
		p->rx.avail->ring[i] = i;       /* every RX buffer posted */
	p->rx.avail_idx = p->rx.size;
	for (uint16_t i = 0; i < p->tx.size; i++)
		p->tx.free[i] = i;
	p->tx.nfree = p->tx.size;
	vq_kick(&p->rx, &p->st);
	return 0;
}

int vnet_rx(uint32_t qi, void (*deliver)(void *frame, uint32_t len, void *buf), int max)
{
	struct vnet_pair *p = &pairs[qi];
	struct vq *q = &p->rx;
	uint16_t used = *(volatile uint16_t *)&q->used->idx;
	int n = 0;
	if (used == q->last_used)
		return 0;
	dma_rmb();                      /* the index before the entries it covers */
	while (q->last_used != used && n < max) {
		struct vring_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
		q->last_used++;
		if (e.id >= q->size) {
			p->st.bad_used++;
			continue;
		}
		uint8_t *buf = q->bufs + (uint64_t)e.id * VNET_BUF_SIZE;
		if (e.len < VNET_HDR + 14 || e.len > VNET_BUF_SIZE) {
			p->st.rx_drop_bad++;
			q->free[q->nrefill++] = (uint16_t)e.id;
			continue;
		}
		p->st.rx_packets++;
		p->st.rx_bytes += e.len - VNET_HDR;
		deliver(buf + VNET_HDR, e.len - VNET_HDR, buf);
		n++;
	}
	return n;
}

void vnet_rx_release(uint32_t qi, void *buf)
{
	struct vq *q = &pairs[qi].rx;
	uint64_t id = ((uint8_t *)buf - q->bufs) / VNET_BUF_SIZE;
	q->free[q->nrefill++] = (uint16_t)id;   /* reposted in a batch by vnet_flush */
}

/* Take back the TX descriptors the device has finished with. */
static void tx_reap(struct vq *q, struct vnet_qstats *st)
{
	uint16_t used = *(volatile uint16_t *)&q->used->idx;
	if (used == q->last_used)
		return;
	dma_rmb();
	while (q->last_used != used) {
		uint32_t id = q->used->ring[q->last_used & (q->size - 1)].id;
		q->last_used++;
		if (id >= q->size) {
			st->bad_used++;
			continue;
		}
		q->free[q->nfree++] = (uint16_t)id;
	}
}

int vnet_tx(uint32_t qi, const void *frame, uint32_t len)
{
	struct vnet_pair *p = &pairs[qi];
	struct vq *q = &p->tx;
	if (len + VNET_HDR > VNET_BUF_SIZE) {
		p->st.tx_drop_big++;
		return -1;
	}
	if (q->nfree == 0)
		tx_reap(q, &p->st);
	if (q->nfree == 0) {
		p->st.tx_drop_full++;
		return -1;
	}
	uint16_t id = q->free[--q->nfree];
	uint8_t *buf = q->bufs + (uint64_t)id * VNET_BUF_SIZE;
	for (int i = 0; i < VNET_HDR; i++)
		buf[i] = 0;
	memcpy(buf + VNET_HDR, frame, len);
	q->desc[id].len = len + VNET_HDR;
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
	p->st.tx_packets++;
	p->st.tx_bytes += len;
	return 0;
}

void vnet_flush(uint32_t qi)
{
	struct vnet_pair *p = &pairs[qi];
	struct vq *rx = &p->rx;
	if (rx->nrefill) {
		for (uint16_t i = 0; i < rx->nrefill; i++)
			rx->avail->ring[(uint16_t)(rx->avail_idx + i) & (rx->size - 1)] = rx->free[i];
		rx->avail_idx = (uint16_t)(rx->avail_idx + rx->nrefill);
		rx->nrefill = 0;
		vq_kick(rx, &p->st);
	}
	vq_kick(&p->tx, &p->st);
	tx_reap(&p->tx, &p->st);
}
