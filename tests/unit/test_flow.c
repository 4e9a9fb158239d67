/* test_flow: the Toeplitz hash against the published RSS verification values, the table form against
 * the bit-by-bit form, and frame classification for steering. */
#include "test.h"
#include "net/flow.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The key and IPv4 vectors of the RSS verification suite (Microsoft's RSS documentation). */
static const uint8_t ms_key[FLOW_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
static const struct {
	uint8_t dst[4]; uint16_t dport; uint8_t src[4]; uint16_t sport; uint32_t ip_only, with_ports;
} vec[] = {
	{ { 161, 142, 100, 80 }, 1766, { 66, 9, 149, 187 }, 2794, 0x323e8fc2, 0x51ccc178 },
	{ { 65, 69, 140, 83 }, 4739, { 199, 92, 111, 2 }, 14230, 0xd718262a, 0xc626b0ea },
	{ { 12, 22, 207, 184 }, 38024, { 24, 19, 198, 95 }, 12898, 0xd2d0a5de, 0x5c2b394a },
	{ { 209, 142, 163, 6 }, 2217, { 38, 27, 205, 30 }, 48228, 0x82989176, 0xafc7327f },
	{ { 202, 188, 127, 2 }, 1303, { 153, 39, 163, 191 }, 44251, 0x5d1809c5, 0x10e828a2 },
};

static struct flow_key key;

/* An Ethernet + IPv4 + L4 frame from src:sport to dst:dport. */
static uint32_t frame(uint8_t *f, uint16_t type, uint8_t proto, const uint8_t src[4], uint16_t sport,
		      const uint8_t dst[4], uint16_t dport)
{
	memset(f, 0, 64);
	f[12] = (uint8_t)(type >> 8), f[13] = (uint8_t)type;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	ip[20] = (uint8_t)(sport >> 8), ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8), ip[23] = (uint8_t)dport;
	return 14 + 20 + 20;
}

static void vectors(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t in[12];
		memcpy(in, vec[i].src, 4);
		memcpy(in + 4, vec[i].dst, 4);
		in[8] = (uint8_t)(vec[i].sport >> 8), in[9] = (uint8_t)vec[i].sport;
		in[10] = (uint8_t)(vec[i].dport >> 8), in[11] = (uint8_t)vec[i].dport;
		CHECK_EQ(flow_hash_slow(ms_key, in, 8), vec[i].ip_only);
		CHECK_EQ(flow_hash_slow(ms_key, in, 12), vec[i].with_ports);
		CHECK_EQ(flow_hash(&key, in, 8), vec[i].ip_only);
		CHECK_EQ(flow_hash(&key, in, 12), vec[i].with_ports);
		/* The same through classification: TCP and UDP use ports, ICMP and fragments do not. */
		uint8_t f[64];
		struct flow_info fi;
		uint32_t len = frame(f, 0x0800, 6, vec[i].src, vec[i].sport, vec[i].dst, vec[i].dport);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec[i].with_ports);
		f[14 + 9] = 17;
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec[i].with_ports);
		f[14 + 9] = 1;
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
		CHECK_EQ(fi.hash, vec[i].ip_only);
		f[14 + 9] = 17;
		f[14 + 6] = 0x20;                       /* more fragments: the first, with the ports */
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
		CHECK_EQ(fi.hash, vec[i].with_ports);
		f[14 + 6] = 0, f[14 + 7] = 1;           /* a later fragment: offset 8 */
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
		CHECK_EQ(fi.hash, vec[i].ip_only);
		f[14 + 6] = 0x40, f[14 + 7] = 0;        /* don't fragment: a whole datagram */
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec[i].with_ports);
	}
}

/* Tables and bit-by-bit agree on random keys and inputs of every length. */
static void tables(void)
{
	uint32_t x = 88172645;
	for (int round = 0; round < 200; round++) {
		uint8_t k[FLOW_KEY_LEN], in[12];
		for (unsigned i = 0; i < FLOW_KEY_LEN; i++)
			k[i] = (uint8_t)(x = x * 1664525 + 1013904223) >> 3;
		struct flow_key fk;
		flow_key_init(&fk, k);
		for (int j = 0; j < 50; j++) {
			for (unsigned i = 0; i < 12; i++)
				in[i] = (uint8_t)((x = x * 1664525 + 1013904223) >> 24);
			unsigned len = 1 + (x >> 8) % 12;
			if (flow_hash(&fk, in, len) != flow_hash_slow(k, in, len))
				CHECK(0);
		}
	}
	CHECK_EQ(flow_hash(&key, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8), 0);
}

static void classify(void)
{
	uint8_t f[128];
	struct flow_info fi = { 0 };
	const uint8_t a[4] = { 198, 18, 0, 1 }, b[4] = { 198, 18, 0, 2 };
	uint32_t len = frame(f, 0x0806, 0, a, 0, b, 0);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_EVERY_CORE);
	len = frame(f, 0x0800, 17, a, 67, b, 68);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_DHCP_CLIENT);
	len = frame(f, 0x0800, 6, a, 67, b, 68);        /* TCP to 68 is an ordinary flow */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
	len = frame(f, 0x86dd, 6, a, 1, b, 2);                                  /* IPv6 type, version 4 */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_LOCAL);
	CHECK_EQ(flow_classify(&key, f, 13, true, &fi), FLOW_LOCAL);                  /* runt */
	len = frame(f, 0x0800, 6, a, 1, b, 2);
	CHECK_EQ(flow_classify(&key, f, 14 + 19, true, &fi), FLOW_LOCAL);             /* cut IPv4 header */
	CHECK_EQ(flow_classify(&key, f, 14 + 20 + 2, true, &fi), FLOW_ADDR);          /* ports cut: addresses */
	CHECK_EQ(fi.hash, flow_hash(&key, f + 14 + 12, 8));
	f[14] = 0x44;                                                           /* IHL 16 bytes */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_LOCAL);
	f[14] = 0x65;                                                           /* version 6 */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_LOCAL);
	f[14] = 0x4f;                                                           /* 60-byte header */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_LOCAL);                 /* longer than the frame */
	/* With options (IHL 6) the ports are read after them. */
	len = frame(f, 0x0800, 6, a, 1, b, 2);
	f[14] = 0x46;
	memmove(f + 14 + 24, f + 14 + 20, 4);
	uint8_t in[12] = { 198, 18, 0, 1, 198, 18, 0, 2, 0, 1, 0, 2 };
	CHECK_EQ(flow_classify(&key, f, len + 4, true, &fi), FLOW_HASHED);
	CHECK_EQ(fi.hash, flow_hash(&key, in, 12));

	/* Fragments: the first carries the ports and hashes as the whole datagram would; a later one
	 * names the same datagram (addresses, id, protocol) for the caller to find the first's core. */
	len = frame(f, 0x0800, 17, a, 1, b, 2);
	f[14 + 4] = 0x12, f[14 + 5] = 0x34;                                     /* id */
	f[14 + 6] = 0x20;                                                       /* MF, offset 0 */
	in[8] = 0, in[9] = 1, in[10] = 0, in[11] = 2;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(fi.first);
	CHECK_EQ(fi.hash, flow_hash(&key, in, 12));
	uint32_t first[FLOW_FRAG_WORDS];
	memcpy(first, fi.frag, sizeof(first));
	const uint32_t want4[FLOW_FRAG_WORDS] = { 0xc6120001u, 0, 0, 0, 0xc6120002u, 0, 0, 0, 0x1234, 4u << 8 | 17 };
	CHECK(memcmp(first, want4, sizeof(want4)) == 0);
	f[14 + 6] = 0x00, f[14 + 7] = 0xb9;                                     /* last: offset 1480 */
	f[14 + 20] = 0xff;                                                      /* payload, not ports */
	memset(fi.frag, 0xee, sizeof(fi.frag));                                 /* every word is set */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(!fi.first);
	CHECK(memcmp(fi.frag, first, sizeof(first)) == 0);
	f[14 + 5] = 0x35;                                                       /* another datagram */
	flow_classify(&key, f, len, true, &fi);
	CHECK(fi.frag[8] != first[8]);

	/* An ICMP port unreachable from b about our UDP datagram a:1 -> b:2 belongs to the flow
	 * b:2 -> a:1, the peer's view of it. */
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	uint8_t *ip = f + 14, *icmp = ip + 20, *q = icmp + 8;
	ip[0] = 0x45, ip[9] = 1;
	memcpy(ip + 12, b, 4), memcpy(ip + 16, a, 4);
	icmp[0] = 3, icmp[1] = 3;
	q[0] = 0x45, q[9] = 17;
	memcpy(q + 12, a, 4), memcpy(q + 16, b, 4);
	q[20] = 0, q[21] = 1, q[22] = 0, q[23] = 2;
	len = 14 + 20 + 8 + 28;
	uint8_t peer[12] = { 198, 18, 0, 2, 198, 18, 0, 1, 0, 2, 0, 1 };
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ICMP_ERR);
	CHECK_EQ(fi.hash, flow_hash(&key, peer, 12));
	CHECK_EQ(flow_classify(&key, f, len - 5, true, &fi), FLOW_ADDR);             /* quoted ports cut */
	icmp[0] = 8;                                                            /* an echo request */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
	icmp[0] = 11, q[9] = 47;                                                /* about GRE: no flow */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);

	/* Without hash_all, what the NIC places itself is classified but not hashed; what it cannot
	 * place still is. */
	icmp[0] = 3, q[9] = 17;
	fi.hash = 0x5eed;
	CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_ICMP_ERR);
	CHECK_EQ(fi.hash, flow_hash(&key, peer, 12));
	len = frame(f, 0x0800, 6, a, 1, b, 2);
	fi.hash = 0x5eed;
	CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_HASHED);
	CHECK_EQ(fi.hash, 0x5eed);
	f[14 + 9] = 1;
	CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_ADDR);
	CHECK_EQ(fi.hash, 0x5eed);
}

/* A client's connections spread over 4 cores through the 128-entry table (entry i -> core i % 4). */
static void spread(void)
{
	unsigned per[4] = { 0 };
	uint8_t f[64];
	const uint8_t a[4] = { 198, 18, 0, 1 }, b[4] = { 198, 18, 0, 2 };
	for (uint16_t port = 32768; port < 32768 + 4000; port++) {
		struct flow_info fi;
		uint32_t len = frame(f, 0x0800, 6, a, port, b, 80);
		flow_classify(&key, f, len, true, &fi);
		per[(fi.hash & (FLOW_TABLE_LEN - 1)) % 4]++;
	}
	for (int c = 0; c < 4; c++)
		CHECK(per[c] > 700 && per[c] < 1300);
}

/* ---- IPv6 ---- */

/* The IPv6 vectors of the same suite: destination, source (with ports), the hash of the two
 * addresses and of the 36-byte TCP tuple. */
static const struct {
	uint8_t dst[16]; uint16_t dport; uint8_t src[16]; uint16_t sport; uint32_t ip_only, with_ports;
} vec6[] = {
	{ { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01 }, 1766,        /* 3ffe:2501:200:3::1 */
	  { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07 }, 2794,        /* 3ffe:2501:200:1fff::7 */
	  0x2cc18cd5, 0x40207d3d },
	{ { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }, 4739,                            /* ff02::1 */
	  { 0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab }, 14230,
	  0x0f0c461c, 0xdde51bbf },                                                                     /* 3ffe:501:8::260:97ff:fe40:efab */
	{ { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf }, 38024,      /* fe80::200:f8ff:fe21:67cf */
	  { 0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf }, 44251,
	  0x4b61e985, 0x02d1feef },                                                                     /* 3ffe:1900:4545:3:200:f8ff:fe21:67cf */
};

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

/*
 * An Ethernet + IPv6 frame from src to dst. chain: the Next Header values of the extension headers
 * (each 8 bytes; a fragment header's offset and id from frag_off, frag_id), then proto with its
 * first 8 bytes: ports sport, dport for TCP/UDP, type sport for ICMPv6. Payload length exact.
 */
static uint16_t frag_off;
static uint32_t frag_id;
static uint32_t frame6(uint8_t *f, const uint8_t *chain, unsigned nchain, uint8_t proto, const uint8_t src[16],
		       uint16_t sport, const uint8_t dst[16], uint16_t dport)
{
	memset(f, 0, 14 + 40 + 8 * nchain + 20);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14, *p = ip + 40;
	ip[0] = 0x60, ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	uint8_t *nh = ip + 6;
	for (unsigned i = 0; i < nchain; i++, p += 8) {
		*nh = chain[i];
		nh = p;
		if (chain[i] == 44) {
			put16(p + 2, frag_off);
			put16(p + 4, frag_id >> 16), put16(p + 6, frag_id);
		} else {
			p[2] = 1, p[3] = 4;             /* PadN: the header's 6 free bytes */
		}
	}
	*nh = proto;
	if (proto == 58) {
		p[0] = (uint8_t)sport;
	} else {
		put16(p, sport), put16(p + 2, dport);
	}
	uint32_t plen = (uint32_t)(p + 20 - (ip + 40));
	put16(ip + 4, plen);
	return 14 + 40 + plen;
}

/* The hash of an IPv6 tuple built the plain way: src, dst, and the ports when with_ports. */
static uint32_t tuple6(const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport, bool with_ports)
{
	uint8_t in[36];
	memcpy(in, src, 16);
	memcpy(in + 16, dst, 16);
	put16(in + 32, sport), put16(in + 34, dport);
	return flow_hash_slow(ms_key, in, with_ports ? 36 : 32);
}

static void vectors6(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vec6); i++) {
		uint8_t in[36];
		memcpy(in, vec6[i].src, 16);
		memcpy(in + 16, vec6[i].dst, 16);
		put16(in + 32, vec6[i].sport), put16(in + 34, vec6[i].dport);
		CHECK_EQ(flow_hash_slow(ms_key, in, 32), vec6[i].ip_only);
		CHECK_EQ(flow_hash_slow(ms_key, in, 36), vec6[i].with_ports);
		CHECK_EQ(flow_hash(&key, in, 32), vec6[i].ip_only);
		CHECK_EQ(flow_hash(&key, in, 36), vec6[i].with_ports);
		/* Through classification: TCP and UDP with ports, ICMPv6 echo and no-next-header on the
		 * addresses, fragments as their IPv4 twins, extension headers skipped. */
		uint8_t f[256];
		struct flow_info fi;
		const uint8_t *s = vec6[i].src, *d = vec6[i].dst;
		uint16_t sp = vec6[i].sport, dp = vec6[i].dport;
		uint32_t len = frame6(f, NULL, 0, 6, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec6[i].with_ports);
		len = frame6(f, NULL, 0, 17, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec6[i].with_ports);
		len = frame6(f, NULL, 0, 58, s, 128, d, 0);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
		CHECK_EQ(fi.hash, vec6[i].ip_only);
		len = frame6(f, NULL, 0, 59, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
		CHECK_EQ(fi.hash, vec6[i].ip_only);
		static const uint8_t opts[] = { 0, 60, 43, 60 };
		len = frame6(f, opts, 4, 6, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
		CHECK_EQ(fi.hash, vec6[i].with_ports);
		static const uint8_t fr[] = { 44 };
		frag_off = 1, frag_id = 0x8000 + i;             /* first, more to come */
		len = frame6(f, fr, 1, 17, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
		CHECK(fi.first);
		CHECK_EQ(fi.hash, vec6[i].with_ports);
		frag_off = 1480 | 1;                            /* a later one */
		len = frame6(f, fr, 1, 17, s, sp, d, dp);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
		CHECK(!fi.first);
		CHECK_EQ(fi.hash, vec6[i].ip_only);
	}
}

/* Tables and bit-by-bit agree on 36-byte inputs, pieces at every position. */
static void tables6(void)
{
	uint32_t x = 2463534242u;
	for (int round = 0; round < 50; round++) {
		uint8_t k[FLOW_KEY_LEN], in[FLOW_IN_MAX];
		for (unsigned i = 0; i < FLOW_KEY_LEN; i++)
			k[i] = (uint8_t)((x = x * 1664525 + 1013904223) >> 24);
		static struct flow_key fk;
		flow_key_init(&fk, k);
		uint32_t bad = 0;
		for (int j = 0; j < 100; j++) {
			for (unsigned i = 0; i < FLOW_IN_MAX; i++)
				in[i] = (uint8_t)((x = x * 1664525 + 1013904223) >> 24);
			unsigned len = j < 4 ? (unsigned[]){ 32, 36, 13, 35 }[j] : 1 + (x >> 8) % FLOW_IN_MAX;
			bad += flow_hash(&fk, in, len) != flow_hash_slow(k, in, len);
		}
		CHECK_EQ(bad, 0);
	}
	/* FLOW_IN_MAX bounds the tables: a longer len hashes the first 36 bytes. */
	uint8_t in[40];
	for (unsigned i = 0; i < 40; i++)
		in[i] = (uint8_t)(i * 37 + 1);
	CHECK_EQ(flow_hash(&key, in, 40), flow_hash_slow(ms_key, in, 36));
}

static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };

static void classify6(void)
{
	uint8_t f[512];
	struct flow_info fi = { 0 };
	uint32_t len, want = tuple6(peer6, 40000, us6, 443, true);

	/* runts and strangers: the receiving core's stack decides */
	len = frame6(f, NULL, 0, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, 14 + 39, true, &fi), FLOW_LOCAL);        /* cut IPv6 header */
	CHECK_EQ(flow_classify(&key, f, 14 + 40 + 2, true, &fi), FLOW_ADDR);     /* ports cut */
	CHECK_EQ(fi.hash, tuple6(peer6, 0, us6, 0, false));
	f[14] = 0x45;                                                           /* version 4 */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_LOCAL);
	f[14] = 0x60;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
	CHECK_EQ(fi.hash, want);
	/* Ethernet padding is not the packet: the payload length ends it, so ports past it are not
	 * read; a payload length beyond the frame is walked within the frame. */
	f[14 + 5] = 2;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
	f[14 + 4] = 0x05, f[14 + 5] = 0xdc;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
	CHECK_EQ(fi.hash, want);

	/* DHCPv6 replies to the client port 546 go to the client's core; other traffic there is not */
	len = frame6(f, NULL, 0, 17, peer6, 547, us6, 546);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_DHCP_CLIENT);
	len = frame6(f, NULL, 0, 6, peer6, 547, us6, 546);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
	len = frame6(f, NULL, 0, 17, peer6, 546, us6, 547);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);

	/* ICMPv6: neighbour and router discovery, redirects and MLD reports reach every core; what a
	 * stack answers (MLD queries, a peer's neighbour solicitation) one core, as echo and the other
	 * informational types; a duplicate address probe (from ::) every core */
	static const uint8_t every[] = { 131, 132, 133, 134, 136, 137, 143 };
	for (unsigned i = 0; i < ARRAY_SIZE(every); i++) {
		len = frame6(f, NULL, 0, 58, peer6, every[i], us6, 0);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_EVERY_CORE);
	}
	static const uint8_t unspecified[16] = { 0 };
	len = frame6(f, NULL, 0, 58, unspecified, 135, us6, 0);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_EVERY_CORE);
	static const uint8_t any[] = { 130, 135, 128, 129, 138, 139, 144, 200, 0 };
	for (unsigned i = 0; i < ARRAY_SIZE(any); i++) {
		len = frame6(f, NULL, 0, 58, peer6, any[i], us6, 0);
		CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
		CHECK_EQ(fi.hash, tuple6(peer6, 0, us6, 0, false));
	}
	static const uint8_t hbh[] = { 0 };                                     /* MLD comes with router alert */
	len = frame6(f, hbh, 1, 58, peer6, 143, us6, 0);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_EVERY_CORE);
	len = frame6(f, NULL, 0, 58, peer6, 135, us6, 0);
	CHECK_EQ(flow_classify(&key, f, 14 + 40 + 3, true, &fi), FLOW_ADDR);     /* no ICMPv6 header */

	/* Extension headers: up to FLOW_EXT_MAX walked, the ports after them */
	uint8_t chain[16];
	for (unsigned n = 1; n <= FLOW_EXT_MAX + 1; n++) {
		for (unsigned i = 0; i < n; i++)
			chain[i] = i % 2 ? 43 : 60;
		len = frame6(f, chain, n, 6, peer6, 40000, us6, 443);
		enum flow_kind k = flow_classify(&key, f, len, true, &fi);
		CHECK_EQ(k, n <= FLOW_EXT_MAX ? FLOW_HASHED : FLOW_BAD);
		if (k == FLOW_HASHED)
			CHECK_EQ(fi.hash, want);
	}
	/* ... a chain that never ends (each header naming another, to the frame's end) ... */
	memset(f + 14 + 40, 0, 400);
	for (unsigned o = 0; o < 400; o += 8)
		f[14 + 40 + o] = 60;
	f[14 + 6] = 60, f[14 + 4] = 400 >> 8, f[14 + 5] = 400 & 0xff;
	CHECK_EQ(flow_classify(&key, f, 14 + 40 + 400, true, &fi), FLOW_BAD);
	/* ... a header longer than what is left of the frame or the payload, or cut before its
	 * length byte ... */
	static const uint8_t one[] = { 60 };
	len = frame6(f, one, 1, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_HASHED);
	f[14 + 40 + 1] = 3;                                                     /* 32 bytes: past the end */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_BAD);
	f[14 + 40 + 1] = 0;
	CHECK_EQ(flow_classify(&key, f, 14 + 40 + 7, true, &fi), FLOW_BAD);
	f[14 + 5] = 7;                                                          /* payload 7: padding after */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_BAD);
	/* ... hop-by-hop anywhere but first, or two fragment headers */
	static const uint8_t late_hbh[] = { 60, 0 }, two_frags[] = { 44, 44 }, first_hbh[] = { 0, 44 };
	len = frame6(f, late_hbh, 2, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_BAD);
	frag_off = 1, frag_id = 7;
	len = frame6(f, two_frags, 2, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_BAD);
	len = frame6(f, first_hbh, 2, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK_EQ(fi.hash, want);
	/* AH and ESP are upper layers to us: hashed on the addresses, left to the stack */
	len = frame6(f, NULL, 0, 51, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);

	/* Fragments: the first (ports) and the later ones (none) name the same datagram, which no
	 * other datagram's identity equals, however close */
	static const uint8_t fr[] = { 44 }, fr_opts[] = { 0, 44, 60 };
	frag_off = 1, frag_id = 0xdeadbeef;
	len = frame6(f, fr_opts, 3, 17, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(fi.first);
	CHECK_EQ(fi.hash, want);
	uint32_t first[FLOW_FRAG_WORDS];
	memcpy(first, fi.frag, sizeof(first));
	CHECK_EQ(first[0], 0x20010db8u);
	CHECK_EQ(first[3], 0x1234u);
	CHECK_EQ(first[7], 2);
	CHECK_EQ(first[8], 0xdeadbeefu);
	CHECK_EQ(first[9], 6u << 8);
	frag_off = (uint16_t)(1232 | 1);
	len = frame6(f, fr, 1, 17, peer6, 0xffff, us6, 0xffff);                 /* payload where the ports were */
	memset(fi.frag, 0xee, sizeof(fi.frag));
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(!fi.first);
	CHECK(memcmp(fi.frag, first, sizeof(first)) == 0);
	CHECK_EQ(fi.hash, tuple6(peer6, 0, us6, 0, false));
	frag_off = 2464;                                                        /* the last */
	len = frame6(f, fr, 1, 17, peer6, 1, us6, 2);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(!fi.first && memcmp(fi.frag, first, sizeof(first)) == 0);
	frag_id = 0xdeadbeee;
	len = frame6(f, fr, 1, 17, peer6, 1, us6, 2);
	flow_classify(&key, f, len, true, &fi);
	CHECK(memcmp(fi.frag, first, sizeof(first)) != 0);
	frag_id = 0xdeadbeef;
	uint8_t other[16];
	memcpy(other, peer6, 16);
	other[8] ^= 0x80;                                                       /* differs in the middle only */
	len = frame6(f, fr, 1, 17, other, 1, us6, 2);
	flow_classify(&key, f, len, true, &fi);
	CHECK(memcmp(fi.frag, first, sizeof(first)) != 0);
	memcpy(other, us6, 16);
	other[15] = 3;
	len = frame6(f, fr, 1, 17, peer6, 1, other, 2);
	flow_classify(&key, f, len, true, &fi);
	CHECK(memcmp(fi.frag, first, sizeof(first)) != 0);
	/* an IPv4 fragment with the same leading words is another datagram */
	const uint8_t a4[4] = { 0x20, 0x01, 0x0d, 0xb8 }, b4[4] = { 0, 0, 0, 2 };
	len = frame(f, 0x0800, 17, a4, 1, b4, 2);
	f[14 + 6] = 0x20;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(memcmp(fi.frag, first, sizeof(first)) != 0);
	/* an atomic fragment (offset 0, no more) is steered as a first: its ports are hashed */
	frag_off = 0;
	len = frame6(f, fr, 1, 6, peer6, 40000, us6, 443);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(fi.first);
	CHECK_EQ(fi.hash, want);
	/* a first fragment too short for the ports: the addresses, as the later ones */
	frag_off = 1;
	len = frame6(f, fr, 1, 6, peer6, 40000, us6, 443);
	f[14 + 5] = 8 + 3;
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(fi.first);
	CHECK_EQ(fi.hash, tuple6(peer6, 0, us6, 0, false));

	/* ICMPv6 errors quoting our segment us:443 -> peer:40000 belong to the flow peer:40000 ->
	 * us:443, whichever router sends them, whatever extension headers the quote carries */
	static const uint8_t router[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const struct { uint8_t type; uint8_t chain[3]; unsigned n; uint8_t proto; } errs[] = {
		{ 2, { 0 }, 0, 6 }, { 2, { 0 }, 0, 17 }, { 1, { 0 }, 0, 6 }, { 3, { 0 }, 0, 6 }, { 4, { 0 }, 0, 17 },
		{ 2, { 60, 43 }, 2, 6 }, { 2, { 44 }, 1, 17 }, { 2, { 0, 44, 60 }, 3, 17 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(errs); i++) {
		frag_off = 1, frag_id = 99;
		uint8_t q[256];
		uint32_t ql = frame6(q, errs[i].chain, errs[i].n, errs[i].proto, us6, 443, peer6, 40000) - 14;
		len = frame6(f, NULL, 0, 58, router, errs[i].type, us6, 0);
		memcpy(f + 14 + 40 + 8, q + 14, ql);
		len = 14 + 40 + 8 + ql;
		put16(f + 14 + 4, 8 + ql);
		fi.hash = 0;
		CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_ICMP_ERR);
		CHECK_EQ(fi.hash, want);
		/* not about a flow: a quote cut before the ports, of a later fragment, or of a chain
		 * that cannot be walked */
		CHECK_EQ(flow_classify(&key, f, len - 17, true, &fi), FLOW_ADDR);
		CHECK_EQ(fi.hash, tuple6(router, 0, us6, 0, false));
	}
	uint8_t q[256];
	frag_off = 8;
	uint32_t ql = frame6(q, fr, 1, 17, us6, 443, peer6, 40000) - 14;
	len = frame6(f, NULL, 0, 58, router, 2, us6, 0);
	memcpy(f + 14 + 48, q + 14, ql), len = 14 + 48 + ql, put16(f + 14 + 4, 8 + ql);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
	/* a quote of our ICMPv6 (an echo reply too big for the path): the core of its addresses, as
	 * the echo request's, seen from the peer */
	ql = frame6(q, NULL, 0, 58, us6, 129, peer6, 0) - 14;
	memcpy(f + 14 + 48, q + 14, ql), len = 14 + 48 + ql, put16(f + 14 + 4, 8 + ql);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ICMP_ERR);
	CHECK_EQ(fi.hash, tuple6(peer6, 0, us6, 0, false));
	static const uint8_t bad_q[] = { 60, 0 };
	ql = frame6(q, bad_q, 2, 6, us6, 443, peer6, 40000) - 14;
	memcpy(f + 14 + 48, q + 14, ql), len = 14 + 48 + ql, put16(f + 14 + 4, 8 + ql);
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);
	f[14 + 48] = 0x45;                                                      /* quotes IPv4 */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_ADDR);

	/* Without hash_all, as for IPv4: what the NIC places is not hashed */
	len = frame6(f, NULL, 0, 6, peer6, 40000, us6, 443);
	fi.hash = 0x5eed;
	CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_HASHED);
	CHECK_EQ(fi.hash, 0x5eed);
	len = frame6(f, NULL, 0, 58, peer6, 128, us6, 0);
	CHECK_EQ(flow_classify(&key, f, len, false, &fi), FLOW_ADDR);
	CHECK_EQ(fi.hash, 0x5eed);
}

/* A client's IPv6 connections spread over 4 cores as its IPv4 ones do. */
static void spread6(void)
{
	unsigned per[4] = { 0 };
	uint8_t f[128];
	for (uint16_t port = 32768; port < 32768 + 4000; port++) {
		struct flow_info fi;
		uint32_t len = frame6(f, NULL, 0, 6, peer6, port, us6, 443);
		flow_classify(&key, f, len, true, &fi);
		per[(fi.hash & (FLOW_TABLE_LEN - 1)) % 4]++;
	}
	for (int c = 0; c < 4; c++)
		CHECK(per[c] > 700 && per[c] < 1300);
}

TEST_MAIN("test_flow: proves the Toeplitz hash matches the RSS verification vectors for IPv4 and IPv6 "
	  "(table and bit forms, 36-byte inputs), classifies ARP, DHCP, first and later fragments, ICMP errors about a "
	  "flow, options and bad headers, and for IPv6 extension header chains (bounded, cut, endless), fragments, "
	  "ICMPv6 errors, neighbour discovery and DHCPv6; and spreads flows", {
	flow_key_init(&key, ms_key);
	vectors();
	tables();
	classify();
	spread();
	vectors6();
	tables6();
	classify6();
	spread6();
})
