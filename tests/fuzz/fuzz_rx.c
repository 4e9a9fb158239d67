/*
 * fuzz_rx: the whole receive path for a sequence of frames (libFuzzer, ASan, UBSan): a fake NIC
 * with 2 queue pairs and no RSS under drivers/nic.c, net/net.c steering for 2 cores, each core a
 * real renamed lwIP instance (net/inst.c, net/inst_svc.c) serving HTTP (net/svc_http.c, net/http.c).
 * lwIP is built with MEM_LIBC_MALLOC here, so ASan sees every pbuf and pcb as its own allocation.
 *
 * Input: records of  ctl(1) adv(1) len(2, little-endian) frame(len)  (len cut to what is left).
 *   ctl bit 0: queue 1 instead of 0        bit 1: fix the IPv4 and TCP/UDP/ICMP checksums
 *   ctl bit 2: the NIC vouches for the L4 checksum (NIC_RX_CSUM_OK)
 *   ctl bit 3: the NIC reports a hash (NIC_RX_HASH), adv * 0x01000193
 *   ctl bit 4: a device reset is asked first  bit 5: the link goes down, or up again
 *   adv: host time that passes before the frame: adv ms below 200, else (adv - 200) * 500 ms
 *
 * State: lwIP cannot be initialised twice, so the instances live across inputs. After each input
 * every connection is aborted, the ARP caches are emptied and the clock runs until reassembly and
 * net.c's fragment tables have expired; then every zero-copy buffer must be back with the NIC,
 * every lwIP allocation freed (the heap back to its level after boot) and the DHCP lease kept.
 * ISNs do not depend on the clock, so a seed's handshake answers the same SYN-ACK every time.
 * What is left from earlier inputs (lwIP's tick counters, IP ids, net.c's counters) may make a
 * crash depend on the inputs before it: replay it alone first, then with the corpus before it.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "net/net.h"
#include "net/inst.h"
#include "net/service.h"
#include "harness.h"

#include "lwip_malloc.h"
#include "rx_frames.h"
#include "tso.h"

#define NC 2                    /* cores and queue pairs */
#define RX_SIZE 32              /* small rings: the copy path below the RX floor is reachable */
#define TX_SIZE 64
#define PENDING 256             /* frames waiting for an RX buffer, per queue */
#define MAX_ADV_MS 120000       /* simulated time one input may pass */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- kernel services net.c, nic.c and the instances call (the rest: tests/unit/host/harness.c) ---- */

int pci_scan(const struct acpi_info *ai) { (void)ai; return 0; }
uint64_t pci_bar_addr(const struct pci_dev *d, int bar) { (void)d, (void)bar; return 0; }
uint64_t pci_bar_size(const struct pci_dev *d, int bar) { (void)d, (void)bar; return 0; }
static struct pci_dev fake_pci = { .vendor = 0xfa4e, .device = 0x0001 };
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	return vendor == fake_pci.vendor && device == fake_pci.device && nth == 0 ? &fake_pci : NULL;
}

/* ---- what every lwIP instance calls (net/lwip_port.c in the kernel) ---- */
uint32_t sys_now(void);
uint32_t sys_now(void) { return (uint32_t)(host_clock / (HZ / 1000)); }
void lwip_port_diag(const char *fmt, ...) { (void)fmt; }
void lwip_port_assert(const char *msg, int line, const char *file)
{
	fprintf(stderr, "fuzz_rx: lwIP assertion '%s' at %s:%d\n", msg, file, line);
	abort();
}
uint32_t lwip_port_rand(void)
{
	static uint32_t x = 12345;
	x = x * 1103515245 + 12345;
	return x;
}
/* A fixed ISN: a seed's ACK of the SYN-ACK stays right whatever the clock did (fuzz_rx.h). */
uint32_t lwip_port_isn(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	(void)lip, (void)lport, (void)rip, (void)rport;
	return FZ_ISN;
}
/* SYN cookies' MAC: a fixed function of the sequence number, so a seed can complete a cookie. */
uint32_t lwip_port_cookie(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport, uint32_t seq, uint32_t slot)
{
	(void)lip, (void)lport, (void)rip, (void)rport, (void)slot;
	return seq * 2654435761u;
}

/*
 * lwIP's allocations (MEM_LIBC_MALLOC, mem_clib_malloc in the Makefile): real malloc, so ASan
 * guards each one, within the budget net.c gives each core, so running out is reachable.
 * An instance only runs on its own core: the calling core is the instance.
 */
/* The budget net/net.c gives each instance from the harness's arena (boot_once makes it small). */
static uint64_t fz_lwip_mem_size(void)
{
	return harness_arena_bytes / 100 * POLLUX_NET_MEM_PCT;
}
static uint64_t heap_used[NC];
struct fz_hdr { uint64_t size; uint32_t core; uint32_t magic; };
void *fuzz_lwip_malloc(size_t size)
{
	uint32_t c = host_cpu->idx;
	if (c >= NC || heap_used[c] + size > fz_lwip_mem_size())
		return NULL;
	struct fz_hdr *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	*h = (struct fz_hdr){ size, c, 0x6c776970 };
	heap_used[c] += size;
	return h + 1;
}
void fuzz_lwip_free(void *p)
{
	struct fz_hdr *h = (struct fz_hdr *)p - 1;
	if (h->magic != 0x6c776970 || h->core != host_cpu->idx) {
		fprintf(stderr, "fuzz_rx: lwIP freed memory of core %u on core %u\n", h->core, host_cpu->idx);
		abort();
	}
	heap_used[h->core] -= h->size;
	h->magic = 0;
	free(h);
}

/* ---- the fake NIC: frames in from the input, frames out read when the device completes them ---- */
struct fz_rxf { uint32_t len, hash, flags; uint8_t d[FZ_FRAME_MAX]; };
struct fz_txe {
	uint32_t slot, nseg, len;
	bool flushed;                           /* the doorbell rang */
	struct nic_txo o;
	struct { uint64_t pa; uint32_t len; } seg[NIC_TX_MAX_SEGS];
};
struct fz_q {
	uint32_t posted[2 * RX_SIZE], ph, pt;   /* buffers the device may fill, in order */
	uint8_t state[2 * RX_SIZE];             /* 1: the device has it */
	struct fz_rxf in[PENDING];              /* frames waiting for a buffer */
	uint32_t ih, it;
	struct fz_txe tx[TX_SIZE];              /* posted, not yet completed, in order */
	uint32_t ntx, tx_used;
	uint64_t rx_dropped;                    /* no buffer posted: the device drops */
};
static struct {
	struct nic *n;
	bool live;
	unsigned next_ev;
	struct fz_q q[NC];
	/* Frames the device sent, latest last (the DHCP server reads them). */
	uint8_t wire[16][FZ_FRAME_MAX];
	uint32_t wire_len[16], nwire;
} dev;

static void fail(const char *why, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_rx: %s (%u, %u)\nlog: %s\n", why, a, b, klog);
	abort();
}

static int fz_attach(struct nic *n, struct pci_dev *d, uint32_t want)
{
	(void)d;
	dev.n = n;
	n->caps = (struct nic_caps){ .max_pairs = NC, .rss = false, .rx_hash = true, .tx_csum = true, .rx_csum = true,
				     .tx_sg = true, .reta_len = NIC_RETA_LEN, .tso_max = 0xffff };
	memcpy(n->mac, FZ_OUR_MAC, 6);
	n->npairs = want < NC ? want : NC;
	n->rx_size = RX_SIZE;
	n->tx_size = TX_SIZE;
	n->link = true;
	return 0;
}

static int fz_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	(void)n, (void)key, (void)reta;
	dev.live = true;
	return 0;
}

static void fz_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt)
{
	struct fz_q *fq = &dev.q[q];
	for (uint32_t i = 0; i < cnt; i++) {
		if (ids[i] >= 2 * n->rx_size || fq->state[ids[i]])
			fail("a buffer posted twice, or not of the pool", q, ids[i]);
		if (fq->pt - fq->ph >= n->rx_size)
			fail("more buffers posted than the ring holds", q, fq->pt - fq->ph);
		fq->state[ids[i]] = 1;
		fq->posted[fq->pt++ % (2 * RX_SIZE)] = ids[i];
	}
}

static int fz_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max)
{
	struct fz_q *fq = &dev.q[q];
	int k = 0;
	while (k < max && fq->ih != fq->it) {
		struct fz_rxf *f = &fq->in[fq->ih++ % PENDING];
		if (fq->ph == fq->pt) {
			fq->rx_dropped++;
			continue;
		}
		uint32_t id = fq->posted[fq->ph++ % (2 * RX_SIZE)];
		fq->state[id] = 0;
		memcpy(nic_rx_buf(q, id) + n->caps.rx_hdr, f->d, f->len);
		out[k++] = (struct nic_rxd){ id, f->len, f->hash, f->flags };
	}
	return k;
}

static bool fz_tx_room(struct nic *n, uint32_t q, uint32_t nseg)
{
	return dev.q[q].tx_used + nseg <= n->tx_size;
}

static void fz_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d)
{
	struct fz_q *fq = &dev.q[q];
	if (fq->tx_used + d->nseg > n->tx_size || fq->ntx == TX_SIZE || d->nseg > NIC_TX_MAX_SEGS || d->slot >= n->tx_size)
		fail("TX posted beyond the ring", q, d->slot);
	for (uint32_t i = 0; i < fq->ntx; i++)
		if (fq->tx[i].slot == d->slot)
			fail("a TX slot posted twice", q, d->slot);
	struct fz_txe *e = &fq->tx[fq->ntx++];
	e->slot = d->slot, e->nseg = d->nseg, e->len = d->len, e->flushed = false, e->o = d->o;
	memcpy(e->seg, d->seg, sizeof(e->seg[0]) * d->nseg);
	fq->tx_used += d->nseg;
}

/* A frame on the wire (the last 16 kept). */
static void wire(const uint8_t *f, uint32_t len, void *arg)
{
	(void)arg;
	if (len > FZ_FRAME_MAX)
		fail("a TX frame longer than a frame", len, FZ_FRAME_MAX);
	uint32_t w = dev.nwire++ % 16;
	memcpy(dev.wire[w], f, len);
	dev.wire_len[w] = len;
}

/* The device reads a frame as late as it may: when it completes it, so a piece freed before
 * tx_done is read after its free (ASan). A segmentation frame is cut into its segments
 * (tests/unit/host/tso.h): one it would refuse fails. */
static void tx_read(struct nic *n, const struct fz_txe *e)
{
	static uint8_t f[0x10000];
	uint32_t off = 0, most = e->o.gso ? sizeof(f) : FZ_FRAME_MAX;
	for (uint32_t s = 0; s < e->nseg; s++) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)e->seg[s].pa;
		uint32_t l = e->seg[s].len;
		if (s == 0)
			p += n->caps.tx_hdr, l -= n->caps.tx_hdr;
		if (off + l > most)
			fail("a TX frame longer than a frame", off, l);
		memcpy(f + off, p, l);
		off += l;
	}
	if (off != e->len)
		fail("TX pieces do not add up to the frame", off, e->len);
	char why[160] = "one segment";
	if (!e->o.gso)
		wire(f, off, NULL);
	else if (tso_segment(f, off, e->o.gso == NIC_GSO_TCP4 ? TSO_V4 : TSO_V6, e->o.gso_size, e->o.hdr_len,
			     e->o.csum_start, e->o.csum_offset, wire, NULL, why, sizeof(why)) < 2) {
		fprintf(stderr, "fuzz_rx: segmentation frame refused: %s\n", why);
		fail("a segmentation frame the device refuses", off, e->o.gso_size);
	}
}

static int fz_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max)
{
	struct fz_q *fq = &dev.q[q];
	int k = 0;
	while (k < max && fq->ntx && fq->tx[0].flushed) {
		tx_read(n, &fq->tx[0]);
		slots[k++] = fq->tx[0].slot;
		fq->tx_used -= fq->tx[0].nseg;
		memmove(fq->tx, fq->tx + 1, sizeof(fq->tx[0]) * --fq->ntx);
	}
	return k;
}

static void fz_flush(struct nic *n, uint32_t q)
{
	(void)n;
	for (uint32_t i = 0; i < dev.q[q].ntx; i++)
		dev.q[q].tx[i].flushed = true;
}

static unsigned fz_slow_poll(struct nic *n)
{
	unsigned ev = dev.next_ev;
	dev.next_ev = 0;
	if (ev & NIC_EV_LINK_DOWN)
		n->link = false;
	if (ev & NIC_EV_LINK_UP)
		n->link = true;
	return ev;
}

/* Rings empty and not live; frames in flight are lost, as on a real reset. */
static int fz_reset(struct nic *n)
{
	for (uint32_t q = 0; q < n->npairs; q++) {
		struct fz_q *fq = &dev.q[q];
		memset(fq->state, 0, sizeof(fq->state));
		fq->ph = fq->pt = 0;
		fq->ntx = fq->tx_used = 0;
		fq->ih = fq->it;
	}
	dev.live = false;
	return 0;
}

static const struct nic_ops fz_ops = {
	.name = "fz",
	.attach = fz_attach,
	.start = fz_start,
	.rx_post = fz_rx_post,
	.rx_poll = fz_rx_poll,
	.tx_room = fz_tx_room,
	.tx_post = fz_tx_post,
	.tx_reap = fz_tx_reap,
	.flush = fz_flush,
	.slow_poll = fz_slow_poll,
	.reset = fz_reset,
};
/* drivers/nic.c's probe table names these: the fake takes the first, the others serve nothing. */
static const struct nic_id fz_ids[] = { { 0xfa4e, 0x0001 }, { 0, 0 } };
static const struct nic_id no_ids[] = { { 0, 0 } };
const struct nic_driver vnet_driver = { &fz_ops, fz_ids };
const struct nic_driver ena_driver = { NULL, no_ids }, igb_driver = { NULL, no_ids }, ixgbe_driver = { NULL, no_ids };

/* ---- the two real instances, behind a table that counts zero-copy buffers in the stack ---- */
extern const struct net_inst lwip0_net_inst, lwip1_net_inst;
static const struct net_inst *const real[NC] = { &lwip0_net_inst, &lwip1_net_inst };
static int64_t in_stack[NC];           /* zero-copy buffers the instance has not released */
static void (*nic_release)(void *frame, void *arg);

static void counted_release(void *frame, void *arg)
{
	in_stack[host_cpu->idx]--;
	nic_release(frame, arg);
}
static void input_counted(uint32_t c, void *f, uint32_t len, unsigned fl, void (*rel)(void *, void *), void *arg)
{
	if (nic_release && rel != nic_release)
		fail("zero-copy frames with different release functions", c, 0);
	if (c != host_cpu->idx)
		fail("an instance called from another core", c, host_cpu->idx);
	nic_release = rel;
	in_stack[c]++;
	real[c]->input(f, len, fl, counted_release, arg);
}
#define WRAP(c) \
	static void input##c(void *f, uint32_t len, unsigned fl, void (*rel)(void *, void *), void *arg) \
	{ input_counted(c, f, len, fl, rel, arg); }
WRAP(0)
WRAP(1)
static struct net_inst counted[NC];     /* filled at boot: the real tables with input wrapped */
const struct net_inst *const lwip_insts[] = { &counted[0], &counted[1] };
const unsigned lwip_ninsts = NC;

/* tests/fuzz/rx_lwip.c, which sees lwIP's types: every TCP connection of core c's instance
 * aborted and its ARP cache emptied; the bytes its allocations hold now. */
void fz_lwip_teardown(uint32_t c);
uint64_t fz_lwip_mem_used(uint32_t c);
int fz_lwip_ll_ready(uint32_t c);
uint32_t fz_lwip_conns(uint32_t c);

/* ---- driving the cores ---- */
static void on(uint32_t c) { host_cpu = &cpus[c]; }

static uint64_t st_open(uint32_t c);

/* Every connection the service counts open has its pcb, and no pcb its service forgot. */
static void check_conns(void)
{
	for (uint32_t c = 0; c < NC; c++)
		if (st_open(c) != fz_lwip_conns(c))
			fail("connections counted open and connections lwIP has differ", (unsigned)st_open(c),
			     fz_lwip_conns(c));
}

static void poll_all(void)
{
	for (uint32_t c = 0; c < NC; c++) {
		on(c);
		net_poll(&cpus[c], host_clock);
		host_clock += 10;
	}
	check_conns();
}

/* Time passes in steps of at most 100 ms, every core looping at each. */
static void advance_ms(uint64_t ms)
{
	while (ms) {
		uint64_t step = ms > 100 ? 100 : ms;
		host_clock += step * (HZ / 1000);
		poll_all();
		ms -= step;
	}
}

static uint64_t st_open(uint32_t c)
{
	struct net_inst_stats s;
	on(c);
	real[c]->stats(&s);
	return s.tcp_open;
}

static void inject(uint32_t q, const uint8_t *f, uint32_t len, uint32_t flags, uint32_t hash)
{
	struct fz_q *fq = &dev.q[q];
	if (fq->it - fq->ih == PENDING)
		return;
	struct fz_rxf *d = &fq->in[fq->it++ % PENDING];
	memcpy(d->d, f, len);
	d->len = len;
	d->flags = flags;
	d->hash = hash;
}

/* The DHCP server on the wire: answer every DISCOVER and REQUEST core 0 sent (fuzz_rx.h). */
static void dhcp_serve(void)
{
	static uint32_t seen;
	for (; seen != dev.nwire; seen++) {
		const uint8_t *f = dev.wire[seen % 16];
		uint8_t r[FZ_FRAME_MAX];
		uint32_t n = fz_dhcp_reply(f, dev.wire_len[seen % 16], r);
		if (n)
			inject(0, r, n, 0, 0);
	}
}

static bool leased(void)
{
	for (uint32_t c = 0; c < NC; c++) {
		on(c);
		if (real[c]->addr(NULL, NULL) != FZ_OUR_IP_BE)
			return false;
	}
	return true;
}

/* DHCP until both cores answer on the lease (boot, and after an input took it away). */
static void get_lease(void)
{
	for (int i = 0; i < 600 && !leased(); i++) {
		dhcp_serve();
		advance_ms(50);
	}
}

static uint64_t base_used[NC], base_heap[NC];

/* Every buffer back with the NIC and lwIP's allocations at their level after boot. */
static bool all_back(void)
{
	for (uint32_t c = 0; c < NC; c++)
		if (in_stack[c] || fz_lwip_mem_used(c) != base_used[c] || !fz_lwip_ll_ready(c))
			return false;
	return true;
}

/* Every connection aborted, ARP forgotten, the clock past every reassembly and fragment timer. */
static void teardown(void)
{
	for (int i = 0; i < 3; i++)
		poll_all();             /* what is on the wire and in the cross-core rings arrives */
	for (uint32_t q = 0; q < NC; q++)
		dev.q[q].ih = dev.q[q].it;
	for (uint32_t c = 0; c < NC; c++) {
		on(c);
		fz_lwip_teardown(c);
	}
	advance_ms(2100);               /* net.c's fragment tables and held fragments expire */
	for (int i = 0; i < 25 && !all_back(); i++)
		advance_ms(1000);       /* lwIP's reassembly (IP_REASS_MAXAGE s) */
	for (int i = 0; i < 3; i++)
		poll_all();             /* the last TX completions */
}

static void check_released(void)
{
	for (uint32_t c = 0; c < NC; c++) {
		if (in_stack[c])
			fail("zero-copy RX buffers still held by the stack after teardown", c, (unsigned)in_stack[c]);
		if (st_open(c))
			fail("service connections open after teardown", c, (unsigned)st_open(c));
		uint64_t used = fz_lwip_mem_used(c);
		if (used != base_used[c] || heap_used[c] != base_heap[c])
			fail("lwIP memory not freed after teardown (bytes now, at boot)", (unsigned)used, (unsigned)base_used[c]);
	}
}

static void boot_once(void)
{
	counted[0] = lwip0_net_inst;
	counted[0].input = input0;
	counted[1] = lwip1_net_inst;
	counted[1].input = input1;
	for (uint32_t c = 0; c < POLLUX_MAX_CORES; c++)
		cpus[c].self = &cpus[c], cpus[c].idx = c;
	host_clock = 1000 * HZ;
	harness_arena_bytes = 11ull << 20;      /* network memory near the 8 MiB floor: running out is reachable */
	on(0);
	if (net_init(NC))
		fail("net_init failed", 0, 0);
	for (uint32_t c = 0; c < NC; c++) {
		on(c);
		if (net_core_init(&cpus[c]))
			fail("net_core_init failed", c, 0);
	}
	get_lease();
	if (!leased())
		fail("no DHCP lease at boot", 0, 0);
	for (int i = 0; i < 100 && !(fz_lwip_ll_ready(0) && fz_lwip_ll_ready(1)); i++)
		advance_ms(100);        /* the link-local address's duplicate detection */
	if (!fz_lwip_ll_ready(0) || !fz_lwip_ll_ready(1))
		fail("no IPv6 link-local address at boot", 0, 0);
	teardown();
	for (uint32_t c = 0; c < NC; c++)
		base_used[c] = fz_lwip_mem_used(c), base_heap[c] = heap_used[c];
	check_released();
}

/* FUZZ_RX_STATS=1: what the input reached, per core (to check a seed does what it says). */
static void print_stats(void)
{
	for (uint32_t c = 0; c < NC; c++) {
		struct net_inst_stats s;
		on(c);
		real[c]->stats(&s);
		fprintf(stderr, "core %u: rx %llu tx %llu tcp_acc %llu open %llu rst %llu http %llu 2xx %llu 4xx %llu "
			"udp %llu csum_err %llu ip_drop %llu in_stack %lld\n", c, (unsigned long long)s.rx_frames,
			(unsigned long long)s.tx_frames, (unsigned long long)s.tcp_accepted, (unsigned long long)s.tcp_open,
			(unsigned long long)s.tcp_reset, (unsigned long long)s.http_requests, (unsigned long long)s.http_2xx,
			(unsigned long long)s.http_4xx, (unsigned long long)s.udp_rx, (unsigned long long)s.csum_err,
			(unsigned long long)s.ip_drop, (long long)in_stack[c]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool booted;
	if (!booted) {
		boot_once();
		booted = true;
	}
	uint64_t adv_total = 0;
	klog_clear();                   /* fail() shows this input's lines */
	while (size >= 4) {
		uint8_t ctl = data[0], adv = data[1];
		uint32_t len = (uint32_t)data[2] | (uint32_t)data[3] << 8;
		data += 4, size -= 4;
		if (len > size)
			len = (uint32_t)size;
		uint8_t f[FZ_FRAME_MAX];
		uint32_t flen = len < FZ_FRAME_MAX ? len : FZ_FRAME_MAX;
		memcpy(f, data, flen);
		data += len, size -= len;

		if (ctl & FZ_RESET)
			nic_request_reset();
		if (ctl & FZ_LINK)
			dev.next_ev = dev.n->link ? NIC_EV_LINK_DOWN : NIC_EV_LINK_UP;
		uint64_t ms = adv < 200 ? adv : (uint64_t)(adv - 200) * 500;
		if (adv_total + ms > MAX_ADV_MS)
			ms = MAX_ADV_MS - adv_total;
		adv_total += ms;
		advance_ms(ms);
		if (ctl & FZ_FIX_CSUM)
			fz_fix_checksums(f, flen);
		uint32_t flags = (ctl & FZ_CSUM_OK ? NIC_RX_CSUM_OK : 0) | (ctl & FZ_HASH ? NIC_RX_HASH : 0);
		inject(ctl & FZ_Q1 ? 1 : 0, f, flen, flags, adv * 0x01000193u);
		for (int i = 0; i < 3; i++)
			poll_all();
	}
	if (getenv("FUZZ_RX_STATS"))
		print_stats();
	/* A link change the input asked for waits for the next slow poll, and for the end of a reset
	 * the input also asked for: delivered first, or a link that goes down during the teardown stays
	 * down (the link-local address's duplicate detection then never ends, and the heap is not
	 * back to its level after boot). */
	for (int i = 0; i < 100 && dev.next_ev; i++)
		advance_ms(100);
	if (!dev.n->link) {
		dev.next_ev = NIC_EV_LINK_UP;
		advance_ms(200);
	}
	teardown();
	if (!leased()) {
		get_lease();
		if (!leased())
			fail("the DHCP lease could not be had again after the input", 0, 0);
		teardown();
	}
	check_released();
	return 0;
}
