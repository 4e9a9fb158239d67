/* The drivers layer's boot step: the bus scan every driver attaches from, and its console command. */
#include "kernel.h"
#include "drivers.h"
#include "pci.h"
#include "virtio_rng.h"

static void cmd_pci(int argc, char **argv)
{
	(void)argc, (void)argv;
	pci_print();
}

static const struct console_cmd pci_cmd = { "pci", "PCI functions with their BARs", cmd_pci };

int drivers_init(uint32_t cores)
{
	(void)cores;
	console_register(&pci_cmd);
	pci_scan(&acpi);        /* a full table is reported by pci_scan; what fits is usable */
	vrng_init();            /* a virtio-rng device's bytes into the seed, before net draws keys */
	return 0;
}
