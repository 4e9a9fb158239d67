/* Time since efi_main from the arch counter (x86 invariant TSC, AArch64 CNTVCT). */
#include "kernel.h"

uint64_t ticks_to_ns(uint64_t ticks)
{
	uint64_t hz = arch_counter_hz();
	if (hz == 0)
		return 0;
	/* Split to avoid overflow without 128-bit division: whole seconds, then the rest. */
	uint64_t s = ticks / hz, rem = ticks % hz;
	return s * 1000000000u + rem * 1000000000u / hz;
}

uint64_t time_ns(void)
{
	return ticks_to_ns(arch_counter() - boot->t0);
}
