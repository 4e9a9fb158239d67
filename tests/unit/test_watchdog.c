/* test_watchdog: kernel/watchdog.c's watcher on a fake counter: a loop that moves is never
 * reported, one that stops is after POLLUX_WATCHDOG_S seconds and not before, and the last
 * core's first look at core 0 still in its first iteration (loop counter 0, long after power-on)
 * starts the clock instead of reporting at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "test.h"

#define HZ 1000000ull                   /* the fake counter: 1 MHz */

struct cpu cpus[POLLUX_MAX_CORES];
uint32_t ncpus;
struct acpi_info acpi;
static int resets;
static char said[512];

uint64_t arch_counter_hz(void) { return HZ; }
uint64_t ticks_to_ns(uint64_t ticks) { return ticks * (1000000000ull / HZ); }
void arch_reset(const struct acpi_info *ai) { (void)ai; resets++; }
void arch_halt(void) { abort(); }      /* only after a report, which these tests never make */
void kprintf(const char *fmt, ...) { (void)fmt; }
void kprintf_sync(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = strlen(said);
	vsnprintf(said + n, sizeof(said) - n, fmt, ap);
	va_end(ap);
}

/* Four cores running, nothing seen or reported yet. */
static void setup(void)
{
	memset(cpus, 0, sizeof(cpus));
	ncpus = 4;
	for (uint32_t i = 0; i < 4; i++)
		cpus[i].idx = i, cpus[i].state = CPU_RUNNING;
	resets = 0;
	said[0] = 0;
	watchdog_start();
}

/* Core 3 (which watches core 0) looks every 100 ms from t0 for secs seconds; core 0's loop moves
 * when moving. Returns whether core 0 was reported (the machine is reset once: the first report). */
static bool watch(uint64_t t0, double secs, bool moving)
{
	for (uint64_t t = t0; t < t0 + (uint64_t)(secs * HZ); t += HZ / 10) {
		if (moving)
			cpus[0].loops++;
		watchdog_check(&cpus[3], t);
		if (strstr(said, "core 0's loop has not moved"))
			return true;
	}
	return false;
}

static void first_look(void)
{
	/* 30 s after power-on (the firmware took that long), core 0 still in its first iteration:
	 * not a stall yet. */
	setup();
	CHECK(!watch(30 * HZ, 5, false));
	CHECK_EQ(resets, 0);
	/* It stays there: reported once POLLUX_WATCHDOG_S have passed since the first look. */
	CHECK(watch(35 * HZ, POLLUX_WATCHDOG_S, false));
	CHECK_EQ(resets, 1);
}

static void moving_and_stopped(void)
{
	setup();
	CHECK(!watch(5 * HZ, 3 * POLLUX_WATCHDOG_S, true));
	uint64_t t = (5 + 3 * POLLUX_WATCHDOG_S) * HZ;
	CHECK(!watch(t, POLLUX_WATCHDOG_S - 1, false));
	CHECK(watch(t + (POLLUX_WATCHDOG_S - 1) * HZ, 2, false));
}

TEST_MAIN("test_watchdog: the watcher on a fake counter: a moving loop never reported, a stopped one after "
	  "POLLUX_WATCHDOG_S, the first look at a core still in its first iteration long after power-on not a stall", {
	first_look();
	moving_and_stopped();
})
