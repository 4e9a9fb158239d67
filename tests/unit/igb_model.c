/* The 82576 device model (tests/unit/igb_model.h): what the registers the driver touches do, and
 * the bring-up order and times the references give, counting every departure from them. */
#include <string.h>

#include "kernel.h"
#include "drivers/intel_adv.h"
#include "drivers/igb_reg.h"
#include "iadv_model.h"
#include "igb_model.h"

#define R(off) GM_R(off)
#define MS 1000000ull                   /* host_clock ticks (ns) in a millisecond */

/* Times after CTRL.RST. The reset itself: 1 ms in which the device answers nothing (the driver's
 * own 1 ms, as for the 82599, datasheet 331520 4.6.3.2); the EEPROM auto-read (EECD.AUTO_RD) at
 * 2 ms; the management configuration cycle (EEMNGCTL.CFG_DONE of the port, which Linux's
 * igb_get_cfg_done_82575 polls up to 100 ms) at 5 ms; the firmware keeps the PHY's SW/FW
 * semaphore until 8 ms, configuring the PHY. Auto-negotiation takes 2 ms (seconds on copper:
 * shortened so the test runs quickly; the driver does not depend on it). */
#define RESET_NS (1 * MS)
#define AUTO_RD_NS (2 * MS)
#define CFG_DONE_NS (5 * MS)
#define FW_PHY_NS (8 * MS)
#define AN_NS (2 * MS)
/* Linux's igb_reset_hw_82575 stops receive and transmit and sleeps 10 ms before CTRL.RST, so
 * that DMA in flight completes: the model refuses a reset sooner after RCTL.EN or TCTL.EN. */
#define QUIET_NS (10 * MS)

struct gm_state gm;
const uint8_t gm_mac[6] = { 0x00, 0x1b, 0x21, 0x12, 0x34, 0x56 };

static uint64_t now(void) { return host_clock; }
static bool resetting(void) { return gm.reset_at && now() < gm.reset_at + RESET_NS; }
static bool after(uint64_t ns) { return !gm.reset_at || now() >= gm.reset_at + ns; }
static bool cfg_done(void) { return after(gm.cfg_done_ns); }
static uint32_t phy_sm(void) { return gm.func ? IGB_SWFW_PHY1_SM : IGB_SWFW_PHY0_SM; }
static uint32_t cfg_done_bit(void) { return gm.func ? IGB_EEMNGCTL_CFG_DONE1 : IGB_EEMNGCTL_CFG_DONE0; }
static bool fw_holds_phy(void) { return now() < gm.fw_phy_until; }

/* MAC registers at their reset values; the PHY is not reset by CTRL.RST and keeps its state. */
static void reset_regs(void)
{
	memset(gm.reg, 0, sizeof(gm.reg));
	iadv_mtx_reset(gm.txq, GM_NQ);  /* the contexts and any frame half gathered go with the rings */
	R(IGB_RAL0) = gm_mac[0] | gm_mac[1] << 8 | gm_mac[2] << 16 | (uint32_t)gm_mac[3] << 24;
	R(IGB_RAH0) = gm_mac[4] | gm_mac[5] << 8 | IADV_RAH_AV;
	R(IGB_EECD) = IGB_EECD_PRES;
	for (uint32_t i = 0; i < IADV_MTA_LEN; i++)
		R(IADV_MTA(i)) = IADV_MODEL_MTA_JUNK;
	for (uint32_t q = 0; q < GM_NQ; q++)
		R(IGB_SRRCTL(q)) = 2;   /* 2 KiB buffers, legacy descriptors */
}

bool gm_rx_accepts(const uint8_t dst[6])
{
	uint32_t rctl = R(IGB_RCTL);
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6))
		return rctl & IGB_RCTL_BAM;
	if (dst[0] & 1)
		return (rctl & IGB_RCTL_MPE) || iadv_model_mta_hit(&R(IADV_MTA(0)), rctl >> 12, dst);
	uint8_t mac[6] = { (uint8_t)R(IGB_RAL0), (uint8_t)(R(IGB_RAL0) >> 8), (uint8_t)(R(IGB_RAL0) >> 16),
			   (uint8_t)(R(IGB_RAL0) >> 24), (uint8_t)R(IGB_RAH0), (uint8_t)(R(IGB_RAH0) >> 8) };
	return (rctl & GM_RCTL_UPE) || ((R(IGB_RAH0) & IADV_RAH_AV) && !memcmp(dst, mac, 6));
}

bool gm_link(void)
{
	return gm.cable && gm.link_at && now() >= gm.link_at && !(gm.phy[IGB_PHY_BMCR] & IGB_BMCR_PDOWN) &&
	       (R(IGB_CTRL) & IGB_CTRL_SLU);
}

static uint32_t reg_read(uint32_t off)
{
	uint32_t v = R(off);
	switch (off) {
	case IGB_CTRL:
		return resetting() ? v | IGB_CTRL_RST : v & ~IGB_CTRL_RST;
	case IGB_STATUS:
		v = (gm_link() ? IGB_STATUS_LU | 2u << IGB_STATUS_SPEED_SHIFT : 0) | (uint32_t)gm.func << IGB_STATUS_FUNC_SHIFT;
		return R(IGB_CTRL) & IGB_CTRL_GIO_MASTER_DISABLE ? v : v | IGB_STATUS_GIO_MASTER_ENABLE;
	case IGB_EECD:
		return after(AUTO_RD_NS) ? v | IGB_EECD_AUTO_RD : v;
	case IGB_EEMNGCTL:
		return cfg_done() ? v | cfg_done_bit() : v;
	case IGB_SWSM:
		R(off) |= IGB_SWSM_SMBI;        /* reading takes the software semaphore, if it was free */
		return v;
	case IGB_SW_FW_SYNC:
		return fw_holds_phy() ? v | phy_sm() << 16 : v;
	case IGB_CRCERRS:
	case IGB_MPC:
	case IGB_RNBC:
		R(off) = 0;                     /* clear on read */
		return v;
	}
	return v;
}

/* One MDIC command (82576 8.2.4): refused (MDIC.E) before the configuration cycle is done or
 * without the PHY's SW/FW semaphore, as e1000_82575.c never does it. */
static void mdic(uint32_t v)
{
	uint32_t reg = v >> IGB_MDIC_REG_SHIFT & 0x1f, addr = v >> IGB_MDIC_PHY_SHIFT & 0x1f;
	if (!cfg_done()) {
		gm.mdic_before_cfg_done++;
		R(IGB_MDIC) = v | IGB_MDIC_READY | IGB_MDIC_ERROR;
		return;
	}
	if (gm.sem_required && (!(R(IGB_SW_FW_SYNC) & phy_sm()) || fw_holds_phy())) {
		gm.mdic_without_sem++;
		R(IGB_MDIC) = v | IGB_MDIC_READY | IGB_MDIC_ERROR;
		return;
	}
	if (addr != IGB_PHY_ADDR) {
		R(IGB_MDIC) = v | IGB_MDIC_READY | IGB_MDIC_ERROR;
		return;
	}
	gm.mdic_ops++;
	if ((v & (3u << 26)) == IGB_MDIC_OP_READ) {
		R(IGB_MDIC) = (v & ~0xffffu) | gm.phy[reg] | IGB_MDIC_READY;
		return;
	}
	uint16_t d = (uint16_t)v;
	if (reg == IGB_PHY_BMCR) {
		if (d & IGB_BMCR_PDOWN)
			gm.link_at = 0;
		if (d & IGB_BMCR_ANRESTART) {
			if (d & IGB_BMCR_PDOWN)
				gm.an_while_powered_down++;
			else
				gm.link_at = now() + AN_NS;
		}
		d &= (uint16_t)~IGB_BMCR_ANRESTART;   /* self-clearing */
	}
	gm.phy[reg] = d;
	R(IGB_MDIC) = v | IGB_MDIC_READY;
}

static bool q_of(uint32_t off, uint32_t base, uint32_t reg, uint32_t *q)
{
	if (off < base || off >= base + 0x40 * GM_NQ || (off - base) % 0x40 != reg)
		return false;
	*q = (off - base) / 0x40;
	return true;
}

static void tx_out(const uint8_t *data, uint32_t len, uint32_t q)
{
	struct gm_txframe *f = &gm.out[gm.nout++ % 256];
	f->len = len < 60 && (R(IGB_TCTL) & IGB_TCTL_PSP) ? 60 : len;
	memset(f->data, 0, sizeof(f->data));
	memcpy(f->data, data, len < sizeof(f->data) ? len : sizeof(f->data));
	f->queue = q;
}

/* Transmit (7.2): every descriptor from TDH to TDT of an enabled queue with TCTL.EN, through the
 * engine the 82599's model shares (contexts, gathering, checksums, segmentation), DD on RS. The
 * 82576 has no CC bit and no bound of its own on the data descriptors of one frame. */
static void model_tx(uint32_t q)
{
	uint32_t base = IGB_TXQ(q), n = R(base + IADV_Q_LEN) / 16;
	uint64_t pa = (uint64_t)R(base + IADV_Q_BAH) << 32 | R(base + IADV_Q_BAL);
	if (!pa || !n || !(R(IGB_TCTL) & IGB_TCTL_EN) || !(R(base + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
		return;
	union iadv_txd *ring = (void *)(uintptr_t)pa;
	while (R(base + IADV_Q_H) != R(base + IADV_Q_T)) {
		uint32_t h = R(base + IADV_Q_H);
		union iadv_txd *d = &ring[h];
		uint32_t cmd = d->rd.cmd_type_len;
		const uint8_t *src = NULL;
		if ((cmd & (0xfu << 20)) != IADV_TXD_DTYP_CTXT && !(src = (const void *)(uintptr_t)d->rd.addr))
			gm.dma_outside++;
		if (iadv_mtx_desc(&gm.tx, &gm.txq[q], q, d, src) && (cmd & IADV_TXD_RS))
			d->wb.status |= IADV_TXD_STAT_DD;
		R(base + IADV_Q_H) = (h + 1) % n;
	}
}

static void reg_write(uint32_t off, uint32_t v)
{
	uint32_t q;
	switch (off) {
	case IGB_CTRL:
		if (v & IGB_CTRL_RST) {
			if (now() - gm.quiet_since < QUIET_NS)
				gm.reset_not_quiet++;
			reset_regs();
			gm.reset_at = now();
			gm.fw_phy_until = now() + gm.fw_phy_ns;
			gm.quiet_since = 0;
			return;
		}
		break;
	case IGB_RCTL:
	case IGB_TCTL: {
		uint32_t other = off == IGB_RCTL ? R(IGB_TCTL) : R(IGB_RCTL);
		bool was = (R(off) & IGB_RCTL_EN) || (other & IGB_RCTL_EN);  /* EN is bit 1 in both */
		R(off) = v;
		if (was && !(v & IGB_RCTL_EN) && !(other & IGB_RCTL_EN))
			gm.quiet_since = now();
		return;
	}
	case IGB_MDIC:
		mdic(v);
		return;
	case IGB_SWSM:
		/* SWESMBI latches only while the firmware does not hold it (it never does here). */
		R(off) = v & (IGB_SWSM_SMBI | IGB_SWSM_SWESMBI);
		return;
	case IGB_SW_FW_SYNC:
		if (!(R(IGB_SWSM) & IGB_SWSM_SWESMBI)) {
			gm.swfw_without_swsm++;
			return;
		}
		if ((v & phy_sm()) && fw_holds_phy()) {
			gm.swfw_took_fw++;
			return;
		}
		R(off) = v & 0xffff;
		return;
	case IGB_IMS:
	case IGB_EIMS:
		if (v)
			gm.irq_unmasked++;
		return;
	case IGB_IMC:
	case IGB_EIMC:
		return;
	}
	if (off >= IADV_RETA(0) && off < IADV_RETA(32))
		for (int i = 0; i < 4; i++)
			if ((v >> (8 * i) & 0xff) >= IGB_RSS_QUEUES)
				gm.reta_beyond_rss++;
	if (q_of(off, IGB_RXQ(0), IADV_Q_DCTL, &q) || q_of(off, IGB_TXQ(0), IADV_Q_DCTL, &q)) {
		uint32_t base = off - IADV_Q_DCTL;
		if ((v & IADV_Q_DCTL_ENABLE) && (!R(base + IADV_Q_LEN) || !R(base + IADV_Q_BAL))) {
			gm.q_enable_refused++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
	}
	if (q_of(off, IGB_RXQ(0), IADV_Q_T, &q) || q_of(off, IGB_TXQ(0), IADV_Q_T, &q)) {
		uint32_t base = off - IADV_Q_T;
		if (v >= R(base + IADV_Q_LEN) / 16 && v) {
			gm.tail_refused++;
			return;
		}
	}
	R(off) = v;
	if (q_of(off, IGB_TXQ(0), IADV_Q_T, &q))
		model_tx(q);
}

static uint64_t mmio_read(void *ctx, uint64_t off, int size)
{
	(void)ctx, (void)size;
	host_clock += GM_ACCESS_NS;
	if (resetting()) {
		gm.access_in_reset++;
		return 0xffffffff;              /* no completion: what a read of a resetting device gives */
	}
	return reg_read((uint32_t)off);
}

static void mmio_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx, (void)size;
	host_clock += GM_ACCESS_NS;
	if (resetting()) {
		gm.access_in_reset++;
		return;
	}
	reg_write((uint32_t)off, (uint32_t)v);
}

void gm_init(uint64_t bar0, uint8_t func)
{
	memset(&gm, 0, sizeof(gm));
	gm.tx = (struct iadv_mtx){ .out = tx_out };
	gm.func = func;
	gm.cfg_done_ns = CFG_DONE_NS;
	gm.fw_phy_ns = FW_PHY_NS;
	gm.sem_required = true;
	host_clock += 1000 * MS;                /* powered up long ago, idle since */
	reset_regs();
	gm.phy[IGB_PHY_BMCR] = IGB_BMCR_AUTOEN | IGB_BMCR_PDOWN | 0x0140;      /* 1000 Mb/s full duplex */
	gm.phy[1] = 0x7949;                     /* BMSR */
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ bar0, GM_BAR_SIZE, mmio_read, mmio_write, NULL });
}

int gm_violations(void)
{
	return gm.access_in_reset + gm.reset_not_quiet + gm.mdic_before_cfg_done + gm.mdic_without_sem +
	       gm.swfw_without_swsm + gm.swfw_took_fw + gm.an_while_powered_down + gm.irq_unmasked +
	       gm.q_enable_refused + gm.tail_refused + gm.reta_beyond_rss + gm.tx.zero_len + gm.tx.tso_refused + gm.tx.ip_type_bad +
	       gm.dma_outside;
}

/* ---- RSS (7.1.1.7): which queue a received frame goes to, from MRQC, RSSRK and RETA ---- */
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

int gm_rss_queue(const uint8_t *f, uint32_t len, uint32_t *hash_out)
{
	uint32_t mrqc = R(IADV_MRQC);
	if ((mrqc & 7) != IGB_MRQC_RSS)
		return -1;
	uint8_t key[40], in[36];
	for (int i = 0; i < 40; i++)
		key[i] = (uint8_t)(R(IADV_RSSRK(i / 4)) >> (8 * (i % 4)));
	int n = 0;
	if (len >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
		/* IPv4: TcpIPv4 or UdpIPv4 on the 4-tuple of a whole datagram, else IPv4 on the
		 * addresses, each only when enabled */
		uint32_t ihl = (f[14] & 0xfu) * 4;
		bool frag = (f[20] & 0x3f) || f[21], ports = !frag && len >= 14 + ihl + 4;
		memcpy(in, f + 26, 8);
		if (ports && ((f[23] == 6 && (mrqc & IADV_MRQC_IPV4_TCP)) || (f[23] == 17 && (mrqc & IADV_MRQC_IPV4_UDP)))) {
			memcpy(in + 8, f + 14 + ihl, 4);
			n = 12;
		} else if (mrqc & IADV_MRQC_IPV4) {
			n = 8;
		}
	} else if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6) {
		/* IPv6: TcpIPv6 (or TcpIPv6Ex) or UdpIPv6 on the 36-byte tuple of a TCP or UDP header right after the
		 * IPv6 header, else IPv6 on the addresses (fragments, ICMPv6; what the silicon does with
		 * extension headers without the Ex fields is not modelled: the addresses), each only
		 * when enabled */
		memcpy(in, f + 22, 32);
		if (len >= 58 && ((f[20] == 6 && (mrqc & (IADV_MRQC_IPV6_TCP | IGB_MRQC_IPV6_TCP_EX))) ||
				  (f[20] == 17 && (mrqc & IADV_MRQC_IPV6_UDP)))) {
			memcpy(in + 32, f + 54, 4);
			n = 36;
		} else if (mrqc & IADV_MRQC_IPV6) {
			n = 32;
		}
	}
	if (!n)
		return -1;
	uint32_t h = toeplitz(key, in, n);
	if (hash_out)
		*hash_out = h;
	return (int)((R(IADV_RETA((h & 127) / 4)) >> (8 * (h & 3))) & 7);
}
