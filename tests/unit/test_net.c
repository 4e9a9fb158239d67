/* test_net: net/net.c through drivers/nic.c on a fake NIC and fake lwIP instances, cores played in turn: steering, the TX hand-off with a full ring, the low-water copy path, fragments and ICMP errors reaching the flow's core, ARP, DHCP, leases, link events, the start-up order, a device reset. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "net/net.h"
#include "net/inst.h"
#include "net/flow.h"
#include "net/service.h"
#include "test.h"
#include "harness.h"
#include "ip6_walk.h"

#define NCORES 4                /* lwIP instances the test provides */
#define FQ 4                    /* most queue pairs the fake NIC offers */
#define FRAME_MAX 1600

/* ---- kernel services net.c and nic.c call (the console and allocation: tests/unit/host/harness.c) ---- */

/* Every allocation, with the arena (core) it came from: buffers must live in their owner's. */
struct alloc { uintptr_t p; uint64_t size; uint32_t core; };
static struct alloc allocs[4096];
static uint32_t nallocs;
static void record_alloc(void *p, uint64_t size, uint32_t core)
{
	if (nallocs < ARRAY_SIZE(allocs))
		allocs[nallocs++] = (struct alloc){ (uintptr_t)p, size, core };
}
static int arena_of(const void *p)
{
	for (uint32_t i = 0; i < nallocs; i++)
		if ((uintptr_t)p - allocs[i].p < allocs[i].size)
			return (int)allocs[i].core;
	return -1;
}

/* The core being played: this_cpu() (tests/unit/host/arch_inline.h) returns it. */
extern struct cpu *host_cpu;
static void on(uint32_t c) { host_cpu = &cpus[c]; }
static uint32_t me(void) { return host_cpu ? host_cpu->idx : ~0u; }

/* POLLUX_SERVICE (config/default.h: svc_http): net_init calls only its init. */
static int svc_inits;
static void svc_init(void) { svc_inits++; }
const struct svc svc_http = { .tcp_port = 80, .init = svc_init };
const struct svc svc_metrics = { .tcp_port = 9100 };

/* ---- the fake NIC ---- */
#define IDS 1024                /* RX buffer ids: pools are 2 * rx_size */
#define FIFO 1024               /* frames on the wire waiting for the device */
#define WIRE 1024               /* frames the device sent, per queue */

struct dframe { uint32_t len, hash, flags; uint8_t d[FRAME_MAX]; };
struct txent {
	uint32_t slot, nseg, len;
	bool flushed;           /* the doorbell rang: the device read it */
	struct nic_txo o;
	struct { uint64_t pa; uint32_t len; } seg[NIC_TX_MAX_SEGS];
};
struct wframe { uint32_t len, nseg; struct nic_txo o; uint8_t d[FRAME_MAX]; };

struct fq {
	uint8_t state[IDS];             /* 0 not posted, 1 posted (not seen yet), 2 seen by the device */
	uint8_t seen[IDS];              /* id checked once against the owner's arena */
	uint32_t pend[IDS], npend;      /* posted, seen at the next flush or start */
	uint32_t vis[IDS], vh, vt;      /* the device's buffers, in order */
	struct dframe in[FIFO];         /* arrived, waiting for a buffer */
	uint32_t ih, it;
	struct txent tx[512];           /* posted, not yet reaped, in order */
	uint32_t ntx, tx_used;          /* descriptors in use */
	struct wframe wire[WIRE];
	uint32_t nwire;
	bool tx_stall;                  /* the device finishes nothing: its ring fills */
	uint32_t rx_polls, flushes, min_posted, posts;
	uint32_t wrong_core, double_post, overfill, foreign_buf, tx_overrun, bad_slot, dead_calls;
};

static struct fdev {
	/* what attach reports */
	uint32_t pairs, rx_size, tx_size;
	struct nic_caps caps;
	bool link, refuse_rss;
	/* what happened */
	struct nic *n;
	uint32_t attach_calls, want, start_calls, reset_calls, slow_calls;
	uint32_t mcast_calls, mcast_cnt;        /* set_mcast: calls, and the last count (and list) */
	uint8_t mcast[NIC_MCAST_MAX][6];
	uint32_t wrong_core;            /* device calls off core 0 */
	bool live;                      /* started and not reset since */
	uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
	unsigned next_ev;
	struct fq q[FQ];
} dev;

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };

/* Toeplitz as the RSS specification defines it, written here as the reference (not flow.c's). */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, unsigned len)
{
	uint32_t h = 0, win = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (unsigned i = 0; i < len; i++)
		for (int b = 7; b >= 0; b--) {
			if (in[i] >> b & 1)
				h ^= win;
			win = win << 1 | (key[i + 4] >> b & 1);
		}
	return h;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t hash4(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
	uint8_t t[12];
	put32(t, s), put32(t + 4, d), put16(t + 8, sp), put16(t + 10, dp);
	return toeplitz(dev.key, t, 12);
}
static uint32_t hash2(uint32_t s, uint32_t d)
{
	uint8_t t[8];
	put32(t, s), put32(t + 4, d);
	return toeplitz(dev.key, t, 8);
}

static uint32_t hash6(const uint8_t *s, const uint8_t *d, uint16_t sp, uint16_t dp)
{
	uint8_t t[36];
	memcpy(t, s, 16), memcpy(t + 16, d, 16), put16(t + 32, sp), put16(t + 34, dp);
	return toeplitz(dev.key, t, 36);
}
static uint32_t hash6a(const uint8_t *s, const uint8_t *d)
{
	uint8_t t[32];
	memcpy(t, s, 16), memcpy(t + 16, d, 16);
	return toeplitz(dev.key, t, 32);
}

/* What an RSS NIC computes for an IPv6 frame (TCPv6, UDPv6, IPv6 types): the 4-tuple for TCP/UDP
 * after hop-by-hop, routing and destination options headers, the addresses for the rest and for
 * any packet with a fragment header (RSS hashes no fragment's ports). */
static uint32_t dev_hash6(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14;
	uint32_t off;
	uint8_t nh;
	bool frag = ip6_walk(f, len, 16, &off, &nh);
	if (!frag && (nh == 6 || nh == 17) && 14 + off + 4 <= len)
		return hash6(ip + 8, ip + 24, (uint16_t)(ip[off] << 8 | ip[off + 1]), (uint16_t)(ip[off + 2] << 8 | ip[off + 3]));
	return hash6a(ip + 8, ip + 24);
}

/* What an RSS NIC computes for a frame: 4-tuple for whole TCP/UDP, addresses for other IPv4 and
 * IPv6 and for every fragment (RSS never hashes ports of a fragment), nothing for the rest. */
static bool dev_hash(const uint8_t *f, uint32_t len, uint32_t *h)
{
	if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd) {
		*h = dev_hash6(f, len);
		return true;
	}
	if (len < 34 || f[12] != 8 || f[13] != 0)
		return false;
	const uint8_t *ip = f + 14;
	bool frag = (ip[6] & 0x3f) || ip[7];
	if (!frag && (ip[9] == 6 || ip[9] == 17))
		*h = hash4(get32(ip + 12), get32(ip + 16), (uint16_t)(ip[20] << 8 | ip[21]), (uint16_t)(ip[22] << 8 | ip[23]));
	else
		*h = hash2(get32(ip + 12), get32(ip + 16));
	return true;
}

/* A frame arrives on queue q. */
static void inject(uint32_t q, const uint8_t *f, uint32_t len)
{
	struct fq *fq = &dev.q[q];
	if (fq->it - fq->ih == FIFO) {
		CHECK(!"test FIFO full");
		return;
	}
	struct dframe *d = &fq->in[fq->it++ % FIFO];
	memcpy(d->d, f, len);
	d->len = len;
	d->flags = dev.n->caps.rx_csum ? NIC_RX_CSUM_OK : 0;
	d->hash = 0;
	if (dev.n->caps.rx_hash && dev_hash(f, len, &d->hash))
		d->flags |= NIC_RX_HASH;
}

/* A frame arrives from the wire: RSS places it by its hash (non-IP on queue 0), else queue 0. */
static uint32_t wire_in(const uint8_t *f, uint32_t len)
{
	uint32_t h, q = 0;
	if (dev.n->caps.rss && dev_hash(f, len, &h))
		q = dev.reta[h % dev.n->caps.reta_len];
	inject(q, f, len);
	return q;
}

static struct pci_dev fake_pci = { .vendor = 0xfa4e, .device = 0x0001 };
/* nic_wc_ranges (not called here) links against the PCI scan and BARs. */
int pci_scan(const struct acpi_info *ai) { (void)ai; return 0; }
uint64_t pci_bar_addr(const struct pci_dev *d, int bar) { (void)d, (void)bar; return 0; }
uint64_t pci_bar_size(const struct pci_dev *d, int bar) { (void)d, (void)bar; return 0; }

static int pci_finds;
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	pci_finds++;
	return vendor == fake_pci.vendor && device == fake_pci.device && nth == 0 && dev.pairs ? &fake_pci : NULL;
}

static bool dev_on(uint32_t q)
{
	struct fq *fq = &dev.q[q];
	if (me() != q) {
		fq->wrong_core++;
		return false;
	}
	return true;
}

static int fake_attach(struct nic *n, struct pci_dev *d, uint32_t want)
{
	dev.attach_calls++;
	dev.want = want;
	CHECK(d == &fake_pci);
	CHECK_EQ(me(), 0);
	dev.n = n;
	n->caps = dev.caps;
	memcpy(n->mac, our_mac, 6);
	n->npairs = dev.pairs < want ? dev.pairs : want;
	n->rx_size = dev.rx_size;
	n->tx_size = dev.tx_size;
	n->link = dev.link;
	n->priv = &dev;
	for (uint32_t q = 0; q < FQ; q++)
		dev.q[q].min_posted = ~0u;
	return 0;
}

static int fake_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	CHECK_EQ(me(), 0);
	for (uint32_t q = 0; q < n->npairs; q++) {
		struct fq *fq = &dev.q[q];
		/* every ring filled before going live (as far as the pool allows: half a ring at least) */
		CHECK(fq->npend + (fq->vt - fq->vh) >= n->rx_size / 2);
		if (dev.start_calls == 0)
			CHECK_EQ(fq->npend, n->rx_size);
		for (uint32_t i = 0; i < fq->npend; i++) {
			fq->state[fq->pend[i]] = 2;
			fq->vis[fq->vt++ % IDS] = fq->pend[i];
		}
		fq->npend = 0;
	}
	if (dev.start_calls++) {
		CHECK(memcmp(dev.key, key, NIC_RSS_KEY_LEN) == 0);     /* a restart keeps the placement */
		CHECK(memcmp(dev.reta, reta, NIC_RETA_LEN) == 0);
	}
	memcpy(dev.key, key, NIC_RSS_KEY_LEN);
	memcpy(dev.reta, reta, NIC_RETA_LEN);
	if (dev.refuse_rss)
		n->caps.rss = false;
	dev.live = true;
	return 0;
}

static void fake_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt)
{
	struct fq *fq = &dev.q[q];
	/* the owner posts, or core 0 while filling every ring before the first start */
	if (me() != q && !(me() == 0 && dev.start_calls == 0))
		fq->wrong_core++;
	fq->posts++;
	for (uint32_t i = 0; i < cnt; i++) {
		uint32_t id = ids[i];
		if (id >= IDS || id >= 2 * n->rx_size || fq->state[id]) {
			fq->double_post++;
			continue;
		}
		if (!fq->seen[id]) {
			fq->seen[id] = 1;
			if (arena_of(nic_rx_buf(q, id)) != (int)q || arena_of(nic_rx_buf(q, id) + NIC_BUF_SIZE - 1) != (int)q)
				fq->foreign_buf++;
		}
		fq->state[id] = 1;
		fq->pend[fq->npend++] = id;
	}
	if (fq->npend + (fq->vt - fq->vh) > n->rx_size)
		fq->overfill++;
}

static int fake_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max)
{
	struct fq *fq = &dev.q[q];
	if (!dev_on(q))
		return 0;
	if (!dev.live)
		fq->dead_calls++;
	fq->rx_polls++;
	int k = 0;
	while (k < max && fq->ih != fq->it && fq->vh != fq->vt) {
		struct dframe *d = &fq->in[fq->ih++ % FIFO];
		uint32_t id = fq->vis[fq->vh++ % IDS];
		fq->state[id] = 0;
		memcpy(nic_rx_buf(q, id) + n->caps.rx_hdr, d->d, d->len);
		out[k++] = (struct nic_rxd){ id, d->len, d->hash, d->flags };
	}
	return k;
}

static bool fake_tx_room(struct nic *n, uint32_t q, uint32_t nseg)
{
	if (!dev_on(q))
		return false;
	return dev.q[q].tx_used + nseg <= n->tx_size;
}

static void fake_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d)
{
	struct fq *fq = &dev.q[q];
	if (!dev_on(q))
		return;
	if (!dev.live)
		fq->dead_calls++;
	if (fq->tx_used + d->nseg > n->tx_size || fq->ntx == ARRAY_SIZE(fq->tx) || d->nseg > NIC_TX_MAX_SEGS) {
		fq->tx_overrun++;
		return;
	}
	for (uint32_t i = 0; i < fq->ntx; i++)
		if (fq->tx[i].slot == d->slot)
			fq->bad_slot++;         /* a slot the device still has */
	if (d->slot >= n->tx_size || d->buf == NULL || d->seg[0].pa != (uint64_t)(uintptr_t)d->buf)
		fq->bad_slot++;
	struct txent *e = &fq->tx[fq->ntx++];
	e->slot = d->slot, e->nseg = d->nseg, e->len = d->len, e->o = d->o, e->flushed = false;
	memcpy(e->seg, d->seg, sizeof(e->seg[0]) * d->nseg);
	fq->tx_used += d->nseg;
}

static int fake_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max)
{
	struct fq *fq = &dev.q[q];
	(void)n;
	if (!dev_on(q) || fq->tx_stall)
		return 0;
	int k = 0;
	while (k < max && fq->ntx && fq->tx[0].flushed) {
		slots[k++] = fq->tx[0].slot;
		fq->tx_used -= fq->tx[0].nseg;
		memmove(fq->tx, fq->tx + 1, sizeof(fq->tx[0]) * --fq->ntx);
	}
	return k;
}

/* The doorbell: the device sees new RX buffers and reads the frames posted (pieces in place now). */
static void fake_flush(struct nic *n, uint32_t q)
{
	struct fq *fq = &dev.q[q];
	if (!dev_on(q))
		return;
	fq->flushes++;
	for (uint32_t i = 0; i < fq->npend; i++) {
		fq->state[fq->pend[i]] = 2;
		fq->vis[fq->vt++ % IDS] = fq->pend[i];
	}
	fq->npend = 0;
	if (fq->vt - fq->vh < fq->min_posted)
		fq->min_posted = fq->vt - fq->vh;
	for (uint32_t i = 0; i < fq->ntx; i++) {
		struct txent *e = &fq->tx[i];
		if (e->flushed)
			continue;
		e->flushed = true;
		if (fq->nwire == WIRE)
			continue;
		struct wframe *w = &fq->wire[fq->nwire++];
		uint32_t off = 0;
		for (uint32_t s = 0; s < e->nseg; s++) {
			const uint8_t *p = (const uint8_t *)(uintptr_t)e->seg[s].pa;
			uint32_t l = e->seg[s].len;
			if (s == 0)
				p += n->caps.tx_hdr, l -= n->caps.tx_hdr;
			if (off + l <= FRAME_MAX)
				memcpy(w->d + off, p, l);
			off += l;
		}
		w->len = off;
		w->nseg = e->nseg;
		w->o = e->o;
		if (off != e->len)
			fq->bad_slot++;
	}
}

static unsigned fake_slow_poll(struct nic *n)
{
	dev.wrong_core += me() != 0;
	dev.slow_calls++;
	unsigned ev = dev.next_ev;
	dev.next_ev = 0;
	if (ev & NIC_EV_LINK_DOWN)
		n->link = false;
	if (ev & NIC_EV_LINK_UP)
		n->link = true;
	return ev;
}

/* Rings empty and not live, as attach left them; frames on the wire are lost, as on a real reset. */
static int fake_reset(struct nic *n)
{
	CHECK_EQ(me(), 0);
	dev.reset_calls++;
	dev.live = false;
	for (uint32_t q = 0; q < n->npairs; q++) {
		struct fq *fq = &dev.q[q];
		memset(fq->state, 0, sizeof(fq->state));
		fq->npend = 0;
		fq->vh = fq->vt = 0;
		fq->ntx = fq->tx_used = 0;
		fq->ih = fq->it;
	}
	return 0;
}

static unsigned fake_counters(struct nic *n, int q, struct nic_counter *out, unsigned max)
{
	(void)n;
	if (max < 1)
		return 0;
	out[0] = q < 0 ? (struct nic_counter){ "fake_slow_polls", dev.slow_calls }
		       : (struct nic_counter){ "fake_doorbells", dev.q[q].flushes };
	return 1;
}

static int fake_set_mcast(struct nic *n, const uint8_t (*mac)[6], uint32_t cnt)
{
	(void)n;
	CHECK_EQ(me(), 0);
	dev.mcast_calls++;
	dev.mcast_cnt = cnt;
	if (cnt <= NIC_MCAST_MAX)
		memcpy(dev.mcast, mac, 6 * (size_t)cnt);
	return cnt > NIC_MCAST_MAX;
}

static const struct nic_ops fake_ops = {
	.name = "fake",
	.attach = fake_attach,
	.start = fake_start,
	.rx_post = fake_rx_post,
	.rx_poll = fake_rx_poll,
	.tx_room = fake_tx_room,
	.tx_post = fake_tx_post,
	.tx_reap = fake_tx_reap,
	.flush = fake_flush,
	.slow_poll = fake_slow_poll,
	.reset = fake_reset,
	.counters = fake_counters,
	.set_mcast = fake_set_mcast,
};
/* drivers/nic.c's probe table names these: the fake is the first, the others serve nothing. */
static const struct nic_id fake_ids[] = { { 0xfa4e, 0x0001 }, { 0, 0 } };
static const struct nic_id no_ids[] = { { 0, 0 } };
const struct nic_driver vnet_driver = { &fake_ops, fake_ids };
const struct nic_driver ena_driver = { NULL, no_ids };
const struct nic_driver igb_driver = { NULL, no_ids }, ixgbe_driver = { NULL, no_ids };

/* ---- fake lwIP instances: record what reaches each core ---- */
#define REC_MAX 4096
struct rec {
	uint64_t fnv;
	uint32_t len;
	unsigned flags;
	bool copy;              /* through input_copy */
};
static struct finst {
	int inits;
	int tx_ends;            /* loop iterations the instance was told of, before the doorbell */
	uint32_t flushes_at_tx_end;     /* its queue's doorbells when last told */
	struct net_inst_cfg cfg;
	struct rec rx[REC_MAX];
	uint32_t nrx;
	bool hold;              /* the stack keeps zero-copy buffers until stack_release */
	struct held { void (*release)(void *, void *); void *frame, *arg; } held[1024];
	uint32_t nheld;
	uint32_t ip, mask, gw;  /* core 0: what addr() reports */
	uint8_t ip6[4][16];     /* what addr6() reports: n6 of them */
	unsigned n6;
	uint32_t nset, set_ip, set_mask, set_gw;
	uint32_t gen6, valid6, pref6;   /* core 0: what dhcp6() reports, with ip6[3] */
	uint32_t nset6, set6_valid, set6_pref;  /* set_addr6 calls, the last one's values in set6 */
	uint8_t set6[16];
	uint32_t link_down, link_up, polls, tx_done;
	void *tx_done_ref;
	uint32_t wrong_core, foreign_frame, addr_asked;
	bool answer;            /* each frame in is served and answered with a frame out (prof) */
	uint32_t served;
	uint8_t mc[3][6];       /* what mcast() reports: nmc addresses (NIC_MCAST_ALL: overflow), gen */
	uint32_t nmc, mc_gen, mc_asked;
} fi[NCORES];

static uint64_t fnv(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void fi_check(uint32_t c)
{
	if (me() != c)
		fi[c].wrong_core++;     /* an instance is only ever called from its own core */
}
static void fi_record(uint32_t c, const void *f, uint32_t len, unsigned flags, bool copy)
{
	if (fi[c].nrx < REC_MAX)
		fi[c].rx[fi[c].nrx++] = (struct rec){ fnv(f, len), len, flags, copy };
}
/* What inst_svc.c does around its service, and a link output: the frame back out. */
static void fi_answer(uint32_t c, const void *f, uint32_t len)
{
	const struct net_inst_cfg *g = &fi[c].cfg;
	if (!fi[c].answer)
		return;
	CHECK(g->prof_on && g->prof_svc && g->prof_svc_end);
	unsigned back = *g->prof_on ? g->prof_svc() : 0;
	fi[c].served++;
	if (*g->prof_on)
		g->prof_svc_end(back);
	struct nic_frag fr = { f, len };
	g->tx(c, &fr, 1, NULL, NULL);
}
static int fi_init(uint32_t c, const struct net_inst_cfg *cfg)
{
	fi_check(c);
	fi[c].inits++;
	fi[c].cfg = *cfg;
	return 0;
}
static void fi_input(uint32_t c, void *f, uint32_t len, unsigned flags, void (*release)(void *, void *), void *arg)
{
	fi_check(c);
	if (arena_of(f) != (int)c)
		fi[c].foreign_frame++;  /* zero-copy frames come from this core's own queue */
	fi_record(c, f, len, flags, false);
	fi_answer(c, f, len);
	if (fi[c].hold && fi[c].nheld < ARRAY_SIZE(fi[c].held)) {
		fi[c].held[fi[c].nheld++] = (struct held){ release, f, arg };
		return;
	}
	release(f, arg);
}
static void fi_input_copy(uint32_t c, const void *f, uint32_t len, unsigned flags)
{
	fi_check(c);
	fi_record(c, f, len, flags, true);
	fi_answer(c, f, len);
}
static void fi_tx_done(uint32_t c, void *ref) { fi_check(c); fi[c].tx_done++; fi[c].tx_done_ref = ref; }
static void fi_poll(uint32_t c) { fi_check(c); fi[c].polls++; }
static void fi_tx_end(uint32_t c)
{
	fi_check(c);
	fi[c].tx_ends++;
	fi[c].flushes_at_tx_end = dev.q[c].flushes;
}
static uint32_t fi_addr(uint32_t c, uint32_t *mask, uint32_t *gw)
{
	fi_check(c);
	fi[c].addr_asked += c != 0;     /* only core 0's address is published */
	*mask = fi[c].mask, *gw = fi[c].gw;
	return fi[c].ip;
}
static unsigned fi_addr6(uint32_t c, uint8_t (*out)[16], unsigned max)
{
	fi_check(c);
	unsigned n = fi[c].n6 < max ? fi[c].n6 : max;
	memcpy(out, fi[c].ip6, 16 * n);
	return n;
}
static void fi_set_addr(uint32_t c, uint32_t ip, uint32_t mask, uint32_t gw)
{
	fi_check(c);
	fi[c].nset++, fi[c].set_ip = ip, fi[c].set_mask = mask, fi[c].set_gw = gw;
}
static uint32_t fi_dhcp6(uint32_t c, uint8_t a[16], uint32_t *valid, uint32_t *pref)
{
	fi_check(c);
	memcpy(a, fi[c].ip6[3], 16);
	*valid = fi[c].valid6, *pref = fi[c].pref6;
	return fi[c].gen6;
}
static void fi_set_addr6(uint32_t c, const uint8_t a[16], uint32_t valid, uint32_t pref)
{
	fi_check(c);
	fi[c].nset6++, memcpy(fi[c].set6, a, 16), fi[c].set6_valid = valid, fi[c].set6_pref = pref;
}
static uint32_t fi_mcast(uint32_t c, uint8_t (*out)[6], uint32_t *cnt)
{
	fi_check(c);
	fi[c].mc_asked++;
	*cnt = fi[c].nmc;
	if (fi[c].nmc <= 3)
		memcpy(out, fi[c].mc, 6 * (size_t)fi[c].nmc);
	return fi[c].mc_gen;
}
static void fi_stats(uint32_t c, struct net_inst_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->rx_frames = fi[c].nrx;
}
static void fi_mem(uint32_t c, struct net_inst_mem *out)
{
	memset(out, 0, sizeof(*out));
	out->budget = fi[c].cfg.mem_budget;
}
static void fi_link(uint32_t c, bool up)
{
	fi_check(c);
	if (up)
		fi[c].link_up++;
	else
		fi[c].link_down++;
}

#define FAKE_INST(c) \
	static int fi_init##c(const struct net_inst_cfg *cfg) { return fi_init(c, cfg); } \
	static void fi_input##c(void *f, uint32_t len, unsigned fl, void (*rel)(void *, void *), void *arg) \
	{ fi_input(c, f, len, fl, rel, arg); } \
	static void fi_input_copy##c(const void *f, uint32_t len, unsigned fl) { fi_input_copy(c, f, len, fl); } \
	static void fi_tx_done##c(void *ref) { fi_tx_done(c, ref); } \
	static void fi_poll##c(void) { fi_poll(c); } \
	static void fi_tx_end##c(void) { fi_tx_end(c); } \
	static uint32_t fi_addr##c(uint32_t *m, uint32_t *g) { return fi_addr(c, m, g); } \
	static unsigned fi_addr6##c(uint8_t (*o)[16], unsigned max) { return fi_addr6(c, o, max); } \
	static void fi_set_addr##c(uint32_t i, uint32_t m, uint32_t g) { fi_set_addr(c, i, m, g); } \
	static void fi_stats##c(struct net_inst_stats *o) { fi_stats(c, o); } \
	static uint32_t fi_dhcp6##c(uint8_t a[16], uint32_t *v, uint32_t *p) { return fi_dhcp6(c, a, v, p); } \
	static void fi_set_addr6##c(const uint8_t a[16], uint32_t v, uint32_t p) { fi_set_addr6(c, a, v, p); } \
	static void fi_link##c(bool up) { fi_link(c, up); } \
	static void fi_mem##c(struct net_inst_mem *o) { fi_mem(c, o); } \
	static uint32_t fi_mcast##c(uint8_t (*o)[6], uint32_t *n) { return fi_mcast(c, o, n); } \
	static const struct net_inst fi_inst##c = { .init = fi_init##c, .input = fi_input##c, \
		.input_copy = fi_input_copy##c, .tx_done = fi_tx_done##c, .poll = fi_poll##c, .tx_end = fi_tx_end##c, \
		.addr = fi_addr##c, \
		.addr6 = fi_addr6##c, .set_addr = fi_set_addr##c, .stats = fi_stats##c, .link = fi_link##c, .mem = fi_mem##c, \
		.dhcp6 = fi_dhcp6##c, .set_addr6 = fi_set_addr6##c, .mcast = fi_mcast##c };
FAKE_INST(0)
FAKE_INST(1)
FAKE_INST(2)
FAKE_INST(3)
const struct net_inst *const lwip_insts[] = { &fi_inst0, &fi_inst1, &fi_inst2, &fi_inst3 };
const unsigned lwip_ninsts = NCORES;

/* The stack of core c lets go of every buffer it kept. */
static void stack_release(uint32_t c)
{
	on(c);
	for (uint32_t i = 0; i < fi[c].nheld; i++)
		fi[c].held[i].release(fi[c].held[i].frame, fi[c].held[i].arg);
	fi[c].nheld = 0;
}

/* Send a frame from core c's instance, the way it would: through the cfg.tx net.c gave it. */
static int inst_tx(uint32_t c, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	on(c);
	return fi[c].cfg.tx(c, f, n, o, ref);
}

/* ---- frames ---- */
#define US 0xc6130002u          /* 198.19.0.2: our address */
#define PEER(i) (0xc6120000u + 0x100u * (1 + (i) % 200) + 9 + (i) / 200)     /* 198.18.x.y */
static uint32_t tag;            /* makes every frame unique */

static uint32_t eth(uint8_t *f, uint16_t type)
{
	memcpy(f, our_mac, 6);
	memcpy(f + 6, "\x02\x00\x5e\x10\x00\x02", 6);
	put16(f + 12, type);
	return 14;
}

static void ipv4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id, uint16_t frag, uint32_t l4len)
{
	eth(f, 0x0800);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[8] = 64, ip[9] = proto;
	put16(ip + 2, 20 + l4len), put16(ip + 4, id), put16(ip + 6, frag);
	put32(ip + 12, src), put32(ip + 16, dst);
}

static void payload(uint8_t *p, uint32_t n)
{
	tag++;
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(tag >> (8 * (i % 4)) ^ i);
}

/* TCP (proto 6) or UDP (17) from src:sp to dst:dp with plen payload bytes. */
static uint32_t l4_frame(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t plen)
{
	uint32_t hl = proto == 6 ? 20 : 8;
	ipv4(f, proto, src, dst, (uint16_t)tag, 0, hl + plen);
	uint8_t *l4 = f + 34;
	memset(l4, 0, hl);
	put16(l4, sp), put16(l4 + 2, dp);
	if (proto == 6)
		l4[12] = 0x50, l4[13] = 0x10;
	else
		put16(l4 + 4, hl + plen);
	payload(l4 + hl, plen);
	return 34 + hl + plen;
}

/* An IPv4 fragment of a UDP datagram: offset in 8-byte units; the first carries the UDP header. */
static uint32_t frag_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t id, uint16_t off8, bool mf, uint16_t sp,
			   uint16_t dp, uint32_t plen)
{
	ipv4(f, 17, src, dst, id, (uint16_t)((mf ? 0x2000 : 0) | off8), plen);
	payload(f + 34, plen);
	if (off8 == 0)
		put16(f + 34, sp), put16(f + 36, dp), put16(f + 38, 64), put16(f + 40, 0);
	return 34 + plen;
}

static uint32_t arp_frame(uint8_t *f, uint16_t op, uint32_t sip, uint32_t tip)
{
	memset(f, 0, 60);
	eth(f, 0x0806);
	memset(f, 0xff, 6);
	uint8_t *a = f + 14;
	put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, op);
	memcpy(a + 8, "\x02\x00\x5e\x10\x00\x02", 6), put32(a + 14, sip);
	put32(a + 24, tip);
	return 60;              /* padded to the Ethernet minimum */
}

/* ICMP destination (port) unreachable from `from` about the UDP datagram we sent us:usp -> peer:pp. */
static uint32_t icmp_unreach(uint8_t *f, uint32_t from, uint16_t usp, uint32_t peer, uint16_t pp)
{
	ipv4(f, 1, from, US, (uint16_t)++tag, 0, 8 + 20 + 8);
	uint8_t *ic = f + 34, *in = ic + 8;
	memset(ic, 0, 36);
	ic[0] = 3, ic[1] = 3;
	in[0] = 0x45, in[8] = 64, in[9] = 17;
	put16(in + 2, 20 + 8 + 32), put16(in + 4, (uint16_t)tag);
	put32(in + 12, US), put32(in + 16, peer);
	put16(in + 20, usp), put16(in + 22, pp), put16(in + 24, 8 + 32);
	return 34 + 36;
}

/* ---- driving the cores ---- */
static uint32_t g_cores;        /* cores taking part */
static uint32_t g_period = NIC_RETA_LEN;

/* The core net.c must serve a flow hash on: bucket (hash % 128) to core bucket % cores, with the
 * NIC's shorter table repeating. */
static uint32_t core_for(uint32_t h) { return (h % NIC_RETA_LEN % g_period) % g_cores; }

static void poll_core(uint32_t c)
{
	on(c);
	net_poll(&cpus[c], host_clock);
}

/* One iteration of every core's loop, 10 us apart. */
static void loop_once(void)
{
	for (uint32_t c = 0; c < g_cores; c++) {
		poll_core(c);
		host_clock += 10;
	}
}

static bool fifos_empty(void)
{
	for (uint32_t q = 0; q < FQ; q++)
		if (dev.q[q].ih != dev.q[q].it)
			return false;
	return true;
}

/* Loop until the wire is drained and the cross-core rings with it. */
static void settle(void)
{
	for (int i = 0; i < 2000 && !fifos_empty(); i++)
		loop_once();
	for (int i = 0; i < 4; i++)
		loop_once();
}

/* Every core's loop for ms milliseconds of the host clock. */
static void run_ms(uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++) {
		for (uint32_t c = 0; c < g_cores; c++)
			poll_core(c);
		host_clock += HZ / 1000;
	}
}

/* Which core's instance got frame f: the core, -1 for none, -2 for more than one (or twice). */
static int where(const uint8_t *f, uint32_t len, bool *copy)
{
	uint64_t h = fnv(f, len);
	int at = -1;
	for (uint32_t c = 0; c < NCORES; c++)
		for (uint32_t i = 0; i < fi[c].nrx; i++)
			if (fi[c].rx[i].fnv == h && fi[c].rx[i].len == len) {
				if (at != -1)
					return -2;
				at = (int)c;
				if (copy)
					*copy = fi[c].rx[i].copy;
			}
	return at;
}

/* A counter of net_print_stats's tables: column col of core c's row (~0 when absent). */
static uint64_t stat(uint32_t c, const char *col)
{
	size_t mark = klen;
	net_print_stats();
	char *save = NULL, *line, names[32][16];
	int ncol = 0;
	uint64_t v = ~0ull;
	for (line = strtok_r(klog + mark, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[32], *s2 = NULL;
		int nt = 0;
		for (char *t = strtok_r(line, " ", &s2); t && nt < 32; t = strtok_r(NULL, " ", &s2))
			tok[nt++] = t;
		if (nt && !strcmp(tok[0], "core")) {
			ncol = nt;
			for (int i = 0; i < nt; i++)
				snprintf(names[i], sizeof(names[i]), "%s", tok[i]);
			continue;
		}
		if (nt != ncol || !ncol || strtoul(tok[0], NULL, 10) != c || tok[0][0] < '0' || tok[0][0] > '9')
			continue;
		for (int i = 0; i < nt; i++)
			if (!strcmp(names[i], col))
				v = strtoull(tok[i], NULL, 10);
	}
	klen = mark;            /* the tables are not part of the log */
	klog[klen] = 0;
	return v;
}

struct setup {
	uint32_t pairs, cores;
	uint32_t ask;           /* cores net_init is asked for (0: cores) */
	bool rss, rx_hash, tx_csum, rx_csum, tx_sg, refuse_rss, link_down;
	uint16_t reta_len, rx_hdr, tx_hdr;
	uint32_t tso_max;
	uint32_t rx_size, tx_size;
};

/* The boot core's part: attach, rings, start. */
static void boot_net(const struct setup *s)
{
	dev.pairs = s->pairs;
	dev.rx_size = s->rx_size ? s->rx_size : 64;
	dev.tx_size = s->tx_size ? s->tx_size : 64;
	dev.caps = (struct nic_caps){ .max_pairs = s->pairs, .rss = s->rss, .rx_hash = s->rx_hash, .tx_csum = s->tx_csum,
				      .rx_csum = s->rx_csum, .tx_sg = s->tx_sg, .reta_len = s->reta_len ? s->reta_len : 128,
				      .rx_hdr = s->rx_hdr, .tx_hdr = s->tx_hdr, .tso_max = s->tso_max };
	dev.link = !s->link_down;
	dev.refuse_rss = s->refuse_rss;
	for (uint32_t c = 0; c < POLLUX_MAX_CORES; c++)
		cpus[c].self = &cpus[c], cpus[c].idx = c;
	g_cores = s->cores;
	host_clock = 1000 * HZ;
	on(0);
	CHECK_EQ(net_init(s->ask ? s->ask : s->cores), 0);
	CHECK_EQ(svc_inits, 1);
	CHECK_EQ(dev.attach_calls, 1);
	CHECK_EQ(dev.want, s->cores);
	CHECK_EQ(dev.start_calls, 1);
	g_period = s->rss && !s->refuse_rss && dev.caps.reta_len < NIC_RETA_LEN ? dev.caps.reta_len : NIC_RETA_LEN;
	/* the one table: bucket i to core i % cores (repeating with the NIC's table), and the NIC's
	 * entry to that core's queue (its own, or the owner that steers for it) */
	uint32_t npairs = s->pairs < s->cores ? s->pairs : s->cores, bad = 0;
	for (uint32_t i = 0; i < dev.caps.reta_len; i++)
		bad += dev.reta[i] != core_for(i) % npairs;
	CHECK_EQ(bad, 0);
}

/* One core's part, on that core. */
static void core_up(uint32_t c)
{
	uint32_t flushes = c < dev.n->npairs ? dev.q[c].flushes : 0;
	on(c);
	CHECK_EQ(net_core_init(&cpus[c]), 0);
	CHECK_EQ(fi[c].inits, 1);
	const struct net_inst_cfg *g = &fi[c].cfg;
	CHECK_EQ(g->core, c);
	CHECK(memcmp(g->mac, our_mac, 6) == 0);
	CHECK_EQ(g->mtu, 1500);
	CHECK_EQ(g->dhcp, c == 0);      /* config/default.h: DHCP, asked by core 0 only */
	CHECK_EQ(g->ip, 0);
	/* Network memory: the configured share of the core's arena, taken from that arena. */
	CHECK_EQ(g->mem_budget, harness_arena_bytes / 100 * POLLUX_NET_MEM_PCT);
	CHECK_EQ(g->max_conns, POLLUX_MAX_CONNS);
	uint8_t *chunk = g->mem_grow(c, NET_INST_CHUNK);
	CHECK_EQ(arena_of(chunk), c);
	CHECK_EQ(arena_of(chunk + NET_INST_CHUNK - 1), c);
	CHECK(g->svc == &svc_http);
	CHECK_EQ(g->csum_offload, dev.caps.tx_csum);
	/* Segmentation frames from a queue's owner only: a cross-core ring slot holds one frame. */
	CHECK_EQ(g->tso_max, c < dev.n->npairs && dev.caps.tx_csum ? dev.caps.tso_max : 0);
	CHECK(g->tx != NULL);
	if (c < dev.n->npairs)
		CHECK_EQ(dev.q[c].flushes, flushes + 1);        /* the queue's first doorbell */
}

static void net_up(const struct setup *s)
{
	boot_net(s);
	for (uint32_t c = 0; c < s->cores; c++)
		core_up(c);
}

/* What must hold at the end of every scenario: each call on its core, no buffer posted twice or
 * beyond the ring, no TX overrun, no device call while it was reset, no frame given twice. */
static void check_invariants(void)
{
	uint32_t wrong = 0, dbl = 0, over = 0, foreign = 0, txo = 0, slot = 0, dead = 0, iwrong = 0, iforeign = 0;
	for (uint32_t q = 0; q < FQ; q++) {
		struct fq *fq = &dev.q[q];
		wrong += fq->wrong_core, dbl += fq->double_post, over += fq->overfill, foreign += fq->foreign_buf;
		txo += fq->tx_overrun, slot += fq->bad_slot, dead += fq->dead_calls;
	}
	for (uint32_t c = 0; c < NCORES; c++)
		iwrong += fi[c].wrong_core + fi[c].addr_asked, iforeign += fi[c].foreign_frame;
	CHECK_EQ(dev.wrong_core, 0);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(dbl, 0);
	CHECK_EQ(over, 0);
	CHECK_EQ(foreign, 0);
	CHECK_EQ(txo, 0);
	CHECK_EQ(slot, 0);
	CHECK_EQ(dead, 0);
	CHECK_EQ(iwrong, 0);
	CHECK_EQ(iforeign, 0);
	CHECK(!strstr(klog, "panic"));
}

/* ---- scenarios ---- */

/* The reference Toeplitz against the RSS specification's published example, and flow.c against it. */
static void s_toeplitz(void)
{
	static const uint8_t k[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
				       0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
				       0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa };
	/* 66.9.149.187:2794 -> 161.142.100.80:1766 */
	static const uint8_t in[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6 };
	CHECK_EQ(toeplitz(k, in, 12), 0x51ccc178);
	CHECK_EQ(toeplitz(k, in, 8), 0x323e8fc2);
	static struct flow_key fk;
	flow_key_init(&fk, k);
	CHECK_EQ(flow_hash(&fk, in, 12), 0x51ccc178);
}

/* (1) One queue, four cores: the owner steers each TCP/UDP flow to core_of[toeplitz % 128]. */
static void s_steer_one_queue(void)
{
	net_up(&(struct setup){ .pairs = 1, .cores = NCORES, .rx_csum = true, .tx_csum = true, .tso_max = 0xffff });
	/* the key is this boot's own, not a constant */
	uint32_t same = 0;
	for (int i = 1; i < NIC_RSS_KEY_LEN; i++)
		same += dev.key[i] == dev.key[0];
	CHECK(same < 8);
	static uint8_t f[1000][128];
	uint32_t len[1000], want[1000], per[NCORES] = { 0 };
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t proto = i % 3 ? 6 : 17;
		uint16_t sp = (uint16_t)(1024 + i * 7), dp = i % 2 ? 80 : 443;
		len[i] = l4_frame(f[i], proto, PEER(i), US, sp, dp, 16 + i % 50);
		want[i] = core_for(hash4(PEER(i), US, sp, dp));
		inject(0, f[i], len[i]);
		if (i % 100 == 99)
			settle();
	}
	settle();
	uint32_t right = 0, zc0 = 0, copied = 0, csum = 0;
	uint64_t steered = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		bool copy = false;
		int at = where(f[i], len[i], &copy);
		right += at == (int)want[i];
		per[want[i]]++;
		zc0 += at == 0 && !copy;
		copied += at > 0 && copy;
		steered += want[i] != 0;
	}
	CHECK_EQ(right, 1000);
	for (uint32_t c = 0; c < NCORES; c++)
		CHECK(per[c] > 150);    /* every core gets its share */
	CHECK_EQ(zc0, per[0]);          /* the owner's own flows in place, the others copied over */
	CHECK_EQ(copied, 1000 - per[0]);
	for (uint32_t c = 0; c < NCORES; c++)
		for (uint32_t i = 0; i < fi[c].nrx; i++)
			csum += fi[c].rx[i].flags == NIC_RX_CSUM_OK;
	CHECK_EQ(csum, 1000);           /* the NIC's checksum verdict crosses cores with the frame */
	CHECK_EQ(stat(0, "steered"), steered);
	CHECK_EQ(stat(0, "xdrops"), 0);
	CHECK_EQ(stat(0, "not_up"), 0);
	struct nic_qstats qs;
	nic_qstats(0, &qs);
	CHECK_EQ(qs.rx_packets, 1000);
	CHECK_EQ(qs.rx_copied, 0);
	CHECK_EQ(dev.q[0].ih, dev.q[0].it);
	/* Every iteration of the owner's loop ends its instance's TX batch before the doorbell; the
	 * cores without a queue have neither. */
	int ends = fi[0].tx_ends;
	poll_core(0);
	CHECK_EQ(fi[0].tx_ends, ends + 1);
	CHECK_EQ(dev.q[0].flushes, fi[0].flushes_at_tx_end + 1);
	for (uint32_t c = 1; c < NCORES; c++)
		CHECK_EQ(fi[c].tx_ends, 0);
	check_invariants();
}

/* (1b) Two RSS queues for four cores, the NIC reporting its hash: the NIC sends a bucket to its
 * core's owner, which passes it on; net_init asked for every core (clamped to the instances). */
static void s_steer_two_queues(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = NCORES, .ask = POLLUX_MAX_CORES, .rss = true, .rx_hash = true });
	uint32_t right = 0, onq[2] = { 0 }, wantq[2] = { 0 };
	static uint8_t f[600][128];
	uint32_t len[600], want[600];
	for (uint32_t i = 0; i < 600; i++) {
		uint16_t sp = (uint16_t)(20000 + i * 13);
		len[i] = l4_frame(f[i], i % 2 ? 6 : 17, PEER(i + 3), US, sp, 80, 8);
		want[i] = core_for(hash4(PEER(i + 3), US, sp, 80));
		uint32_t q = wire_in(f[i], len[i]);
		onq[q]++;
		wantq[want[i] % 2]++;
		if (i % 50 == 49)
			settle();
	}
	settle();
	for (uint32_t i = 0; i < 600; i++)
		right += where(f[i], len[i], NULL) == (int)want[i];
	CHECK_EQ(right, 600);
	CHECK_EQ(onq[0], wantq[0]);
	CHECK_EQ(onq[1], wantq[1]);
	CHECK(onq[0] > 200 && onq[1] > 200);
	for (uint32_t c = 0; c < NCORES; c++)
		CHECK(fi[c].nrx > 100);
	check_invariants();
}

/* The source port of a flow from peer p to our port dp that core `core` serves. */
static uint16_t flow_on(uint32_t p, uint16_t dp, uint32_t core, uint16_t from)
{
	for (uint16_t sp = from;; sp++)
		if (core_for(hash4(p, US, sp, dp)) == core)
			return sp;
}

/* The source port of a flow from peer p to our port dp that core `not` does not serve. */
static uint16_t flow_not_on(uint32_t p, uint16_t dp, uint32_t not, uint16_t from)
{
	for (uint16_t sp = from;; sp++)
		if (core_for(hash4(p, US, sp, dp)) != not)
			return sp;
}

/*
 * nic.c's count of queue q's buffers held by the network layer is back to zero: with core q's stack
 * keeping everything, exactly hold_max (2 * rx_size - rx_size / 2) frames go in place before the
 * copy path starts. A buffer never returned would start it sooner.
 */
static void check_pool_whole(uint32_t q)
{
	uint32_t hold_max = 2 * dev.rx_size - dev.rx_size / 2, n0 = fi[q].nrx, inplace = 0;
	uint8_t f[128];
	fi[q].hold = true;
	for (uint32_t i = 0; i <= hold_max; i++) {
		uint16_t sp = flow_on(PEER(i), 443, q, (uint16_t)(50000 + 7 * i));
		inject(q, f, l4_frame(f, 6, PEER(i), US, sp, 443, 8));
		if (i % 8 == 7)
			loop_once();
	}
	settle();
	CHECK_EQ(fi[q].nrx - n0, hold_max + 1);
	for (uint32_t i = n0; i < fi[q].nrx; i++)
		inplace += !fi[q].rx[i].copy;
	CHECK_EQ(inplace, hold_max);
	CHECK(fi[q].nrx > n0 && fi[q].rx[fi[q].nrx - 1].copy);
	stack_release(q);
	fi[q].hold = false;
	settle();
}

/* A family as the fragment scenario sees it: its first datagram's id (the second's twice it), peer i's
 * address (in the first 4 or 16 bytes), fragment k of a UDP datagram from the peer to us (k 0: the
 * UDP header and the first bytes, k 1: 24 more bytes, k 2: the last 10), the queue the NIC's hash of
 * the addresses names, and the core serving a flow. */
struct frag_fam {
	uint32_t id;
	void (*peer)(uint8_t a[16], uint32_t i);
	uint32_t (*frag)(uint8_t *f, const uint8_t *p, uint32_t id, unsigned k, uint16_t sp, uint16_t dp);
	uint32_t (*queue)(const uint8_t *p);
	uint32_t (*core)(const uint8_t *p, uint16_t sp, uint16_t dp);
};

/* What frag_steer chose: the peer, the queue its fragments arrive on, the source port of a flow
 * another core serves, and that core. */
struct frag_flow {
	uint8_t peer[16];
	uint32_t qa, e;
	uint16_t sp;
};

/*
 * Fragments in either family, four RSS queues: a datagram in three fragments, placed by the NIC on
 * queue A by the addresses, of a flow core E serves: every fragment reaches E. Later fragments
 * first: held (their buffers back with the NIC), then delivered with their first.
 */
static void frag_steer(const struct frag_fam *fm, struct frag_flow *w)
{
	uint8_t f[3][256];
	uint32_t l[3];
	fm->peer(w->peer, 77);
	w->qa = fm->queue(w->peer);
	for (w->sp = 1000; fm->core(w->peer, w->sp, 5000) == w->qa; w->sp++)
		;
	w->e = fm->core(w->peer, w->sp, 5000);
	CHECK(w->e != w->qa);
	for (unsigned k = 0; k < 3; k++)
		l[k] = fm->frag(f[k], w->peer, fm->id, k, w->sp, 5000);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(wire_in(f[i], l[i]), w->qa);
	settle();
	for (int i = 0; i < 3; i++)
		CHECK_EQ(where(f[i], l[i], NULL), w->e);
	CHECK_EQ(stat(w->qa, "steered"), 3);

	for (unsigned k = 0; k < 3; k++)
		l[k] = fm->frag(f[k], w->peer, 2 * fm->id, k, w->sp, 5000);
	wire_in(f[2], l[2]);
	wire_in(f[1], l[1]);
	settle();
	CHECK_EQ(where(f[1], l[1], NULL), -1);
	CHECK_EQ(where(f[2], l[2], NULL), -1);
	struct nic_qstats qs;
	nic_qstats(w->qa, &qs);
	CHECK_EQ(qs.rx_held, 0);
	CHECK(dev.rx_size - (dev.q[w->qa].vt - dev.q[w->qa].vh + dev.q[w->qa].npend) < nic_rx_refill_batch(dev.rx_size));
	host_clock += HZ;       /* within the 2 s a datagram is remembered */
	wire_in(f[0], l[0]);
	settle();
	for (int i = 0; i < 3; i++)
		CHECK_EQ(where(f[i], l[i], NULL), w->e);
	CHECK_EQ(stat(w->qa, "frag_d"), 0);
}

static void peer4(uint8_t a[16], uint32_t i)
{
	put32(a, PEER(i));
}

static uint32_t frag4(uint8_t *f, const uint8_t *p, uint32_t id, unsigned k, uint16_t sp, uint16_t dp)
{
	return frag_frame(f, get32(p), US, (uint16_t)id, (uint16_t)(3 * k), k < 2, k ? 0 : sp, k ? 0 : dp,
			  k < 2 ? 24 : 10);
}

static uint32_t queue4(const uint8_t *p)
{
	return dev.reta[hash2(get32(p), US) % 128];
}

static uint32_t core4(const uint8_t *p, uint16_t sp, uint16_t dp)
{
	return core_for(hash4(get32(p), US, sp, dp));
}

static const struct frag_fam fam4 = { 0x1111, peer4, frag4, queue4, core4 };

/* (2) Four RSS queues: no steering of whole TCP/UDP, but fragments and ICMP errors go to the flow's
 * core, a later fragment before its first waits for it, and one whose first never comes expires. */
static void s_rss_fragments_icmp(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true, .rx_hash = true });
	uint8_t f[4][256];
	uint32_t l[4];

	/* a TCP frame handled on the queue it came in on, whatever its hash says */
	uint32_t right = 0;
	for (uint32_t i = 0; i < 40; i++) {
		uint32_t q = i % 4;
		uint16_t sp = flow_not_on(PEER(i), 80, q, (uint16_t)(3000 + 100 * i));
		l[0] = l4_frame(f[0], 6, PEER(i), US, sp, 80, 20);
		inject(q, f[0], l[0]);
		settle();
		right += where(f[0], l[0], NULL) == (int)q;
	}
	CHECK_EQ(right, 40);
	CHECK_EQ(stat(0, "steered") + stat(1, "steered") + stat(2, "steered") + stat(3, "steered"), 0);

	/* whole flows placed by RSS land on their core */
	right = 0;
	for (uint32_t i = 0; i < 200; i++) {
		uint16_t sp = (uint16_t)(40000 + i);
		l[0] = l4_frame(f[0], 17, PEER(i), US, sp, 53, 12);
		wire_in(f[0], l[0]);
		settle();
		right += where(f[0], l[0], NULL) == (int)core_for(hash4(PEER(i), US, sp, 53));
	}
	CHECK_EQ(right, 200);

	struct frag_flow w;
	frag_steer(&fam4, &w);
	uint32_t peer = get32(w.peer), qa = w.qa, e = w.e;
	uint16_t sp = w.sp;

	/* the same when the flow is the receiving core's own: the held copy goes through input_copy */
	uint16_t sp2 = flow_on(peer, 5000, qa, 2000);
	l[0] = frag_frame(f[0], peer, US, 0x2223, 0, true, sp2, 5000, 24);
	l[1] = frag_frame(f[1], peer, US, 0x2223, 3, false, 0, 0, 24);
	wire_in(f[1], l[1]);
	settle();
	CHECK_EQ(where(f[1], l[1], NULL), -1);
	wire_in(f[0], l[0]);
	settle();
	bool copy = false;
	CHECK_EQ(where(f[1], l[1], &copy), qa);
	CHECK(copy);
	CHECK_EQ(where(f[0], l[0], &copy), qa);
	CHECK(!copy);

	/* a later fragment whose first never comes: dropped after the time-out and counted (when
	 * the next later fragment needs the slot) */
	l[0] = frag_frame(f[0], peer, US, 0x3333, 3, true, 0, 0, 24);
	wire_in(f[0], l[0]);
	settle();
	host_clock += 2 * HZ + HZ / 10;
	l[1] = frag_frame(f[1], peer, US, 0x3333, 0, true, sp, 5000, 24);      /* too late for it */
	l[2] = frag_frame(f[2], peer, US, 0x4444, 3, true, 0, 0, 24);
	wire_in(f[1], l[1]);
	wire_in(f[2], l[2]);
	settle();
	CHECK_EQ(where(f[0], l[0], NULL), -1);
	CHECK_EQ(where(f[1], l[1], NULL), e);
	CHECK_EQ(stat(qa, "frag_d"), 1);

	/* an ICMP port unreachable quoting our UDP datagram us:5353 -> peer:53 reaches the core that
	 * owns that flow (whose inbound 4-tuple is peer:53 -> us:5353), wherever it arrives */
	uint32_t moved = 0;
	right = 0;
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t p = PEER(300 + i), router = 0xc6120101u + i;
		uint16_t usp = (uint16_t)(5353 + i);
		uint32_t fc = core_for(hash4(p, US, 53, usp));
		l[0] = icmp_unreach(f[0], router, usp, p, 53);
		uint32_t q = wire_in(f[0], l[0]);
		l[1] = l4_frame(f[1], 17, p, US, 53, usp, 8);   /* the flow itself, for comparison */
		wire_in(f[1], l[1]);
		settle();
		right += where(f[0], l[0], NULL) == (int)fc && where(f[1], l[1], NULL) == (int)fc;
		moved += q != fc;
	}
	CHECK_EQ(right, 64);
	CHECK(moved > 16);      /* most arrived on another core's queue */
	for (uint32_t q = 0; q < 4; q++)
		check_pool_whole(q);    /* every held fragment's buffer went back */
	check_invariants();
}

/* (2b) RSS refused when the NIC starts: four queues, steering in software. */
static void s_rss_refused(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true, .refuse_rss = true });
	CHECK(strstr(klog, "steering flows in software") != NULL);
	uint8_t f[128];
	uint32_t right = 0;
	for (uint32_t i = 0; i < 100; i++) {
		uint16_t sp = (uint16_t)(7000 + i);
		uint32_t len = l4_frame(f, 6, PEER(i), US, sp, 80, 10);
		inject(i % 4, f, len);
		settle();
		right += where(f, len, NULL) == (int)core_for(hash4(PEER(i), US, sp, 80));
	}
	CHECK_EQ(right, 100);
	check_invariants();
}

/* (2c) A NIC with a 32-entry table and three cores: net.c's table repeats the NIC's, so ICMP errors
 * and fragments, steered by net.c, reach the core RSS put the flow on. */
static void s_short_reta(void)
{
	net_up(&(struct setup){ .pairs = 3, .cores = 3, .rss = true, .reta_len = 32 });
	CHECK_EQ(g_period, 32);
	uint8_t f[3][128];
	uint32_t l[3], right = 0;
	for (uint32_t i = 0; i < 96; i++) {
		uint32_t p = PEER(i);
		uint16_t sp = (uint16_t)(9000 + i);
		l[0] = l4_frame(f[0], 17, p, US, sp, 53, 8);
		uint32_t qflow = wire_in(f[0], l[0]);
		l[1] = icmp_unreach(f[1], p, 53, p, sp);        /* about our answer us:53 -> p:sp */
		wire_in(f[1], l[1]);
		l[2] = frag_frame(f[2], p, US, (uint16_t)(0x5000 + i), 0, true, sp, 53, 16);
		wire_in(f[2], l[2]);
		settle();
		right += where(f[0], l[0], NULL) == (int)qflow && where(f[1], l[1], NULL) == (int)qflow &&
			 where(f[2], l[2], NULL) == (int)qflow;
	}
	CHECK_EQ(right, 96);
	check_invariants();
}

/* (3) ARP: the receiving core gets the frame as it came; every other core a copy turned into a
 * reply, which it learns from without answering. A reply reaches everyone unchanged. */
static void s_arp(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true });
	uint8_t req[60], rep[60];
	for (uint32_t q = 0; q < 4; q++) {
		uint32_t len = arp_frame(req, 1, PEER(q), US);
		memcpy(rep, req, len);
		rep[21] = 2;
		if (q == 0)
			CHECK_EQ(wire_in(req, len), 0);        /* RSS leaves non-IP on queue 0 */
		else
			inject(q, req, len);
		settle();
		bool copy = true;
		CHECK_EQ(where(req, len, &copy), q);
		CHECK(!copy);           /* in place, on the queue's own core */
		/* the replies: one per other core, never the receiving one; the ARP packet without the
		 * frame's padding (42 bytes) */
		uint64_t h = fnv(rep, 14 + 28);
		for (uint32_t c = 0; c < 4; c++) {
			uint32_t n = 0;
			for (uint32_t i = 0; i < fi[c].nrx; i++)
				n += fi[c].rx[i].fnv == h && fi[c].rx[i].copy;
			CHECK_EQ(n, c == q ? 0 : 1);
		}
	}
	uint32_t len = arp_frame(rep, 2, PEER(9), US);
	inject(2, rep, len);
	settle();
	uint64_t h = fnv(rep, len);
	for (uint32_t c = 0; c < 4; c++) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < fi[c].nrx; i++)
			n += fi[c].rx[i].fnv == h;
		CHECK_EQ(n, 1);
	}
	/* An ARP frame too short to hold its packet is counted where it arrived and reaches no core
	 * (lwIP would read past its end). */
	uint32_t seen = fi[0].nrx + fi[1].nrx + fi[2].nrx + fi[3].nrx;
	len = arp_frame(rep, 1, PEER(7), US);
	inject(1, rep, 14 + 27);
	settle();
	CHECK_EQ(stat(1, "runt"), 1);
	CHECK_EQ(fi[0].nrx + fi[1].nrx + fi[2].nrx + fi[3].nrx, seen);
	check_invariants();
}

/* (4) The low-water copy path: a stack that keeps every buffer gets frames copied once the pool's
 * hold limit is reached; the device never has fewer than half a ring. */
static void s_low_water(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true, .rx_size = 32, .rx_hdr = 12 });
	fi[1].hold = true;
	uint32_t hold_max = 2 * 32 - 32 / 2, starved = 0;
	static uint8_t f[200][128];
	uint32_t len[200];
	for (uint32_t i = 0; i < 160; i++) {
		uint16_t sp = (uint16_t)(100 + i);
		len[i] = l4_frame(f[i], 6, PEER(i), US, sp, 80, 20 + i % 30);
		inject(1, f[i], len[i]);
		if (i % 8 == 7) {
			loop_once();
			starved += dev.q[1].ih != dev.q[1].it;
		}
	}
	settle();
	CHECK_EQ(starved, 0);
	CHECK_EQ(fi[1].nrx, 160);
	uint32_t order = 0;
	for (uint32_t i = 0; i < 160; i++) {
		bool copy = false;
		order += where(f[i], len[i], &copy) == 1 && copy == (i >= hold_max);
	}
	CHECK_EQ(order, 160);           /* the first hold_max in place, every later one copied */
	CHECK_EQ(fi[1].nheld, hold_max);
	CHECK_EQ(dev.q[1].min_posted, 32 / 2);
	struct nic_qstats qs;
	nic_qstats(1, &qs);
	CHECK_EQ(qs.rx_copied, 160 - hold_max);
	CHECK_EQ(stat(1, "rx_cpy"), 160 - hold_max);
	/* the stack lets go: the ring fills again and frames go in place once more */
	stack_release(1);
	settle();
	CHECK_EQ(dev.q[1].vt - dev.q[1].vh, 32);
	fi[1].hold = false;
	for (uint32_t i = 160; i < 200; i++) {
		len[i] = l4_frame(f[i], 6, PEER(i), US, (uint16_t)(100 + i), 80, 20);
		inject(1, f[i], len[i]);
		settle();
		bool copy = true;
		CHECK(where(f[i], len[i], &copy) == 1 && !copy);
	}
	nic_qstats(1, &qs);
	CHECK_EQ(qs.rx_copied, 160 - hold_max);
	check_invariants();
}

/* (4b) Returned buffers go back to the device a quarter ring at a time, not a few every loop: one
 * frame a loop for 40 loops posts twice (64-buffer ring: after 16 and 32), and the device keeps at
 * least three quarters of its ring meanwhile. */
static void s_rx_refill_batch(void)
{
	net_up(&(struct setup){ .pairs = 1, .cores = 1, .rx_size = 64 });
	struct fq *fq = &dev.q[0];
	uint32_t posts = fq->posts;
	fq->min_posted = ~0u;
	static uint8_t f[128];
	for (uint32_t i = 0; i < 40; i++) {
		uint32_t len = l4_frame(f, 17, PEER(i), US, (uint16_t)(100 + i), 7, 20);
		inject(0, f, len);
		loop_once();
		CHECK(where(f, len, NULL) == 0);
	}
	CHECK_EQ(nic_rx_refill_batch(64), 16);
	CHECK_EQ(fi[0].nrx, 40);
	CHECK_EQ(fq->posts - posts, 2);
	CHECK(fq->min_posted >= 64 - 16 && fq->min_posted < 64);
	CHECK_EQ(fq->vt - fq->vh + fq->npend, 64 - 8);  /* 8 returned since the last post, waiting */
	check_invariants();
}

/* A frame core c's instance would send: Ethernet/IPv4/TCP header piece and a payload piece. */
static uint32_t out_frame(uint8_t *f, uint32_t c, uint32_t i, uint32_t plen)
{
	uint32_t len = l4_frame(f, 6, US, PEER(i), 80, (uint16_t)(1024 + i), plen);
	memcpy(f, "\x02\x00\x5e\x10\x00\x02", 6);
	f[6 + 5] = (uint8_t)c;
	return len;
}
static int send_frame(uint32_t c, const uint8_t *f, uint32_t len, void *ref)
{
	struct nic_frag fr[2] = { { f, 54 }, { f + 54, len - 54 } };
	struct nic_txo o = { .csum_start = 34, .csum_offset = 16 };
	return inst_tx(c, fr, 2, &o, ref);
}

/* (5) The TX hand-off: cores without a queue send through the owner of queue core % pairs; a full
 * device ring keeps frames in the cross-core ring, in order, and a full cross-core ring refuses. */
static void s_tx_handoff(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .rss = true, .tx_csum = true, .tx_sg = true, .tx_size = 32,
			      .tx_hdr = 10 });
	static uint8_t f[400][400];
	uint32_t len[400];

	/* plain hand-off: core 3 through queue 1, core 2 through queue 0, checksum offload kept */
	for (uint32_t i = 0; i < 5; i++) {
		len[i] = out_frame(f[i], 3, i, 100 + i);
		CHECK_EQ(send_frame(3, f[i], len[i], f[i]), 0);        /* copied: no tx_done follows */
	}
	len[5] = out_frame(f[5], 2, 5, 64);
	CHECK_EQ(send_frame(2, f[5], len[5], NULL), 0);
	settle();
	CHECK_EQ(dev.q[1].nwire, 5);
	uint32_t same = 0;
	for (uint32_t i = 0; i < 5 && i < dev.q[1].nwire; i++) {
		struct wframe *w = &dev.q[1].wire[i];
		same += w->len == len[i] && !memcmp(w->d, f[i], len[i]) && w->o.csum_start == 34 && w->o.csum_offset == 16;
	}
	CHECK_EQ(same, 5);
	CHECK(dev.q[0].nwire == 1 && dev.q[0].wire[0].len == len[5] && !memcmp(dev.q[0].wire[0].d, f[5], len[5]));
	CHECK_EQ(stat(3, "fwd_tx"), 5);
	CHECK_EQ(stat(2, "fwd_tx"), 1);
	CHECK_EQ(fi[3].tx_done + fi[2].tx_done, 0);

	/* the owner's own frame with a long piece goes in place; tx_done on the owner, after the NIC read it */
	len[6] = out_frame(f[6], 1, 6, 300);
	CHECK_EQ(send_frame(1, f[6], len[6], f[6]), 1);
	CHECK_EQ(fi[1].tx_done, 0);
	loop_once();
	loop_once();
	CHECK_EQ(fi[1].tx_done, 1);
	CHECK(fi[1].tx_done_ref == f[6]);
	CHECK(dev.q[1].nwire == 6 && dev.q[1].wire[5].nseg == 2 && !memcmp(dev.q[1].wire[5].d, f[6], len[6]));

	/* the device stops finishing frames: its ring fills, the rest wait in core 3's ring */
	dev.q[1].tx_stall = true;
	uint32_t base = dev.q[1].nwire;
	for (uint32_t i = 0; i < 100; i++) {
		len[i] = out_frame(f[i], 3, 1000 + i, 40 + i);
		CHECK_EQ(send_frame(3, f[i], len[i], NULL), 0);
		if (i % 10 == 9)
			loop_once();
	}
	for (int i = 0; i < 10; i++)
		loop_once();
	CHECK_EQ(dev.q[1].nwire - base, 32);    /* the device ring's worth */
	uint64_t waits = stat(1, "fwd_wt");
	CHECK(waits >= 10);
	CHECK_EQ(stat(1, "fwd_dr"), 0);
	CHECK_EQ(stat(3, "xdrops"), 0);
	/* the owner's own frames meanwhile: refused as full (the instance counts it), not queued */
	len[399] = out_frame(f[399], 1, 399, 40);
	CHECK_EQ(send_frame(1, f[399], len[399], NULL), -1);
	struct nic_qstats qs;
	nic_qstats(1, &qs);
	CHECK(qs.tx_full >= waits + 1);
	dev.q[1].tx_stall = false;
	settle();
	CHECK_EQ(dev.q[1].nwire - base, 100);
	same = 0;
	for (uint32_t i = 0; i < 100; i++) {
		struct wframe *w = &dev.q[1].wire[base + i];
		same += w->len == len[i] && !memcmp(w->d, f[i], len[i]);
	}
	CHECK_EQ(same, 100);            /* all of them, in order */

	/* the cross-core ring full: the sender is told (-1) and it is counted */
	dev.q[1].tx_stall = true;
	base = dev.q[1].nwire;
	for (uint32_t i = 0; i < 256; i++) {
		len[i] = out_frame(f[i], 3, 2000 + i, 60);
		CHECK_EQ(send_frame(3, f[i], len[i], NULL), 0);
	}
	len[256] = out_frame(f[256], 3, 2256, 60);
	CHECK_EQ(send_frame(3, f[256], len[256], NULL), -1);
	CHECK_EQ(stat(3, "xdrops"), 1);
	/* too long for a ring slot: refused for good (not "no room now") and counted too */
	static uint8_t big[1600];
	struct nic_frag bf = { big, sizeof(big) };
	CHECK_EQ(inst_tx(3, &bf, 1, NULL, NULL), -2);
	CHECK_EQ(stat(3, "xdrops"), 2);
	/* and on a core's own queue, a frame longer than the NIC's buffer: -2 as well, while a full
	 * ring is -1 (the instance keeps such a frame and tries again) */
	static uint8_t huge[NIC_BUF_SIZE + 64];
	struct nic_frag hf = { huge, sizeof(huge) };
	CHECK_EQ(inst_tx(1, &hf, 1, NULL, NULL), -2);
	dev.q[1].tx_stall = false;
	for (int i = 0; i < 20; i++)
		loop_once();
	CHECK_EQ(dev.q[1].nwire - base, 256);
	same = 0;
	for (uint32_t i = 0; i < 256; i++) {
		struct wframe *w = &dev.q[1].wire[base + i];
		same += w->len == len[i] && !memcmp(w->d, f[i], len[i]);
	}
	CHECK_EQ(same, 256);
	CHECK_EQ(send_frame(3, f[256], len[256], NULL), 0);
	CHECK_EQ(stat(1, "fwd_dr"), 0);
	check_invariants();
}

/* (6) DHCP replies (UDP to port 68) reach core 0 from any queue. */
static void s_dhcp(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true });
	uint8_t f[128];
	for (uint32_t q = 0; q < 4; q++) {
		uint32_t len = l4_frame(f, 17, 0xc6120001u, 0xffffffffu, 67, 68, 40);
		inject(q, f, len);
		settle();
		bool copy = false;
		CHECK_EQ(where(f, len, &copy), 0);
		CHECK_EQ(copy, q != 0);
	}
	check_invariants();
}

/* (7) The lease: core 0's address reaches every core, and each change again; the address is
 * announced once every core has it. */
static void s_lease(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .rss = true });
	run_ms(5);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].nset, 0);        /* no lease yet: nothing published */
	CHECK(!strstr(klog, "pollux: ip="));
	fi[0].ip = 0x020012c6, fi[0].mask = 0x00ffffff, fi[0].gw = 0x010012c6;  /* 198.18.0.2/24 via .1 */
	run_ms(3);
	for (uint32_t c = 1; c < 4; c++) {
		CHECK_EQ(fi[c].nset, 1);
		CHECK_EQ(fi[c].set_ip, 0x020012c6);
		CHECK_EQ(fi[c].set_mask, 0x00ffffff);
		CHECK_EQ(fi[c].set_gw, 0x010012c6);
	}
	CHECK_EQ(fi[0].nset, 0);
	const char *a = strstr(klog, "pollux: ip=198.18.0.2\n");
	CHECK(a && !strstr(a + 1, "pollux: ip="));
	run_ms(50);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].nset, 1);        /* taken once, not every poll */
	fi[0].ip = 0x070012c6;                  /* renewed to another address */
	run_ms(3);
	for (uint32_t c = 1; c < 4; c++)
		CHECK(fi[c].nset == 2 && fi[c].set_ip == 0x070012c6 && fi[c].set_mask == 0x00ffffff);
	CHECK(strstr(klog, "pollux: ip=198.18.0.7\n") != NULL);
	fi[0].ip = 0, fi[0].mask = 0, fi[0].gw = 0; /* lost */
	run_ms(3);
	for (uint32_t c = 1; c < 4; c++)
		CHECK(fi[c].nset == 3 && fi[c].set_ip == 0);
	check_invariants();
}

/* (7b) IPv6: each core configures its own addresses (from the router advertisements every core
 * sees); core 0 prints them once every core has the same, and again when they change. RFC 5952
 * text. */
static void s_addr6(void)
{
	static const uint8_t ll[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56 };
	static const uint8_t gl[16] = { 0xfd, 0, 1, 0x98, 0, 0x18, [15] = 5 };
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .rss = true });
	run_ms(5);
	CHECK(!strstr(klog, "pollux: ip6="));
	memcpy(fi[0].ip6[0], ll, 16);
	fi[0].n6 = 1;
	run_ms(5);
	CHECK(!strstr(klog, "pollux: ip6="));   /* core 0 alone has it */
	for (uint32_t c = 1; c < 4; c++)
		memcpy(fi[c].ip6[0], ll, 16), fi[c].n6 = 1;
	run_ms(5);
	const char *a = strstr(klog, "pollux: ip6=fe80::5054:ff:fe12:3456\n");
	CHECK(a && !strstr(a + 1, "pollux: ip6="));
	run_ms(20);
	CHECK(!strstr(a + 1, "pollux: ip6="));  /* once */
	for (uint32_t c = 0; c < 3; c++)
		memcpy(fi[c].ip6[1], gl, 16), fi[c].n6 = 2;
	run_ms(5);
	CHECK(!strstr(klog, "pollux: ip6=fd00:198:18::5"));     /* core 3 has not taken it yet */
	memcpy(fi[3].ip6[1], gl, 16), fi[3].n6 = 2;
	run_ms(5);
	CHECK(strstr(klog, "pollux: ip6=fd00:198:18::5\n") != NULL);
	/* RFC 5952: the longest run of zero groups shortened (the first of equal ones), a single zero
	 * group not, no leading zeros, lower case. */
	static const struct { uint8_t a[16]; const char *s; } f6[] = {
		{ { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, "2001:db8::1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, "2001:db8:0:1::1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 }, "2001:db8::1:0:0:1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, "2001:db8:0:1:1:1:1:1" },
		{ { [15] = 1 }, "::1" },
		{ { 0 }, "::" },
		{ { 0xfe, 0x80 }, "fe80::" },
		{ { 0xAB, 0xCD, [14] = 0x0A, 0xBC }, "abcd::abc" },
	};
	for (unsigned i = 0; i < sizeof(f6) / sizeof(f6[0]); i++) {
		char t[40];
		net_fmt_ip6(t, f6[i].a);
		CHECK(!strcmp(t, f6[i].s));
	}
	check_invariants();
}

/* POLLUX_METRICS_ADDR's form: "a.b.c.d/n" to an address and mask in network order, anything else
 * refused with nothing set. */
static void s_parse_prefix(void)
{
	static const struct { const char *s; uint32_t ip, mask; } good[] = {
		{ "198.19.0.10/24", 0x0a0013c6, 0x00ffffff },
		{ "10.1.2.3/32", 0x0302010a, 0xffffffff },
		{ "0.0.0.1/1", 0x01000000, 0x00000080 },
		{ "255.255.255.255/20", 0xffffffff, 0x00f0ffff },
	};
	static const char *const bad[] = {
		"", "198.19.0.10", "198.19.0.10/", "198.19.0.10/0", "198.19.0.10/33", "256.1.1.1/8", "1.2.3/8",
		"1.2.3.4.5/8", "1..2.3/8", "1.2.3.4/24/1", "1.2.3.4 /24", "0001.2.3.4/8", "a.b.c.d/8", "1.2.3.4/-1",
	};
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t ip = 0, mask = 0;
		CHECK(net_parse_prefix(good[i].s, &ip, &mask));
		CHECK_EQ(ip, good[i].ip);
		CHECK_EQ(mask, good[i].mask);
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ip = 7, mask = 7;
		CHECK(!net_parse_prefix(bad[i], &ip, &mask));
		CHECK(ip == 7 && mask == 7);
	}
}

/* POLLUX_METRICS_ADDR6's form: "x:x::x/n" to an address in network order and n, anything else
 * refused with nothing set. */
static void s_parse_prefix6(void)
{
	static const struct { const char *s; uint8_t a[16]; uint32_t len; } good[] = {
		{ "fd00:198:19::10/64", { 0xfd, 0, 1, 0x98, 0, 0x19, [15] = 0x10 }, 64 },
		{ "2001:DB8:0:0:1:2:3:4/128", { 0x20, 1, 0x0d, 0xb8, [9] = 1, [11] = 2, [13] = 3, [15] = 4 }, 128 },
		{ "::1/1", { [15] = 1 }, 1 },
		{ "fe80::/10", { 0xfe, 0x80 }, 10 },
		{ "1:2:3:4:5:6:7::/64", { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7 }, 64 },
		{ "::2:3:4:5:6:7:8/64", { [3] = 2, [5] = 3, [7] = 4, [9] = 5, [11] = 6, [13] = 7, [15] = 8 }, 64 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 64 },
	};
	static const char *const bad[] = {
		"", "fd00::10", "fd00::10/", "fd00::10/0", "fd00::10/129", "fd00::10/0064", "fd00:::10/64",
		"fd00::1::2/64", "1:2:3:4:5:6:7/64", "1:2:3:4:5:6:7:8:9/64", "1:2:3:4:5:6:7:8::/64",
		"::1:2:3:4:5:6:7:8/64", "12345::1/64", "fd00:/64", ":fd00::1/64", "fd00::1:/64", "fd00::g/64",
		"::ffff:198.19.0.10/64", "fd00::1/64/1", "fd00::1 /64", "fd00::1/6a",
	};
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint8_t a[16] = { 0 };
		uint32_t len = 0;
		CHECK(net_parse_prefix6(good[i].s, a, &len));
		CHECK(!memcmp(a, good[i].a, 16));
		CHECK_EQ(len, good[i].len);
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t a[16];
		uint32_t len = 7;
		memset(a, 7, 16);
		CHECK(!net_parse_prefix6(bad[i], a, &len));
		CHECK(len == 7 && a[0] == 7 && a[15] == 7);
	}
}

/* (7c) DHCPv6: only core 0 runs the client (its mode from the config); each time its count moves,
 * the others take its address and lifetimes, once, and take the loss of it too. */
static void s_lease6(void)
{
	static const uint8_t a6[16] = { 0xfd, 0, 1, 0x98, 0, 0x18, [14] = 1, 0x23 };
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .rss = true });
	CHECK_EQ(fi[0].cfg.dhcp6, POLLUX_DHCP6);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].cfg.dhcp6, NET_DHCP6_OFF);
	run_ms(5);
	for (uint32_t c = 0; c < 4; c++)
		CHECK_EQ(fi[c].nset6, 0);       /* nothing leased: nothing taken */
	memcpy(fi[0].ip6[3], a6, 16);
	fi[0].valid6 = 3600, fi[0].pref6 = 1800, fi[0].gen6 = 1;
	run_ms(5);
	CHECK_EQ(fi[0].nset6, 0);
	for (uint32_t c = 1; c < 4; c++)
		CHECK(fi[c].nset6 == 1 && !memcmp(fi[c].set6, a6, 16) && fi[c].set6_valid == 3600 &&
		      fi[c].set6_pref == 1800);
	run_ms(20);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].nset6, 1);       /* once per change */
	fi[0].valid6 = 7200, fi[0].gen6 = 2;    /* renewed */
	run_ms(5);
	for (uint32_t c = 1; c < 4; c++)
		CHECK(fi[c].nset6 == 2 && fi[c].set6_valid == 7200);
	memset(fi[0].ip6[3], 0, 16);            /* lost */
	fi[0].gen6 = 3;
	run_ms(5);
	static const uint8_t none[16];
	for (uint32_t c = 1; c < 4; c++)
		CHECK(fi[c].nset6 == 3 && !memcmp(fi[c].set6, none, 16));
	check_invariants();
}

/* (8) Link events from the NIC's slow path, every 100 ms on core 0, reach core 0's instance. */
static void s_link(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .link_down = true });
	CHECK_EQ(fi[0].link_down, 1);   /* down at start: told so before it serves */
	CHECK_EQ(fi[0].link_up, 0);
	uint32_t slow0 = dev.slow_calls;
	run_ms(1000);
	CHECK(dev.slow_calls - slow0 >= 9 && dev.slow_calls - slow0 <= 11);
	dev.next_ev = NIC_EV_LINK_UP;
	run_ms(101);
	CHECK_EQ(fi[0].link_up, 1);
	CHECK_EQ(fi[0].link_down, 1);
	dev.next_ev = NIC_EV_LINK_DOWN;
	run_ms(101);
	CHECK_EQ(fi[0].link_down, 2);
	dev.next_ev = NIC_EV_LINK_UP;
	run_ms(101);
	CHECK_EQ(fi[0].link_up, 2);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].link_up + fi[c].link_down, 0);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.link_up, 2);
	CHECK_EQ(ds.link_down, 1);
	size_t mark = klen;
	net_print_stats();
	CHECK(strstr(klog + mark, "nic fake0: link up link_down=1 link_up=2") != NULL);
	CHECK(strstr(klog + mark, "fake_doorbells=") != NULL);
	check_invariants();
}

/* The NIC's multicast filter follows core 0's instance's groups, set from core 0's slow path only
 * when its list changed; other instances' lists are never asked for. */
static void s_mcast(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = 4 });
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK(ds.mcast_all);                    /* all multicast until the first list */
	memcpy(fi[0].mc[0], "\x33\x33\x00\x00\x00\x01", 6);
	memcpy(fi[0].mc[1], "\x33\x33\xff\x12\x34\x56", 6);
	fi[0].nmc = 2, fi[0].mc_gen = 7;
	fi[1].nmc = 1, fi[1].mc_gen = 9;
	uint32_t calls = dev.mcast_calls;
	run_ms(300);
	CHECK_EQ(dev.mcast_calls, calls + 1);   /* once, not at every slow poll */
	CHECK_EQ(dev.mcast_cnt, 2);
	CHECK(!memcmp(dev.mcast, fi[0].mc, 12));
	nic_dstats(&ds);
	CHECK(ds.mcast_entries == 2 && !ds.mcast_all);
	fi[0].nmc = NET_MCAST_MAX + 1, fi[0].mc_gen = 8;       /* the instance's list overflowed */
	run_ms(200);
	CHECK_EQ(dev.mcast_calls, calls + 2);
	CHECK_EQ(dev.mcast_cnt, NIC_MCAST_ALL);
	for (uint32_t c = 1; c < 4; c++)
		CHECK_EQ(fi[c].mc_asked, 0);
	size_t mark = klen;
	net_print_stats();
	CHECK(strstr(klog + mark, "mcast_entries=0 mcast_all=1 mcast_fallbacks=1") != NULL);
	check_invariants();
}

/* The start-up order, one queue: a core whose instance is not up is never handed a frame (the
 * receiving core handles it, counted in not_up), and nothing is lost; a core that sends before the
 * queue's owner is up is served once it is. */
static void s_startup_one_queue(void)
{
	boot_net(&(struct setup){ .pairs = 1, .cores = 4 });
	core_up(2);
	uint8_t out[128];
	uint32_t olen = out_frame(out, 2, 1, 30);
	CHECK_EQ(send_frame(2, out, olen, NULL), 0);    /* into core 0's ring, made at net_init */
	static uint8_t f[200][128];
	uint32_t len[200], want[200];
	for (uint32_t i = 0; i < 200; i++) {
		uint16_t sp = (uint16_t)(600 + i);
		len[i] = l4_frame(f[i], 6, PEER(i), US, sp, 80, 10);
		want[i] = core_for(hash4(PEER(i), US, sp, 80));
		inject(0, f[i], len[i]);
	}
	for (int i = 0; i < 20; i++)
		loop_once();
	CHECK_EQ(dev.q[0].rx_polls, 0);         /* the owner is not up: its queue waits */
	CHECK_EQ(dev.q[0].nwire, 0);
	CHECK_EQ(fi[1].inits + fi[1].polls + fi[3].polls + fi[0].polls, 0);
	core_up(0);
	fi[0].ip = 0x020012c6, fi[0].mask = 0x00ffffff;
	settle();
	CHECK(dev.q[0].nwire == 1 && dev.q[0].wire[0].len == olen && !memcmp(dev.q[0].wire[0].d, out, olen));
	uint32_t right = 0, here = 0;
	for (uint32_t i = 0; i < 200; i++) {
		int at = where(f[i], len[i], NULL);
		bool up = want[i] == 0 || want[i] == 2;
		right += at == (up ? (int)want[i] : 0);
		here += !up;
	}
	CHECK_EQ(right, 200);
	CHECK(here > 50);
	CHECK_EQ(stat(0, "not_up"), here);
	CHECK_EQ(fi[1].nrx + fi[3].nrx, 0);
	/* the late cores come up, take the lease, and get their flows from now on */
	core_up(1);
	core_up(3);
	run_ms(3);
	CHECK(fi[1].nset == 1 && fi[3].nset == 1 && fi[1].set_ip == 0x020012c6);
	for (uint32_t i = 0; i < 200; i++) {
		len[i] = l4_frame(f[i], 17, PEER(i), US, (uint16_t)(600 + i), 80, 10);
		want[i] = core_for(hash4(PEER(i), US, (uint16_t)(600 + i), 80));
		inject(0, f[i], len[i]);
	}
	settle();
	right = 0;
	for (uint32_t i = 0; i < 200; i++)
		right += where(f[i], len[i], NULL) == (int)want[i];
	CHECK_EQ(right, 200);
	CHECK_EQ(stat(0, "not_up"), here);
	check_invariants();
}

/* The start-up order of kmain, four RSS queues: the secondaries come up first, core 0 last. DHCP
 * for core 0 is handled where it arrived meanwhile; ARP reaches only cores that are up. */
static void s_startup_rss(void)
{
	boot_net(&(struct setup){ .pairs = 4, .cores = 4, .rss = true });
	core_up(3);
	core_up(2);
	core_up(1);
	uint8_t f[3][128];
	uint32_t l[3];
	l[0] = l4_frame(f[0], 17, 0xc6120001u, 0xffffffffu, 67, 68, 40);
	inject(1, f[0], l[0]);
	l[1] = arp_frame(f[1], 1, PEER(5), US);
	inject(2, f[1], l[1]);
	l[2] = l4_frame(f[2], 6, PEER(6), US, 1234, 80, 10);
	inject(0, f[2], l[2]);          /* core 0's own queue: waits for it */
	for (int i = 0; i < 20; i++)
		loop_once();
	CHECK_EQ(where(f[0], l[0], NULL), 1);
	CHECK_EQ(stat(1, "not_up"), 1);
	CHECK_EQ(where(f[1], l[1], NULL), 2);
	CHECK_EQ(fi[1].nrx, 2);                 /* the DHCP frame and an ARP copy */
	CHECK_EQ(fi[3].nrx, 1);                 /* an ARP copy... */
	CHECK_EQ(dev.q[0].rx_polls, 0);
	core_up(0);
	settle();
	CHECK_EQ(where(f[2], l[2], NULL), 0);
	CHECK_EQ(fi[0].nrx, 1);                 /* ...and none for core 0, not up when it came */
	l[0] = l4_frame(f[0], 17, 0xc6120001u, 0xffffffffu, 67, 68, 40);
	inject(3, f[0], l[0]);
	settle();
	CHECK_EQ(where(f[0], l[0], NULL), 0);
	check_invariants();
}

/* After a net_init that failed: every core's set-up succeeds and nothing reaches an instance for ms. */
static void no_core_serves(int ms)
{
	for (uint32_t c = 0; c < NCORES; c++) {
		on(c);
		CHECK_EQ(net_core_init(&cpus[c]), 0);
	}
	run_ms(ms);
	uint32_t calls = 0;
	for (uint32_t c = 0; c < NCORES; c++)
		calls += (uint32_t)fi[c].inits + fi[c].polls;
	CHECK_EQ(calls, 0);
}

/* No NIC: net_init says so and every core runs without network. */
static void s_no_nic(void)
{
	dev.pairs = 0;
	g_cores = 4;
	for (uint32_t c = 0; c < NCORES; c++)
		cpus[c].self = &cpus[c], cpus[c].idx = c;
	on(0);
	CHECK_EQ(net_init(4), -1);
	CHECK(strstr(klog, "net: no usable NIC") != NULL);
	CHECK(pci_finds >= 1);
	no_core_serves(200);
	CHECK_EQ(dev.attach_calls, 0);
}

/* A seed credited with less entropy than wanted, with POLLUX_REQUIRE_ENTROPY (the default): the
 * NIC is left alone, no core serves, and `stats` says why on every call. */
static void s_entropy_short(void)
{
	harness_random.bits = 100;
	g_cores = 4;
	for (uint32_t c = 0; c < NCORES; c++)
		cpus[c].self = &cpus[c], cpus[c].idx = c;
	on(0);
	CHECK_EQ(net_init(4), -1);
	CHECK(klog_has("net: not serving: the random generators were seeded with 100 bits of entropy, 256 wanted"));
	CHECK_EQ(dev.attach_calls, 0);
	no_core_serves(50);
	on(0);
	klog_clear();
	net_print_stats();
	CHECK(klog_has("stats: warning: the random generators were seeded with 100 bits of entropy, 256 wanted"));
	CHECK(klog_has("(not serving: POLLUX_REQUIRE_ENTROPY)"));
	harness_random.bits = RANDOM_WANT_BITS;
}

/* (9) A device reset asked through nic_request_reset: the queues pause, the device is reset only
 * after every queue's core stopped, each owner refills its ring, the NIC starts again with the same
 * placement, and traffic resumes; buffers the stack kept through it come back without harm. */
static void s_reset(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = 4, .rss = true, .tx_sg = true, .rx_size = 32, .tx_size = 32 });
	static uint8_t f[300][400];
	uint32_t len[300];
	/* core 1's stack keeps three buffers; one of its frames is in place and unfinished */
	fi[1].hold = true;
	for (uint32_t i = 0; i < 3; i++) {
		len[i] = l4_frame(f[i], 6, PEER(i), US, flow_on(PEER(i), 80, 1, 100), 80, 10);
		inject(1, f[i], len[i]);
	}
	settle();
	CHECK_EQ(fi[1].nheld, 3);
	dev.q[1].tx_stall = true;
	len[3] = out_frame(f[3], 1, 3, 300);
	CHECK_EQ(send_frame(1, f[3], len[3], f[3]), 1);
	loop_once();
	CHECK_EQ(fi[1].tx_done, 0);

	nic_request_reset();
	host_clock += HZ / 5;
	poll_core(0);                           /* the slow path: stop */
	CHECK(strstr(klog, "fake0: resetting the device") != NULL);
	uint32_t polls0 = dev.q[0].rx_polls, polls1 = dev.q[1].rx_polls;
	for (uint32_t i = 10; i < 20; i++) {
		len[i] = l4_frame(f[i], 17, PEER(i), US, (uint16_t)(700 + i), 53, 10);
		inject(i % 2, f[i], len[i]);
	}
	len[20] = out_frame(f[20], 3, 20, 50);  /* forwarded through queue 1 meanwhile: kept */
	CHECK_EQ(send_frame(3, f[20], len[20], NULL), 0);
	len[21] = out_frame(f[21], 0, 21, 50);  /* an owner's own: refused as full */
	CHECK_EQ(send_frame(0, f[21], len[21], NULL), -1);
	/* only core 0 loops: the device is not reset while queue 1's core has not stopped */
	for (int i = 0; i < 5; i++) {
		host_clock += HZ / 5;
		poll_core(0);
	}
	CHECK_EQ(dev.reset_calls, 0);
	CHECK_EQ(dev.q[0].rx_polls, polls0);
	poll_core(1);                           /* queue 1 stops */
	poll_core(2);
	poll_core(3);
	CHECK_EQ(dev.q[1].rx_polls, polls1);
	host_clock += HZ / 5;
	poll_core(0);
	CHECK_EQ(dev.reset_calls, 1);
	CHECK_EQ(dev.start_calls, 1);
	CHECK_EQ(dev.q[0].npend, 32);           /* core 0 refilled its own ring */
	CHECK_EQ(dev.q[1].npend, 0);
	host_clock += HZ / 5;
	poll_core(0);
	CHECK_EQ(dev.start_calls, 1);           /* not before queue 1 is refilled */
	poll_core(1);
	CHECK_EQ(dev.q[1].npend, 32);           /* a full ring: the pool has more than the stack keeps */
	CHECK_EQ(fi[1].tx_done, 1);             /* the unfinished in-place frame: done, on its core */
	CHECK(fi[1].tx_done_ref == f[3]);
	host_clock += HZ / 5;
	poll_core(0);
	CHECK_EQ(dev.start_calls, 2);
	CHECK(strstr(klog, "fake0: reset done, 2 queue pairs back") != NULL);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.resets, 1);
	CHECK_EQ(ds.reset_failed, 0);

	/* live again: the frame kept in core 3's ring goes out; the stack returns its old buffers */
	dev.q[1].tx_stall = false;
	settle();
	CHECK(dev.q[1].nwire >= 1 && dev.q[1].wire[dev.q[1].nwire - 1].len == len[20] &&
	      !memcmp(dev.q[1].wire[dev.q[1].nwire - 1].d, f[20], len[20]));
	stack_release(1);
	fi[1].hold = false;
	settle();
	CHECK_EQ(dev.q[1].vt - dev.q[1].vh + dev.q[1].npend, 32);
	check_pool_whole(1);    /* the buffers kept through the reset were counted back exactly */
	check_pool_whole(0);
	uint32_t right = 0;
	for (uint32_t i = 100; i < 300; i++) {
		uint16_t sp = (uint16_t)(800 + i);
		len[i] = l4_frame(f[i], 6, PEER(i), US, sp, 80, 10 + i % 40);
		wire_in(f[i], len[i]);
		if (i % 20 == 19)
			settle();
	}
	settle();
	for (uint32_t i = 100; i < 300; i++)
		right += where(f[i], len[i], NULL) == (int)core_for(hash4(PEER(i), US, (uint16_t)(800 + i), 80));
	CHECK_EQ(right, 200);
	len[22] = out_frame(f[22], 0, 22, 50);
	CHECK_EQ(send_frame(0, f[22], len[22], NULL), 0);
	check_invariants();
}

/*
 * Fragments of one datagram on two queues. net.c remembers a first fragment's core per receiving
 * owner, so this relies on the NIC placing every fragment of a datagram on one queue, as RSS does
 * (fragments are hashed on the addresses: virtio-net, ENA, 82599). Were a NIC to split them, the
 * later fragment is lost, but counted, never silently.
 */
static void s_frag_split_queues(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true });
	uint8_t f[3][128];
	uint32_t l[3], peer = PEER(40);
	uint16_t sp = flow_on(peer, 6000, 2, 100);
	l[0] = frag_frame(f[0], peer, US, 0x6666, 0, true, sp, 6000, 24);
	l[1] = frag_frame(f[1], peer, US, 0x6666, 3, false, 0, 0, 24);
	inject(1, f[0], l[0]);
	settle();
	inject(3, f[1], l[1]);
	settle();
	CHECK_EQ(where(f[0], l[0], NULL), 2);
	CHECK_EQ(where(f[1], l[1], NULL), -1);  /* held on core 3, which never sees the first */
	host_clock += 2 * HZ + HZ / 10;
	l[2] = frag_frame(f[2], peer, US, 0x6667, 3, false, 0, 0, 24);
	inject(3, f[2], l[2]);
	settle();
	CHECK_EQ(where(f[1], l[1], NULL), -1);
	CHECK_EQ(stat(3, "frag_d"), 1);
	check_pool_whole(3);
	check_invariants();
}

/* A later fragment whose first never comes is counted when it expires, even if no other
 * fragment arrives after it (net.c once counted an expired hold only when a new one needed its
 * slot: a silent drop). */
static void frag_expiry_counted(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true });
	uint8_t f[128];
	uint32_t peer = PEER(12), qa = dev.reta[hash2(peer, US) % 128];
	uint32_t len = frag_frame(f, peer, US, 0x7777, 3, true, 0, 0, 24);
	wire_in(f, len);
	settle();
	run_ms(2500);           /* every core loops on, well past the 2 s time-out */
	CHECK_EQ(where(f, len, NULL), -1);
	CHECK_EQ(stat(qa, "frag_d"), 1);
	check_invariants();
}

/* ---- IPv6 ---- */
static const uint8_t US6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t ANY6[16] = { 0 };
static const uint8_t ALLNODES6[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t ROUTER6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t PEERLL6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09 };

/* Peer i: 2001:db8:1:<i>::<7i>:9. */
static void peer6(uint8_t a[16], uint32_t i)
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	memcpy(a, base, 16);
	put16(a + 6, i), put16(a + 12, i * 7), a[15] = 9;
}

/* Ethernet and IPv6 headers, from src to dst: next header nh, plen payload bytes, hop limit 64
 * (255 for neighbour discovery). Returns where the payload goes. */
static uint8_t *ipv6(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint32_t plen, uint8_t hops)
{
	eth(f, 0x86dd);
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60, put16(ip + 4, plen), ip[6] = nh, ip[7] = hops;
	memcpy(ip + 8, src, 16), memcpy(ip + 24, dst, 16);
	return ip + 40;
}

/* TCP (6) or UDP (17) over IPv6 from src:sp to dst:dp with plen payload bytes. */
static uint32_t l4_frame6(uint8_t *f, uint8_t proto, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp,
			  uint32_t plen)
{
	uint32_t hl = proto == 6 ? 20 : 8;
	uint8_t *l4 = ipv6(f, src, dst, proto, hl + plen, 64);
	memset(l4, 0, hl);
	put16(l4, sp), put16(l4 + 2, dp);
	if (proto == 6)
		l4[12] = 0x50, l4[13] = 0x10;
	else
		put16(l4 + 4, hl + plen);
	payload(l4 + hl, plen);
	return 54 + hl + plen;
}

/* A fragment of a UDP datagram over IPv6: offset in 8-byte units; the first carries the UDP header. */
static uint32_t frag_frame6(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint32_t id, uint16_t off8, bool mf,
			    uint16_t sp, uint16_t dp, uint32_t plen)
{
	uint8_t *h = ipv6(f, src, dst, 44, 8 + plen, 64);
	memset(h, 0, 8);
	h[0] = 17;
	put16(h + 2, (uint32_t)off8 << 3 | mf);
	put32(h + 4, id);
	payload(h + 8, plen);
	if (off8 == 0)
		put16(h + 8, sp), put16(h + 10, dp), put16(h + 12, 64), put16(h + 14, 0);
	return 54 + 8 + plen;
}

static uint32_t frag6(uint8_t *f, const uint8_t *p, uint32_t id, unsigned k, uint16_t sp, uint16_t dp)
{
	return frag_frame6(f, p, US6, id, (uint16_t)(4 * k), k < 2, k ? 0 : sp, k ? 0 : dp, k < 2 ? 24 : 10);
}

static uint32_t queue6(const uint8_t *p)
{
	return dev.reta[hash6a(p, US6) % 128];
}

static uint32_t core6(const uint8_t *p, uint16_t sp, uint16_t dp)
{
	return core_for(hash6(p, US6, sp, dp));
}

static const struct frag_fam fam6 = { 0x11111111, peer6, frag6, queue6, core6 };

/* ICMPv6 Packet Too Big (MTU 1280) from `from` about the TCP segment we sent us:usp -> peer:pp. */
static uint32_t icmp6_ptb(uint8_t *f, const uint8_t *from, uint16_t usp, const uint8_t *peer, uint16_t pp)
{
	uint8_t *ic = ipv6(f, from, US6, 58, 8 + 40 + 20 + 16, 64), *in = ic + 8;
	memset(ic, 0, 8 + 40 + 20);
	ic[0] = 2, put32(ic + 4, 1280);
	in[0] = 0x60, put16(in + 4, 1400), in[6] = 6, in[7] = 64;
	memcpy(in + 8, US6, 16), memcpy(in + 24, peer, 16);
	put16(in + 40, usp), put16(in + 42, pp), in[52] = 0x50, in[53] = 0x18;
	payload(in + 60, 16);
	return 54 + 8 + 40 + 20 + 16;
}

/* An ICMPv6 message of type t (neighbour discovery, MLD) from src to dst, hop limit 255. */
static uint32_t nd_frame(uint8_t *f, uint8_t t, const uint8_t *src, const uint8_t *dst)
{
	uint8_t *ic = ipv6(f, src, dst, 58, 32, 255);
	memset(ic, 0, 32);
	ic[0] = t;
	memcpy(ic + 8, US6, 16);                /* NS/NA target */
	ic[24] = 1, ic[25] = 1;                 /* source link-layer address option */
	payload(ic + 26, 6);
	return 54 + 32;
}

/* The source port of an IPv6 flow from peer p to our port dp that core `core` serves (or, with
 * not, does not). */
static uint16_t flow6_on(const uint8_t *p, uint16_t dp, uint32_t core, bool not, uint16_t from)
{
	for (uint16_t sp = from;; sp++)
		if ((core_for(hash6(p, US6, sp, dp)) == core) != not)
			return sp;
}

/* How many cores' instances got frame f, and how many of those copies were in place. */
static uint32_t copies(const uint8_t *f, uint32_t len, uint32_t *inplace)
{
	uint64_t h = fnv(f, len);
	uint32_t n = 0;
	*inplace = 0;
	for (uint32_t c = 0; c < NCORES; c++)
		for (uint32_t i = 0; i < fi[c].nrx; i++)
			if (fi[c].rx[i].fnv == h && fi[c].rx[i].len == len)
				n++, *inplace += !fi[c].rx[i].copy;
	return n;
}

/* (6a) IPv6 with one queue and four cores: the owner steers each TCP/UDP flow by the Toeplitz hash
 * of the 36-byte tuple; with two RSS queues reporting their hash, the NIC's hash serves. */
static void s_steer_ipv6(void)
{
	net_up(&(struct setup){ .pairs = 1, .cores = NCORES });
	static uint8_t f[400][128];
	uint32_t len[400], right = 0, per[NCORES] = { 0 };
	for (uint32_t i = 0; i < 400; i++) {
		uint8_t p[16];
		peer6(p, i);
		uint16_t sp = (uint16_t)(1024 + i * 7);
		len[i] = l4_frame6(f[i], i % 3 ? 6 : 17, p, US6, sp, 443, 10 + i % 40);
		uint32_t want = core_for(hash6(p, US6, sp, 443));
		per[want]++;
		inject(0, f[i], len[i]);
		if (i % 100 == 99)
			settle();
	}
	settle();
	for (uint32_t i = 0; i < 400; i++) {
		uint8_t p[16];
		peer6(p, i);
		right += where(f[i], len[i], NULL) == (int)core_for(hash6(p, US6, (uint16_t)(1024 + i * 7), 443));
	}
	CHECK_EQ(right, 400);
	for (uint32_t c = 0; c < NCORES; c++)
		CHECK(per[c] > 50);
	check_invariants();
}

static void s_steer_ipv6_two_queues(void)
{
	net_up(&(struct setup){ .pairs = 2, .cores = NCORES, .rss = true, .rx_hash = true });
	static uint8_t f[300][128];
	uint32_t len[300], right = 0, onq[2] = { 0 };
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t p[16];
		peer6(p, i + 1000);
		len[i] = l4_frame6(f[i], i % 2 ? 6 : 17, p, US6, (uint16_t)(30000 + i * 3), 80, 8);
		onq[wire_in(f[i], len[i])]++;
		if (i % 50 == 49)
			settle();
	}
	settle();
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t p[16];
		peer6(p, i + 1000);
		right += where(f[i], len[i], NULL) == (int)core_for(hash6(p, US6, (uint16_t)(30000 + i * 3), 80));
	}
	CHECK_EQ(right, 300);
	CHECK(onq[0] > 100 && onq[1] > 100);
	check_invariants();
}

/* (6b) Four RSS queues, IPv6: flows where RSS puts them; fragments (placed by the NIC on their
 * addresses) and ICMPv6 Packet Too Big (on the router's) reach the flow's core; a later fragment
 * waits for its first and is never taken for another datagram's; neighbour discovery reaches every
 * core, answered by one; an endless header chain is counted and dropped. */
static void s_rss_ipv6(void)
{
	net_up(&(struct setup){ .pairs = 4, .cores = 4, .rss = true, .rx_hash = true });
	uint8_t f[4][256], p[16];
	uint32_t l[4], right = 0;

	for (uint32_t i = 0; i < 200; i++) {
		peer6(p, i);
		uint16_t sp = (uint16_t)(40000 + i);
		l[0] = l4_frame6(f[0], i % 2 ? 6 : 17, p, US6, sp, 443, 12);
		wire_in(f[0], l[0]);
		settle();
		right += where(f[0], l[0], NULL) == (int)core_for(hash6(p, US6, sp, 443));
	}
	CHECK_EQ(right, 200);
	CHECK_EQ(stat(0, "steered") + stat(1, "steered") + stat(2, "steered") + stat(3, "steered"), 0);

	struct frag_flow w;
	frag_steer(&fam6, &w);
	memcpy(p, w.peer, 16);
	uint16_t sp = w.sp;
	uint32_t e = w.e;

	/* Two datagrams with the same id from addresses that differ in one middle byte, on one
	 * queue: the second's later fragment is not taken for the first's (whose first fragment is
	 * remembered), it waits for its own first and goes where that went. */
	uint8_t p2[16];
	memcpy(p2, p, 16);
	p2[9] ^= 0x40;
	uint16_t sp2 = flow6_on(p2, 5000, e, true, 3000);
	uint32_t e2 = core_for(hash6(p2, US6, sp2, 5000));
	l[0] = frag_frame6(f[0], p, US6, 0x33333333, 0, true, sp, 5000, 24);
	l[1] = frag_frame6(f[1], p2, US6, 0x33333333, 4, false, 0, 0, 24);
	l[2] = frag_frame6(f[2], p2, US6, 0x33333333, 0, true, sp2, 5000, 24);
	inject(1, f[0], l[0]);
	inject(1, f[1], l[1]);
	settle();
	CHECK_EQ(where(f[0], l[0], NULL), e);
	CHECK_EQ(where(f[1], l[1], NULL), -1);
	inject(1, f[2], l[2]);
	settle();
	CHECK_EQ(where(f[2], l[2], NULL), e2);
	CHECK_EQ(where(f[1], l[1], NULL), e2);
	/* an IPv4 fragment with the same id and leading address words is another datagram too */
	l[3] = frag_frame(f[3], 0x20010db8u, 2, 0x3333, 3, false, 0, 0, 24);
	inject(1, f[3], l[3]);
	settle();
	CHECK_EQ(where(f[3], l[3], NULL), -1);

	/* ICMPv6 Packet Too Big quoting our segment us:443 -> peer:pp reaches the core serving
	 * peer:pp -> us:443, wherever the router's address puts it */
	uint32_t moved = 0;
	right = 0;
	for (uint32_t i = 0; i < 64; i++) {
		uint8_t router[16];
		peer6(p, 300 + i);
		peer6(router, 9000 + i);
		uint16_t pp = (uint16_t)(50000 + i);
		uint32_t fc = core_for(hash6(p, US6, pp, 443));
		l[0] = icmp6_ptb(f[0], router, 443, p, pp);
		uint32_t q = wire_in(f[0], l[0]);
		l[1] = l4_frame6(f[1], 6, p, US6, pp, 443, 8);
		wire_in(f[1], l[1]);
		settle();
		right += where(f[0], l[0], NULL) == (int)fc && where(f[1], l[1], NULL) == (int)fc;
		moved += q != fc;
	}
	CHECK_EQ(right, 64);
	CHECK(moved > 16);

	/* Neighbour discovery: advertisements (router, neighbour), redirects, MLD reports and DAD
	 * probes to every core, in place on the receiving one; a peer's solicitation and an MLD
	 * query to the receiving core alone, which answers once. */
	static const struct { uint8_t type; const uint8_t *src; uint32_t want; } nd[] = {
		{ 134, ROUTER6, 4 }, { 136, PEERLL6, 4 }, { 137, ROUTER6, 4 }, { 143, PEERLL6, 4 }, { 135, ANY6, 4 },
		{ 135, PEERLL6, 1 }, { 130, ROUTER6, 1 }, { 128, PEERLL6, 1 },
	};
	for (uint32_t i = 0; i < ARRAY_SIZE(nd); i++) {
		uint32_t q = i % 4, inplace;
		l[0] = nd_frame(f[0], nd[i].type, nd[i].src, ALLNODES6);
		inject(q, f[0], l[0]);
		settle();
		CHECK_EQ(copies(f[0], l[0], &inplace), nd[i].want);
		CHECK_EQ(inplace, 1);
		bool copy = true;
		if (nd[i].want == 1)
			CHECK_EQ(where(f[0], l[0], &copy), q);
	}

	/* A header chain that never ends: counted where it arrived, given to no core */
	uint32_t seen = fi[0].nrx + fi[1].nrx + fi[2].nrx + fi[3].nrx;
	peer6(p, 5);
	uint8_t *x = ipv6(f[0], p, US6, 60, 160, 64);
	memset(x, 0, 160);
	for (int o = 0; o < 160; o += 8)
		x[o] = 60;
	inject(2, f[0], 54 + 160);
	/* and one cut short: a destination options header longer than the packet */
	l[1] = l4_frame6(f[1], 6, p, US6, 1, 443, 0);
	f[1][14 + 6] = 60;
	f[1][54] = 6, f[1][55] = 200;
	inject(2, f[1], l[1]);
	settle();
	CHECK_EQ(stat(2, "v6_bad"), 2);
	CHECK_EQ(fi[0].nrx + fi[1].nrx + fi[2].nrx + fi[3].nrx, seen);
	for (uint32_t q = 0; q < 4; q++)
		check_pool_whole(q);    /* every dropped or held buffer went back */
	check_invariants();
}

/* ---- the loop's profile (`prof`, kernel/prof.c) ---- */

static void prof_say(const char *arg)
{
	char *argv[] = { "prof", (char *)arg };
	on(0);
	prof_cmd(g_cores, arg ? 2 : 1, argv);
}

/* `prof`'s table, parsed: row "0", "1", ... or "all", column col; NAN when absent. The header's
 * columns must match every row's. */
static double prof_cell(const char *rowname, const char *col)
{
	size_t mark = klen;
	prof_say(NULL);
	char *save = NULL, *line, names[40][16];
	int ncol = 0, rows = 0;
	double v = NAN;
	for (line = strtok_r(klog + mark, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[40], *s2 = NULL;
		int nt = 0;
		for (char *t = strtok_r(line, " ", &s2); t && nt < 40; t = strtok_r(NULL, " ", &s2))
			tok[nt++] = t;
		if (nt && !strcmp(tok[0], "prof:"))
			continue;
		if (nt && !strcmp(tok[0], "core")) {
			ncol = nt;
			for (int i = 0; i < nt; i++)
				snprintf(names[i], sizeof(names[i]), "%s", tok[i]);
			continue;
		}
		CHECK_EQ(nt, ncol);
		rows++;
		if (nt != ncol || strcmp(tok[0], rowname))
			continue;
		for (int i = 0; i < nt; i++)
			if (!strcmp(names[i], col))
				v = !strcmp(tok[i], "-") ? -1 : strtod(tok[i], NULL);
	}
	CHECK_EQ(ncol, 4 + 1 + 2 * PROF_NSTAGES + 1);
	CHECK_EQ(rows, (int)g_cores + 1);         /* one per core, then the total */
	klen = mark;
	klog[klen] = 0;
	return v;
}

/* (P) `prof on`: every core times its loop; frames counted as delivered, each stage's ticks where
 * its work ran, the table's figures those of the counters; `prof off`: nothing moves. One queue,
 * two cores, so core 1's frames come over a ring and its answers go back through core 0's. */
static void s_prof(void)
{
	net_up(&(struct setup){ .pairs = 1, .cores = 2, .rx_csum = true, .tx_size = 256 });
	fi[0].answer = fi[1].answer = true;
	static uint8_t f[128];
	uint32_t n = 0;
	/* Off (the default): traffic moves nothing. */
	for (; n < 50; n++) {
		wire_in(f, l4_frame(f, 6, PEER(n), US, (uint16_t)(1024 + n), 80, 20));
		run_ms(1);
	}
	settle();
	struct prof zero = { 0 };
	for (uint32_t c = 0; c < 2; c++)
		CHECK(memcmp(&cpus[c].prof, &zero, sizeof(zero)) == 0);
	CHECK(strstr(klog, "prof:") == NULL);

	struct nic_qstats q0;
	nic_qstats(0, &q0);
	uint64_t rx0 = q0.rx_packets, fwd0 = stat(1, "fwd_tx"), nrx1 = fi[1].nrx;
	prof_say("on");
	CHECK(strstr(klog, "prof: every core resets its counters"));   /* at its next iteration */
	CHECK_EQ(cpus[0].prof.on + cpus[1].prof.on, 0);
	run_ms(5);                      /* nothing received: idle polls */
	for (uint32_t c = 0; c < 2; c++) {
		CHECK(cpus[c].prof.on);
		CHECK_EQ(cpus[c].prof.frames, 0);
		CHECK(cpus[c].prof.idle >= 5);
		CHECK(cpus[c].prof.idle_ticks > 0);
	}
	/* Traffic while on: a frame or two a millisecond, so that timers run in busy iterations. */
	for (uint32_t i = 0; i < 200; i++, n++) {
		wire_in(f, l4_frame(f, 6, PEER(n), US, (uint16_t)(1024 + n), 80, 20));
		if (i % 3 == 0)
			wire_in(f, l4_frame(f, 17, PEER(n), US, (uint16_t)(2048 + n), 53, 20));
		run_ms(1);
	}
	settle();
	run_ms(3);
	nic_qstats(0, &q0);
	uint64_t rx = q0.rx_packets - rx0, fwd = stat(1, "fwd_tx") - fwd0, to1 = fi[1].nrx - nrx1;
	CHECK(rx > 200 && to1 > 20 && fwd == to1);
	struct prof *p0 = &cpus[0].prof, *p1 = &cpus[1].prof;
	/* Frames: core 0 took in every one from its queue and core 1's answers to send; core 1 the
	 * frames steered to it. */
	CHECK_EQ(p0->frames, rx + fwd);
	CHECK_EQ(p1->frames, to1);
	CHECK(p0->busy > 0 && p0->busy <= p0->frames);
	CHECK(p1->busy > 0 && p1->busy <= p1->frames);
	/* Each stage's ticks where its work ran, none where none did. */
	for (unsigned s = 0; s < PROF_NSTAGES; s++)
		CHECK(p0->ticks[s] > 0);
	CHECK(p1->ticks[PROF_RINGS] > 0 && p1->ticks[PROF_SVC] > 0 && p1->ticks[PROF_TX] > 0 &&
	      p1->ticks[PROF_TIMERS] > 0);
	CHECK_EQ(p1->ticks[PROF_RX], 0);        /* no queue of its own */
	CHECK_EQ(p1->ticks[PROF_INPUT], 0);
	CHECK_EQ(p1->ticks[PROF_DOORBELL], 0);
	CHECK_EQ(p1->ticks[PROF_REAP], 0);
	/* The table says the same: frames, ticks, and ns per frame (1 tick is 1 us here). */
	prof_say(NULL);
	CHECK(strstr(klog, "prof: on, counter 1000000 Hz (1000.0 ns a tick); coarse"));
	CHECK_EQ(prof_cell("0", "frames"), (double)p0->frames);
	CHECK_EQ(prof_cell("1", "frames"), (double)p1->frames);
	CHECK_EQ(prof_cell("all", "frames"), (double)(p0->frames + p1->frames));
	CHECK_EQ(prof_cell("0", "idle"), (double)p0->idle);
	CHECK_EQ(prof_cell("0", "input"), (double)p0->ticks[PROF_INPUT]);
	CHECK_EQ(prof_cell("all", "svc"), (double)(p0->ticks[PROF_SVC] + p1->ticks[PROF_SVC]));
	CHECK(fabs(prof_cell("0", "rx_ns") - p0->ticks[PROF_RX] * 1000.0 / p0->frames) < 0.11);
	CHECK(fabs(prof_cell("1", "rings_ns") - p1->ticks[PROF_RINGS] * 1000.0 / p1->frames) < 0.11);
	CHECK(fabs(prof_cell("0", "idle_ns") - p0->idle_ticks * 1000.0 / p0->idle) < 0.11);
	uint64_t sum = 0;
	for (unsigned s = 0; s < PROF_NSTAGES; s++)
		sum += p0->ticks[s];
	CHECK(fabs(prof_cell("0", "frame_ns") - sum * 1000.0 / p0->frames) < 0.11);

	/* Off: traffic again, and no counter moves. */
	prof_say("off");
	run_ms(1);
	struct prof was[2] = { *p0, *p1 };
	for (uint32_t i = 0; i < 100; i++, n++) {
		wire_in(f, l4_frame(f, 6, PEER(n), US, (uint16_t)(1024 + n), 80, 20));
		run_ms(1);
	}
	settle();
	CHECK(fi[0].served + fi[1].served > 350);
	CHECK(!p0->on && !p1->on);
	CHECK(memcmp(&was[0], p0, sizeof(was[0])) == 0);
	CHECK(memcmp(&was[1], p1, sizeof(was[1])) == 0);
	CHECK_EQ(prof_cell("all", "frames"), (double)(p0->frames + p1->frames));
	/* On again: each core starts from zero. */
	prof_say("on");
	run_ms(1);
	CHECK_EQ(p0->frames, 0);
	CHECK_EQ(p0->ticks[PROF_INPUT], 0);
	check_invariants();
}

TEST_MAIN("test_net: net/net.c on a fake NIC: steering, TX hand-off with a full ring, low-water copy, fragments and ICMP errors to the flow's core, ARP, DHCP, lease, link, start-up order, reset, no serving on a short seed, the management address's form; IPv6 steering, fragments and Packet Too Big to the flow's core, neighbour discovery to every core, bad header chains counted; the loop's profile (prof) per core and stage", {
	alloc_hook = record_alloc;
	harness_run("reference Toeplitz (RSS spec example)", s_toeplitz);
	harness_run("steering: 1 queue, 4 cores", s_steer_one_queue);
	harness_run("steering: 2 RSS queues, 4 cores", s_steer_two_queues);
	harness_run("RSS 4 queues: fragments, ICMP errors", s_rss_fragments_icmp);
	harness_run("RSS refused at start: software steering", s_rss_refused);
	harness_run("32-entry NIC table, 3 cores", s_short_reta);
	harness_run("ARP to every core, replies to the others", s_arp);
	harness_run("low-water copy path", s_low_water);
	harness_run("RX buffers posted a quarter ring at a time", s_rx_refill_batch);
	harness_run("TX hand-off, full TX ring, full cross ring", s_tx_handoff);
	harness_run("DHCP replies to core 0", s_dhcp);
	harness_run("lease published to every core", s_lease);
	harness_run("IPv6 addresses printed once every core has them", s_addr6);
	harness_run("DHCPv6 address published to every core", s_lease6);
	harness_run("link events to core 0", s_link);
	harness_run("multicast filter from core 0's groups", s_mcast);
	harness_run("start-up order: 1 queue, core 0 late", s_startup_one_queue);
	harness_run("start-up order: RSS, secondaries first", s_startup_rss);
	harness_run("no NIC", s_no_nic);
	harness_run("entropy short: not serving", s_entropy_short);
	harness_run("device reset through nic_request_reset", s_reset);
	harness_run("fragments split across queues: counted", s_frag_split_queues);
	harness_run("frag expiry counted without new frags", frag_expiry_counted);
	harness_run("IPv6 steering: 1 queue, 4 cores", s_steer_ipv6);
	harness_run("IPv6 steering: 2 RSS queues, NIC hash", s_steer_ipv6_two_queues);
	harness_run("IPv6, RSS 4 queues: frags, PTB, ND, bad", s_rss_ipv6);
	harness_run("prof: per-core stage ticks, frames, table; off moves nothing", s_prof);
	harness_run("POLLUX_METRICS_ADDR parsed, malformed ones refused", s_parse_prefix);
	harness_run("POLLUX_METRICS_ADDR6 parsed, malformed ones refused", s_parse_prefix6);
})
