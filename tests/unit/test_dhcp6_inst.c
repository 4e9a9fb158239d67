/* test_dhcp6_inst: the DHCPv6 client inside a real lwIP instance (net/inst_dhcp6.c): silent until a
 * router advertisement with the M flag (POLLUX_DHCP6 auto), then Solicit from the link-local address
 * to ff02::1:2 port 547, Request, the leased address on the netif after DAD, reported to net.c
 * (dhcp6) and taken by a second instance (set_addr6), Renew at T1, Rebind when the link comes back;
 * forged answers dropped and counted; router advertisements past the router list counted and
 * answered with nothing (lwIP patch 0016). */
#include <stdlib.h>

#include "test.h"
#include "net/dhcp6.h"
#include "net/inst.h"

extern const struct net_inst lwip0_net_inst, lwip1_net_inst;
extern uint32_t now_ms;                 /* tests/unit/host/lwip_port.c: the instances' clock */
void *host_mem_grow(uint32_t core, size_t bytes);

static const uint8_t smac[6] = { 2, 0, 0, 0, 0, 0x99 };
static const uint8_t sll[16] = { 0xfe, 0x80, [15] = 0x99 };     /* the server's (and router's) address */
static const uint8_t all_nodes[16] = { 0xff, 2, [15] = 1 };
static const uint8_t leased[16] = { 0xfd, 0, 1, 0x98, 0, 0x18, [14] = 1, 0x23 };
static const uint8_t sid[10] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 0x99 };

/* What instance 0 sent to the DHCPv6 servers: the messages, their source address and port. */
static uint8_t msg[8][512];
static size_t msg_len[8];
static unsigned nmsg, nframes, ns_for[256];
static uint8_t msg_src[16];
static unsigned msg_sport;

static int tx(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	(void)o, (void)ref;
	uint8_t fr[1600];
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (len + f[i].len > sizeof(fr))
			return -2;
		memcpy(fr + len, f[i].p, f[i].len);
		len += f[i].len;
	}
	if (core != 0)
		return 0;
	nframes++;
	const uint8_t *ip = fr + 14, *udp = ip + 40;
	if (len >= 14 + 40 + 24 && fr[12] == 0x86 && fr[13] == 0xdd && ip[6] == 58 && ip[40] == 135)
		ns_for[ip[40 + 8 + 15]]++;      /* a neighbour solicitation, by its target's last byte */
	if (len >= 14 + 48 && fr[12] == 0x86 && fr[13] == 0xdd && ip[6] == 17 && udp[2] == 0x02 && udp[3] == 0x23 &&
	    nmsg < 8) {
		static const uint8_t srv[16] = { 0xff, 2, [13] = 1, [15] = 2 };
		CHECK(!memcmp(ip + 24, srv, 16));       /* All_DHCP_Relay_Agents_and_Servers */
		CHECK(fr[0] == 0x33 && fr[1] == 0x33 && fr[5] == 2);
		memcpy(msg_src, ip + 8, 16);
		msg_sport = (unsigned)(udp[0] << 8 | udp[1]);
		size_t ml = (size_t)(udp[4] << 8 | udp[5]) - 8;
		if (ml <= sizeof(msg[0]) && 14 + 48 + ml <= len) {
			memcpy(msg[nmsg], udp + 8, ml);
			msg_len[nmsg++] = ml;
		}
	}
	return 0;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An IPv6 frame to instance 0 from the link-local address ending in from: next header nh, payload
 * p (its checksum field at csum_at is filled in over the pseudo-header). */
static void send6_from(uint8_t from, uint8_t nh, uint8_t hops, uint8_t *p, size_t plen, size_t csum_at)
{
	uint8_t *f = malloc(14 + 40 + plen);
	memcpy(f, "\x33\x33\x00\x00\x00\x01", 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60, ip[4] = (uint8_t)(plen >> 8), ip[5] = (uint8_t)plen, ip[6] = nh, ip[7] = hops;
	memcpy(ip + 8, sll, 16);
	ip[23] = from;
	memcpy(ip + 24, all_nodes, 16);
	p[csum_at] = p[csum_at + 1] = 0;
	uint32_t s = (uint32_t)plen + nh;
	for (int i = 0; i < 32; i += 2)
		s += (uint32_t)(ip[8 + i] << 8 | ip[9 + i]);
	for (size_t i = 0; i < plen; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < plen ? p[i + 1] : 0));
	uint16_t c = fold(s);
	p[csum_at] = (uint8_t)(c >> 8), p[csum_at + 1] = (uint8_t)c;
	memcpy(ip + 40, p, plen);
	lwip0_net_inst.input_copy(f, (uint32_t)(14 + 40 + plen), 0);
	free(f);
}

/* The same from the server. */
static void send6(uint8_t nh, uint8_t hops, uint8_t *p, size_t plen, size_t csum_at)
{
	send6_from(sll[15], nh, hops, p, plen, csum_at);
}

static void send_udp(unsigned sport, const uint8_t *m, size_t n)
{
	uint8_t p[600];
	p[0] = (uint8_t)(sport >> 8), p[1] = (uint8_t)sport, p[2] = 0x02, p[3] = 0x22;
	p[4] = (uint8_t)((n + 8) >> 8), p[5] = (uint8_t)(n + 8);
	memcpy(p + 8, m, n);
	send6(17, 64, p, n + 8, 6);
}

static void run(int ms)
{
	for (int i = 0; i < ms; i++) {
		now_ms++;
		lwip0_net_inst.poll();
		lwip1_net_inst.poll();
	}
}

/* A server's answer of type to the client's message m: its xid and client id, our server id, an
 * IA_NA for the client's IAID with the leased address. */
static size_t answer(uint8_t *a, const uint8_t *m, size_t mlen, uint8_t type)
{
	size_t n = 0;
	a[n++] = type, a[n++] = m[1], a[n++] = m[2], a[n++] = m[3];
	uint32_t iaid = 0;
	for (size_t off = 4; off + 4 <= mlen;) {        /* the client's own options, echoed as a server does */
		uint16_t c = (uint16_t)(m[off] << 8 | m[off + 1]), l = (uint16_t)(m[off + 2] << 8 | m[off + 3]);
		if (c == DHCP6_OPT_CLIENTID) {
			memcpy(a + n, m + off, 4u + l);
			n += 4u + l;
		}
		if (c == DHCP6_OPT_IA_NA)
			iaid = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 | (uint32_t)m[off + 6] << 8 | m[off + 7];
		off += 4u + l;
	}
	a[n++] = 0, a[n++] = DHCP6_OPT_SERVERID, a[n++] = 0, a[n++] = sizeof(sid);
	memcpy(a + n, sid, sizeof(sid)), n += sizeof(sid);
	a[n++] = 0, a[n++] = DHCP6_OPT_PREFERENCE, a[n++] = 0, a[n++] = 1, a[n++] = 255;
	const uint8_t ia[] = { 0, DHCP6_OPT_IA_NA, 0, 40, (uint8_t)(iaid >> 24), (uint8_t)(iaid >> 16), (uint8_t)(iaid >> 8),
			       (uint8_t)iaid, 0, 0, 0x03, 0x84, 0, 0, 0x05, 0xa0, 0, DHCP6_OPT_IAADDR, 0, 24 };
	memcpy(a + n, ia, sizeof(ia)), n += sizeof(ia);
	memcpy(a + n, leased, 16), n += 16;
	const uint8_t life[] = { 0, 0, 0x07, 0x08, 0, 0, 0x0e, 0x10 };     /* preferred 1800 s, valid 3600 s */
	memcpy(a + n, life, sizeof(life)), n += sizeof(life);
	return n;
}

static uint8_t msg_type(unsigned i)
{
	return i < nmsg ? msg[i][0] : 0;
}

static bool has6(const struct net_inst *in, const uint8_t a[16])
{
	uint8_t got[4][16];
	unsigned k = in->addr6(got, 4);
	for (unsigned i = 0; i < k; i++)
		if (!memcmp(got[i], a, 16))
			return true;
	return false;
}

static struct net_inst_stats stats0(void)
{
	struct net_inst_stats s;
	lwip0_net_inst.stats(&s);
	return s;
}

static uint64_t drops(void)
{
	return stats0().dhcp6_drop;
}

static void lease(void)
{
	struct net_inst_cfg a = { .core = 0, .mac = { 2, 0, 0, 0, 0, 1 }, .mem_budget = 64 << 20,
				  .mem_grow = host_mem_grow, .tx = tx, .dhcp6 = NET_DHCP6_AUTO };
	struct net_inst_cfg b = a;
	b.core = 1;
	b.dhcp6 = NET_DHCP6_OFF;
	CHECK_EQ(lwip0_net_inst.init(&a), 0);
	CHECK_EQ(lwip1_net_inst.init(&b), 0);
	run(5000);
	CHECK(nframes > 0 && nmsg == 0);        /* link-local DAD, router solicitations: no DHCPv6 yet */

	/* A router advertisement without M: still nothing; with M (and from a router: hop limit 255). */
	uint8_t ra[16] = { 134, 0, 0, 0, 64, 0x00, 0x07, 0x08 };
	send6(58, 255, ra, sizeof(ra), 2);
	run(3000);
	CHECK_EQ(nmsg, 0);
	ra[5] = 0x80;
	send6(58, 64, ra, sizeof(ra), 2);       /* off-link (hop limit 64): lwIP refuses it */
	run(3000);
	CHECK_EQ(nmsg, 0);
	send6(58, 255, ra, sizeof(ra), 2);
	run(1200);                              /* the Solicit waits up to SOL_MAX_DELAY */
	CHECK(nmsg >= 1 && msg_type(0) == DHCP6_SOLICIT);
	static const uint8_t cll[16] = { 0xfe, 0x80, [11] = 0xff, 0xfe, [15] = 1 };   /* EUI-64 of 02:00:00:00:00:01 */
	CHECK(!memcmp(msg_src, cll, 16) && msg_sport == DHCP6_CLIENT_PORT);

	/* Forged: a wrong transaction id, a truncated message, and the right one from port 9999. */
	uint8_t ans[300];
	size_t n = answer(ans, msg[0], msg_len[0], DHCP6_ADVERTISE);
	ans[3] ^= 0x5a;
	send_udp(DHCP6_SERVER_PORT, ans, n);
	ans[3] ^= 0x5a;
	send_udp(DHCP6_SERVER_PORT, ans, n - 30);
	send_udp(9999, ans, n);
	run(1);
	CHECK_EQ(drops(), 3);
	CHECK_EQ(msg_type(nmsg - 1), DHCP6_SOLICIT);

	/* The Advertise: a Request at once (preference 255); its Reply: the address, through DAD. */
	send_udp(DHCP6_SERVER_PORT, ans, n);
	run(1);
	CHECK_EQ(msg_type(nmsg - 1), DHCP6_REQUEST);
	n = answer(ans, msg[nmsg - 1], msg_len[nmsg - 1], DHCP6_REPLY);
	send_udp(DHCP6_SERVER_PORT, ans, n);
	run(1);
	uint8_t got[16];
	uint32_t valid, pref;
	CHECK_EQ(lwip0_net_inst.dhcp6(got, &valid, &pref), 0);      /* tentative: not yet published */
	CHECK(!has6(&lwip0_net_inst, leased));
	run(3000);
	CHECK(has6(&lwip0_net_inst, leased));
	uint32_t gen = lwip0_net_inst.dhcp6(got, &valid, &pref);
	CHECK(gen != 0 && !memcmp(got, leased, 16) && valid > 3590 && valid <= 3600 && pref > 1790 && pref <= 1800);
	CHECK_EQ(drops(), 3);

	/* Instance 1 takes it, preferred at once; and lets it go when core 0 has none. */
	CHECK(!has6(&lwip1_net_inst, leased));
	lwip1_net_inst.set_addr6(got, valid, pref);
	CHECK(has6(&lwip1_net_inst, leased));
	static const uint8_t none[16];
	lwip1_net_inst.set_addr6(none, 0, 0);
	CHECK(!has6(&lwip1_net_inst, leased));

	/* T1 (900 s): a Renew; answered, the count moves (the others take the new lifetimes). */
	unsigned before = nmsg;
	run(900 * 1000);
	CHECK(nmsg > before && msg_type(nmsg - 1) == DHCP6_RENEW);
	n = answer(ans, msg[nmsg - 1], msg_len[nmsg - 1], DHCP6_REPLY);
	send_udp(DHCP6_SERVER_PORT, ans, n);
	run(1);
	uint32_t gen2 = lwip0_net_inst.dhcp6(got, &valid, &pref);
	CHECK(gen2 != gen && valid == 3600 && has6(&lwip0_net_inst, leased));
	CHECK_EQ(drops(), 3);

	/* The link goes down and comes back: a Rebind at once, and its Reply keeps the address. */
	lwip0_net_inst.link(false);
	run(10);
	before = nmsg;
	lwip0_net_inst.link(true);
	run(1);
	CHECK(nmsg > before && msg_type(nmsg - 1) == DHCP6_REBIND);
	n = answer(ans, msg[nmsg - 1], msg_len[nmsg - 1], DHCP6_REPLY);
	send_udp(DHCP6_SERVER_PORT, ans, n);
	run(1);
	CHECK(lwip0_net_inst.dhcp6(got, &valid, &pref) != gen2 && has6(&lwip0_net_inst, leased));
	CHECK_EQ(drops(), 3);
}

/* Router advertisements from new routers (fe80::1 to fe80::5): the first two fill the router list
 * (LWIP_ND6_NUM_ROUTERS, 3, the server's among them) and are not solicited, the one with a
 * source link-layer address option at all (RFC 4861 section 6.3.4), the other within a second
 * (nd6_tmr). The rest cost nothing: no solicitation, no neighbour entry, and each is counted in
 * nd_drop, not lost. */
static void routers(void)
{
	uint8_t ra[24] = { 134, 0, 0, 0, 64, 0x00, 0x07, 0x08, [16] = 1, 1, 2, 0, 0, 0, 0, 1 };
	run(5000);                              /* the router solicitations after the link came back */
	memset(ns_for, 0, sizeof(ns_for));
	uint64_t before = stats0().nd_drop;
	unsigned frames = nframes;
	send6_from(1, 58, 255, ra, sizeof(ra), 2);      /* with the option */
	send6_from(2, 58, 255, ra, 16, 2);              /* without */
	for (uint8_t r = 3; r <= 5; r++)
		send6_from(r, 58, 255, ra, sizeof(ra), 2);
	CHECK_EQ(nframes, frames);
	CHECK_EQ(stats0().nd_drop, before + 3);
	send6_from(1, 58, 255, ra, sizeof(ra), 2);      /* a router it keeps: taken again */
	CHECK_EQ(stats0().nd_drop, before + 3);
	run(1100);
	CHECK(ns_for[2] >= 1);
	CHECK(ns_for[1] == 0 && ns_for[3] == 0 && ns_for[4] == 0 && ns_for[5] == 0);
}

TEST_MAIN("test_dhcp6_inst: proves the DHCPv6 client in an lwIP instance starts on a router advertisement "
	  "with the M flag only, solicits from its link-local address, puts the leased address on the netif after "
	  "DAD, reports it for the other cores, which take it and let it go, renews at T1, rebinds when the link comes "
	  "back, and counts forged answers; router advertisements past its router list are counted and cost no solicitation", {
	lease();
	routers();
})
