/* The layers above the kernel, in boot order: the one place that names them for kmain and the loop. */
#include "kernel.h"
#include "../drivers/drivers.h"
#include "../drivers/nic.h"
#include "../drivers/uart.h"
#include "../net/net.h"

static const struct kernel_layer drivers_layer = { "drivers", drivers_init, 0 };
/* net_init registers net_poll as a poll hook and the `stats` command. */
static const struct kernel_layer net_layer = { "net", net_init, net_core_init };

const struct kernel_layer *const kernel_layers[] = { &drivers_layer, &net_layer, 0 };

const struct console_dev *(*const kernel_console_probe)(const struct acpi_info *ai) = uart_console;
/* Before the page tables: the NIC BARs to map write-combining (ENA's LLQ). */
uint32_t (*const kernel_wc_probe)(const struct acpi_info *ai, struct pt_range *out, uint32_t max) = nic_wc_ranges;
