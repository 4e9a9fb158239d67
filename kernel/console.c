/* The serial console: whole lines out under one lock, line input and commands on core 0. */
#include "kernel.h"
#include "../drivers/pci.h"
#include "../drivers/uart.h"
#include "../net/net.h"

static struct uart con;
static volatile uint32_t con_owner;     /* 0 = free, else core index + 1 */
static struct lineedit con_line;
static uint64_t con_next_poll;

void console_init(const struct acpi_info *ai)
{
	if (uart_from_spcr(ai, &con) != 0 && arch_default_uart(&con) != 0)
		con.type = UART_NONE;
	uart_init(&con, POLLUX_CONSOLE_BAUD);
	lineedit_reset(&con_line);
}

/* Take the console for this core. A core that spins for a long time (a crashed holder)
 * gives up and prints anyway: interleaved text beats a silent hang. */
static bool con_lock(void)
{
	struct cpu *c = this_cpu();
	uint32_t me = c ? c->idx + 1 : 1;
	if (con_owner == me)
		return false;           /* re-entered, e.g. a fault while printing: just print */
	for (uint64_t spin = 0; spin < 50000000; spin++) {
		if (con_owner == 0 && __sync_bool_compare_and_swap(&con_owner, 0, me))
			return true;
		arch_relax();
	}
	return false;
}

static void con_unlock(bool taken)
{
	if (taken)
		__sync_lock_release(&con_owner);
}

static void con_write(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc(&con, '\r');
		uart_putc(&con, *s);
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[1024];      /* a crash report's register dump is one call */
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	bool t = con_lock();
	con_write(buf);
	con_unlock(t);
}

void kputs(const char *s)
{
	bool t = con_lock();
	con_write(s);
	con_unlock(t);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void console_emergency(const char *s)
{
	con_write(s);
}

void console_poll(void)
{
	/* Reading the UART costs a device access (about a microsecond of port I/O on real x86):
	 * look at most once a millisecond, which is plenty for a human or a test script. */
	uint64_t now = arch_counter();
	if (now < con_next_poll)
		return;
	con_next_poll = now + arch_counter_hz() / 1000;
	for (int n = 0; n < 64; n++) {
		int ch = uart_getc(&con);
		if (ch < 0)
			return;
		int r = lineedit_feed(&con_line, ch, kputs);
		if (r < 0) {
			kprintf("console: line too long (max %d characters), ignored\n", CONSOLE_LINE_MAX - 1);
		} else if (r > 0) {
			char *argv[CONSOLE_ARGS_MAX];
			int argc = console_split(con_line.buf, argv, CONSOLE_ARGS_MAX);
			if (console_dispatch(console_cmds, argc, argv) < 0)
				kprintf("console: unknown command '%s' (try help)\n", argv[0]);
			lineedit_reset(&con_line);
		}
	}
}

/* ---- commands ---- */

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	char out[1024];
	struct kbuf b = { out, sizeof(out), 0 };
	for (const struct console_cmd *c = console_cmds; c->name; c++)
		kbprintf(&b, "  %-8s %s\n", c->name, c->help);
	kputs(out);
}

static void cmd_uptime(int argc, char **argv)
{
	(void)argc, (void)argv;
	uint64_t ns = time_ns();
	uint64_t s = ns / 1000000000u;
	kprintf("uptime: %llu.%03llus (%llu ticks at %llu Hz)\n", (unsigned long long)s,
		(unsigned long long)(ns / 1000000u % 1000u),
		(unsigned long long)(arch_counter() - boot->t0), (unsigned long long)arch_counter_hz());
}

static void cmd_cores(int argc, char **argv)
{
	(void)argc, (void)argv;
	static const char *const state[] = { "absent", "starting", "running", "stopped" };
	char out[4096];
	struct kbuf b = { out, sizeof(out), 0 };
	kbprintf(&b, "cores: %u started of %u in ACPI\n", ncpus, acpi.ncpus);
	for (uint32_t i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		/* The longest gap between two polls since the last `cores`: what an interrupt or a
		 * stall would show. Asking for a fresh maximum is a store to the core's reader line. */
		kbprintf(&b, "  core %-3u hwid=0x%-8llx %-8s loops=%llu max_gap=%lluus\n",
			 c->idx, (unsigned long long)c->hwid, state[c->state & 3], (unsigned long long)c->loops,
			 (unsigned long long)(ticks_to_ns(c->max_gap) / 1000));
		c->reset_gen++;
	}
	kputs(out);
}

static void cmd_mem(int argc, char **argv)
{
	(void)argc, (void)argv;
	uint64_t sum = pt_checksum(pt_root, pt_fmt);
	kprintf("mem: ram=%lluMiB mapped=%lluGiB pages 1g=%llu 2m=%llu 4k=%llu tables=%llu\n"
		"mem: free=%lluMiB ranges=%u dropped=%u\n"
		"mem: checksum=0x%016llx boot=0x%016llx %s\n",
		(unsigned long long)(mem_total_ram() >> 20), (unsigned long long)(pt_limit >> 30),
		(unsigned long long)pt_stat.pages_1g, (unsigned long long)pt_stat.pages_2m,
		(unsigned long long)pt_stat.pages_4k, (unsigned long long)pt_stat.tables,
		(unsigned long long)(mem_free_bytes() >> 20), boot->nranges, boot->ranges_dropped,
		(unsigned long long)sum, (unsigned long long)pt_sum_boot,
		sum == pt_sum_boot ? "unchanged" : "CHANGED");
}

static void cmd_stats(int argc, char **argv)
{
	(void)argc, (void)argv;
	net_print_stats();
}

static void cmd_pci(int argc, char **argv)
{
	(void)argc, (void)argv;
	pci_print();
}

#if POLLUX_TEST_COMMANDS
/* Test-only: write to our own text, which the page tables map read-only. The crash report
 * that follows proves the exception path and the W^X mapping at once. */
static void cmd_fault(int argc, char **argv)
{
	(void)argc, (void)argv;
	kprintf("fault: writing to kernel text at %p\n", (void *)cmd_fault);
	*(volatile uint32_t *)(uintptr_t)cmd_fault = 0;
	kprintf("fault: the write did not fault: text is writable!\n");
}
#endif

const struct console_cmd console_cmds[] = {
	{ "help", "list the commands", cmd_help },
	{ "cores", "every core: hardware ID, state, loop iterations", cmd_cores },
	{ "mem", "memory map: RAM, page sizes, page-table checksum", cmd_mem },
	{ "uptime", "time since efi_main", cmd_uptime },
	{ "stats", "network: per core and queue packets, bytes, drops, TCP connections", cmd_stats },
	{ "pci", "PCI functions with their BARs", cmd_pci },
#if POLLUX_TEST_COMMANDS
	{ "fault", "test only: write to read-only kernel text and crash this core", cmd_fault },
#endif
	{ 0, 0, 0 },
};
