/* lwIP port functions shared by every instance: time, diagnostics, assertions, randomness. */
#include "kernel.h"
#include "lwip/opt.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
	return (u32_t)(time_ns() / 1000000u);
}

void lwip_port_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void lwip_port_assert(const char *msg, int line, const char *file)
{
	panic("lwip: assertion '%s' failed at %s:%d", msg, file, line);
}

/* xorshift64 per core, seeded from the counter: ISNs and DHCP transaction IDs need variety,
 * not cryptographic strength, and no state may be shared between cores. */
uint32_t lwip_port_rand(void)
{
	static uint64_t state[POLLUX_MAX_CORES];
	struct cpu *c = this_cpu();
	uint64_t *s = &state[c ? c->idx : 0];
	if (*s == 0)
		*s = arch_counter() | 1;
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}
