/* Host stand-ins for kernel services the pure modules call (panic). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "panic: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* Device models registered by a test (tests/unit/host/arch_inline.h). */
#include <stdint.h>
struct host_mmio;
#include "arch_inline.h"
struct host_mmio host_mmio_models[HOST_MMIO_MAX];
int host_mmio_count;
uint64_t host_clock;
uint64_t host_full_barriers;
uint64_t (*host_counter)(void);
struct cpu *host_cpu;
bool host_port_io;

/* The architecture's name and the time since boot, as net/svc_metrics.c reports them (weak: a
 * test may keep its own clock). */
__attribute__((weak)) const char arch_name[] = "host";
__attribute__((weak)) uint64_t time_ns(void)
{
	return host_clock;
}
