/* test_ixgbe: the 82599 driver and the advanced-descriptor engine, through drivers/nic.c, against a
 * model of the 82599 written from its datasheet (331520): register semantics, bring-up order, RX
 * and TX descriptors, RSS per key and RETA, error counters, link, bad device values, reset. */
#include <stdarg.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/intel_adv.h"
#include "drivers/ixgbe_reg.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "test.h"

/* ---- kernel services nic.c and the drivers use ---- */
static char klog[65536];
static size_t klen;
void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(klog + klen, sizeof(klog) - klen, fmt, ap);
	va_end(ap);
	if (n > 0)
		klen += (size_t)n < sizeof(klog) - klen ? (size_t)n : sizeof(klog) - klen - 1;
}
static bool logged(const char *s) { return strstr(klog, s) != NULL; }

uint64_t mem_alloc(uint32_t core, uint64_t size, uint64_t align)
{
	(void)core;
	void *p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
	if (p)
		memset(p, 0, size);
	return (uint64_t)(uintptr_t)p;
}
uint64_t arch_counter_hz(void) { return 1000000000; }

/* The one PCI function: an 82599 SFP+ with BAR 0 at a host address only the model answers. */
#define BAR0 0x7f0000000000ull
#define BAR_SIZE 0x20000u
static struct pci_dev dev82599 = { .vendor = 0x8086, .device = 0x10fb };
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	return vendor == 0x8086 && device == 0x10fb && nth == 0 ? &dev82599 : NULL;
}
uint64_t pci_bar_addr(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? BAR0 : 0; }
uint64_t pci_bar_size(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? BAR_SIZE : 0; }
void pci_enable(struct pci_dev *d) { (void)d; }
int pci_scan(const struct acpi_info *ai) { (void)ai; return 1; }      /* nic_wc_ranges' (not run here) */

/* nic.c's probe table names virtio-net and ENA too: here they serve no ID. */
static const struct nic_id no_ids[] = { { 0, 0 } };
const struct nic_driver vnet_driver = { NULL, no_ids }, ena_driver = { NULL, no_ids };

/* ---- the 82599 model ---- */
#define R(off) m.reg[(off) / 4]
#define NQ 64
static const uint8_t MAC[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };

struct txframe { uint32_t len; uint8_t data[2048]; uint32_t queue; };

static struct {
	uint32_t reg[BAR_SIZE / 4];
	uint64_t ticks;                 /* every register access takes time */
	uint64_t reset_done_at;         /* 0: no reset running */
	bool stuck_reset;               /* CTRL.RST never clears */
	bool cable;                     /* a link partner is there */
	uint64_t link_at;               /* auto-negotiation completes then (0: not restarted) */
	uint8_t txbuf[NQ][16384];
	uint32_t txlen[NQ];
	struct txframe out[256];
	uint32_t nout;
	/* What the driver did wrong, as the datasheet states the rules. */
	int write_in_reset, irq_unmasked, rxq_enable_refused, txq_enable_refused, tail_refused;
	int rdt_before_enable, rxen_without_secrx_dis, rxen_before_queues, crcstrip_mismatch;
	int rdrxctl_must_be, zero_len_desc, ctx_without_cc, bad_desctype, dma_outside;
	int before_init;
	int rx_dropped_filter, rx_dropped_disabled;
} m;

static bool resetting(void) { return m.reset_done_at && m.ticks < m.reset_done_at; }

/* Power-on / reset values the driver depends on (8.2.3): the MAC loaded from the EEPROM into
 * RAL0/RAH0 with AV, every interrupt masked, EEC.ARD and RDRXCTL.DMAIDONE clear until done. */
static void model_reset_regs(void)
{
	memset(m.reg, 0, sizeof(m.reg));
	R(IXGBE_RAL0) = MAC[0] | MAC[1] << 8 | MAC[2] << 16 | (uint32_t)MAC[3] << 24;
	R(IXGBE_RAH0) = MAC[4] | MAC[5] << 8 | IXGBE_RAH_AV;
	R(IXGBE_AUTOC) = 0x2u << 13;            /* the EEPROM's link mode: KX4/KX */
	R(IXGBE_RDRXCTL) = 0x00000880;          /* reset value per 8.2.3.8.8 minus DMAIDONE */
	for (uint32_t q = 0; q < NQ; q++)
		R(IXGBE_SRRCTL(q)) = 0x00000402;        /* 2 KiB buffers, legacy descriptors */
	m.link_at = 0;
}

static void tick(void)
{
	m.ticks++;
	if (m.reset_done_at && m.ticks == m.reset_done_at) {
		R(IXGBE_CTRL) &= ~(IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
		R(IXGBE_EEC) |= 0;
	}
}

/* EEC.ARD comes 100 ticks after the reset completes, DMAIDONE 300 ticks after; LINKS once AN is
 * done. (Long enough that a driver skipping a wait writes too early and is caught.) */
static bool ard_done(void) { return !resetting() && m.reset_done_at && m.ticks >= m.reset_done_at + 100; }
static bool dma_done(void) { return !resetting() && m.reset_done_at && m.ticks >= m.reset_done_at + 300; }

static uint32_t reg_read(uint32_t off)
{
	uint32_t v = R(off);
	switch (off) {
	case IXGBE_EEC:
		return ard_done() ? v | IXGBE_EEC_ARD : v;
	case IXGBE_RDRXCTL:
		return dma_done() ? v | IXGBE_RDRXCTL_DMAIDONE : v;
	case IXGBE_LINKS:
		return m.cable && m.link_at && m.ticks >= m.link_at ? IXGBE_LINKS_UP | 3u << IXGBE_LINKS_SPEED_SHIFT : 0;
	case IXGBE_SECRXSTAT:
		return R(IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS ? IXGBE_SECRXSTAT_RDY : 0;
	case IXGBE_CRCERRS:
		R(off) = 0;             /* clear on read */
		return v;
	}
	if ((off >= IXGBE_MPC(0) && off <= IXGBE_MPC(7)) ||
	    (off >= IXGBE_QPRDC(0) && off <= IXGBE_QPRDC(15) && (off - IXGBE_QPRDC(0)) % 0x40 == 0))
		R(off) = 0;
	return v;
}

static void *dma(uint64_t pa, uint64_t len)
{
	if (pa == 0 || len > (1u << 20)) {
		m.dma_outside++;
		return NULL;
	}
	return (void *)(uintptr_t)pa;
}

static bool q_of(uint32_t off, uint32_t base, uint32_t reg, uint32_t *q)
{
	if (off < base || off >= base + 0x40 * NQ || (off - base) % 0x40 != reg)
		return false;
	*q = (off - base) / 0x40;
	return true;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}
static uint32_t csum_add(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* Transmit: every descriptor from TDH to TDT (7.2.3): contexts kept, data gathered until EOP,
 * the L4 checksum inserted on TXSM (the field holds the pseudo-header sum), DD written on RS. */
static void model_tx(uint32_t q)
{
	uint32_t base = IXGBE_TXQ(q), n = R(base + IADV_Q_LEN) / 16;
	union iadv_txd *ring = dma((uint64_t)R(base + IADV_Q_BAH) << 32 | R(base + IADV_Q_BAL), 16ull * n);
	static struct iadv_txctx ctx[NQ];
	static uint32_t first_olinfo[NQ];
	if (!ring || !(R(IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE) || !(R(base + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
		return;
	while (R(base + IADV_Q_H) != R(base + IADV_Q_T)) {
		uint32_t h = R(base + IADV_Q_H);
		union iadv_txd *d = &ring[h];
		uint32_t cmd = d->rd.cmd_type_len;
		if ((cmd & (0xfu << 20)) == IADV_TXD_DTYP_CTXT) {
			memcpy(&ctx[q], d, 16);
		} else {
			uint32_t len = cmd & 0xffff;
			if (len == 0)
				m.zero_len_desc++;
			if (m.txlen[q] == 0)
				first_olinfo[q] = d->rd.olinfo_status;
			uint8_t *src = dma(d->rd.addr, len);
			if (src && m.txlen[q] + len <= sizeof(m.txbuf[q])) {
				memcpy(m.txbuf[q] + m.txlen[q], src, len);
				m.txlen[q] += len;
			}
			if (cmd & IADV_TXD_EOP) {
				struct txframe *f = &m.out[m.nout++ % 256];
				f->len = m.txlen[q] < 60 && (R(IXGBE_HLREG0) & IXGBE_HLREG0_TXPADEN) ? 60 : m.txlen[q];
				memset(f->data, 0, sizeof(f->data));
				memcpy(f->data, m.txbuf[q], m.txlen[q]);
				f->queue = q;
				if (first_olinfo[q] & IADV_TXD_TXSM) {
					if (!(first_olinfo[q] & IADV_TXD_CC))
						m.ctx_without_cc++;
					uint32_t l3 = ctx[q].vlan_macip_lens >> IADV_CTX_MACLEN_SHIFT;
					uint32_t l4 = l3 + (ctx[q].vlan_macip_lens & 0x1ff);
					uint32_t off = l4 + (ctx[q].type_tucmd_mlhl & IADV_CTX_TUCMD_L4T_TCP ? 16 : 6);
					uint16_t c = (uint16_t)~csum_fold(csum_add(0, f->data + l4, m.txlen[q] - l4));
					f->data[off] = (uint8_t)(c >> 8), f->data[off + 1] = (uint8_t)c;
				}
				m.txlen[q] = 0;
				if (cmd & IADV_TXD_RS)
					d->wb.status |= IADV_TXD_STAT_DD;
			}
		}
		R(base + IADV_Q_H) = (h + 1) % n;
	}
}

static void reg_write(uint32_t off, uint32_t v)
{
	uint32_t q;
	if (resetting()) {
		m.write_in_reset++;     /* 4.6.3.2: no access until the reset is done */
		return;
	}
	/* 4.6.3: the EEPROM loads the MAC and link set-up, then the DMA initializes; settings written
	 * before are overwritten (the model counts it and drops them). */
	if (!ard_done() && (off == IXGBE_AUTOC || off == IXGBE_RAL0 || off == IXGBE_RAH0)) {
		m.before_init++;
		return;
	}
	if (!dma_done() && off >= IXGBE_RXQ(0) && off < IXGBE_RXQ(NQ)) {
		m.before_init++;
		return;
	}
	switch (off) {
	case IXGBE_CTRL:
		if (v & IXGBE_CTRL_RST) {
			model_reset_regs();
			R(IXGBE_CTRL) = v & (IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
			m.reset_done_at = m.stuck_reset ? UINT64_MAX : m.ticks + 50;
			return;
		}
		break;
	case IXGBE_EIMC:
		R(IXGBE_EIMS) &= ~v;
		return;
	case IXGBE_EIMS:
		if (v)
			m.irq_unmasked++;
		R(IXGBE_EIMS) |= v;
		return;
	case IXGBE_AUTOC:
		if (v & IXGBE_AUTOC_AN_RESTART)
			m.link_at = m.ticks + 40;
		v &= ~IXGBE_AUTOC_AN_RESTART;   /* self-clearing */
		break;
	case IXGBE_RXCTRL:
		if ((v & IXGBE_RXCTRL_RXEN) && !(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN)) {
			if (!(R(IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS))
				m.rxen_without_secrx_dis++;
			bool any = false;
			for (uint32_t i = 0; i < NQ; i++)
				any |= (R(IXGBE_RXQ(i) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE) != 0;
			if (!any)
				m.rxen_before_queues++;
			if (!(R(IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP) != !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_CRCSTRIP))
				m.crcstrip_mismatch++;
			if ((R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_RSCFRSTSIZE) || !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_RSCACKC) ||
			    !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_FCOE_WRFIX))
				m.rdrxctl_must_be++;
		}
		break;
	case IXGBE_RDRXCTL:
		v &= ~IXGBE_RDRXCTL_DMAIDONE;   /* read-only */
		break;
	}
	if (q_of(off, IXGBE_RXQ(0), IADV_Q_DCTL, &q)) {
		/* 4.6.7.1: the enable bit latches only once the ring is described. */
		uint32_t b = IXGBE_RXQ(q);
		uint32_t len = R(b + IADV_Q_LEN);
		if ((v & IADV_Q_DCTL_ENABLE) && (len == 0 || len % 128 || (R(b + IADV_Q_BAL) == 0 && R(b + IADV_Q_BAH) == 0) ||
						 !(reg_read(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE))) {
			m.rxq_enable_refused++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
		if ((R(IXGBE_SRRCTL(q)) & (7u << 25)) != IXGBE_SRRCTL_ADV_ONEBUF && (v & IADV_Q_DCTL_ENABLE))
			m.bad_desctype++;
	} else if (q_of(off, IXGBE_TXQ(0), IADV_Q_DCTL, &q)) {
		/* 4.6.8: TXDCTL.ENABLE after DMATXCTL.TE, and only with a ring. */
		uint32_t b = IXGBE_TXQ(q), len = R(b + IADV_Q_LEN);
		if ((v & IADV_Q_DCTL_ENABLE) && (!(R(IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE) || len == 0 || len % 128)) {
			m.txq_enable_refused++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
	} else if (q_of(off, IXGBE_RXQ(0), IADV_Q_T, &q)) {
		uint32_t b = IXGBE_RXQ(q);
		if (v >= R(b + IADV_Q_LEN) / 16) {
			m.tail_refused++;       /* beyond the ring: ignored */
			return;
		}
		if (v != 0 && !(R(b + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
			m.rdt_before_enable++;  /* 4.6.7.1: buffers are handed over after the enable */
	} else if (q_of(off, IXGBE_TXQ(0), IADV_Q_T, &q)) {
		if (v >= R(IXGBE_TXQ(q) + IADV_Q_LEN) / 16) {
			m.tail_refused++;
			return;
		}
		R(off) = v;
		model_tx(q);
		return;
	}
	R(off) = v;
}

static uint64_t mmio_read(void *ctx, uint64_t off, int size)
{
	(void)ctx;
	tick();
	assert(size == 4 && off % 4 == 0 && off < BAR_SIZE);
	return reg_read((uint32_t)off);
}

static void mmio_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	tick();
	assert(size == 4 && off % 4 == 0 && off < BAR_SIZE);
	reg_write((uint32_t)off, (uint32_t)v);
}

/* ---- RSS, as 7.1.2.8 defines it ---- */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, int n)
{
	uint32_t h = 0, win = (uint32_t)key[0] << 24 | key[1] << 16 | key[2] << 8 | key[3];
	for (int i = 0; i < n; i++)
		for (int b = 7; b >= 0; b--) {
			if (in[i] >> b & 1)
				h ^= win;
			win = win << 1 | (key[i + 4] >> b & 1);
		}
	return h;
}

/* Receive one frame from the wire (7.1): filter, RSS, then the ring at RDH, or a counted drop. */
static int model_rx(const uint8_t *f, uint32_t len, uint32_t *hash_out)
{
	if (!(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN)) {
		m.rx_dropped_disabled++;
		return -1;
	}
	bool bcast = !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6);
	uint8_t mac[6] = { (uint8_t)R(IXGBE_RAL0), (uint8_t)(R(IXGBE_RAL0) >> 8), (uint8_t)(R(IXGBE_RAL0) >> 16),
			   (uint8_t)(R(IXGBE_RAL0) >> 24), (uint8_t)R(IXGBE_RAH0), (uint8_t)(R(IXGBE_RAH0) >> 8) };
	if (!(bcast && (R(IXGBE_FCTRL) & IXGBE_FCTRL_BAM)) && !((R(IXGBE_RAH0) & IXGBE_RAH_AV) && !memcmp(f, mac, 6))) {
		m.rx_dropped_filter++;
		return -1;
	}
	uint32_t q = 0, hash = 0, type = 0, mrqc = R(IADV_MRQC);
	bool ip4 = f[12] == 0x08 && f[13] == 0x00, tcp = ip4 && f[23] == 6, udp = ip4 && f[23] == 17;
	if ((mrqc & 0xf) == IXGBE_MRQC_RSS && ip4) {
		uint8_t key[40], in[12];
		for (int i = 0; i < 40; i++)
			key[i] = (uint8_t)(R(IADV_RSSRK(i / 4)) >> (8 * (i % 4)));
		memcpy(in, f + 26, 8);
		int n = 8;
		if ((tcp && (mrqc & IADV_MRQC_IPV4_TCP)) || (udp && (mrqc & IADV_MRQC_IPV4_UDP))) {
			memcpy(in + 8, f + 34, 4);
			n = 12;
			type = tcp ? 1 : 7;
		} else if (mrqc & IADV_MRQC_IPV4) {
			type = 2;
		}
		if (type) {
			hash = toeplitz(key, in, n);
			q = (R(IADV_RETA((hash & 127) / 4)) >> (8 * (hash & 3))) & 0xf;
		}
	}
	if (hash_out)
		*hash_out = hash;
	uint32_t b = IXGBE_RXQ(q), n = R(b + IADV_Q_LEN) / 16;
	if (!(R(b + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE) || n == 0) {
		m.rx_dropped_disabled++;
		return -1;
	}
	if (R(b + IADV_Q_H) == R(b + IADV_Q_T)) {
		/* No descriptor: with DROP_EN the queue drops and counts (QPRDC); without it the
		 * packet buffer fills and MPC counts. */
		if (R(IXGBE_SRRCTL(q)) & IXGBE_SRRCTL_DROP_EN)
			R(IXGBE_QPRDC(q < 16 ? q : 0))++;
		else
			R(IXGBE_MPC(0))++;
		return -2;
	}
	union iadv_rxd *ring = dma((uint64_t)R(b + IADV_Q_BAH) << 32 | R(b + IADV_Q_BAL), 16ull * n);
	uint32_t bsize = (R(IXGBE_SRRCTL(q)) & 0x1f) * 1024, done = 0;
	bool strip = R(IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP;
	uint32_t total = len + (strip ? 0 : 4);
	uint32_t status = 0;
	if (tcp || udp) {
		uint32_t l4len = len - 34;
		uint32_t s = csum_add(0, f + 26, 8) + (uint32_t)f[23] + l4len;
		status = IADV_RXD_L4CS | (csum_fold(csum_add(s, f + 34, l4len)) == 0xffff ? 0 : IXGBE_RXD_ERR_L4E);
	}
	while (done < total) {
		uint32_t h = R(b + IADV_Q_H);
		if (h == R(b + IADV_Q_T))
			return -3;      /* ran out mid-frame: the rest is lost (frames here never do) */
		union iadv_rxd *d = &ring[h];
		uint32_t chunk = total - done < bsize ? total - done : bsize;
		uint8_t *buf = dma(d->rd.pkt_addr, chunk);
		if (buf)
			memcpy(buf, f + done, done + chunk <= len ? chunk : len > done ? len - done : 0);
		done += chunk;
		d->wb.pkt_info = (uint16_t)type;
		d->wb.hdr_info = 0;
		d->wb.rss = hash;
		d->wb.length = (uint16_t)chunk;
		d->wb.vlan = 0;
		__sync_synchronize();
		d->wb.status_error = IADV_RXD_DD | (done == total ? IADV_RXD_EOP | status : 0);
		R(b + IADV_Q_H) = (h + 1) % n;
	}
	return (int)q;
}

/* ---- frames ---- */
static uint32_t frame_tcp(uint8_t *f, const uint8_t *dst, uint32_t sip, uint32_t dip, uint16_t sp, uint16_t dp,
			  uint32_t paylen, bool good_csum)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14, *t = f + 34;
	uint32_t l4len = 20 + paylen;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[2] = (uint8_t)((20 + l4len) >> 8), ip[3] = (uint8_t)(20 + l4len), ip[8] = 64, ip[9] = 6;
	for (int i = 0; i < 4; i++)
		ip[12 + i] = (uint8_t)(sip >> (24 - 8 * i)), ip[16 + i] = (uint8_t)(dip >> (24 - 8 * i));
	uint16_t ic = (uint16_t)~csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(ic >> 8), ip[11] = (uint8_t)ic;
	memset(t, 0, 20);
	t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
	t[12] = 5 << 4, t[13] = 0x18;
	for (uint32_t i = 0; i < paylen; i++)
		t[20 + i] = (uint8_t)(i * 7 + sp);
	uint32_t s = csum_add(0, ip + 12, 8) + 6 + l4len;
	uint16_t c = (uint16_t)~csum_fold(csum_add(s, t, l4len));
	if (!good_csum)
		c ^= 0x1234;
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	return 34 + l4len;
}

static bool l4_csum_ok(const uint8_t *f, uint32_t len)
{
	uint32_t l4len = len - 34;
	uint32_t s = csum_add(0, f + 26, 8) + f[23] + l4len;
	return csum_fold(csum_add(s, f + 34, l4len)) == 0xffff;
}

static int tx_done_calls;
static void tx_done(void *ref) { (void)ref; tx_done_calls++; }

static const uint8_t ms_key[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
				    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
				    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa };

static void model_init(void)
{
	memset(&m, 0, sizeof(m));
	model_reset_regs();
	R(IXGBE_EIMS) = 0x7fffffff;     /* as firmware might leave it */
	m.reset_done_at = 1;            /* powered up long ago */
	m.ticks = 2;
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ BAR0, BAR_SIZE, mmio_read, mmio_write, NULL });
}

static int violations(void)
{
	return m.write_in_reset + m.irq_unmasked + m.rxq_enable_refused + m.txq_enable_refused + m.tail_refused +
	       m.rdt_before_enable + m.rxen_without_secrx_dis + m.rxen_before_queues + m.crcstrip_mismatch +
	       m.rdrxctl_must_be + m.zero_len_desc + m.ctx_without_cc + m.bad_desctype + m.dma_outside +
	       m.before_init;
}

static uint64_t counter(int q, const char *name)
{
	struct nic_counter c[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(q, c, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return UINT64_MAX;
}

/* The model itself: what the datasheet says the registers do, poked by hand. */
static void test_model_semantics(void)
{
	model_init();
	mmio_write32(BAR0 + IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK(mmio_read32(BAR0 + IXGBE_CTRL) & IXGBE_CTRL_RST);         /* still resetting */
	mmio_write32(BAR0 + IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	CHECK_EQ(m.write_in_reset, 1);                                  /* lost, and noticed */
	int spins = 0;
	while (mmio_read32(BAR0 + IXGBE_CTRL) & IXGBE_CTRL_RST)
		spins++;
	CHECK(spins > 10 && spins < 100);                               /* self-clearing */
	CHECK(!(mmio_read32(BAR0 + IXGBE_EEC) & IXGBE_EEC_ARD));        /* auto-read comes later */
	CHECK(!(mmio_read32(BAR0 + IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE));
	for (int i = 0; i < 300; i++)
		mmio_read32(BAR0 + IXGBE_STATUS);
	CHECK(mmio_read32(BAR0 + IXGBE_EEC) & IXGBE_EEC_ARD);
	CHECK(mmio_read32(BAR0 + IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE);
	/* A queue enable before its ring is described does not latch. */
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(!(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE));
	static union iadv_rxd ring[64] __attribute__((aligned(128)));
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_BAL, (uint32_t)(uintptr_t)ring);
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_BAH, (uint32_t)((uintptr_t)ring >> 32));
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_LEN, sizeof(ring));
	mmio_write32(BAR0 + IXGBE_SRRCTL(3), IXGBE_SRRCTL_ADV_ONEBUF | 2);
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE);
	/* A tail beyond the ring is refused. */
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_T, 64);
	CHECK_EQ(m.tail_refused, 1);
	CHECK_EQ(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_T), 0);
	/* TX enable before DMATXCTL.TE is refused (4.6.8). */
	mmio_write32(BAR0 + IXGBE_TXQ(0) + IADV_Q_LEN, 1024);
	mmio_write32(BAR0 + IXGBE_TXQ(0) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(!(mmio_read32(BAR0 + IXGBE_TXQ(0) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE));
	/* RSS: the Microsoft verification vector (IPv4/TCP 66.9.149.187:2794 -> 161.142.100.80:1766). */
	const uint8_t in[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 2794 >> 8, 2794 & 255, 1766 >> 8, 1766 & 255 };
	CHECK_EQ(toeplitz(ms_key, in, 12), 0x51ccc178);
	CHECK_EQ(toeplitz(ms_key, in, 8), 0x323e8fc2);
}

/* A reset that never completes: attach fails, says why, counts it, and leaves no queue. */
static void test_stuck_reset(void)
{
	model_init();
	m.stuck_reset = true;
	klen = 0;
	CHECK(nic_attach(4) < 0);
	CHECK(logged("ixgbe0: reset did not complete"));
	CHECK_EQ(counter(-1, "reset_stuck"), 1);
	CHECK(nic_dev() == NULL);
}

static uint8_t reta[NIC_RETA_LEN];

/* A TCP frame to us whose flow RSS sends to queue want (the key and RETA the test gave). */
static uint32_t frame_on(uint8_t *f, uint32_t want, uint32_t paylen)
{
	for (uint16_t sp = 1024;; sp++) {
		uint8_t in[12] = { 198, 18, 0, 1, 198, 18, 0, 50, (uint8_t)(sp >> 8), (uint8_t)sp, 0, 80 };
		if (reta[toeplitz(ms_key, in, 12) & 127] == want)
			return frame_tcp(f, MAC, 0xc6120001, 0xc6120032, sp, 80, paylen, true);
	}
}

static void test_driver(void)
{
	model_init();
	m.cable = true;
	klen = 0;
	int np = nic_attach(4);
	CHECK_EQ(np, 4);
	CHECK(logged("ixgbe0: 00:1b:21:aa:bb:cc, link up 10 Gb/s, 4 queue pairs of 64"));
	CHECK_EQ(R(IXGBE_AUTOC) & IXGBE_AUTOC_LMS_MASK, IXGBE_AUTOC_LMS_10G_SFI);     /* SFP+: serial */
	CHECK_EQ(R(IXGBE_EIMS), 0);                    /* masked at reset, kept masked */
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)((i * 5 + 1) % 4);
	CHECK_EQ(nic_start(ms_key, reta), 0);
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done);
	CHECK_EQ(violations(), 0);
	CHECK(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN);
	CHECK(R(IXGBE_FCTRL) & IXGBE_FCTRL_BAM);
	CHECK(R(IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP);
	for (uint32_t q = 0; q < 4; q++) {
		CHECK(R(IXGBE_SRRCTL(q)) & IXGBE_SRRCTL_DROP_EN);
		CHECK_EQ(R(IXGBE_RXQ(q) + IADV_Q_T), POLLUX_RX_RING_SIZE - 1);        /* every buffer posted */
	}
	CHECK_EQ(R(IXGBE_RXQ(4) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE, 0);

	/* RX: 400 TCP flows, each lands on the queue RETA names for its hash; descriptor fields
	 * reach the network layer (length, hash, checksum verdict). */
	uint8_t f[2048];
	int placed = 0, hashed = 0, csum_ok = 0, seen[4] = { 0 };
	for (uint32_t i = 0; i < 400; i++) {
		uint32_t len = frame_tcp(f, MAC, 0xc6120001 + (i % 7), 0xc6120032, (uint16_t)(10000 + i * 13), 80,
					 i % 97, true), hash = 0;
		int q = model_rx(f, len, &hash);
		CHECK(q >= 0);
		if (q < 0)
			continue;
		placed += (uint32_t)q == reta[hash & 127];
		seen[q]++;
		struct nic_rxf r[4];
		int got = nic_rx_burst((uint32_t)q, r, 4);
		CHECK_EQ(got, 1);
		if (got != 1)
			continue;
		hashed += (r[0].flags & NIC_RX_HASH) && r[0].hash == hash;
		csum_ok += (r[0].flags & NIC_RX_CSUM_OK) != 0;
		CHECK_EQ(r[0].len, len);
		CHECK(!memcmp(r[0].frame, f, len));
		nic_rx_return((uint32_t)q, r[0].buf);
		nic_flush((uint32_t)q);
	}
	CHECK_EQ(placed, 400);
	CHECK_EQ(hashed, 400);
	CHECK_EQ(csum_ok, 400);
	CHECK(seen[0] > 50 && seen[1] > 50 && seen[2] > 50 && seen[3] > 50);
	printf("  rx: 400 flows over queues %d/%d/%d/%d, each on reta[hash & 127]\n", seen[0], seen[1], seen[2], seen[3]);

	/* A wrong checksum: no CSUM_OK, counted. */
	uint32_t len = frame_tcp(f, MAC, 0xc6120009, 0xc6120032, 4242, 80, 10, false), hash;
	int q = model_rx(f, len, &hash);
	struct nic_rxf r[8];
	CHECK_EQ(nic_rx_burst((uint32_t)q, r, 8), 1);
	CHECK(!(r[0].flags & NIC_RX_CSUM_OK));
	CHECK_EQ(counter(q, "csum_err"), 1);
	nic_rx_return((uint32_t)q, r[0].buf);
	/* Not for us: filtered by the device. Broadcast: accepted (FCTRL.BAM). */
	f[0] ^= 1;
	CHECK_EQ(model_rx(f, len, NULL), -1);
	memset(f, 0xff, 6);
	CHECK(model_rx(f, len, NULL) >= 0);

	/* Bad values from the device. A length beyond the buffer: dropped, counted, buffer back. */
	uint32_t b = IXGBE_RXQ(0);
	len = frame_on(f, 0, 0);
	CHECK_EQ(model_rx(f, len, NULL), 0);
	union iadv_rxd *ring = (void *)(uintptr_t)((uint64_t)R(b + IADV_Q_BAH) << 32 | R(b + IADV_Q_BAL));
	uint32_t last = (R(b + IADV_Q_H) + POLLUX_RX_RING_SIZE - 1) % POLLUX_RX_RING_SIZE;
	ring[last].wb.length = 4000;
	struct nic_qstats qs0, qs1;
	nic_qstats(0, &qs0);
	int got = nic_rx_burst(0, r, 8);
	nic_qstats(0, &qs1);
	CHECK_EQ(got, 0);
	CHECK_EQ(qs1.rx_drop_bad, qs0.rx_drop_bad + 1);
	CHECK_EQ(counter(0, "bad_len"), 1);
	/* A write-back on a descriptor never posted (beyond the tail): counted, not delivered. */
	nic_flush(0);
	uint32_t tail = R(b + IADV_Q_T);
	ring[tail].wb.status_error = IADV_RXD_DD | IADV_RXD_EOP;
	ring[tail].wb.length = 60;
	int fed = 0;
	for (int i = 0; i < POLLUX_RX_RING_SIZE - 1; i++)       /* use every posted buffer */
		fed += model_rx(f, len, NULL) == 0;
	CHECK_EQ(fed, POLLUX_RX_RING_SIZE - 1);
	int total = 0;
	while ((got = nic_rx_burst(0, r, 8)) > 0) {
		total += got;
		for (int i = 0; i < got; i++)
			nic_rx_return(0, r[i].buf);
	}
	CHECK_EQ(total, POLLUX_RX_RING_SIZE - 1);
	CHECK_EQ(counter(0, "stray_wb"), 1);
	/* The ring empty: the device drops and counts; the slow path reads it into no_buf. */
	CHECK_EQ(model_rx(f, len, NULL), -2);
	CHECK_EQ(model_rx(f, len, NULL), -2);
	nic_slow_poll();
	CHECK_EQ(counter(-1, "no_buf"), 2);
	nic_flush(0);                   /* buffers back: frames flow again */
	CHECK_EQ(model_rx(f, len, NULL), 0);
	CHECK_EQ(nic_rx_burst(0, r, 8), 1);
	nic_rx_return(0, r[0].buf);
	/* A frame spread over two descriptors (a device ignoring SRRCTL): dropped whole, counted. */
	uint8_t big[2100];
	memcpy(big, f, len);
	memset(big + len, 0x5a, sizeof(big) - len);
	nic_flush(0);
	R(IXGBE_SRRCTL(0)) = (R(IXGBE_SRRCTL(0)) & ~0x1fu) | 1;         /* the model now fills 1 KiB */
	CHECK_EQ(model_rx(big, 1500, NULL), 0);
	R(IXGBE_SRRCTL(0)) = (R(IXGBE_SRRCTL(0)) & ~0x1fu) | 2;
	got = nic_rx_burst(0, r, 8);
	CHECK_EQ(got, 0);
	CHECK_EQ(counter(0, "not_eop"), 1);
	nic_flush(0);
	CHECK_EQ(model_rx(f, len, NULL), 0);
	CHECK_EQ(nic_rx_burst(0, r, 8), 1);                             /* and the next one is fine */
	nic_rx_return(0, r[0].buf);

	/* TX: a copied frame with TCP checksum offload, and one with a piece sent in place. */
	m.nout = 0;
	static uint8_t payload[1200];
	len = frame_tcp(f, (const uint8_t *)"\x02\x00\x00\x00\x00\x01", 0xc6120032, 0xc6120001, 80, 40000, 0, true);
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 3);
	f[16] = (uint8_t)((40 + sizeof(payload)) >> 8), f[17] = (uint8_t)(40 + sizeof(payload));
	uint32_t ps = csum_add(0, f + 26, 8) + 6 + 20 + sizeof(payload);
	uint16_t pseudo = csum_fold(ps);
	f[50] = (uint8_t)(pseudo >> 8), f[51] = (uint8_t)pseudo;
	struct nic_frag fr[2] = { { f, len }, { payload, sizeof(payload) } };
	struct nic_txo o = { 34, 16 };
	CHECK_EQ(nic_tx(2, fr, 2, &o, payload), NIC_TX_INPLACE);
	CHECK_EQ(nic_tx(2, fr, 1, NULL, NULL), NIC_TX_COPIED);
	CHECK_EQ(m.nout, 0);                    /* nothing before the doorbell */
	nic_flush(2);
	CHECK_EQ(m.nout, 2);
	CHECK_EQ(m.out[0].len, len + sizeof(payload));
	CHECK(!memcmp(m.out[0].data + len, payload, sizeof(payload)));
	CHECK(l4_csum_ok(m.out[0].data, m.out[0].len));
	CHECK_EQ(m.out[1].len, 60);             /* padded by the device */
	CHECK_EQ(m.out[0].queue, 2);
	nic_flush(2);                           /* completions reaped by DD */
	CHECK_EQ(tx_done_calls, 1);
	CHECK_EQ(violations(), 0);

	/* Link: cable out, cable in, seen by the slow path. */
	m.cable = false;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_DOWN);
	CHECK(!nic_dev()->link);
	m.cable = true;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_UP);
	CHECK(nic_dev()->link);

	/* A device reset while running: every queue pauses, the driver brings the chip up again in
	 * the same order (the model still finds no fault), frames flow again. */
	nic_request_reset();
	nic_slow_poll();
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);
	nic_slow_poll();                        /* reset, rings set up again */
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);                   /* buffers posted again */
	nic_slow_poll();                        /* started */
	CHECK(logged("ixgbe0: reset done, 4 queue pairs back"));
	CHECK_EQ(violations(), 0);
	CHECK_EQ(R(IXGBE_EIMS), 0);
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);
	len = frame_tcp(f, MAC, 0xc6120001, 0xc6120032, 5555, 80, 100, true);
	q = model_rx(f, len, &hash);
	CHECK((uint32_t)q == reta[hash & 127]);
	CHECK_EQ(nic_rx_burst((uint32_t)q, r, 8), 1);
	CHECK_EQ(r[0].len, len);
	nic_rx_return((uint32_t)q, r[0].buf);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.resets, 1);
	CHECK_EQ(ds.link_down, 1);
	CHECK_EQ(ds.link_up, 1);
}

TEST_MAIN("ixgbe: the 82599 driver through nic.c against a datasheet model: reset, auto-read and DMA-init "
	  "waits, queue enables that latch only on a described ring, refused tails, bring-up order, RX/TX "
	  "descriptors, RSS per key and RETA, drop counters, link, bad device values, reset",
	  test_model_semantics(); test_stuck_reset(); test_driver())
