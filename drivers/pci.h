/* PCI Express through ECAM (ACPI MCFG): enumeration, BARs as the firmware assigned them,
 * capability lists, bus mastering. No MSI or MSI-X: Pollux never takes an interrupt. */
#ifndef POLLUX_PCI_H
#define POLLUX_PCI_H

#include <stdint.h>

struct acpi_info;

#define PCI_MAX_DEVS 64

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint8_t header_type;
	uint16_t vendor, device;
	uint8_t class, subclass, progif, revision;
	uint64_t cfg;                   /* ECAM address of this function's 4 KiB config space */
	uint64_t bar[6];                /* decoded base (0 = none); a 64-bit BAR fills n, n+1 is 0 */
	uint64_t bar_size[6];
};

/* Walk every bus of every MCFG segment. Returns the number of functions found. */
int pci_scan(const struct acpi_info *ai);
/* The nth (from 0) function with this vendor and device ID, or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth);
uint64_t pci_bar_addr(const struct pci_dev *d, int bar);
/* Offset of the next capability with id cap_id after start_off (0 = from the start), or 0. */
int pci_find_cap(const struct pci_dev *d, uint8_t cap_id, int start_off);
/* Memory space and bus mastering on; INTx, MSI and MSI-X off. */
void pci_enable(struct pci_dev *d);
uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off);
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
/* One console line per function. */
void pci_print(void);

#endif
