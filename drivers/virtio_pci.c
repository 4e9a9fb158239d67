/* The virtio 1.x modern PCI transport shared by the virtio drivers (virtio 1.2, 4.1; virtio_pci.h). */
#include "kernel.h"
#include "virtio_pci.h"

/* All common-configuration access goes through these. */
static uint8_t cfg_r8(struct virtio_pci *t, uint32_t off) { return mmio_read8(t->common + off); }
static uint16_t cfg_r16(struct virtio_pci *t, uint32_t off) { return mmio_read16(t->common + off); }
static uint32_t cfg_r32(struct virtio_pci *t, uint32_t off) { return mmio_read32(t->common + off); }
static void cfg_w8(struct virtio_pci *t, uint32_t off, uint8_t v) { mmio_write8(t->common + off, v); }
static void cfg_w16(struct virtio_pci *t, uint32_t off, uint16_t v) { mmio_write16(t->common + off, v); }
static void cfg_w32(struct virtio_pci *t, uint32_t off, uint32_t v) { mmio_write32(t->common + off, v); }
static void cfg_w64(struct virtio_pci *t, uint32_t off, uint64_t v)
{
	cfg_w32(t, off, (uint32_t)v);   /* two 32-bit halves: 4.1.3.1 allows nothing wider */
	cfg_w32(t, off + 4, (uint32_t)(v >> 32));
}

int virtio_pci_fail(struct virtio_pci *t, int err, const char *why)
{
	kprintf("%s: %s\n", t->name, why);
	if (t->common)
		cfg_w8(t, VCFG_DEVICE_STATUS, VSTAT_FAILED);
	return err;
}

/* A capability's region, checked against its BAR: the device's word is not enough. */
static uint64_t cap_region(struct pci_dev *d, int off, uint32_t need, uint64_t *size)
{
	uint8_t bar = pci_cfg_read8(d, (uint16_t)(off + VIRTIO_CAP_BAR));
	if (bar > 5 || pci_bar_addr(d, bar) == 0)
		return 0;       /* no such BAR, or an I/O BAR: we use memory-mapped regions only */
	uint64_t o = pci_cfg_read32(d, (uint16_t)(off + VIRTIO_CAP_OFFSET));
	uint64_t len = pci_cfg_read32(d, (uint16_t)(off + VIRTIO_CAP_LENGTH));
	if (len < need || o + len > pci_bar_size(d, bar))
		return 0;
	if (size)
		*size = len;
	return pci_bar_addr(d, bar) + o;
}

int virtio_pci_attach(struct virtio_pci *t, struct pci_dev *d, const char *name, uint32_t devcfg_min)
{
	t->name = name;
	t->pci = d;
	t->common = t->notify_base = t->device_cfg = 0;
	for (int off = pci_find_cap(d, PCI_CAP_VENDOR, 0); off; off = pci_find_cap(d, PCI_CAP_VENDOR, off)) {
		uint8_t type = pci_cfg_read8(d, (uint16_t)(off + VIRTIO_CAP_CFG_TYPE));
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && !t->common) {
			t->common = cap_region(d, off, 0x38, NULL);
		} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !t->notify_base) {
			t->notify_base = cap_region(d, off, 2, &t->notify_len);
			t->notify_mult = pci_cfg_read32(d, (uint16_t)(off + VIRTIO_CAP_NOTIFY_MULT));
		} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && devcfg_min && !t->device_cfg) {
			t->device_cfg = cap_region(d, off, devcfg_min, NULL);
		}
	}
	if (!t->common || !t->notify_base || (devcfg_min && !t->device_cfg)) {
		t->common = 0;          /* not ours to write FAILED to */
		return virtio_pci_fail(t, -2, devcfg_min ?
				       "not a modern virtio device (no usable common/notify/device capability)" :
				       "not a modern virtio device (no usable common/notify capability)");
	}
	pci_enable(d);
	return 0;
}

int virtio_pci_negotiate(struct virtio_pci *t, uint64_t want, uint64_t (*prune)(uint64_t use))
{
	/* Step 1: a reset completes when the status reads 0 again (4.1.4.3.2); a device that never
	 * gets there costs VIRTIO_PCI_RESET_MS. */
	cfg_w8(t, VCFG_DEVICE_STATUS, 0);
	uint64_t deadline = arch_counter() + arch_counter_hz() / 1000 * VIRTIO_PCI_RESET_MS;
	while (cfg_r8(t, VCFG_DEVICE_STATUS) != 0) {
		if (arch_counter() > deadline)
			return virtio_pci_fail(t, -3, "reset did not complete");
		arch_relax();
	}
	cfg_w8(t, VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE);
	cfg_w8(t, VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER);
	cfg_w32(t, VCFG_DEVICE_FEATURE_SELECT, 0);
	uint64_t have = cfg_r32(t, VCFG_DEVICE_FEATURE);
	cfg_w32(t, VCFG_DEVICE_FEATURE_SELECT, 1);
	have |= (uint64_t)cfg_r32(t, VCFG_DEVICE_FEATURE) << 32;
	uint64_t use = have & want;
	if (!(use & (1ull << VIRTIO_F_VERSION_1)))
		return virtio_pci_fail(t, -4, "device lacks VIRTIO_F_VERSION_1");
	if (prune)
		use = prune(use);
	cfg_w32(t, VCFG_DRIVER_FEATURE_SELECT, 0);
	cfg_w32(t, VCFG_DRIVER_FEATURE, (uint32_t)use);
	cfg_w32(t, VCFG_DRIVER_FEATURE_SELECT, 1);
	cfg_w32(t, VCFG_DRIVER_FEATURE, (uint32_t)(use >> 32));
	cfg_w8(t, VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK);
	if (!(cfg_r8(t, VCFG_DEVICE_STATUS) & VSTAT_FEATURES_OK))
		return virtio_pci_fail(t, -5, "device refused our features");
	t->features = use;
	return 0;
}

int virtio_pci_vq_setup(struct virtio_pci *t, struct virtio_vq *v, uint16_t index, uint16_t want)
{
	cfg_w16(t, VCFG_QUEUE_SELECT, index);
	uint16_t max = cfg_r16(t, VCFG_QUEUE_SIZE);
	if (max == 0)
		return -1;
	uint16_t size = want < max ? want : max;
	size = (uint16_t)(1u << (31 - __builtin_clz(size)));   /* the ring code wants a power of two */
	if (!v->mem) {
		uint64_t mem = mem_alloc_early(virtq_mem_size(size), VIRTQ_MEM_ALIGN, 0);
		if (!mem)
			return -2;
		v->mem = (void *)(uintptr_t)mem;
		v->size = size;
	} else if (size != v->size) {
		return -3;              /* the device shrank the queue across a reset */
	}
	struct virtq_stats s = v->q.stats;
	v->past.notifies += s.notifies, v->past.notifies_suppressed += s.notifies_suppressed;
	v->past.bad_used += s.bad_used + s.bad_len, v->past.bad_idx += s.bad_idx;
	virtq_init(&v->q, size, v->mem, (uint64_t)(uintptr_t)v->mem);     /* RAM is identity-mapped */
	v->q.event_idx = virtio_pci_has(t, VIRTIO_F_RING_EVENT_IDX);
	v->index = index;
	cfg_w16(t, VCFG_QUEUE_SIZE, size);
	cfg_w16(t, VCFG_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	cfg_w64(t, VCFG_QUEUE_DESC, virtq_desc_pa(&v->q));
	cfg_w64(t, VCFG_QUEUE_DRIVER, virtq_avail_pa(&v->q));
	cfg_w64(t, VCFG_QUEUE_DEVICE, virtq_used_pa(&v->q));
	uint64_t off = (uint64_t)cfg_r16(t, VCFG_QUEUE_NOTIFY_OFF) * t->notify_mult;
	if (off + 2 > t->notify_len)
		return -4;              /* a doorbell outside the region the capability gave */
	v->notify = t->notify_base + off;
	dma_wmb();                      /* the rings' initial contents before the device may look */
	cfg_w16(t, VCFG_QUEUE_ENABLE, 1);
	return 0;
}

void virtio_pci_kick(struct virtio_vq *v)
{
	virtq_publish(&v->q);
	if (virtq_need_notify(&v->q))
		mmio_write16(v->notify, v->index);
}

void virtio_pci_driver_ok(struct virtio_pci *t)
{
	cfg_w8(t, VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
}

uint8_t virtio_pci_status(struct virtio_pci *t)
{
	return cfg_r8(t, VCFG_DEVICE_STATUS);
}
