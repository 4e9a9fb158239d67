/* fuzz_dhcp6: net/dhcp6.c's client fed any messages in any of its states: no read past a message
 * (each in a buffer of its own size), every message taken, ignored as late or counted as dropped,
 * what it sends fits its buffer, and its timers always come due (libFuzzer, ASan, UBSan).
 * Input: one byte choosing how far the client gets with a good server first (soliciting,
 * requesting, bound, renewing, rebinding, declining), then messages of 2-byte length and bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t seed;
static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* A good answer of type to the client's current exchange: client id, server id, one address. */
static size_t good(const struct dhcp6c *c, uint8_t type, uint8_t *m)
{
	static const uint8_t sid[10] = { 0, 3, 0, 1, 1, 2, 3, 4, 5, 6 };
	static const uint8_t addr[16] = { 0xfd, [15] = 0x42 };
	size_t n = 0;
	m[n++] = type, m[n++] = (uint8_t)(c->xid >> 16), m[n++] = (uint8_t)(c->xid >> 8), m[n++] = (uint8_t)c->xid;
	m[n++] = 0, m[n++] = DHCP6_OPT_CLIENTID, m[n++] = 0, m[n++] = sizeof(c->duid);
	memcpy(m + n, c->duid, sizeof(c->duid)), n += sizeof(c->duid);
	m[n++] = 0, m[n++] = DHCP6_OPT_SERVERID, m[n++] = 0, m[n++] = sizeof(sid);
	memcpy(m + n, sid, sizeof(sid)), n += sizeof(sid);
	m[n++] = 0, m[n++] = DHCP6_OPT_PREFERENCE, m[n++] = 0, m[n++] = 1, m[n++] = 255;
	const uint8_t ia[] = { 0, DHCP6_OPT_IA_NA, 0, 40, (uint8_t)(c->iaid >> 24), (uint8_t)(c->iaid >> 16),
			       (uint8_t)(c->iaid >> 8), (uint8_t)c->iaid, 0, 0, 0, 100, 0, 0, 0, 160,
			       0, DHCP6_OPT_IAADDR, 0, 24 };
	memcpy(m + n, ia, sizeof(ia)), n += sizeof(ia);
	memcpy(m + n, addr, 16), n += 16;
	const uint8_t life[] = { 0, 0, 0, 200, 0, 0, 1, 44 };
	memcpy(m + n, life, sizeof(life)), n += sizeof(life);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	static uint8_t out[DHCP6_MSG_MAX], g[128];
	size_t out_len = 0;
	struct dhcp6c c;
	seed = 7;
	dhcp6_init(&c, mac, rnd);
	uint64_t now = 0;
	dhcp6_start(&c, now);
	unsigned stage = data[0] % 6;
	now = dhcp6_due(&c);
	dhcp6_tick(&c, now, out, &out_len);                     /* Solicit */
	if (stage >= 1)
		dhcp6_input(&c, g, good(&c, DHCP6_ADVERTISE, g), now, out, &out_len);   /* Request */
	if (stage >= 2)
		dhcp6_input(&c, g, good(&c, DHCP6_REPLY, g), now, out, &out_len);       /* bound */
	if (stage == 3 || stage == 4) {
		now = c.t1;
		dhcp6_tick(&c, now, out, &out_len);             /* Renew */
	}
	if (stage == 4) {
		now = c.t2;
		dhcp6_tick(&c, now, out, &out_len);             /* Rebind */
	}
	if (stage == 5)
		dhcp6_dad_failed(&c, now, out, &out_len);       /* Decline */
	for (size_t off = 1; off + 2 <= size;) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]) % 1500;
		off += 2;
		if (len > size - off)
			len = size - off;
		uint8_t *m = malloc(len ? len : 1);
		memcpy(m, data + off, len);
		off += len;
		uint64_t before = c.st.drop + c.st.rx + c.st.late;
		out_len = 0;
		dhcp6_input(&c, m, len, now, out, &out_len);
		free(m);
		if (c.st.drop + c.st.rx + c.st.late != before + 1 || out_len > DHCP6_MSG_MAX)
			abort();
		/* Time moves on to the next thing due, which is never in the past or never. */
		uint64_t due = dhcp6_due(&c);
		if (due < now && c.state != DHCP6_IDLE)
			abort();
		if (due != UINT64_MAX) {
			now = due;
			out_len = 0;
			dhcp6_tick(&c, now, out, &out_len);
			if (out_len > DHCP6_MSG_MAX)
				abort();
		}
	}
	return 0;
}
