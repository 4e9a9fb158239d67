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

/* The four-tuple into t: both addresses (alen bytes each, 16 at most), then both ports. Returns the
 * bytes written. */
static unsigned tuple_bytes(uint8_t *t, const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip,
			    uint16_t remote_port, unsigned alen)
{
	alen = alen > 16 ? 16 : alen;
	for (unsigned i = 0; i < alen; i++) {
		t[i] = local_ip[i];
		t[alen + i] = remote_ip[i];
	}
	uint8_t *p = t + 2 * alen;
	p[0] = (uint8_t)local_port;
	p[1] = (uint8_t)(local_port >> 8);
	p[2] = (uint8_t)remote_port;
	p[3] = (uint8_t)(remote_port >> 8);
	return 2 * alen + 4;
}

/*
 * LWIP_HOOK_TCP_ISN, every instance: RFC 6528, ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), with M the RFC 793 clock that ticks every 4 microseconds and F SipHash-2-4 keyed with
 * the per-boot secret (random_hash). Addresses as they lie in the pcb (network order), ports in
 * host order, as lwIP passes them. An off-path attacker can neither guess a connection's ISN nor
 * learn another connection's from its own; a connection reopened with the same 4-tuple still gets
 * an ISN above the old one's, as the clock moved on.
 */
uint32_t lwip_port_isn(const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip, uint16_t remote_port,
		       unsigned alen)
{
	uint8_t t[36];
	unsigned n = tuple_bytes(t, local_ip, local_port, remote_ip, remote_port, alen);
	return (uint32_t)(time_ns() / 4000) + (uint32_t)random_hash(t, n);
}

/*
 * SYN cookies (net/inst_svc.c): SipHash-2-4 under the per-boot secret over the four-tuple, the
 * client's initial sequence number and the time slot, with a tag byte so that no input collides
 * with an ISN's. A peer that has not seen the SYN-ACK cannot forge the ACK that completes it.
 */
uint32_t lwip_port_cookie(const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip,
			  uint16_t remote_port, unsigned alen, uint32_t seq, uint32_t slot)
{
	uint8_t t[45];
	unsigned n = tuple_bytes(t, local_ip, local_port, remote_ip, remote_port, alen);
	for (int i = 0; i < 4; i++) {
		t[n + i] = (uint8_t)(seq >> (8 * i));
		t[n + 4 + i] = (uint8_t)(slot >> (8 * i));
	}
	t[n + 8] = 0xc0;
	return (uint32_t)random_hash(t, n + 9);
}
