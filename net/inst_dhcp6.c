/* The DHCPv6 client (net/dhcp6.c) on core 0's instance: raw UDP on port 546 from the link-local
 * address to ff02::1:2, the leased address on the netif, and on the other cores the address core 0
 * leased (net/net.c publishes it). Linked once per core. */
#include <string.h>

#include "dhcp6.h"
#include "inst_priv.h"

#include "lwip/dhcp6.h"
#include "lwip/ip6_addr.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

static struct netif *nif;
static unsigned mode;                   /* NET_DHCP6_* */
static bool wanted;                     /* started, or asked for by a router advertisement */
static struct dhcp6c dc;
static struct udp_pcb *pcb;
static s8_t slot = -1;                  /* the netif's address index of the lease, -1: none */
static uint64_t clock_ms;               /* sys_now() widened to 64 bits */
static u32_t last_now;
static uint32_t gen;                    /* core 0: bumped when what inst_dhcp6_lease returns changes */
static bool published;                  /* core 0: the lease's address passed DAD and was published */

static uint64_t now_ms(void)
{
	u32_t t = sys_now();
	clock_ms += (u32_t)(t - last_now);
	last_now = t;
	return clock_ms;
}

/* A slot's lifetimes, seconds, as lwIP keeps them (0 is its "static", so 1 at least). */
static void set_life(s8_t i, uint32_t valid, uint32_t pref)
{
	netif_ip6_addr_set_valid_life(nif, i, valid ? valid : 1);
	netif_ip6_addr_set_pref_life(nif, i, pref);
}

static void drop_slot(void)
{
	if (slot >= 0)
		netif_ip6_addr_set_state(nif, slot, IP6_ADDR_INVALID);
	slot = -1;
}

/* What dhcp6_input or dhcp6_tick asked for. */
static void act(unsigned ev, const uint8_t *msg, size_t len)
{
	if (ev & DHCP6_EV_LOST) {
		drop_slot();
		if (published)
			gen++;
		published = false;
	}
	if (ev & DHCP6_EV_BOUND) {
		ip6_addr_t a;
		memcpy(a.addr, dc.addr, 16);
		ip6_addr_clear_zone(&a);
		if (slot < 0 && netif_add_ip6_address(nif, &a, &slot) != ERR_OK)
			slot = -1;      /* no room: renewals try again */
		if (slot >= 0) {        /* tentative: lwIP's DAD, then preferred (inst_dhcp6_poll) */
			set_life(slot, dc.valid_s, dc.pref_s);
			if (published)
				gen++;  /* renewed: the others take the new lifetimes */
		}
	}
	if ((ev & DHCP6_EV_SEND) && pcb) {
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
		if (!p)
			return;         /* retransmitted later */
		memcpy(p->payload, msg, len);
		ip_addr_t to;
		IP_ADDR6(&to, PP_HTONL(0xff020000u), 0, 0, PP_HTONL(0x00010002u));     /* All_DHCP_Relay_Agents_and_Servers */
		udp_sendto(pcb, p, &to, DHCP6_SERVER_PORT);
		pbuf_free(p);
	}
}

static void recv_fn(void *arg, struct udp_pcb *u, struct pbuf *p, const ip_addr_t *from, u16_t port)
{
	(void)arg, (void)u;
	static uint8_t in[1500], out[DHCP6_MSG_MAX];
	size_t n = 0;
	/* Servers and relay agents answer from port 547 (RFC 8415 7.2); longer than a frame: not one. */
	if (port != DHCP6_SERVER_PORT || !IP_IS_V6(from) || p->tot_len > sizeof(in)) {
		dc.st.drop++;
	} else {
		pbuf_copy_partial(p, in, p->tot_len, 0);
		unsigned ev = dhcp6_input(&dc, in, p->tot_len, now_ms(), out, &n);
		act(ev, out, n);     /* n is set by the call: not in the same expression */
	}
	pbuf_free(p);
}

int inst_dhcp6_start(struct netif *n, const uint8_t mac[6], unsigned m)
{
	nif = n;
	mode = m;
	last_now = sys_now();
	dhcp6_init(&dc, mac, lwip_port_rand);
	if (mode == NET_DHCP6_OFF)
		return ERR_OK;
	pcb = udp_new_ip_type(IPADDR_TYPE_V6);
	if (!pcb || udp_bind(pcb, IP6_ADDR_ANY, DHCP6_CLIENT_PORT) != ERR_OK)
		return ERR_USE;
	udp_recv(pcb, recv_fn, NULL);
	wanted = mode == NET_DHCP6_ON;
	return ERR_OK;
}

/* nd6.c calls this for every router advertisement it accepts (LWIP_IPV6_DHCP6, lwipopts.h): with
 * NET_DHCP6_AUTO, the M flag (managed) starts the client. */
void dhcp6_nd6_ra_trigger(struct netif *netif, u8_t managed, u8_t other)
{
	(void)netif, (void)other;
	if (mode == NET_DHCP6_AUTO && managed)
		wanted = true;
}

/* lwIP's DHCPv6 timer slot (timeouts.c): its own client is not built; ours runs from
 * inst_dhcp6_poll, at the millisecond. */
void dhcp6_tmr(void)
{
}

void inst_dhcp6_poll(void)
{
	if (!wanted || !pcb)
		return;
	uint64_t now = now_ms();
	static uint8_t out[DHCP6_MSG_MAX];
	size_t n = 0;
	if (dc.state == DHCP6_IDLE) {
		/* Messages go from the link-local address: wait for it to pass DAD. */
		if (!ip6_addr_ispreferred(netif_ip6_addr_state(nif, 0)))
			return;
		dhcp6_start(&dc, now);
	}
	if (slot >= 0) {
		u8_t s = netif_ip6_addr_state(nif, slot);
		if (ip6_addr_isduplicated(s)) {
			unsigned ev = dhcp6_dad_failed(&dc, now, out, &n);
			act(ev, out, n);
			return;
		}
		if (ip6_addr_isinvalid(s)) {
			slot = -1;      /* lwIP ended it (its lifetime ran out): the client's timers agree */
		} else if (ip6_addr_ispreferred(s) && !published && dc.state >= DHCP6_BOUND) {
			published = true;
			gen++;
		}
	}
	if (now >= dhcp6_due(&dc)) {
		unsigned ev = dhcp6_tick(&dc, now, out, &n);
		act(ev, out, n);
	}
}

void inst_dhcp6_link_up(void)
{
	if (pcb && dc.state != DHCP6_IDLE)
		dhcp6_link_up(&dc, now_ms());
}

uint32_t inst_dhcp6_lease(uint8_t addr[16], uint32_t *valid, uint32_t *pref)
{
	memset(addr, 0, 16);
	*valid = *pref = 0;
	if (published && slot >= 0) {
		memcpy(addr, dc.addr, 16);
		*valid = netif_ip6_addr_valid_life(nif, slot);
		*pref = netif_ip6_addr_pref_life(nif, slot);
	}
	return gen;
}

/* The other cores: core 0's lease (all zero: none), already through DAD, so preferred at once. */
void inst_dhcp6_take(const uint8_t addr[16], uint32_t valid, uint32_t pref)
{
	static const uint8_t none[16];
	ip6_addr_t a;
	memcpy(a.addr, addr, 16);
	ip6_addr_clear_zone(&a);
	if (slot >= 0 && !ip6_addr_cmp_zoneless(netif_ip6_addr(nif, slot), &a))
		drop_slot();
	if (!memcmp(addr, none, 16))
		return;
	if (slot < 0 && netif_add_ip6_address(nif, &a, &slot) != ERR_OK) {
		slot = -1;
		return;
	}
	set_life(slot, valid, pref);
	netif_ip6_addr_set_state(nif, slot, pref ? IP6_ADDR_PREFERRED : IP6_ADDR_DEPRECATED);
}

void inst_dhcp6_stats(struct net_inst_stats *out)
{
	out->dhcp6_drop = dc.st.drop;
}
