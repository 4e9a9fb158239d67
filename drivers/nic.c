/* The NIC layer every driver shares (drivers/nic.h): probe table, buffer pools, RX floor, TX slots
 * and references, the reset hand-shake, counters. */
#include <string.h>

#include "kernel.h"
#include "nic.h"
#include "pci.h"

/* The probe table: one line per driver. */
extern const struct nic_driver vnet_driver, ena_driver, igb_driver, ixgbe_driver;
static const struct nic_driver *const nic_drivers[] = {
	&vnet_driver,
	&ena_driver,
	&igb_driver,
	&ixgbe_driver,
};

/*
 * The kernel's kernel_wc_probe (boot/layers.c): before the page tables exist (the firmware's
 * identity map still reaches ECAM; ports 0xCF8/0xCFC need no map), scan PCI and list the BARs the probe table's drivers want write-combining. A BAR
 * smaller than a page or not page aligned shares its page with other registers: it stays uncached.
 * The scan is repeated later by the ordinary boot path (pci_scan replaces its table).
 */
uint32_t nic_wc_ranges(const struct acpi_info *ai, struct pt_range *out, uint32_t max)
{
	uint32_t n = 0;
	pci_scan(ai);
	for (uint32_t i = 0; i < ARRAY_SIZE(nic_drivers); i++) {
		const struct nic_driver *drv = nic_drivers[i];
		for (uint32_t j = 0; drv->ops->wc_bars && drv->ids[j].vendor; j++) {
			struct pci_dev *d;
			for (int k = 0; (d = pci_find(drv->ids[j].vendor, drv->ids[j].device, k)); k++)
				for (int b = 0; b < 6; b++) {
					uint64_t base = pci_bar_addr(d, b), size = pci_bar_size(d, b);
					if (!(drv->ops->wc_bars & (1u << b)) || !base || size < 4096 ||
					    ((base | size) & 4095) || base + size < base || n == max)
						continue;
					out[n++] = (struct pt_range){ base, base + size };
				}
		}
	}
	return n;
}

/* RX buffer states, one byte per buffer, touched only by the owning core. */
enum { RXB_FREE = 0, RXB_POSTED, RXB_HELD };

/*
 * One queue pair as nic.c sees it, touched only by its core (the counters are read by others).
 * RX: a pool of 2 * rx_size buffers. At most rx_size are posted; the network layer may hold
 * buffers without copying until only rx_floor would stay for the device, then frames are copied
 * (NIC_RX_COPY) and their buffers go straight back, so the device never has fewer than rx_floor
 * buffers, whatever the stack and the services hold.
 * TX: tx_size slots of NIC_BUF_SIZE, each with the reference of the pieces it sent in place.
 */
struct nic_queue {
	uint8_t *rxbufs;
	uint8_t *rxstate;               /* [buf]: RXB_* */
	uint32_t *refill;               /* buffers to post, oldest first: a ring of nbufs entries */
	uint32_t rhead, nrefill;        /* its oldest entry and how many it holds */
	uint32_t nbufs;                 /* pool size */
	uint32_t posted, held;
	uint32_t hold_max;              /* held beyond this: copy */
	uint8_t *txbufs;
	uint32_t *txfree;
	uint32_t ntxfree;
	void **txref;                   /* [slot]: tx_done argument, or NULL */
	void (*tx_done)(void *ref);
	bool was_empty;
	volatile uint32_t ack;          /* the reset phase this queue's core has done (nic.phase) */
	struct nic_qstats st;
	struct prof *prof;              /* the owning core's profile (`prof`): refill, reap, doorbell */
} __attribute__((aligned(CACHELINE)));

/* Reset phases: core 0 moves phase, each queue's core answers in ack. */
enum { PH_LIVE = 0, PH_STOP, PH_REFILL };

static struct nic nic;
static struct nic_queue queues[NIC_MAX_QUEUES];
static bool up;
static volatile uint32_t phase;         /* written by core 0 only */
static volatile uint32_t reset_asked;
static uint8_t key_saved[NIC_RSS_KEY_LEN], reta_saved[NIC_RETA_LEN];
static struct nic_dstats dst;
static struct prof prof_none;           /* a queue's profile before its core starts it: never on */
static uint8_t mc_mac[NIC_MCAST_MAX][6];        /* the multicast list asked for (core 0) */
static uint32_t mc_n = NIC_MCAST_ALL;
static bool mc_asked_all = true;        /* every group asked for, not a list too long */

uint8_t *nic_rx_buf(uint32_t q, uint32_t id)
{
	return queues[q].rxbufs + (uint64_t)id * NIC_BUF_SIZE;
}

unsigned nic_link_change(struct nic *n, bool up)
{
	if (up == n->link)
		return 0;
	n->link = up;
	kprintf("%s0: link %s\n", n->ops->name, up ? "up" : "down");
	return up ? NIC_EV_LINK_UP : NIC_EV_LINK_DOWN;
}

const struct nic *nic_dev(void)
{
	return up ? &nic : NULL;
}

int nic_attach(uint32_t want)
{
	struct pci_dev *d = NULL;
	const struct nic_driver *drv = NULL;
	for (uint32_t i = 0; i < ARRAY_SIZE(nic_drivers) && !d; i++)
		for (uint32_t j = 0; nic_drivers[i]->ids[j].vendor && !d; j++)
			if ((d = pci_find(nic_drivers[i]->ids[j].vendor, nic_drivers[i]->ids[j].device, 0)))
				drv = nic_drivers[i];
	if (!d)
		return -1;
	if (want > NIC_MAX_QUEUES)
		want = NIC_MAX_QUEUES;
	nic.ops = drv->ops;
	nic.pci = d;
	int err = drv->ops->attach(&nic, d, want ? want : 1);
	if (err)
		return err;
	if (nic.npairs == 0 || nic.npairs > want || nic.rx_size < 2 || nic.tx_size < 2 ||
	    nic.caps.rx_hdr + 64 > NIC_BUF_SIZE || nic.caps.tx_hdr + 64 > NIC_BUF_SIZE) {
		kprintf("%s0: driver reported an unusable set-up\n", drv->ops->name);
		return -2;
	}
	if (nic.caps.reta_len == 0 || nic.caps.reta_len > NIC_RETA_LEN || (nic.caps.reta_len & (nic.caps.reta_len - 1)))
		nic.caps.rss = false;
	return (int)nic.npairs;
}

/* A buffer back to the device's side, posted by the next rx_refill. */
static void refill_push(struct nic_queue *nq, uint32_t b)
{
	uint32_t at = nq->rhead + nq->nrefill++;
	nq->refill[at < nq->nbufs ? at : at - nq->nbufs] = b;
}

/* Queue q's pool, slots and lists from the arena of core q, the core that will own it. */
static int queue_alloc(uint32_t q)
{
	struct nic_queue *nq = &queues[q];
	uint32_t nb = 2 * nic.rx_size, nt = nic.tx_size;
	nq->prof = &prof_none;
	nq->rxbufs = (void *)(uintptr_t)mem_alloc(q, (uint64_t)nb * NIC_BUF_SIZE, 4096);
	nq->rxstate = (void *)(uintptr_t)mem_alloc(q, nb, CACHELINE);
	nq->refill = (void *)(uintptr_t)mem_alloc(q, 4ull * nb, CACHELINE);
	nq->txbufs = (void *)(uintptr_t)mem_alloc(q, (uint64_t)nt * NIC_BUF_SIZE, 4096);
	nq->txfree = (void *)(uintptr_t)mem_alloc(q, 4ull * nt, CACHELINE);
	nq->txref = (void *)(uintptr_t)mem_alloc(q, sizeof(void *) * nt, CACHELINE);
	if (!nq->rxbufs || !nq->rxstate || !nq->refill || !nq->txbufs || !nq->txfree || !nq->txref)
		return -1;
	nq->nbufs = nb;
	nq->hold_max = nb - nic.rx_size / 2;    /* the device keeps at least half a ring */
	for (uint32_t i = 0; i < nb; i++)
		refill_push(nq, i);
	for (uint32_t i = 0; i < nt; i++)
		nq->txfree[nq->ntxfree++] = i;
	return 0;
}

/*
 * Post as many waiting buffers as the ring has room for, oldest first (each buffer of the pool
 * comes round in turn), in one batch: two calls where the list wraps. Unless all is set, only
 * once the ring lacks a quarter of its buffers: each post is a doorbell or a tail write the device
 * acts on (QEMU's virtio-net asks for an RX doorbell after every frame it places, so posting each
 * loop's few buffers rang one a loop), and three quarters of a ring take any burst a loop leaves.
 * A ring down to its floor of half lacks more than a quarter: it is always filled.
 */
static void rx_refill(uint32_t q, bool all)
{
	struct nic_queue *nq = &queues[q];
	uint32_t n = nic.rx_size - nq->posted;
	if (!all && n < nic_rx_refill_batch(nic.rx_size))
		return;
	if (n > nq->nrefill)
		n = nq->nrefill;
	while (n) {
		uint32_t k = nq->nbufs - nq->rhead < n ? nq->nbufs - nq->rhead : n;
		const uint32_t *ids = nq->refill + nq->rhead;
		for (uint32_t i = 0; i < k; i++)
			nq->rxstate[ids[i]] = RXB_POSTED;
		nic.ops->rx_post(&nic, q, ids, k);
		nq->posted += k;
		nq->nrefill -= k;
		nq->rhead = nq->rhead + k == nq->nbufs ? 0 : nq->rhead + k;
		n -= k;
	}
}

/* The kept multicast list to the live device (core 0). */
static void mcast_apply(void)
{
	if (!nic.ops->set_mcast) {
		dst.mcast_entries = 0;
		dst.mcast_all = true;
		return;
	}
	bool all = nic.ops->set_mcast(&nic, mc_mac, mc_n) != 0;
	if (all && !mc_asked_all)
		dst.mcast_fallbacks++;
	dst.mcast_entries = all ? 0 : mc_n;
	dst.mcast_all = all;
}

void nic_set_mcast(const uint8_t (*mac)[6], uint32_t cnt)
{
	mc_asked_all = cnt == NIC_MCAST_ALL;
	mc_n = cnt > NIC_MCAST_MAX ? NIC_MCAST_ALL : cnt;
	if (mc_n != NIC_MCAST_ALL)
		memcpy(mc_mac, mac, 6 * (size_t)mc_n);
	/* During a reset the restart applies it (reset_step). */
	if (up && phase == PH_LIVE)
		mcast_apply();
}

int nic_start(const uint8_t key[NIC_RSS_KEY_LEN], const uint8_t reta[NIC_RETA_LEN])
{
	memcpy(key_saved, key, NIC_RSS_KEY_LEN);
	memcpy(reta_saved, reta, NIC_RETA_LEN);
	for (uint32_t q = 0; q < nic.npairs; q++) {
		if (queue_alloc(q)) {
			kprintf("%s0: no memory for queue %u's buffers\n", nic.ops->name, q);
			return -1;
		}
		rx_refill(q, true);
	}
	int err = nic.ops->start(&nic, key, reta);
	if (err)
		return err;
	mcast_apply();
	up = true;
	return 0;
}

void nic_queue_start(uint32_t q, void (*tx_done)(void *ref))
{
	struct cpu *c = this_cpu();
	queues[q].tx_done = tx_done;
	queues[q].prof = c ? &c->prof : &prof_none;
	nic_flush(q);                   /* the first doorbell, if the device wants one */
}

int nic_rx_burst(uint32_t q, struct nic_rxf *out, int max)
{
	struct nic_queue *nq = &queues[q];
	struct nic_rxd d[NIC_RX_BURST];
	if (phase != PH_LIVE)
		return 0;
	if (max > NIC_RX_BURST)
		max = NIC_RX_BURST;
	int got = nic.ops->rx_poll(&nic, q, d, max), n = 0;
	uint32_t room = NIC_BUF_SIZE - (uint32_t)nic.caps.rx_hdr;
	for (int i = 0; i < got; i++) {
		uint32_t b = d[i].buf;
		if (b >= nq->nbufs || nq->rxstate[b] != RXB_POSTED) {
			nq->st.rx_drop_bad++;   /* the device named a buffer it does not have */
			continue;
		}
		nq->posted--;
		if (d[i].len < 14 || d[i].len > room) {
			nq->st.rx_drop_bad++;
			nq->rxstate[b] = RXB_FREE;
			refill_push(nq, b);
			continue;
		}
		nq->rxstate[b] = RXB_HELD;
		uint32_t flags = d[i].flags & (NIC_RX_CSUM_OK | NIC_RX_HASH);
		if (++nq->held > nq->hold_max) {
			flags |= NIC_RX_COPY;
			nq->st.rx_copied++;
		}
		if (flags & NIC_RX_CSUM_OK)
			nq->st.rx_csum_ok++;
		nq->st.rx_packets++;
		nq->st.rx_bytes += d[i].len;
		out[n++] = (struct nic_rxf){ nic_rx_buf(q, b) + nic.caps.rx_hdr, d[i].len, b, d[i].hash, flags };
	}
	/* Every posted buffer used: the device had nowhere to put what came next. */
	bool empty = got > 0 && nq->posted == 0;
	if (empty && !nq->was_empty)
		nq->st.rx_empty++;
	nq->was_empty = empty;
	return n;
}

void nic_rx_return(uint32_t q, uint32_t buf)
{
	struct nic_queue *nq = &queues[q];
	if (buf >= nq->nbufs || nq->rxstate[buf] != RXB_HELD)
		panic("nic: queue %u: buffer %u returned but not held", q, buf);
	nq->rxstate[buf] = RXB_FREE;
	nq->held--;
	refill_push(nq, buf);                   /* posted in a batch by nic_flush */
}

/* Take back the slots the device has finished; hand in-place pieces back to their owner. */
static void tx_reap(uint32_t q)
{
	struct nic_queue *nq = &queues[q];
	uint32_t slots[64];
	int got;
	unsigned back = prof_enter(nq->prof, PROF_REAP);
	while ((got = nic.ops->tx_reap(&nic, q, slots, 64)) > 0)
		for (int i = 0; i < got; i++) {
			uint32_t s = slots[i];
			if (s >= nic.tx_size)
				continue;       /* the driver checks its cookies; never trust one twice */
			if (nq->txref[s]) {
				nq->tx_done(nq->txref[s]);
				nq->txref[s] = NULL;
			}
			nq->txfree[nq->ntxfree++] = s;
		}
	prof_leave(nq->prof, back);
}

static bool tx_room(uint32_t q, uint32_t nseg)
{
	return queues[q].ntxfree != 0 && nic.ops->tx_room(&nic, q, nseg);
}

int nic_tx(uint32_t q, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	struct nic_queue *nq = &queues[q];
	/* How many leading pieces to copy: up to the first long one, or all. */
	unsigned ncopy = n;
	if (ref && nic.caps.tx_sg) {
		for (unsigned i = 0; i < n; i++)
			if (f[i].len >= NIC_TX_REF_MIN) {
				ncopy = i;
				break;
			}
		if (n - ncopy > NIC_TX_MAX_REFS)
			ncopy = n;
	}
	uint32_t total = 0, copied = 0;
	for (unsigned i = 0; i < n; i++) {
		total += f[i].len;
		copied += i < ncopy ? f[i].len : 0;
	}
	bool gso = o && o->gso;
	uint32_t most = gso ? nic.caps.tso_max : NIC_BUF_SIZE - (uint32_t)nic.caps.tx_hdr;
	if (total > most || copied > NIC_BUF_SIZE - (uint32_t)nic.caps.tx_hdr ||
	    (gso && (!nic.caps.tx_csum || !o->csum_start || !o->gso_size || o->hdr_len >= total ||
		     copied < o->hdr_len))) {
		nq->st.tx_drop_big++;
		return NIC_TX_DROP;
	}
	uint32_t nseg = 1 + n - ncopy;
	if (phase != PH_LIVE) {
		nq->st.tx_full++;
		return NIC_TX_FULL;
	}
	if (!tx_room(q, nseg))
		tx_reap(q);
	if (!tx_room(q, nseg)) {
		nq->st.tx_full++;
		return NIC_TX_FULL;
	}
	struct nic_txd d;
	d.slot = nq->txfree[--nq->ntxfree];
	d.buf = nq->txbufs + (uint64_t)d.slot * NIC_BUF_SIZE;
	d.len = total;
	d.nseg = nseg;
	d.o = (struct nic_txo){ 0 };
	if (o && o->csum_start && nic.caps.tx_csum) {
		d.o = *o;
		nq->st.tx_csum_offload++;
	}
	if (gso) {
		nq->st.tx_tso++;
		nq->st.tx_tso_segs += (total - o->hdr_len + o->gso_size - 1) / o->gso_size;
	}
	uint32_t off = nic.caps.tx_hdr;
	for (unsigned i = 0; i < ncopy; i++) {
		memcpy(d.buf + off, f[i].p, f[i].len);
		off += f[i].len;
	}
	d.seg[0].pa = (uint64_t)(uintptr_t)d.buf;
	d.seg[0].len = off;
	for (unsigned i = ncopy; i < n; i++) {
		d.seg[1 + i - ncopy].pa = (uint64_t)(uintptr_t)f[i].p;
		d.seg[1 + i - ncopy].len = f[i].len;
	}
	nq->txref[d.slot] = ncopy < n ? ref : NULL;
	nic.ops->tx_post(&nic, q, &d);
	if (ncopy < n)
		nq->st.tx_zero_copy++;
	nq->st.tx_packets++;
	nq->st.tx_bytes += total;
	return ncopy < n ? NIC_TX_INPLACE : NIC_TX_COPIED;
}

/*
 * A reset seen from a queue's core. PH_STOP: stop touching the device. PH_REFILL (the device is
 * reset, its rings empty): every frame in flight is done (the device will not read it now), every
 * posted buffer is free again; post them for the device's return.
 */
static void queue_phase(uint32_t q, uint32_t ph)
{
	struct nic_queue *nq = &queues[q];
	if (nq->ack == ph)
		return;
	if (ph == PH_REFILL) {
		for (uint32_t s = 0; s < nic.tx_size; s++)
			if (nq->txref[s]) {
				nq->tx_done(nq->txref[s]);
				nq->txref[s] = NULL;
			}
		nq->ntxfree = 0;
		for (uint32_t s = 0; s < nic.tx_size; s++)
			nq->txfree[nq->ntxfree++] = s;
		for (uint32_t b = 0; b < nq->nbufs; b++)
			if (nq->rxstate[b] == RXB_POSTED) {
				nq->rxstate[b] = RXB_FREE;
				refill_push(nq, b);
			}
		nq->posted = 0;
		rx_refill(q, true);
	}
	__atomic_store_n(&nq->ack, ph, __ATOMIC_RELEASE);
}

void nic_flush(uint32_t q)
{
	uint32_t ph = __atomic_load_n(&phase, __ATOMIC_ACQUIRE);
	if (ph != PH_LIVE) {
		queue_phase(q, ph);
		return;
	}
	struct nic_queue *nq = &queues[q];
	if (nq->ack != PH_LIVE)
		nq->ack = PH_LIVE;
	/* The caller charges the doorbell; the refill is RX's, the reap its own. */
	unsigned back = prof_enter(nq->prof, PROF_RX);
	rx_refill(q, false);
	prof_leave(nq->prof, back);
	tx_reap(q);
	nic.ops->flush(&nic, q);
}

static bool all_acked(uint32_t ph)
{
	for (uint32_t q = 0; q < nic.npairs; q++)
		if (__atomic_load_n(&queues[q].ack, __ATOMIC_ACQUIRE) != ph)
			return false;
	return true;
}

void nic_request_reset(void)
{
	reset_asked = 1;
}

/* The reset runs as a little state machine on core 0's slow path, so no core ever waits: the
 * queues pause (RX not polled, TX refused as full, which senders treat as "try later"). */
static void reset_step(void)
{
	if (phase == PH_STOP && all_acked(PH_STOP)) {
		if (nic.ops->reset(&nic) != 0) {
			kprintf("%s0: reset failed: the NIC stays down\n", nic.ops->name);
			dst.reset_failed++;
			up = false;
			return;
		}
		__atomic_store_n(&phase, PH_REFILL, __ATOMIC_RELEASE);
	} else if (phase == PH_REFILL && all_acked(PH_REFILL)) {
		if (nic.ops->start(&nic, key_saved, reta_saved) != 0) {
			kprintf("%s0: restart after reset failed: the NIC stays down\n", nic.ops->name);
			dst.reset_failed++;
			up = false;
			return;
		}
		mcast_apply();
		dst.resets++;
		kprintf("%s0: reset done, %u queue pairs back\n", nic.ops->name, nic.npairs);
		__atomic_store_n(&phase, PH_LIVE, __ATOMIC_RELEASE);
	}
}

unsigned nic_slow_poll(void)
{
	if (!up)
		return 0;
	if (phase != PH_LIVE) {
		reset_step();
		return 0;
	}
	unsigned ev = nic.ops->slow_poll(&nic);
	if (ev & NIC_EV_LINK_DOWN)
		dst.link_down++;
	if (ev & NIC_EV_LINK_UP)
		dst.link_up++;
	if ((ev & NIC_EV_RESET) || reset_asked) {
		reset_asked = 0;
		kprintf("%s0: resetting the device\n", nic.ops->name);
		__atomic_store_n(&phase, PH_STOP, __ATOMIC_RELEASE);
	}
	return ev & (NIC_EV_LINK_UP | NIC_EV_LINK_DOWN);
}

void nic_qstats(uint32_t q, struct nic_qstats *out)
{
	*out = queues[q].st;
	out->rx_held = queues[q].held;
}

void nic_dstats(struct nic_dstats *out)
{
	*out = dst;
}

unsigned nic_counters(int q, struct nic_counter *out, unsigned max)
{
	if (!nic.ops || !nic.ops->counters)
		return 0;
	return nic.ops->counters(&nic, q, out, max);
}
