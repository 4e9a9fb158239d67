/* The virtio 1.x modern PCI transport (virtio 1.2, 4.1) shared by every virtio driver (virtio_net.c,
 * virtio_rng.c): capabilities, reset and feature negotiation, queue set-up, doorbells. Polled only. */
#ifndef POLLUX_VIRTIO_PCI_H
#define POLLUX_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "virtio_pci_reg.h"
#include "virtq.h"

/* One device's transport: where its structures are, what was negotiated. */
struct virtio_pci {
	const char *name;               /* log prefix: "vnet0", "vrng0" */
	struct pci_dev *pci;
	uint64_t common, notify_base, device_cfg;       /* addresses of the regions, 0 = none */
	uint64_t notify_len;            /* bytes of the notify region */
	uint32_t notify_mult;
	uint64_t features;              /* negotiated */
};

/* A queue: the ring (virtq), its memory and its doorbell. */
struct virtio_vq {
	struct virtq q;
	void *mem;
	uint64_t notify;
	uint16_t index;
	uint16_t size;
	struct virtq_stats past;        /* counts from before the last reset */
};

/* Find t's common, notify and (devcfg_min > 0: at least devcfg_min bytes of) device configuration
 * regions among d's vendor capabilities, each checked against its BAR, and turn on memory decoding
 * and bus mastering (pci_enable). name prefixes every message. Returns 0, or -2 (logged) when a
 * region is missing: not a modern device. */
int virtio_pci_attach(struct virtio_pci *t, struct pci_dev *d, const char *name, uint32_t devcfg_min);
/* 3.1.1 steps 1 to 6: reset (bounded by VIRTIO_PCI_RESET_MS), ACKNOWLEDGE, DRIVER, the features in
 * want the device offers, pruned by prune (NULL: none; it drops features whose dependencies are
 * missing), FEATURES_OK read back. VIRTIO_F_VERSION_1 is required. Sets t->features. Returns 0 or
 * a negative error, logged once and with FAILED written. */
#define VIRTIO_PCI_RESET_MS 100
int virtio_pci_negotiate(struct virtio_pci *t, uint64_t want, uint64_t (*prune)(uint64_t use));
/* 4.1.5.1.3: queue index with at most want entries (a power of two no larger than the device's
 * maximum), ring memory allocated the first time and laid out again after a reset, no MSI-X vector,
 * EVENT_IDX as negotiated, enabled. Returns 0, or -1 (no such queue), -2 (no memory), -3 (the device
 * shrank the queue across a reset), -4 (a doorbell outside the notify region); not logged. */
int virtio_pci_vq_setup(struct virtio_pci *t, struct virtio_vq *v, uint16_t index, uint16_t want);
/* Publish what was added to v and ring its doorbell only if the device asked for it. */
void virtio_pci_kick(struct virtio_vq *v);
/* Step 8: DRIVER_OK after everything else. */
void virtio_pci_driver_ok(struct virtio_pci *t);
/* The device status register (NEEDS_RESET among others). */
uint8_t virtio_pci_status(struct virtio_pci *t);
/* Log "name: why", write FAILED when the common region is known, return err. */
int virtio_pci_fail(struct virtio_pci *t, int err, const char *why);

static inline bool virtio_pci_has(const struct virtio_pci *t, unsigned bit)
{
	return (t->features >> bit) & 1;
}

#endif
