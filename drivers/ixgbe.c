/* Intel 82599 (ixgbe): reset, link and enable of the chip in the datasheet's order; the rings are the
 * shared advanced-descriptor engine's (drivers/intel_adv.c). Polled, one queue pair per core,
 * interrupts masked at reset and never unmasked. Datasheet: 331520, section 4.6 (initialization). */
#include "kernel.h"
#include "intel_adv.h"
#include "ixgbe_reg.h"
#include "nic.h"
#include "pci.h"

#define IXGBE_LINK_WAIT_MS 1000
#define IXGBE_RESET_WAIT_US 50000       /* after CTRL.RST: the datasheet says 10 ms, the shared code 50 */
#define IXGBE_GIO_WAIT_MS 80            /* ixgbe_common.c: 800 polls of 100 us for master requests */
#define IXGBE_SECRX_WAIT_MS 40          /* ixgbe_common.c: 4000 polls of 10 us for SECRXSTAT.RDY */
#define IXGBE_EERD_WAIT_MS 500          /* ixgbe_common.c: 100000 polls of 5 us */
#define IXGBE_I2C_HALF_US 5             /* ixgbe_phy.h: SCL low 5 us (4.7 us in I2C's standard mode) */

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
	bool sfp;                       /* SFP+ port: 10 GbE serial link mode, laser on ESDP.SDP3 */
	uint32_t sfp_type;              /* what the module was identified as (SFP_TYPE_*), 0: none */
	uint64_t crc_err, missed, no_buf;       /* clear-on-read counters, summed on the slow path */
	uint64_t reset_stuck, link_timeouts, gone, double_resets, sfp_fail;
} ix;

static uint32_t rd(uint32_t off) { return iadv_rd(&ix.a, off); }
static void wr(uint32_t off, uint32_t v) { iadv_wr(&ix.a, off, v); }
static void set_bits(uint32_t off, uint32_t b) { wr(off, rd(off) | b); }
static void clear_bits(uint32_t off, uint32_t b) { wr(off, rd(off) & ~b); }

/* One CTRL reset and the time after it. ixgbe_82599.c ixgbe_reset_hw_82599: a link reset (LNK_RST)
 * only with the link down, since with the link up it may reset the PHY under the management
 * firmware; a software reset (RST) otherwise. Returns false when it did not self-clear. */
static bool ixgbe_reset_once(void)
{
	uint32_t how = rd(IXGBE_LINKS) & IXGBE_LINKS_UP ? IXGBE_CTRL_RST : IXGBE_CTRL_LNK_RST;
	set_bits(IXGBE_CTRL, how);
	iadv_delay_us(1000);
	bool done = iadv_wait(&ix.a, IXGBE_CTRL, IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST, 0, 100);
	iadv_delay_us(IXGBE_RESET_WAIT_US);
	return done;
}

/*
 * 4.6.3.2 Global reset and general configuration: mask every interrupt (EIMC), quiesce bus
 * mastering, reset, wait, mask again (the mask is not reset-proof across every reset source), wait
 * for the EEPROM auto-read (EEC.ARD) and the DMA initialization (RDRXCTL.DMAIDONE). Master requests
 * still pending after 80 ms need two resets (ixgbe_common.c ixgbe_disable_pcie_primary, citing
 * datasheet 5.2.5.3.2: the first stops new requests, the second clears what the late completions
 * did). Any of these stuck: the device cannot be trusted.
 */
static int ixgbe_chip_reset(void)
{
	wr(IXGBE_EIMC, IXGBE_EIMC_ALL);
	set_bits(IXGBE_CTRL, IXGBE_CTRL_GIO_MASTER_DISABLE);
	bool twice = !iadv_wait(&ix.a, IXGBE_STATUS, IXGBE_STATUS_GIO_MASTER_ENABLE, 0, IXGBE_GIO_WAIT_MS);
	const char *why = NULL;
	if (!ixgbe_reset_once())
		why = "reset did not complete";
	if (!why && twice) {
		ix.double_resets++;
		if (!ixgbe_reset_once())
			why = "reset did not complete";
	}
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

/* One EEPROM word through EERD (ixgbe_common.c ixgbe_read_eerd_buffer_generic). Returns 0, or -1 when the read never completed. */
static int ixgbe_ee_read(uint32_t addr, uint16_t *out)
{
	wr(IXGBE_EERD, addr << IXGBE_EERD_ADDR_SHIFT | IXGBE_EERD_START);
	if (!iadv_wait(&ix.a, IXGBE_EERD, IXGBE_EERD_DONE, IXGBE_EERD_DONE, IXGBE_EERD_WAIT_MS))
		return -1;
	*out = (uint16_t)(rd(IXGBE_EERD) >> IXGBE_EERD_DATA_SHIFT);
	return 0;
}

/* ---- the SFP+ cage's I2C bus, bit-banged through I2CCTL, as ixgbe_phy.c does ---- */
static void i2c_set(bool scl, bool sda)
{
	wr(IXGBE_I2CCTL, (scl ? IXGBE_I2C_CLK_OUT : 0) | (sda ? IXGBE_I2C_DATA_OUT : 0));
	iadv_delay_us(IXGBE_I2C_HALF_US);
}

/* Start (or repeated start): SDA falls while SCL is high. */
static void i2c_start(void)
{
	i2c_set(false, true);
	i2c_set(true, true);
	i2c_set(true, false);
	i2c_set(false, false);
}

/* Stop: SDA rises while SCL is high. */
static void i2c_stop(void)
{
	i2c_set(false, false);
	i2c_set(true, false);
	i2c_set(true, true);
}

static void i2c_bit_out(bool b)
{
	i2c_set(false, b);
	i2c_set(true, b);
	i2c_set(false, b);
}

/* SDA released; the module drives it while SCL is high. */
static bool i2c_bit_in(void)
{
	i2c_set(false, true);
	i2c_set(true, true);
	bool b = (rd(IXGBE_I2CCTL) & IXGBE_I2C_DATA_IN) != 0;
	i2c_set(false, true);
	return b;
}

/* A byte out, most significant bit first; true when the module acknowledged it. */
static bool i2c_byte_out(uint8_t v)
{
	for (int i = 7; i >= 0; i--)
		i2c_bit_out(v >> i & 1);
	return !i2c_bit_in();
}

/* One byte of the module's ID EEPROM (ixgbe_phy.c ixgbe_read_i2c_byte_generic: write the offset,
 * repeated start, read one byte, no-ack, stop). Returns 0, or -1 when nothing answered. */
static int ixgbe_sfp_read(uint8_t off, uint8_t *out)
{
	i2c_start();
	bool ok = i2c_byte_out(SFP_I2C_ADDR) && i2c_byte_out(off);
	if (ok) {
		i2c_start();
		ok = i2c_byte_out(SFP_I2C_ADDR | 1);
	}
	if (ok) {
		uint8_t v = 0;
		for (int i = 0; i < 8; i++)
			v = (uint8_t)(v << 1 | i2c_bit_in());
		i2c_bit_out(true);      /* no-ack: one byte is all we want */
		*out = v;
	}
	i2c_stop();
	return ok ? 0 : -1;
}

/*
 * Which module is in the cage (ixgbe_phy.c ixgbe_identify_sfp_module_generic, the 82599 branch):
 * passive direct-attach cables, active limiting ones and 10GBASE-SR/LR optics, per port (STATUS
 * LAN_ID). 1 Gb/s modules are not served (the driver runs the MAC at 10 Gb/s only). Unlike the
 * shared code, modules of other vendors than Intel are accepted (its allow_unsupported_sfp).
 * Returns the SFP type, or 0 (logged) when there is no module or none we serve.
 */
static uint32_t ixgbe_sfp_identify(void)
{
	uint8_t id, comp, tech, spec = 0;
	if (ixgbe_sfp_read(SFP_IDENTIFIER, &id) || ixgbe_sfp_read(SFP_10GBE_COMP, &comp) ||
	    ixgbe_sfp_read(SFP_CABLE_TECH, &tech)) {
		kprintf("ixgbe0: no SFP+ module answers\n");
		return 0;
	}
	uint32_t port = (rd(IXGBE_STATUS) >> IXGBE_STATUS_LAN_ID_SHIFT) & 1;
	if (id == SFP_IDENTIFIER_SFP && (tech & SFP_DA_PASSIVE))
		return SFP_TYPE_DA_CU_CORE0 + port;
	if (id == SFP_IDENTIFIER_SFP && (tech & SFP_DA_ACTIVE) && !ixgbe_sfp_read(SFP_CABLE_SPEC, &spec) &&
	    (spec & SFP_DA_SPEC_LIMITING))
		return SFP_TYPE_SRLR_CORE0 + port;      /* ixgbe_get_sfp_init_sequence_offsets maps it so */
	if (id == SFP_IDENTIFIER_SFP && !(tech & SFP_DA_ACTIVE) && (comp & (SFP_10GBASESR | SFP_10GBASELR)))
		return SFP_TYPE_SRLR_CORE0 + port;
	kprintf("ixgbe0: SFP+ module not served (id %02x, 10G %02x, cable %02x)\n", id, comp, tech);
	return 0;
}

/* The SW/FW semaphore (intel_adv.h) as Intel's shared code takes it: SWSM.SMBI waited for 100 ms,
 * then freed once and tried again, SWESMBI tried 2000 times 50 us apart (ixgbe_common.c
 * ixgbe_get_eeprom_semaphore); the resource's bit of GSSR, the firmware's 5 higher, tried 200
 * times 5 ms apart (ixgbe_acquire_swfw_sync). */
static const struct iadv_swfw ixgbe_swfw = {
	.swsm = IXGBE_SWSM, .sync = IXGBE_GSSR, .fw_shift = IXGBE_GSSR_FW_SHIFT, .smbi_ms = 100,
	.smbi_force = true, .swesmbi_tries = 2000, .sync_tries = 200,
};

/*
 * The module's init sequence from the EEPROM into CORECTL (ixgbe_phy.c
 * ixgbe_get_sfp_init_sequence_offsets, ixgbe_82599.c ixgbe_setup_sfp_modules_82599): word 0x2B
 * points at a list of (SFP type, offset) pairs ended by 0xFFFF; the words after the offset, up to
 * 0xFFFF, go to CORECTL one by one. The walk is bounded: an EEPROM of 0xFFFF or zeros ends it.
 */
static int ixgbe_sfp_init(uint32_t type)
{
	uint16_t list, id = 0, data, w;
	if (ixgbe_ee_read(IXGBE_EE_PHY_INIT_OFFSET, &list) || list == 0 || list == IXGBE_EE_LIST_END)
		return -1;
	uint32_t at = list + 1u, n;
	for (n = 0; n < 64; n++, at += 2) {
		if (ixgbe_ee_read(at, &id) || id == IXGBE_EE_LIST_END || id == type)
			break;
	}
	if (id != type || ixgbe_ee_read(at + 1, &data) || data == 0 || data == IXGBE_EE_LIST_END)
		return -1;
	/* "PHY config will finish before releasing the semaphore": firmware keeps off the MAC's
	 * registers meanwhile, and gets 10 ms after (the shared code's semaphore_delay). */
	if (!iadv_swfw_get(&ix.a, &ixgbe_swfw, IXGBE_GSSR_MAC_CSR))
		return -1;
	int err = -1;
	for (n = 1; n < 256; n++) {
		if (ixgbe_ee_read(data + n, &w))
			break;
		if (w == IXGBE_EE_LIST_END) {
			err = 0;
			break;
		}
		wr(IXGBE_CORECTL, w);
		rd(IXGBE_STATUS);       /* flush: each word reaches the core before the next */
	}
	iadv_swfw_put(&ix.a, &ixgbe_swfw, IXGBE_GSSR_MAC_CSR);
	iadv_delay_us(10000);
	return err;
}

/* AUTOC as the shared code writes it (ixgbe_82599.c prot_autoc_write_82599 and
 * ixgbe_reset_pipeline_82599): not at all under the firmware's veto; else the value, then a
 * pipeline reset: LMS bit 2 toggled with Restart_AN, up to 40 ms for ANLP1 to show auto-negotiation
 * leaving state 0, then the value with Restart_AN. A new link mode takes effect only so. */
static void ixgbe_autoc_write(uint32_t autoc)
{
	if (rd(IXGBE_MMNGC) & IXGBE_MMNGC_MNG_VETO)
		return;
	wr(IXGBE_AUTOC, autoc);
	wr(IXGBE_AUTOC, (autoc | IXGBE_AUTOC_AN_RESTART) ^ IXGBE_AUTOC_LMS_BIT2);
	bool left = false;
	for (int i = 0; i < 10 && !left; i++) {
		iadv_delay_us(4000);
		left = (rd(IXGBE_ANLP1) & IXGBE_ANLP1_AN_STATE_MASK) != 0;
	}
	if (!left)
		ix.link_timeouts++;
	wr(IXGBE_AUTOC, autoc | IXGBE_AUTOC_AN_RESTART);
}

/*
 * 4.6.4 Link set-up, as ixgbe_82599.c brings an SFP+ port up: the module identified and its init
 * sequence written (ixgbe_setup_sfp_modules_82599; after the MAC reset, as the shared code's
 * module hot-plug path does it, so that a reset from outside is repaired too), AUTOC2's
 * LINK_DISABLE cleared (ixgbe_reset_hw_82599: "Enable link if disabled in NVM"), AUTOC at 10 GbE
 * serial through a pipeline reset when it is not that already, and the TX laser on: ESDP.SDP3
 * cleared (ixgbe_enable_tx_laser_multispeed_fiber; every SFP+ board here is fiber media). Other
 * ports keep the EEPROM's link mode and restart it by a pipeline reset (ixgbe_start_mac_link_82599).
 * LINKS is polled for up to wait_ms (at attach, so the first report is right; not after a reset,
 * where core 0 must not stall), and the slow path follows the link.
 */
static void ixgbe_link_setup(uint32_t wait_ms)
{
	if (ix.sfp) {
		ix.sfp_type = ixgbe_sfp_identify();
		if (ix.sfp_type && ixgbe_sfp_init(ix.sfp_type)) {
			ix.sfp_fail++;
			kprintf("ixgbe0: no EEPROM init sequence for SFP+ type %u\n", ix.sfp_type);
		}
	}
	uint32_t autoc2 = rd(IXGBE_AUTOC2);
	if (autoc2 & IXGBE_AUTOC2_LINK_DISABLE_MASK)
		wr(IXGBE_AUTOC2, autoc2 & ~IXGBE_AUTOC2_LINK_DISABLE_MASK);
	uint32_t autoc = rd(IXGBE_AUTOC);
	if (ix.sfp) {
		uint32_t want = (autoc & ~(IXGBE_AUTOC_LMS_MASK | IXGBE_AUTOC_10G_PMA_MASK)) | IXGBE_AUTOC_LMS_10G_SFI;
		if (want != autoc)
			ixgbe_autoc_write(want);
		clear_bits(IXGBE_ESDP, IXGBE_ESDP_SDP3);
	} else {
		ixgbe_autoc_write(autoc);
	}
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
	set_bits(IXGBE_FCTRL, IXGBE_FCTRL_BAM);        /* multicast: set_mcast, after start (nic.c) */
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
		/* DCA_RXCTRL bit 12 is set at reset and must be 0, else received frames hold garbage
		 * (4.6.7; iPXE intelx_open). Write relaxed ordering off, as ixgbe_common.c
		 * ixgbe_start_hw_gen2 does: a write-back must not pass the data it describes. */
		clear_bits(IXGBE_DCA_RXCTRL(q),
			   IXGBE_DCA_RXCTRL_BIT12 | IXGBE_DCA_RXCTRL_DATA_WRO | IXGBE_DCA_RXCTRL_HEAD_WRO);
		clear_bits(IXGBE_DCA_TXCTRL(q), IXGBE_DCA_TXCTRL_DESC_WRO);
	}
	return 0;
}

/* SFP+ ports (ixgbe_82599.c ixgbe_get_media_type_82599: fiber). 0x1507 is 82599_SFP_EM and 0x154F
 * 82599_LS (ixgbe_type.h), both fiber. */
static bool is_sfp(uint16_t dev)
{
	return dev == 0x10fb || dev == 0x1507 || dev == 0x1529 || dev == 0x154a || dev == 0x154d || dev == 0x154f ||
	       dev == 0x1557 || dev == 0x1558;
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
				     .rx_csum = true, .tx_sg = true, .reta_len = IADV_RETA_LEN, .tso_max = IADV_TSO_MAX };
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
	wr(IADV_MRQC, IXGBE_MRQC_RSS | IADV_MRQC_IPV4 | IADV_MRQC_IPV4_TCP | IADV_MRQC_IPV4_UDP | IADV_MRQC_IPV6 |
			      IADV_MRQC_IPV6_TCP | IADV_MRQC_IPV6_UDP);
	for (uint32_t q = 0; q < n->npairs; q++) {
		if (iadv_rx_enable(&ix.a, q)) {
			kprintf("ixgbe0: RX queue %u did not enable\n", q);
			return -6;
		}
		iadv_rx_tail(&ix.a, q);
	}
	set_bits(IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	if (!iadv_wait(&ix.a, IXGBE_SECRXSTAT, IXGBE_SECRXSTAT_RDY, IXGBE_SECRXSTAT_RDY, IXGBE_SECRX_WAIT_MS))
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

/* The groups into the MTA at offset 0, enabled by MCSTCTRL.MFE; it takes any number (a hash: a
 * few other groups pass too). FCTRL.MPE only when every group is asked for. */
static int ixgbe_set_mcast(struct nic *n, const uint8_t (*mac)[6], uint32_t cnt)
{
	(void)n;
	bool all = cnt > NIC_MCAST_MAX;
	iadv_mta_program(&ix.a, mac, all ? 0 : cnt);
	wr(IXGBE_MCSTCTRL, IXGBE_MCSTCTRL_MFE);
	if (all)
		set_bits(IXGBE_FCTRL, IXGBE_FCTRL_MPE);
	else
		clear_bits(IXGBE_FCTRL, IXGBE_FCTRL_MPE);
	return all;
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
	C("double_resets", ix.double_resets);
	C("sfp_fail", ix.sfp_fail);
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
	.set_mcast = ixgbe_set_mcast,
};

/* The 82599 family (device IDs as Linux ixgbe_type.h lists them). */
static const struct nic_id ixgbe_ids[] = {
	{ IXGBE_VENDOR, 0x10f7 },       /* KX4 */
	{ IXGBE_VENDOR, 0x10f8 },       /* combined backplane */
	{ IXGBE_VENDOR, 0x10f9 },       /* CX4 */
	{ IXGBE_VENDOR, 0x10fb },       /* SFP+ (X520-DA1/DA2) */
	{ IXGBE_VENDOR, 0x10fc },       /* XAUI */
	{ IXGBE_VENDOR, 0x1507 },       /* SFP+ (82599_SFP_EM) */
	{ IXGBE_VENDOR, 0x1514 },       /* KX4/KR mezzanine */
	{ IXGBE_VENDOR, 0x1517 },       /* KR */
	{ IXGBE_VENDOR, 0x151c },       /* 10GBASE-T (T3 LOM) */
	{ IXGBE_VENDOR, 0x1529 },       /* SFP+ FCoE */
	{ IXGBE_VENDOR, 0x152a },       /* backplane FCoE */
	{ IXGBE_VENDOR, 0x154a },       /* X520-4 (four SFP+) */
	{ IXGBE_VENDOR, 0x154d },       /* SFP+ (X520 EM) */
	{ IXGBE_VENDOR, 0x154f },       /* SFP+ (82599_LS) */
	{ IXGBE_VENDOR, 0x1557 },       /* SFP+ (X520 SF2) */
	{ IXGBE_VENDOR, 0x1558 },       /* QSFP+ (X520-Q1) */
	{ 0, 0 },
};

const struct nic_driver ixgbe_driver = { &ixgbe_ops, ixgbe_ids };
