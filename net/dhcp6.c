/* DHCPv6 client for one IA_NA address (RFC 8415): messages built and parsed, exchanges timed. */
#include <string.h>

#include "dhcp6.h"

/* Transmission parameters (RFC 8415 7.6), in ms. */
#define SOL_MAX_DELAY 1000
#define SOL_TIMEOUT 1000
#define SOL_MAX_RT 3600000
#define REQ_TIMEOUT 1000
#define REQ_MAX_RT 30000
#define REQ_MAX_RC 10
#define REN_TIMEOUT 10000
#define REN_MAX_RT 600000
#define REB_TIMEOUT 10000
#define REB_MAX_RT 600000
#define DEC_TIMEOUT 1000
#define DEC_MAX_RC 4
#define NEVER UINT64_MAX

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16), put16(p + 2, v);
}

void dhcp6_init(struct dhcp6c *c, const uint8_t mac[6], uint32_t (*rand)(void))
{
	*c = (struct dhcp6c){ .rand = rand, .state = DHCP6_IDLE, .sol_max_rt = SOL_MAX_RT, .prev_xid = 1u << 31 };
	c->duid[1] = 3;                 /* DUID-LL (11.4): type 3, hardware type 1 (Ethernet), the MAC */
	c->duid[3] = 1;
	memcpy(c->duid + 4, mac, 6);
	/* The IAID stays the same across restarts (RFC 8415 12): the MAC's last four bytes. */
	c->iaid = get32(mac + 2);
}

/* ---- messages ---- */

/* What a received message says, once every option's length has been checked against it. */
struct view {
	uint8_t type;
	uint32_t xid;
	const uint8_t *cid, *sid;
	uint16_t cid_len, sid_len;
	int status;                     /* the message's Status Code, -1: none */
	int pref;                       /* Preference, -1: none */
	uint32_t sol_max_rt;            /* s, 0: none */
	bool ia;                        /* an IA_NA with our IAID */
	uint32_t t1, t2;
	int ia_status;                  /* the IA_NA's Status Code, -1: none */
	bool has_addr;                  /* an IA Address in it, lifetimes consistent */
	uint8_t addr[16];
	uint32_t apref, avalid;
};

/* The options of an IA_NA (after IAID, T1, T2): its Status Code and first usable IA Address. */
static bool parse_ia(struct view *v, const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len;) {     /* each turn moves on 4 bytes at least */
		if (len - off < 4 || get16(p + off + 2) > len - off - 4)
			return false;
		uint16_t code = get16(p + off), olen = get16(p + off + 2);
		const uint8_t *o = p + off + 4;
		off += 4u + olen;
		if (code == DHCP6_OPT_STATUS_CODE) {
			if (olen < 2)
				return false;
			v->ia_status = get16(o);
		} else if (code == DHCP6_OPT_IAADDR) {
			if (olen < 24)
				return false;
			uint32_t pref = get32(o + 16), valid = get32(o + 20);
			/* A preferred lifetime beyond the valid one: the address is discarded (21.6). */
			if (v->has_addr || pref > valid || !valid)
				continue;
			v->has_addr = true;
			memcpy(v->addr, o, 16);
			v->apref = pref, v->avalid = valid;
		}
	}
	return true;
}

/* Parse m[0..len) into v; false when it is malformed (an option past the end, a fixed-size option
 * of another size). */
static bool parse(const struct dhcp6c *c, const uint8_t *m, size_t len, struct view *v)
{
	*v = (struct view){ .status = -1, .pref = -1, .ia_status = -1 };
	if (len < 4)
		return false;
	v->type = m[0];
	v->xid = (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	bool ia_seen = false;
	for (size_t off = 4; off < len;) {
		if (len - off < 4 || get16(m + off + 2) > len - off - 4)
			return false;
		uint16_t code = get16(m + off), olen = get16(m + off + 2);
		const uint8_t *o = m + off + 4;
		off += 4u + olen;
		switch (code) {
		case DHCP6_OPT_CLIENTID:
		case DHCP6_OPT_SERVERID:
			if (!olen || olen > DHCP6_DUID_MAX)
				return false;
			if (code == DHCP6_OPT_CLIENTID)
				v->cid = o, v->cid_len = olen;
			else
				v->sid = o, v->sid_len = olen;
			break;
		case DHCP6_OPT_STATUS_CODE:
			if (olen < 2)
				return false;
			v->status = get16(o);
			break;
		case DHCP6_OPT_PREFERENCE:
			if (olen != 1)
				return false;
			v->pref = o[0];
			break;
		case DHCP6_OPT_SOL_MAX_RT:
			if (olen != 4)
				return false;
			v->sol_max_rt = get32(o);
			break;
		case DHCP6_OPT_IA_NA:
			if (olen < 12)
				return false;
			if (ia_seen || get32(o) != c->iaid)
				break;          /* the first IA_NA of ours counts */
			ia_seen = true;
			if (!parse_ia(v, o + 12, olen - 12u))
				return false;
			v->t1 = get32(o + 4), v->t2 = get32(o + 8);
			/* T1 beyond T2: the client discards the IA_NA (21.4). */
			v->ia = !(v->t1 && v->t2 && v->t1 > v->t2);
			if (!v->ia)
				v->has_addr = false, v->ia_status = -1;
			break;
		default:
			break;
		}
	}
	return true;
}

/* Start an option at *n in out: its header, then the caller's body of len bytes. */
static uint8_t *opt(uint8_t *out, size_t *n, uint16_t code, uint16_t len)
{
	uint8_t *p = out + *n;
	put16(p, code);
	put16(p + 2, len);
	*n += 4u + len;
	return p + 4;
}

/* The message of the current state, into out (DHCP6_MSG_MAX bytes); returns its length. */
static size_t build(struct dhcp6c *c, uint64_t now, uint8_t *out)
{
	static const uint8_t type_of[] = {
		[DHCP6_SOLICITING] = DHCP6_SOLICIT, [DHCP6_REQUESTING] = DHCP6_REQUEST, [DHCP6_RENEWING] = DHCP6_RENEW,
		[DHCP6_REBINDING] = DHCP6_REBIND, [DHCP6_DECLINING] = DHCP6_DECLINE,
	};
	size_t n = 4;
	out[0] = type_of[c->state];
	out[1] = (uint8_t)(c->xid >> 16), out[2] = (uint8_t)(c->xid >> 8), out[3] = (uint8_t)c->xid;
	memcpy(opt(out, &n, DHCP6_OPT_CLIENTID, sizeof(c->duid)), c->duid, sizeof(c->duid));
	/* Renew, Decline and Request go to the server chosen; Solicit and Rebind to any (18.2). */
	if (c->state == DHCP6_REQUESTING || c->state == DHCP6_RENEWING || c->state == DHCP6_DECLINING)
		memcpy(opt(out, &n, DHCP6_OPT_SERVERID, c->sid_len), c->sid, c->sid_len);
	/* Elapsed time in hundredths of a second since the exchange began, 0xffff at most (21.9). */
	uint64_t el = c->rc ? (now - c->start) / 10 : 0;
	put16(opt(out, &n, DHCP6_OPT_ELAPSED_TIME, 2), el > 0xffff ? 0xffff : (uint32_t)el);
	if (c->state != DHCP6_DECLINING)       /* SOL_MAX_RT is asked for in these four (21.24) */
		put16(opt(out, &n, DHCP6_OPT_ORO, 2), DHCP6_OPT_SOL_MAX_RT);
	bool with_addr = c->state != DHCP6_SOLICITING;
	uint8_t *ia = opt(out, &n, DHCP6_OPT_IA_NA, (uint16_t)(12 + (with_addr ? 4 + 24 : 0)));
	put32(ia, c->iaid);
	put32(ia + 4, 0);               /* T1 and T2: the server's choice */
	put32(ia + 8, 0);
	if (with_addr) {
		put16(ia + 12, DHCP6_OPT_IAADDR);
		put16(ia + 14, 24);
		memcpy(ia + 16, c->addr, 16);
		put32(ia + 32, 0);      /* lifetimes: the server's choice too */
		put32(ia + 36, 0);
	}
	return n;
}

/* r randomized by a factor in [-0.1, 0.1] (15), or (0, 0.1] for the first Solicit (18.2.1). */
static uint32_t jitter(struct dhcp6c *c, uint32_t r, bool positive)
{
	uint32_t span = r / 10;
	if (!span)
		return r;
	if (positive)
		return r + 1 + c->rand() % span;
	return r - span + c->rand() % (2 * span + 1);
}

/* Send the current state's message now and time the next one (RFC 8415 15). */
static unsigned transmit(struct dhcp6c *c, uint64_t now, uint8_t *out, size_t *out_len)
{
	static const uint32_t irt[] = {
		[DHCP6_SOLICITING] = SOL_TIMEOUT, [DHCP6_REQUESTING] = REQ_TIMEOUT, [DHCP6_RENEWING] = REN_TIMEOUT,
		[DHCP6_REBINDING] = REB_TIMEOUT, [DHCP6_DECLINING] = DEC_TIMEOUT,
	};
	uint32_t mrt = c->state == DHCP6_SOLICITING ? c->sol_max_rt : c->state == DHCP6_REQUESTING ? REQ_MAX_RT :
		       c->state == DHCP6_DECLINING ? 0 : c->state == DHCP6_RENEWING ? REN_MAX_RT : REB_MAX_RT;
	if (!c->rc) {
		c->start = now;
		c->rt = jitter(c, irt[c->state], c->state == DHCP6_SOLICITING);
	} else {
		uint64_t r = 2ull * c->rt;
		c->rt = (uint32_t)(r > 0xffffffffu ? 0xffffffffu : r);
		c->rt = jitter(c, c->rt, false);
		if (mrt && c->rt > mrt)
			c->rt = jitter(c, mrt, false);
	}
	*out_len = build(c, now, out);
	c->rc++;
	c->next = now + c->rt;
	if (c->mrd_end != NEVER && c->next > c->mrd_end)
		c->next = c->mrd_end;   /* the exchange ends there (MRD) */
	c->st.tx++;
	return DHCP6_EV_SEND;
}

/* A new exchange in state s: a fresh transaction id, counts from zero. */
static void exchange(struct dhcp6c *c, enum dhcp6_state s, uint64_t now, uint64_t mrd_end)
{
	c->state = s;
	c->prev_xid = c->rc ? c->xid : 1u << 31;
	c->xid = c->rand() & 0xffffff;
	c->rc = 0;
	c->next = now;
	c->mrd_end = mrd_end;
}

static void solicit(struct dhcp6c *c, uint64_t now, uint32_t delay)
{
	exchange(c, DHCP6_SOLICITING, now + delay, NEVER);
	c->best_pref = -1;
	c->sid_len = 0;
}

void dhcp6_start(struct dhcp6c *c, uint64_t now)
{
	if (c->state == DHCP6_IDLE)
		solicit(c, now, c->rand() % (SOL_MAX_DELAY + 1));
}

uint64_t dhcp6_due(const struct dhcp6c *c)
{
	switch (c->state) {
	case DHCP6_IDLE:
		return NEVER;
	case DHCP6_BOUND:
		return c->t1 < c->valid_end ? c->t1 : c->valid_end;
	case DHCP6_RENEWING:
	case DHCP6_REBINDING:
		return c->next < c->valid_end ? c->next : c->valid_end;
	default:
		return c->next;
	}
}

/* seconds after now, UINT64_MAX for infinity (0xffffffff, 7.7). */
static uint64_t after(uint64_t now, uint32_t s)
{
	return s == DHCP6_INFINITE ? NEVER : now + (uint64_t)s * 1000;
}

/* Take the lease a Reply gave: lifetimes and T1/T2 from now (the Reply's arrival). */
static unsigned bind(struct dhcp6c *c, const struct view *v, uint64_t now)
{
	unsigned ev = DHCP6_EV_BOUND;
	if (c->state != DHCP6_REQUESTING && memcmp(c->addr, v->addr, 16))
		ev |= DHCP6_EV_LOST;    /* a Rebind brought another address: the old one goes */
	memcpy(c->addr, v->addr, 16);
	c->pref_s = v->apref, c->valid_s = v->avalid;
	c->pref_end = after(now, v->apref);
	c->valid_end = after(now, v->avalid);
	/* T1 or T2 left to the client: 0.5 and 0.8 of the preferred lifetime (21.4). */
	uint32_t t1 = v->t1, t2 = v->t2;
	if (!t1 || !t2) {
		t1 = v->apref == DHCP6_INFINITE ? DHCP6_INFINITE : v->apref / 2;
		t2 = v->apref == DHCP6_INFINITE ? DHCP6_INFINITE : (uint32_t)((uint64_t)v->apref * 4 / 5);
	}
	c->t1 = after(now, t1);
	c->t2 = after(now, t2);
	c->state = DHCP6_BOUND;
	c->st.bound++;
	c->st.rx++;
	return ev;
}

static unsigned drop(struct dhcp6c *c)
{
	c->st.drop++;
	return 0;
}

unsigned dhcp6_input(struct dhcp6c *c, const uint8_t *m, size_t len, uint64_t now, uint8_t *out, size_t *out_len)
{
	struct view v;
	if (!parse(c, m, len, &v))
		return drop(c);
	/* The exchange before, or the one that bound us (Request, Renew, Rebind), answered again. */
	bool ended = v.xid == c->prev_xid || (c->state == DHCP6_BOUND && v.xid == c->xid);
	if (ended && (v.type == DHCP6_ADVERTISE || v.type == DHCP6_REPLY)) {
		c->st.late++;           /* answered twice: the exchange took the first */
		return 0;
	}
	bool want_adv = c->state == DHCP6_SOLICITING && v.type == DHCP6_ADVERTISE;
	bool want_reply = v.type == DHCP6_REPLY && (c->state == DHCP6_REQUESTING || c->state == DHCP6_RENEWING ||
						   c->state == DHCP6_REBINDING || c->state == DHCP6_DECLINING);
	/* Ours: the exchange's transaction id, our DUID, and a server's (16.3, 16.10). */
	if ((!want_adv && !want_reply) || !c->rc || v.xid != c->xid || v.cid_len != sizeof(c->duid) ||
	    memcmp(v.cid, c->duid, sizeof(c->duid)) || !v.sid)
		return drop(c);
	/* Request, Renew and Decline went to one server: its answer only. */
	bool one_server = c->state == DHCP6_REQUESTING || c->state == DHCP6_RENEWING || c->state == DHCP6_DECLINING;
	if (want_reply && one_server && (v.sid_len != c->sid_len || memcmp(v.sid, c->sid, c->sid_len)))
		return drop(c);
	if (v.sol_max_rt >= 60 && v.sol_max_rt <= 86400)        /* 21.24: other values ignored */
		c->sol_max_rt = v.sol_max_rt * 1000;
	if (c->state == DHCP6_DECLINING) {      /* any Reply ends the Decline (18.2.10.1): start over */
		c->st.rx++;
		solicit(c, now, 0);
		return 0;
	}
	if (want_adv) {
		/* An Advertise without an address for us is of no use (NoAddrsAvail, 18.2.9). */
		if ((v.status > 0) || !v.ia || !v.has_addr || v.ia_status > 0)
			return drop(c);
		int pref = v.pref < 0 ? 0 : v.pref;
		c->st.rx++;
		if (pref > c->best_pref) {
			c->best_pref = (int16_t)pref;
			memcpy(c->sid, v.sid, v.sid_len);
			c->sid_len = v.sid_len;
			memcpy(c->addr, v.addr, 16);
		}
		/* Preference 255, or the first RT is over: take it now; else wait out the first RT for
		 * the best (18.2.1). */
		if (pref == 255 || c->rc > 1) {
			exchange(c, DHCP6_REQUESTING, now, NEVER);
			return transmit(c, now, out, out_len);
		}
		return 0;
	}
	/* A Reply to Request, Renew or Rebind. */
	if (v.status > 0)
		return drop(c);         /* UnspecFail, UseMulticast (we multicast anyway): retransmit */
	if (v.ia && v.has_addr) {
		if (c->state == DHCP6_REBINDING) {
			memcpy(c->sid, v.sid, v.sid_len);   /* the server that answered serves the renewals */
			c->sid_len = v.sid_len;
		}
		return bind(c, &v, now);
	}
	if (v.ia && v.ia_status == DHCP6_ST_NOBINDING && c->state != DHCP6_REQUESTING) {
		/* The server lost our binding: ask for it again (18.2.10.1). */
		c->st.rx++;
		if (c->state == DHCP6_REBINDING) {
			memcpy(c->sid, v.sid, v.sid_len);
			c->sid_len = v.sid_len;
		}
		exchange(c, DHCP6_REQUESTING, now, NEVER);
		return transmit(c, now, out, out_len);
	}
	if (c->state == DHCP6_REQUESTING && v.ia && v.ia_status == DHCP6_ST_NOADDRSAVAIL) {
		c->st.drop++;           /* refused: look for another server, after a while */
		solicit(c, now, SOL_TIMEOUT);
		return 0;
	}
	return drop(c);
}

unsigned dhcp6_tick(struct dhcp6c *c, uint64_t now, uint8_t *out, size_t *out_len)
{
	unsigned ev = 0;
	if (c->state >= DHCP6_BOUND && c->state != DHCP6_DECLINING && now >= c->valid_end) {
		c->st.lost++;           /* the lease ran out: no address, start over */
		solicit(c, now, 0);
		ev |= DHCP6_EV_LOST;
	}
	switch (c->state) {
	case DHCP6_IDLE:
		return ev;
	case DHCP6_BOUND:
		if (now < c->t1)
			return ev;
		exchange(c, DHCP6_RENEWING, now, c->t2 < c->valid_end ? c->t2 : c->valid_end);
		break;
	case DHCP6_SOLICITING:
		if (now < c->next)
			return ev;
		if (c->rc && c->best_pref >= 0) {      /* the first RT is over: the best Advertise */
			exchange(c, DHCP6_REQUESTING, now, NEVER);
			break;
		}
		break;
	case DHCP6_REQUESTING:
		if (now < c->next)
			return ev;
		if (c->rc >= REQ_MAX_RC)
			solicit(c, now, 0);     /* the server stopped answering: another one */
		break;
	case DHCP6_RENEWING:
		if (now < c->next)
			return ev;
		if (now >= c->mrd_end)
			exchange(c, DHCP6_REBINDING, now, c->valid_end);
		break;
	case DHCP6_REBINDING:
		if (now < c->next)
			return ev;
		break;
	case DHCP6_DECLINING:
		if (now < c->next)
			return ev;
		if (c->rc >= DEC_MAX_RC) {
			solicit(c, now, 0);
			return ev;
		}
		break;
	}
	if (now < c->next)
		return ev;
	return ev | transmit(c, now, out, out_len);
}

void dhcp6_link_up(struct dhcp6c *c, uint64_t now)
{
	if (c->state == DHCP6_BOUND || c->state == DHCP6_RENEWING || c->state == DHCP6_REBINDING)
		exchange(c, DHCP6_REBINDING, now, c->valid_end);
	else if (c->state == DHCP6_SOLICITING || c->state == DHCP6_REQUESTING)
		solicit(c, now, 0);     /* what was heard before may be another network's */
}

unsigned dhcp6_dad_failed(struct dhcp6c *c, uint64_t now, uint8_t *out, size_t *out_len)
{
	if (c->state < DHCP6_BOUND || c->state == DHCP6_DECLINING)
		return 0;
	c->st.lost++;
	exchange(c, DHCP6_DECLINING, now, NEVER);
	return DHCP6_EV_LOST | transmit(c, now, out, out_len);
}
