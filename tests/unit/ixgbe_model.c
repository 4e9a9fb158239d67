/* The 82599 device model (tests/unit/ixgbe_model.h): what the datasheet (331520) says the registers
 * do, and the order it requires, counting every departure from it. */
#include <string.h>

#include "kernel.h"
#include "drivers/intel_adv.h"
#include "drivers/ixgbe_reg.h"
#include "csum.h"
#include "iadv_model.h"
#include "iadv_model_tx.h"
#include "ixgbe_model.h"

#define R(off) IM_R(off)
#define NQ IM_NQ

struct im_state im;
const uint8_t im_mac[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };

static bool resetting(void) { return im.reset_done_at && im.ticks < im.reset_done_at; }

uint64_t im_now_us(void) { return host_clock / (arch_counter_hz() / 1000000); }

/* The EEPROM's SFP+ init sequences (read by ixgbe_phy.c ixgbe_get_sfp_init_sequence_offsets):
 * word 0x2B points at a list of (SFP type, offset) pairs ended by 0xFFFF; at offset + 1 the words
 * for CORECTL, ended by 0xFFFF. Types 3/4 direct-attach on port 0/1, 5/6 SR/LR on port 0/1. */
#define SEQ_LEN 4
uint16_t im_sfp_seq_word(uint32_t t, uint32_t i) { return (uint16_t)(0x0100 * t + 0x11 * (i + 1)); }

static void eeprom_init(void)
{
	memset(im.eeprom, 0xff, sizeof(im.eeprom));
	im.eeprom[IXGBE_EE_PHY_INIT_OFFSET] = 0x100;
	for (uint32_t k = 0; k < 4; k++) {
		uint32_t t = 3 + k, data = 0x120 + 0x10 * k;
		im.eeprom[0x101 + 2 * k] = (uint16_t)t;
		im.eeprom[0x102 + 2 * k] = (uint16_t)data;
		im.eeprom[data] = 0;                    /* the word at the offset itself is skipped */
		for (uint32_t i = 0; i < SEQ_LEN; i++)
			im.eeprom[data + 1 + i] = im_sfp_seq_word(t, i);
	}
}

void im_sfp_insert(bool direct_attach)
{
	memset(im.sfp, 0, sizeof(im.sfp));
	im.sfp[0] = 0x03;                       /* identifier: SFP/SFP+ */
	im.sfp[3] = direct_attach ? 0 : 0x10;   /* 10G compliance: 10GBASE-SR */
	im.sfp[8] = direct_attach ? 0x04 : 0;   /* cable technology: passive direct attach */
	im.sfp_present = true;
	im.sfp_configured = false;
	im.core_ok = 0;
}

/* The SFP type the shared code derives from the module (port 0): what CORECTL must get. */
static uint32_t sfp_type(void) { return im.sfp[8] & 0x04 ? 3 : 5; }

/* Power-on / reset values the driver depends on (8.2.3): the MAC loaded from the EEPROM into
 * RAL0/RAH0 with AV, every interrupt masked, EEC.ARD and RDRXCTL.DMAIDONE clear until done; DCA
 * bit 12 and the relaxed-ordering bits set. A link reset (LNK_RST, power-on) also loads the link
 * set-up from the EEPROM: AUTOC, AUTOC2 with LINK_DISABLE, ESDP with the laser off; a software
 * reset (RST alone) leaves the link running (ixgbe_82599.c ixgbe_reset_hw_82599). */
static void reset_regs(bool link)
{
	uint32_t autoc = R(IXGBE_AUTOC), autoc2 = R(IXGBE_AUTOC2), esdp = R(IXGBE_ESDP);
	memset(im.reg, 0, sizeof(im.reg));
	iadv_mtx_reset(im.txq, IM_NQ);  /* the contexts and any frame half gathered go with the rings */
	R(IXGBE_RAL0) = im_mac[0] | im_mac[1] << 8 | im_mac[2] << 16 | (uint32_t)im_mac[3] << 24;
	R(IXGBE_RAH0) = im_mac[4] | im_mac[5] << 8 | IXGBE_RAH_AV;
	R(IXGBE_RDRXCTL) = 0x00000880;          /* reset value per 8.2.3.8.8 minus DMAIDONE */
	for (uint32_t i = 0; i < IADV_MTA_LEN; i++)
		R(IADV_MTA(i)) = IADV_MODEL_MTA_JUNK;
	for (uint32_t q = 0; q < NQ; q++) {
		R(IXGBE_SRRCTL(q)) = 0x00000402;        /* 2 KiB buffers, legacy descriptors */
		R(IXGBE_DCA_RXCTRL(q)) = 1u << 9 | IXGBE_DCA_RXCTRL_BIT12 | IXGBE_DCA_RXCTRL_DATA_WRO |
					 IXGBE_DCA_RXCTRL_HEAD_WRO;
		R(IXGBE_DCA_TXCTRL(q)) = 1u << 9 | IXGBE_DCA_TXCTRL_DESC_WRO | 1u << 13;
	}
	im.secrx_dis_at_us = 0;
	if (link) {
		R(IXGBE_AUTOC) = 0x2u << 13;    /* the EEPROM's link mode: 1 Gb/s auto-negotiation */
		R(IXGBE_AUTOC2) = IXGBE_AUTOC2_LINK_DISABLE_MASK;
		R(IXGBE_ESDP) = IXGBE_ESDP_SDP3 | IXGBE_ESDP_SDP3 << 8;  /* SDP3 an output, laser dark */
		im.lms_run = R(IXGBE_AUTOC) & IXGBE_AUTOC_LMS_MASK;
		im.link_at = 0;
		im.pipe_on = false;
	} else {
		R(IXGBE_AUTOC) = autoc, R(IXGBE_AUTOC2) = autoc2, R(IXGBE_ESDP) = esdp;
	}
}

static bool link_up(void)
{
	return im.cable && im.sfp_present && im.sfp_configured && !(R(IXGBE_ESDP) & IXGBE_ESDP_SDP3) &&
	       !(R(IXGBE_AUTOC2) & IXGBE_AUTOC2_LINK_DISABLE_MASK) && im.lms_run == IXGBE_AUTOC_LMS_10G_SFI &&
	       im.link_at && im.ticks >= im.link_at;
}

/* The SFP+ cage's I2C bus as the 82599 bit-bangs it through I2CCTL (ixgbe_phy.c
 * ixgbe_read_i2c_byte_generic): start, 0xA0, offset, repeated start, 0xA1, the byte, no-ack,
 * stop. The module drives SDA low for its acks and its data bits; the line is the AND. */
enum { I2C_IDLE, I2C_RX, I2C_ACK, I2C_TX, I2C_MACK };
static void i2c_write(uint32_t v)
{
	uint8_t scl = (v & IXGBE_I2C_CLK_OUT) != 0, sda = (v & IXGBE_I2C_DATA_OUT) != 0;
	uint8_t line = sda & im.i2c.slave_sda;
	if (im.i2c.scl && scl && im.i2c.sda != sda) {
		if (!sda)               /* start (or repeated start) */
			im.i2c.st = I2C_RX, im.i2c.nbits = 0, im.i2c.byte = 0, im.i2c.addr_next = 1;
		else
			im.i2c.st = I2C_IDLE;
		im.i2c.slave_sda = 1;
	} else if (!im.i2c.scl && scl) {                /* rising: the receiver samples */
		if (im.i2c.st == I2C_RX)
			im.i2c.byte = (uint8_t)(im.i2c.byte << 1 | line), im.i2c.nbits++;
		else if (im.i2c.st == I2C_MACK)
			im.i2c.macked = line == 0;
	} else if (im.i2c.scl && !scl) {                /* falling: the transmitter moves on */
		switch (im.i2c.st) {
		case I2C_RX:
			if (im.i2c.nbits < 8)
				break;
			if (im.i2c.addr_next) {
				if ((im.i2c.byte & 0xfe) != 0xa0 || !im.sfp_present) {
					im.i2c.st = I2C_IDLE;
					break;
				}
				im.i2c.read = im.i2c.byte & 1;
				im.i2c.addr_next = 0;
			} else {
				im.i2c.ptr = im.i2c.byte;
			}
			im.i2c.st = I2C_ACK, im.i2c.slave_sda = 0;
			break;
		case I2C_ACK:
			im.i2c.nbits = 0, im.i2c.byte = 0;
			if (im.i2c.read) {
				im.i2c.st = I2C_TX;
				im.i2c.slave_sda = im.sfp[im.i2c.ptr] >> 7 & 1;
			} else {
				im.i2c.st = I2C_RX, im.i2c.slave_sda = 1;
			}
			break;
		case I2C_TX:
			if (++im.i2c.nbits == 8) {
				im.i2c.st = I2C_MACK, im.i2c.slave_sda = 1, im.i2c.ptr++;
			} else {
				im.i2c.slave_sda = im.sfp[im.i2c.ptr] >> (7 - im.i2c.nbits) & 1;
			}
			break;
		case I2C_MACK:
			im.i2c.nbits = 0;
			if (im.i2c.macked) {
				im.i2c.st = I2C_TX;
				im.i2c.slave_sda = im.sfp[im.i2c.ptr] >> 7 & 1;
			} else {
				im.i2c.st = I2C_IDLE;
			}
			break;
		}
	}
	im.i2c.scl = scl, im.i2c.sda = sda;
	R(IXGBE_I2CCTL) = v;
}

static uint32_t i2c_read(void)
{
	uint32_t v = R(IXGBE_I2CCTL) & (IXGBE_I2C_CLK_OUT | IXGBE_I2C_DATA_OUT);
	return v | (im.i2c.scl ? IXGBE_I2C_CLK_IN : 0) | (im.i2c.sda && im.i2c.slave_sda ? IXGBE_I2C_DATA_IN : 0);
}

/* A CORECTL word: the module's sequence configures the analog core only whole and in order (its
 * first word starts it over, as a driver configuring the module again does). */
static void corectl_write(uint32_t v)
{
	uint32_t t = sfp_type();
	if (!(R(IXGBE_GSSR) & IXGBE_GSSR_MAC_CSR))
		im.corectl_unlocked++;  /* ixgbe_setup_sfp_modules_82599 holds GSSR's MAC_CSR */
	if (v == im_sfp_seq_word(t, 0)) {
		im.core_ok = 1;
		im.sfp_configured = false;
	} else if (im.core_ok > 0 && im.core_ok < SEQ_LEN && v == im_sfp_seq_word(t, im.core_ok)) {
		im.core_ok++;
	} else {
		im.corectl_wrong++;
		im.sfp_configured = false;
		im.core_ok = 0;
		return;
	}
	if (im.core_ok == SEQ_LEN)
		im.sfp_configured = true;
}

/* AUTOC (8.2.3.22.19): a new link mode takes effect only through a pipeline reset, as the shared
 * code writes it (ixgbe_82599.c prot_autoc_write_82599 then ixgbe_reset_pipeline_82599): LMS[2]
 * toggled with Restart_AN, AN seen leaving state 0 in ANLP1, then the mode with Restart_AN. A
 * Restart_AN with the mode already running restarts the link. */
static void autoc_write(uint32_t v)
{
	uint32_t lms = v & IXGBE_AUTOC_LMS_MASK, cur = R(IXGBE_AUTOC) & IXGBE_AUTOC_LMS_MASK;
	if (!(v & IXGBE_AUTOC_AN_RESTART))
		return;
	if (!im.pipe_on && lms == (cur ^ IXGBE_AUTOC_LMS_BIT2)) {
		im.pipe_on = true;
		im.pipe_at_us = im_now_us();
		im.pipe_lms = cur;
		return;
	}
	if (im.pipe_on && lms == im.pipe_lms && im_now_us() >= im.pipe_at_us + IM_AN_STATE_US)
		im.lms_run = lms;
	im.pipe_on = false;
	if (lms == im.lms_run)
		im.link_at = im.ticks + 40;
}

static void tick(void)
{
	im.ticks++;
	if (im.reset_done_at && im.ticks == im.reset_done_at)
		R(IXGBE_CTRL) &= ~(IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
}

/* EEC.ARD comes 100 ticks after the reset completes, DMAIDONE 300 ticks after; LINKS once AN is
 * done. (Long enough that a driver skipping a wait writes too early and is caught.) */
static bool ard_done(void) { return !resetting() && im.reset_done_at && im.ticks >= im.reset_done_at + 100; }
static bool dma_done(void) { return !resetting() && im.reset_done_at && im.ticks >= im.reset_done_at + 300; }

static uint32_t reg_read(uint32_t off)
{
	uint32_t v = R(off);
	switch (off) {
	case IXGBE_EEC:
		return ard_done() ? v | IXGBE_EEC_ARD : v;
	case IXGBE_RDRXCTL:
		return dma_done() ? v | IXGBE_RDRXCTL_DMAIDONE : v;
	case IXGBE_LINKS:
		return link_up() ? IXGBE_LINKS_UP | 3u << IXGBE_LINKS_SPEED_SHIFT : 0;
	case IXGBE_SECRXSTAT:
		return (R(IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS) && im_now_us() >= im.secrx_dis_at_us + IM_SECRX_RDY_US
			       ? IXGBE_SECRXSTAT_RDY : 0;
	case IXGBE_STATUS:
		/* Master requests drain once GIO master disable is set, unless they are stuck. */
		return v | (im.gio_stuck || !(R(IXGBE_CTRL) & IXGBE_CTRL_GIO_MASTER_DISABLE) ? IXGBE_STATUS_GIO_MASTER_ENABLE : 0);
	case IXGBE_ANLP1:
		return im.pipe_on && im_now_us() >= im.pipe_at_us + IM_AN_STATE_US ? 0x1u << 16 : 0;
	case IXGBE_I2CCTL:
		return i2c_read();
	case IXGBE_SWSM:
		R(off) |= IXGBE_SWSM_SMBI;      /* a read that finds SMBI clear takes it */
		return v;
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
		im.dma_outside++;
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

static void tx_out(const uint8_t *data, uint32_t len, uint32_t q)
{
	struct im_txframe *f = &im.out[im.nout++ % 256];
	f->len = len < 60 && (R(IXGBE_HLREG0) & IXGBE_HLREG0_TXPADEN) ? 60 : len;
	memset(f->data, 0, sizeof(f->data));
	memcpy(f->data, data, len < sizeof(f->data) ? len : sizeof(f->data));
	f->queue = q;
	if (im.wire)
		im.wire(f->data, f->len);
}

/* Transmit: every descriptor from TDH to TDT (7.2.3), through the engine both models share
 * (tests/unit/iadv_model_tx.h: contexts, gathering to EOP, checksums, segmentation), DD written on
 * RS. */
static void model_tx(uint32_t q)
{
	uint32_t base = IXGBE_TXQ(q), n = R(base + IADV_Q_LEN) / 16;
	union iadv_txd *ring = dma((uint64_t)R(base + IADV_Q_BAH) << 32 | R(base + IADV_Q_BAL), 16ull * n);
	if (!ring || !(R(IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE) || !(R(base + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
		return;
	while (R(base + IADV_Q_H) != R(base + IADV_Q_T)) {
		uint32_t h = R(base + IADV_Q_H);
		union iadv_txd *d = &ring[h];
		uint32_t cmd = d->rd.cmd_type_len;
		const uint8_t *src = (cmd & (0xfu << 20)) == IADV_TXD_DTYP_CTXT ? NULL : dma(d->rd.addr, cmd & 0xffff);
		if (iadv_mtx_desc(&im.tx, &im.txq[q], q, d, src)) {
			im.tx_frames++;
			if (cmd & IADV_TXD_RS)
				d->wb.status |= IADV_TXD_STAT_DD;
		}
		R(base + IADV_Q_H) = (h + 1) % n;
	}
}

static void reg_write(uint32_t off, uint32_t v)
{
	uint32_t q;
	if (resetting()) {
		im.write_in_reset++;    /* 4.6.3.2: no access until the reset is done */
		return;
	}
	bool any_rst = off == IXGBE_CTRL && (v & (IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST));
	if (im.setup_lost && off != IXGBE_CTRL) {       /* CTRL answers: it is how the driver recovers */
		im.writes_lost++;
		return;
	}
	if (!any_rst && im.rst_on && im_now_us() < im.rst_at_us + IM_RESET_WAIT_US) {
		/* 4.6.3.2: wait 10 ms after the reset before programming the device. */
		im.early_after_reset++;
		im.rst_on = false;      /* counted once per reset */
	}
	if (!any_rst && im.need_second_reset && off != IXGBE_CTRL) {
		/* 5.2.5.3.2 as ixgbe_common.c ixgbe_disable_pcie_primary reads it: completions that
		 * were pending at the reset need a second CTRL.RST to clear their effects. */
		im.one_reset_after_gio++;
		im.need_second_reset = false;
	}
	/* 4.6.3: the EEPROM loads the MAC and link set-up, then the DMA initializes; settings written
	 * before are overwritten (the model counts it and drops them). */
	if (!ard_done() && (off == IXGBE_AUTOC || off == IXGBE_RAL0 || off == IXGBE_RAH0)) {
		im.before_init++;
		return;
	}
	if (!dma_done() && off >= IXGBE_RXQ(0) && off < IXGBE_RXQ(NQ)) {
		im.before_init++;
		return;
	}
	switch (off) {
	case IXGBE_CTRL:
		if (v & (IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST)) {
			/* ixgbe_82599.c ixgbe_reset_hw_82599: LNK_RST with the link up may reset the PHY
			 * under the management firmware's feet: a software reset then. */
			if ((v & IXGBE_CTRL_LNK_RST) && link_up())
				im.lnk_rst_link_up++;
			im.need_second_reset = im.gio_stuck;   /* a second reset clears it */
			im.gio_stuck = false;   /* the reset stops new requests */
			reset_regs((v & IXGBE_CTRL_LNK_RST) != 0);
			im.rst_at_us = im_now_us();
			im.rst_on = true;
			R(IXGBE_CTRL) = v & (IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
			im.reset_done_at = im.stuck_reset ? UINT64_MAX : im.ticks + 50;
			im.setup_lost = false;
			im.driver_resets++;
			return;
		}
		break;
	case IXGBE_EIMC:
		R(IXGBE_EIMS) &= ~v;
		return;
	case IXGBE_EIMS:
		if (v)
			im.irq_unmasked++;
		R(IXGBE_EIMS) |= v;
		return;
	case IXGBE_AUTOC:
		autoc_write(v);
		v &= ~IXGBE_AUTOC_AN_RESTART;   /* self-clearing */
		break;
	case IXGBE_EERD:
		if (v & IXGBE_EERD_START) {
			uint32_t a = (v >> IXGBE_EERD_ADDR_SHIFT) & 0x3fff;
			v = (v & ~IXGBE_EERD_START) | IXGBE_EERD_DONE |
			    (uint32_t)(a < 0x200 ? im.eeprom[a] : 0xffff) << IXGBE_EERD_DATA_SHIFT;
		}
		break;
	case IXGBE_CORECTL:
		corectl_write(v);
		break;
	case IXGBE_I2CCTL:
		i2c_write(v);
		return;
	case IXGBE_SECRXCTRL:
		if ((v & IXGBE_SECRXCTRL_RX_DIS) && !(R(IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS))
			im.secrx_dis_at_us = im_now_us();
		break;
	case IXGBE_RXCTRL:
		if ((v & IXGBE_RXCTRL_RXEN) && !(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN)) {
			if (!(R(IXGBE_SECRXCTRL) & IXGBE_SECRXCTRL_RX_DIS))
				im.rxen_without_secrx_dis++;
			else if (!(reg_read(IXGBE_SECRXSTAT) & IXGBE_SECRXSTAT_RDY))
				im.rxen_before_secrx_rdy++;     /* ixgbe_common.c: up to 40 ms */
			bool any = false;
			for (uint32_t i = 0; i < NQ; i++)
				any |= (R(IXGBE_RXQ(i) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE) != 0;
			if (!any)
				im.rxen_before_queues++;
			if (!(R(IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP) != !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_CRCSTRIP))
				im.crcstrip_mismatch++;
			if ((R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_RSCFRSTSIZE) || !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_RSCACKC) ||
			    !(R(IXGBE_RDRXCTL) & IXGBE_RDRXCTL_FCOE_WRFIX))
				im.rdrxctl_must_be++;
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
			im.rxq_enable_refused++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
		if ((R(IXGBE_SRRCTL(q)) & (7u << 25)) != IXGBE_SRRCTL_ADV_ONEBUF && (v & IADV_Q_DCTL_ENABLE))
			im.bad_desctype++;
		/* 4.6.7 (iPXE intelx_open): with DCA_RXCTRL bit 12 set received data is garbage. */
		if ((v & IADV_Q_DCTL_ENABLE) && (R(IXGBE_DCA_RXCTRL(q)) & IXGBE_DCA_RXCTRL_BIT12)) {
			im.dca_bit12++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
		/* ixgbe_common.c ixgbe_start_hw_gen2 turns write relaxed ordering off: a write-back may
		 * otherwise pass the data it describes. */
		if ((v & IADV_Q_DCTL_ENABLE) &&
		    (R(IXGBE_DCA_RXCTRL(q)) & (IXGBE_DCA_RXCTRL_DATA_WRO | IXGBE_DCA_RXCTRL_HEAD_WRO)))
			im.relaxed_order++;
	} else if (q_of(off, IXGBE_TXQ(0), IADV_Q_DCTL, &q)) {
		/* 4.6.8: TXDCTL.ENABLE after DMATXCTL.TE, and only with a ring. */
		uint32_t b = IXGBE_TXQ(q), len = R(b + IADV_Q_LEN);
		if ((v & IADV_Q_DCTL_ENABLE) && (!(R(IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE) || len == 0 || len % 128)) {
			im.txq_enable_refused++;
			v &= ~IADV_Q_DCTL_ENABLE;
		}
		if ((v & IADV_Q_DCTL_ENABLE) && (R(IXGBE_DCA_TXCTRL(q)) & IXGBE_DCA_TXCTRL_DESC_WRO))
			im.relaxed_order++;
	} else if (q_of(off, IXGBE_RXQ(0), IADV_Q_T, &q)) {
		uint32_t b = IXGBE_RXQ(q);
		if (v >= R(b + IADV_Q_LEN) / 16) {
			im.tail_refused++;      /* beyond the ring: ignored */
			return;
		}
		if (v != 0 && !(R(b + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE))
			im.rdt_before_enable++; /* 4.6.7.1: buffers are handed over after the enable */
	} else if (q_of(off, IXGBE_TXQ(0), IADV_Q_T, &q)) {
		if (v >= R(IXGBE_TXQ(q) + IADV_Q_LEN) / 16) {
			im.tail_refused++;
			return;
		}
		R(off) = v;
		model_tx(q);
		return;
	}
	R(off) = v;
}

uint64_t im_mmio_read(void *ctx, uint64_t off, int size)
{
	(void)ctx;
	tick();
	assert(size == 4 && off % 4 == 0 && off < IM_BAR_SIZE);
	return reg_read((uint32_t)off);
}

void im_mmio_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	tick();
	assert(size == 4 && off % 4 == 0 && off < IM_BAR_SIZE);
	reg_write((uint32_t)off, (uint32_t)v);
}

/* ---- RSS, as 7.1.2.8 defines it ---- */
uint32_t im_toeplitz(const uint8_t *key, const uint8_t *in, int n)
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

static uint32_t reta_queue(uint32_t hash)
{
	return (R(IADV_RETA((hash & 127) / 4)) >> (8 * (hash & 3))) & 0xf;
}

static void rss_key(uint8_t key[40])
{
	for (int i = 0; i < 40; i++)
		key[i] = (uint8_t)(R(IADV_RSSRK(i / 4)) >> (8 * (i % 4)));
}

uint32_t im_rss_queue(const uint8_t tuple[12], uint32_t *hash_out)
{
	uint8_t key[40];
	rss_key(key);
	uint32_t hash = im_toeplitz(key, tuple, 12);
	if (hash_out)
		*hash_out = hash;
	return reta_queue(hash);
}

/* Receive one frame from the wire (7.1): filter, RSS, then the ring at RDH, or a counted drop. */
int im_rx(const uint8_t *f, uint32_t len, uint32_t *hash_out)
{
	if (!(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN)) {
		im.rx_dropped_disabled++;
		return -1;
	}
	bool bcast = !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6);
	uint8_t mac[6] = { (uint8_t)R(IXGBE_RAL0), (uint8_t)(R(IXGBE_RAL0) >> 8), (uint8_t)(R(IXGBE_RAL0) >> 16),
			   (uint8_t)(R(IXGBE_RAL0) >> 24), (uint8_t)R(IXGBE_RAH0), (uint8_t)(R(IXGBE_RAH0) >> 8) };
	bool mcast = (f[0] & 1) && !bcast;
	/* Multicast with FCTRL.MPE, or through the MTA with MCSTCTRL.MFE at its offset */
	uint32_t mc = R(IXGBE_MCSTCTRL);
	if (mcast && !(R(IXGBE_FCTRL) & IXGBE_FCTRL_MPE) &&
	    !((mc & IXGBE_MCSTCTRL_MFE) && iadv_model_mta_hit(&R(IADV_MTA(0)), mc & IXGBE_MCSTCTRL_MO_MASK, f))) {
		im.rx_dropped_mcast++;
		return -1;
	}
	if (!mcast && !(bcast && (R(IXGBE_FCTRL) & IXGBE_FCTRL_BAM)) &&
	    !((R(IXGBE_RAH0) & IXGBE_RAH_AV) && !memcmp(f, mac, 6))) {
		im.rx_dropped_filter++;
		return -1;
	}
	uint32_t q = 0, hash = 0, type = 0, mrqc = R(IADV_MRQC);
	/* IPv6 (7.1.2.8.1): TcpIPv6 or UdpIPv6 hash the 36-byte tuple of a TCP or UDP header right
	 * after the IPv6 header, IPv6 the addresses of any other (a fragment, ICMPv6, one with
	 * extension headers: what the silicon makes of those without the Ex fields is not modelled,
	 * the addresses are the safe reading), each only when enabled; types 3, 8, 5. */
	bool ip6 = len >= 54 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6;
	if ((mrqc & 0xf) == IXGBE_MRQC_RSS && ip6) {
		uint8_t key[40], in[36];
		rss_key(key);
		memcpy(in, f + 22, 32);
		bool t6 = f[20] == 6 && len >= 54 + 20, u6 = f[20] == 17 && len >= 54 + 8;
		if ((t6 && (mrqc & IADV_MRQC_IPV6_TCP)) || (u6 && (mrqc & IADV_MRQC_IPV6_UDP))) {
			memcpy(in + 32, f + 54, 4);
			hash = im_toeplitz(key, in, 36);
			type = t6 ? 3 : 8;
		} else if (mrqc & IADV_MRQC_IPV6) {
			hash = im_toeplitz(key, in, 32);
			type = 5;
		}
		if (type)
			q = reta_queue(hash);
	}
	bool ip4 = len >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4 && (f[14] & 0xf) >= 5;
	uint32_t ihl = ip4 ? (f[14] & 0xfu) * 4 : 0, tot = ip4 ? (uint32_t)f[16] << 8 | f[17] : 0;
	ip4 = ip4 && tot >= ihl && 14 + tot <= len;
	bool tcp = ip4 && f[23] == 6 && tot >= ihl + 20, udp = ip4 && f[23] == 17 && tot >= ihl + 8;
	if ((mrqc & 0xf) == IXGBE_MRQC_RSS && ip4) {
		uint8_t key[40], in[12];
		rss_key(key);
		memcpy(in, f + 26, 8);
		int n = 8;
		if ((tcp && (mrqc & IADV_MRQC_IPV4_TCP)) || (udp && (mrqc & IADV_MRQC_IPV4_UDP))) {
			memcpy(in + 8, f + 14 + ihl, 4);
			n = 12;
			type = tcp ? 1 : 7;
		} else if (mrqc & IADV_MRQC_IPV4) {
			type = 2;
		}
		if (type) {
			hash = im_toeplitz(key, in, n);
			q = reta_queue(hash);
		}
	}
	if (hash_out)
		*hash_out = hash;
	uint32_t b = IXGBE_RXQ(q), n = R(b + IADV_Q_LEN) / 16;
	if (!(R(b + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE) || n == 0) {
		im.rx_dropped_disabled++;
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
		/* The L4 checksum over what the IP header says is L4 (Ethernet padding is not). */
		uint32_t l4len = tot - ihl;
		uint32_t s = csum16(0, f + 26, 8) + (uint32_t)f[23] + l4len;
		status = IADV_RXD_L4CS | (csum16(s, f + 14 + ihl, l4len) == 0xffff ? 0 : IXGBE_RXD_ERR_L4E);
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
	im.rx_frames++;
	return (int)q;
}

void im_lose_setup(void)
{
	reset_regs(true);
	im.sfp_configured = false;
	im.core_ok = 0;
	im.reset_done_at = im.ticks;    /* the outside reset is over; EEPROM and DMA init follow */
	im.setup_lost = true;
	im.outside_resets++;
}

void im_init(uint64_t bar0)
{
	memset(&im, 0, sizeof(im));
	im.tx = (struct iadv_mtx){ .max_data = IADV_TX_MAX_DATA, .need_cc = true, .out = tx_out };
	reset_regs(true);
	eeprom_init();
	im_sfp_insert(false);
	im.i2c.scl = im.i2c.sda = im.i2c.slave_sda = 1;
	R(IXGBE_EIMS) = 0x7fffffff;     /* as firmware might leave it */
	im.reset_done_at = 1;           /* powered up long ago */
	im.ticks = 2;
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ bar0, IM_BAR_SIZE, im_mmio_read, im_mmio_write, NULL });
}

int im_violations(void)
{
	return im.write_in_reset + im.irq_unmasked + im.rxq_enable_refused + im.txq_enable_refused + im.tail_refused +
	       im.rdt_before_enable + im.rxen_without_secrx_dis + im.rxen_before_queues + im.crcstrip_mismatch +
	       im.rdrxctl_must_be + im.tx.zero_len + im.tx.no_cc + im.bad_desctype + im.dma_outside +
	       im.before_init + im.dca_bit12 + im.relaxed_order + im.rxen_before_secrx_rdy + im.lnk_rst_link_up +
	       im.one_reset_after_gio + im.early_after_reset + im.corectl_wrong + im.corectl_unlocked +
	       im.tx.tso_refused + im.tx.ip_type_bad;
}
