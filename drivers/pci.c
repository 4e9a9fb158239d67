/* PCI and PCI Express: config access through ECAM or x86 ports, enumeration, BAR sizing, capability walks (see pci.h). */
#include "kernel.h"
#include "pci.h"
#include "pci_reg.h"

/* Dword slots a capability can occupy: 0x40..0xfc. No sane list is longer, so no walk is either. */
#define PCI_CAP_MAX_WALK ((0x100 - PCI_CAP_FIRST) / 4)
#define PCI_NBUS 256

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs, ndropped;

/* ---- config access: the default ops are plain MMIO on the ECAM window ---- */
static uint32_t ecam_read(uint64_t addr, int size)
{
	if (size == 1)
		return mmio_read8(addr);
	if (size == 2)
		return mmio_read16(addr);
	return mmio_read32(addr);
}

static void ecam_write(uint64_t addr, int size, uint32_t v)
{
	if (size == 1)
		mmio_write8(addr, (uint8_t)v);
	else if (size == 2)
		mmio_write16(addr, (uint16_t)v);
	else
		mmio_write32(addr, v);
}

static const struct pci_cfg_ops ecam_ops = { ecam_read, ecam_write };
static const struct pci_cfg_ops *cfg_ops = &ecam_ops;

void pci_set_cfg_ops(const struct pci_cfg_ops *ops)
{
	cfg_ops = ops ? ops : &ecam_ops;
}

/* Type 1 (pci_reg.h): CONFIG_ADDRESS is written whole, then CONFIG_DATA is read or written with
 * the width of the access at the byte it starts at, so a 16-bit write never rewrites the bytes
 * beside it (the W1C status register next to the command register). cfg_addr already holds the
 * enable bit and the function; off is below 256 and aligned to size. */
static uint32_t pio_read(uint32_t cfg_addr, uint32_t off, uint32_t size)
{
	uint16_t port = (uint16_t)(PCI_PIO_DATA + (off & 3));
	arch_outl(PCI_PIO_ADDR, cfg_addr | (off & PCI_PIO_REG_MASK));
	if (size == 1)
		return arch_inb(port);
	if (size == 2)
		return arch_inw(port);
	return arch_inl(port);
}

static void pio_write(uint32_t cfg_addr, uint32_t off, uint32_t size, uint32_t v)
{
	uint16_t port = (uint16_t)(PCI_PIO_DATA + (off & 3));
	arch_outl(PCI_PIO_ADDR, cfg_addr | (off & PCI_PIO_REG_MASK));
	if (size == 1)
		arch_outb(port, (uint8_t)v);
	else if (size == 2)
		arch_outw(port, (uint16_t)v);
	else
		arch_outl(port, v);
}

/* The one read and the one write helper: every config access in this file passes through them,
 * to ECAM or to the ports as cfg (pci_dev.cfg) says. An offset past the space the mechanism reaches
 * (4 KiB by ECAM; 256 bytes by ports, which cannot name the extended space) or misaligned for the
 * size (which would fault on AArch64 device memory) reads as all ones and is not written, so a wild
 * capability offset stays harmless and an extended capability through ports reads as absent. */
static uint32_t cfg_read(uint64_t cfg, uint32_t off, uint32_t size)
{
	uint32_t ones = 0xffffffffu >> (32 - 8 * size);
	uint32_t space = cfg & PCI_CFG_PORTIO ? PCI_PIO_CFG_SIZE : PCI_CFG_SIZE;
	if (off > space - size || (off & (size - 1)))
		return ones;
	if (cfg & PCI_CFG_PORTIO)
		return pio_read((uint32_t)cfg, off, size) & ones;
	return cfg_ops->read(cfg + off, (int)size) & ones;
}

static void cfg_write(uint64_t cfg, uint32_t off, uint32_t size, uint32_t v)
{
	uint32_t space = cfg & PCI_CFG_PORTIO ? PCI_PIO_CFG_SIZE : PCI_CFG_SIZE;
	if (off > space - size || (off & (size - 1)))
		return;
	if (cfg & PCI_CFG_PORTIO)
		pio_write((uint32_t)cfg, off, size, v);
	else
		cfg_ops->write(cfg + off, (int)size, v);
}

/* Whether a type 1 host bridge answers at 0xCF8: CONFIG_ADDRESS keeps what is written to it
 * (read back whole); where nothing decodes the port a read gives all ones. Its old value is put
 * back. Asked only when a bus is left to the ports, so a full MCFG never touches them. */
static bool pio_present(void)
{
	uint32_t old = arch_inl(PCI_PIO_ADDR);
	arch_outl(PCI_PIO_ADDR, PCI_PIO_ENABLE);
	bool ok = arch_inl(PCI_PIO_ADDR) == PCI_PIO_ENABLE;
	arch_outl(PCI_PIO_ADDR, old);
	return ok;
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off) { return (uint8_t)cfg_read(d->cfg, off, 1); }
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off) { return (uint16_t)cfg_read(d->cfg, off, 2); }
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off) { return cfg_read(d->cfg, off, 4); }
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v) { cfg_write(d->cfg, off, 2, v); }
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { cfg_write(d->cfg, off, 4, v); }

/* ---- enumeration ---- */

/* Write all ones to the BAR at off and read back which address bits stick; put the value back. */
static uint32_t bar_probe(uint64_t cfg, uint32_t off, uint32_t *orig)
{
	*orig = cfg_read(cfg, off, 4);
	cfg_write(cfg, off, 4, 0xffffffffu);
	uint32_t mask = cfg_read(cfg, off, 4);
	cfg_write(cfg, off, 4, *orig);
	return mask;
}

/* Decode and size the nbars BARs of d (PCI 3.0, 6.2.5.1). The size is the lowest address bit that
 * sticks, which also covers I/O BARs whose upper 16 bits are hardwired to 0.
 *
 * While a BAR holds all ones (or a 64-bit BAR holds half of its old value) it names an address the
 * device must not decode: it could shadow RAM, the ECAM window or another device. So Memory and I/O
 * decoding are off from before the first probe until every BAR is restored. That brief change is
 * invisible here because this runs on the boot core before any other core starts, before any driver
 * uses the device, nothing else touches config space, Pollux takes no interrupts (no handler can run
 * in the window), and nothing is printed in the window (the console could be a PCI UART). Bus
 * mastering is left as it is: DMA by the device does not go through its own BARs. */
static void size_bars(struct pci_dev *d, int nbars)
{
	uint32_t cmd = cfg_read(d->cfg, PCI_CFG_COMMAND, 2);
	uint32_t decode = cmd & (PCI_CMD_IO | PCI_CMD_MEM);
	if (decode)
		cfg_write(d->cfg, PCI_CFG_COMMAND, 2, cmd & ~decode);
	for (int i = 0; i < nbars; i++) {
		uint32_t off = PCI_CFG_BAR0 + 4 * (uint32_t)i, lo, hi;
		uint32_t mlo = bar_probe(d->cfg, off, &lo);
		if (lo & PCI_BAR_IO) {
			uint32_t mask = mlo & PCI_BAR_IO_ADDR;
			if (mask) {
				d->bar_kind[i] = PCI_BAR_IOPORT;
				d->bar[i] = lo & PCI_BAR_IO_ADDR;
				d->bar_size[i] = mask & -mask;
			}
			continue;
		}
		uint32_t type = lo & PCI_BAR_MEM_TYPE;
		uint64_t base = lo & PCI_BAR_MEM_ADDR, mask = mlo & PCI_BAR_MEM_ADDR;
		if (type == PCI_BAR_MEM_TYPE_64) {
			if (i + 1 >= nbars)
				break;  /* no register left for the upper half: malformed, leave it alone */
			uint32_t mhi = bar_probe(d->cfg, off + 4, &hi);
			base |= (uint64_t)hi << 32;
			mask |= (uint64_t)mhi << 32;
		} else if (type != PCI_BAR_MEM_TYPE_32) {
			continue;       /* reserved encoding: nothing we can trust */
		}
		if (mask) {
			d->bar_kind[i] = type == PCI_BAR_MEM_TYPE_64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
			d->bar[i] = base;
			d->bar_size[i] = mask & -mask;
			if (lo & PCI_BAR_MEM_PREFETCH)
				d->bar_prefetch |= (uint8_t)(1u << i);
		}
		if (type == PCI_BAR_MEM_TYPE_64)
			i++;    /* the upper half is not a BAR of its own */
	}
	if (decode)
		cfg_write(d->cfg, PCI_CFG_COMMAND, 2, cmd);
}

/* 0xffff is what a read of an absent function returns; some root complexes return 0 instead, and no
 * vendor has ID 0. */
static bool fn_present(uint64_t cfg)
{
	uint32_t vendor = cfg_read(cfg, PCI_CFG_VENDOR, 2);
	return vendor != 0xffff && vendor != 0;
}

static void add_fn(uint16_t segment, uint32_t bus, uint32_t dev, uint32_t fn, uint64_t cfg)
{
	if (ndevs == PCI_MAX_DEVS) {
		ndropped++;
		return;
	}
	struct pci_dev *d = &devs[ndevs++];
	*d = (struct pci_dev){ .segment = segment, .bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn,
			       .cfg = cfg };
	d->vendor = (uint16_t)cfg_read(cfg, PCI_CFG_VENDOR, 2);
	d->device = (uint16_t)cfg_read(cfg, PCI_CFG_DEVICE, 2);
	d->revision = (uint8_t)cfg_read(cfg, PCI_CFG_REVISION, 1);
	d->progif = (uint8_t)cfg_read(cfg, PCI_CFG_PROGIF, 1);
	d->subclass = (uint8_t)cfg_read(cfg, PCI_CFG_SUBCLASS, 1);
	d->class = (uint8_t)cfg_read(cfg, PCI_CFG_CLASS, 1);
	d->header_type = (uint8_t)cfg_read(cfg, PCI_CFG_HEADER_TYPE, 1);
	uint32_t layout = d->header_type & PCI_HEADER_LAYOUT;
	if (layout > 1)
		return;         /* CardBus or unknown: identity only */
	if (layout == 0) {
		d->subsys_vendor = (uint16_t)cfg_read(cfg, PCI_CFG_SUBSYS_VENDOR, 2);
		d->subsys_id = (uint16_t)cfg_read(cfg, PCI_CFG_SUBSYS_ID, 2);
	}
	if (cfg_read(cfg, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST) {
		uint32_t p = cfg_read(cfg, PCI_CFG_CAP_PTR, 1) & PCI_CAP_PTR_MASK;
		d->cap_ptr = p >= PCI_CAP_FIRST ? (uint8_t)p : 0;
	}
	size_bars(d, layout == 0 ? PCI_NBARS_TYPE0 : PCI_NBARS_TYPE1);
}

/* The config handle of function dev.fn on the bus whose handle (function 0 of device 0) is bus_cfg. */
static uint64_t fn_cfg(uint64_t bus_cfg, uint32_t dev, uint32_t fn)
{
	if (bus_cfg & PCI_CFG_PORTIO)
		return bus_cfg | dev << PCI_PIO_DEV_SHIFT | fn << PCI_PIO_FN_SHIFT;
	return bus_cfg + ((uint64_t)dev << PCI_ECAM_DEV_SHIFT) + ((uint64_t)fn << PCI_ECAM_FN_SHIFT);
}

static void scan_bus(uint16_t segment, uint32_t bus, uint64_t bus_cfg)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		uint64_t dcfg = fn_cfg(bus_cfg, dev, 0);
		if (!fn_present(dcfg))
			continue;       /* no function 0: no device */
		/* Functions 1..7 only when function 0 says so: a single-function device may ignore the
		 * function number and answer all eight. */
		uint32_t nfn = cfg_read(dcfg, PCI_CFG_HEADER_TYPE, 1) & PCI_HEADER_MULTIFN ? 8 : 1;
		for (uint32_t fn = 0; fn < nfn; fn++) {
			uint64_t cfg = fn_cfg(bus_cfg, dev, fn);
			if (fn == 0 || fn_present(cfg))
				add_fn(segment, bus, dev, fn, cfg);
		}
	}
}

/* The ECAM address of bus through the first MCFG entry of ai for segment that covers it (the MCFG
 * base is where bus 0 would be, whatever the entry's first bus), or 0 when none does. An entry
 * with base 0 covers nothing. */
static uint64_t ecam_bus(const struct acpi_info *ai, uint16_t segment, uint32_t bus)
{
	for (uint32_t s = 0; s < ai->nmcfg && s < ACPI_MAX_MCFG; s++)
		if (ai->mcfg[s].base && ai->mcfg[s].segment == segment && bus >= ai->mcfg[s].bus_start &&
		    bus <= ai->mcfg[s].bus_end)
			return ai->mcfg[s].base + ((uint64_t)bus << PCI_ECAM_BUS_SHIFT);
	return 0;
}

int pci_scan(const struct acpi_info *ai)
{
	ndevs = ndropped = 0;
	/* Segment 0, bus by bus: ECAM where MCFG maps the bus, else type 1 where the CPU has ports and a
	 * host bridge answers there (x86 EC2 instances can lack MCFG, or map only buses 1 and up). Every
	 * bus is tried, as firmware may number them sparsely; through ports that is at most 8,192
	 * vendor ID reads of two port accesses each (under a hypervisor, two exits each). */
	int pio = -1;   /* not yet asked */
	for (uint32_t bus = 0; bus < PCI_NBUS; bus++) {
		uint64_t ecam = ecam_bus(ai, 0, bus);
		if (ecam) {
			scan_bus(0, bus, ecam);
			continue;
		}
		if (pio < 0)
			pio = arch_port_io() && pio_present();
		if (pio)
			scan_bus(0, bus, PCI_CFG_PORTIO | PCI_PIO_ENABLE | bus << PCI_PIO_BUS_SHIFT);
	}
	/* Other segments: ECAM only (type 1 has no segment number). */
	for (uint32_t s = 0; s < ai->nmcfg && s < ACPI_MAX_MCFG; s++) {
		uint16_t seg = ai->mcfg[s].segment;
		if (!ai->mcfg[s].base || seg == 0)
			continue;
		for (uint32_t bus = ai->mcfg[s].bus_start; bus <= ai->mcfg[s].bus_end; bus++)
			if (ecam_bus(ai, seg, bus) == ai->mcfg[s].base + ((uint64_t)bus << PCI_ECAM_BUS_SHIFT))
				scan_bus(seg, bus, ai->mcfg[s].base + ((uint64_t)bus << PCI_ECAM_BUS_SHIFT));
	}
	if (ndropped)
		kprintf("pci: table full: %d functions not recorded (PCI_MAX_DEVS is %d)\n", ndropped, PCI_MAX_DEVS);
	return ndevs;
}

int pci_dropped(void)
{
	return ndropped;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	for (int i = 0; i < ndevs; i++)
		if (devs[i].vendor == vendor && devs[i].device == device && nth-- == 0)
			return &devs[i];
	return 0;
}

uint64_t pci_bar_addr(const struct pci_dev *d, int bar)
{
	if (bar < 0 || bar >= 6 || (d->bar_kind[bar] != PCI_BAR_MEM32 && d->bar_kind[bar] != PCI_BAR_MEM64))
		return 0;
	return d->bar[bar];
}

uint64_t pci_bar_size(const struct pci_dev *d, int bar)
{
	return bar >= 0 && bar < 6 ? d->bar_size[bar] : 0;
}

/* Capabilities (PCI 3.0, 6.7). The walk always starts at the head and remembers every slot it has
 * visited, so a list that loops ends at the first repeat and the list seen is a simple path: each
 * continuation from start_off returns a later entry, and a caller's loop ends within 48 calls. */
int pci_find_cap(const struct pci_dev *d, uint8_t cap_id, int start_off)
{
	if (start_off && (start_off < PCI_CAP_FIRST || start_off > 0xfc || (start_off & 3)))
		return 0;
	uint64_t seen = 0;
	bool after = start_off == 0;
	uint32_t off = d->cap_ptr;
	for (int n = 0; n < PCI_CAP_MAX_WALK; n++) {
		off &= PCI_CAP_PTR_MASK;        /* reserved low bits: software must mask them */
		if (off < PCI_CAP_FIRST)
			return 0;       /* 0 ends the list; anything else below 0x40 points into the header */
		uint64_t bit = 1ull << ((off - PCI_CAP_FIRST) / 4);
		if (seen & bit)
			return 0;
		seen |= bit;
		if (after && cfg_read(d->cfg, off + PCI_CAP_ID, 1) == cap_id)
			return (int)off;
		if (off == (uint32_t)start_off)
			after = true;
		off = cfg_read(d->cfg, off + PCI_CAP_NEXT, 1);
	}
	return 0;
}

/* Interrupt delivery goes off before bus mastering comes on: an MSI or MSI-X message is a DMA write,
 * and Pollux polls. 16-bit writes only, so the W1C status bits beside the command register are
 * never written back. */
void pci_enable(struct pci_dev *d)
{
	int c = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (c) {
		uint32_t ctl = cfg_read(d->cfg, (uint32_t)c + PCI_MSIX_CTRL, 2);
		if (ctl & PCI_MSIX_CTRL_ENABLE)
			cfg_write(d->cfg, (uint32_t)c + PCI_MSIX_CTRL, 2, ctl & ~PCI_MSIX_CTRL_ENABLE);
	}
	c = pci_find_cap(d, PCI_CAP_ID_MSI, 0);
	if (c) {
		uint32_t ctl = cfg_read(d->cfg, (uint32_t)c + PCI_MSI_CTRL, 2);
		if (ctl & PCI_MSI_CTRL_ENABLE)
			cfg_write(d->cfg, (uint32_t)c + PCI_MSI_CTRL, 2, ctl & ~PCI_MSI_CTRL_ENABLE);
	}
	uint32_t cmd = cfg_read(d->cfg, PCI_CFG_COMMAND, 2);
	cfg_write(d->cfg, PCI_CFG_COMMAND, 2, cmd | PCI_CMD_INTX_DISABLE | PCI_CMD_MEM | PCI_CMD_MASTER);
}

/* ---- console ---- */
static void print_size(struct kbuf *b, uint64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint32_t u = 0;
	while (u + 1 < ARRAY_SIZE(unit) && n >= 1024 && !(n & 1023)) {
		n >>= 10;
		u++;
	}
	kbprintf(b, "%llu%s", (unsigned long long)n, unit[u]);
}

void pci_print(void)
{
	int nports = 0;
	for (int i = 0; i < ndevs; i++)
		nports += (devs[i].cfg & PCI_CFG_PORTIO) != 0;
	char ports[64] = "";
	if (nports)
		ksnprintf(ports, sizeof(ports), ", %d through ports 0xCF8/0xCFC", nports);
	if (ndropped)
		kprintf("pci: %d functions%s, %d more not recorded (table holds %d)\n", ndevs, ports, ndropped,
			PCI_MAX_DEVS);
	else
		kprintf("pci: %d functions%s\n", ndevs, ports);
	for (int i = 0; i < ndevs; i++) {
		const struct pci_dev *d = &devs[i];
		char line[320];
		struct kbuf b = { line, sizeof(line), 0 };
		kbprintf(&b, "pci: %04x:%02x:%02x.%x %04x:%04x class %02x/%02x", d->segment, d->bus, d->dev, d->fn,
			 d->vendor, d->device, d->class, d->subclass);
		for (int j = 0; j < 6; j++) {
			if (d->bar_kind[j] == PCI_BAR_NONE)
				continue;
			if (d->bar_kind[j] == PCI_BAR_IOPORT)
				kbprintf(&b, " bar%d=io:0x%llx (", j, (unsigned long long)d->bar[j]);
			else if (d->bar[j])
				kbprintf(&b, " bar%d=0x%llx (", j, (unsigned long long)d->bar[j]);
			else
				kbprintf(&b, " bar%d=unassigned (", j);
			print_size(&b, d->bar_size[j]);
			kbprintf(&b, ")");
		}
		if (d->cfg & PCI_CFG_PORTIO)
			kbprintf(&b, " cfg=ports");
		kprintf("%s\n", line);
	}
}
