/* The HTTP end-to-end harness (tests/unit/nic_http.h): the kernel services net.c, nic.c and the
 * drivers call, the wire with its DHCP server, the cores' rounds, the clients, the scenario and its
 * checks; the device is the test's (struct nh_dev). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <time.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "net/net.h"
#include "net/flow.h"
#include "net/inst.h"
#include "net/service.h"
#include "net/http.h"
#include "csum.h"
#include "harness.h"
#include "nic_http.h"
#include "nic_http_client.h"

#define NCORES NH_CORES
#define ROUND_US 250            /* one round: every core's loop once, the wire, the client */

/* ---- kernel services net.c, nic.c and the drivers call (the console and arena: harness.c) ---- */

uint64_t nh_counter(int q, const char *name)
{
	struct nic_counter c[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(q, c, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return UINT64_MAX;
}

void nh_collect(int *checks, int *failed)
{
	*checks += test_checks, *failed += test_failed;
	test_checks = test_failed = 0;
}

static const struct nh_dev *dev;

extern uint32_t now_ms;         /* tests/unit/host/lwip_port.c: every instance's clock */
extern struct cpu *host_cpu;    /* this_cpu() on the host */
static void on(uint32_t c) { host_cpu = &cpus[c]; }

/*
 * net.c's receive buffers, seen from the outside (the link wraps nic_rx_burst and nic_rx_return):
 * every buffer handed to the stack must come back exactly once, and none may stay held at the end.
 */
#define IDS 4096
int __real_nic_rx_burst(uint32_t q, struct nic_rxf *out, int max);
void __real_nic_rx_return(uint32_t q, uint32_t buf);
static uint8_t stack_holds[NCORES][IDS];
static uint64_t rx_given[NCORES], rx_returned[NCORES], rx_twice, rx_not_held, rx_wrong_core;
static uint64_t last_given[NCORES][IDS];        /* rx_given[q] when id was last handed up, + 1 */
int __wrap_nic_rx_burst(uint32_t q, struct nic_rxf *out, int max)
{
	int n = __real_nic_rx_burst(q, out, max);
	rx_wrong_core += q != host_cpu->idx;
	for (int i = 0; i < n; i++) {
		if (out[i].buf >= IDS || q >= NCORES)
			continue;
		rx_twice += stack_holds[q][out[i].buf];
		stack_holds[q][out[i].buf] = 1;
		last_given[q][out[i].buf] = ++rx_given[q];
	}
	return n;
}
void __wrap_nic_rx_return(uint32_t q, uint32_t buf)
{
	rx_wrong_core += q != host_cpu->idx;
	if (q < NCORES && buf < IDS) {
		if (stack_holds[q][buf]) {
			stack_holds[q][buf] = 0;
			rx_returned[q]++;
		} else {
			rx_not_held++;  /* nic.c panics next: this count is in the log above it */
			fprintf(stderr, "  queue %u: buffer %u returned but not held\n", q, buf);
		}
	}
	__real_nic_rx_return(q, buf);
}

static const uint8_t cli_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xc1 };
#define CLI_IP 0xC6120001u      /* 198.18.0.1: the client, the DHCP server and the gateway */
#define SRV_IP 0xC6120064u      /* 198.18.0.100: the lease the appliance gets */

/* ---- the wire ---- */
/* Device -> client: queued as the device sends, delivered on the next round. */
#define DOWN 8192
struct dframe { uint32_t len; uint8_t d[1600]; };
static struct dframe down[DOWN];
static uint32_t dh, dt;
static uint64_t down_lost, down_frames;

static void wire_out(const uint8_t *f, uint32_t len)
{
	down_frames++;
	if (dt - dh == DOWN || len > sizeof(down[0].d)) {
		down_lost++;
		return;
	}
	down[dt % DOWN].len = len;
	memcpy(down[dt % DOWN].d, f, len);
	dt++;
}

/* Client -> device: at once. Each client SYN's queue is remembered by source port. */
static uint64_t up_frames, up_dropped, dev_took;     /* dev_took: frames given an RX descriptor */
static uint64_t up_mcast_filtered;      /* the client's DAD and router solicitations, on a filtering NIC */
static int8_t syn_slot[65536];          /* the device's RX queue slot of the port's last SYN */
static int cli_tx(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	(void)core, (void)o, (void)ref;
	uint8_t fr[1600] = { 0 };
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (len + f[i].len > sizeof(fr))
			return -2;      /* never fits: dropped */
		memcpy(fr + len, f[i].p, f[i].len);
		len += f[i].len;
	}
	up_frames++;
	int slot = dev->rx(fr, len);
	if (slot < 0 && (fr[0] & 1) && memcmp(fr, "\xff\xff\xff\xff\xff\xff", 6))
		up_mcast_filtered++;    /* IPv6 multicast to a group the device was not told of */
	else if (slot < 0)
		up_dropped++;   /* no RX descriptor: the device is being reset, or its ring is full */
	else
		dev_took++;
	if (slot >= 0 && len >= 54 && fr[12] == 8 && fr[23] == 6 && (fr[47] & 0x12) == 0x02)
		syn_slot[fr[34] << 8 | fr[35]] = (int8_t)slot;
	return 0;
}

/* ---- a DHCP server on the wire (RFC 2131): OFFER to DISCOVER, ACK to REQUEST ---- */
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int dhcp_offers, dhcp_acks, dhcp_bad;
static void dhcp_answer(const uint8_t *f, uint32_t len)
{
	const uint8_t *b = f + 42;      /* BOOTP after Ethernet, a 20-byte IP header and UDP */
	if (len < 42 + 240 || (f[14] & 0xf) != 5 || b[0] != 1 || get32(b + 236) != 0x63825363) {
		dhcp_bad++;
		return;
	}
	int type = 0;
	for (uint32_t i = 240; 42 + i + 1 < len && b[i] != 255;) {
		if (b[i] == 0) {
			i++;
			continue;
		}
		if (b[i] == 53 && b[i + 1] == 1)
			type = b[i + 2];
		i += 2u + b[i + 1];
	}
	if (type != 1 && type != 3) {
		dhcp_bad++;
		return;
	}
	uint8_t r[342] = { 0 };
	memcpy(r, b + 28, 6);                   /* to the client's hardware address */
	memcpy(r + 6, cli_mac, 6);
	r[12] = 8;
	uint8_t *ip = r + 14, *udp = ip + 20, *o = udp + 8;
	uint32_t blen = 300, ulen = 8 + blen;
	ip[0] = 0x45, put16(ip + 2, 20 + ulen), ip[8] = 64, ip[9] = 17;
	put32(ip + 12, CLI_IP), put32(ip + 16, 0xffffffffu);
	put16(ip + 10, (uint16_t)~csum16(0, ip, 20));
	put16(udp, 67), put16(udp + 2, 68), put16(udp + 4, ulen);
	o[0] = 2, o[1] = 1, o[2] = 6;
	memcpy(o + 4, b + 4, 4);                /* xid */
	memcpy(o + 10, b + 10, 2);              /* flags */
	put32(o + 16, SRV_IP);                  /* yiaddr */
	put32(o + 20, CLI_IP);                  /* siaddr */
	memcpy(o + 28, b + 28, 16);             /* chaddr */
	put32(o + 236, 0x63825363);
	uint8_t *x = o + 240;
	*x++ = 53, *x++ = 1, *x++ = type == 1 ? 2 : 5;
	*x++ = 54, *x++ = 4, put32(x, CLI_IP), x += 4;
	*x++ = 51, *x++ = 4, put32(x, 86400), x += 4;
	*x++ = 1, *x++ = 4, put32(x, 0xffffff00u), x += 4;
	*x++ = 3, *x++ = 4, put32(x, CLI_IP), x += 4;
	*x = 255;
	uint32_t ps = csum16(0, ip + 12, 8) + 17 + ulen;
	uint16_t c = (uint16_t)~csum16(ps, udp, ulen);
	put16(udp + 6, c ? c : 0xffff);
	if (type == 1)
		dhcp_offers++;
	else
		dhcp_acks++;
	if (dev->rx(r, sizeof(r)) < 0)
		dhcp_bad++;
	else
		dev_took++;
}

/* What the device sent: DHCP to the server above, everything else to the client's stack. */
static void wire_step(void)
{
	while (dh != dt) {
		struct dframe *d = &down[dh++ % DOWN];
		if (d->len >= 42 && d->d[12] == 8 && d->d[13] == 0 && d->d[23] == 17 && d->d[36] == 0 && d->d[37] == 67) {
			dhcp_answer(d->d, d->len);
			continue;
		}
		hc_input(d->d, d->len);
	}
}

/* ---- driving the cores ---- */
static uint64_t dev_ms;
/* One round: each core's loop once, in turn, then the device finishes what it read, the wire
 * carries its frames and the client's timers run. */
static void round_once(void)
{
	for (uint32_t c = 0; c < NCORES; c++) {
		on(c);
		net_poll(&cpus[c], host_clock);
		host_clock += ROUND_US / NCORES;
	}
	if (dev->round)
		dev->round();
	wire_step();
	now_ms = (uint32_t)(host_clock / (HZ / 1000));
	for (; dev_ms < host_clock / (HZ / 1000); dev_ms++)
		if (dev->tick_ms)
			dev->tick_ms();
	hc_poll();
}

/* ---- the clients (tests/unit/nic_http_client.c) ---- */
/* The answers, as http.c writes them. */
static char exp_root[POLLUX_HTTP_BODY_SIZE + 512], exp_hello[512];
static size_t nexp_root, nexp_hello;
#define TPMS (HZ / 1000)

static uint32_t open_batch(uint32_t n, uint16_t port0, uint32_t target, uint32_t every_ms)
{
	int first = hc_open(n, port0, SRV_IP, POLLUX_HTTP_PORT, target, every_ms, host_clock, TPMS);
	CHECK(first >= 0);
	return first < 0 ? 0 : (uint32_t)first;
}

static void clients_step(void) { hc_step(host_clock, TPMS); }
static bool conn_done(const struct hc_conn *k) { return hc_done(k); }

static bool all_done(uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (!conn_done(&hc_conns[i]))
			return false;
	return true;
}

/* Rounds until connections [from, to) are all done or ms of host time pass; returns the host
 * time used, in ms. */
static double run_until_done(uint32_t from, uint32_t to, uint32_t ms)
{
	uint64_t start = host_clock, end = host_clock + ms * TPMS;
	while (host_clock < end && !all_done(from, to)) {
		clients_step();
		round_once();
	}
	return (double)(host_clock - start) / TPMS;
}

static void run_ms(uint32_t ms)
{
	uint64_t end = host_clock + ms * TPMS;
	while (host_clock < end) {
		clients_step();
		round_once();
	}
}

/* ---- what to expect ---- */

/* The core RSS must bring a client port's flow to, as the device says. */
static uint32_t expect_core(uint16_t port)
{
	uint8_t t[12];
	put32(t, CLI_IP), put32(t + 4, SRV_IP), put16(t + 8, port), put16(t + 10, POLLUX_HTTP_PORT);
	return dev->core_of(t);
}

static struct net_inst_stats core_stats(uint32_t c)
{
	struct net_inst_stats s;
	on(c);
	lwip_insts[c]->stats(&s);
	return s;
}

static bool has(const char *hay, size_t n, const char *needle)
{
	size_t l = strlen(needle);
	for (size_t i = 0; i + l <= n; i++)
		if (!memcmp(hay + i, needle, l))
			return true;
	return false;
}

static int one_write(void *ctx, const void *p, size_t n, bool copy)
{
	(void)copy;
	size_t *len = ((void **)ctx)[1];
	memcpy((char *)((void **)ctx)[0] + *len, p, n);
	*len += n;
	return (int)n;
}

/* The answers to both requests as http.c writes them, and the parts of them we know without it. */
static void expected_answers(void)
{
	struct http_conn *hc = calloc(1, sizeof(*hc));
	void *ctx[2] = { exp_root, &nexp_root };
	struct http_out out = { ctx, one_write, 0 };
	http_conn_init(hc);
	CHECK(!strcmp(hc_requests[0], "GET / HTTP/1.1\r\nHost: pollux\r\n\r\n"));
	CHECK(!strcmp(hc_requests[1], "GET /hello HTTP/1.1\r\nHost: pollux\r\n\r\n"));
	CHECK_EQ(http_input(hc, hc_requests[0], strlen(hc_requests[0]), &out), (int)strlen(hc_requests[0]));
	ctx[0] = exp_hello, ctx[1] = &nexp_hello;
	CHECK_EQ(http_input(hc, hc_requests[1], strlen(hc_requests[1]), &out), (int)strlen(hc_requests[1]));
	free(hc);
	CHECK(nexp_root > POLLUX_HTTP_BODY_SIZE && !memcmp(exp_root, "HTTP/1.1 200 ", 13));
	CHECK(nexp_hello > 18 && !memcmp(exp_hello, "HTTP/1.1 200 ", 13));
	CHECK(has(exp_hello, nexp_hello, "Content-Length: 18\r\n"));
	CHECK(!memcmp(exp_hello + nexp_hello - 18, "Hello from Pollux\n", 18));
	char cl[32];
	snprintf(cl, sizeof(cl), "Content-Length: %d\r\n", POLLUX_HTTP_BODY_SIZE);
	CHECK(has(exp_root, nexp_root, cl));
	CHECK(!memcmp(exp_root + nexp_root - POLLUX_HTTP_BODY_SIZE - 4, "\r\n\r\n", 4));
}

/* ---- bring-up: the boot core, then each core, then the client; DHCP through the device ---- */
static uint32_t mem_base[NCORES];
static const char *nic_name = "?";

static void bring_up(void)
{
	dev->init(wire_out);
	memset(syn_slot, -1, sizeof(syn_slot));
	CHECK_EQ(pci_scan(dev->acpi), 1);
	for (uint32_t i = 0; i < POLLUX_MAX_CORES; i++)
		cpus[i].self = &cpus[i], cpus[i].idx = i;
	host_clock = 1000 * HZ;
	dev_ms = host_clock / (HZ / 1000);
	now_ms = (uint32_t)dev_ms;
	on(0);
	CHECK_EQ(net_init(NCORES), 0);
	const struct nic *n = nic_dev();
	CHECK(n != NULL);
	if (!n)
		return;
	nic_name = n->ops->name;        /* kept: a failed reset leaves no device */
	CHECK_EQ(n->npairs, NCORES);
	CHECK_EQ(n->caps.rss, !dev->sw_steer);
	dev->check_up();
	CHECK_EQ(lwip_ninsts, NCORES);
	for (uint32_t i = 0; i < NCORES; i++) {
		on(i);
		CHECK_EQ(net_core_init(&cpus[i]), 0);
	}
	expected_answers();
	const char *answers[2] = { exp_root, exp_hello };
	const uint32_t lens[2] = { (uint32_t)nexp_root, (uint32_t)nexp_hello };
	CHECK_EQ(hc_init(cli_mac, CLI_IP, 0xffffff00u, cli_tx, answers, lens), 0);

	/* DHCP: core 0 asks, the lease reaches every core, then the address is announced. */
	for (int i = 0; i < 4 * 5000 && !strstr(klog, "pollux: ip="); i++)
		round_once();
	CHECK(strstr(klog, "pollux: ip=198.18.0.100") != NULL);
	CHECK_EQ(dhcp_offers, 1);
	CHECK_EQ(dhcp_acks, 1);
	CHECK_EQ(dhcp_bad, 0);
	for (uint32_t i = 0; i < NCORES; i++) {
		uint32_t mask = 0, gw = 0;
		on(i);
		CHECK_EQ(lwip_insts[i]->addr(&mask, &gw), __builtin_bswap32(SRV_IP));
		CHECK_EQ(mask, __builtin_bswap32(0xffffff00u));
		CHECK_EQ(gw, __builtin_bswap32(CLI_IP));
	}
	/* IPv6: every core's link-local address, once duplicate address detection is done (the
	 * instance's memory then holds its multicast memberships too). */
	for (int i = 0; i < 4 * 5000 && !strstr(klog, "pollux: ip6=fe80::"); i++)
		round_once();
	CHECK(strstr(klog, "pollux: ip6=fe80::") != NULL);
	run_ms(5);
	for (uint32_t i = 0; i < NCORES; i++)
		mem_base[i] = hc_heap_used(i);
}

/* ---- the scenario ---- */
struct tally { uint32_t served, reset, stuck, bad; };

/* Connections [from, to) after their run: served (every request answered, byte for byte), reset
 * cleanly by the server, or a failure (stuck, aborted, closed, or a wrong byte). */
static struct tally tally(uint32_t from, uint32_t to)
{
	struct tally t = { 0, 0, 0, 0 };
	for (uint32_t i = from; i < to; i++) {
		const struct hc_conn *k = &hc_conns[i];
		if (k->bad || k->fin || (k->err && !k->err_rst))
			t.bad++;
		else if (k->err)
			t.reset++;
		else if (k->connected && k->answered == k->target)
			t.served++;
		else
			t.stuck++;
	}
	return t;
}

static double wall_ms(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static uint64_t dev_resets(void)
{
	struct nic_dstats d;
	nic_dstats(&d);
	return d.resets;
}

static uint32_t count_str(const char *hay, const char *needle)
{
	uint32_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A reset in the middle of traffic, as the clients saw it: connections open with requests still
 * to ask and requests asked but unanswered, when the device stopped and when it was live again;
 * how long the queues were stopped; frames the device took meanwhile (into rings nobody polls,
 * then reset: all lost) and frames it refused (no descriptors between the reset and the restart). */
struct reset_view { uint32_t open_stop, waiting_stop, waiting_live, stopped_ms; uint64_t lost, refused; };

static void count_open(uint32_t *open, uint32_t *waiting)
{
	*open = *waiting = 0;
	for (uint32_t i = 0; i < hc_nconns; i++) {
		*open += !conn_done(&hc_conns[i]);
		*waiting += !conn_done(&hc_conns[i]) && hc_conns[i].asked > hc_conns[i].answered;
	}
}

/* Run rounds, with the clients asking, until the device has done `want` resets (bounded). The
 * device stopped when nic.c stopped the queues, or now when stopped_now. */
static void run_until_reset(uint64_t want, uint32_t ms, bool stopped_now, struct reset_view *v)
{
	uint64_t end = host_clock + ms * TPMS, stopped = 0, took = 0, dropped = 0;
	char stop_log[64];
	snprintf(stop_log, sizeof(stop_log), "%s0: resetting the device", nic_name);
	uint32_t starts = count_str(klog, stop_log);
	memset(v, 0, sizeof(*v));
	if (stopped_now) {
		stopped = host_clock;
		took = dev_took, dropped = up_dropped;
		count_open(&v->open_stop, &v->waiting_stop);
	}
	while (host_clock < end && dev_resets() < want) {
		clients_step();
		round_once();
		if (!stopped && count_str(klog, stop_log) > starts) {
			stopped = host_clock;
			took = dev_took, dropped = up_dropped;
			count_open(&v->open_stop, &v->waiting_stop);
		}
	}
	uint32_t open_live;
	count_open(&open_live, &v->waiting_live);
	v->stopped_ms = stopped ? (uint32_t)((host_clock - stopped) / TPMS) : 0;
	v->lost = stopped ? dev_took - took : 0;
	v->refused = stopped ? up_dropped - dropped : 0;
}

static void accepted(uint64_t out[NCORES])
{
	for (uint32_t c = 0; c < NCORES; c++)
		out[c] = core_stats(c).tcp_accepted;
}

/* A batch on a quiet device: every connection served to the end, each by the core RSS names
 * (before: every core's accepted count when the batch opened). */
static void check_batch_served(uint32_t first, uint32_t n, const uint64_t before[NCORES], const char *what)
{
	struct tally t = tally(first, first + n);
	CHECK_EQ(t.served, n);
	if (t.served != n)
		fprintf(stderr, "  %s: served %u reset %u stuck %u bad %u\n", what, t.served, t.reset, t.stuck, t.bad);
	uint64_t want[NCORES] = { 0 }, now[NCORES];
	for (uint32_t i = first; i < first + n; i++)
		want[expect_core(hc_conns[i].port)]++;
	accepted(now);
	for (uint32_t c = 0; c < NCORES; c++)
		CHECK_EQ(now[c] - before[c], want[c]);
}

/*
 * Reset k in the middle of traffic: the 64 kept connections from kept ask r->requests more, 64 new
 * ones open from port0 and ask as many, each one every r->every_ms; after r->lead_ms the reset is
 * provoked. Then 64 new connections (port0 + 1000..), every one served at once; returns the host
 * time they took, in ms.
 */
static double reset_mid_traffic(const char *name, uint32_t k, uint32_t kept, uint16_t port0)
{
	const struct nh_reset *r = &dev->reset[k];
	for (uint32_t i = kept; i < kept + 64; i++)
		hc_conns[i].target += r->requests, hc_conns[i].every_ms = r->every_ms;
	uint32_t b = open_batch(64, port0, r->requests, r->every_ms);
	run_ms(r->lead_ms);
	r->provoke();
	struct reset_view v;
	run_until_reset(k + 1, r->bound_ms, !r->device_takes, &v);
	if (r->after)
		r->after();
	CHECK_EQ(dev_resets(), k + 1);
	CHECK(strstr(klog, r->log) != NULL);
	double ms = run_until_done(kept, b + 64, 30000);
	struct tally t = tally(kept, b + 64);
	CHECK_EQ(v.open_stop, 128);             /* every connection open and asking when it came */
	CHECK(v.waiting_live > 64);             /* requests waited through the reset */
	/* and the device lost frames in it, or (its receive unit off) refused them */
	CHECK(r->device_takes ? v.lost > 0 : v.lost == 0 && v.refused > 64);
	/* None refused outside a reset; except that without RSS one RX ring takes every core's
	 * frames and may run out between two polls of core 0 (TCP sends again). */
	if (k == 0 && !dev->sw_steer)
		CHECK_EQ(up_dropped, v.refused);
	CHECK_EQ(t.served + t.reset, 128);      /* each served to the end or reset cleanly */
	CHECK_EQ(t.stuck, 0);
	CHECK_EQ(t.bad, 0);
	printf("    %s: %s: %u connections open and %u requests unanswered when the device stopped, "
	       "%u waiting when it was back %u ms later, %llu + %llu frames lost in it; %u connections served to the "
	       "end, %u reset, in %.0f ms more\n", name, r->what, v.open_stop, v.waiting_stop, v.waiting_live,
	       v.stopped_ms, (unsigned long long)v.lost, (unsigned long long)v.refused, t.served, t.reset, ms);

	uint64_t acc[NCORES];
	accepted(acc);
	uint32_t bn = open_batch(64, (uint16_t)(port0 + 1000), 2, 0);
	double msn = run_until_done(bn, bn + 64, 5000);
	check_batch_served(bn, 64, acc, k == 0 ? "after the first reset" : "after the second reset");
	return msn;
}

void nh_scenario(const struct nh_dev *d, const char *name)
{
	struct timespec w0;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	uint64_t sim0 = 1000 * HZ;      /* bring_up starts the clock there */
	dev = d;
	bring_up();
	if (!nic_dev())
		return;
	uint64_t sim_boot = host_clock;
	/* The client learns the server's MAC first: its stack keeps one packet per unresolved
	 * address, so 64 SYNs at once would otherwise mostly wait for their retransmission. */
	hc_arp(SRV_IP);
	run_ms(2);

	/* 1. 64 connections, each GET / then GET /hello, on a quiet device. */
	uint64_t acc[NCORES];
	accepted(acc);
	uint32_t b1 = open_batch(64, 40000, 2, 0);
	double ms1 = run_until_done(b1, b1 + 64, 5000);
	check_batch_served(b1, 64, acc, "first batch");
	uint32_t want[NCORES] = { 0 }, slots_used = 0;
	bool slot_seen[NH_MAX_SLOTS] = { false };
	uint32_t slot_of_core[NCORES], slot_mismatch = 0;
	memset(slot_of_core, 0xff, sizeof(slot_of_core));
	for (uint32_t i = b1; i < b1 + 64; i++) {
		uint32_t c = expect_core(hc_conns[i].port);
		int s = syn_slot[hc_conns[i].port];
		want[c]++;
		if (s >= 0 && s < NH_MAX_SLOTS && !slot_seen[s])
			slot_seen[s] = true, slots_used++;
		/* the device queue a flow arrives on is always the same for one core */
		if (slot_of_core[c] == 0xffffffffu)
			slot_of_core[c] = (uint32_t)s;
		slot_mismatch += slot_of_core[c] != (uint32_t)s;
	}
	CHECK_EQ(slots_used, dev->sw_steer ? 1 : NCORES);       /* the model's RSS used all 4 RX queues */
	CHECK_EQ(slot_mismatch, 0);
	for (uint32_t c = 0; c < NCORES; c++) {
		struct net_inst_stats s = core_stats(c);
		struct nic_qstats q;
		nic_qstats(c, &q);
		CHECK(want[c] > 0);             /* every core has flows ... */
		CHECK_EQ(s.tcp_accepted, want[c]);      /* ... exactly the ones RSS brings it */
		CHECK_EQ(s.http_requests, 2 * want[c]);
		CHECK_EQ(s.http_2xx, 2 * want[c]);
		CHECK_EQ(s.tcp_open, want[c]);  /* keep-alive: all still open */
		if (!dev->sw_steer)
			CHECK(q.rx_packets >= 3 * want[c]);     /* handshake ACK and two requests at least */
		CHECK(q.tx_packets >= 3 * want[c]);
		CHECK(q.tx_csum_offload >= 3 * want[c]);       /* TCP checksums completed by the device */
		CHECK_EQ(q.rx_drop_bad, 0);
	}
	printf("    %s: DHCP lease on every core after %.1f ms; 64 connections, 128 requests in %.2f ms (host time), "
	       "per core %u/%u/%u/%u\n", name, (double)(sim_boot - sim0) / TPMS, ms1, want[0], want[1], want[2], want[3]);

	/* 2 and 3, 4 and 5: a reset with 128 connections open and asking, then 64 new connections. */
	double ms3 = reset_mid_traffic(name, 0, b1, 41000);
	double ms5 = reset_mid_traffic(name, 1, b1 + 128, 43000);

	/* Every core kept serving through both resets, each its own flows. */
	uint64_t requests = 0, answered = 0;
	for (uint32_t i = 0; i < hc_nconns; i++)
		answered += hc_conns[i].answered;
	for (uint32_t c = 0; c < NCORES; c++) {
		struct net_inst_stats s = core_stats(c);
		CHECK(s.http_requests > 0);
		CHECK_EQ(s.http_requests, s.http_2xx);
		CHECK_EQ(s.csum_err, 0);
		requests += s.http_requests;
	}
	CHECK_EQ(requests, answered);           /* each answered once: none lost, none twice, resets or not */

	/* Close everything: the clients close, the servers follow; then nothing is left anywhere. */
	CHECK_EQ(hc_close_all(), 0);
	run_ms(3000);
	uint64_t given = 0, returned = 0;
	for (uint32_t c = 0; c < NCORES; c++) {
		struct net_inst_stats s = core_stats(c);
		CHECK_EQ(s.tcp_open, 0);
		CHECK_EQ(s.held_bytes, 0);
		CHECK_EQ(hc_heap_used(c), mem_base[c]);     /* the heap as before the traffic */
		CHECK_EQ(rx_given[c], rx_returned[c]);  /* every buffer the stack took came back */
		given += rx_given[c], returned += rx_returned[c];
	}
	CHECK_EQ(rx_twice, 0);
	CHECK_EQ(rx_not_held, 0);
	/* nic.c posts its pool's buffers oldest first, so each one comes round every pool-size
	 * frames: a buffer not seen in the last two rounds was lost by nic.c. */
	uint32_t pool = nic_dev() ? 2 * nic_dev()->rx_size : 0, stale = 0, beyond = 0;
	for (uint32_t q = 0; q < (dev->sw_steer ? 1 : NCORES); q++) {  /* without RSS only queue 0 takes frames */
		CHECK(rx_given[q] > 4 * pool);
		for (uint32_t id = 0; id < IDS; id++) {
			if (id >= pool)
				beyond += last_given[q][id] != 0;
			else
				stale += last_given[q][id] + 2 * pool <= rx_given[q];
		}
	}
	CHECK_EQ(stale, 0);
	CHECK_EQ(beyond, 0);
	CHECK_EQ(rx_wrong_core, 0);
	struct net_inst_stats cs;
	lwip4_net_inst.stats(&cs);
	CHECK_EQ(cs.csum_err, 0);               /* every checksum the device completed was right */
	CHECK_EQ(down_lost, 0);
	dev->check_end();                       /* the device saw nothing wrong from the driver */
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.reset_failed, 0);
	uint64_t zero_copy = 0;
	for (uint32_t q = 0; q < NCORES; q++) {
		struct nic_qstats st;
		nic_qstats(q, &st);
		zero_copy += st.tx_zero_copy;
	}
	if (POLLUX_HTTP_BODY_SIZE >= 4 * NIC_TX_REF_MIN)
		CHECK(zero_copy > 1000);        /* body pieces sent in place, their pbufs freed by tx_done */
	CHECK(!strstr(klog, "panic"));
	printf("    %s: after both resets 64 + 64 new connections served in %.2f + %.2f ms; %u connections, %llu "
	       "requests answered, %llu frames up (%llu refused by the device, %llu multicast filtered), %llu down; RX buffers to the stack "
	       "%llu, returned %llu; %llu frames with pieces sent in place; %.1f s host time in %.0f ms of ours\n",
	       name, ms3, ms5, hc_nconns, (unsigned long long)answered, (unsigned long long)up_frames,
	       (unsigned long long)up_dropped, (unsigned long long)up_mcast_filtered, (unsigned long long)down_frames, (unsigned long long)given,
	       (unsigned long long)returned, (unsigned long long)zero_copy, (double)(host_clock - sim0) / HZ,
	       wall_ms(&w0));
	if (test_failed) {
		on(0);
		net_print_stats();
	}
}

