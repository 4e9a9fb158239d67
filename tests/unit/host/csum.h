/* The internet checksum's 16-bit ones'-complement sum (RFC 1071), for test frames and device models. */
#ifndef POLLUX_CSUM_H
#define POLLUX_CSUM_H

#include <stdint.h>

/* s plus the big-endian 16-bit words of p[0..n) (an odd last byte padded with zero), folded to 16
 * bits. Folding early changes no result: csum16(csum16(s, a), b) is the sum of s, a and b. */
static inline uint16_t csum16(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif
