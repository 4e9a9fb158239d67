/* One instance's index of its TCP connections: a keyed hash of the four-tuple over every pcb in
 * tcp_active_pcbs and tcp_tw_pcbs, kept by lwIP's hooks (net/port/patches/0002), so tcp_input
 * finds a segment's pcb in O(1) however many connections the core holds. Linked once per core. */
#include <string.h>

#include "inst_priv.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

static struct tcp_pcb **table;          /* NULL until inst_hash_init: nothing indexed */
static uint32_t mask;
static uint64_t key0, key1;             /* per boot: the buckets cannot be aimed at from outside */
static struct inst_hash_stats hs;

/*
 * The bucket of a remote address and port and a local port (the local address is the same for
 * every connection of an instance). A multiply-xorshift with a secret key: cheap per segment,
 * and a peer that does not know the key cannot choose tuples that pile into one bucket.
 */
static uint32_t bucket(uint32_t rip, uint16_t rport, uint16_t lport)
{
	uint64_t x = ((uint64_t)rip << 32 | (uint32_t)rport << 16 | lport) ^ key0;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= key1;
	x ^= x >> 32;
	return (uint32_t)x & mask;
}

static uint32_t bucket_of(const struct tcp_pcb *pcb)
{
	return bucket(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)), pcb->remote_port, pcb->local_port);
}

int inst_hash_init(uint32_t conns, void *(*alloc)(size_t bytes))
{
	uint32_t n = 1024;
	while (n < conns && n < (1u << 24))
		n <<= 1;
	table = alloc((size_t)n * sizeof(*table));
	if (!table)
		return ERR_MEM;
	memset(table, 0, (size_t)n * sizeof(*table));
	mask = n - 1;
	key0 = (uint64_t)lwip_port_rand() << 32 | lwip_port_rand();
	key1 = ((uint64_t)lwip_port_rand() << 32 | lwip_port_rand()) | 1;
	hs = (struct inst_hash_stats){ .buckets = n };
	return ERR_OK;
}

void inst_tcp_linked(struct tcp_pcb **pcbs, struct tcp_pcb *pcb)
{
	if (!table || (pcbs != &tcp_active_pcbs && pcbs != &tcp_tw_pcbs))
		return;
	struct tcp_pcb **b = &table[bucket_of(pcb)];
	pcb->hash_next = *b;
	*b = pcb;
	hs.entries++;
	hs.time_wait += pcbs == &tcp_tw_pcbs;
}

void inst_tcp_unlinked(struct tcp_pcb *pcb)
{
	if (!table)
		return;
	for (struct tcp_pcb **b = &table[bucket_of(pcb)]; *b; b = &(*b)->hash_next)
		if (*b == pcb) {
			*b = pcb->hash_next;
			pcb->hash_next = NULL;
			hs.entries--;
			/* lwIP sets TIME_WAIT after a pcb leaves the active list and clears it only
			 * after it left the TIME_WAIT list: the state says which list this was. */
			hs.time_wait -= pcb->state == TIME_WAIT;
			return;
		}
	/* not indexed: a pcb leaving the bound list */
}

struct tcp_pcb *inst_tcp_lookup(u16_t rport, u16_t lport, const ip_addr_t *rip, const ip_addr_t *lip)
{
	if (!table)
		return NULL;
	hs.lookups++;
	for (struct tcp_pcb *p = table[bucket(ip4_addr_get_u32(ip_2_ip4(rip)), rport, lport)]; p; p = p->hash_next) {
		hs.probes++;
		if (p->remote_port == rport && p->local_port == lport && ip_addr_cmp(&p->remote_ip, rip) &&
		    ip_addr_cmp(&p->local_ip, lip))
			return p;
	}
	return NULL;
}

void inst_hash_stats(struct inst_hash_stats *out)
{
	*out = hs;
}
