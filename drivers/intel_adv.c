/* The advanced-descriptor ring engine of the 82576 and the 82599 (drivers/intel_adv.h). */
#include <string.h>

#include "kernel.h"
#include "intel_adv.h"

uint32_t iadv_rd(const struct iadv *a, uint32_t off)
{
	return mmio_read32(a->bar + off);
}

void iadv_wr(const struct iadv *a, uint32_t off, uint32_t v)
{
	mmio_write32(a->bar + off, v);
}

/* Counter ticks in us microseconds, rounded up: whole seconds and the rest apart, so a counter
 * that is not a multiple of 1 MHz (AArch64's 62.5 MHz, a calibrated TSC) loses nothing and
 * nothing overflows. */
static uint64_t us_ticks(uint64_t us)
{
	uint64_t hz = arch_counter_hz();
	return us / 1000000 * hz + (us % 1000000 * hz + 999999) / 1000000;
}

/* Both waits run on the kernel's calibrated counter alone, never on a count of spins: how long a
 * spin (pause / yield and a register read) takes varies tenfold between CPUs, and a reset delay
 * cut short is a device accessed before it is ready (issue 14, "Delays that hold on real CPUs").
 * A host test's counter moves on every read, so a device model that never answers still ends. */
bool iadv_wait(const struct iadv *a, uint32_t off, uint32_t mask, uint32_t want, uint32_t ms)
{
	uint64_t start = arch_counter(), ticks = us_ticks((uint64_t)ms * 1000);
	for (;;) {
		if ((iadv_rd(a, off) & mask) == want)
			return true;
		if (arch_counter() - start > ticks)
			break;
		arch_relax();
	}
	return (iadv_rd(a, off) & mask) == want;
}

void iadv_delay_us(uint32_t us)
{
	uint64_t start = arch_counter(), ticks = us_ticks(us);
	while (arch_counter() - start < ticks)
		arch_relax();
}

static void swsm_put(const struct iadv *a, const struct iadv_swfw *s)
{
	iadv_wr(a, s->swsm, iadv_rd(a, s->swsm) & ~(IADV_SWSM_SMBI | IADV_SWSM_SWESMBI));
}

static bool swsm_get(const struct iadv *a, const struct iadv_swfw *s)
{
	if (!iadv_wait(a, s->swsm, IADV_SWSM_SMBI, 0, s->smbi_ms)) {
		if (!s->smbi_force)
			return false;
		swsm_put(a, s);
		iadv_delay_us(50);
		if (iadv_rd(a, s->swsm) & IADV_SWSM_SMBI)
			return false;
	}
	for (uint32_t i = 0; i < s->swesmbi_tries; i++) {
		iadv_wr(a, s->swsm, iadv_rd(a, s->swsm) | IADV_SWSM_SWESMBI);
		if (iadv_rd(a, s->swsm) & IADV_SWSM_SWESMBI)
			return true;
		iadv_delay_us(50);
	}
	swsm_put(a, s);
	return false;
}

bool iadv_swfw_get(const struct iadv *a, const struct iadv_swfw *s, uint32_t mask)
{
	for (uint32_t i = 0; i < s->sync_tries; i++) {
		if (!swsm_get(a, s))
			return false;
		uint32_t sync = iadv_rd(a, s->sync);
		if (!(sync & (mask | mask << s->fw_shift))) {
			iadv_wr(a, s->sync, sync | mask);
			swsm_put(a, s);
			return true;
		}
		swsm_put(a, s);
		iadv_delay_us(5000);
	}
	return false;
}

void iadv_swfw_put(const struct iadv *a, const struct iadv_swfw *s, uint32_t mask)
{
	bool got = swsm_get(a, s);
	iadv_wr(a, s->sync, iadv_rd(a, s->sync) & ~mask);
	if (got)
		swsm_put(a, s);
}

static int ring_init(struct iadv_ring *r, uint32_t core, uint32_t size, bool tx)
{
	if (!r->desc) {
		r->desc = (void *)(uintptr_t)mem_alloc(core, 16ull * size, 4096);
		r->cookie = (void *)(uintptr_t)mem_alloc(core, 4ull * size, CACHELINE);
		if (tx)
			r->last = (void *)(uintptr_t)mem_alloc(core, 4ull * size, CACHELINE);
		if (!r->desc || !r->cookie || (tx && !r->last))
			return -1;
		r->size = size;
	} else if (r->size != size) {
		return -1;
	}
	memset(r->desc, 0, 16ull * size);
	r->next = r->clean = r->written = 0;
	return 0;
}

int iadv_rings_init(struct iadv *a, uint32_t n, uint32_t rx_ring, uint32_t tx_ring)
{
	a->npairs = n;
	a->rx_ring = rx_ring;
	a->tx_ring = tx_ring;
	for (uint32_t q = 0; q < n; q++) {
		struct iadv_pair *p = &a->pair[q];
		if (ring_init(&p->rx, q, rx_ring, false) || ring_init(&p->tx, q, tx_ring, true))
			return -1;
		p->rx_skip = false;
	}
	return 0;
}

/* Base, length, head and tail of one ring (82599 4.6.7 / 4.6.8; 82576 4.5.9 / 4.5.10). */
static void ring_program(struct iadv *a, struct iadv_ring *r, uint32_t base)
{
	uint64_t pa = (uint64_t)(uintptr_t)r->desc;    /* RAM is identity-mapped */
	iadv_wr(a, base + IADV_Q_BAL, (uint32_t)pa);
	iadv_wr(a, base + IADV_Q_BAH, (uint32_t)(pa >> 32));
	iadv_wr(a, base + IADV_Q_LEN, 16 * r->size);
	iadv_wr(a, base + IADV_Q_H, 0);
	iadv_wr(a, base + IADV_Q_T, 0);
	r->tail_reg = a->bar + base + IADV_Q_T;
	r->written = 0;
}

void iadv_rx_program(struct iadv *a, uint32_t q)
{
	iadv_wr(a, a->chip->srrctl(q), a->chip->srrctl_val);
	ring_program(a, &a->pair[q].rx, a->chip->rxq(q));
}

void iadv_tx_program(struct iadv *a, uint32_t q)
{
	ring_program(a, &a->pair[q].tx, a->chip->txq(q));
}

static int queue_enable(struct iadv *a, uint32_t base)
{
	iadv_wr(a, base + IADV_Q_DCTL, iadv_rd(a, base + IADV_Q_DCTL) | IADV_Q_DCTL_ENABLE);
	return iadv_wait(a, base + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE, IADV_Q_DCTL_ENABLE, 10) ? 0 : -1;
}

int iadv_rx_enable(struct iadv *a, uint32_t q)
{
	return queue_enable(a, a->chip->rxq(q));
}

int iadv_tx_enable(struct iadv *a, uint32_t q)
{
	return queue_enable(a, a->chip->txq(q));
}

void iadv_rx_tail(struct iadv *a, uint32_t q)
{
	struct iadv_ring *r = &a->pair[q].rx;
	dma_wmb();
	mmio_write32(r->tail_reg, r->next & (r->size - 1));
	r->written = r->next;
}

int iadv_read_mac(struct iadv *a, uint32_t ral_off, const char *name, uint8_t mac[6])
{
	uint32_t ral = iadv_rd(a, ral_off), rah = iadv_rd(a, ral_off + 4);
	if (!(rah & IADV_RAH_AV) || (ral == 0 && (rah & 0xffff) == 0)) {
		kprintf("%s0: no valid MAC address in RAL0/RAH0\n", name);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(ral >> (8 * i));
	mac[4] = (uint8_t)rah, mac[5] = (uint8_t)(rah >> 8);
	return 0;
}

void iadv_rss_program(struct iadv *a, const uint8_t *key, const uint8_t *reta)
{
	for (uint32_t i = 0; i < NIC_RSS_KEY_LEN / 4; i++)
		iadv_wr(a, IADV_RSSRK(i), (uint32_t)key[4 * i] | (uint32_t)key[4 * i + 1] << 8 |
						  (uint32_t)key[4 * i + 2] << 16 | (uint32_t)key[4 * i + 3] << 24);
	for (uint32_t i = 0; i < IADV_RETA_LEN / 4; i++) {
		uint32_t v = 0;
		for (uint32_t j = 0; j < 4; j++)
			v |= (uint32_t)((reta[4 * i + j] % a->npairs) & a->chip->reta_mask) << (8 * j);
		iadv_wr(a, IADV_RETA(i), v);
	}
}

void iadv_mta_program(struct iadv *a, const uint8_t (*mac)[6], uint32_t cnt)
{
	uint32_t mta[IADV_MTA_LEN] = { 0 };
	for (uint32_t i = 0; i < cnt; i++) {
		uint32_t h = ((uint32_t)mac[i][4] >> 4 | (uint32_t)mac[i][5] << 4) & 0xfff;
		mta[h >> 5] |= 1u << (h & 31);
	}
	for (uint32_t i = 0; i < IADV_MTA_LEN; i++)
		iadv_wr(a, IADV_MTA(i), mta[i]);
}

/* ---- RX ---- */

void iadv_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt)
{
	struct iadv_ring *r = &((struct iadv *)n->priv)->pair[q].rx;
	volatile union iadv_rxd *d = r->desc;
	for (uint32_t k = 0; k < cnt; k++) {             /* room: nic.c posts at most rx_size */
		uint32_t i = r->next++ & (r->size - 1);
		d[i].rd.pkt_addr = (uint64_t)(uintptr_t)nic_rx_buf(q, ids[k]);
		d[i].rd.hdr_addr = 0;
		r->cookie[i] = ids[k];
	}
}

int iadv_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max)
{
	struct iadv *a = n->priv;
	struct iadv_pair *p = &a->pair[q];
	struct iadv_ring *r = &p->rx;
	volatile union iadv_rxd *desc = r->desc;
	const struct iadv_chip *c = a->chip;
	int k = 0;
	while (k < max) {
		uint32_t i = r->clean & (r->size - 1);
		volatile union iadv_rxd *d = &desc[i];
		uint32_t st = d->wb.status_error;
		if (!(st & IADV_RXD_DD))
			break;
		if (r->clean == r->next) {
			/* Written back but never posted (we clear every descriptor we take): the device
			 * ran past our tail. Nothing here is ours to hand on. */
			p->st.rx_stray_wb++;
			d->rd.hdr_addr = 0;
			break;
		}
		dma_rmb();                      /* the rest of the write-back after DD */
		uint32_t len = d->wb.length, info = d->wb.pkt_info, hash = d->wb.rss;
		uint32_t id = r->cookie[i];
		d->rd.hdr_addr = 0;             /* DD off: a later look at this slot sees it as not ours */
		r->clean++;
		struct nic_rxd *o = &out[k++];
		*o = (struct nic_rxd){ id, len, 0, 0 };
		if (p->rx_skip || !(st & IADV_RXD_EOP)) {
			/* Part of a frame larger than one buffer: dropped whole (len 0 makes nic.c count
			 * it and post the buffer again). */
			if (!p->rx_skip)
				p->st.rx_not_eop++;
			p->rx_skip = !(st & IADV_RXD_EOP);
			o->len = 0;
			continue;
		}
		if (len > NIC_BUF_SIZE || len == 0) {
			p->st.rx_bad_len++;
			o->len = 0;
			continue;
		}
		if (info & 0xf) {
			o->hash = hash;
			o->flags |= NIC_RX_HASH;
		}
		if (st & IADV_RXD_L4CS) {
			if (st & (c->rx_l4_err | c->rx_ip_err))
				p->st.rx_csum_err++;    /* left to the stack, which drops it */
			else
				o->flags |= NIC_RX_CSUM_OK;
		}
	}
	return k;
}

/* ---- TX ---- */

static uint32_t tx_free(const struct iadv_ring *r)
{
	return r->size - 1 - (r->next - r->clean);
}

bool iadv_tx_room(struct nic *n, uint32_t q, uint32_t nseg)
{
	return tx_free(&((struct iadv *)n->priv)->pair[q].tx) >= nseg + 1;     /* + a context */
}

void iadv_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d)
{
	struct iadv *a = n->priv;
	struct iadv_pair *p = &a->pair[q];
	struct iadv_ring *r = &p->tx;
	volatile union iadv_txd *desc = r->desc;
	uint32_t mask = r->size - 1, first = r->next, olinfo = d->len << IADV_TXD_PAYLEN_SHIFT, tse = 0;
	if (d->o.gso) {
		/* TCP segmentation (the header updates as the 82598EB datasheet's 3.5.3.4.7 and the I210's,
		 * the 82576's successor, 7.2.4.7 describe them): the context names the headers' lengths,
		 * IPv4 or IPv6 and the MSS; PAYLEN is the TCP payload alone; every data descriptor has
		 * TSE; POPTS asks for the TCP checksum and, for IPv4, the header checksum of each
		 * segment. The TCP checksum field must hold the pseudo-header sum without the length,
		 * which the chip adds per segment, where nic.h's frame has it over the whole TCP length:
		 * taken out here, in the header nic.c copied into the slot (seg[0]). */
		uint32_t l4 = d->o.csum_start, l4len = (uint32_t)d->o.hdr_len - l4;
		bool v4 = d->o.gso == NIC_GSO_TCP4;
		uint8_t *c = d->buf + n->caps.tx_hdr + l4 + 16;
		uint32_t sum = (uint32_t)(c[0] << 8 | c[1]) + (~(d->len - l4) & 0xffff);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		c[0] = (uint8_t)(sum >> 8), c[1] = (uint8_t)sum;
		volatile struct iadv_txctx *cx = (volatile void *)&desc[r->next++ & mask];
		cx->vlan_macip_lens = 14u << IADV_CTX_MACLEN_SHIFT | (l4 - 14);
		cx->seqnum_seed = 0;
		cx->type_tucmd_mlhl = IADV_TXD_DTYP_CTXT | IADV_TXD_DEXT | IADV_CTX_TUCMD_L4T_TCP |
				      (v4 ? IADV_CTX_TUCMD_IPV4 : 0);
		cx->mss_l4len_idx = (uint32_t)d->o.gso_size << IADV_CTX_MSS_SHIFT | l4len << IADV_CTX_L4LEN_SHIFT;
		olinfo = (d->len - d->o.hdr_len) << IADV_TXD_PAYLEN_SHIFT | IADV_TXD_TXSM | (v4 ? IADV_TXD_IXSM : 0) |
			 IADV_TXD_IDX0 | a->chip->tx_olinfo;
		tse = IADV_TXD_TSE;
		p->st.tx_ctx++;
	} else if (d->o.csum_start > 14) {
		/* One context per offloaded frame: Ethernet header of 14 bytes (no VLAN is ever sent),
		 * then the IP header up to csum_start; the offset of the checksum says TCP (16) or UDP
		 * (6). TUCMD.IPV4 stays clear: it says IPv4 for the header checksum (IXSM) and for
		 * segmentation, neither asked here, and the frame may be IPv6, for which Intel's drivers
		 * clear it (it was set for every frame before). */
		volatile struct iadv_txctx *cx = (volatile void *)&desc[r->next++ & mask];
		cx->vlan_macip_lens = 14u << IADV_CTX_MACLEN_SHIFT | (uint32_t)(d->o.csum_start - 14);
		cx->seqnum_seed = 0;
		cx->type_tucmd_mlhl = IADV_TXD_DTYP_CTXT | IADV_TXD_DEXT |
				      (d->o.csum_offset == 16 ? IADV_CTX_TUCMD_L4T_TCP : 0);
		cx->mss_l4len_idx = 0;
		olinfo |= IADV_TXD_TXSM | IADV_TXD_IDX0 | a->chip->tx_olinfo;
		p->st.tx_ctx++;
	}
	/* The slot's segment is empty when every piece is sent in place: a data descriptor of length
	 * 0 is not allowed (QEMU drops the whole frame), so empty segments get none. */
	uint32_t lastseg = d->nseg - 1;
	while (lastseg > 0 && d->seg[lastseg].len == 0)
		lastseg--;
	for (uint32_t s = 0; s <= lastseg; s++) {
		if (d->seg[s].len == 0)
			continue;
		volatile union iadv_txd *t = &desc[r->next++ & mask];
		t->rd.addr = d->seg[s].pa;
		t->rd.olinfo_status = olinfo;
		t->rd.cmd_type_len = IADV_TXD_DTYP_DATA | IADV_TXD_DEXT | IADV_TXD_IFCS | tse | d->seg[s].len |
				     (s == lastseg ? IADV_TXD_EOP | IADV_TXD_RS : 0);
	}
	r->cookie[first & mask] = d->slot;
	r->last[first & mask] = r->next - 1;
}

int iadv_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max)
{
	struct iadv_ring *r = &((struct iadv *)n->priv)->pair[q].tx;
	volatile union iadv_txd *desc = r->desc;
	uint32_t mask = r->size - 1;
	int k = 0;
	while (k < max && r->clean != r->next) {
		uint32_t f = r->clean & mask, l = r->last[f];
		if (!(desc[l & mask].wb.status & IADV_TXD_STAT_DD))
			break;
		slots[k++] = r->cookie[f];
		r->clean = l + 1;
	}
	return k;
}

void iadv_flush(struct nic *n, uint32_t q)
{
	struct iadv_pair *p = &((struct iadv *)n->priv)->pair[q];
	bool rx = p->rx.next != p->rx.written, tx = p->tx.next != p->tx.written;
	if (!rx && !tx)
		return;
	dma_wmb();                              /* descriptors before the tails that publish them */
	if (rx) {
		mmio_write32(p->rx.tail_reg, p->rx.next & (p->rx.size - 1));
		p->rx.written = p->rx.next;
		p->st.doorbells++;
	}
	if (tx) {
		mmio_write32(p->tx.tail_reg, p->tx.next & (p->tx.size - 1));
		p->tx.written = p->tx.next;
		p->st.doorbells++;
	}
}

unsigned iadv_counters(const struct iadv *a, uint32_t q, struct nic_counter *out, unsigned k, unsigned max)
{
	const struct iadv_qstats *s = &a->pair[q].st;
#define C(name, v) nic_counter(out, &k, max, name, v)
	C("doorbells", s->doorbells);
	C("tx_ctx", s->tx_ctx);
	C("csum_err", s->rx_csum_err);
	C("not_eop", s->rx_not_eop);
	C("bad_len", s->rx_bad_len);
	C("stray_wb", s->rx_stray_wb);
#undef C
	return k;
}
