/* The serial console: output buffered and drained by core 0, line input and commands on core 0. */
#include <string.h>

#include "kernel.h"

/* The buffer holds the largest output made at once, `stats`: three tables of at most 780 bytes
 * per core (42 KiB filled in full with 64 cores), with room to spare for the echo and other
 * cores' lines. 1 KiB per core, a power of two. */
#if POLLUX_MAX_CORES <= 64
#define CON_BUF_SIZE KiB(64)
#elif POLLUX_MAX_CORES <= 128
#define CON_BUF_SIZE KiB(128)
#else
#define CON_BUF_SIZE KiB(256)
#endif
/* What one loop iteration may spend handing bytes to the device: at 115200 baud the line takes
 * 11.5 bytes a millisecond, so this only bounds a fast (virtual) UART; the time bound matters
 * where each device access is slow (a trapped port access on a VM costs microseconds). */
#define CON_DRAIN_BYTES 256
#define CON_DRAIN_US 20
#define CON_CMDS_MAX 16
/* A core waits this long for a lock before it writes anyway: interleaved text beats a silent hang. */
#define CON_LOCK_SPINS 50000000u

static uint32_t null_tx_room(void *ctx) { (void)ctx; return 1u << 30; }
static void null_tx(void *ctx, char c) { (void)ctx, (void)c; }
static int null_getc(void *ctx) { (void)ctx; return -1; }
static const struct console_dev con_null = { "none", 0, null_tx_room, null_tx, null_getc };

static const struct console_dev *con_dev = &con_null;
static char con_mem[CON_BUF_SIZE];
static struct conbuf con_out;
static volatile uint32_t con_owner;     /* appends: 0 = free, else core index + 1 */
static volatile uint32_t con_drainer;   /* writing the buffer out: same encoding */
static volatile bool con_buffered;      /* core 0 runs its loop and drains */
static bool con_cr_sent;                /* the drainer sent the CR of the '\n' it stopped at */
static struct lineedit con_line;
static uint64_t con_next_poll;
static struct console_cmd con_cmds[CON_CMDS_MAX + 1];
static uint32_t con_ncmds;

static void console_register_own(void);

void console_init(const struct acpi_info *ai)
{
	const struct console_dev *d = kernel_console_probe(ai);
	if (d)
		con_dev = d;
	conbuf_init(&con_out, con_mem, sizeof(con_mem));
	lineedit_reset(&con_line);
	console_register_own();
}

void console_register(const struct console_cmd *cmd)
{
	struct cpu *c = this_cpu();
	if ((c && c->idx != 0) || cpus_running > 1)
		panic("console: '%s' registered after the secondaries started", cmd->name);
	if (con_ncmds == CON_CMDS_MAX)
		panic("console: more than %d commands ('%s')", CON_CMDS_MAX, cmd->name);
	for (uint32_t i = 0; i < con_ncmds; i++)
		if (strcmp(con_cmds[i].name, cmd->name) == 0)
			panic("console: command '%s' registered twice", cmd->name);
	con_cmds[con_ncmds++] = *cmd;
}

/* Take lock l for this core, spinning at most CON_LOCK_SPINS. Returns false when it is not
 * taken: re-entered (a fault while printing) or the holder seems stuck; the caller goes on. */
static bool lock_spin(volatile uint32_t *l, uint32_t spins)
{
	struct cpu *c = this_cpu();
	uint32_t me = c ? c->idx + 1 : 1;
	if (*l == me)
		return false;
	for (uint32_t spin = 0;; spin++) {
		if (*l == 0 && __sync_bool_compare_and_swap(l, 0, me))
			return true;
		if (spin >= spins)
			return false;
		arch_relax();
	}
}

static void unlock(volatile uint32_t *l, bool taken)
{
	if (taken)
		__sync_lock_release(l);
}

/* Hand the device s[0..n) with a CR before each LF. With wait, every byte goes out, each after
 * the transmitter has room (bounded: a dead UART must not hang a crash report). Without it,
 * only while the device takes bytes and until deadline. Returns the bytes of s written. */
static uint32_t con_send(const char *s, uint32_t n, bool wait, uint64_t deadline)
{
	const struct console_dev *d = con_dev;
	uint32_t room = 0, i = 0;
	while (i < n) {
		if (room == 0) {
			room = d->tx_room(d->ctx);
			for (uint32_t spin = 0; wait && room == 0 && spin < 1000000; spin++) {
				arch_relax();
				room = d->tx_room(d->ctx);
			}
			if (room == 0) {
				if (!wait)
					break;
				room = 1;       /* the UART never said yes: write anyway */
			}
		}
		if (s[i] == '\n' && !con_cr_sent) {
			d->tx(d->ctx, '\r');
			con_cr_sent = true;
			room--;
			continue;
		}
		d->tx(d->ctx, s[i++]);
		con_cr_sent = false;
		room--;
		if (!wait && arch_counter() >= deadline)
			break;
	}
	return i;
}

/* Write everything buffered, waiting for the device. Caller holds the drain lock (or gave up
 * on it). */
static void con_flush(void)
{
	const char *p;
	uint32_t n;
	while ((n = conbuf_peek(&con_out, &p)) > 0) {
		con_send(p, n, true, 0);
		conbuf_take(&con_out, n);
	}
}

/* Caller holds the append lock. Buffered while core 0 drains; otherwise (early boot, core 0
 * stopped) the buffer's rest and then s go out at once. */
static void con_write(const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	if (con_buffered && cpus[0].state == CPU_RUNNING) {
		conbuf_put(&con_out, s, n);
		return;
	}
	bool d = lock_spin(&con_drainer, CON_LOCK_SPINS);
	con_flush();
	con_send(s, n, true, 0);
	unlock(&con_drainer, d);
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[1024];      /* a crash report's register dump is one call */
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	bool t = lock_spin(&con_owner, CON_LOCK_SPINS);
	con_write(buf);
	unlock(&con_owner, t);
}

void kputs(const char *s)
{
	bool t = lock_spin(&con_owner, CON_LOCK_SPINS);
	con_write(s);
	unlock(&con_owner, t);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void kprintf_sync(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Appends wait behind us, so what was buffered before this call goes out before it. */
	bool t = lock_spin(&con_owner, CON_LOCK_SPINS);
	bool d = lock_spin(&con_drainer, CON_LOCK_SPINS);
	con_flush();
	con_send(buf, (uint32_t)strlen(buf), true, 0);
	unlock(&con_drainer, d);
	unlock(&con_owner, t);
}

/* After the last byte is handed over, a UART may still hold a FIFO of them and one in its shift
 * register, and neither of our devices says when the line is idle (a PL011's FIFO may be off,
 * then "room" means only "not full"): wait for room, then as long as 33 characters (a PL011's
 * FIFO and its shift register) take at 9600 baud. A reset comes once, so 50 ms cost nothing. */
#define CON_SETTLE_US 50000

void console_settle(void)
{
	bool t = lock_spin(&con_owner, CON_LOCK_SPINS);
	bool d = lock_spin(&con_drainer, CON_LOCK_SPINS);
	con_flush();
	for (uint32_t spin = 0; spin < 1000000 && con_dev->tx_room(con_dev->ctx) == 0; spin++)
		arch_relax();
	unlock(&con_drainer, d);
	unlock(&con_owner, t);
	arch_delay_us(CON_SETTLE_US);
}

void console_emergency(const char *s)
{
	/* Flush only if nobody else is writing the buffer out this very moment; never wait. */
	bool d = lock_spin(&con_drainer, 0);
	if (d)
		con_flush();
	con_send(s, (uint32_t)strlen(s), true, 0);
	unlock(&con_drainer, d);
}

void console_start_buffering(void)
{
	con_buffered = true;
}

void console_drain(uint64_t now)
{
	if (conbuf_used(&con_out) == 0) {
		/* Text was dropped and nothing has come since to carry the note: store it now. */
		if (con_out.lost && lock_spin(&con_owner, 0)) {
			conbuf_put(&con_out, "", 0);
			unlock(&con_owner, true);
		}
		return;
	}
	/* A core writing a crash report flushes under this lock: leave the buffer to it. */
	if (!lock_spin(&con_drainer, 0))
		return;
	uint64_t deadline = now + arch_counter_hz() * CON_DRAIN_US / 1000000u;
	uint32_t budget = CON_DRAIN_BYTES;
	while (budget > 0) {
		const char *p;
		uint32_t n = conbuf_peek(&con_out, &p);
		if (n > budget)
			n = budget;
		if (n == 0)
			break;
		uint32_t k = con_send(p, n, false, deadline);
		conbuf_take(&con_out, k);
		budget -= k;
		if (k < n)
			break;
	}
	unlock(&con_drainer, true);
}

void console_poll(uint64_t now)
{
	/* Reading the UART costs a device access (about a microsecond of port I/O on real x86):
	 * look at most once a millisecond, which is plenty for a human or a test script. */
	if (now < con_next_poll)
		return;
	con_next_poll = now + arch_counter_hz() / 1000;
	for (int n = 0; n < 64; n++) {
		int ch = con_dev->getc(con_dev->ctx);
		if (ch < 0)
			return;
		int r = lineedit_feed(&con_line, ch, kputs);
		if (r < 0) {
			kprintf("console: line too long (max %d characters), ignored\n", CONSOLE_LINE_MAX - 1);
		} else if (r > 0) {
			char *argv[CONSOLE_ARGS_MAX];
			int argc = console_split(con_line.buf, argv, CONSOLE_ARGS_MAX);
			if (console_dispatch(con_cmds, argc, argv) < 0)
				kprintf("console: unknown command '%s' (try help)\n", argv[0]);
			lineedit_reset(&con_line);
		}
	}
}

/* ---- the kernel's own commands ---- */

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	char out[1536];
	struct kbuf b = { out, sizeof(out), 0 };
	for (const struct console_cmd *c = con_cmds; c->name; c++)
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

static void cmd_prof(int argc, char **argv)
{
	prof_cmd(ncpus, argc, argv);
}

static void cmd_cores(int argc, char **argv)
{
	(void)argc, (void)argv;
	static const char *const state[] = { "absent", "starting", "running", "stopped" };
	static char out[120 * POLLUX_MAX_CORES + 256];
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
	/* Core 0's console work (input, output, summary) in its worst loop iteration since the
	 * last read: what the console costs the data path core 0 also serves. */
	kbprintf(&b, "console: %s console_max=%lluus dropped=%llu bytes\n", con_dev->name,
		 (unsigned long long)(ticks_to_ns(cpus[0].console_max) / 1000),
		 (unsigned long long)con_out.lost_total);
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
	/* Each core's arena: what is left of it (network memory grows into it as used; `stats` says
	 * where what was taken went). */
	static char line[32 * POLLUX_MAX_CORES + 64];
	struct kbuf b = { line, sizeof(line), 0 };
	kbprintf(&b, "mem: arena free MiB");
	for (uint32_t i = 0; i < ncpus; i++)
		kbprintf(&b, " c%u=%llu", i, (unsigned long long)(mem_arena_bytes(i) >> 20));
	kbprintf(&b, "\n");
	kputs(line);
}

#if POLLUX_TEST_COMMANDS
/* Test-only: the core named by argv[1] (default: core 0, which runs the console) gets fn to run
 * from its loop. */
static void on_core(int argc, char **argv, void (*fn)(struct cpu *c))
{
	uint32_t idx = 0;
	if (argc > 1) {
		const char *p = argv[1];
		for (idx = 0; *p >= '0' && *p <= '9' && idx < POLLUX_MAX_CORES; p++)
			idx = idx * 10 + (uint32_t)(*p - '0');
		if (*p || p == argv[1]) {
			kprintf("%s: '%s' is not a core number\n", argv[0], argv[1]);
			return;
		}
	}
	if (idx == 0)
		fn(this_cpu());
	else if (cpu_test_call(idx, fn) < 0)
		kprintf("%s: core %u is not running its loop\n", argv[0], idx);
}

/* Test-only: write to our own text, which the page tables map read-only. The crash report
 * that follows proves the exception path and the W^X mapping at once. */
static void fault_here(struct cpu *c)
{
	kprintf("fault: core %u writing to kernel text at %p\n", c->idx, (void *)fault_here);
	*(volatile uint32_t *)(uintptr_t)fault_here = 0;
	kprintf("fault: the write did not fault: text is writable!\n");
}

static void cmd_fault(int argc, char **argv)
{
	on_core(argc, argv, fault_here);
}

/* Test-only: the core spins for ever with its loop counter frozen, as a core stuck in a bug
 * would; the watchdog must report it. */
static void hang_here(struct cpu *c)
{
	kprintf("hang: core %u stops its loop at loops=%llu\n", c->idx, (unsigned long long)c->loops);
	for (;;)
		arch_relax();
}

static void cmd_hang(int argc, char **argv)
{
	on_core(argc, argv, hang_here);
}

/* Test-only: recurse until this core's stack runs into its guard page; the crash report must name
 * the stack overflow. Each frame keeps 512 bytes live, so no compiler can make it a loop. */
static uint32_t overflow_recurse(volatile uint8_t *prev, uint32_t depth)
{
	volatile uint8_t frame[512];
	frame[0] = (uint8_t)depth;
	frame[511] = prev ? prev[0] : 0;
	if (depth > (1u << 30))
		return frame[0];        /* never: 512 GiB of stack */
	return overflow_recurse(frame, depth + 1) + frame[511];
}

static void cmd_overflow(int argc, char **argv)
{
	(void)argc, (void)argv;
	kprintf("overflow: recursing on core %u's %u KiB stack\n", this_cpu()->idx, POLLUX_STACK_SIZE / 1024);
	kprintf("overflow: returned %u: the stack did not overflow!\n", overflow_recurse(0, 0));
}

/* Test-only: write past the end of a local array, then return. The stack protector must stop the
 * core in __stack_chk_fail before the return. The length is read through a volatile and the
 * array's address passes through an empty asm, so the compiler can neither see the overrun nor
 * shorten the loop to the array's bounds. 64 bytes reach past the canary on both architectures. */
static volatile size_t smash_len = 64;

__attribute__((noinline)) static void smash_frame(void)
{
	char buf[16];
	char *p = buf;
	size_t n = smash_len;
	__asm__ volatile("" : "+r"(p));
	for (size_t i = 0; i < n; i++)
		((volatile char *)p)[i] = 'A';
	kprintf("smash: wrote %u bytes into a %u-byte array at %p\n", (unsigned)n, (unsigned)sizeof(buf),
		(void *)p);
}

static void cmd_smash(int argc, char **argv)
{
	(void)argc, (void)argv;
	smash_frame();
	kprintf("smash: returned: the stack protector did not catch the overrun!\n");
}

static void cmd_rowrite(int argc, char **argv);
#endif

static const struct console_cmd kernel_cmds[] = {
	{ "help", "list the commands", cmd_help },
	{ "cores", "every core: hardware ID, state, loop iterations, longest gap; console cost", cmd_cores },
	{ "mem", "memory map: RAM, page sizes, page-table checksum", cmd_mem },
	{ "uptime", "time since efi_main", cmd_uptime },
	{ "prof", "[on|off] per core: counter ticks and ns per frame in each stage of the loop", cmd_prof },
#if POLLUX_TEST_COMMANDS
	{ "fault", "test only: [core] write to read-only kernel text and crash the core (default 0)", cmd_fault },
	{ "hang", "test only: [core] stop the core's loop (default 0) for the watchdog to find", cmd_hang },
	{ "overflow", "test only: overflow this core's stack into its guard page", cmd_overflow },
	{ "rowrite", "test only: write to this const command table (read-only data) and crash this core",
	  cmd_rowrite },
	{ "smash", "test only: overrun a local array; the stack protector stops this core", cmd_smash },
#endif
	{ 0, 0, 0 },
};

#if POLLUX_TEST_COMMANDS
/* Test-only: write to the table above, const data the loader's relocation filled in before
 * efi_main (.data.rel.ro) and the page tables map read-only. The same value is written back, so
 * were it writable nothing would change but the message; the crash report must follow as for
 * `fault`, naming the table's address. */
static void cmd_rowrite(int argc, char **argv)
{
	(void)argc, (void)argv;
	volatile uintptr_t *p = (volatile uintptr_t *)(uintptr_t)&kernel_cmds[0].name;
	kprintf("rowrite: writing to the const command table at %p\n", (void *)p);
	*p = *p;
	kprintf("rowrite: the write did not fault: const data is writable!\n");
}
#endif

static void console_register_own(void)
{
	for (const struct console_cmd *c = kernel_cmds; c->name; c++)
		console_register(c);
}
