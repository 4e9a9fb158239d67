/* The HTTP end-to-end tests' clients (tests/unit/nic_http_client.h): lwIP copy 4's raw API, called
 * by name. */
#include <stdlib.h>
#include <string.h>

#include "nic_http_client.h"

void *host_mem_grow(uint32_t core, size_t bytes);     /* tests/unit/host/lwip_port.c */

#include "lwip/tcp.h"
#include "lwip/stats.h"
#include "lwip/etharp.h"

extern struct stats_ lwip0_lwip_stats, lwip1_lwip_stats, lwip2_lwip_stats, lwip3_lwip_stats, lwip4_lwip_stats;
#define DECL(f) extern __typeof__(f) lwip4_##f;
DECL(tcp_new) DECL(tcp_bind) DECL(tcp_connect) DECL(tcp_write) DECL(tcp_output) DECL(tcp_recv) DECL(tcp_recved)
DECL(tcp_err) DECL(tcp_arg) DECL(tcp_close) DECL(pbuf_free) DECL(etharp_request)
DECL(netif_default)

struct hc_conn hc_conns[HC_MAX];
uint32_t hc_nconns;

const char *const hc_requests[2] = { "GET / HTTP/1.1\r\nHost: pollux\r\n\r\n",
					 "GET /hello HTTP/1.1\r\nHost: pollux\r\n\r\n" };
static const char *answer[2];
static uint32_t answer_len[2];
static ip_addr_t my_ip;

int hc_init(const uint8_t mac[6], uint32_t ip, uint32_t mask,
	    int (*tx)(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref),
	    const char *answers[2], const uint32_t lens[2])
{
	struct net_inst_cfg k = { .core = 4, .mtu = 1500, .ip = PP_HTONL(ip), .mask = PP_HTONL(mask),
				  .mem_budget = 64 << 20,
				  .mem_grow = host_mem_grow, .tx = tx };
	memcpy(k.mac, mac, 6);
	for (int i = 0; i < 2; i++)
		answer[i] = answers[i], answer_len[i] = lens[i];
	ip_addr_set_ip4_u32_val(my_ip, PP_HTONL(ip));
	return lwip4_net_inst.init(&k);
}

static void release(void *frame, void *arg)
{
	(void)arg;
	free(frame);
}

void hc_input(const void *frame, uint32_t len)
{
	void *buf = malloc(len);
	memcpy(buf, frame, len);
	lwip4_net_inst.input(buf, len, 0, release, NULL);      /* flags 0: every checksum checked */
}

void hc_arp(uint32_t ip)
{
	ip4_addr_t a;
	ip4_addr_set_u32(&a, PP_HTONL(ip));
	lwip4_etharp_request(lwip4_netif_default, &a);
}

void hc_poll(void)
{
	lwip4_net_inst.poll();
}

/* Match what arrived, in order, against the answers to the requests asked. */
static void match(struct hc_conn *k, const uint8_t *p, uint32_t n)
{
	while (n && !k->bad) {
		if (k->answered == k->asked) {
			k->bad++;       /* more than was asked for */
			return;
		}
		uint32_t i = k->answered % 2, take = answer_len[i] - k->pos;
		if (take > n)
			take = n;
		if (memcmp(p, answer[i] + k->pos, take) != 0) {
			k->bad++;
			return;
		}
		p += take, n -= take, k->pos += take;
		if (k->pos == answer_len[i])
			k->answered++, k->pos = 0;
	}
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct hc_conn *k = arg;
	(void)err;
	if (!p) {
		k->fin = true;
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		match(k, q->payload, q->len);
	lwip4_tcp_recved(pcb, p->tot_len);
	lwip4_pbuf_free(p);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct hc_conn *k = arg;
	k->err = true;
	k->err_rst = err == ERR_RST;
	k->pcb = NULL;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct hc_conn *k = arg;
	(void)pcb;
	k->connected = err == ERR_OK;
	return ERR_OK;
}

int hc_open(uint32_t n, uint16_t port0, uint32_t ip, uint16_t port, uint32_t target, uint32_t every_ms,
	    uint64_t now, uint64_t ticks_per_ms)
{
	ip_addr_t dst;
	ip_addr_set_ip4_u32_val(dst, PP_HTONL(ip));
	int first = (int)hc_nconns;
	for (uint32_t i = 0; i < n; i++) {
		if (hc_nconns == HC_MAX)
			return -1;
		struct hc_conn *k = &hc_conns[hc_nconns++];
		memset(k, 0, sizeof(*k));
		k->port = (uint16_t)(port0 + i);
		k->target = target;
		k->every_ms = every_ms;
		k->next_at = now + (uint64_t)i * every_ms * ticks_per_ms / n;  /* staggered */
		struct tcp_pcb *pcb = lwip4_tcp_new();
		if (!pcb)
			return -1;
		k->pcb = pcb;
		lwip4_tcp_arg(pcb, k);
		lwip4_tcp_err(pcb, on_err);
		lwip4_tcp_recv(pcb, on_recv);
		if (lwip4_tcp_bind(pcb, &my_ip, k->port) != ERR_OK ||
		    lwip4_tcp_connect(pcb, &dst, port, on_connected) != ERR_OK)
			return -1;
	}
	return first;
}

void hc_step(uint64_t now, uint64_t ticks_per_ms)
{
	for (uint32_t i = 0; i < hc_nconns; i++) {
		struct hc_conn *k = &hc_conns[i];
		struct tcp_pcb *pcb = k->pcb;
		if (!pcb || !k->connected || k->err || k->fin || k->bad || k->asked != k->answered ||
		    k->asked >= k->target || now < k->next_at)
			continue;
		const char *r = hc_requests[k->asked % 2];
		u16_t len = (u16_t)strlen(r);
		if (tcp_sndbuf(pcb) < len || lwip4_tcp_write(pcb, r, len, TCP_WRITE_FLAG_COPY) != ERR_OK)
			continue;
		k->asked++;
		k->next_at = now + (uint64_t)k->every_ms * ticks_per_ms;
		lwip4_tcp_output(pcb);
	}
}

bool hc_done(const struct hc_conn *k)
{
	return k->err || k->fin || k->bad || (k->connected && k->answered == k->target);
}

uint32_t hc_close_all(void)
{
	uint32_t refused = 0;
	for (uint32_t i = 0; i < hc_nconns; i++) {
		struct hc_conn *k = &hc_conns[i];
		if (k->pcb && !k->err) {
			refused += lwip4_tcp_close(k->pcb) != ERR_OK;
			k->pcb = NULL;
		}
	}
	return refused;
}

static struct stats_ *const hc_stats[5] = { &lwip0_lwip_stats, &lwip1_lwip_stats, &lwip2_lwip_stats,
					    &lwip3_lwip_stats, &lwip4_lwip_stats };

uint32_t hc_heap_used(uint32_t i)
{
	return i < 5 ? (uint32_t)hc_stats[i]->mem.used : 0;
}

uint32_t hc_tcp_xmit(uint32_t i)
{
	return i < 5 ? (uint32_t)hc_stats[i]->tcp.xmit : 0;
}
