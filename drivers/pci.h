/* PCI and PCI Express through ECAM (ACPI MCFG) and, on x86 for the buses of segment 0 that MCFG does
 * not cover, through ports 0xCF8/0xCFC: enumeration, BARs as the firmware assigned them, capability
 * lists, bus mastering. No MSI or MSI-X: Pollux never takes an interrupt. */
#ifndef POLLUX_PCI_H
#define POLLUX_PCI_H

#include <stdint.h>

struct acpi_info;

#define PCI_MAX_DEVS 64

/* What a BAR decodes (bar_kind[]). */
enum pci_bar_kind {
	PCI_BAR_NONE = 0,       /* not implemented, reserved type, or the upper half of a 64-bit BAR */
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,          /* occupies this BAR and the next */
	PCI_BAR_IOPORT,
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint8_t header_type;            /* with the multi-function bit */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id;      /* type 0 headers only, else 0 */
	uint8_t class, subclass, progif, revision;
	uint8_t cap_ptr;                /* first capability, 0 = none */
	uint8_t bar_prefetch;           /* bit n: BAR n is prefetchable memory */
	uint8_t bar_kind[6];            /* enum pci_bar_kind */
	uint64_t bar[6];                /* base as the firmware assigned it (0 = unassigned or none) */
	uint64_t bar_size[6];           /* bytes the BAR decodes, 0 = none */
	uint64_t cfg;                   /* how its config space is reached: the ECAM address of its 4 KiB,
					 * or PCI_CFG_PORTIO | its CONFIG_ADDRESS (x86 ports, 256 bytes) */
};

/* Tag of pci_dev.cfg for a function reached through ports 0xCF8/0xCFC; no physical address has
 * bit 63, so it never names an ECAM address. */
#define PCI_CFG_PORTIO (1ull << 63)

/* Walk every bus and record each function (up to PCI_MAX_DEVS; the rest are counted and reported
 * once): first the 256 buses of segment 0 in order, each through the MCFG entry of ai that covers
 * it or, when none does and the CPU has port I/O (x86), through ports 0xCF8/0xCFC; then the buses
 * of the MCFG entries for other segments. So on AArch64 only ECAM is used, and ports are never
 * touched when MCFG covers all of segment 0. Replaces any earlier table. Runs on the boot core
 * before any other core starts (it briefly turns decoding off while sizing BARs, and a port access
 * is two steps that must not interleave with another core's). Returns the number recorded. */
int pci_scan(const struct acpi_info *ai);
/* Functions found by the last scan that did not fit in the table. */
int pci_dropped(void);
/* The nth (from 0) function with this vendor and device ID, in scan order, or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth);
/* Base address of memory BAR bar of d; 0 when bar is out of range, not a memory BAR (I/O, none,
 * upper half of a 64-bit BAR) or left unassigned by the firmware. */
uint64_t pci_bar_addr(const struct pci_dev *d, int bar);
/* Bytes decoded by BAR bar of d (memory or I/O), 0 when there is none. */
uint64_t pci_bar_size(const struct pci_dev *d, int bar);
/* Offset of the first capability with id cap_id in d's list: the first one in the list when
 * start_off is 0, else the first after the capability at start_off (so a loop over every capability
 * of one id passes the previous result back). 0 when there is none, or start_off is not on the list.
 * A looping or wild list from a broken device ends the walk; a caller loop always ends. */
int pci_find_cap(const struct pci_dev *d, uint8_t cap_id, int start_off);
/* Memory Space and Bus Master on, INTx disabled, MSI and MSI-X enables cleared. */
void pci_enable(struct pci_dev *d);

/* Config space of d at byte offset off (< 4096 through ECAM, < 256 through ports, aligned to the
 * access size; otherwise reads give all ones, like an absent function or capability, and writes are
 * dropped). Every config access of pci.c, BAR sizing and command writes included, goes the same
 * way, and only from the boot core: the port mechanism's two steps have no lock. */
uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off);
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* How every ECAM config access is made: addr is an ECAM address (function base + offset), size 1, 2
 * or 4, addr aligned to size. The default is plain MMIO on the ECAM window; host tests put a device
 * model here. pci_set_cfg_ops(NULL) restores the default. Port accesses always use arch_outl and
 * arch_in / arch_out of the access's width (arch.h), which host tests provide. */
struct pci_cfg_ops {
	uint32_t (*read)(uint64_t addr, int size);
	void (*write)(uint64_t addr, int size, uint32_t v);
};
void pci_set_cfg_ops(const struct pci_cfg_ops *ops);

/* Console: a header line with the count (and how many were reached through ports), then one line
 * per function with its BARs, and "cfg=ports" when it was reached through ports. */
void pci_print(void);

#endif
