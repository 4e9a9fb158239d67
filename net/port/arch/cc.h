/* lwIP port: compiler and platform definitions for Pollux (lwIP doc/sys_arch.txt, "cc.h"). */
#ifndef POLLUX_LWIP_CC_H
#define POLLUX_LWIP_CC_H

#include <stddef.h>
#include <stdint.h>

/* Both our targets are little-endian; say so rather than depend on a libc header. */
#define BYTE_ORDER LITTLE_ENDIAN

/* Byte order in place, one instruction: lwIP's own lwip_htons and lwip_htonl (def.c) are functions,
 * called for every header field of every frame, and each call and return costs more than the swap
 * (under QEMU's TCG a return is a lookup of where to go). def.c leaves them out when defined here. */
#define lwip_htons(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define lwip_htonl(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))

/* newlib has inttypes.h, limits.h and ctype.h; lwIP's own errno values serve NO_SYS builds. */
#define LWIP_PROVIDE_ERRNO 1

/* Hooks implemented once, outside every instance (net/lwip_port.c). */
void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lwip_port_assert(const char *msg, int line, const char *file) __attribute__((noreturn));
uint32_t lwip_port_rand(void);
/* Addresses: alen (4 or 16) bytes each, in network order; ports in host order. */
uint32_t lwip_port_isn(const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip, uint16_t remote_port,
		       unsigned alen);
/* A keyed MAC of a SYN's four-tuple, its sequence number and a time slot, for SYN cookies. */
uint32_t lwip_port_cookie(const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip,
			  uint16_t remote_port, unsigned alen, uint32_t seq, uint32_t slot);

#define LWIP_PLATFORM_DIAG(x) do { lwip_port_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __LINE__, __FILE__)
#define LWIP_RAND() lwip_port_rand()

#endif
