/* Polled UART drivers: 16550 family (PC COM ports, EC2 Graviton's MMIO UART) and ARM PL011. */
#include "kernel.h"
#include "uart.h"

/* 16550 registers (TI PC16550D datasheet, table 2), in units of the register stride. */
#define UART_RBR 0      /* receive buffer, RO (DLAB=0) */
#define UART_THR 0      /* transmit holding, WO (DLAB=0) */
#define UART_DLL 0      /* divisor latch low, RW (DLAB=1) */
#define UART_IER 1      /* interrupt enable, RW (DLAB=0) */
#define UART_DLM 1      /* divisor latch high, RW (DLAB=1) */
#define UART_IIR 2      /* interrupt identification, RO */
#define  UART_IIR_FIFO 0xc0     /* both bits set: the FIFOs are on (16550A and later) */
#define UART_FCR 2      /* FIFO control, WO */
#define  UART_FCR_ENABLE_CLEAR 0x07     /* enable both FIFOs, clear them */
#define UART_LCR 3      /* line control, RW */
#define  UART_LCR_8N1 0x03
#define  UART_LCR_DLAB 0x80
#define UART_MCR 4      /* modem control, RW */
#define  UART_MCR_DTR_RTS 0x03
#define UART_FIFO_SIZE 16       /* a 16550A's transmit FIFO */
#define UART_LSR 5      /* line status, RO */
#define  UART_LSR_DR 0x01       /* data ready */
#define  UART_LSR_THRE 0x20     /* transmit holding register empty */

/* PL011 registers (ARM PrimeCell UART PL011 TRM, 3.2). */
#define PL011_DR 0x000  /* data, RW */
#define PL011_FR 0x018  /* flags, RO */
#define  PL011_FR_RXFE (1u << 4)  /* receive FIFO empty */
#define  PL011_FR_TXFF (1u << 5)  /* transmit FIFO full */
#define PL011_IMSC 0x038 /* interrupt mask set/clear, RW */

static uint8_t ns_read(const struct uart *u, uint32_t reg)
{
	if (u->type == UART_16550_PIO)
		return arch_inb((uint16_t)(u->base + reg));
	uint64_t a = u->base + ((uint64_t)reg << u->shift);
	return u->mmio32 ? (uint8_t)mmio_read32(a) : mmio_read8(a);
}

static void ns_write(const struct uart *u, uint32_t reg, uint8_t v)
{
	if (u->type == UART_16550_PIO) {
		arch_outb((uint16_t)(u->base + reg), v);
		return;
	}
	uint64_t a = u->base + ((uint64_t)reg << u->shift);
	if (u->mmio32)
		mmio_write32(a, v);
	else
		mmio_write8(a, v);
}

void uart_init(struct uart *u, uint32_t baud)
{
	switch (u->type) {
	case UART_16550_PIO:
	case UART_16550_MMIO:
		ns_write(u, UART_IER, 0);       /* polled: no interrupts, ever */
		if (baud) {
			uint32_t div = 115200 / baud;
			ns_write(u, UART_LCR, UART_LCR_DLAB);
			ns_write(u, UART_DLL, (uint8_t)div);
			ns_write(u, UART_DLM, (uint8_t)(div >> 8));
			ns_write(u, UART_LCR, UART_LCR_8N1);
		}
		ns_write(u, UART_FCR, UART_FCR_ENABLE_CLEAR);
		ns_write(u, UART_MCR, UART_MCR_DTR_RTS);
		/* A 16450 (or a model of one) has no FIFO: then "empty" means room for one byte. */
		u->fifo = (ns_read(u, UART_IIR) & UART_IIR_FIFO) == UART_IIR_FIFO ? UART_FIFO_SIZE : 1;
		break;
	case UART_PL011:
		/* Keep the firmware's baud and line setup; only make sure no interrupt is enabled. Its
		 * FIFO may be off (LCR_H.FEN): only "not full" is known, one byte at a time. */
		mmio_write32(u->base + PL011_IMSC, 0);
		u->fifo = 1;
		break;
	case UART_NONE:
		break;
	}
}

uint32_t uart_tx_room(const struct uart *u)
{
	switch (u->type) {
	case UART_16550_PIO:
	case UART_16550_MMIO:
		/* THRE with the FIFO on means the whole FIFO is empty. */
		return ns_read(u, UART_LSR) & UART_LSR_THRE ? u->fifo : 0;
	case UART_PL011:
		return mmio_read32(u->base + PL011_FR) & PL011_FR_TXFF ? 0 : 1;
	case UART_NONE:
		break;
	}
	return 1u << 30;        /* nothing to wait for */
}

void uart_tx(const struct uart *u, char c)
{
	switch (u->type) {
	case UART_16550_PIO:
	case UART_16550_MMIO:
		ns_write(u, UART_THR, (uint8_t)c);
		break;
	case UART_PL011:
		mmio_write32(u->base + PL011_DR, (uint8_t)c);
		break;
	case UART_NONE:
		break;
	}
}

int uart_getc(const struct uart *u)
{
	switch (u->type) {
	case UART_16550_PIO:
	case UART_16550_MMIO:
		if (!(ns_read(u, UART_LSR) & UART_LSR_DR))
			return -1;
		return ns_read(u, UART_RBR);
	case UART_PL011:
		if (mmio_read32(u->base + PL011_FR) & PL011_FR_RXFE)
			return -1;
		return (int)(mmio_read32(u->base + PL011_DR) & 0xff);
	case UART_NONE:
		break;
	}
	return -1;
}

const char *uart_name(const struct uart *u)
{
	switch (u->type) {
	case UART_16550_PIO: return "16550 (I/O port)";
	case UART_16550_MMIO: return "16550 (MMIO)";
	case UART_PL011: return "PL011";
	case UART_NONE: break;
	}
	return "none";
}

/* ---- the console device ---- */

/* SPCR interface types (Microsoft DBG2 table, "Serial Port Subtypes"). */
#define SPCR_16550 0x00
#define SPCR_16450 0x01
#define SPCR_PL011 0x03
#define SPCR_SBSA32 0x0d
#define SPCR_SBSA 0x0e
#define SPCR_16550_GAS 0x12

int uart_from_spcr(const struct acpi_info *ai, struct uart *u)
{
	const struct acpi_gas *g = &ai->spcr_addr;
	if (!ai->has_spcr || g->address == 0)
		return -1;
	u->base = g->address;
	u->shift = 0;
	u->mmio32 = false;
	switch (ai->spcr_type) {
	case SPCR_16550:
	case SPCR_16450:
	case SPCR_16550_GAS:
		if (g->space == 1) {
			u->type = UART_16550_PIO;
			return 0;
		}
		u->type = UART_16550_MMIO;
		/* The access size gives the register stride (1 = bytes, 3 = 32-bit words). */
		if (g->access_size == 3) {
			u->shift = 2;
			u->mmio32 = true;
		} else if (g->access_size == 2) {
			u->shift = 1;
		}
		return 0;
	case SPCR_PL011:
	case SPCR_SBSA32:
	case SPCR_SBSA:
		u->type = UART_PL011;   /* SBSA generic UART is a PL011 register subset */
		return 0;
	}
	return -1;
}

static struct uart con_uart;

static uint32_t con_tx_room(void *ctx) { return uart_tx_room(ctx); }
static void con_tx(void *ctx, char c) { uart_tx(ctx, c); }
static int con_getc(void *ctx) { return uart_getc(ctx); }

static struct console_dev con_dev = { "none", &con_uart, con_tx_room, con_tx, con_getc };

const struct console_dev *uart_console(const struct acpi_info *ai)
{
	if (uart_from_spcr(ai, &con_uart) != 0 && arch_default_uart(&con_uart) != 0)
		return NULL;
	uart_init(&con_uart, POLLUX_CONSOLE_BAUD);
	con_dev.name = uart_name(&con_uart);
	return &con_dev;
}
