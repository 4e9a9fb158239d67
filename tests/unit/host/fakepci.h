/* A fake PCI ECAM in host memory for pci.c and the device models: FAKEPCI_NBUS buses of config
 * space, every byte with a write mask and a write-1-to-clear mask, and counts of what was done.
 * The same space answers x86's ports 0xCF8/0xCFC (type 1) when a test sets host_port_io: this file
 * is then the host's arch_inb, arch_outl and the rest (kernel/arch.h), and bus n through the ports
 * is bus n of the buffer (n < FAKEPCI_NBUS; higher buses are empty). */
#ifndef POLLUX_FAKEPCI_H
#define POLLUX_FAKEPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"

#define FAKEPCI_NBUS 4
#define FAKEPCI_LEN ((size_t)FAKEPCI_NBUS << PCI_ECAM_BUS_SHIFT)

struct fakepci {
	uint8_t *mem, *wmask, *w1c;     /* config space, its writable bits, its W1C bits */
	uint64_t base;                  /* host address of mem: where bus 0 of the buffer is */
	long reads, writes;
	long bad_access;                /* outside the buffer or misaligned: reads all ones, writes nothing */
	long sized_while_decoding;      /* all ones written to a BAR while I/O or memory decoding is on */
	long writes_elsewhere;          /* writes to anything but the command register and the BARs */
	/* A model's veto, asked before every write inside the buffer applies, with the function's
	 * index (as fakepci_fn returns it) and the offset in its space; false drops the write. */
	bool (*allow)(size_t fn, uint32_t off, int size, uint32_t v);
	/* The ports. */
	uint32_t cf8;                   /* CONFIG_ADDRESS as last written */
	bool no_cf8;                    /* no host bridge there: ports read all ones, writes vanish */
	long port_reads, port_writes;   /* every arch_in* and arch_out* */
	/* Wrong use of the ports: CONFIG_ADDRESS accessed with other than 32 bits or written with
	 * reserved bits (30:24, 1:0) set, CONFIG_DATA accessed outside 0xcfc..0xcff, misaligned for its
	 * width, or without the enable bit, or any other port. Reads all ones, writes nothing. */
	long bad_port;
	uint32_t port_buses;            /* bit n: bus n of the buffer was read or written through the ports */
};
extern struct fakepci fakepci;
/* Config access through the model (pci_set_cfg_ops); pci.c's own ECAM ops read fakepci.mem as is. */
extern const struct pci_cfg_ops fakepci_ops;

/* Every function absent (all ones), no writable bits, counters zero, no veto, ports answering. */
void fakepci_reset(void);
/* Index in the buffer of bus_idx (counted from the buffer's start), dev, fn. */
size_t fakepci_slot(uint32_t bus_idx, uint32_t dev, uint32_t fn);
/* A present function: zeroed config space, identity registers, a writable command register (I/O,
 * memory, master, parity, SERR, INTx disable) and W1C error bits in the status register. Returns
 * its index. */
size_t fakepci_fn(uint32_t bus_idx, uint32_t dev, uint32_t fn, uint16_t vendor, uint16_t device,
		  uint8_t class, uint8_t subclass, uint8_t header);
/* size bytes of v at buf[i] (buf: fakepci.mem, .wmask or .w1c), little-endian like PCI. */
void fakepci_put(uint8_t *buf, size_t i, uint32_t v, int size);
uint32_t fakepci_get(size_t i, int size);
/* BAR bar of function s: its value and the bits sizing may write. */
void fakepci_bar(size_t s, int bar, uint32_t value, uint32_t writable);
/* A capability header at off of function s; fakepci_cap_ptr sets the list's start and status bit. */
void fakepci_cap(size_t s, uint32_t off, uint8_t id, uint8_t next);
void fakepci_cap_ptr(size_t s, uint8_t first);

#endif
