/* The kernel services tests/unit/host/harness.h stands in for: console capture, allocation, the
 * counter frequency. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "harness.h"
#include "drivers/nic.h"

char klog[KLOG_SIZE];
size_t klen;
void (*alloc_hook)(void *p, uint64_t size, uint32_t core);
void (*harness_fail_report)(const char *name);

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(klog + klen, sizeof(klog) - klen, fmt, ap);
	va_end(ap);
	if (n > 0)
		klen += (size_t)n < sizeof(klog) - klen ? (size_t)n : sizeof(klog) - klen - 1;
}

void kputs(const char *s) { kprintf("%s", s); }

void klog_clear(void)
{
	klen = 0;
	klog[0] = 0;
}

bool klog_has(const char *s) { return strstr(klog, s) != NULL; }

uint64_t arch_counter_hz(void) { return HZ; }

static uint64_t alloc(uint32_t core, uint64_t size, uint64_t align)
{
	if (align < 64)
		align = 64;
	void *p = aligned_alloc(align, ALIGN_UP(size, align));
	if (!p)
		return 0;
	memset(p, 0, size);
	if (alloc_hook)
		alloc_hook(p, size, core);
	return (uint64_t)(uintptr_t)p;
}

uint64_t mem_alloc_early(uint64_t size, uint64_t align, uint64_t below)
{
	(void)below;
	return alloc(0, size, align);
}

uint64_t mem_alloc(uint32_t core, uint64_t size, uint64_t align) { return alloc(core, size, align); }
uint64_t mem_alloc_raw(uint32_t core, uint64_t size, uint64_t align) { return alloc(core, size, align); }
uint64_t harness_arena_bytes = 64ull << 20;
uint64_t mem_arena_bytes(uint32_t core)
{
	(void)core;
	return harness_arena_bytes;
}

/* What net/net.c calls of the kernel at start-up: registrations (poll hooks kept for a test to run), a fixed
 * generator whose RSS key draw the tests can read back, counter conversion and the cores. */
void (*harness_polls[CPU_POLL_MAX])(struct cpu *c, uint64_t now);
int harness_npolls;
void cpu_poll_register(void (*fn)(struct cpu *c, uint64_t now))
{
	if (harness_npolls < CPU_POLL_MAX)
		harness_polls[harness_npolls++] = fn;
}
void console_register(const struct console_cmd *cmd) { (void)cmd; }
uint8_t harness_rss_key[NIC_RSS_KEY_LEN];
void random_bytes(void *p, size_t n)
{
	static uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		((uint8_t *)p)[i] = (uint8_t)x;
	}
	if (n == NIC_RSS_KEY_LEN)
		memcpy(harness_rss_key, p, n);
}
/* The seed's entropy as kernel/random.c reports it: enough, unless a test says otherwise. */
struct random_info harness_random = { .bits = RANDOM_WANT_BITS };
const struct random_info *random_info(void) { return &harness_random; }
bool random_short(void) { return harness_random.bits < RANDOM_WANT_BITS; }
void random_stir(uint64_t v) { (void)v; }
uint64_t ticks_to_ns(uint64_t ticks) { return ticks * (1000000000ull / HZ); }
struct cpu cpus[POLLUX_MAX_CORES];
