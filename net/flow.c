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

enum flow_kind flow_classify(const struct flow_key *k, const uint8_t *f, uint32_t len, uint32_t *hash)
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
	uint8_t in[12];
	for (unsigned i = 0; i < 8; i++)
		in[i] = ip[12 + i];             /* source then destination address */
	bool frag = (ip[6] & 0x3f) || ip[7];    /* MF or a fragment offset */
	uint8_t proto = ip[9];
	if (frag || (proto != 6 && proto != 17) || len < 14 + ihl + 4) {
		if (k)
			*hash = flow_hash(k, in, 8);
		return FLOW_HASHED;
	}
	const uint8_t *l4 = ip + ihl;
	if (proto == 17 && l4[2] == 0 && l4[3] == 68)
		return FLOW_DHCP_CLIENT;
	if (!k)
		return FLOW_HASHED;
	for (unsigned i = 0; i < 4; i++)
		in[8 + i] = l4[i];              /* source then destination port */
	*hash = flow_hash(k, in, 12);
	return FLOW_HASHED;
}
