/* The fake PCI ECAM (tests/unit/host/fakepci.h). */
#include <stdlib.h>
#include <string.h>

#include "fakepci.h"

struct fakepci fakepci;

size_t fakepci_slot(uint32_t bus_idx, uint32_t dev, uint32_t fn)
{
	return (size_t)bus_idx << PCI_ECAM_BUS_SHIFT | dev << PCI_ECAM_DEV_SHIFT | fn << PCI_ECAM_FN_SHIFT;
}

/* Index into mem of a config access, or SIZE_MAX (counted) when outside the model or misaligned. */
static size_t model_index(uint64_t addr, int size)
{
	if (addr < fakepci.base || addr + (uint64_t)size > fakepci.base + FAKEPCI_LEN || (addr & (uint64_t)(size - 1))) {
		fakepci.bad_access++;
		return SIZE_MAX;
	}
	return (size_t)(addr - fakepci.base);
}

static uint32_t model_read(uint64_t addr, int size)
{
	fakepci.reads++;
	size_t i = model_index(addr, size);
	if (i == SIZE_MAX)
		return 0xffffffffu;
	return fakepci_get(i, size);
}

/* Writable bits take the new value, W1C bits clear where a 1 is written, the rest stay. i: index
 * into mem, aligned to size. */
static void slot_write(size_t i, int size, uint32_t v)
{
	size_t fnbase = i & ~(size_t)(PCI_CFG_SIZE - 1), off = i & (PCI_CFG_SIZE - 1);
	if (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24 && v == 0xffffffffu &&
	    (fakepci_get(fnbase + PCI_CFG_COMMAND, 2) & (PCI_CMD_IO | PCI_CMD_MEM)))
		fakepci.sized_while_decoding++;
	if (off != PCI_CFG_COMMAND && !(off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24))
		fakepci.writes_elsewhere++;
	if (fakepci.allow && !fakepci.allow(fnbase, (uint32_t)off, size, v))
		return;
	uint8_t *mem = fakepci.mem, *wmask = fakepci.wmask, *w1c = fakepci.w1c;
	for (int k = 0; k < size; k++) {
		uint8_t b = (uint8_t)(v >> (8 * k));
		mem[i + k] = (uint8_t)((mem[i + k] & ~wmask[i + k]) | (b & wmask[i + k]));
		mem[i + k] &= (uint8_t)~(b & w1c[i + k]);
	}
}

static void model_write(uint64_t addr, int size, uint32_t v)
{
	fakepci.writes++;
	size_t i = model_index(addr, size);
	if (i != SIZE_MAX)
		slot_write(i, size, v);
}

const struct pci_cfg_ops fakepci_ops = { model_read, model_write };

/* ---- ports 0xCF8/0xCFC (PCI Local Bus 3.0, 3.2.2.3.2), as a host bridge decodes them ---- */

/* Index into mem of a CONFIG_DATA access of size bytes at port, SIZE_MAX when it reaches nothing:
 * a wrong access (counted) or a bus past the buffer (an absent device, not an error). */
static size_t port_index(uint16_t port, int size)
{
	uint32_t a = fakepci.cf8, byte = (uint32_t)port - PCI_PIO_DATA;
	if (port < PCI_PIO_DATA || byte > 3 || (byte & (uint32_t)(size - 1)) || !(a & PCI_PIO_ENABLE)) {
		fakepci.bad_port++;
		return SIZE_MAX;
	}
	uint32_t bus = a >> PCI_PIO_BUS_SHIFT & 0xff, dev = a >> PCI_PIO_DEV_SHIFT & 31, fn = a >> PCI_PIO_FN_SHIFT & 7;
	if (bus >= FAKEPCI_NBUS)
		return SIZE_MAX;
	fakepci.port_buses |= 1u << bus;
	return fakepci_slot(bus, dev, fn) + (a & PCI_PIO_REG_MASK) + byte;
}

static uint32_t port_read(uint16_t port, int size)
{
	fakepci.port_reads++;
	if (fakepci.no_cf8)
		return 0xffffffffu;
	if (port >= PCI_PIO_ADDR && port < PCI_PIO_ADDR + 4) {
		if (port == PCI_PIO_ADDR && size == 4)
			return fakepci.cf8;
		fakepci.bad_port++;
		return 0xffffffffu;
	}
	size_t i = port_index(port, size);
	return i == SIZE_MAX ? 0xffffffffu : fakepci_get(i, size);
}

static void port_write(uint16_t port, int size, uint32_t v)
{
	fakepci.port_writes++;
	if (fakepci.no_cf8)
		return;
	if (port >= PCI_PIO_ADDR && port < PCI_PIO_ADDR + 4) {
		if (port != PCI_PIO_ADDR || size != 4 || (v & 0x7f000003u))
			fakepci.bad_port++;
		else
			fakepci.cf8 = v;
		return;
	}
	size_t i = port_index(port, size);
	if (i != SIZE_MAX)
		slot_write(i, size, v);
}

uint8_t arch_inb(uint16_t port) { return (uint8_t)port_read(port, 1); }
uint16_t arch_inw(uint16_t port) { return (uint16_t)port_read(port, 2); }
uint32_t arch_inl(uint16_t port) { return port_read(port, 4); }
void arch_outb(uint16_t port, uint8_t v) { port_write(port, 1, v); }
void arch_outw(uint16_t port, uint16_t v) { port_write(port, 2, v); }
void arch_outl(uint16_t port, uint32_t v) { port_write(port, 4, v); }

void fakepci_reset(void)
{
	if (!fakepci.mem) {
		fakepci.mem = aligned_alloc(PCI_CFG_SIZE, FAKEPCI_LEN);
		fakepci.wmask = aligned_alloc(PCI_CFG_SIZE, FAKEPCI_LEN);
		fakepci.w1c = aligned_alloc(PCI_CFG_SIZE, FAKEPCI_LEN);
		if (!fakepci.mem || !fakepci.wmask || !fakepci.w1c)
			abort();
		fakepci.base = (uint64_t)(uintptr_t)fakepci.mem;
	}
	memset(fakepci.mem, 0xff, FAKEPCI_LEN);         /* absent functions read all ones */
	memset(fakepci.wmask, 0, FAKEPCI_LEN);
	memset(fakepci.w1c, 0, FAKEPCI_LEN);
	fakepci.reads = fakepci.writes = fakepci.bad_access = fakepci.sized_while_decoding = 0;
	fakepci.writes_elsewhere = 0;
	fakepci.allow = NULL;
	fakepci.cf8 = 0;
	fakepci.no_cf8 = false;
	fakepci.port_reads = fakepci.port_writes = fakepci.bad_port = 0;
	fakepci.port_buses = 0;
}

void fakepci_put(uint8_t *buf, size_t i, uint32_t v, int size)
{
	memcpy(buf + i, &v, (size_t)size);     /* the host is little-endian, like PCI */
}

uint32_t fakepci_get(size_t i, int size)
{
	uint32_t v = 0;
	memcpy(&v, fakepci.mem + i, (size_t)size);
	return v;
}

size_t fakepci_fn(uint32_t bus_idx, uint32_t dev, uint32_t fn, uint16_t vendor, uint16_t device,
		  uint8_t class, uint8_t subclass, uint8_t header)
{
	size_t s = fakepci_slot(bus_idx, dev, fn);
	memset(fakepci.mem + s, 0, PCI_CFG_SIZE);
	fakepci_put(fakepci.mem, s + PCI_CFG_VENDOR, vendor, 2);
	fakepci_put(fakepci.mem, s + PCI_CFG_DEVICE, device, 2);
	fakepci_put(fakepci.mem, s + PCI_CFG_CLASS, class, 1);
	fakepci_put(fakepci.mem, s + PCI_CFG_SUBCLASS, subclass, 1);
	fakepci_put(fakepci.mem, s + PCI_CFG_HEADER_TYPE, header, 1);
	fakepci_put(fakepci.wmask, s + PCI_CFG_COMMAND, 0x0547, 2);
	fakepci_put(fakepci.w1c, s + PCI_CFG_STATUS, 0xf900, 2);
	return s;
}

void fakepci_bar(size_t s, int bar, uint32_t value, uint32_t writable)
{
	fakepci_put(fakepci.mem, s + PCI_CFG_BAR0 + 4 * (size_t)bar, value, 4);
	fakepci_put(fakepci.wmask, s + PCI_CFG_BAR0 + 4 * (size_t)bar, writable, 4);
}

void fakepci_cap(size_t s, uint32_t off, uint8_t id, uint8_t next)
{
	fakepci_put(fakepci.mem, s + off + PCI_CAP_ID, id, 1);
	fakepci_put(fakepci.mem, s + off + PCI_CAP_NEXT, next, 1);
}

void fakepci_cap_ptr(size_t s, uint8_t first)
{
	fakepci_put(fakepci.mem, s + PCI_CFG_STATUS, fakepci_get(s + PCI_CFG_STATUS, 2) | PCI_STATUS_CAP_LIST, 2);
	fakepci_put(fakepci.mem, s + PCI_CFG_CAP_PTR, first, 1);
}
