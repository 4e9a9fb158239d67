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

/* Set up u (baud 0 keeps the firmware's divisor). */
void uart_init(struct uart *u, uint32_t baud);
/* Write one byte, waiting while the transmitter is full. */
void uart_putc(const struct uart *u, char c);
/* Read one byte if one is waiting; returns -1 otherwise. Never blocks. */
int uart_getc(const struct uart *u);
const char *uart_name(const struct uart *u);

#endif
