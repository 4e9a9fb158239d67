/* test_dhcp6: the DHCPv6 client (net/dhcp6.c) against crafted server messages: Solicit, Advertise,
 * Request, Reply as RFC 8415 has them, Renew at T1, Rebind at T2, loss at the valid lifetime,
 * Decline after DAD, retransmission times; and every malformed or foreign message (truncated
 * options, lengths past the end, wrong transaction or client id, no server id, NoAddrsAvail) dropped
 * and counted with nothing changed, random ones included. */
#include <stdint.h>

#include "test.h"
#include "net/dhcp6.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t duid[10] = { 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t sid[14] = { 0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const uint8_t sid2[10] = { 0, 3, 0, 1, 1, 2, 3, 4, 5, 6 };
static const uint8_t addr[16] = { 0xfd, 0, 1, 0x98, 0, 0x18, [14] = 1, 0x23 };
static const uint8_t addr2[16] = { 0xfd, 0, 1, 0x98, 0, 0x18, [14] = 1, 0x77 };

static uint32_t seed = 1;
static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static uint8_t out[DHCP6_MSG_MAX];
static size_t out_len;

/* ---- reading what the client sent ---- */

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }

/* The body of option code in the last message sent (len into *len), or NULL. */
static const uint8_t *sent_opt(uint16_t code, uint16_t *len)
{
	for (size_t off = 4; off + 4 <= out_len;) {
		uint16_t c = g16(out + off), l = g16(out + off + 2);
		if (off + 4 + l > out_len)
			return NULL;
		if (c == code) {
			*len = l;
			return out + off + 4;
		}
		off += 4u + l;
	}
	return NULL;
}

static uint32_t sent_xid(void)
{
	return (uint32_t)out[1] << 16 | (uint32_t)out[2] << 8 | out[3];
}

/* ---- building what a server sends ---- */

struct msg {
	uint8_t b[600];
	size_t n;
};

static void m_start(struct msg *m, uint8_t type, uint32_t xid)
{
	m->b[0] = type, m->b[1] = (uint8_t)(xid >> 16), m->b[2] = (uint8_t)(xid >> 8), m->b[3] = (uint8_t)xid;
	m->n = 4;
}

static uint8_t *m_opt(struct msg *m, uint16_t code, uint16_t len)
{
	uint8_t *p = m->b + m->n;
	p[0] = (uint8_t)(code >> 8), p[1] = (uint8_t)code, p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
	m->n += 4u + len;
	return p + 4;
}

static void p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* An IA_NA for iaid with T1, T2 and one address (a NULL: none; ia_status >= 0: a Status Code). */
static void m_ia(struct msg *m, uint32_t iaid, uint32_t t1, uint32_t t2, const uint8_t *a, uint32_t pref,
		 uint32_t valid, int ia_status)
{
	uint16_t len = (uint16_t)(12 + (a ? 28 : 0) + (ia_status >= 0 ? 6 : 0));
	uint8_t *p = m_opt(m, DHCP6_OPT_IA_NA, len);
	p32(p, iaid), p32(p + 4, t1), p32(p + 8, t2);
	p += 12;
	if (a) {
		p[0] = 0, p[1] = DHCP6_OPT_IAADDR, p[2] = 0, p[3] = 24;
		memcpy(p + 4, a, 16);
		p32(p + 20, pref), p32(p + 24, valid);
		p += 28;
	}
	if (ia_status >= 0)
		p[0] = 0, p[1] = DHCP6_OPT_STATUS_CODE, p[2] = 0, p[3] = 2, p[4] = 0, p[5] = (uint8_t)ia_status;
}

/* A well-formed answer of type to xid: client id, server id s, the IA with addr a. */
static void m_good(struct msg *m, uint8_t type, uint32_t xid, const uint8_t *s, size_t slen, const uint8_t *a,
		   uint32_t iaid)
{
	m_start(m, type, xid);
	memcpy(m_opt(m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(m, DHCP6_OPT_SERVERID, (uint16_t)slen), s, slen);
	m_ia(m, iaid, 1800, 2880, a, 3600, 7200, -1);
}

static unsigned in(struct dhcp6c *c, const struct msg *m, uint64_t now)
{
	out_len = 0;
	return dhcp6_input(c, m->b, m->n, now, out, &out_len);
}

static unsigned tick(struct dhcp6c *c, uint64_t now)
{
	out_len = 0;
	return dhcp6_tick(c, now, out, &out_len);
}

/* Start c and run it to its first Solicit; returns the time it went. */
static uint64_t to_solicit(struct dhcp6c *c)
{
	dhcp6_init(c, mac, rnd);
	dhcp6_start(c, 0);
	uint64_t t = 0;
	while (!(tick(c, t) & DHCP6_EV_SEND) && t < 2000)
		t++;
	return t;
}

/* Run c to BOUND with addr from server sid; returns the time. */
static uint64_t to_bound(struct dhcp6c *c)
{
	uint64_t t = to_solicit(c);
	struct msg m;
	m_good(&m, DHCP6_ADVERTISE, sent_xid(), sid, sizeof(sid), addr, c->iaid);
	uint8_t *p = m_opt(&m, DHCP6_OPT_PREFERENCE, 1);
	*p = 255;
	in(c, &m, t + 10);
	m_good(&m, DHCP6_REPLY, sent_xid(), sid, sizeof(sid), addr, c->iaid);
	in(c, &m, t + 20);
	return t + 20;
}

static void t_solicit(void)
{
	struct dhcp6c c;
	uint64_t t = to_solicit(&c);
	CHECK(t <= 1000);                       /* a random delay of up to SOL_MAX_DELAY */
	CHECK_EQ(out[0], DHCP6_SOLICIT);
	uint16_t l;
	const uint8_t *o = sent_opt(DHCP6_OPT_CLIENTID, &l);
	CHECK(o && l == 10 && !memcmp(o, duid, 10));    /* DUID-LL from the MAC */
	CHECK(!sent_opt(DHCP6_OPT_SERVERID, &l));
	o = sent_opt(DHCP6_OPT_ELAPSED_TIME, &l);
	CHECK(o && l == 2 && g16(o) == 0);
	o = sent_opt(DHCP6_OPT_ORO, &l);
	CHECK(o && l == 2 && g16(o) == DHCP6_OPT_SOL_MAX_RT);
	o = sent_opt(DHCP6_OPT_IA_NA, &l);
	CHECK(o && l == 12 && g32(o) == c.iaid && g32(o) == 0x00123456);
	CHECK_EQ(c.st.tx, 1);
	/* The first RT: IRT plus a positive random part up to a tenth (18.2.1). */
	uint32_t rt1 = (uint32_t)(c.next - t);
	CHECK(rt1 > 1000 && rt1 <= 1100);
	uint32_t xid = sent_xid();
	CHECK_EQ(tick(&c, c.next - 1), 0);
	uint64_t t2 = c.next;
	CHECK_EQ(tick(&c, t2), DHCP6_EV_SEND);
	CHECK_EQ(sent_xid(), xid);              /* a retransmission keeps its transaction id */
	o = sent_opt(DHCP6_OPT_ELAPSED_TIME, &l);
	CHECK(o && g16(o) == (t2 - t) / 10);     /* hundredths since the first */
	uint32_t rt2 = (uint32_t)(c.next - t2);
	CHECK(rt2 >= 2 * rt1 - 2 * rt1 / 10 && rt2 <= 2 * rt1 + 2 * rt1 / 10);
	/* Unanswered, RT grows to SOL_MAX_RT (3600 s) plus or minus a tenth, and stays there. */
	uint64_t now = c.next;
	for (int i = 0; i < 30; i++) {
		tick(&c, now);
		now = c.next;
	}
	CHECK(c.rt >= 3240000 && c.rt <= 3960000);
	CHECK(c.state == DHCP6_SOLICITING && c.st.drop == 0);
}

static void t_exchange(void)
{
	struct dhcp6c c;
	uint64_t t = to_solicit(&c);
	uint32_t xid = sent_xid();
	struct msg m;
	/* An Advertise without preference 255 waits out the first RT for a better one. */
	m_good(&m, DHCP6_ADVERTISE, xid, sid2, sizeof(sid2), addr2, c.iaid);
	CHECK_EQ(in(&c, &m, t + 5), 0);
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	*m_opt(&m, DHCP6_OPT_PREFERENCE, 1) = 7;
	CHECK_EQ(in(&c, &m, t + 6), 0);
	CHECK(c.state == DHCP6_SOLICITING && c.st.rx == 2);
	CHECK_EQ(tick(&c, c.next), DHCP6_EV_SEND);      /* the first RT is over: the best is asked */
	CHECK_EQ(out[0], DHCP6_REQUEST);
	uint16_t l;
	const uint8_t *o = sent_opt(DHCP6_OPT_SERVERID, &l);
	CHECK(o && l == sizeof(sid) && !memcmp(o, sid, sizeof(sid)));  /* preference 7 beat 0 */
	o = sent_opt(DHCP6_OPT_IA_NA, &l);
	CHECK(o && l == 40 && g32(o) == c.iaid && g16(o + 12) == DHCP6_OPT_IAADDR && !memcmp(o + 16, addr, 16));
	uint64_t now = c.next - 500;
	/* A Reply from another server to our Request: not ours. */
	m_good(&m, DHCP6_REPLY, sent_xid(), sid2, sizeof(sid2), addr, c.iaid);
	CHECK_EQ(in(&c, &m, now), 0);
	CHECK_EQ(c.st.drop, 1);
	m_good(&m, DHCP6_REPLY, sent_xid(), sid, sizeof(sid), addr, c.iaid);
	CHECK_EQ(in(&c, &m, now), DHCP6_EV_BOUND);
	CHECK(c.state == DHCP6_BOUND && !memcmp(c.addr, addr, 16) && c.valid_s == 7200 && c.pref_s == 3600);
	CHECK(c.t1 == now + 1800000 && c.t2 == now + 2880000 && c.valid_end == now + 7200000);
	/* The Reply again (our Request was retransmitted and answered twice): ignored, not a drop;
	 * a late Advertise to the Solicit too. Another transaction id is a drop. */
	CHECK_EQ(in(&c, &m, now + 1), 0);
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	CHECK_EQ(in(&c, &m, now + 2), 0);
	CHECK(c.st.late == 2 && c.st.drop == 1 && c.state == DHCP6_BOUND);
	m_good(&m, DHCP6_REPLY, (xid + 1) & 0xffffff, sid, sizeof(sid), addr, c.iaid);
	CHECK_EQ(in(&c, &m, now + 3), 0);
	CHECK(c.st.late == 2 && c.st.drop == 2);
	/* T1: Renew to our server, until T2. */
	CHECK_EQ(tick(&c, c.t1 - 1), 0);
	CHECK_EQ(tick(&c, c.t1), DHCP6_EV_SEND);
	CHECK_EQ(out[0], DHCP6_RENEW);
	CHECK(sent_opt(DHCP6_OPT_SERVERID, &l) != NULL);
	o = sent_opt(DHCP6_OPT_IA_NA, &l);
	CHECK(o && !memcmp(o + 16, addr, 16));
	uint32_t rt = (uint32_t)(c.next - c.t1);
	CHECK(rt >= 9000 && rt <= 11000);       /* REN_TIMEOUT 10 s, randomized */
	/* Unanswered until T2: Rebind to any server, without a server id. */
	uint64_t t2 = c.t2;
	now = c.next;
	while (c.state == DHCP6_RENEWING && now < t2 + 1) {
		tick(&c, now);
		CHECK(c.next <= t2 || c.state != DHCP6_RENEWING);       /* never past MRD */
		now = c.next;
	}
	CHECK(c.state == DHCP6_REBINDING && out[0] == DHCP6_REBIND && !sent_opt(DHCP6_OPT_SERVERID, &l));
	/* Another server answers the Rebind with a new address: the old one goes. */
	m_good(&m, DHCP6_REPLY, sent_xid(), sid2, sizeof(sid2), addr2, c.iaid);
	CHECK_EQ(in(&c, &m, t2 + 10), DHCP6_EV_BOUND | DHCP6_EV_LOST);
	CHECK(!memcmp(c.addr, addr2, 16) && c.sid_len == sizeof(sid2));
	/* Renew unanswered, Rebind unanswered: at the valid lifetime the address is lost. */
	now = c.t1;
	uint64_t end = c.valid_end;
	unsigned ev = 0;
	while (now <= end && !(ev & DHCP6_EV_LOST)) {
		ev = tick(&c, now);
		now = dhcp6_due(&c);
	}
	CHECK(ev & DHCP6_EV_LOST);
	CHECK(c.state == DHCP6_SOLICITING && c.st.lost == 1);
}

/* m changes nothing in c but its drop count. */
static void dropped(struct dhcp6c *c, const struct dhcp6c *before, const struct msg *m, uint64_t now, uint64_t *drops,
		    const char *what)
{
	unsigned ev = in(c, m, now);
	bool same = c->state == before->state && c->best_pref == before->best_pref && c->rc == before->rc &&
		    c->xid == before->xid && c->st.rx == before->st.rx;
	CHECK(ev == 0 && c->st.drop == *drops + 1 && same);
	if (ev || c->st.drop != *drops + 1 || !same)
		fprintf(stderr, "  (%s)\n", what);
	*drops = c->st.drop;
}

static void t_drops(void)
{
	struct dhcp6c c;
	uint64_t t = to_solicit(&c);
	uint32_t xid = sent_xid();
	struct msg m;
	uint64_t drops = 0;
	struct dhcp6c before = c;
#define DROPPED(what) dropped(&c, &before, &m, t + 1, &drops, what)
	m_good(&m, DHCP6_ADVERTISE, xid ^ 1, sid, sizeof(sid), addr, c.iaid);
	DROPPED("wrong xid");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	m_ia(&m, c.iaid, 0, 0, addr, 3600, 7200, -1);
	DROPPED("no server id");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, addr, 3600, 7200, -1);
	DROPPED("no client id");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.b[4 + 4 + 9] ^= 1;                    /* another MAC in the client id */
	DROPPED("wrong client id");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.b[4 + 3] = 11;                        /* client id's length 11: runs into the next option */
	DROPPED("option length across the next");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.n -= 3;                               /* the last option cut short */
	DROPPED("truncated option");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.b[m.n - 40 + 2] = 0xff;               /* the IA_NA's length far past the message */
	DROPPED("option length beyond the message");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.b[m.n - 28 + 3] = 30;                 /* the IA Address's length past its IA_NA */
	DROPPED("sub-option length beyond its option");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	m.n = 3;
	DROPPED("shorter than a header");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	uint8_t *p = m_opt(&m, DHCP6_OPT_STATUS_CODE, 2);
	p[0] = 0, p[1] = DHCP6_ST_NOADDRSAVAIL;
	DROPPED("NoAddrsAvail");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, NULL, 0, 0, DHCP6_ST_NOADDRSAVAIL);
	DROPPED("NoAddrsAvail in the IA_NA");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid + 1);
	DROPPED("another IAID");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 3000, 2000, addr, 3600, 7200, -1);
	DROPPED("T1 beyond T2");
	m_start(&m, DHCP6_ADVERTISE, xid);
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, addr, 7200, 3600, -1);
	DROPPED("preferred beyond valid");
	m_good(&m, DHCP6_REPLY, xid, sid, sizeof(sid), addr, c.iaid);
	DROPPED("a Reply while soliciting");
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	*m_opt(&m, DHCP6_OPT_PREFERENCE, 2) = 255;
	DROPPED("preference of two bytes");
	CHECK_EQ(c.st.rx, 0);
	/* After all that the good one still works. */
	m_good(&m, DHCP6_ADVERTISE, xid, sid, sizeof(sid), addr, c.iaid);
	*m_opt(&m, DHCP6_OPT_PREFERENCE, 1) = 255;
	CHECK_EQ(in(&c, &m, t + 2), DHCP6_EV_SEND);
	CHECK_EQ(out[0], DHCP6_REQUEST);
	/* A Reply whose status is not Success changes nothing; nor one of NoAddrsAvail in the IA,
	 * which sends the client back to Solicit. */
	m_good(&m, DHCP6_REPLY, sent_xid(), sid, sizeof(sid), addr, c.iaid);
	p = m_opt(&m, DHCP6_OPT_STATUS_CODE, 2);
	p[0] = 0, p[1] = 1;                     /* UnspecFail */
	CHECK_EQ(in(&c, &m, t + 3), 0);
	CHECK(c.state == DHCP6_REQUESTING && c.st.drop == drops + 1);
	m_start(&m, DHCP6_REPLY, sent_xid());
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, NULL, 0, 0, DHCP6_ST_NOADDRSAVAIL);
	CHECK_EQ(in(&c, &m, t + 4), 0);
	CHECK(c.state == DHCP6_SOLICITING && c.st.drop == drops + 2);
}

/* Request unanswered REQ_MAX_RC times: Solicit again. NoBinding to a Renew: Request. T1 and T2 of
 * 0: 0.5 and 0.8 of the preferred lifetime. DAD failed: Decline, then Solicit once answered. */
static void t_more(void)
{
	struct dhcp6c c;
	uint64_t t = to_solicit(&c);
	struct msg m;
	m_good(&m, DHCP6_ADVERTISE, sent_xid(), sid, sizeof(sid), addr, c.iaid);
	*m_opt(&m, DHCP6_OPT_PREFERENCE, 1) = 255;
	in(&c, &m, t);
	int sends = 1;
	while (c.state == DHCP6_REQUESTING && sends < 50)
		sends += (tick(&c, c.next) & DHCP6_EV_SEND) && out[0] == DHCP6_REQUEST;
	CHECK_EQ(sends, 10);
	CHECK(c.state == DHCP6_SOLICITING && c.rt <= 33000);

	t = to_bound(&c);
	CHECK(c.state == DHCP6_BOUND);
	tick(&c, c.t1);
	CHECK(out[0] == DHCP6_RENEW);
	m_start(&m, DHCP6_REPLY, sent_xid());
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, NULL, 0, 0, DHCP6_ST_NOBINDING);
	CHECK_EQ(in(&c, &m, c.t1 + 5), DHCP6_EV_SEND);
	CHECK(out[0] == DHCP6_REQUEST && c.state == DHCP6_REQUESTING);
	uint64_t now = c.next - 1;
	m_start(&m, DHCP6_REPLY, sent_xid());
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	m_ia(&m, c.iaid, 0, 0, addr, 1000, DHCP6_INFINITE, -1);
	CHECK_EQ(in(&c, &m, now), DHCP6_EV_BOUND);
	CHECK(c.t1 == now + 500000 && c.t2 == now + 800000 && c.valid_end == UINT64_MAX);

	uint16_t l;
	CHECK_EQ(dhcp6_dad_failed(&c, now + 1, out, &out_len), DHCP6_EV_LOST | DHCP6_EV_SEND);
	CHECK(out[0] == DHCP6_DECLINE && sent_opt(DHCP6_OPT_SERVERID, &l));
	const uint8_t *o = sent_opt(DHCP6_OPT_IA_NA, &l);
	CHECK(o && l == 40 && !memcmp(o + 16, addr, 16));
	m_start(&m, DHCP6_REPLY, sent_xid());
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	CHECK_EQ(in(&c, &m, now + 2), 0);
	CHECK(c.state == DHCP6_SOLICITING && c.st.lost == 1);
	/* The link comes back: a bound client Rebinds at once (no server id), a soliciting one
	 * starts over. */
	to_bound(&c);
	dhcp6_link_up(&c, 5000);
	CHECK(c.state == DHCP6_REBINDING && c.mrd_end == c.valid_end);
	CHECK(tick(&c, 5000) == DHCP6_EV_SEND && out[0] == DHCP6_REBIND && !sent_opt(DHCP6_OPT_SERVERID, &l));
	to_solicit(&c);
	uint32_t x0 = c.xid;
	dhcp6_link_up(&c, 3000);
	CHECK(c.state == DHCP6_SOLICITING && c.rc == 0 && c.xid != x0);
	/* Declines unanswered: four, then Solicit. */
	to_bound(&c);
	dhcp6_dad_failed(&c, 0, out, &out_len);
	int decl = 1;
	for (int i = 0; i < 10 && c.state == DHCP6_DECLINING; i++)
		decl += (tick(&c, c.next) & DHCP6_EV_SEND) && out[0] == DHCP6_DECLINE;
	CHECK(decl == 4 && c.state == DHCP6_SOLICITING);
	/* A server's SOL_MAX_RT (60..86400 s) bounds the Solicit's retransmissions. */
	t = to_solicit(&c);
	m_start(&m, DHCP6_ADVERTISE, sent_xid());
	memcpy(m_opt(&m, DHCP6_OPT_CLIENTID, sizeof(duid)), duid, sizeof(duid));
	memcpy(m_opt(&m, DHCP6_OPT_SERVERID, sizeof(sid)), sid, sizeof(sid));
	p32(m_opt(&m, DHCP6_OPT_SOL_MAX_RT, 4), 120);
	m_ia(&m, c.iaid, 0, 0, NULL, 0, 0, DHCP6_ST_NOADDRSAVAIL);
	in(&c, &m, t + 1);
	CHECK_EQ(c.sol_max_rt, 120000);
	for (int i = 0; i < 20; i++)
		tick(&c, c.next);
	CHECK(c.rt >= 108000 && c.rt <= 132000);
}

/* Random damage to good Advertises and Replies, and random bytes: never a crash (the options
 * are walked within the message); whatever is not taken is counted. */
static void t_random(void)
{
	struct dhcp6c c;
	unsigned taken = 0, dropped = 0;
	for (int i = 0; i < 200000; i++) {
		if (i % 1000 == 0)
			to_solicit(&c);
		struct msg m;
		if (c.state == DHCP6_SOLICITING)
			m_good(&m, DHCP6_ADVERTISE, sent_xid(), sid, sizeof(sid), addr, c.iaid);
		else
			m_good(&m, DHCP6_REPLY, c.xid, sid, sizeof(sid), addr, c.iaid);
		int k = 1 + rnd() % 4;
		for (int j = 0; j < k; j++)
			m.b[rnd() % m.n] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			m.n = rnd() % (m.n + 1);
		if (rnd() % 8 == 0) {
			m.n = rnd() % sizeof(m.b);
			for (size_t j = 0; j < m.n; j++)
				m.b[j] = (uint8_t)rnd();
		}
		uint64_t d0 = c.st.drop, r0 = c.st.rx, l0 = c.st.late;
		in(&c, &m, 10);
		CHECK(c.st.drop + c.st.rx + c.st.late == d0 + r0 + l0 + 1);    /* each taken or counted */
		taken += c.st.rx != r0, dropped += c.st.drop != d0;
		CHECK(out_len <= DHCP6_MSG_MAX);
	}
	CHECK(taken > 1000 && dropped > 100000);
	printf("  random messages: %u taken, %u dropped\n", taken, dropped);
}

TEST_MAIN("test_dhcp6: RFC 8415 IA_NA client: Solicit/Advertise/Request/Reply, Renew at T1, Rebind at T2, loss at "
	  "the valid lifetime, Decline after DAD, randomized bounded retransmission; malformed and foreign messages "
	  "dropped and counted", {
	t_solicit();
	t_exchange();
	t_drops();
	t_more();
	t_random();
})
