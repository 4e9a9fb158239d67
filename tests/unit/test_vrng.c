/* test_vrng: the virtio-rng driver against a model of a modern virtio-rng PCI device: its bytes reach random_add at boot and every core's mailbox from core 0's loop; a device that never answers is given up after the bound; empty, lying and short answers are not credited beyond what arrived. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <string.h>

#include "kernel.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "drivers/virtio_pci_reg.h"
#include "drivers/virtio_rng.h"
#include "drivers/virtq.h"
#include "test.h"
#include "harness.h"
#include "fakepci.h"

uint32_t ncpus = 2;

/* ---- the device model: virtio 1.2, 4.1 (PCI transport) and 5.4 (entropy device) ---- */

#define RM_BAR 0xfd000000ull            /* BAR4, 64-bit memory: common cfg at 0, notify at 0x3000 */
#define RM_BAR_SIZE 0x4000ull
#define RM_NOTIFY 0x3000u
#define RM_QMAX 8

enum rm_mode {
	RM_GOOD,                        /* fills every buffer */
	RM_SILENT,                      /* takes requests and never answers */
	RM_EMPTY,                       /* answers with 0 bytes */
	RM_LIAR,                        /* says it wrote 100 bytes more than the buffer holds */
	RM_SHORT,                       /* 5 bytes an answer */
};

static struct {
	enum rm_mode mode;
	uint8_t status;
	uint32_t dfsel, drsel;
	uint64_t drv_features, features;
	uint16_t qsel, qsize, qenable;
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx;
	uint64_t doorbells, violations, resets;
	uint8_t next;                   /* the next byte the device makes */
	uint8_t out[4096];              /* every byte written into a buffer, in order */
	uint32_t nout;
} rm;
static struct acpi_info rm_acpi;

static void violation(const char *why)
{
	rm.violations++;
	fprintf(stderr, "  model: %s\n", why);
}

/* The avail entries the driver made since the last doorbell, each answered as the mode says. */
static void rm_process(void)
{
	if (!(rm.status & VSTAT_DRIVER_OK) || !rm.qenable) {
		violation("doorbell before DRIVER_OK or with the queue off");
		return;
	}
	struct virtq_avail *av = (void *)(uintptr_t)rm.avail;
	struct virtq_used *us = (void *)(uintptr_t)rm.used;
	struct virtq_desc *d = (void *)(uintptr_t)rm.desc;
	while (rm.last_avail != av->idx) {
		uint16_t id = av->ring[rm.last_avail++ & (rm.qsize - 1)];
		if (id >= rm.qsize || !(d[id].flags & VIRTQ_DESC_F_WRITE) || d[id].len == 0) {
			violation("a request that is not one device-writable buffer");
			continue;
		}
		if (rm.mode == RM_SILENT)
			continue;
		uint32_t len = rm.mode == RM_EMPTY ? 0 : rm.mode == RM_SHORT && d[id].len > 5 ? 5 : d[id].len;
		uint8_t *b = (void *)(uintptr_t)d[id].addr;
		for (uint32_t i = 0; i < len; i++) {
			b[i] = rm.next;
			if (rm.nout < sizeof(rm.out))
				rm.out[rm.nout++] = rm.next;
			rm.next = (uint8_t)(rm.next * 5 + 17);
		}
		us->ring[rm.used_idx & (rm.qsize - 1)] = (struct virtq_used_elem){ id, rm.mode == RM_LIAR ? len + 100 : len };
		__sync_synchronize();
		us->idx = ++rm.used_idx;
	}
}

static void rm_reset(void)
{
	rm.status = 0;
	rm.features = rm.drv_features = 0;
	rm.qsize = RM_QMAX, rm.qenable = 0;
	rm.last_avail = rm.used_idx = 0;
	rm.resets++;
}

static uint64_t rm_read(void *ctx, uint64_t off, int size)
{
	(void)ctx, (void)size;
	switch (off) {
	case VCFG_DEVICE_FEATURE:
		return rm.dfsel == 1 ? 1 : 0;           /* VIRTIO_F_VERSION_1 (bit 32) and nothing else */
	case VCFG_NUM_QUEUES:
		return 1;
	case VCFG_DEVICE_STATUS:
		return rm.status;
	case VCFG_QUEUE_SELECT:
		return rm.qsel;
	case VCFG_QUEUE_SIZE:
		return rm.qsel == 0 ? rm.qsize : 0;
	case VCFG_QUEUE_ENABLE:
		return rm.qenable;
	case VCFG_QUEUE_NOTIFY_OFF:
		return 0;
	}
	violation("read of a register the model does not have");
	return ~0ull;
}

static void rm_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx, (void)size;
	if (off == RM_NOTIFY) {
		rm.doorbells++;
		if (v != 0)
			violation("doorbell for a queue that does not exist");
		rm_process();
		return;
	}
	switch (off) {
	case VCFG_DEVICE_FEATURE_SELECT: rm.dfsel = (uint32_t)v; return;
	case VCFG_DRIVER_FEATURE_SELECT: rm.drsel = (uint32_t)v; return;
	case VCFG_DRIVER_FEATURE:
		rm.drv_features = (rm.drv_features & ~(0xffffffffull << (32 * rm.drsel))) | v << (32 * rm.drsel);
		return;
	case VCFG_DEVICE_STATUS:
		if (v == 0) {
			rm_reset();
			return;
		}
		if ((v & VSTAT_FEATURES_OK) && !(rm.status & VSTAT_FEATURES_OK)) {
			if (rm.drv_features != 1ull << 32)
				return;         /* refused: FEATURES_OK does not stick */
			rm.features = rm.drv_features;
		}
		if ((v & VSTAT_DRIVER_OK) && !rm.qenable)
			violation("DRIVER_OK with the request queue not enabled");
		rm.status = (uint8_t)v;
		return;
	case VCFG_QUEUE_SELECT: rm.qsel = (uint16_t)v; return;
	case VCFG_QUEUE_SIZE:
		if (v == 0 || v > RM_QMAX || (v & (v - 1)))
			violation("queue size not a power of two up to the maximum");
		rm.qsize = (uint16_t)v;
		return;
	case VCFG_QUEUE_MSIX_VECTOR: return;
	case VCFG_QUEUE_ENABLE: rm.qenable = (uint16_t)v; return;
	case VCFG_QUEUE_DESC: rm.desc = (rm.desc & ~0xffffffffull) | v; return;
	case VCFG_QUEUE_DESC + 4: rm.desc = (rm.desc & 0xffffffffull) | v << 32; return;
	case VCFG_QUEUE_DRIVER: rm.avail = (rm.avail & ~0xffffffffull) | v; return;
	case VCFG_QUEUE_DRIVER + 4: rm.avail = (rm.avail & 0xffffffffull) | v << 32; return;
	case VCFG_QUEUE_DEVICE: rm.used = (rm.used & ~0xffffffffull) | v; return;
	case VCFG_QUEUE_DEVICE + 4: rm.used = (rm.used & 0xffffffffull) | v << 32; return;
	}
	violation("write to a register the model does not have");
}

/* A vendor capability at off: type, BAR 4, offset and length in it. */
static void rm_cap(size_t fn, uint32_t off, uint8_t next, uint8_t len, uint8_t type, uint32_t at, uint32_t n)
{
	fakepci_cap(fn, off, PCI_CAP_VENDOR, next);
	fakepci_put(fakepci.mem, fn + off + 2, len, 1);
	fakepci_put(fakepci.mem, fn + off + VIRTIO_CAP_CFG_TYPE, type, 1);
	fakepci_put(fakepci.mem, fn + off + VIRTIO_CAP_BAR, 4, 1);
	fakepci_put(fakepci.mem, fn + off + VIRTIO_CAP_OFFSET, at, 4);
	fakepci_put(fakepci.mem, fn + off + VIRTIO_CAP_LENGTH, n, 4);
}

/* A fresh device (device ID id, or none with 0) on bus 0, found by pci_scan(&rm_acpi). */
static void rm_init(enum rm_mode mode, uint16_t id)
{
	memset(&rm, 0, sizeof(rm));
	rm.mode = mode;
	rm.next = 1;
	rm_reset();
	fakepci_reset();
	if (id) {
		size_t fn = fakepci_fn(0, 2, 0, VIRTIO_PCI_VENDOR, id, 0x00, 0xff, 0x00);
		fakepci_bar(fn, 4, 0x4 | (uint32_t)RM_BAR, (uint32_t)~(RM_BAR_SIZE - 1));
		fakepci_bar(fn, 5, 0, 0xffffffffu);
		fakepci_cap_ptr(fn, 0x40);
		rm_cap(fn, 0x40, 0x50, 16, VIRTIO_PCI_CAP_COMMON_CFG, 0, 0x40);
		rm_cap(fn, 0x50, 0, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, RM_NOTIFY, 4);
		fakepci_put(fakepci.mem, fn + 0x50 + VIRTIO_CAP_NOTIFY_MULT, 0, 4);
	}
	pci_set_cfg_ops(&fakepci_ops);
	memset(&rm_acpi, 0, sizeof(rm_acpi));
	rm_acpi.nmcfg = 1;
	rm_acpi.mcfg[0].base = fakepci.base;
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ RM_BAR, RM_BAR_SIZE, rm_read, rm_write, NULL });
	pci_scan(&rm_acpi);
}

/* ---- what the driver gives the kernel, recorded ---- */

static struct {
	int calls;
	uint8_t b[256];
	size_t n;
	uint32_t bits;
	const char *source;
} added;
void random_add(const void *p, size_t n, uint32_t bits, const char *source)
{
	added.calls++;
	memcpy(added.b, p, n < sizeof(added.b) ? n : sizeof(added.b));
	added.n = n, added.bits = bits, added.source = source;
}

static struct {
	int calls;
	uint32_t core[64];
	uint8_t b[64][RANDOM_FEED_BYTES];
	bool refuse;
} fed;
bool random_feed(uint32_t core, const uint8_t p[RANDOM_FEED_BYTES])
{
	if (fed.refuse || fed.calls == 64)
		return false;
	fed.core[fed.calls] = core;
	memcpy(fed.b[fed.calls++], p, RANDOM_FEED_BYTES);
	return true;
}

/* ---- cases ---- */

/* A working device: 32 of its bytes, in its order, to random_add for 256 bits; then core 0's loop
 * hands further device bytes to each core's mailbox in turn, and other cores never touch it. */
static void test_good(void)
{
	rm_init(RM_GOOD, VIRTIO_PCI_DEVICE_RNG);
	CHECK_EQ(vrng_init(), 0);
	CHECK_EQ(rm.violations, 0);
	CHECK_EQ(rm.features, 1ull << VIRTIO_F_VERSION_1);
	CHECK_EQ(added.calls, 1);
	CHECK_EQ(added.n, VRNG_BOOT_BYTES);
	CHECK_EQ(added.bits, 8 * VRNG_BOOT_BYTES);
	CHECK_STR(added.source, "virtio-rng");
	CHECK(memcmp(added.b, rm.out, VRNG_BOOT_BYTES) == 0);
	CHECK(klog_has("vrng0: 32 bytes for the seed"));
	CHECK_EQ(harness_npolls, 1);
	if (harness_npolls != 1)
		return;
	struct cpu c0 = { 0 }, c1 = { 0 };
	c1.idx = 1;
	uint64_t bells = rm.doorbells;
	for (int i = 1; i <= 100; i++)
		harness_polls[0](&c1, (uint64_t)i * HZ);
	CHECK_EQ(rm.doorbells, bells);                  /* only core 0 uses the device */
	CHECK_EQ(fed.calls, 0);
	for (int i = 1; i <= 20; i++)
		harness_polls[0](&c0, (uint64_t)i * HZ);
	CHECK(fed.calls >= 8);
	CHECK_EQ(rm.violations, 0);
	int alternate = 0, from_device = 0;
	for (int i = 0; i < fed.calls; i++) {
		alternate += fed.core[i] == (uint32_t)(i % 2);
		/* Each offer is 32 bytes the device made after the boot's, in one run. */
		for (uint32_t at = VRNG_BOOT_BYTES; at + RANDOM_FEED_BYTES <= rm.nout; at++)
			if (memcmp(fed.b[i], rm.out + at, RANDOM_FEED_BYTES) == 0) {
				from_device++;
				break;
			}
	}
	CHECK_EQ(alternate, fed.calls);
	CHECK_EQ(from_device, fed.calls);
	/* Polls closer together than VRNG_POLL_MS do nothing. */
	bells = rm.doorbells;
	int calls = fed.calls;
	for (int i = 0; i < 50; i++)
		harness_polls[0](&c0, 20 * HZ + (uint64_t)i);
	CHECK_EQ(rm.doorbells, bells);
	CHECK_EQ(fed.calls, calls);
	/* A full mailbox is offered again later, not overwritten, and the store stops asking. */
	fed.refuse = true;
	for (int i = 21; i <= 40; i++)
		harness_polls[0](&c0, (uint64_t)i * HZ);
	uint64_t asked = rm.doorbells;
	for (int i = 41; i <= 60; i++)
		harness_polls[0](&c0, (uint64_t)i * HZ);
	CHECK_EQ(rm.doorbells, asked);
	CHECK_EQ(fed.calls, calls);
}

/* A device that takes the request and never answers costs VRNG_BOOT_MS of the boot, is reported,
 * credited nothing and not used again. */
static void test_silent(void)
{
	rm_init(RM_SILENT, VIRTIO_PCI_DEVICE_RNG);
	uint64_t t0 = host_clock;
	CHECK(vrng_init() < 0);
	uint64_t spent = host_clock - t0;
	CHECK(spent >= VRNG_BOOT_MS * HZ / 1000);
	CHECK(spent < (VRNG_BOOT_MS + 10) * HZ / 1000);
	CHECK_EQ(added.calls, 0);
	CHECK(klog_has("vrng0: no answer in 200 ms"));
	CHECK_EQ(harness_npolls, 0);
	CHECK_EQ(rm.doorbells, 1);                      /* one request, never posted again */
	CHECK_EQ(rm.violations, 0);
}

/* Answers of 0 bytes, or of more bytes than the buffer holds: nothing credited, within the bound. */
static void test_empty(void)
{
	rm_init(RM_EMPTY, VIRTIO_PCI_DEVICE_RNG);
	uint64_t t0 = host_clock;
	CHECK(vrng_init() < 0);
	CHECK(host_clock - t0 < (VRNG_BOOT_MS + 10) * HZ / 1000);
	CHECK_EQ(added.calls, 0);
	CHECK(klog_has("vrng0: the device gave no bytes"));
	CHECK_EQ(harness_npolls, 0);
	CHECK(rm.doorbells > 1);
	CHECK_EQ(rm.violations, 0);
}

static void test_liar(void)
{
	rm_init(RM_LIAR, VIRTIO_PCI_DEVICE_RNG);
	CHECK(vrng_init() < 0);
	CHECK_EQ(added.calls, 0);
	CHECK(klog_has("vrng0: the device gave no bytes"));
	CHECK_EQ(rm.violations, 0);
}

/* Short answers are gathered until there are 32 bytes; a transitional device (1005) is driven
 * through the same modern capabilities. */
static void test_short(void)
{
	rm_init(RM_SHORT, VIRTIO_PCI_DEVICE_RNG_TRANSITIONAL);
	CHECK_EQ(vrng_init(), 0);
	CHECK_EQ(added.calls, 1);
	CHECK_EQ(added.n, VRNG_BOOT_BYTES);
	CHECK_EQ(added.bits, 8 * VRNG_BOOT_BYTES);
	CHECK(memcmp(added.b, rm.out, VRNG_BOOT_BYTES) == 0);
	CHECK_EQ(rm.doorbells, 7);                      /* 5 bytes an answer */
	CHECK_EQ(rm.violations, 0);
}

/* No device: nothing added, nothing registered, nothing said. */
static void test_none(void)
{
	rm_init(RM_GOOD, 0);
	CHECK_EQ(vrng_init(), 0);
	CHECK_EQ(added.calls, 0);
	CHECK_EQ(harness_npolls, 0);
	CHECK(!klog_has("vrng0"));
}

TEST_MAIN("test_vrng: the virtio-rng driver's bytes reach random_add at boot (32, credited 256 bits) and "
	  "each core's mailbox from core 0's loop only; a device that never answers is given up after "
	  "VRNG_BOOT_MS; empty or lying answers are credited nothing; short ones are gathered", {
	harness_run("a working device", test_good);
	harness_run("a device that never answers", test_silent);
	harness_run("a device that answers with nothing", test_empty);
	harness_run("a device that lies about the length", test_liar);
	harness_run("short answers, a transitional device", test_short);
	harness_run("no device", test_none);
})
