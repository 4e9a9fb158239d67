/* Polled UARTs for the console: 16550 (I/O port or MMIO, with register shift) and PL011. */
#ifndef POLLUX_UART_H
#define POLLUX_UART_H

#include <stdbool.h>
#include <stdint.h>

enum uart_type { UART_NONE = 0, UART_16550_PIO, UART_16550_MMIO, UART_PL011 };

struct uart {
	enum uart_type type;
	uint64_t base;          /* I/O port or MMIO address */
	uint32_t shift;         /* 16550 MMIO register stride = 1 << shift bytes */
	bool mmio32;            /* 16550 MMIO registers accessed as 32-bit words */
};

struct acpi_info;

/* The console UART that ACPI's SPCR in ai names (16550 by I/O port or MMIO, the register stride
 * and access width from its address's access size; PL011 or SBSA). Fills *u and returns 0, or -1
 * when there is no SPCR or it names an interface we do not drive. Pure: no device access. */
int uart_from_spcr(const struct acpi_info *ai, struct uart *u);
/* Set up u (baud 0 keeps the firmware's divisor). */
void uart_init(struct uart *u, uint32_t baud);
/* Write one byte, waiting while the transmitter is full. */
void uart_putc(const struct uart *u, char c);
/* Read one byte if one is waiting; returns -1 otherwise. Never blocks. */
int uart_getc(const struct uart *u);
const char *uart_name(const struct uart *u);

#endif
