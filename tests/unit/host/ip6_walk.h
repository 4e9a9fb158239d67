/* The upper layer of an IPv6 packet, as the device models and test_net find it for RSS: shared by
 * tests only (net/flow.c walks on its own, which these check). */
#ifndef POLLUX_TEST_IP6_WALK_H
#define POLLUX_TEST_IP6_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* In the Ethernet frame f[0..len), walk at most max hop-by-hop, routing, fragment and destination
 * options headers after the IPv6 header: *off is then the upper layer's offset from the IPv6
 * header and *nh its protocol. Returns whether a fragment header was passed. */
static inline bool ip6_walk(const uint8_t *f, uint32_t len, int max, uint32_t *off, uint8_t *nh)
{
	const uint8_t *ip = f + 14;
	bool frag = false;
	*off = 40;
	*nh = ip[6];
	for (int n = 0; n < max && (*nh == 0 || *nh == 43 || *nh == 44 || *nh == 60) && 14 + *off + 8 <= len; n++) {
		frag |= *nh == 44;
		uint32_t hl = *nh == 44 ? 8 : (ip[*off + 1] + 1u) * 8;
		*nh = ip[*off];
		*off += hl;
	}
	return frag;
}

#endif
