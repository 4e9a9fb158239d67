/* What the kernel provides to every lwIP instance (net/lwip_port.c), for host tests: a clock the
 * test advances by hand, no diagnostics, assertions that abort, a fixed random sequence. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

uint32_t now_ms;
uint32_t sys_now(void) { return now_ms; }
void lwip_port_diag(const char *fmt, ...) { (void)fmt; }
void lwip_port_assert(const char *msg, int line, const char *file)
{
	fprintf(stderr, "lwip assert %s at %s:%d\n", msg, file, line);
	abort();
}
uint32_t lwip_port_rand(void) { static uint32_t x = 12345; x = x * 1103515245 + 12345; return x; }
/* ISNs: a fixed function of the 4-tuple plus the test clock, as RFC 6528 has it (the kernel's is
 * keyed: net/lwip_port.c), so a later connection of the same ports starts beyond an earlier one. */
/* An address as one number, for the fixed functions below. */
static uint32_t fold(const uint8_t *a, unsigned alen)
{
	uint32_t x = 0;
	for (unsigned i = 0; i < alen; i++)
		x = x * 31 + a[i];
	return x;
}
uint32_t lwip_port_isn(const uint8_t *l, uint16_t lport, const uint8_t *r, uint16_t rport, unsigned alen)
{
	uint32_t lip = fold(l, alen), rip = fold(r, alen);
	return ((lip * 2654435761u) ^ (rip * 40503u) ^ ((uint32_t)lport << 16 | rport)) + now_ms * 250u;
}
/* net_inst_cfg.mem_grow for the instances a test makes itself (net/net.c's comes from the arena). */
void *host_mem_grow(uint32_t core, size_t bytes)
{
	(void)core;
	return aligned_alloc(64, bytes);
}
/* SYN cookies' MAC: a fixed mix of every input (the kernel's is keyed: net/lwip_port.c). */
uint32_t lwip_port_cookie(const uint8_t *l, uint16_t lport, const uint8_t *r, uint16_t rport, unsigned alen, uint32_t seq,
			  uint32_t slot)
{
	uint32_t lip = fold(l, alen), rip = fold(r, alen);
	uint64_t x = ((uint64_t)lip << 32 | rip) ^ ((uint64_t)lport << 48 | (uint64_t)rport << 32 | seq) ^ slot * 0x9e37u;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x >> 29);
}
