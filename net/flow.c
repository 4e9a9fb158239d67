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
	for (unsigned i = 0; i < 12; i++) {
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

uint32_t flow_hash(const struct flow_key *k, const uint8_t *in, unsigned len)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < len && i < 12; i++)
		h ^= k->win[i][in[i]];
	return h;
}

/* Hash of the 4-tuple seen from the peer: ip[12..20) addresses, l4[0..4) ports, or swapped. */
static uint32_t hash4(const struct flow_key *k, const uint8_t *ip, const uint8_t *l4, bool swap)
{
	uint8_t in[12];
	for (unsigned i = 0; i < 4; i++) {
		in[i] = ip[(swap ? 16 : 12) + i];
		in[4 + i] = ip[(swap ? 12 : 16) + i];
	}
	for (unsigned i = 0; i < 2; i++) {
		in[8 + i] = l4[(swap ? 2 : 0) + i];
		in[10 + i] = l4[(swap ? 0 : 2) + i];
	}
	return flow_hash(k, in, 12);
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

enum flow_kind flow_classify(const struct flow_key *k, const uint8_t *f, uint32_t len, bool hash_all,
			     struct flow_info *fi)
{
	if (len < 14)
		return FLOW_LOCAL;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806)
		return FLOW_EVERY_CORE;
	if (type != 0x0800 || len < 14 + 20)
		return FLOW_LOCAL;
	const uint8_t *ip = f + 14;
	uint32_t ihl = (ip[0] & 0xfu) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl)
		return FLOW_LOCAL;
	uint8_t proto = ip[9];
	bool later = (ip[6] & 0x1f) || ip[7];   /* a fragment offset: no L4 header here */
	bool frag = later || (ip[6] & 0x20);    /* or MF */
	const uint8_t *l4 = ip + ihl;
	bool ports = !later && (proto == 6 || proto == 17) && len >= 14 + ihl + 4;
	if (frag) {
		fi->frag[0] = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
		fi->frag[1] = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
		fi->frag[2] = (uint32_t)ip[4] << 24 | (uint32_t)ip[5] << 16 | proto;
		fi->first = !later;
		fi->hash = ports ? hash4(k, ip, l4, false) : flow_hash(k, ip + 12, 8);
		return FLOW_FRAG;
	}
	if (ports && proto == 17 && l4[2] == 0 && l4[3] == 68)
		return FLOW_DHCP_CLIENT;
	if (ports) {
		if (hash_all)
			fi->hash = hash4(k, ip, l4, false);
		return FLOW_HASHED;
	}
	if (proto == 1 && len >= 14 + ihl + 8) {
		enum flow_kind kind = icmp_error(k, l4, len - 14 - ihl, fi);
		if (kind == FLOW_ICMP_ERR)
			return kind;
	}
	if (hash_all)
		fi->hash = flow_hash(k, ip + 12, 8);
	return FLOW_ADDR;
}
