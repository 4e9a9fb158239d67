/* The watchdog (each core watches the next one's loop) and the end of every fatal report. */
#include "kernel.h"

/*
 * Interrupts stay off everywhere, so a core stuck in a loop iteration never runs anything else
 * and cannot notice itself: another core must. Core i looks at the loop counter of the next core
 * still running (i + 1, wrapping; a stopped core, which has printed its own report, is passed
 * over so that none goes unwatched) ten times a second, and reports it when the counter has not
 * moved for POLLUX_WATCHDOG_S seconds of the watcher's own clock, which no skew between the
 * cores' counters can fool. With one core nothing watches: the generic timer (AArch64) and the
 * local APIC timer (x86) would need interrupts, and neither QEMU's virt and q35 machines nor
 * EC2 give a hardware watchdog that Pollux could rely on, so only panics and faults end in a
 * reset there (README, Configuration).
 */
#define WD_CHECK_HZ 10

static volatile bool wd_armed;          /* set by core 0 once every core started is in its loop */
static volatile uint32_t reset_owner;   /* 0, or index + 1 of the core resetting the machine */

void watchdog_start(void)
{
	const char *end = POLLUX_PANIC_REBOOT ? "reset the machine" : "stop the core";
	if (POLLUX_WATCHDOG_S && ncpus > 1)
		kprintf("watchdog: each core watches the next one's loop, %u s; panics, faults and the "
			"watchdog %s\n", POLLUX_WATCHDOG_S, end);
	else
		kprintf("watchdog: off (%s); panics and faults %s\n",
			POLLUX_WATCHDOG_S ? "one core: nothing to watch it" : "POLLUX_WATCHDOG_S=0", end);
	wd_armed = true;
}

/* The first core to ask resets the machine once the console has sent everything; any other, or
 * the first when no way of resetting worked, returns. */
static void machine_reset(uint32_t idx)
{
	if (!POLLUX_PANIC_REBOOT || !__sync_bool_compare_and_swap(&reset_owner, 0, idx + 1))
		return;
	kprintf_sync("pollux: resetting the machine (POLLUX_PANIC_REBOOT)\n");
	arch_reset(&acpi);
	kprintf_sync("pollux: no way of resetting the machine worked\n");
}

void cpu_fatal(struct cpu *c)
{
	if (c)
		c->state = CPU_STOPPED;
	machine_reset(c ? c->idx : 0);
	arch_halt();
}

void watchdog_check(struct cpu *c, uint64_t now)
{
	uint64_t hz = arch_counter_hz();
	c->wd_next = now + hz / WD_CHECK_HZ;
	if (!POLLUX_WATCHDOG_S || !wd_armed || ncpus < 2)
		return;
	uint32_t t = c->idx;
	do
		t = (t + 1) % ncpus;
	while (t != c->idx && cpus[t].state != CPU_RUNNING);
	if (t == c->idx)
		return;
	uint64_t loops = *(volatile uint64_t *)&cpus[t].loops;
	/* wd_since 0: nothing seen yet. Without it, the last core's first look at core 0 (target 0
	 * and loops 0, as zeroed) while core 0 is still in its first iteration would count from
	 * counter 0, i.e. from power-on, and report a stall at once. */
	if (!c->wd_since || t != c->wd_target || loops != c->wd_loops) {
		c->wd_target = t;
		c->wd_loops = loops;
		c->wd_since = now;
		c->wd_told = false;
		return;
	}
	if (c->wd_told || now - c->wd_since < hz * POLLUX_WATCHDOG_S)
		return;
	c->wd_told = true;
	/* The stuck core's own timestamp of its last iteration: its counter, read against ours (the
	 * same clock on both architectures' VMs; only shown). */
	uint64_t last = *(volatile uint64_t *)&cpus[t].last_poll;
	kprintf_sync("pollux: watchdog: core %u's loop has not moved for %llu ms (loops=%llu, last poll "
		     "%llu ms ago), seen by core %u\n", t,
		     (unsigned long long)(ticks_to_ns(now - c->wd_since) / 1000000u), (unsigned long long)loops,
		     (unsigned long long)(now > last ? ticks_to_ns(now - last) / 1000000u : 0), c->idx);
	machine_reset(c->idx);
}
