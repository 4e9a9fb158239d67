/* Intel 82576 (igb), copper parts: reset, enable and link of the chip; the rings are the shared
 * advanced-descriptor engine's (drivers/intel_adv.c). Polled, up to 8 queue pairs (one per core,
 * the other cores steered in software), interrupts masked for good. */
#include "kernel.h"
#include "intel_adv.h"
#include "igb_reg.h"
#include "nic.h"
#include "pci.h"

#define IGB_LINK_WAIT_MS 1000
#define IGB_QUIET_US 10000      /* receive and transmit stopped before CTRL.RST (Linux
				 * e1000_82575.c igb_reset_hw_82575 sleeps 10 ms there) */
#define IGB_RESET_US 1000       /* no register access this soon after CTRL.RST */
#define IGB_AUTO_RD_MS 10       /* Linux AUTO_READ_DONE_TIMEOUT (e1000_mac.c igb_get_auto_rd_done) */
#define IGB_CFG_DONE_MS 100     /* Linux PHY_CFG_TIMEOUT (e1000_82575.c igb_get_cfg_done_82575) */

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
	.reta_mask = 0x7,               /* RSS spreads over 8 queues (IGB_RSS_QUEUES) */
};

/* The softc: the engine's rings plus what the slow path adds up. */
static struct {
	struct iadv a;
	uint64_t crc_err, missed, no_buf;       /* the device's clear-on-read counters, summed */
	uint64_t reset_stuck, gone, ee_not_done, cfg_not_done, phy_errors;
	uint32_t port;                  /* LAN port of this function (STATUS.FUNC): its CFG_DONE and
					 * PHY semaphore bits */
} igb;

static void irq_mask(void)
{
	iadv_wr(&igb.a, IGB_IMC, 0xffffffff);
	iadv_wr(&igb.a, IGB_EIMC, 0xffffffff);
}

/* The SW/FW semaphore (intel_adv.h) as Linux's igb takes it: SWSM.SMBI waited for 50 ms and
 * SWESMBI tried 20 times (e1000_mac.c igb_get_hw_semaphore), then the resource's bit of
 * SW_FW_SYNC, the firmware's 16 higher, tried 200 times 5 ms apart (e1000_82575.c
 * igb_acquire_swfw_sync_82575). The manageability firmware shares the PHY. */
static const struct iadv_swfw igb_swfw = {
	.swsm = IGB_SWSM, .sync = IGB_SW_FW_SYNC, .fw_shift = 16, .smbi_ms = 50, .smbi_force = false,
	.swesmbi_tries = 20, .sync_tries = 200,
};

/* One PHY register access through MDIC (8.2.4), the PHY's semaphore held; false when the PHY did
 * not answer. */
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

/* The copper PHY powered up and auto-negotiation restarted; the link comes up when it completes
 * (slow path). The PHY keeps BMCR.PDOWN across a MAC reset, and a previous driver, the firmware
 * or a shutdown may have set it (Linux igb_power_up_link -> e1000_phy.c
 * igb_power_up_phy_copper clears it before the link is set up). All under the PHY's SW/FW
 * semaphore (e1000_82575.c igb_acquire_phy_82575). */
static void igb_phy_up(void)
{
	uint32_t sm = igb.port ? IGB_SWFW_PHY1_SM : IGB_SWFW_PHY0_SM;
	if (!iadv_swfw_get(&igb.a, &igb_swfw, sm)) {
		igb.phy_errors++;
		kprintf("igb0: PHY semaphore not granted (SW_FW_SYNC)\n");
		return;
	}
	uint16_t bmcr;
	bool ok = mdic(IGB_MDIC_OP_READ, IGB_PHY_BMCR, &bmcr);
	if (ok && (bmcr & IGB_BMCR_PDOWN)) {
		bmcr &= (uint16_t)~IGB_BMCR_PDOWN;
		ok = mdic(IGB_MDIC_OP_WRITE, IGB_PHY_BMCR, &bmcr);
	}
	if (ok) {
		bmcr |= IGB_BMCR_AUTOEN | IGB_BMCR_ANRESTART;
		ok = mdic(IGB_MDIC_OP_WRITE, IGB_PHY_BMCR, &bmcr);
	}
	iadv_swfw_put(&igb.a, &igb_swfw, sm);
	if (!ok) {
		igb.phy_errors++;
		kprintf("igb0: PHY not answering on MDIC\n");
	}
}

/* Software reset (82576 4.3.1.2; the order of Linux's igb_reset_hw_82575): interrupts masked,
 * receive and transmit off, bus mastering quiesced, 10 ms for DMA in flight to finish, CTRL.RST,
 * 1 ms before any register is touched, the bit seen clear and the EEPROM read again; interrupts
 * masked again (the reset unmasks nothing, but a stray write before it might have). Then the
 * management configuration cycle (EEMNGCTL.CFG_DONE of our port) before the PHY is touched. */
static int igb_chip_reset(void)
{
	irq_mask();
	iadv_wr(&igb.a, IGB_RCTL, 0);
	iadv_wr(&igb.a, IGB_TCTL, IGB_TCTL_PSP);
	iadv_wr(&igb.a, IGB_CTRL, iadv_rd(&igb.a, IGB_CTRL) | IGB_CTRL_GIO_MASTER_DISABLE);
	iadv_wait(&igb.a, IGB_STATUS, IGB_STATUS_GIO_MASTER_ENABLE, 0, 10);     /* best effort */
	iadv_delay_us(IGB_QUIET_US);
	iadv_wr(&igb.a, IGB_CTRL, iadv_rd(&igb.a, IGB_CTRL) | IGB_CTRL_RST);
	iadv_delay_us(IGB_RESET_US);
	if (!iadv_wait(&igb.a, IGB_CTRL, IGB_CTRL_RST, 0, 100)) {
		igb.reset_stuck++;
		kprintf("igb0: reset did not complete\n");
		return -3;
	}
	if (!iadv_wait(&igb.a, IGB_EECD, IGB_EECD_AUTO_RD, IGB_EECD_AUTO_RD, IGB_AUTO_RD_MS))
		igb.ee_not_done++;      /* QEMU's model never sets it; the MAC check below decides */
	igb.port = (iadv_rd(&igb.a, IGB_STATUS) & IGB_STATUS_FUNC_MASK) >> IGB_STATUS_FUNC_SHIFT;
	/* EEPROM-less boards never finish the cycle: Linux only logs it, and so do we (counted). */
	uint32_t done = igb.port ? IGB_EEMNGCTL_CFG_DONE1 : IGB_EEMNGCTL_CFG_DONE0;
	if (!iadv_wait(&igb.a, IGB_EEMNGCTL, done, done, IGB_CFG_DONE_MS))
		igb.cfg_not_done++;
	irq_mask();
	iadv_wr(&igb.a, IGB_CTRL, (iadv_rd(&igb.a, IGB_CTRL) & ~(IGB_CTRL_LRST | IGB_CTRL_GIO_MASTER_DISABLE)) |
				      IGB_CTRL_SLU);
	igb_phy_up();
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
	/* RSS spreads over 8 queues (Linux igb.h IGB_MAX_RX_QUEUES for the 82576; 4 on the 82575):
	 * more cores than that are steered in software (net/net.c). */
	uint32_t np = want < IGB_RSS_QUEUES ? want : IGB_RSS_QUEUES;
	if ((err = igb_rings_setup(np)))
		return err;
	iadv_wait(&igb.a, IGB_STATUS, IGB_STATUS_LU, IGB_STATUS_LU, IGB_LINK_WAIT_MS);
	n->priv = &igb.a;
	n->npairs = np;
	n->rx_size = POLLUX_RX_RING_SIZE - 1;   /* a full ring would look empty (head == tail) */
	n->tx_size = POLLUX_TX_RING_SIZE / 2;   /* slots: a frame takes at least a context and a data */
	n->caps = (struct nic_caps){ .max_pairs = IGB_RSS_QUEUES, .rss = true, .rx_hash = true, .tx_csum = true,
				     .rx_csum = true, .tx_sg = true, .reta_len = IADV_RETA_LEN, .tso_max = IADV_TSO_MAX };
	n->link = igb_link();
	uint32_t st = iadv_rd(&igb.a, IGB_STATUS);
	kprintf("igb0: %02x:%02x:%02x:%02x:%02x:%02x, link %s %s Mb/s, %u queue pairs of %u, rings %u/%u\n",
		n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->link ? "up" : "down",
		(st >> IGB_STATUS_SPEED_SHIFT & 3) >= 2 ? "1000" : (st >> IGB_STATUS_SPEED_SHIFT & 3) ? "100" : "10",
		np, IGB_RSS_QUEUES, POLLUX_RX_RING_SIZE, POLLUX_TX_RING_SIZE);
	return 0;
}

/* Receive then transmit enable (82576 4.5.9, 4.5.10): checksum and RSS set-up, each queue
 * enabled and seen enabled before its tail moves, then the receiver and transmitter. */
static int igb_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	iadv_wr(&igb.a, IGB_RXCSUM, IGB_RXCSUM_IPOFLD | IGB_RXCSUM_TUOFLD | IGB_RXCSUM_PCSD);
	iadv_rss_program(&igb.a, key, reta);
	/* TCP over IPv6 with both TcpIPv6 and TcpIPv6Ex, as Linux's igb sets them: QEMU's 82576 hashes
	 * it on the four-tuple only with bit 18 (its layout is the 82574's), and without it puts every
	 * IPv6 connection of one client on one queue. */
	iadv_wr(&igb.a, IADV_MRQC, IGB_MRQC_RSS | IADV_MRQC_IPV4 | IADV_MRQC_IPV4_TCP | IADV_MRQC_IPV4_UDP |
					   IADV_MRQC_IPV6 | IADV_MRQC_IPV6_TCP | IGB_MRQC_IPV6_TCP_EX | IADV_MRQC_IPV6_UDP);
	for (uint32_t q = 0; q < n->npairs; q++) {
		if (iadv_rx_enable(&igb.a, q) || iadv_tx_enable(&igb.a, q)) {
			kprintf("igb0: queue %u did not enable\n", q);
			return -6;
		}
		iadv_rx_tail(&igb.a, q);
	}
	/* Multicast as set_mcast says next (nic.c), through the MTA at offset 0 (RCTL.MO). */
	iadv_wr(&igb.a, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_SECRC);
	iadv_wr(&igb.a, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	kprintf("igb0: live, rss on\n");
	return 0;
}

/* The groups into the MTA, which takes any number (a hash: a few other groups pass too); RCTL.MPE
 * only when every group is asked for. */
static int igb_set_mcast(struct nic *n, const uint8_t (*mac)[6], uint32_t cnt)
{
	(void)n;
	bool all = cnt > NIC_MCAST_MAX;
	iadv_mta_program(&igb.a, mac, all ? 0 : cnt);
	uint32_t rctl = iadv_rd(&igb.a, IGB_RCTL) & ~(IGB_RCTL_MPE | IGB_RCTL_MO_MASK);
	iadv_wr(&igb.a, IGB_RCTL, rctl | (all ? IGB_RCTL_MPE : 0));
	return all;
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
	C("cfg_not_done", igb.cfg_not_done);
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
	.set_mcast = igb_set_mcast,
};

/* The copper 82576 parts (Linux e1000_hw.h device IDs); the virtual function 10ca is not one of
 * them. The fiber and SerDes parts (10e6, 10e7, 1518 NS SerDes, 150d SerDes quad) are left out:
 * their link is the PCS's (Linux e1000_82575.c igb_setup_serdes_link_82575,
 * igb_power_up_serdes_link_82575), which this driver does not set up, and no model or emulator
 * of it exists to test one against. */
static const struct nic_id igb_ids[] = {
	{ IGB_VENDOR, 0x10c9 },         /* 82576 copper: what QEMU's -device igb is */
	{ IGB_VENDOR, 0x10e8 },         /* quad copper */
	{ IGB_VENDOR, 0x1526 },         /* quad copper ET2 */
	{ IGB_VENDOR, 0x150a },         /* NS (copper) */
	{ 0, 0 },
};

const struct nic_driver igb_driver = { &igb_ops, igb_ids };
