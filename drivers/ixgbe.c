/* Intel 82599 (ixgbe): reset, link and enable of the chip in the datasheet's order; the rings are the
 * shared advanced-descriptor engine's (drivers/intel_adv.c). Polled, one queue pair per core,
 * interrupts masked at reset and never unmasked. Datasheet: 331520, section 4.6 (initialization). */
#include "kernel.h"
#include "intel_adv.h"
#include "ixgbe_reg.h"
#include "nic.h"
#include "pci.h"

#define IXGBE_LINK_WAIT_MS 1000

static uint32_t ixgbe_rxq(uint32_t q) { return IXGBE_RXQ(q); }
static uint32_t ixgbe_txq(uint32_t q) { return IXGBE_TXQ(q); }
static uint32_t ixgbe_srrctl(uint32_t q) { return IXGBE_SRRCTL(q); }

static const struct iadv_chip ixgbe_chip = {
	.rxq = ixgbe_rxq,
	.txq = ixgbe_txq,
	.srrctl = ixgbe_srrctl,
	.srrctl_val = IXGBE_SRRCTL_BSIZEPKT_2K | IXGBE_SRRCTL_ADV_ONEBUF | IXGBE_SRRCTL_DROP_EN,
	.rx_l4_err = IXGBE_RXD_ERR_L4E,
	.rx_ip_err = IXGBE_RXD_ERR_IPE,
	.tx_olinfo = IADV_TXD_CC,
	.reta_mask = 0xf,
};

static struct {
	struct iadv a;
	bool sfp;                       /* SFP+ port: 10 GbE serial link mode */
	uint64_t crc_err, missed, no_buf;       /* clear-on-read counters, summed on the slow path */
	uint64_t reset_stuck, link_timeouts, gone;
} ix;

static uint32_t rd(uint32_t off) { return iadv_rd(&ix.a, off); }
static void wr(uint32_t off, uint32_t v) { iadv_wr(&ix.a, off, v); }
static void set_bits(uint32_t off, uint32_t b) { wr(off, rd(off) | b); }
static void clear_bits(uint32_t off, uint32_t b) { wr(off, rd(off) & ~b); }

/*
 * 4.6.3.2 Global reset and general configuration: mask every interrupt (EIMC), quiesce bus
 * mastering, CTRL.RST | LNK_RST, wait for it to clear and then 10 ms, mask again (the mask is
 * not reset-proof across every reset source), wait for the EEPROM auto-read (EEC.ARD) and the
 * DMA initialization (RDRXCTL.DMAIDONE). Any of these stuck: the device cannot be trusted.
 */
static int ixgbe_chip_reset(void)
{
	wr(IXGBE_EIMC, IXGBE_EIMC_ALL);
	set_bits(IXGBE_CTRL, IXGBE_CTRL_GIO_MASTER_DISABLE);
	iadv_wait(&ix.a, IXGBE_STATUS, IXGBE_STATUS_GIO_MASTER_ENABLE, 0, 10);     /* best effort */
	set_bits(IXGBE_CTRL, IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
	iadv_delay_us(1000);
	const char *why = NULL;
	if (!iadv_wait(&ix.a, IXGBE_CTRL, IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST, 0, 100))
		why = "reset did not complete";
	iadv_delay_us(10000);
	wr(IXGBE_EIMC, IXGBE_EIMC_ALL);
	if (!why && !iadv_wait(&ix.a, IXGBE_EEC, IXGBE_EEC_ARD, IXGBE_EEC_ARD, 100))
		why = "EEPROM auto-read not done";
	if (!why && !iadv_wait(&ix.a, IXGBE_RDRXCTL, IXGBE_RDRXCTL_DMAIDONE, IXGBE_RDRXCTL_DMAIDONE, 100))
		why = "DMA initialization not done";
	if (why) {
		ix.reset_stuck++;
		kprintf("ixgbe0: %s\n", why);
		return -3;
	}
	return 0;
}

/* 4.6.4 Link set-up: SFP+ ports in 10 GbE serial mode (others keep what the EEPROM loaded),
 * restart auto-negotiation; LINKS is polled for up to wait_ms (at attach, so the first report is
 * right; not after a reset, where core 0 must not stall), and the slow path follows the link. */
static void ixgbe_link_setup(uint32_t wait_ms)
{
	uint32_t autoc = rd(IXGBE_AUTOC);
	if (ix.sfp)
		autoc = (autoc & ~(IXGBE_AUTOC_LMS_MASK | IXGBE_AUTOC_10G_PMA_MASK)) | IXGBE_AUTOC_LMS_10G_SFI;
	wr(IXGBE_AUTOC, autoc | IXGBE_AUTOC_AN_RESTART);
	if (wait_ms && !iadv_wait(&ix.a, IXGBE_LINKS, IXGBE_LINKS_UP, IXGBE_LINKS_UP, wait_ms))
		ix.link_timeouts++;
}

/*
 * What does not change until the next reset, then the rings programmed but not enabled:
 * 4.6.7 receive (RXEN off while setting up; CRC stripped in both HLREG0 and RDRXCTL, as the
 * datasheet requires them to agree; RDRXCTL's must-be values; broadcast accepted) and 4.6.8
 * transmit (CRC and padding added; MTQC changed only with the arbiter off).
 */
static int ixgbe_setup(uint32_t n)
{
	clear_bits(IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	set_bits(IXGBE_HLREG0, IXGBE_HLREG0_RXCRCSTRP | IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_TXPADEN);
	wr(IXGBE_RDRXCTL, (rd(IXGBE_RDRXCTL) & ~IXGBE_RDRXCTL_RSCFRSTSIZE) | IXGBE_RDRXCTL_CRCSTRIP |
				  IXGBE_RDRXCTL_RSCACKC | IXGBE_RDRXCTL_FCOE_WRFIX);
	set_bits(IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	set_bits(IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_NS_DIS);
	set_bits(IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);
	wr(IXGBE_MTQC, IXGBE_MTQC_64Q);
	clear_bits(IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);
	if (iadv_rings_init(&ix.a, n, POLLUX_RX_RING_SIZE, POLLUX_TX_RING_SIZE)) {
		kprintf("ixgbe0: no memory for the rings\n");
		return -4;
	}
	for (uint32_t q = 0; q < n; q++) {
		iadv_rx_program(&ix.a, q);
		iadv_tx_program(&ix.a, q);
	}
	return 0;
}

static bool is_sfp(uint16_t dev)
{
	return dev == 0x10fb || dev == 0x1529 || dev == 0x154d || dev == 0x1557 || dev == 0x154a || dev == 0x1558;
}

static int ixgbe_attach(struct nic *n, struct pci_dev *d, uint32_t want)
{
	ix.a.chip = &ixgbe_chip;
	ix.a.bar = pci_bar_addr(d, 0);
	if (!ix.a.bar || pci_bar_size(d, 0) < 0x20000) {
		kprintf("ixgbe0: BAR 0 missing or too small\n");
		return -2;
	}
	ix.sfp = is_sfp(d->device);
	pci_enable(d);
	int err = ixgbe_chip_reset();
	if (err)
		return err;
	if (iadv_read_mac(&ix.a, IXGBE_RAL0, "ixgbe", n->mac))
		return -5;
	ixgbe_link_setup(IXGBE_LINK_WAIT_MS);
	/* RSS reaches 16 queues: more pairs would be queues no frame ever arrives on. With more cores
	 * the network layer steers in software, as for any NIC with fewer queues than cores. */
	uint32_t np = want < IXGBE_RSS_QUEUES ? want : IXGBE_RSS_QUEUES;
	if ((err = ixgbe_setup(np)))
		return err;
	n->priv = &ix.a;
	n->npairs = np;
	n->rx_size = POLLUX_RX_RING_SIZE - 1;
	n->tx_size = POLLUX_TX_RING_SIZE / 2;
	n->caps = (struct nic_caps){ .max_pairs = IXGBE_MAX_QUEUES, .rss = true, .rx_hash = true, .tx_csum = true,
				     .rx_csum = true, .tx_sg = true, .reta_len = IADV_RETA_LEN };
	uint32_t links = rd(IXGBE_LINKS);
	n->link = links & IXGBE_LINKS_UP;
	static const char *const speed[4] = { "?", "100 Mb/s", "1 Gb/s", "10 Gb/s" };
	kprintf("ixgbe0: %02x:%02x:%02x:%02x:%02x:%02x, link %s %s, %u queue pairs of %u, rings %u/%u\n",
		n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->link ? "up" : "down",
		n->link ? speed[links >> IXGBE_LINKS_SPEED_SHIFT & 3] : "", np, IXGBE_MAX_QUEUES,
		POLLUX_RX_RING_SIZE, POLLUX_TX_RING_SIZE);
	return 0;
}

/*
 * 4.6.7 then 4.6.8: checksum and RSS; each RX queue enabled, seen enabled, then its tail; the
 * receive path enabled with the security block halted around RXCTRL.RXEN (4.6.7, last step);
 * DMATXCTL.TE before the first TXDCTL.ENABLE.
 */
static int ixgbe_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	wr(IXGBE_RXCSUM, IXGBE_RXCSUM_PCSD);
	iadv_rss_program(&ix.a, key, reta);
	wr(IADV_MRQC, IXGBE_MRQC_RSS | IADV_MRQC_IPV4 | IADV_MRQC_IPV4_TCP | IADV_MRQC_IPV4_UDP);
	for (uint32_t q = 0; q < n->npairs; q++) {
		if (iadv_rx_enable(&ix.a, q)) {
			kprintf("ixgbe0: RX queue %u did not enable\n", q);
			return -6;
		}
		iadv_rx_tail(&ix.a, q);
	}
	set_bits(IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	if (!iadv_wait(&ix.a, IXGBE_SECRXSTAT, IXGBE_SECRXSTAT_RDY, IXGBE_SECRXSTAT_RDY, 10))
		kprintf("ixgbe0: receive security block not idle: enabling anyway\n");
	set_bits(IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	clear_bits(IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	set_bits(IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
	for (uint32_t q = 0; q < n->npairs; q++)
		if (iadv_tx_enable(&ix.a, q)) {
			kprintf("ixgbe0: TX queue %u did not enable\n", q);
			return -6;
		}
	kprintf("ixgbe0: live, rss on\n");
	return 0;
}

static unsigned ixgbe_slow_poll(struct nic *n)
{
	unsigned ev = 0;
	uint32_t links = rd(IXGBE_LINKS);
	if (links == 0xffffffff) {
		if (!ix.gone++)
			kprintf("ixgbe0: device not answering\n");
		return 0;
	}
	ev |= nic_link_change(n, links & IXGBE_LINKS_UP);
	ix.crc_err += rd(IXGBE_CRCERRS);
	for (uint32_t i = 0; i < 8; i++)
		ix.missed += rd(IXGBE_MPC(i));
	for (uint32_t q = 0; q < n->npairs; q++)
		ix.no_buf += rd(IXGBE_QPRDC(q));
	if (!(rd(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN) || !(rd(IXGBE_RXQ(0) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
		ev |= NIC_EV_RESET;
	return ev;
}

static int ixgbe_reset(struct nic *n)
{
	int err = ixgbe_chip_reset();
	if (err)
		return err;
	ixgbe_link_setup(0);
	return ixgbe_setup(n->npairs);
}

static unsigned ixgbe_counters(struct nic *n, int q, struct nic_counter *out, unsigned max)
{
	(void)n;
	unsigned k = 0;
	if (q >= 0)
		return iadv_counters(&ix.a, (uint32_t)q, out, 0, max);
#define C(name, v) nic_counter(out, &k, max, name, v)
	C("missed", ix.missed);
	C("no_buf", ix.no_buf);
	C("crc_err", ix.crc_err);
	C("reset_stuck", ix.reset_stuck);
	C("link_timeouts", ix.link_timeouts);
#undef C
	return k;
}

static const struct nic_ops ixgbe_ops = {
	.name = "ixgbe",
	.attach = ixgbe_attach,
	.start = ixgbe_start,
	.rx_post = iadv_rx_post,
	.rx_poll = iadv_rx_poll,
	.tx_room = iadv_tx_room,
	.tx_post = iadv_tx_post,
	.tx_reap = iadv_tx_reap,
	.flush = iadv_flush,
	.slow_poll = ixgbe_slow_poll,
	.reset = ixgbe_reset,
	.counters = ixgbe_counters,
};

/* The 82599 family (device IDs as Linux ixgbe_type.h lists them). */
static const struct nic_id ixgbe_ids[] = {
	{ IXGBE_VENDOR, 0x10f7 },       /* KX4 */
	{ IXGBE_VENDOR, 0x10f8 },       /* combined backplane */
	{ IXGBE_VENDOR, 0x10f9 },       /* CX4 */
	{ IXGBE_VENDOR, 0x10fb },       /* SFP+ (X520-DA1/DA2) */
	{ IXGBE_VENDOR, 0x10fc },       /* XAUI */
	{ IXGBE_VENDOR, 0x1507 },       /* KX4 mezzanine */
	{ IXGBE_VENDOR, 0x1514 },       /* KX4/KR mezzanine */
	{ IXGBE_VENDOR, 0x1517 },       /* KR */
	{ IXGBE_VENDOR, 0x151c },       /* 10GBASE-T (T3 LOM) */
	{ IXGBE_VENDOR, 0x1529 },       /* SFP+ FCoE */
	{ IXGBE_VENDOR, 0x152a },       /* backplane FCoE */
	{ IXGBE_VENDOR, 0x154a },       /* X520-4 (four SFP+) */
	{ IXGBE_VENDOR, 0x154d },       /* SFP+ (X520 EM) */
	{ IXGBE_VENDOR, 0x1557 },       /* SFP+ (X520 SF2) */
	{ IXGBE_VENDOR, 0x1558 },       /* QSFP+ (X520-Q1) */
	{ 0, 0 },
};

const struct nic_driver ixgbe_driver = { &ixgbe_ops, ixgbe_ids };
