/*
 * TCP segmentation as a device does it (virtio 1.x 5.1.6.2, the host kernel's GSO behind QEMU's
 * tap), for the device models and the tests that stand in for a NIC. Strict: a frame a device
 * would mangle or refuse is refused with the reason, so a driver or stack that gets a field wrong
 * fails its test.
 *
 * The frame: one header (Ethernet, IPv4 without options or IPv6 with TCP next, TCP) of hdr_len
 * bytes, then the payload of every segment. Each segment gets the header with its sequence number,
 * the IPv4 total length, identification (the first's plus its index) and header checksum, the
 * IPv6 payload length, PSH and FIN on the last only, and a complete TCP checksum. The TCP checksum
 * field must hold the pseudo-header sum over the whole TCP length, not complemented (Linux's
 * convention for GSO: the device adjusts it per segment).
 *
 * Intel's advanced descriptors (82576 and 82599, TSO_INTEL) differ: the field holds the pseudo-header
 * sum without the TCP length (the length of each segment is not known to software; Linux's igb and
 * ixgbe tso() and OpenBSD's TSO layer leave it so), and the device writes each segment's IPv4 total
 * length or IPv6 payload length from MSS, IPLEN and L4LEN (82598EB datasheet 3.5.3.4.7 and I210
 * datasheet 7.2.4.7, header updating), so the header's own length fields are not read.
 */
#ifndef POLLUX_TSO_H
#define POLLUX_TSO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csum.h"

#define TSO_V4 1
#define TSO_V6 2
#define TSO_INTEL 1             /* tso_segment_conv: Intel's convention (above) */

/* Cuts f (len bytes) into segments of gso_size payload bytes, calling out(seg, seglen, arg) for
 * each; returns how many, or -1 with why filled in. csum_start/csum_offset are the frame's
 * checksum offload, which segmentation requires. */
static inline int tso_segment_conv(const uint8_t *f, uint32_t len, int gso, uint16_t gso_size, uint16_t hdr_len,
				   uint16_t csum_start, uint16_t csum_offset, void (*out)(const uint8_t *, uint32_t, void *),
				   void *arg, char *why, size_t whylen, unsigned conv)
{
	bool intel = conv & TSO_INTEL;
	bool v6 = gso == TSO_V6;
	uint16_t l4 = v6 ? 54 : 34;
	if (gso != TSO_V4 && gso != TSO_V6)
		return snprintf(why, whylen, "gso type %d", gso), -1;
	if (len < (uint32_t)l4 + 20 || f[12] != (v6 ? 0x86 : 0x08) || f[13] != (v6 ? 0xdd : 0x00))
		return snprintf(why, whylen, "gso type %d on ethertype %02x%02x", gso, f[12], f[13]), -1;
	const uint8_t *ip = f + 14, *t = f + l4;
	if (v6 ? (ip[0] >> 4 != 6 || ip[6] != 6) : (ip[0] != 0x45 || ip[9] != 6 || (ip[6] & 0x3f) || ip[7]))
		return snprintf(why, whylen, "not TCP over IPv%d without options or fragments", v6 ? 6 : 4), -1;
	uint32_t hl = l4 + (uint32_t)(t[12] >> 4) * 4;
	if (hdr_len != hl || csum_start != l4 || csum_offset != 16 || hl > len)
		return snprintf(why, whylen, "hdr_len %u csum %u+%u for headers of %u, TCP at %u", hdr_len, csum_start,
				csum_offset, hl, l4), -1;
	uint32_t iplen = v6 ? 40u + (uint32_t)(ip[4] << 8 | ip[5]) : (uint32_t)(ip[2] << 8 | ip[3]);
	if (!intel && 14 + iplen != len)
		return snprintf(why, whylen, "IP length %u in a frame of %u", iplen, len), -1;
	if (!gso_size || len == hl || (t[13] & 0x26))   /* no payload; SYN, RST, URG */
		return snprintf(why, whylen, "gso_size %u, %u payload bytes, flags %#x", gso_size, len - hl, t[13]), -1;
	const uint8_t *a = v6 ? ip + 8 : ip + 12;
	uint16_t want = csum16((intel ? 0 : len - l4) + 6u, a, v6 ? 32 : 8);
	if ((uint16_t)(t[16] << 8 | t[17]) != want)
		return snprintf(why, whylen, "TCP checksum field %#x, not the pseudo-header sum %#x of %u bytes",
				t[16] << 8 | t[17], want, intel ? 0 : len - l4), -1;
	uint32_t payload = len - hl, seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	uint16_t id = (uint16_t)(ip[4] << 8 | ip[5]);
	static uint8_t s[14 + 60 + 60 + 65536];
	int n = 0;
	for (uint32_t off = 0; off < payload; off += gso_size, n++) {
		uint32_t pl = payload - off < gso_size ? payload - off : gso_size;
		bool last = off + pl >= payload;
		memcpy(s, f, hl);
		memcpy(s + hl, f + hl + off, pl);
		uint8_t *sip = s + 14, *st = s + l4;
		uint32_t sq = seq + off;
		st[4] = (uint8_t)(sq >> 24), st[5] = (uint8_t)(sq >> 16), st[6] = (uint8_t)(sq >> 8), st[7] = (uint8_t)sq;
		if (!last)
			st[13] &= (uint8_t)~0x09;       /* PSH and FIN: the last only */
		if (v6) {
			sip[4] = (uint8_t)((hl - l4 + pl) >> 8), sip[5] = (uint8_t)(hl - l4 + pl);
		} else {
			uint32_t il = hl - 14 + pl;
			sip[2] = (uint8_t)(il >> 8), sip[3] = (uint8_t)il;
			sip[4] = (uint8_t)((id + n) >> 8), sip[5] = (uint8_t)(id + n);
			sip[10] = sip[11] = 0;
			uint16_t c = (uint16_t)~csum16(0, sip, 20);
			sip[10] = (uint8_t)(c >> 8), sip[11] = (uint8_t)c;
		}
		uint32_t tl = hl - l4 + pl;
		st[16] = st[17] = 0;
		uint16_t c = (uint16_t)~csum16(csum16(tl + 6u, a, v6 ? 32 : 8), st, tl);
		st[16] = (uint8_t)(c >> 8), st[17] = (uint8_t)c;
		out(s, hl + pl, arg);
	}
	return n;
}

/* The virtio (Linux GSO) convention. */
static inline int tso_segment(const uint8_t *f, uint32_t len, int gso, uint16_t gso_size, uint16_t hdr_len,
			      uint16_t csum_start, uint16_t csum_offset, void (*out)(const uint8_t *, uint32_t, void *),
			      void *arg, char *why, size_t whylen)
{
	return tso_segment_conv(f, len, gso, gso_size, hdr_len, csum_start, csum_offset, out, arg, why, whylen, 0);
}

#endif
