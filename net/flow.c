/* Toeplitz flow hash (as specified for RSS) and frame classification for software steering. */
#include "flow.h"

/* The 32 key bits starting at bit `bit` (bit 0 = the top bit of key[0]). */
static uint32_t key_window(const uint8_t key[FLOW_KEY_LEN], unsigned bit)
{
	unsigned byte = bit / 8, sh = bit % 8;
	uint64_t w = 0;
	for (unsigned i = 0; i < 5; i++)
		w = w << 8 | (byte + i < FLOW_KEY_LEN ? key[byte + i] : 0);
	return (uint32_t)(w >> (8 - sh));
}

uint32_t flow_hash_slow(const uint8_t key[FLOW_KEY_LEN], const uint8_t *in, unsigned len)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < len; i++)
		for (unsigned b = 0; b < 8; b++)
			if (in[i] & (0x80 >> b))
				h ^= key_window(key, i * 8 + b);
	return h;
}

void flow_key_init(struct flow_key *k, const uint8_t key[FLOW_KEY_LEN])
{
	for (unsigned i = 0; i < FLOW_KEY_LEN; i++)
		k->key[i] = key[i];
	for (unsigned i = 0; i < FLOW_IN_MAX; i++) {
		uint32_t bitwin[8];
		for (unsigned b = 0; b < 8; b++)
			bitwin[b] = key_window(key, i * 8 + b);
		for (unsigned v = 0; v < 256; v++) {
			uint32_t h = 0;
			for (unsigned b = 0; b < 8; b++)
				if (v & (0x80 >> b))
					h ^= bitwin[b];
			k->win[i][v] = h;
		}
	}
}

/* The hash of p[0..n) placed at input position pos. Toeplitz is linear (an XOR of one window per
 * set bit), so a tuple is hashed in pieces where they lie in the frame, in either direction,
 * without gathering it first. */
static uint32_t part(const struct flow_key *k, unsigned pos, const uint8_t *p, unsigned n)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < n; i++)
		h ^= k->win[pos + i][p[i]];
	return h;
}

uint32_t flow_hash(const struct flow_key *k, const uint8_t *in, unsigned len)
{
	return part(k, 0, in, len < FLOW_IN_MAX ? len : FLOW_IN_MAX);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- IPv4 ---- */

/* Hash of the 4-tuple seen from the peer: ip[12..20) addresses, l4[0..4) ports, or swapped. */
static uint32_t hash4(const struct flow_key *k, const uint8_t *ip, const uint8_t *l4, bool swap)
{
	return part(k, 0, ip + (swap ? 16 : 12), 4) ^ part(k, 4, ip + (swap ? 12 : 16), 4) ^
	       part(k, 8, l4 + (swap ? 2 : 0), 2) ^ part(k, 10, l4 + (swap ? 0 : 2), 2);
}

/* The quoted datagram of an ICMP error: our TCP/UDP header's flow, or FLOW_ADDR. */
static enum flow_kind icmp_error(const struct flow_key *k, const uint8_t *icmp, uint32_t room, struct flow_info *fi)
{
	uint8_t type = icmp[0];
	if (type != 3 && type != 4 && type != 5 && type != 11 && type != 12)
		return FLOW_ADDR;
	const uint8_t *in = icmp + 8;
	if (room < 8 + 20)
		return FLOW_ADDR;
	uint32_t ihl = (in[0] & 0xfu) * 4;
	if ((in[0] >> 4) != 4 || ihl < 20 || room < 8 + ihl + 4 || (in[9] != 6 && in[9] != 17))
		return FLOW_ADDR;
	if ((in[6] & 0x1f) || in[7])
		return FLOW_ADDR;       /* quotes a later fragment: no ports */
	fi->hash = hash4(k, in, in + ihl, true);   /* we sent it: the peer's view swaps both pairs */
	return FLOW_ICMP_ERR;
}

static enum flow_kind classify4(const struct flow_key *k, const uint8_t *ip, uint32_t room, bool hash_all,
				struct flow_info *fi)
{
	if (room < 20)
		return FLOW_LOCAL;
	uint32_t ihl = (ip[0] & 0xfu) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || room < ihl)
		return FLOW_LOCAL;
	uint8_t proto = ip[9];
	bool later = (ip[6] & 0x1f) || ip[7];   /* a fragment offset: no L4 header here */
	bool frag = later || (ip[6] & 0x20);    /* or MF */
	const uint8_t *l4 = ip + ihl;
	bool ports = !later && (proto == 6 || proto == 17) && room >= ihl + 4;
	if (frag) {
		for (unsigned i = 0; i < FLOW_FRAG_WORDS; i++)
			fi->frag[i] = 0;
		fi->frag[0] = get32(ip + 12);
		fi->frag[4] = get32(ip + 16);
		fi->frag[8] = (uint32_t)ip[4] << 8 | ip[5];
		fi->frag[9] = 4u << 8 | proto;
		fi->first = !later;
		fi->hash = ports ? hash4(k, ip, l4, false) : part(k, 0, ip + 12, 8);
		return FLOW_FRAG;
	}
	if (ports && proto == 17 && l4[2] == 0 && l4[3] == 68)
		return FLOW_DHCP_CLIENT;
	if (ports) {
		if (hash_all)
			fi->hash = hash4(k, ip, l4, false);
		return FLOW_HASHED;
	}
	if (proto == 1 && room >= ihl + 8) {
		enum flow_kind kind = icmp_error(k, l4, room - ihl, fi);
		if (kind == FLOW_ICMP_ERR)
			return kind;
	}
	if (hash_all)
		fi->hash = part(k, 0, ip + 12, 8);
	return FLOW_ADDR;
}

/* ---- IPv6 ---- */

/* Hash of an IPv6 flow: the addresses at ip[8..40), with l4's ports unless l4 is NULL; swap: seen
 * from the other end. */
static uint32_t hash6(const struct flow_key *k, const uint8_t *ip, const uint8_t *l4, bool swap)
{
	uint32_t h = part(k, 0, ip + (swap ? 24 : 8), 16) ^ part(k, 16, ip + (swap ? 8 : 24), 16);
	if (l4)
		h ^= part(k, 32, l4 + (swap ? 2 : 0), 2) ^ part(k, 34, l4 + (swap ? 0 : 2), 2);
	return h;
}

/* Where an IPv6 header chain leads. */
struct chain {
	uint32_t off;           /* the upper-layer header, from the IPv6 header */
	uint8_t proto;          /* which (its Next Header value; 59: none) */
	bool frag;              /* a Fragment header was passed */
	bool later;             /* with a non-zero offset: the rest is payload, no upper-layer header */
	uint32_t id;            /* the Fragment header's Identification */
};

/*
 * Walk the extension headers of the IPv6 packet ip[0..end), end >= 40: hop-by-hop (first only, RFC
 * 8200 4.1), routing, destination options and fragment, at most FLOW_EXT_MAX, each within end.
 * Anything else is the upper layer (AH and ESP included: the stacks handle neither, and drop
 * them wherever they land). False when the chain cannot be walked.
 */
static bool walk6(const uint8_t *ip, uint32_t end, struct chain *c)
{
	uint8_t nh = ip[6];
	uint32_t off = 40;
	c->frag = c->later = false;
	c->id = 0;
	for (unsigned n = 0;; n++) {
		if (nh != 0 && nh != 43 && nh != 44 && nh != 60) {
			c->proto = nh;
			c->off = off;
			return true;
		}
		if (n == FLOW_EXT_MAX || end - off < 8 || (nh == 0 && n))
			return false;   /* one too many, cut short, or hop-by-hop after another */
		const uint8_t *h = ip + off;
		uint32_t hl = nh == 44 ? 8 : (h[1] + 1u) * 8;
		if (hl > end - off)
			return false;
		if (nh == 44) {
			if (c->frag)
				return false;   /* a second fragment header: no such packet is sent */
			c->frag = true;
			c->id = get32(h + 4);
			if ((h[2] << 8 | h[3]) & 0xfff8) {
				c->later = true;        /* what follows is the datagram's middle */
				c->proto = h[0];
				c->off = off + 8;
				return true;
			}
		}
		nh = h[0];
		off += hl;
	}
}

/* The quoted packet of an ICMPv6 error (icmp[0..room)): our TCP/UDP header's flow, or for another
 * protocol (ICMPv6: an echo reply too big for the path) the flow of its two addresses. */
static bool icmp6_error(const struct flow_key *k, const uint8_t *icmp, uint32_t room, struct flow_info *fi)
{
	if (icmp[0] < 1 || icmp[0] > 4 || room < 8 + 40)
		return false;
	const uint8_t *in = icmp + 8;
	struct chain c;
	/* The quote is cut wherever the sender's limit fell (1280 bytes in all): its own payload
	 * length says nothing about what is here. */
	if ((in[0] >> 4) != 6 || !walk6(in, room - 8, &c) || c.later)
		return false;
	/* we sent it: the peer's view swaps both pairs; a quote of other than TCP or UDP (an ICMPv6
	 * echo reply too big for the path) belongs to the core its addresses name, as the request did */
	if (c.proto != 6 && c.proto != 17)
		fi->hash = hash6(k, in, 0, true);
	else if (room - 8 - c.off >= 4)
		fi->hash = hash6(k, in, in + c.off, true);
	else
		return false;                           /* cut before the ports */
	return true;
}

static enum flow_kind classify6(const struct flow_key *k, const uint8_t *ip, uint32_t room, bool hash_all,
				struct flow_info *fi)
{
	if (room < 40 || (ip[0] >> 4) != 6)
		return FLOW_LOCAL;
	/* The packet ends at its payload length (Ethernet pads short frames), or at the frame's end
	 * when it claims more (the stack drops it; it is only walked within what is there). */
	uint32_t plen = (uint32_t)ip[4] << 8 | ip[5], end = plen <= room - 40 ? 40 + plen : room;
	struct chain c;
	if (!walk6(ip, end, &c))
		return FLOW_BAD;
	const uint8_t *l4 = ip + c.off;
	bool ports = !c.later && (c.proto == 6 || c.proto == 17) && end - c.off >= 4;
	if (c.frag) {
		/* An atomic fragment (offset 0, no more) is one too: the NIC places every packet with a
		 * fragment header by its addresses, so it is steered like a first. */
		for (unsigned i = 0; i < 4; i++) {
			fi->frag[i] = get32(ip + 8 + 4 * i);
			fi->frag[4 + i] = get32(ip + 24 + 4 * i);
		}
		fi->frag[8] = c.id;
		fi->frag[9] = 6u << 8;
		fi->first = !c.later;
		fi->hash = hash6(k, ip, ports ? l4 : 0, false);
		return FLOW_FRAG;
	}
	if (ports && c.proto == 17 && l4[2] == 546 >> 8 && l4[3] == (546 & 0xff))
		return FLOW_DHCP_CLIENT;
	if (ports) {
		if (hash_all)
			fi->hash = hash6(k, ip, l4, false);
		return FLOW_HASHED;
	}
	if (c.proto == 58 && end - c.off >= 4) {
		/* What a stack learns from (reports, solicitations and advertisements, redirects) every
		 * core sees; what it answers (an MLD query, a neighbour solicitation resolving or probing
		 * our address) one core answers, as for ARP: any one, since every core joins the same
		 * groups and holds the same addresses. A DAD probe, from the unspecified address, is
		 * for every core: one whose address is still tentative learns it is taken. */
		uint8_t type = l4[0];
		bool from_any = true;
		for (unsigned i = 8; i < 24; i++)
			from_any &= ip[i] == 0;
		if ((type >= 131 && type <= 137 && (type != 135 || from_any)) || type == 143)
			return FLOW_EVERY_CORE;
		if (icmp6_error(k, l4, end - c.off, fi))
			return FLOW_ICMP_ERR;
	}
	if (hash_all)
		fi->hash = hash6(k, ip, 0, false);
	return FLOW_ADDR;
}

enum flow_kind flow_classify(const struct flow_key *k, const uint8_t *f, uint32_t len, bool hash_all,
			     struct flow_info *fi)
{
	if (len < 14)
		return FLOW_LOCAL;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806)
		return FLOW_EVERY_CORE;
	if (type == 0x0800)
		return classify4(k, f + 14, len - 14, hash_all, fi);
	if (type == 0x86dd)
		return classify6(k, f + 14, len - 14, hash_all, fi);
	return FLOW_LOCAL;
}
