/* prof_conns: what one core's HTTP instance spends with many keep-alive connections open. Instance 0
 * opens N connections to instance 1 (svc_http) over an in-memory wire, each asks once and then
 * rests; for 20 simulated seconds one of them asks every millisecond. Prints the server's CPU time
 * per simulated second and per request, and how many of its pcbs the timers still visit. Not a
 * test (nothing is asserted): `make prof` runs it with 1,000 and 20,000 connections, and
 * `perf record` on it gives the profile in the closing notes of issue 18. */
#define _POSIX_C_SOURCE 199309L
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/inst.h"
#include "net/service.h"
#include "net/http.h"

#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"

extern const struct net_inst lwip0_net_inst, lwip1_net_inst;
#define DECL(f) extern __typeof__(f) lwip0_##f;
DECL(tcp_new) DECL(tcp_connect) DECL(tcp_write) DECL(tcp_output) DECL(tcp_recv) DECL(tcp_recved)
DECL(tcp_arg) DECL(tcp_bind) DECL(pbuf_free)
extern struct tcp_pcb *lwip1_tcp_active_pcbs;
extern struct tcp_pcb *lwip1_tcp_busy_pcbs;
extern uint32_t now_ms;
void *host_mem_grow(uint32_t core, size_t bytes);

struct frame { uint32_t len; uint8_t data[1600]; int to; };
#define QN 65536
static struct frame q[QN];
static unsigned qh, qt;
static uint64_t drops;

static int tx(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	(void)o, (void)ref;
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++)
		len += f[i].len;
	if (qt - qh == QN || len > 1600) {
		drops++;
		return len > 1600 ? -2 : -1;
	}
	struct frame *fr = &q[qt++ % QN];
	fr->len = len;
	fr->to = core == 0 ? 1 : 0;
	for (unsigned i = 0, off = 0; i < n; off += f[i].len, i++)
		memcpy(fr->data + off, f[i].p, f[i].len);
	return 0;
}

static void release(void *frame, void *arg)
{
	(void)arg;
	free(frame);
}

static uint64_t server_ns;

static uint64_t ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One millisecond: every frame sent before it is delivered, then both instances poll. */
static void step(void)
{
	for (unsigned end = qt; qh != end;) {
		struct frame *fr = &q[qh++ % QN];
		void *buf = malloc(fr->len);
		memcpy(buf, fr->data, fr->len);
		if (fr->to) {
			uint64_t t0 = ns();
			lwip1_net_inst.input(buf, fr->len, 0, release, NULL);
			server_ns += ns() - t0;
		} else {
			lwip0_net_inst.input(buf, fr->len, 0, release, NULL);
		}
	}
	now_ms++;
	lwip0_net_inst.poll();
	uint64_t t0 = ns();
	lwip1_net_inst.poll();
	server_ns += ns() - t0;
}

static uint64_t answers;
static const char req[] = "GET / HTTP/1.1\r\nHost: p\r\n\r\n";

static err_t c_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (!p)
		return ERR_OK;
	answers++;
	lwip0_tcp_recved(pcb, p->tot_len);
	lwip0_pbuf_free(p);
	return ERR_OK;
}

static void ask(struct tcp_pcb *pcb)
{
	lwip0_tcp_write(pcb, req, sizeof(req) - 1, 0);
	lwip0_tcp_output(pcb);
}

static err_t c_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg, (void)err;
	lwip0_tcp_recv(pcb, c_recv);
	ask(pcb);
	return ERR_OK;
}

static unsigned count(struct tcp_pcb *p, int busy)
{
	unsigned n = 0;
	for (; p; p = busy ? p->busy_next : p->next)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	/* The host's allocator would give freed frames back to the kernel and fault them in again:
	 * that cost is the wire's, not the instance's. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	memset(q, 0, sizeof(q));        /* the wire's pages, faulted in before anything is timed */
	struct net_inst_cfg a = { .core = 0, .mac = {2, 0, 0, 0, 0, 1}, .ip = PP_HTONL(0xC6120002),
				  .mask = PP_HTONL(0xFFFFFF00), .mem_budget = 1ull << 30,
				  .mem_grow = host_mem_grow, .max_conns = 1 << 20, .tx = tx };
	struct net_inst_cfg b = a;
	b.core = 1;
	b.mac[5] = 2;
	b.ip = PP_HTONL(0xC6120003);
	b.svc = &svc_http;
	svc_http.init();
	if (lwip0_net_inst.init(&a) || lwip1_net_inst.init(&b)) {
		fprintf(stderr, "prof_conns: init failed\n");
		return 1;
	}
	ip_addr_t dst;
	IP_ADDR4(&dst, 198, 18, 0, 3);
	ip_addr_t src;
	IP_ADDR4(&src, 198, 18, 0, 2);
	struct tcp_pcb **pcbs = calloc(n, sizeof(*pcbs));
	for (unsigned i = 0; i < n; i++) {
		pcbs[i] = lwip0_tcp_new();
		lwip0_tcp_bind(pcbs[i], &src, (u16_t)(1024 + i));
		lwip0_tcp_connect(pcbs[i], &dst, POLLUX_HTTP_PORT, c_connected);
		if (i % 256 == 255)
			step();
	}
	for (int i = 0; i < 3000; i++)
		step();
	unsigned open = count(lwip1_tcp_active_pcbs, 0);
	uint64_t a0 = answers;
	server_ns = 0;
	for (int i = 0; i < 20000; i++) {
		ask(pcbs[i % 8]);
		step();
	}
	uint64_t got = answers - a0;
	printf("prof_conns: %u connections (%u open on the server, %llu answers at rest), wire drops %llu\n", n,
	       open, (unsigned long long)a0, (unsigned long long)drops);
	printf("prof_conns: server %.1f us per simulated second, %.0f ns per request (%llu requests)\n",
	       server_ns / 20.0 / 1000.0, (double)server_ns / (double)(got ? got : 1), (unsigned long long)got);
	printf("prof_conns: the server's timers visit %u of its %u pcbs\n", count(lwip1_tcp_busy_pcbs, 1),
	       count(lwip1_tcp_active_pcbs, 0));
	return 0;
}
