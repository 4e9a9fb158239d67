/* fuzz_vnet_rx and fuzz_ena_rx: the network layer's side of drivers/nic.c (nic_fuzz.h); the kernel's
 * services are tests/unit/host/harness.c's. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "csum.h"
#include "harness.h"
#include "nic_fuzz.h"

/* Every allocation is memory the device may reach (physical = virtual, as in the kernel). */
static void dma_hook(void *p, uint64_t size, uint32_t core)
{
	(void)core;
	fz_dma_add(p, size);
}

uint64_t fz_resets_begun(void)
{
	uint64_t n = 0;
	for (const char *p = klog; (p = strstr(p, "resetting the device")); p++)
		n++;
	return n;
}

static char trace[1 << 14];
static size_t tlen;

void fz_input_start(void)
{
	klog_clear();
	tlen = 0;
	trace[0] = 0;
}

void fz_trace(const char *fmt, ...)
{
	va_list ap;
	if (tlen > sizeof(trace) - 128)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(trace + tlen, sizeof(trace) - tlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		tlen += (size_t)n < sizeof(trace) - tlen ? (size_t)n : sizeof(trace) - tlen - 1;
}

void fz_fail(const char *why, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "fuzz: %s (%llu, %llu)\nthis input's steps: %s\nlog: %s\n", why, a, b, trace, klog);
	abort();
}


static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

uint32_t fz_frame(uint8_t *f, const uint8_t mac[6], uint32_t seed)
{
	uint32_t plen = seed % 1400, tot = 20 + 20 + plen;
	memset(f, 0, 14 + tot);
	memcpy(f, mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02\x08\x00", 8);
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45, ip[8] = 64, ip[9] = 6;
	put16(ip + 2, tot);
	memcpy(ip + 12, "\xc6\x12\x00\x09\xc6\x13\x00\x02", 8);
	put16(ip + 10, (uint16_t)~csum16(0, ip, 20));
	put16(t, 1024 + (seed >> 16) % 60000), put16(t + 2, 80);
	t[12] = 5 << 4, t[13] = 0x18;
	for (uint32_t i = 0; i < plen; i++)
		t[20 + i] = (uint8_t)(seed + i * 7);
	put16(t + 16, (uint16_t)~csum16(csum16(0, ip + 12, 8) + 6 + 20 + plen, t, 20 + plen));
	return 14 + tot;
}

/* TX: frames whose payload is sent in place from a slot of this pool, under the slot's reference. */
#define TX_POOL 512
static uint8_t tx_pool[TX_POOL][1600];
static bool tx_pending[TX_POOL];        /* sent in place, tx_done not yet called */
static uint32_t tx_next;

static void tx_done(void *ref)
{
	uintptr_t t = (uintptr_t)ref - 1;
	if (t >= TX_POOL || !tx_pending[t])
		fz_fail("tx_done twice, or for a frame never sent in place", t, 0);
	tx_pending[t] = false;
}

int fz_send(uint32_t q, uint32_t seed)
{
	uint32_t t = tx_next++ % TX_POOL;
	const struct nic *d = nic_dev();
	if (tx_pending[t] || !d || q >= d->npairs)
		return NIC_TX_FULL;
	uint32_t len = fz_frame(tx_pool[t], (const uint8_t *)"\x02\x00\x00\x00\x00\x02", seed);
	struct nic_frag f[2] = { { tx_pool[t], 54 }, { tx_pool[t] + 54, len - 54 } };
	int r = nic_tx(q, f, len > 54 ? 2 : 1, NULL, (void *)(uintptr_t)(t + 1));
	if (r == NIC_TX_INPLACE)
		tx_pending[t] = true;
	return r;
}

void fz_start(uint32_t pairs)
{
	alloc_hook = dma_hook;
	fz_dma_add(tx_pool, sizeof(tx_pool));
	uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
	if (nic_attach(pairs) != (int)pairs)
		fz_fail("the driver did not attach with the pairs asked", pairs, 0);
	for (int i = 0; i < NIC_RSS_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)(i % pairs);
	if (nic_start(key, reta))
		fz_fail("the device did not start", 0, 0);
	for (uint32_t q = 0; q < pairs; q++)
		nic_queue_start(q, tx_done);
}

/* Buffers the network layer holds, per queue, oldest first. */
#define HOLD 1024
static struct {
	uint32_t buf[HOLD];
	uint32_t n;
} held[NIC_MAX_QUEUES];

static bool is_held(uint32_t q, uint32_t b)
{
	for (uint32_t i = 0; i < held[q].n; i++)
		if (held[q].buf[i] == b)
			return true;
	return false;
}

int fz_burst(uint32_t q, int max, bool keep)
{
	struct nic_rxf f[64];
	const struct nic *d = nic_dev();
	if (!d || q >= d->npairs)
		return 0;
	int n = nic_rx_burst(q, f, max);
	if (n < 0 || n > max)
		fz_fail("nic_rx_burst returned more than asked", (unsigned long long)n, (unsigned long long)max);
	uint32_t room = NIC_BUF_SIZE - d->caps.rx_hdr;
	for (int i = 0; i < n; i++) {
		if (is_held(q, f[i].buf))
			fz_fail("a buffer handed up twice", q, f[i].buf);
		if (f[i].frame != nic_rx_buf(q, f[i].buf) + d->caps.rx_hdr || f[i].len < 14 || f[i].len > room)
			fz_fail("a frame outside its buffer", f[i].buf, f[i].len);
		volatile uint8_t touch = f[i].frame[0] ^ f[i].frame[f[i].len - 1];
		(void)touch;
		bool copy = (f[i].flags & NIC_RX_COPY) != 0;
		if ((keep && !copy) && held[q].n < HOLD)
			held[q].buf[held[q].n++] = f[i].buf;
		else
			nic_rx_return(q, f[i].buf);
	}
	return n;
}

void fz_return(uint32_t q, uint32_t k)
{
	if (k > held[q].n)
		k = held[q].n;
	for (uint32_t i = 0; i < k; i++)
		nic_rx_return(q, held[q].buf[i]);
	memmove(held[q].buf, held[q].buf + k, 4ull * (held[q].n - k));
	held[q].n -= k;
}

void fz_return_all(void)
{
	for (uint32_t q = 0; q < NIC_MAX_QUEUES; q++)
		fz_return(q, held[q].n);
}

uint64_t fz_counted(uint32_t q)
{
	struct nic_qstats s;
	struct nic_counter c[NIC_MAX_COUNTERS];
	nic_qstats(q, &s);
	uint64_t v = s.rx_drop_bad;
	unsigned k = nic_counters((int)q, c, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strncmp(c[i].name, "bad_", 4))
			v += c[i].value;
	return v;
}

void fz_recover(uint32_t npairs)
{
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "steps:%s\n", trace);
	fz_return_all();
	struct nic_dstats d0, d;
	nic_dstats(&d0);
	/* A reset begun after this request (one already under way may have started before the
	 * device's last fault) and finished. */
	uint64_t asked = fz_resets_begun(), resets_at_begin = 0;
	bool begun = false, done = false;
	nic_request_reset();
	for (int i = 0; i < 60 && !done; i++) {
		host_clock += FZ_HZ / 4;
		fz_device_step(250);
		nic_slow_poll();
		for (uint32_t q = 0; q < npairs; q++)
			nic_flush(q);
		nic_dstats(&d);
		if (d.reset_failed != d0.reset_failed)
			break;
		if (!begun && fz_resets_begun() != asked) {
			begun = true;
			resets_at_begin = d.resets;
		}
		done = begun && d.resets != resets_at_begin;
	}
	nic_dstats(&d);
	if (d.reset_failed != d0.reset_failed || !nic_dev())
		fz_fail("the device was not reset after the input", d.reset_failed, d0.reset_failed);
	if (!done)
		fz_fail("the reset asked for never finished", d.resets, d0.resets);
	for (uint32_t t = 0; t < TX_POOL; t++)
		if (tx_pending[t])
			fz_fail("a frame sent in place never given back, even by the reset", t, 0);
	for (uint32_t q = 0; q < npairs; q++)
		nic_flush(q);
	/* A frame from the wire reaches the network layer whole. */
	static uint32_t seed;
	uint8_t f[1600];
	uint32_t len = fz_frame(f, nic_dev()->mac, seed += 0x10001);
	int p = fz_wire(f, len);
	if (p < 0 || (uint32_t)p >= npairs)
		fz_fail("the device dropped a frame after the reset", (unsigned long long)p, 0);
	struct nic_rxf r[64];
	int n = nic_rx_burst((uint32_t)p, r, 64);
	if (n != 1 || r[0].len != len || memcmp(r[0].frame, f, len))
		fz_fail("the frame after the reset did not arrive whole", (unsigned long long)n, n == 1 ? r[0].len : 0);
	nic_rx_return((uint32_t)p, r[0].buf);
	for (uint32_t q = 0; q < npairs; q++)
		nic_flush(q);
}
