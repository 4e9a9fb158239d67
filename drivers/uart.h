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
	uint32_t fifo;          /* bytes the transmitter takes once it says empty (set by uart_init) */
};

struct acpi_info;
struct console_dev;

/* The console device: the UART ACPI's SPCR names, else the arch default, set up for
 * POLLUX_CONSOLE_BAUD. NULL when there is neither. */
const struct console_dev *uart_console(const struct acpi_info *ai);
/* arch/<arch>/cpu.c: the console UART when ACPI has no SPCR (x86: COM1 at I/O 0x3F8). 0 if one. */
int arch_default_uart(struct uart *u);

/* The console UART that ACPI's SPCR in ai names (16550 by I/O port or MMIO, the register stride
 * and access width from its address's access size; PL011 or SBSA). Fills *u and returns 0, or -1
 * when there is no SPCR or it names an interface we do not drive. Pure: no device access. */
int uart_from_spcr(const struct acpi_info *ai, struct uart *u);

/* Set up u (baud 0 keeps the firmware's divisor). */
void uart_init(struct uart *u, uint32_t baud);
/* Bytes the transmitter takes now without waiting: 0 while busy, up to u->fifo. */
uint32_t uart_tx_room(const struct uart *u);
/* Write one byte without looking: only as many as uart_tx_room allowed. */
void uart_tx(const struct uart *u, char c);
/* Read one byte if one is waiting; returns -1 otherwise. Never blocks. */
int uart_getc(const struct uart *u);
const char *uart_name(const struct uart *u);

#endif
