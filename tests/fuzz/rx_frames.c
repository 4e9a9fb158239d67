/* fuzz_rx's frame helpers: checksums and the DHCP server (rx_frames.h). */
#include <string.h>

#include "rx_frames.h"

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v); }

static uint32_t sum(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv6: the TCP, UDP or ICMPv6 checksum of a packet whose upper header follows the fixed one. */
static void fix6(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + 14, nh = ip[6];
	uint32_t plen = get16(ip + 4), at;
	if (14 + 40 + plen > len)
		return;
	switch (nh) {
	case 58: at = 2; break;
	case 6: at = 16; break;
	case 17: at = 6; break;
	default: return;
	}
	uint8_t *l4 = ip + 40;
	if (plen < at + 2)
		return;
	put16(l4 + at, 0);
	uint16_t c = fold(sum(sum(0, ip + 8, 32) + plen + nh, l4, plen));
	if (nh == 17 && c == 0)
		c = 0xffff;
	put16(l4 + at, c);
}

void fz_fix_checksums(uint8_t *f, uint32_t len)
{
	if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6) {
		fix6(f, len);
		return;
	}
	if (len < 34 || f[12] != 0x08 || f[13] != 0x00)
		return;
	uint8_t *ip = f + 14;
	uint32_t ihl = (ip[0] & 15u) * 4, tot = get16(ip + 2);
	if (ihl < 20 || 14 + ihl > len)
		return;
	put16(ip + 10, 0);
	put16(ip + 10, fold(sum(0, ip, ihl)));
	if ((get16(ip + 6) & 0x3fff) || tot < ihl || 14 + tot > len)
		return;                 /* a fragment, or cut short: the L4 checksum cannot be made */
	uint8_t *l4 = ip + ihl;
	uint32_t l4len = tot - ihl, at;
	switch (ip[9]) {
	case 1: at = 2; break;
	case 6: at = 16; break;
	case 17: at = 6; break;
	default: return;
	}
	if (l4len < at + 2)
		return;
	put16(l4 + at, 0);
	uint32_t s = 0;
	if (ip[9] != 1)
		s = sum(sum(0, ip + 12, 8) + ip[9] + l4len, NULL, 0);
	uint16_t c = fold(sum(s, l4, l4len));
	if (ip[9] == 17 && c == 0)
		c = 0xffff;
	put16(l4 + at, c);
}

uint32_t fz_dhcp_reply(const uint8_t *f, uint32_t len, uint8_t *r)
{
	/* Ethernet, IPv4 without options, UDP 68 -> 67, BOOTREQUEST with the magic cookie. */
	if (len < 14 + 20 + 8 + 240 + 3 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17 ||
	    get16(f + 34) != 68 || get16(f + 36) != 67 || f[42] != 1)
		return 0;
	const uint8_t *m = f + 42;
	if (memcmp(m + 236, "\x63\x82\x53\x63", 4))
		return 0;
	uint8_t type = 0;
	for (uint32_t i = 240; 42 + i + 2 < len && m[i] != 255;) {
		if (m[i] == 0) {
			i++;
			continue;
		}
		if (m[i] == 53 && m[i + 1] >= 1)
			type = m[i + 2];
		i += 2u + m[i + 1];
	}
	if (type != 1 && type != 3)
		return 0;
	uint32_t n = 14 + 20 + 8;
	memset(r, 0, n + 300);
	memcpy(r, f + 6, 6);
	memcpy(r + 6, FZ_SERVER_MAC, 6);
	put16(r + 12, 0x0800);
	uint8_t *o = r + n;
	o[0] = 2, o[1] = 1, o[2] = 6;
	memcpy(o + 4, m + 4, 4);                /* xid */
	put32(o + 16, FZ_OUR_IP);               /* yiaddr */
	put32(o + 20, FZ_SERVER_IP);            /* siaddr */
	memcpy(o + 28, m + 28, 16);             /* chaddr */
	memcpy(o + 236, "\x63\x82\x53\x63", 4);
	uint8_t *p = o + 240;
	*p++ = 53, *p++ = 1, *p++ = type == 1 ? 2 : 5;
	*p++ = 54, *p++ = 4, put32(p, FZ_SERVER_IP), p += 4;
	*p++ = 51, *p++ = 4, put32(p, 0xffffffffu), p += 4;
	*p++ = 1, *p++ = 4, put32(p, 0xffffff00u), p += 4;
	*p++ = 3, *p++ = 4, put32(p, FZ_SERVER_IP), p += 4;
	*p++ = 255;
	uint32_t dlen = (uint32_t)(p - o);
	if (dlen < 300)
		dlen = 300;
	uint8_t *ip = r + 14, *u = ip + 20;
	ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
	put16(ip + 2, 20 + 8 + dlen);
	put32(ip + 12, FZ_SERVER_IP), put32(ip + 16, 0xffffffffu);
	put16(u, 67), put16(u + 2, 68), put16(u + 4, 8 + dlen);
	uint32_t flen = 14 + 20 + 8 + dlen;
	fz_fix_checksums(r, flen);
	return flen;
}
