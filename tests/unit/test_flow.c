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
	len = frame(f, 0x86dd, 6, a, 1, b, 2);
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
	uint32_t first[3] = { fi.frag[0], fi.frag[1], fi.frag[2] };
	CHECK_EQ(first[0], 0xc6120001u);
	CHECK_EQ(first[2], 0x12340000u | 17);
	f[14 + 6] = 0x00, f[14 + 7] = 0xb9;                                     /* last: offset 1480 */
	f[14 + 20] = 0xff;                                                      /* payload, not ports */
	CHECK_EQ(flow_classify(&key, f, len, true, &fi), FLOW_FRAG);
	CHECK(!fi.first);
	CHECK(fi.frag[0] == first[0] && fi.frag[1] == first[1] && fi.frag[2] == first[2]);
	f[14 + 5] = 0x35;                                                       /* another datagram */
	flow_classify(&key, f, len, true, &fi);
	CHECK(fi.frag[2] != first[2]);

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

TEST_MAIN("test_flow: proves the Toeplitz hash matches the RSS verification vectors (table and bit "
	  "forms), classifies ARP, DHCP, first and later fragments, ICMP errors about a flow, options and bad headers, and spreads flows", {
	flow_key_init(&key, ms_key);
	vectors();
	tables();
	classify();
	spread();
})
