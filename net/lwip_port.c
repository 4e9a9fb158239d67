/* lwIP port functions shared by every instance: time, diagnostics, assertions, randomness, ISNs. */
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

/* lwIP's LWIP_RAND (DHCP transaction IDs, first local ports): the calling core's own generator. */
uint32_t lwip_port_rand(void)
{
	return (uint32_t)random_u64();
}

/*
 * LWIP_HOOK_TCP_ISN, every instance: RFC 6528, ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), with M the RFC 793 clock that ticks every 4 microseconds and F SipHash-2-4 keyed with
 * the per-boot secret (random_hash). Addresses as they lie in the pcb (network order), ports in
 * host order, as lwIP passes them. An off-path attacker can neither guess a connection's ISN nor
 * learn another connection's from its own; a connection reopened with the same 4-tuple still gets
 * an ISN above the old one's, as the clock moved on.
 */
uint32_t lwip_port_isn(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip, uint16_t remote_port)
{
	uint8_t t[12];
	for (int i = 0; i < 4; i++) {
		t[i] = (uint8_t)(local_ip >> (8 * i));
		t[4 + i] = (uint8_t)(remote_ip >> (8 * i));
	}
	t[8] = (uint8_t)local_port;
	t[9] = (uint8_t)(local_port >> 8);
	t[10] = (uint8_t)remote_port;
	t[11] = (uint8_t)(remote_port >> 8);
	return (uint32_t)(time_ns() / 4000) + (uint32_t)random_hash(t, sizeof(t));
}

/*
 * SYN cookies (net/inst_svc.c): SipHash-2-4 under the per-boot secret over the four-tuple, the
 * client's initial sequence number and the time slot, with a tag byte so that no input collides
 * with an ISN's. A peer that has not seen the SYN-ACK cannot forge the ACK that completes it.
 */
uint32_t lwip_port_cookie(uint32_t local_ip, uint16_t local_port, uint32_t remote_ip, uint16_t remote_port,
			  uint32_t seq, uint32_t slot)
{
	uint8_t t[21];
	for (int i = 0; i < 4; i++) {
		t[i] = (uint8_t)(local_ip >> (8 * i));
		t[4 + i] = (uint8_t)(remote_ip >> (8 * i));
		t[8 + i] = (uint8_t)(seq >> (8 * i));
		t[12 + i] = (uint8_t)(slot >> (8 * i));
	}
	t[16] = (uint8_t)local_port;
	t[17] = (uint8_t)(local_port >> 8);
	t[18] = (uint8_t)remote_port;
	t[19] = (uint8_t)(remote_port >> 8);
	t[20] = 0xc0;
	return (uint32_t)random_hash(t, sizeof(t));
}
