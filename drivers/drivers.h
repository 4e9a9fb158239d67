/* The drivers layer as the kernel sees it (listed in boot/layers.c). */
#ifndef POLLUX_DRIVERS_H
#define POLLUX_DRIVERS_H

#include <stdint.h>

/* Boot core, before the secondaries start: scan PCI (ECAM from the ACPI MCFG), register the `pci`
 * console command and give a virtio-rng device's bytes to the random generators (virtio_rng.c). cores is unused (the NIC
 * takes its queues when net boots). Returns 0. */
int drivers_init(uint32_t cores);

#endif
