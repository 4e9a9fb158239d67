/* TCP segmentation frames for the driver tests of NICs that segment (test_ixgbe, test_igb): one
 * frame as the network layer builds it (drivers/nic.h) and the check of each segment a device
 * model sent of it. */
#ifndef POLLUX_TSO_FRAMES_H
#define POLLUX_TSO_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"

static inline void tso_put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

/* TCP over IPv4 or IPv6 from port 80 to 5000, sequence number 7000, PSH and ACK, plen payload
 * bytes, from src to dst (Ethernet); the lengths of the whole, IPv4 identification 0x1234 and the
 * pseudo-header sum over the whole TCP length in the checksum field. Returns the frame's length. */
static inline uint32_t tso_frame(uint8_t *f, bool v6, uint32_t plen, const uint8_t dst[6], const uint8_t src[6])
{
	uint32_t l4 = v6 ? 54 : 34, tl = 20 + plen;
	memset(f, 0, l4 + 20);
	memcpy(f, dst, 6), memcpy(f + 6, src, 6);
	f[12] = v6 ? 0x86 : 0x08, f[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = f + 14, *t = f + l4;
	if (v6) {
		ip[0] = 0x60, ip[6] = 6, ip[7] = 64, tso_put16(ip + 4, tl);
		ip[8] = 0xfd, ip[23] = 1, ip[24] = 0xfd, ip[39] = 2;
	} else {
		ip[0] = 0x45, ip[6] = 0x40, ip[8] = 64, ip[9] = 6, tso_put16(ip + 2, 20 + tl), tso_put16(ip + 4, 0x1234);
		memcpy(ip + 12, "\xc6\x12\x00\x32\xc6\x12\x00\x01", 8);
		tso_put16(ip + 10, (uint16_t)~csum16(0, ip, 20));
	}
	tso_put16(t, 80), tso_put16(t + 2, 5000), tso_put16(t + 6, 7000), t[11] = 99, t[12] = 5 << 4, t[13] = 0x18;
	tso_put16(t + 14, 8192);
	for (uint32_t i = 0; i < plen; i++)
		t[20 + i] = (uint8_t)(i * 13 + i / 251);
	tso_put16(t + 16, csum16(tl + 6u, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8));
	return l4 + tl;
}

/* Segment k of f's plen payload bytes cut in mss pieces, as s (len bytes) should be: the header
 * with its lengths, sequence number, identification (IPv4: the first's + k), PSH on the last
 * only, right checksums, its bytes of the payload. Returns how many of those are wrong. */
static inline int tso_seg_bad(const uint8_t *f, bool v6, uint32_t plen, uint32_t mss, uint32_t k, const uint8_t *s,
			      uint32_t len)
{
	uint32_t l4 = v6 ? 54 : 34, hl = l4 + 20, nseg = (plen + mss - 1) / mss;
	uint32_t pl = k + 1 < nseg ? mss : plen - k * mss;
	if (len != hl + pl)
		return 1;
	const uint8_t *ip = s + 14, *t = s + l4;
	int bad = memcmp(s, f, 14) != 0;
	bad += memcmp(t + 20, f + hl + k * mss, pl) != 0;
	bad += (uint32_t)(t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7]) != 7000 + k * mss;
	bad += t[13] != (k + 1 < nseg ? 0x10 : 0x18);
	if (v6)
		bad += (uint32_t)(ip[4] << 8 | ip[5]) != 20 + pl;
	else
		bad += (uint32_t)(ip[2] << 8 | ip[3]) != 40 + pl || (uint32_t)(ip[4] << 8 | ip[5]) != 0x1234 + k ||
		       csum16(0, ip, 20) != 0xffff;
	bad += csum16(csum16(20 + pl + 6u, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8), t, 20 + pl) != 0xffff;
	return bad;
}

#endif
