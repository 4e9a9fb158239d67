/* The multicast groups one lwIP instance joined, as Ethernet addresses (RFC 2464 section 7:
 * 33:33 and the group's low 32 bits), counted per group: lwIP's MLD reports each join and leave
 * through netif->mld_mac_filter, and several groups can share an address. Linked once per core;
 * every instance keeps its own list, read by its own core only. */
#include <string.h>

#include "inst_priv.h"

#include "lwip/ip6_addr.h"

/* All-nodes (ff02::1), which lwIP receives without joining it (mld6.c), then the joined groups. */
static uint8_t mc[NET_MCAST_MAX][6] = { { 0x33, 0x33, 0, 0, 0, 1 } };
static uint16_t refs[NET_MCAST_MAX];
static uint32_t nmc = 1;
static uint32_t over;                   /* joins that found the list full */
static uint32_t gen = 1;                /* changes at each change of the list (0: never given) */

static int find(const uint8_t m[6])
{
	for (uint32_t i = 0; i < nmc; i++)
		if (!memcmp(mc[i], m, 6))
			return (int)i;
	return -1;
}

static err_t mld_filter(struct netif *n, const ip6_addr_t *group, enum netif_mac_filter_action act)
{
	(void)n;
	uint8_t m[6] = { 0x33, 0x33 };
	memcpy(m + 2, &group->addr[3], 4);      /* network order: the group's last four bytes */
	int i = find(m);
	if (act == NETIF_ADD_MAC_FILTER) {
		if (i > 0)
			refs[i]++;
		else if (i < 0 && nmc < NET_MCAST_MAX) {
			memcpy(mc[nmc], m, 6);
			refs[nmc++] = 1;
			gen++;
		} else if (i < 0) {
			over++;         /* the NIC is asked for all multicast until it is left */
			gen++;
		}
		return ERR_OK;
	}
	if (i > 0 && --refs[i] == 0) {
		memmove(mc[i], mc[i + 1], 6 * (size_t)(nmc - (uint32_t)i - 1));
		memmove(&refs[i], &refs[i + 1], sizeof(refs[0]) * (size_t)(nmc - (uint32_t)i - 1));
		nmc--;
		gen++;
	} else if (i < 0 && over) {
		over--;         /* a leave of a group the full list could not take */
		gen++;
	}
	return ERR_OK;
}

void inst_mcast_start(struct netif *n)
{
	netif_set_mld_mac_filter(n, mld_filter);
}

bool inst_mcast_joined(const uint8_t dst[6])
{
	return over || find(dst) >= 0;
}

uint32_t inst_mcast_list(uint8_t (*out)[6], uint32_t *cnt)
{
	*cnt = over ? NET_MCAST_MAX + 1 : nmc;
	if (!over)
		memcpy(out, mc, 6 * (size_t)nmc);
	return gen;
}
