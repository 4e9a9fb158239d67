/* fuzz_rx's reach into both renamed lwIP instances (lwIP's types; fuzz_rx.c has the kernel's). */
#include "lwip/etharp.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"

/* Both instances' own globals, renamed by scripts/lwip-instances.sh. */
#define DECL(x) extern __typeof__(x) lwip0_##x, lwip1_##x;
DECL(tcp_active_pcbs) DECL(tcp_tw_pcbs) DECL(netif_default) DECL(lwip_stats)
DECL(tcp_abort) DECL(etharp_cleanup_netif) DECL(nd6_cleanup_netif) DECL(netif_ip6_addr_set_state)

void fz_lwip_teardown(uint32_t c);
uint64_t fz_lwip_mem_used(uint32_t c);
int fz_lwip_ll_ready(uint32_t c);
uint32_t fz_lwip_conns(uint32_t c);

/* Abort every connection (the service is told through its err callback), forget ARP and the
 * neighbour caches, drop the IPv6 addresses an input's router advertisement made, and start the
 * link-local address's duplicate detection again if an input made it duplicate or deprecated. */
void fz_lwip_teardown(uint32_t c)
{
	struct tcp_pcb **active = c ? &lwip1_tcp_active_pcbs : &lwip0_tcp_active_pcbs;
	struct tcp_pcb **tw = c ? &lwip1_tcp_tw_pcbs : &lwip0_tcp_tw_pcbs;
	void (*abort_pcb)(struct tcp_pcb *) = c ? lwip1_tcp_abort : lwip0_tcp_abort;
	for (int i = 0; *active && i < 100000; i++)
		abort_pcb(*active);
	for (int i = 0; *tw && i < 100000; i++)
		abort_pcb(*tw);
	if (*active || *tw)
		LWIP_PLATFORM_ASSERT("fuzz_rx: connections left after aborting every one");
	struct netif *n = c ? lwip1_netif_default : lwip0_netif_default;
	(c ? lwip1_etharp_cleanup_netif : lwip0_etharp_cleanup_netif)(n);
	(c ? lwip1_nd6_cleanup_netif : lwip0_nd6_cleanup_netif)(n);
	void (*set_state)(struct netif *, s8_t, u8_t) = c ? lwip1_netif_ip6_addr_set_state : lwip0_netif_ip6_addr_set_state;
	for (s8_t i = 1; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (!ip6_addr_isinvalid(netif_ip6_addr_state(n, i)))
			set_state(n, i, IP6_ADDR_INVALID);      /* leaves its solicited-node group too */
	if (!ip6_addr_ispreferred(netif_ip6_addr_state(n, 0)))
		set_state(n, 0, IP6_ADDR_TENTATIVE);
}

/* The link-local address is usable (duplicate detection done). */
int fz_lwip_ll_ready(uint32_t c)
{
	struct netif *n = c ? lwip1_netif_default : lwip0_netif_default;
	return ip6_addr_ispreferred(netif_ip6_addr_state(n, 0));
}

uint64_t fz_lwip_mem_used(uint32_t c)
{
	return c ? lwip1_lwip_stats.mem.used : lwip0_lwip_stats.mem.used;
}



/* Connections the service has: active pcbs carrying its argument (half-open ones have none). */
uint32_t fz_lwip_conns(uint32_t c)
{
	uint32_t n = 0;
	for (struct tcp_pcb *p = c ? lwip1_tcp_active_pcbs : lwip0_tcp_active_pcbs; p; p = p->next)
		n += p->callback_arg != NULL;
	return n;
}
