/* Cores: find them in ACPI, start them one by one, and run every core's poll loop. */
#include "kernel.h"

struct cpu cpus[POLLUX_MAX_CORES];
uint32_t ncpus = 1;
volatile uint32_t cpus_running;

/* What the layers above want run in every loop iteration (net: RX, cross-core frames, TX). */
static void (*cpu_polls[CPU_POLL_MAX])(struct cpu *c, uint64_t now);
static uint32_t ncpu_polls;

void cpu_poll_register(void (*fn)(struct cpu *c, uint64_t now))
{
	struct cpu *c = this_cpu();
	if ((c && c->idx != 0) || cpus_running > 1)
		panic("cpu: poll hook registered after the secondaries started");
	if (ncpu_polls == CPU_POLL_MAX)
		panic("cpu: more than %d poll hooks", CPU_POLL_MAX);
	cpu_polls[ncpu_polls++] = fn;
}

void cpu_layers_core(struct cpu *c)
{
	for (const struct kernel_layer *const *l = kernel_layers; *l; l++)
		if ((*l)->core)
			(*l)->core(c);  /* a layer reports its own failure and leaves the core out */
}

/* A secondary that has not reached its loop after this long is reported and left alone. */
#define CPU_START_TIMEOUT_MS 5000

void cpu_start_all(const struct acpi_info *ai)
{
	uint64_t me = arch_hwid();
	uint32_t want = ai->ncpus < POLLUX_MAX_CORES ? ai->ncpus : POLLUX_MAX_CORES;
	bool found_self = false;

	cpus[0].idx = 0;
	cpus[0].hwid = me;
	cpus[0].state = CPU_RUNNING;
	cpus[0].last_poll = arch_counter();
	__sync_fetch_and_add(&cpus_running, 1);
	arch_smp_prepare(ai, pt_root);

	for (uint32_t i = 0; i < ai->ncpus && ncpus < want; i++) {
		if (ai->cpu[i].hwid == me) {
			found_self = true;
			continue;
		}
		struct cpu *c = &cpus[ncpus];
		if (!c->stack_top) {            /* stacks are made before paging (main.c) */
			kprintf("cpu: no stack for another core, %u cores started\n", ncpus);
			break;
		}
		c->self = c;
		c->idx = ncpus;
		c->hwid = ai->cpu[i].hwid;
		c->state = CPU_STARTING;
		int err = arch_start_core(ai, c);
		if (err) {
			kprintf("cpu: core hwid=0x%llx did not accept start (error %d)\n",
				(unsigned long long)c->hwid, err);
			c->state = CPU_ABSENT;
			continue;
		}
		uint64_t deadline = arch_counter() + arch_counter_hz() / 1000 * CPU_START_TIMEOUT_MS;
		while (c->state != CPU_RUNNING && arch_counter() < deadline)
			arch_relax();
		if (c->state != CPU_RUNNING) {
			kprintf("cpu: core hwid=0x%llx did not reach its loop in %u ms\n",
				(unsigned long long)c->hwid, CPU_START_TIMEOUT_MS);
			c->state = CPU_ABSENT;
			continue;
		}
		ncpus++;
	}
	if (!found_self && ai->ncpus)
		kprintf("cpu: the boot core (hwid=0x%llx) is not in the MADT\n", (unsigned long long)me);
	while (cpus_running != ncpus)
		arch_relax();
}

void cpu_secondary_main(struct cpu *c)
{
	cpu_layers_core(c);
	c->last_poll = arch_counter();
	c->state = CPU_RUNNING;
	__sync_fetch_and_add(&cpus_running, 1);
	cpu_loop(c);
}

/* Core 0 prints a one-line summary every POLLUX_STATS_INTERVAL_S seconds. */
static void stats_tick(uint64_t now)
{
	static uint64_t next;
	if (POLLUX_STATS_INTERVAL_S == 0)
		return;
	uint64_t period = arch_counter_hz() * POLLUX_STATS_INTERVAL_S;
	if (next == 0)
		next = now + period;
	if (now < next)
		return;
	next = now + period;
	static char line[32 + 24 * POLLUX_MAX_CORES];
	struct kbuf b = { line, sizeof(line), 0 };
	kbprintf(&b, "stats: up=%llus", (unsigned long long)(time_ns() / 1000000000u));
	for (uint32_t i = 0; i < ncpus; i++)
		kbprintf(&b, " c%u=%lluk", i, (unsigned long long)(cpus[i].loops / 1000));
	kbprintf(&b, " loops\n");
	kputs(line);
}

/* Core 0's share of the console, timed: it must stay short, as core 0 serves a NIC queue too. */
static void console_step(struct cpu *c)
{
	uint64_t t0 = arch_counter();
	console_poll(t0);
	console_drain(t0);
	stats_tick(t0);
	uint64_t spent = arch_counter() - t0;
	if (spent > c->console_max)
		c->console_max = spent;
}

void cpu_loop(struct cpu *c)
{
	if (c->idx == 0)
		console_start_buffering();      /* from here core 0 drains what the console prints */
	for (;;) {
		uint64_t now = arch_counter();
		uint64_t gap = now - c->last_poll;
		/* The reader bumps reset_gen to ask for fresh maxima; only this core writes them. */
		if (c->seen_reset != c->reset_gen) {
			c->seen_reset = c->reset_gen;
			c->max_gap = 0;
			c->console_max = 0;
		} else if (gap > c->max_gap) {
			c->max_gap = gap;
		}
		c->last_poll = now;
		for (uint32_t i = 0; i < ncpu_polls; i++)
			cpu_polls[i](c, now);
		if (c->idx == 0)
			console_step(c);
		if (now >= c->wd_next)
			watchdog_check(c, now);
#if POLLUX_TEST_COMMANDS
		if (c->test_call) {
			void (*fn)(struct cpu *) = c->test_call;
			c->test_call = 0;
			fn(c);
		}
#endif
		c->loops++;
	}
}

int cpu_test_call(uint32_t idx, void (*fn)(struct cpu *c))
{
	if (idx >= ncpus || cpus[idx].state != CPU_RUNNING || cpus[idx].test_call)
		return -1;
	cpus[idx].test_call = fn;
	return 0;
}

void cpu_crash_tail(struct cpu *c, uint64_t pc, uint64_t fp, uint64_t sp)
{
	/* Both architectures keep frame records {previous frame pointer, return address}. Follow
	 * them only while they stay on this core's own stack and climb it, and only through
	 * return addresses inside kernel text; a crash on the firmware's stack (boot core before
	 * its own stack, stack_top 0) or with sp elsewhere gets no walk rather than a second fault. */
	char line[512];
	struct kbuf b = { line, sizeof(line), 0 };
	uint64_t base = boot ? boot->image_base : 0;
	kbprintf(&b, "backtrace: +0x%llx", (unsigned long long)(pc - base));
	uint64_t lo = 0, hi = 0;
	if (c && c->stack_top && sp >= c->stack_top - POLLUX_STACK_SIZE && sp <= c->stack_top) {
		lo = c->stack_top - POLLUX_STACK_SIZE;
		hi = c->stack_top;
	}
	for (int depth = 0; depth < 16 && fp >= lo && fp + 16 <= hi && !(fp & 7); depth++) {
		uint64_t ret = ((uint64_t *)(uintptr_t)fp)[1];
		if (!boot || ret < boot->text_start || ret >= boot->text_end)
			break;
		kbprintf(&b, " +0x%llx", (unsigned long long)(ret - base));
		uint64_t next = ((uint64_t *)(uintptr_t)fp)[0];
		if (next <= fp)
			break;
		fp = next;
	}
	uint32_t idx = c ? c->idx : 0;
	kprintf_sync("%s\npollux: core %u stopped\n", line, idx);
	cpu_fatal(c);
}
