/* Host test of drivers/pci.c against a fake ECAM in host memory with a register model, also reachable through a model of x86's ports 0xCF8/0xCFC (tests/unit/host/fakepci.c). */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "test.h"
#include "harness.h"
#include "fakepci.h"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the fake ECAM (tests/unit/host/fakepci.c), the MCFG entries each test gives it ---- */
static struct acpi_info ai;

static void ecam_reset(void)
{
	fakepci_reset();
	host_port_io = false;           /* as on AArch64, until a test gives the machine ports */
	memset(&ai, 0, sizeof(ai));
	klog_clear();
}

/* Every capability of id cap_id the way a driver loops over them; the guard catches a hang. */
static int collect_caps(const struct pci_dev *d, uint8_t cap_id, int *out, int max)
{
	int n = 0, guard = 0;
	for (int off = pci_find_cap(d, cap_id, 0); off && guard < 1000; off = pci_find_cap(d, cap_id, off), guard++)
		if (n < max)
			out[n++] = off;
	CHECK(guard < 1000);
	return n;
}

/* ---- default ECAM ops: addresses, bus_start, BAR registers put back ---- */
static void test_default_ecam(void)
{
	ecam_reset();
	pci_set_cfg_ops(NULL);
	/* The MCFG base is where bus 0 would be: this entry starts at bus 2, our buffer holds buses 2..5. */
	ai.nmcfg = 1;
	ai.mcfg[0].base = fakepci.base - ((uint64_t)2 << PCI_ECAM_BUS_SHIFT);
	ai.mcfg[0].segment = 3;
	ai.mcfg[0].bus_start = 2;
	ai.mcfg[0].bus_end = 5;
	size_t s0 = fakepci_fn(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0x00);
	fakepci_fn(3, 31, 0, 0x8086, 0x2918, 0x06, 0x01, 0x80);
	size_t s = fakepci_fn(3, 31, 7, 0x1234, 0x5678, 0x02, 0x00, 0x00);
	fakepci_put(fakepci.mem, s + PCI_CFG_COMMAND, PCI_CMD_MEM, 2);
	fakepci_put(fakepci.mem, s + PCI_CFG_BAR0, 0xfe000000u, 4);

	CHECK_EQ(pci_scan(&ai), 3);
	struct pci_dev *d = pci_find(0x1234, 0x5678, 0);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d->segment, 3);
		CHECK_EQ(d->bus, 5);
		CHECK_EQ(d->dev, 31);
		CHECK_EQ(d->fn, 7);
		CHECK_EQ(d->cfg, fakepci.base + ((uint64_t)3 << 20 | 31 << 15 | 7 << 12));
		CHECK_EQ(pci_cfg_read16(d, PCI_CFG_DEVICE), 0x5678);
		CHECK_EQ(pci_cfg_read32(d, PCI_CFG_VENDOR), 0x56781234);
		/* Plain memory keeps the ones: the size is then the smallest a memory BAR can be. */
		CHECK_EQ(pci_bar_addr(d, 0), 0xfe000000u);
		CHECK_EQ(pci_bar_size(d, 0), 16);
		/* Offsets outside the 4 KiB space or misaligned never reach memory. */
		CHECK_EQ(pci_cfg_read32(d, 0xffe), 0xffffffffu);
		CHECK_EQ(pci_cfg_read16(d, 0x1001), 0xffff);
		CHECK_EQ(pci_cfg_read8(d, 0x1000), 0xff);
		CHECK_EQ(pci_cfg_read32(d, 0xffc), 0);
		pci_cfg_write16(d, 0x3, 0);
		CHECK_EQ(fakepci_get(s + 2, 4), 0x00025678u);   /* device ID and command as they were */
	}
	CHECK_EQ(fakepci_get(s + PCI_CFG_BAR0, 4), 0xfe000000u);        /* put back after sizing */
	CHECK_EQ(fakepci_get(s + PCI_CFG_COMMAND, 2), PCI_CMD_MEM);     /* decoding back on */
	d = pci_find(0x8086, 0x29c0, 0);
	CHECK(d && d->bus == 2 && d->dev == 0 && d->cfg == fakepci.base);
	if (d) {
		pci_cfg_write32(d, 0x1000, 0);          /* would be function 1's vendor ID */
		CHECK_EQ(fakepci_get(s0 + PCI_CFG_SIZE, 4), 0xffffffffu);
	}
}

/* ---- the model: topology, BARs, capabilities ---- */
static size_t s_net, s_big, s_bridge, s_net2;

static void build_model(void)
{
	ecam_reset();
	pci_set_cfg_ops(&fakepci_ops);
	ai.nmcfg = 2;
	ai.mcfg[0].base = fakepci.base;                      /* segment 0, buses 0..1: buffer buses 0, 1 */
	ai.mcfg[0].bus_start = 0;
	ai.mcfg[0].bus_end = 1;
	ai.mcfg[1].base = fakepci.base + ((uint64_t)2 << 20) - ((uint64_t)0x10 << 20);   /* buses 0x10..0x11 */
	ai.mcfg[1].segment = 1;
	ai.mcfg[1].bus_start = 0x10;
	ai.mcfg[1].bus_end = 0x11;

	fakepci_fn(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0x00);
	/* Multi-function with a gap: functions 0 and 3. */
	fakepci_fn(0, 1, 0, 0x1b36, 0x0001, 0x06, 0x80, PCI_HEADER_MULTIFN);
	fakepci_fn(0, 1, 3, 0x1b36, 0x0002, 0x06, 0x80, 0x00);
	/* Single-function device that ignores the function number: a ghost at function 1. */
	fakepci_fn(0, 2, 0, 0x1b36, 0x0010, 0x01, 0x06, 0x00);
	fakepci_fn(0, 2, 1, 0x1b36, 0x0010, 0x01, 0x06, 0x00);
	/* No function 0: no device, whatever function 1 says. */
	fakepci_fn(0, 3, 1, 0x1b36, 0x0020, 0x01, 0x06, PCI_HEADER_MULTIFN);
	/* Vendor 0: treated as absent. */
	fakepci_fn(0, 4, 0, 0x0000, 0x0030, 0x01, 0x06, 0x00);

	/* The NIC: I/O, 32-bit memory, none, 16-bit I/O, 64-bit prefetchable memory; a capability list. */
	s_net = fakepci_fn(1, 0, 0, 0x1af4, 0x1041, 0x02, 0x00, 0x00);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_REVISION, 0x01, 1);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_PROGIF, 0x00, 1);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_SUBSYS_VENDOR, 0x1af4, 2);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_SUBSYS_ID, 0x0001, 2);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_COMMAND, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	fakepci_put(fakepci.mem, s_net + PCI_CFG_STATUS, 0x2000, 2);    /* received master abort, W1C */
	fakepci_bar(s_net, 0, 0x0000c041, 0xffffffe0);     /* 32 bytes of I/O */
	fakepci_bar(s_net, 1, 0xfebd1000, 0xfffff000);     /* 4 KiB */
	fakepci_bar(s_net, 2, 0, 0);                       /* not implemented */
	fakepci_bar(s_net, 3, 0x0000e001, 0x0000ff00);     /* 256 bytes of I/O, 16-bit decoder */
	fakepci_bar(s_net, 4, 0x0000000c, 0xffffc000);     /* 16 KiB, 64-bit, prefetchable ... */
	fakepci_bar(s_net, 5, 0x00000008, 0xffffffff);     /* ... at 0x8_0000_0000 */
	fakepci_cap_ptr(s_net, 0x40);
	fakepci_cap(s_net, 0x40, 0x01, 0x50);               /* power management */
	fakepci_cap(s_net, 0x50, PCI_CAP_ID_VENDOR, 0x60);
	fakepci_cap(s_net, 0x60, PCI_CAP_ID_MSIX, 0x70);
	fakepci_put(fakepci.mem, s_net + 0x60 + PCI_MSIX_CTRL, 0x8003, 2);      /* enabled, table size 4 */
	fakepci_put(fakepci.wmask, s_net + 0x60 + PCI_MSIX_CTRL, 0xc000, 2);
	fakepci_cap(s_net, 0x70, PCI_CAP_ID_VENDOR, 0x84);
	fakepci_cap(s_net, 0x84, PCI_CAP_ID_MSI, 0x98);
	fakepci_put(fakepci.mem, s_net + 0x84 + PCI_MSI_CTRL, 0x0081, 2);       /* enabled, 64-bit capable */
	fakepci_put(fakepci.wmask, s_net + 0x84 + PCI_MSI_CTRL, 0x0071, 2);
	fakepci_cap(s_net, 0x98, PCI_CAP_ID_VENDOR, 0x00);

	/* An 8 GiB 64-bit BAR, a reserved BAR type, and a 64-bit BAR in the last slot. Decoding off. */
	s_big = fakepci_fn(1, 1, 0, 0x10de, 0x1eb8, 0x03, 0x00, 0x00);
	fakepci_bar(s_big, 0, 0x0000000c, 0x00000000);
	fakepci_bar(s_big, 1, 0x00000004, 0xfffffffe);
	fakepci_bar(s_big, 2, 0x00000006, 0xfffff000);
	fakepci_bar(s_big, 5, 0x00000004, 0xfffff000);
	fakepci_put(fakepci.mem, s_big + 0x28, 0x12345678, 4);          /* what lies past BAR5 must stay untouched */
	fakepci_put(fakepci.wmask, s_big + 0x28, 0xffffffff, 4);

	/* A PCI-to-PCI bridge: two BARs, then the bus numbers, which sizing must not touch. */
	s_bridge = fakepci_fn(1, 2, 0, 0x1b36, 0x000c, 0x06, 0x04, 0x01);
	fakepci_bar(s_bridge, 0, 0xfe800000, 0xffff0000);
	fakepci_put(fakepci.mem, s_bridge + 0x18, 0x00020100, 4);
	fakepci_put(fakepci.wmask, s_bridge + 0x18, 0x00ffffff, 4);
	fakepci_put(fakepci.mem, s_bridge + 0x2c, 0xdeadbeef, 4);       /* prefetchable limit, not a subsystem ID */

	/* Segment 1: a second NIC (no capability bit, an unassigned BAR) and a multi-function device at
	 * the last device number. */
	s_net2 = fakepci_fn(2, 0, 0, 0x1af4, 0x1041, 0x02, 0x00, 0x00);
	fakepci_put(fakepci.mem, s_net2 + PCI_CFG_CAP_PTR, 0x40, 1);    /* without PCI_STATUS_CAP_LIST: ignored */
	fakepci_cap(s_net2, 0x40, PCI_CAP_ID_VENDOR, 0);
	fakepci_bar(s_net2, 0, 0x00000000, 0xfffff000);
	fakepci_fn(3, 31, 0, 0x8086, 0x10d3, 0x02, 0x00, PCI_HEADER_MULTIFN);
	fakepci_fn(3, 31, 7, 0x8086, 0x10d3, 0x02, 0x00, 0x00);
}

static void test_scan(void)
{
	build_model();
	CHECK_EQ(pci_scan(&ai), 10);
	CHECK_EQ(pci_dropped(), 0);
	CHECK_EQ(klen, 0);
	CHECK_EQ(fakepci.bad_access, 0);
	CHECK_EQ(fakepci.sized_while_decoding, 0);
	CHECK_EQ(fakepci.writes_elsewhere, 0);

	/* Multi-function detection. */
	struct pci_dev *d = pci_find(0x1b36, 0x0002, 0);
	CHECK(d && d->bus == 0 && d->dev == 1 && d->fn == 3);
	CHECK(pci_find(0x1b36, 0x0001, 0) != NULL);
	d = pci_find(0x1b36, 0x0010, 0);
	CHECK(d && d->fn == 0);
	CHECK(pci_find(0x1b36, 0x0010, 1) == NULL);     /* the ghost is not a function */
	CHECK(pci_find(0x1b36, 0x0020, 0) == NULL);
	CHECK(pci_find(0x0000, 0x0030, 0) == NULL);
	d = pci_find(0x8086, 0x10d3, 1);
	CHECK(d && d->segment == 1 && d->bus == 0x11 && d->dev == 31 && d->fn == 7);
	d = pci_find(0x1af4, 0x1041, 1);
	CHECK(d && d->segment == 1 && d->bus == 0x10 && d->dev == 0);
	CHECK(pci_find(0x1af4, 0x1041, 2) == NULL);
	CHECK(pci_find(0xffff, 0xffff, 0) == NULL);

	/* Identity of the NIC. */
	d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(d->segment == 0 && d->bus == 1 && d->dev == 0 && d->fn == 0);
	CHECK_EQ(d->class, 0x02);
	CHECK_EQ(d->subclass, 0x00);
	CHECK_EQ(d->revision, 0x01);
	CHECK_EQ(d->header_type, 0x00);
	CHECK_EQ(d->subsys_vendor, 0x1af4);
	CHECK_EQ(d->subsys_id, 0x0001);
	CHECK_EQ(d->cap_ptr, 0x40);

	/* BARs: I/O, 32-bit, none, 16-bit I/O, 64-bit prefetchable. */
	CHECK_EQ(d->bar_kind[0], PCI_BAR_IOPORT);
	CHECK_EQ(d->bar[0], 0xc040);
	CHECK_EQ(pci_bar_size(d, 0), 32);
	CHECK_EQ(pci_bar_addr(d, 0), 0);                /* not a memory address */
	CHECK_EQ(d->bar_kind[1], PCI_BAR_MEM32);
	CHECK_EQ(pci_bar_addr(d, 1), 0xfebd1000u);
	CHECK_EQ(pci_bar_size(d, 1), 4096);
	CHECK_EQ(d->bar_kind[2], PCI_BAR_NONE);
	CHECK_EQ(pci_bar_size(d, 2), 0);
	CHECK_EQ(d->bar_kind[3], PCI_BAR_IOPORT);
	CHECK_EQ(d->bar[3], 0xe000);
	CHECK_EQ(pci_bar_size(d, 3), 256);
	CHECK_EQ(d->bar_kind[4], PCI_BAR_MEM64);
	CHECK_EQ(pci_bar_addr(d, 4), 0x800000000ull);
	CHECK_EQ(pci_bar_size(d, 4), 0x4000);
	CHECK_EQ(d->bar_prefetch, 1u << 4);
	CHECK_EQ(d->bar_kind[5], PCI_BAR_NONE);         /* the upper half */
	CHECK_EQ(pci_bar_addr(d, 5), 0);
	CHECK_EQ(pci_bar_size(d, 5), 0);
	CHECK_EQ(pci_bar_addr(d, -1), 0);
	CHECK_EQ(pci_bar_addr(d, 6), 0);
	CHECK_EQ(pci_bar_size(d, 6), 0);
	/* Registers put back, decoding restored, W1C status untouched. */
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0, 4), 0x0000c041);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0 + 4, 4), 0xfebd1000u);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0 + 16, 4), 0x0000000c);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0 + 20, 4), 0x00000008);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_STATUS, 2), 0x2000 | PCI_STATUS_CAP_LIST);

	/* Above 4 GiB; a reserved type and a 64-bit BAR with no room for its upper half are ignored. */
	d = pci_find(0x10de, 0x1eb8, 0);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d->bar_kind[0], PCI_BAR_MEM64);
		CHECK_EQ(pci_bar_addr(d, 0), 0x400000000ull);
		CHECK_EQ(pci_bar_size(d, 0), 0x200000000ull);
		CHECK_EQ(d->bar_kind[2], PCI_BAR_NONE);
		CHECK_EQ(d->bar_kind[5], PCI_BAR_NONE);
		CHECK_EQ(d->bar_prefetch, 1u << 0);
		CHECK_EQ(d->cap_ptr, 0);
		CHECK_EQ(fakepci_get(s_big + 0x28, 4), 0x12345678);
		CHECK_EQ(fakepci_get(s_big + PCI_CFG_BAR0 + 20, 4), 0x00000004);
		CHECK_EQ(fakepci_get(s_big + PCI_CFG_COMMAND, 2), 0);
	}

	/* The bridge: two BARs, no subsystem IDs, bus numbers untouched. */
	d = pci_find(0x1b36, 0x000c, 0);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d->header_type, 0x01);
		CHECK_EQ(pci_bar_addr(d, 0), 0xfe800000u);
		CHECK_EQ(pci_bar_size(d, 0), 0x10000);
		CHECK_EQ(d->bar_kind[1], PCI_BAR_NONE);
		CHECK_EQ(d->subsys_vendor, 0);
		CHECK_EQ(d->subsys_id, 0);
		CHECK_EQ(fakepci_get(s_bridge + 0x18, 4), 0x00020100);
	}

	/* The firmware left this BAR unassigned: sized, but no address. */
	d = pci_find(0x1af4, 0x1041, 1);
	if (d) {
		CHECK_EQ(d->bar_kind[0], PCI_BAR_MEM32);
		CHECK_EQ(pci_bar_addr(d, 0), 0);
		CHECK_EQ(pci_bar_size(d, 0), 4096);
	}

	/* A rescan replaces the table rather than appending. */
	CHECK_EQ(pci_scan(&ai), 10);
	CHECK(pci_find(0x1af4, 0x1041, 2) == NULL);
}

static void test_caps(void)
{
	build_model();
	pci_scan(&ai);
	struct pci_dev *d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0), 0x50);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x50), 0x70);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x70), 0x98);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x98), 0);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x60), 0x70);      /* after a cap of another id */
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_MSIX, 0), 0x60);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_MSI, 0), 0x84);
	CHECK_EQ(pci_find_cap(d, 0x01, 0), 0x40);
	CHECK_EQ(pci_find_cap(d, 0x01, 0x40), 0);
	CHECK_EQ(pci_find_cap(d, 0x10, 0), 0);
	int got[8], n = collect_caps(d, PCI_CAP_ID_VENDOR, got, 8);
	CHECK_EQ(n, 3);
	CHECK(n == 3 && got[0] == 0x50 && got[1] == 0x70 && got[2] == 0x98);
	/* start_off must be a capability on the list. */
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x30), 0);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x52), 0);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x90), 0);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0x100), 0);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, -4), 0);
	/* Capabilities pointer without the status bit: no list. */
	d = pci_find(0x1af4, 0x1041, 1);
	CHECK(d && d->cap_ptr == 0 && pci_find_cap(d, PCI_CAP_ID_VENDOR, 0) == 0);
	CHECK_EQ(fakepci.bad_access, 0);
}

/* Lists a broken or hostile device could present. */
static void test_caps_malicious(void)
{
	ecam_reset();
	pci_set_cfg_ops(&fakepci_ops);
	ai.nmcfg = 1;
	ai.mcfg[0].base = fakepci.base;
	ai.mcfg[0].bus_end = 0;
	size_t s;
	s = fakepci_fn(0, 0, 0, 0x1000, 0, 0x02, 0x00, 0x00);       /* a vendor cap pointing to itself */
	fakepci_cap_ptr(s, 0x40);
	fakepci_cap(s, 0x40, PCI_CAP_ID_VENDOR, 0x40);
	s = fakepci_fn(0, 1, 0, 0x1000, 1, 0x02, 0x00, 0x00);       /* a two-entry cycle */
	fakepci_cap_ptr(s, 0x40);
	fakepci_cap(s, 0x40, PCI_CAP_ID_VENDOR, 0x48);
	fakepci_cap(s, 0x48, PCI_CAP_ID_VENDOR, 0x40);
	s = fakepci_fn(0, 2, 0, 0x1000, 2, 0x02, 0x00, 0x00);       /* next points into the header */
	fakepci_put(fakepci.mem, s + PCI_CFG_REVISION, PCI_CAP_ID_MSI, 1);
	fakepci_cap_ptr(s, 0x40);
	fakepci_cap(s, 0x40, 0x01, PCI_CFG_REVISION);
	s = fakepci_fn(0, 3, 0, 0x1000, 3, 0x02, 0x00, 0x00);       /* reserved low pointer bits set */
	fakepci_cap_ptr(s, 0x43);
	fakepci_cap(s, 0x40, 0x01, 0x4e);
	fakepci_cap(s, 0x4c, PCI_CAP_ID_VENDOR, 0x00);
	s = fakepci_fn(0, 4, 0, 0x1000, 4, 0x02, 0x00, 0x00);       /* first pointer inside the header */
	fakepci_cap_ptr(s, 0x20);
	s = fakepci_fn(0, 5, 0, 0x1000, 5, 0x02, 0x00, 0x00);       /* all 48 slots used, vendor cap last */
	fakepci_cap_ptr(s, 0x40);
	for (uint32_t off = 0x40; off < 0xfc; off += 4)
		fakepci_cap(s, off, 0x01, (uint8_t)(off + 4));
	fakepci_cap(s, 0xfc, PCI_CAP_ID_VENDOR, 0x00);
	s = fakepci_fn(0, 6, 0, 0x1000, 6, 0x02, 0x00, 0x00);       /* all 48 slots in one big loop */
	fakepci_cap_ptr(s, 0x40);
	for (uint32_t off = 0x40; off <= 0xfc; off += 4)
		fakepci_cap(s, off, 0x01, (uint8_t)(off == 0xfc ? 0x40 : off + 4));
	CHECK_EQ(pci_scan(&ai), 7);

	int got[64], n;
	struct pci_dev *d = pci_find(0x1000, 0, 0);
	CHECK(d != NULL);
	if (d) {
		n = collect_caps(d, PCI_CAP_ID_VENDOR, got, 64);
		CHECK(n == 1 && got[0] == 0x40);
		long r = fakepci.reads;
		CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_MSI, 0), 0);
		CHECK(fakepci.reads - r <= 2 * 48);
	}
	d = pci_find(0x1000, 1, 0);
	if (d) {
		n = collect_caps(d, PCI_CAP_ID_VENDOR, got, 64);
		CHECK(n == 2 && got[0] == 0x40 && got[1] == 0x48);
	}
	d = pci_find(0x1000, 2, 0);
	if (d) {
		CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_MSI, 0), 0);
		CHECK_EQ(pci_find_cap(d, 0x01, 0), 0x40);
	}
	d = pci_find(0x1000, 3, 0);
	if (d) {
		CHECK_EQ(d->cap_ptr, 0x40);
		CHECK_EQ(pci_find_cap(d, 0x01, 0), 0x40);
		CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0), 0x4c);
	}
	d = pci_find(0x1000, 4, 0);
	if (d) {
		CHECK_EQ(d->cap_ptr, 0);
		CHECK_EQ(pci_find_cap(d, 0x00, 0), 0);
	}
	d = pci_find(0x1000, 5, 0);
	if (d) {
		CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0), 0xfc);  /* the bound never cuts a real list */
		CHECK_EQ(pci_find_cap(d, 0x01, 0xf8), 0);
		CHECK_EQ(pci_find_cap(d, 0x01, 0xf4), 0xf8);
	}
	d = pci_find(0x1000, 6, 0);
	if (d) {
		long r = fakepci.reads;
		CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_VENDOR, 0), 0);
		CHECK(fakepci.reads - r <= 2 * 48);
		n = collect_caps(d, 0x01, got, 64);
		CHECK_EQ(n, 48);
	}
	CHECK_EQ(fakepci.bad_access, 0);
}

static void test_enable(void)
{
	build_model();
	pci_scan(&ai);
	struct pci_dev *d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	pci_enable(d);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_COMMAND, 2),
		 PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	CHECK_EQ(fakepci_get(s_net + 0x60 + PCI_MSIX_CTRL, 2), 0x0003);  /* enable off, table size kept */
	CHECK_EQ(fakepci_get(s_net + 0x84 + PCI_MSI_CTRL, 2), 0x0080);   /* enable off, capability bit kept */
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_STATUS, 2), 0x2000 | PCI_STATUS_CAP_LIST);  /* W1C never written */

	/* No capabilities and decoding off: one write, the command register. */
	d = pci_find(0x10de, 0x1eb8, 0);
	CHECK(d != NULL);
	if (d) {
		long w = fakepci.writes;
		pci_enable(d);
		CHECK_EQ(fakepci.writes - w, 1);
		CHECK_EQ(fakepci_get(s_big + PCI_CFG_COMMAND, 2), PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	}
	/* MSI-X already off: its control register is left alone. */
	d = pci_find(0x1af4, 0x1041, 0);
	if (d) {
		long w = fakepci.writes;
		pci_enable(d);
		CHECK_EQ(fakepci.writes - w, 1);
	}
	CHECK_EQ(fakepci.bad_access, 0);
}

static void test_table_full(void)
{
	ecam_reset();
	pci_set_cfg_ops(&fakepci_ops);
	ai.nmcfg = 1;
	ai.mcfg[0].base = fakepci.base;
	ai.mcfg[0].bus_end = 2;
	for (uint32_t dev = 0; dev < 9; dev++)
		for (uint32_t fn = 0; fn < 8; fn++)
			fakepci_fn(0, dev, fn, 0x1234, (uint16_t)(dev * 8 + fn), 0x02, 0x00, fn ? 0 : PCI_HEADER_MULTIFN);
	fakepci_fn(2, 0, 0, 0x1234, 0x1000, 0x02, 0x00, 0x00);
	CHECK_EQ(pci_scan(&ai), PCI_MAX_DEVS);
	CHECK_EQ(pci_dropped(), 9);
	CHECK(strstr(klog, "pci: table full: 9 functions not recorded") != NULL);
	CHECK(pci_find(0x1234, 63, 0) != NULL);
	CHECK(pci_find(0x1234, 64, 0) == NULL);
	CHECK(pci_find(0x1234, 0x1000, 0) == NULL);
	klog_clear();
	pci_print();
	CHECK(starts_with(klog, "pci: 64 functions, 9 more not recorded (table holds 64)\n"));
	/* A scan that fits clears the count. */
	ai.mcfg[0].bus_start = 1;
	CHECK_EQ(pci_scan(&ai), 1);
	CHECK_EQ(pci_dropped(), 0);
}

static void test_print(void)
{
	build_model();
	pci_scan(&ai);
	klog_clear();
	pci_print();
	CHECK(starts_with(klog, "pci: 10 functions\n"));
	CHECK(strstr(klog, "pci: 0000:00:00.0 8086:29c0 class 06/00\n") != NULL);
	CHECK(strstr(klog, "pci: 0000:01:00.0 1af4:1041 class 02/00 bar0=io:0xc040 (32B) bar1=0xfebd1000 (4KiB) "
		      "bar3=io:0xe000 (256B) bar4=0x800000000 (16KiB)\n") != NULL);
	CHECK(strstr(klog, "pci: 0000:01:01.0 10de:1eb8 class 03/00 bar0=0x400000000 (8GiB)\n") != NULL);
	CHECK(strstr(klog, "pci: 0000:01:02.0 1b36:000c class 06/04 bar0=0xfe800000 (64KiB)\n") != NULL);
	CHECK(strstr(klog, "pci: 0001:10:00.0 1af4:1041 class 02/00 bar0=unassigned (4KiB)\n") != NULL);
	CHECK(strstr(klog, "pci: 0001:11:1f.7 8086:10d3 class 02/00\n") != NULL);
	int lines = 0;
	for (const char *p = klog; *p; p++)
		lines += *p == '\n';
	CHECK_EQ(lines, 11);
}

/* ---- ports 0xCF8/0xCFC: x86 without MCFG, with MCFG for buses 1 and up only, with a full MCFG ---- */

/* The NIC of build_model as the checks of test_scan, test_caps and test_enable see it, reached
 * whichever way: identity, every BAR kind sized and put back with decoding off, the capability
 * list, and pci_enable's bits without a write to the W1C status beside the command register. */
static void check_model_nic(struct pci_dev *d)
{
	CHECK_EQ(d->class, 0x02);
	CHECK_EQ(d->revision, 0x01);
	CHECK_EQ(d->subsys_id, 0x0001);
	CHECK_EQ(d->cap_ptr, 0x40);
	CHECK_EQ(d->bar_kind[0], PCI_BAR_IOPORT);
	CHECK_EQ(d->bar[0], 0xc040);
	CHECK_EQ(pci_bar_size(d, 0), 32);
	CHECK_EQ(pci_bar_addr(d, 1), 0xfebd1000u);
	CHECK_EQ(pci_bar_size(d, 1), 4096);
	CHECK_EQ(d->bar_kind[2], PCI_BAR_NONE);
	CHECK_EQ(pci_bar_size(d, 3), 256);
	CHECK_EQ(d->bar_kind[4], PCI_BAR_MEM64);
	CHECK_EQ(pci_bar_addr(d, 4), 0x800000000ull);
	CHECK_EQ(pci_bar_size(d, 4), 0x4000);
	CHECK_EQ(d->bar_prefetch, 1u << 4);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0, 4), 0x0000c041);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0 + 16, 4), 0x0000000c);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_BAR0 + 20, 4), 0x00000008);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
	int got[8], n = collect_caps(d, PCI_CAP_ID_VENDOR, got, 8);
	CHECK(n == 3 && got[0] == 0x50 && got[1] == 0x70 && got[2] == 0x98);
	CHECK_EQ(pci_find_cap(d, PCI_CAP_ID_MSIX, 0), 0x60);
	CHECK_EQ(pci_cfg_read8(d, PCI_CFG_CLASS), 0x02);                /* byte 3 of its dword */
	CHECK_EQ(pci_cfg_read16(d, PCI_CFG_DEVICE), 0x1041);            /* upper word */
	CHECK_EQ(pci_cfg_read32(d, PCI_CFG_VENDOR), 0x10411af4u);
	CHECK_EQ(fakepci.sized_while_decoding, 0);
	CHECK_EQ(fakepci.writes_elsewhere, 0);          /* the scan wrote the command register and BARs only */
	/* Each write moves exactly its own bytes: a writable dword past the capabilities. */
	fakepci_put(fakepci.mem, s_net + 0xc0, 0x11223344, 4);
	fakepci_put(fakepci.wmask, s_net + 0xc0, 0xffffffff, 4);
	pci_cfg_write16(d, 0xc2, 0xbeef);
	CHECK_EQ(fakepci_get(s_net + 0xc0, 4), 0xbeef3344u);
	pci_cfg_write16(d, 0xc0, 0x5566);
	CHECK_EQ(fakepci_get(s_net + 0xc0, 4), 0xbeef5566u);
	CHECK_EQ(pci_cfg_read8(d, 0xc3), 0xbe);
	CHECK_EQ(pci_cfg_read16(d, 0xc2), 0xbeef);
	pci_cfg_write32(d, 0xc0, 0xa5a5a5a5u);
	CHECK_EQ(pci_cfg_read32(d, 0xc0), 0xa5a5a5a5u);
	fakepci.writes_elsewhere = 0;
	pci_enable(d);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_COMMAND, 2),
		 PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	CHECK_EQ(fakepci_get(s_net + 0x60 + PCI_MSIX_CTRL, 2), 0x0003);
	CHECK_EQ(fakepci_get(s_net + 0x84 + PCI_MSI_CTRL, 2), 0x0080);
	CHECK_EQ(fakepci_get(s_net + PCI_CFG_STATUS, 2), 0x2000 | PCI_STATUS_CAP_LIST);
}

/* No MCFG at all (QEMU's i440FX, some x86 EC2 instances): every function through the ports. */
static void test_ports_only(void)
{
	build_model();
	ai.nmcfg = 0;                   /* buffer buses 2 and 3, segment 1 above, are buses 2 and 3 now */
	host_port_io = true;
	CHECK_EQ(pci_scan(&ai), 10);
	CHECK_EQ(fakepci.reads + fakepci.writes, 0);    /* ECAM never touched */
	CHECK(fakepci.port_reads > 256 * 32);           /* every bus tried */
	CHECK_EQ(fakepci.port_buses, 0xfu);
	CHECK_EQ(fakepci.bad_port, 0);
	struct pci_dev *d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(d->segment == 0 && d->bus == 1 && d->dev == 0 && d->fn == 0);
	CHECK_EQ(d->cfg, PCI_CFG_PORTIO | 0x80010000u);
	check_model_nic(d);
	d = pci_find(0x8086, 0x10d3, 1);
	CHECK(d && d->segment == 0 && d->bus == 3 && d->dev == 31 && d->fn == 7);
	CHECK(d && d->cfg == (PCI_CFG_PORTIO | 0x80000000u | 3 << 16 | 31 << 11 | 7 << 8));
	d = pci_find(0x1b36, 0x000c, 0);
	CHECK(d && d->header_type == 0x01 && pci_bar_size(d, 0) == 0x10000);
	CHECK_EQ(fakepci_get(s_bridge + 0x18, 4), 0x00020100);          /* bus numbers untouched */
	CHECK(pci_find(0x1b36, 0x0010, 1) == NULL);                     /* the ghost function still ignored */

	/* 256 bytes is all the ports reach: the extended space reads all ones and takes no writes,
	 * and neither touches a port. */
	d = pci_find(0x1af4, 0x1041, 0);
	fakepci_put(fakepci.mem, s_net + 0x100, 0x00010001, 4);         /* an extended capability header */
	long r = fakepci.port_reads, w = fakepci.port_writes;
	CHECK_EQ(pci_cfg_read32(d, 0x100), 0xffffffffu);
	CHECK_EQ(pci_cfg_read8(d, 0xfff), 0xff);
	pci_cfg_write32(d, 0x100, 0);
	pci_cfg_write16(d, 0x1fe, 0);
	CHECK(fakepci.port_reads == r && fakepci.port_writes == w);
	CHECK_EQ(pci_cfg_read32(d, 0xfc), 0);                           /* the last dword is there */
	CHECK_EQ(fakepci.bad_port, 0);

	klog_clear();
	pci_print();
	CHECK(starts_with(klog, "pci: 10 functions, 10 through ports 0xCF8/0xCFC\n"));
	CHECK(strstr(klog, "pci: 0000:01:00.0 1af4:1041 class 02/00 bar0=io:0xc040 (32B) bar1=0xfebd1000 (4KiB) "
		      "bar3=io:0xe000 (256B) bar4=0x800000000 (16KiB) cfg=ports\n") != NULL);
}

/* MCFG for buses 1 and up only (iPXE's finding on EC2): bus 0 through the ports, where an
 * ENA sits at 00:05.0 as on m5/c5/t3/c6i; the other buses through ECAM only. */
static void test_ports_bus0(void)
{
	build_model();
	ai.nmcfg = 1;
	ai.mcfg[0].base = fakepci.base;
	ai.mcfg[0].bus_start = 1;
	ai.mcfg[0].bus_end = FAKEPCI_NBUS - 1;
	size_t s_ena = fakepci_fn(0, 5, 0, 0x1d0f, 0xec20, 0x02, 0x00, 0x00);
	fakepci_bar(s_ena, 0, 0xfebf8000, 0xffffc000);                  /* 16 KiB of registers */
	fakepci_bar(s_ena, 2, 0x0000000c, 0xfff00000);                  /* 1 MiB LLQ memory, 64-bit ... */
	fakepci_bar(s_ena, 3, 0x00000001, 0xffffffff);                  /* ... at 0x1_0000_0000 */
	host_port_io = true;
	CHECK_EQ(pci_scan(&ai), 11);
	CHECK_EQ(fakepci.port_buses, 1u);               /* the ports reached bus 0 only */
	CHECK_EQ(fakepci.bad_port, 0);
	CHECK_EQ(fakepci.bad_access, 0);
	CHECK_EQ(fakepci.sized_while_decoding, 0);
	struct pci_dev *d = pci_find(0x1d0f, 0xec20, 0);
	CHECK(d && d->segment == 0 && d->bus == 0 && d->dev == 5 && d->cfg == (PCI_CFG_PORTIO | 0x80002800u));
	if (d) {
		CHECK_EQ(pci_bar_addr(d, 0), 0xfebf8000u);
		CHECK_EQ(pci_bar_size(d, 0), 0x4000);
		CHECK_EQ(pci_bar_addr(d, 2), 0x100000000ull);
		CHECK_EQ(pci_bar_size(d, 2), 0x100000);
		CHECK_EQ(fakepci_get(s_ena + PCI_CFG_BAR0 + 12, 4), 0x00000001);
	}
	d = pci_find(0x8086, 0x29c0, 0);
	CHECK(d && d->bus == 0 && (d->cfg & PCI_CFG_PORTIO));
	d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d && d->bus == 1 && d->cfg == fakepci.base + ((uint64_t)1 << PCI_ECAM_BUS_SHIFT));
	if (d) {
		long pr = fakepci.port_reads, pw = fakepci.port_writes;
		check_model_nic(d);
		CHECK(fakepci.port_reads == pr && fakepci.port_writes == pw);   /* ECAM's device stays on ECAM */
	}
	/* Scan order: bus 0 before the buses MCFG maps. */
	CHECK(pci_find(0x1af4, 0x1041, 1) && pci_find(0x1af4, 0x1041, 1)->bus == 2);
	klog_clear();
	pci_print();
	CHECK(starts_with(klog, "pci: 11 functions, 5 through ports 0xCF8/0xCFC\n"));
	CHECK(strstr(klog, "pci: 0000:00:05.0 1d0f:ec20 class 02/00 bar0=0xfebf8000 (16KiB) "
		      "bar2=0x100000000 (1MiB) cfg=ports\n") != NULL);
}

/* An MCFG for all 256 buses of segment 0: the ports are never touched, not even to ask whether a
 * host bridge answers there. Without ports (AArch64) and without MCFG nothing is found; with ports
 * where no host bridge answers, only that question is asked. */
static void test_ports_not_used(void)
{
	build_model();
	ai.nmcfg = 1;
	ai.mcfg[0].base = fakepci.base;
	ai.mcfg[0].bus_end = 255;       /* buses past the buffer read as absent (counted as bad_access) */
	host_port_io = true;
	CHECK_EQ(pci_scan(&ai), 10);
	CHECK_EQ(fakepci.port_reads + fakepci.port_writes, 0);
	struct pci_dev *d = pci_find(0x1af4, 0x1041, 0);
	CHECK(d && d->cfg == fakepci.base + ((uint64_t)1 << PCI_ECAM_BUS_SHIFT));
	if (d)
		check_model_nic(d);
	CHECK_EQ(fakepci.port_reads + fakepci.port_writes, 0);

	build_model();
	ai.nmcfg = 0;
	host_port_io = false;
	CHECK_EQ(pci_scan(&ai), 0);
	CHECK_EQ(fakepci.port_reads + fakepci.port_writes, 0);

	build_model();
	ai.nmcfg = 0;
	host_port_io = true;
	fakepci.no_cf8 = true;
	CHECK_EQ(pci_scan(&ai), 0);
	CHECK(fakepci.port_reads <= 2 && fakepci.port_writes <= 2);
	CHECK_EQ(fakepci.port_buses, 0);
}

TEST_MAIN("test_pci: proves ECAM addressing from MCFG (bus_start, segments), multi-function and absent-device "
	  "detection, BAR decode and sizing (I/O, 16-bit I/O, 32/64-bit, >4 GiB, malformed) with decoding off, "
	  "bounded capability walks with continuation on looping and wild lists, pci_enable's command/MSI/MSI-X "
	  "bits, the table cap and the console listing; type 1 ports 0xCF8/0xCFC with no MCFG (all by ports, "
	  "right widths, extended space unreachable), with MCFG for buses 1+ (bus 0 by ports) and a full MCFG (ports "
	  "never touched)",
{
	fakepci_reset();
	test_default_ecam();
	test_scan();
	test_caps();
	test_caps_malicious();
	test_enable();
	test_table_full();
	test_print();
	test_ports_only();
	test_ports_bus0();
	test_ports_not_used();
	host_port_io = false;
	pci_set_cfg_ops(NULL);
})
