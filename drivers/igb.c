/* Intel 82576 (igb): reset, enable and link of the chip; the rings are the shared advanced-descriptor
 * engine's (drivers/intel_adv.c). Polled, one queue pair per core, interrupts masked for good. */
#include "kernel.h"
#include "intel_adv.h"
#include "igb_reg.h"
#include "nic.h"
#include "pci.h"

#define IGB_LINK_WAIT_MS 1000

static uint32_t igb_rxq(uint32_t q) { return IGB_RXQ(q); }
static uint32_t igb_txq(uint32_t q) { return IGB_TXQ(q); }
static uint32_t igb_srrctl(uint32_t q) { return IGB_SRRCTL(q); }

static const struct iadv_chip igb_chip = {
	.rxq = igb_rxq,
	.txq = igb_txq,
	.srrctl = igb_srrctl,
	.srrctl_val = IGB_SRRCTL_BSIZEPKT_2K | IGB_SRRCTL_ADV_ONEBUF | IGB_SRRCTL_DROP_EN,
	.rx_l4_err = IGB_RXD_ERR_L4E,
	.rx_ip_err = IGB_RXD_ERR_IPE,
	.tx_olinfo = 0,
	.reta_mask = 0xf,               /* 16 queues */
};

/* The softc: the engine's rings plus what the slow path adds up. */
static struct {
	struct iadv a;
	uint64_t crc_err, missed, no_buf;       /* the device's clear-on-read counters, summed */
	uint64_t reset_stuck, gone, ee_not_done, phy_errors;
} igb;

static void irq_mask(void)
{
	iadv_wr(&igb.a, IGB_IMC, 0xffffffff);
	iadv_wr(&igb.a, IGB_EIMC, 0xffffffff);
}

/* One PHY register access through MDIC (8.2.4); false when the PHY did not answer. */
static bool mdic(uint32_t op, uint32_t reg, uint16_t *data)
{
	iadv_wr(&igb.a, IGB_MDIC, op | reg << IGB_MDIC_REG_SHIFT | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT |
					  (op == IGB_MDIC_OP_WRITE ? *data : 0));
	if (!iadv_wait(&igb.a, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, 10))
		return false;
	uint32_t v = iadv_rd(&igb.a, IGB_MDIC);
	if (v & IGB_MDIC_ERROR)
		return false;
	*data = (uint16_t)v;
	return true;
}

/* Auto-negotiation restarted in the PHY: the link comes up when it completes (slow path). */
static void igb_autoneg(void)
{
	uint16_t bmcr;
	if (!mdic(IGB_MDIC_OP_READ, IGB_PHY_BMCR, &bmcr))
		goto fail;
	bmcr |= IGB_BMCR_AUTOEN | IGB_BMCR_ANRESTART;
	if (!mdic(IGB_MDIC_OP_WRITE, IGB_PHY_BMCR, &bmcr))
		goto fail;
	return;
fail:
	igb.phy_errors++;
	kprintf("igb0: PHY not answering on MDIC\n");
}

/* Software reset (82576 4.3.1.2): interrupts masked, receive and transmit off, bus mastering
 * quiesced, CTRL.RST, wait for it to clear and for the EEPROM to be read again; interrupts
 * masked again (the reset unmasks nothing, but a stray write before it might have). */
static int igb_chip_reset(void)
{
	irq_mask();
	iadv_wr(&igb.a, IGB_RCTL, 0);
	iadv_wr(&igb.a, IGB_TCTL, IGB_TCTL_PSP);
	iadv_wr(&igb.a, IGB_CTRL, iadv_rd(&igb.a, IGB_CTRL) | IGB_CTRL_GIO_MASTER_DISABLE);
	iadv_wait(&igb.a, IGB_STATUS, IGB_STATUS_GIO_MASTER_ENABLE, 0, 10);     /* best effort */
	iadv_wr(&igb.a, IGB_CTRL, iadv_rd(&igb.a, IGB_CTRL) | IGB_CTRL_RST);
	iadv_delay_us(1000);
	if (!iadv_wait(&igb.a, IGB_CTRL, IGB_CTRL_RST, 0, 100)) {
		igb.reset_stuck++;
		kprintf("igb0: reset did not complete\n");
		return -3;
	}
	if (!iadv_wait(&igb.a, IGB_EECD, IGB_EECD_AUTO_RD, IGB_EECD_AUTO_RD, 20))
		igb.ee_not_done++;      /* QEMU's model never sets it; the MAC check below decides */
	irq_mask();
	iadv_wr(&igb.a, IGB_CTRL, (iadv_rd(&igb.a, IGB_CTRL) & ~(IGB_CTRL_LRST | IGB_CTRL_GIO_MASTER_DISABLE)) |
				      IGB_CTRL_SLU);
	igb_autoneg();
	return 0;
}

/* Rings empty and programmed, nothing enabled: how attach and reset leave the device. */
static int igb_rings_setup(uint32_t n)
{
	if (iadv_rings_init(&igb.a, n, POLLUX_RX_RING_SIZE, POLLUX_TX_RING_SIZE)) {
		kprintf("igb0: no memory for the rings\n");
		return -4;
	}
	for (uint32_t q = 0; q < n; q++) {
		iadv_rx_program(&igb.a, q);
		iadv_tx_program(&igb.a, q);
	}
	return 0;
}

static bool igb_link(void)
{
	return iadv_rd(&igb.a, IGB_STATUS) & IGB_STATUS_LU;
}

static int igb_attach(struct nic *n, struct pci_dev *d, uint32_t want)
{
	igb.a.chip = &igb_chip;
	igb.a.bar = pci_bar_addr(d, 0);
	if (!igb.a.bar || pci_bar_size(d, 0) < 0x20000) {
		kprintf("igb0: BAR 0 missing or too small\n");
		return -2;
	}
	pci_enable(d);
	int err = igb_chip_reset();
	if (err)
		return err;
	if (iadv_read_mac(&igb.a, IGB_RAL0, "igb", n->mac))
		return -5;
	uint32_t np = want < IGB_MAX_QUEUES ? want : IGB_MAX_QUEUES;
	if ((err = igb_rings_setup(np)))
		return err;
	iadv_wait(&igb.a, IGB_STATUS, IGB_STATUS_LU, IGB_STATUS_LU, IGB_LINK_WAIT_MS);
	n->priv = &igb.a;
	n->npairs = np;
	n->rx_size = POLLUX_RX_RING_SIZE - 1;   /* a full ring would look empty (head == tail) */
	n->tx_size = POLLUX_TX_RING_SIZE / 2;   /* slots: a frame takes at least a context and a data */
	n->caps = (struct nic_caps){ .max_pairs = IGB_MAX_QUEUES, .rss = true, .rx_hash = true, .tx_csum = true,
				     .rx_csum = true, .tx_sg = true, .reta_len = IADV_RETA_LEN };
	n->link = igb_link();
	uint32_t st = iadv_rd(&igb.a, IGB_STATUS);
	kprintf("igb0: %02x:%02x:%02x:%02x:%02x:%02x, link %s %s Mb/s, %u queue pairs of %u, rings %u/%u\n",
		n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->link ? "up" : "down",
		(st >> IGB_STATUS_SPEED_SHIFT & 3) >= 2 ? "1000" : (st >> IGB_STATUS_SPEED_SHIFT & 3) ? "100" : "10",
		np, IGB_MAX_QUEUES, POLLUX_RX_RING_SIZE, POLLUX_TX_RING_SIZE);
	return 0;
}

/* Receive then transmit enable (82576 4.5.9, 4.5.10): checksum and RSS set-up, each queue
 * enabled and seen enabled before its tail moves, then the receiver and transmitter. */
static int igb_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	iadv_wr(&igb.a, IGB_RXCSUM, IGB_RXCSUM_IPOFLD | IGB_RXCSUM_TUOFLD | IGB_RXCSUM_PCSD);
	iadv_rss_program(&igb.a, key, reta);
	iadv_wr(&igb.a, IADV_MRQC, IGB_MRQC_RSS | IADV_MRQC_IPV4 | IADV_MRQC_IPV4_TCP | IADV_MRQC_IPV4_UDP);
	for (uint32_t q = 0; q < n->npairs; q++) {
		if (iadv_rx_enable(&igb.a, q) || iadv_tx_enable(&igb.a, q)) {
			kprintf("igb0: queue %u did not enable\n", q);
			return -6;
		}
		iadv_rx_tail(&igb.a, q);
	}
	iadv_wr(&igb.a, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_SECRC);
	iadv_wr(&igb.a, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	kprintf("igb0: live, rss on\n");
	return 0;
}

/* Link changes, the clear-on-read error counters, and a device that reset itself or vanished. */
static unsigned igb_slow_poll(struct nic *n)
{
	unsigned ev = 0;
	uint32_t st = iadv_rd(&igb.a, IGB_STATUS);
	if (st == 0xffffffff) {                 /* reads of a device that left the bus */
		if (!igb.gone++)
			kprintf("igb0: device not answering\n");
		return 0;
	}
	ev |= nic_link_change(n, st & IGB_STATUS_LU);
	igb.crc_err += iadv_rd(&igb.a, IGB_CRCERRS);
	igb.missed += iadv_rd(&igb.a, IGB_MPC);
	igb.no_buf += iadv_rd(&igb.a, IGB_RNBC);
	if (!(iadv_rd(&igb.a, IGB_RCTL) & IGB_RCTL_EN) ||
	    !(iadv_rd(&igb.a, IGB_RXQ(0) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
		ev |= NIC_EV_RESET;             /* reset behind our back: set it up again */
	return ev;
}

static int igb_reset(struct nic *n)
{
	int err = igb_chip_reset();
	return err ? err : igb_rings_setup(n->npairs);
}

static unsigned igb_counters(struct nic *n, int q, struct nic_counter *out, unsigned max)
{
	(void)n;
	unsigned k = 0;
	if (q >= 0)
		return iadv_counters(&igb.a, (uint32_t)q, out, 0, max);
#define C(name, v) nic_counter(out, &k, max, name, v)
	C("missed", igb.missed);
	C("no_buf", igb.no_buf);
	C("crc_err", igb.crc_err);
	C("reset_stuck", igb.reset_stuck);
	C("phy_errors", igb.phy_errors);
#undef C
	return k;
}

static const struct nic_ops igb_ops = {
	.name = "igb",
	.attach = igb_attach,
	.start = igb_start,
	.rx_post = iadv_rx_post,
	.rx_poll = iadv_rx_poll,
	.tx_room = iadv_tx_room,
	.tx_post = iadv_tx_post,
	.tx_reap = iadv_tx_reap,
	.flush = iadv_flush,
	.slow_poll = igb_slow_poll,
	.reset = igb_reset,
	.counters = igb_counters,
};

/* The 82576 family (Linux e1000_hw.h device IDs); the virtual function 10ca is not one of them. */
static const struct nic_id igb_ids[] = {
	{ IGB_VENDOR, 0x10c9 },         /* 82576 copper: what QEMU's -device igb is */
	{ IGB_VENDOR, 0x10e6 },         /* fiber */
	{ IGB_VENDOR, 0x10e7 },         /* serdes */
	{ IGB_VENDOR, 0x10e8 },         /* quad copper */
	{ IGB_VENDOR, 0x1526 },         /* quad copper ET2 */
	{ IGB_VENDOR, 0x150a },         /* NS */
	{ IGB_VENDOR, 0x1518 },         /* NS serdes */
	{ IGB_VENDOR, 0x150d },         /* serdes quad */
	{ 0, 0 },
};

const struct nic_driver igb_driver = { &igb_ops, igb_ids };
