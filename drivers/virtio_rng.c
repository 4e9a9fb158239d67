/* virtio-rng, modern PCI transport (drivers/virtio_pci.c), one request queue (drivers/virtq.c):
 * bytes for the seed at boot and for every core's reseed (vrng_). Polled, interrupts off. */
#include <string.h>

#include "kernel.h"
#include "pci.h"
#include "virtio_pci.h"
#include "virtio_rng.h"
#include "virtq.h"

/*
 * The device (5.4) has one queue, requestq (index 0), no feature bits of its own and no device
 * configuration: the driver posts a device-writable buffer and the device fills some or all of it
 * with random bytes, saying how many in the used entry.
 *
 * At boot the driver waits, bounded, for VRNG_BOOT_BYTES and hands them to random_add. Then only
 * core 0 touches the device: every VRNG_POLL_MS its loop takes what the device completed into a
 * small store, posts the next request when the store has room, and offers RANDOM_FEED_BYTES of the
 * store to one core's reseed mailbox (random_feed), going round the cores. So every core's reseed
 * (every 60 s) can take device bytes without a lock, without touching the device and without a
 * line shared on any data path: the mailbox is one line per core, written once a minute by each
 * side. A request the device never completes leaves the store empty: the reseeds go on without
 * device bytes, nothing waits.
 */
#define VRNG_REQ 64                     /* bytes one request asks for */
#define VRNG_STORE (2 * VRNG_REQ)
#define VRNG_QSIZE 4                    /* one request at a time; the smallest ring that is enough */
#define VRNG_POLL_MS 100

/* The softc. */
static struct {
	struct virtio_pci t;
	struct virtio_vq vq;
	uint8_t *buf;                   /* VRNG_REQ bytes the device writes */
	bool pending;                   /* buf is with the device */
	bool live;                      /* core 0's loop may use the device */
	uint8_t store[VRNG_STORE];      /* bytes received, not yet offered */
	uint32_t nstore;
	uint32_t next_core;             /* whose mailbox is offered next */
	uint64_t next_poll;
	uint64_t requests, bytes, empty, bad, fed;
} vr;

static int fail(int err, const char *why)
{
	return virtio_pci_fail(&vr.t, err, why);
}

/* Post buf for the device to fill. */
static int vrng_request(void)
{
	if (virtq_add(&vr.vq.q, (uint64_t)(uintptr_t)vr.buf, VRNG_REQ, true, 0) < 0)
		return -1;
	vr.pending = true;
	vr.requests++;
	virtio_pci_kick(&vr.vq);
	return 0;
}

/* The answer to the pending request: the bytes the device wrote into buf (0 for none, or for a
 * length past the buffer, which virtq clamped: such an answer is not trusted), -1 when there is
 * none yet. */
static int vrng_take(void)
{
	struct virtq_done done;
	if (virtq_poll_used(&vr.vq.q, &done, 1) == 0)
		return -1;
	vr.pending = false;
	uint32_t len = done.clamped ? 0 : done.len;
	vr.bad += done.clamped;
	vr.empty += len == 0;
	vr.bytes += len;
	dma_rmb();                      /* the bytes after the used entry that announced them */
	return (int)len;
}

/* Wipe the request buffer: what was taken from it must not stay in memory. */
static void vrng_wipe(volatile uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = 0;
}

/* Core 0's loop, every VRNG_POLL_MS: take, offer, ask again (see the comment at the top). */
static void vrng_poll(struct cpu *c, uint64_t now)
{
	if (c->idx != 0 || !vr.live || now < vr.next_poll)
		return;
	vr.next_poll = now + arch_counter_hz() / 1000 * VRNG_POLL_MS;
	if (vr.vq.q.broken || (virtio_pci_status(&vr.t) & VSTAT_NEEDS_RESET)) {
		vr.live = false;        /* once: the reseeds go on without device bytes */
		kprintf("vrng0: device broken (NEEDS_RESET or a wild used ring): no more bytes for the reseeds\n");
		return;
	}
	int got = vr.pending ? vrng_take() : -1;
	if (got > 0) {
		uint32_t n = (uint32_t)got < VRNG_STORE - vr.nstore ? (uint32_t)got : VRNG_STORE - vr.nstore;
		memcpy(vr.store + vr.nstore, vr.buf, n);
		vr.nstore += n;
		vrng_wipe(vr.buf, VRNG_REQ);
	}
	if (vr.nstore >= RANDOM_FEED_BYTES) {
		uint8_t *p = vr.store + vr.nstore - RANDOM_FEED_BYTES;
		if (random_feed(vr.next_core, p)) {
			vrng_wipe(p, RANDOM_FEED_BYTES);
			vr.nstore -= RANDOM_FEED_BYTES;
			vr.fed++;
		}
		vr.next_core = vr.next_core + 1 < ncpus ? vr.next_core + 1 : 0;
	}
	if (!vr.pending && vr.nstore + VRNG_REQ <= VRNG_STORE)
		vrng_request();
}

/* The boot's bytes: up to VRNG_BOOT_BYTES into seed within VRNG_BOOT_MS. Returns how many; *late
 * when a request was still with the device at the deadline. */
static uint32_t vrng_boot_read(uint8_t *seed, bool *late)
{
	uint32_t n = 0;
	uint64_t deadline = arch_counter() + arch_counter_hz() / 1000 * VRNG_BOOT_MS;
	*late = false;
	while (n < VRNG_BOOT_BYTES) {
		if (!vr.pending && vrng_request() < 0)
			break;
		int got = vrng_take();
		if (got > 0) {
			uint32_t k = (uint32_t)got < VRNG_BOOT_BYTES - n ? (uint32_t)got : VRNG_BOOT_BYTES - n;
			memcpy(seed + n, vr.buf, k);
			n += k;
			vrng_wipe(vr.buf, VRNG_REQ);
		}
		if (n < VRNG_BOOT_BYTES && arch_counter() > deadline) {
			*late = vr.pending;
			break;
		}
		if (got < 0)
			arch_relax();
	}
	return n;
}

int vrng_init(void)
{
	struct pci_dev *d = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_RNG, 0);
	if (!d)
		d = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_RNG_TRANSITIONAL, 0);
	if (!d)
		return 0;
	int err = virtio_pci_attach(&vr.t, d, "vrng0", 0);
	if (err)
		return err;
	/* No feature of its own (5.4.3); no EVENT_IDX: one request at a time, NO_INTERRUPT is enough. */
	if ((err = virtio_pci_negotiate(&vr.t, 1ull << VIRTIO_F_VERSION_1, NULL)))
		return err;
	if (virtio_pci_vq_setup(&vr.t, &vr.vq, 0, VRNG_QSIZE))
		return fail(-6, "cannot set up the request queue");
	if (!vr.buf && !(vr.buf = (void *)(uintptr_t)mem_alloc_early(VRNG_REQ, 64, 0)))
		return fail(-7, "no memory for the request buffer");
	vr.pending = false;
	vr.nstore = 0;
	virtio_pci_driver_ok(&vr.t);

	uint8_t seed[VRNG_BOOT_BYTES];
	bool late;
	uint64_t t0 = arch_counter();
	uint32_t n = vrng_boot_read(seed, &late);
	uint64_t us = ticks_to_ns(arch_counter() - t0) / 1000;
	if (n)
		random_add(seed, n, 8 * n, "virtio-rng");
	vrng_wipe(seed, sizeof(seed));
	if (late) {
		/* The device keeps the buffer and may write it any time: never post it again. */
		kprintf("vrng0: no answer in %u ms (%u bytes): not used again\n", VRNG_BOOT_MS, n);
		return -8;
	}
	if (n == 0) {
		kprintf("vrng0: the device gave no bytes in %u ms (%llu empty answers): nothing credited\n",
			VRNG_BOOT_MS, (unsigned long long)vr.empty);
		return -9;
	}
	kprintf("vrng0: %u bytes for the seed in %llu us; core 0 refills every core's reseed from it\n", n,
		(unsigned long long)us);
	vr.live = true;
	cpu_poll_register(vrng_poll);
	return 0;
}
