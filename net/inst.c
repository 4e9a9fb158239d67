/* One core's lwIP instance: netif, zero-copy RX pbufs, timers; its service glue is inst_svc.c.
 * Linked once per core. */
#include "inst_priv.h"

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

unsigned char *lwip_inst_heap;          /* LWIP_RAM_HEAP_POINTER: this instance's heap */

static struct net_inst_cfg cfg;
static struct netif nif;
static struct net_inst_stats st;
static uint8_t tx_buf[1518 + 64];       /* linkoutput flattens chains here before the NIC copy */

/* Zero-copy RX: a custom pbuf per frame in flight, from a fixed free list. */
#define RX_WRAPS 2048
struct rx_wrap {
	struct pbuf_custom pc;          /* first: lwIP hands back the pbuf pointer */
	void (*release)(void *frame, void *arg);
	void *frame, *arg;
	struct rx_wrap *next;
};
static struct rx_wrap *wrap_free;     /* the wrappers live at the end of the heap block */

static void rx_free(struct pbuf *p)
{
	struct rx_wrap *w = (struct rx_wrap *)p;
	w->release(w->frame, w->arg);
	w->next = wrap_free;
	wrap_free = w;
}

static void inst_input(void *frame, uint32_t len, void (*release)(void *, void *), void *arg)
{
	struct rx_wrap *w = wrap_free;
	if (!w || len > 0xffff) {
		st.rx_refused++;
		release(frame, arg);
		return;
	}
	wrap_free = w->next;
	w->pc.custom_free_function = rx_free;
	w->release = release;
	w->frame = frame;
	w->arg = arg;
	struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &w->pc, frame, (u16_t)len);
	st.rx_frames++;
	st.rx_bytes += len;
	if (nif.input(p, &nif) != ERR_OK) {
		st.rx_refused++;
		pbuf_free(p);
	}
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
	(void)n;
	if (p->tot_len > sizeof(tx_buf)) {
		st.tx_drop_ring++;
		return ERR_BUF;
	}
	const void *frame = p->payload;
	if (p->len != p->tot_len) {
		pbuf_copy_partial(p, tx_buf, p->tot_len, 0);
		frame = tx_buf;
	}
	if (cfg.tx(cfg.core, frame, p->tot_len) != 0) {
		st.tx_drop_ring++;
		return ERR_MEM;
	}
	st.tx_frames++;
	st.tx_bytes += p->tot_len;
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 'e';
	n->name[1] = 'n';
	n->mtu = cfg.mtu ? cfg.mtu : 1500;
	n->hwaddr_len = 6;
	for (int i = 0; i < 6; i++)
		n->hwaddr[i] = cfg.mac[i];
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	n->output = etharp_output;
	n->linkoutput = linkoutput;
	return ERR_OK;
}

/* ---- entry points ---- */

static int inst_init(const struct net_inst_cfg *c)
{
	cfg = *c;
	if (!cfg.tx || !cfg.heap || cfg.heap_size < NET_INST_HEAP_SIZE || inst_svc_check(cfg.svc) != ERR_OK)
		return ERR_ARG;
	lwip_inst_heap = cfg.heap;
	struct rx_wrap *wraps = (struct rx_wrap *)((char *)cfg.heap + NET_INST_LWIP_HEAP);
	_Static_assert(NET_INST_LWIP_HEAP + RX_WRAPS * sizeof(struct rx_wrap) <= NET_INST_HEAP_SIZE,
		       "NET_INST_HEAP_SIZE holds the lwIP heap and the RX wrappers");
	_Static_assert(MEM_SIZE + 1024 <= NET_INST_LWIP_HEAP, "lwIP heap with its bookkeeping fits");
	for (int i = 0; i < RX_WRAPS; i++) {
		wraps[i].next = wrap_free;
		wrap_free = &wraps[i];
	}
	lwip_init();
	ip4_addr_t ip, mask, gw;
	ip4_addr_set_u32(&ip, cfg.dhcp ? 0 : cfg.ip);
	ip4_addr_set_u32(&mask, cfg.dhcp ? 0 : cfg.mask);
	ip4_addr_set_u32(&gw, cfg.dhcp ? 0 : cfg.gw);
	if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ethernet_input))
		return ERR_IF;
	netif_set_default(&nif);
	netif_set_up(&nif);
	if (cfg.dhcp) {
		err_t e = dhcp_start(&nif);
		if (e != ERR_OK)
			return e;
	}
	return inst_svc_start(cfg.svc, &st);
}

static void inst_poll(void)
{
	sys_check_timeouts();
}

static void inst_input_copy(const void *frame, uint32_t len)
{
	struct pbuf *p = len <= 0xffff ? pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM) : NULL;
	if (!p || pbuf_take(p, frame, (u16_t)len) != ERR_OK) {
		st.rx_refused++;
		if (p)
			pbuf_free(p);
		return;
	}
	st.rx_frames++;
	st.rx_bytes += len;
	if (nif.input(p, &nif) != ERR_OK) {
		st.rx_refused++;
		pbuf_free(p);
	}
}

static uint32_t inst_addr(uint32_t *mask, uint32_t *gw)
{
	if (mask)
		*mask = ip4_addr_get_u32(netif_ip4_netmask(&nif));
	if (gw)
		*gw = ip4_addr_get_u32(netif_ip4_gw(&nif));
	return ip4_addr_get_u32(netif_ip4_addr(&nif));
}

static void inst_set_addr(uint32_t ip, uint32_t mask, uint32_t gw)
{
	ip4_addr_t a, m, g;
	ip4_addr_set_u32(&a, ip);
	ip4_addr_set_u32(&m, mask);
	ip4_addr_set_u32(&g, gw);
	netif_set_addr(&nif, &a, &m, &g);
}

static void inst_stats(struct net_inst_stats *out)
{
	*out = st;
	out->ip_drop = lwip_stats.ip.drop;
	out->arp_drop = lwip_stats.etharp.drop;
	out->mem_err = lwip_stats.mem.err;
	inst_svc_stats(out);
}

/* The only symbol the kernel looks up; renamed per core to lwip<N>_net_inst. */
const struct net_inst net_inst = {
	.init = inst_init,
	.input = inst_input,
	.input_copy = inst_input_copy,
	.poll = inst_poll,
	.addr = inst_addr,
	.set_addr = inst_set_addr,
	.stats = inst_stats,
};
