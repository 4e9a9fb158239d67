/* PCI Express enumeration over ECAM (see pci.h). */
#include "kernel.h"
#include "pci.h"

/* Type 0/1 configuration header (PCI Local Bus 3.0, 6.1; PCIe 5.0, 7.5.1). */
#define PCI_VENDOR 0x00         /* RO u16 */
#define PCI_DEVICE 0x02         /* RO u16 */
#define PCI_COMMAND 0x04        /* RW u16 */
#define  PCI_CMD_MEM (1u << 1)
#define  PCI_CMD_MASTER (1u << 2)
#define  PCI_CMD_INTX_OFF (1u << 10)
#define PCI_STATUS 0x06         /* RW1C u16 */
#define  PCI_STATUS_CAPS (1u << 4)
#define PCI_REVISION 0x08       /* RO u8, then prog-if, subclass, class */
#define PCI_HEADER 0x0e         /* RO u8: bit 7 multi-function */
#define PCI_BAR0 0x10           /* RW u32 x6 (type 0) */
#define PCI_CAPS 0x34           /* RO u8 */
#define PCI_CAP_MSI 0x05
#define PCI_CAP_MSIX 0x11

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs, ndropped;

uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off) { return mmio_read8(d->cfg + off); }
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off) { return mmio_read16(d->cfg + off); }
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off) { return mmio_read32(d->cfg + off); }
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v) { mmio_write16(d->cfg + off, v); }
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { mmio_write32(d->cfg + off, v); }

/* Size each BAR by writing all ones with decoding off (PCI 3.0, 6.2.5.1). Nothing else touches
 * config space and no interrupt can arrive, so the brief change is invisible. */
static void read_bars(struct pci_dev *d)
{
	if ((d->header_type & 0x7f) != 0)
		return;         /* bridges: their windows are the firmware's business */
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_MEM | 1u));
	for (int i = 0; i < 6; i++) {
		uint16_t off = PCI_BAR0 + 4 * i;
		uint32_t lo = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, 0xffffffff);
		uint32_t mlo = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, lo);
		if (lo & 1) {           /* I/O BAR */
			d->bar[i] = lo & ~3u;
			d->bar_size[i] = mlo ? (uint16_t)(~(mlo & ~3u) + 1) : 0;
			continue;
		}
		uint64_t base = lo & ~0xfull, mask = (uint64_t)(mlo & ~0xfu) | 0xffffffff00000000ull;
		if (((lo >> 1) & 3) == 2 && i < 5) {    /* 64-bit: the next BAR holds the high half */
			uint32_t hi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, 0xffffffff);
			uint32_t mhi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, hi);
			base |= (uint64_t)hi << 32;
			mask = ((uint64_t)mhi << 32) | (mlo & ~0xfu);
			d->bar[i] = base;
			d->bar_size[i] = mask ? ~mask + 1 : 0;
			i++;
			continue;
		}
		d->bar[i] = base;
		d->bar_size[i] = (mlo & ~0xfu) ? ~mask + 1 : 0;
	}
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

int pci_scan(const struct acpi_info *ai)
{
	for (uint32_t s = 0; s < ai->nmcfg; s++) {
		for (uint32_t bus = ai->mcfg[s].bus_start; bus <= ai->mcfg[s].bus_end; bus++) {
			for (uint32_t dev = 0; dev < 32; dev++) {
				for (uint32_t fn = 0; fn < 8; fn++) {
					uint64_t cfg = ai->mcfg[s].base +
						       ((uint64_t)(bus - ai->mcfg[s].bus_start) << 20 | dev << 15 | fn << 12);
					uint16_t vendor = mmio_read16(cfg + PCI_VENDOR);
					if (vendor == 0xffff) {
						if (fn == 0)
							break;
						continue;
					}
					if (ndevs == PCI_MAX_DEVS) {
						ndropped++;
						continue;
					}
					struct pci_dev *d = &devs[ndevs++];
					d->segment = ai->mcfg[s].segment;
					d->bus = (uint8_t)bus, d->dev = (uint8_t)dev, d->fn = (uint8_t)fn;
					d->cfg = cfg;
					d->vendor = vendor;
					d->device = mmio_read16(cfg + PCI_DEVICE);
					uint32_t cr = mmio_read32(cfg + PCI_REVISION);
					d->revision = (uint8_t)cr, d->progif = (uint8_t)(cr >> 8);
					d->subclass = (uint8_t)(cr >> 16), d->class = (uint8_t)(cr >> 24);
					d->header_type = mmio_read8(cfg + PCI_HEADER);
					read_bars(d);
					if (fn == 0 && !(d->header_type & 0x80))
						break;  /* single-function device */
				}
			}
			if (bus == 255)
				break;
		}
	}
	if (ndropped)
		kprintf("pci: %d functions ignored (table holds %d)\n", ndropped, PCI_MAX_DEVS);
	return ndevs;
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
	return bar >= 0 && bar < 6 ? d->bar[bar] : 0;
}

int pci_find_cap(const struct pci_dev *d, uint8_t cap_id, int start_off)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	int off = start_off ? pci_cfg_read8(d, (uint16_t)(start_off + 1)) : pci_cfg_read8(d, PCI_CAPS);
	/* A bounded walk: a looping or wild list from a broken device ends here, not in a hang. */
	for (int n = 0; n < 48 && off >= 0x40 && !(off & 3); n++) {
		if (pci_cfg_read8(d, (uint16_t)off) == cap_id)
			return off;
		off = pci_cfg_read8(d, (uint16_t)(off + 1));
	}
	return 0;
}

void pci_enable(struct pci_dev *d)
{
	int msix = pci_find_cap(d, PCI_CAP_MSIX, 0);
	if (msix)
		pci_cfg_write16(d, (uint16_t)(msix + 2), pci_cfg_read16(d, (uint16_t)(msix + 2)) & ~(1u << 15));
	int msi = pci_find_cap(d, PCI_CAP_MSI, 0);
	if (msi)
		pci_cfg_write16(d, (uint16_t)(msi + 2), pci_cfg_read16(d, (uint16_t)(msi + 2)) & ~1u);
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
}

void pci_print(void)
{
	char out[4096];
	struct kbuf b = { out, sizeof(out), 0 };
	kbprintf(&b, "pci: %d functions\n", ndevs);
	for (int i = 0; i < ndevs; i++) {
		struct pci_dev *d = &devs[i];
		kbprintf(&b, "  %04x:%02x:%02x.%x %04x:%04x class %02x/%02x", d->segment, d->bus, d->dev, d->fn,
			 d->vendor, d->device, d->class, d->subclass);
		for (int j = 0; j < 6; j++)
			if (d->bar[j])
				kbprintf(&b, " bar%d=0x%llx/%lluK", j, (unsigned long long)d->bar[j],
					 (unsigned long long)(d->bar_size[j] >> 10));
		kbprintf(&b, "\n");
	}
	kprintf("%s", out);
}
