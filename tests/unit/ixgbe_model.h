/* A host model of the Intel 82599, written from its datasheet (331520): register semantics, the
 * bring-up order it enforces, RX and TX advanced descriptors, RSS per key and RETA, drop counters,
 * link, reset. BAR 0 is answered through the host MMIO hook; the PCI function is the test's. */
#ifndef POLLUX_IXGBE_MODEL_H
#define POLLUX_IXGBE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "iadv_model_tx.h"

#define IM_NQ 64
#define IM_BAR_SIZE 0x20000u

/* A frame the device transmitted (the last 256 are kept). */
struct im_txframe { uint32_t len; uint8_t data[2048]; uint32_t queue; };

struct im_state {
	uint32_t reg[IM_BAR_SIZE / 4];
	uint64_t ticks;                 /* every register access takes time */
	uint64_t reset_done_at;         /* 0: no reset running */
	bool stuck_reset;               /* CTRL.RST never clears */
	bool cable;                     /* a link partner is there */
	uint64_t link_at;               /* auto-negotiation completes then (0: not restarted) */
	/* The SFP+ board (issue 14). The link comes up only when a module is in the cage, its init
	 * sequence from the NIC's EEPROM reached CORECTL, AUTOC2's LINK_DISABLE is clear, the TX
	 * laser is on (ESDP.SDP3 clear), and the MAC runs 10 GbE serial, which an AUTOC write sets
	 * only through a pipeline reset (ixgbe_82599.c ixgbe_reset_pipeline_82599). */
	uint8_t sfp[256];               /* the module's ID EEPROM at I2C address 0xA0 (SFF-8472) */
	bool sfp_present;
	uint16_t eeprom[0x200];         /* the NIC's EEPROM words, read through EERD */
	bool sfp_configured;            /* survives CTRL.RST and LNK_RST; lost at power-on */
	uint32_t core_ok;               /* words of the module's sequence written so far, in order */
	uint32_t lms_run;               /* the link mode the MAC runs */
	bool pipe_on;                   /* a pipeline reset is under way: LMS[2] toggled at pipe_at_us */
	uint64_t pipe_at_us;
	uint32_t pipe_lms;
	struct { uint8_t scl, sda, slave_sda, st, nbits, byte, ptr, read, addr_next, macked; } i2c;
	bool gio_stuck;                 /* PCIe master requests that never drain (STATUS.GIO stays 1) */
	bool need_second_reset;         /* a CTRL.RST came with requests pending (5.2.5.3.2) */
	bool rst_on;                    /* a CTRL reset at rst_at_us, nothing written since */
	uint64_t rst_at_us, secrx_dis_at_us;
	/* Registers back at their power-on values from outside (a function-level reset, a PCIe
	 * error recovery): until the driver's own CTRL.RST, its writes (but to CTRL) find a device that lost
	 * what it was told, and are ignored (counted in writes_lost, not as the driver's faults). */
	bool setup_lost;
	uint64_t writes_lost, outside_resets, driver_resets;
	struct iadv_mtxq txq[IM_NQ];    /* transmit (tests/unit/iadv_model_tx.h) */
	struct iadv_mtx tx;             /* its rules, segmentation counts and faults */
	struct im_txframe out[256];
	uint32_t nout;
	/* When set, every frame the device transmits, as it leaves (a test's peer on the wire). */
	void (*wire)(const uint8_t *f, uint32_t len);
	/* What the driver did wrong, as the datasheet states the rules (im_violations sums them). */
	int write_in_reset, irq_unmasked, rxq_enable_refused, txq_enable_refused, tail_refused;
	int rdt_before_enable, rxen_without_secrx_dis, rxen_before_queues, crcstrip_mismatch;
	int rdrxctl_must_be, bad_desctype, dma_outside;
	int before_init;
	/* Issue 14's items, each counted where the datasheet or the shared code says the device
	 * misbehaves (named in test_ixgbe's output). */
	int dca_bit12, relaxed_order, rxen_before_secrx_rdy, lnk_rst_link_up, one_reset_after_gio;
	int early_after_reset, corectl_wrong, corectl_unlocked;
	int rx_dropped_filter, rx_dropped_disabled;
	int rx_dropped_mcast;           /* multicast neither FCTRL.MPE nor the MTA let through */
	uint64_t rx_frames, tx_frames;
};
extern struct im_state im;
#define IM_R(off) im.reg[(off) / 4]
extern const uint8_t im_mac[6];         /* the MAC the EEPROM loads */

/* Model time: the host counter in microseconds (every wait of the driver reads it). */
uint64_t im_now_us(void);
#define IM_RESET_WAIT_US 10000          /* after CTRL.RST, 4.6.3.2 (the shared code waits 50 ms) */
#define IM_SECRX_RDY_US 25000           /* SECRXSTAT.RDY after RX_DIS: within the shared code's 40 ms */
#define IM_AN_STATE_US 3000             /* ANLP1 leaves AN state 0 after a pipeline reset's toggle */
/* The two modules the tests plug in: 10GBASE-SR (fiber) and a passive direct-attach cable. */
void im_sfp_insert(bool direct_attach);
/* The CORECTL words the EEPROM holds for SFP type t (ixgbe_type.h enum ixgbe_sfp_type). */
uint16_t im_sfp_seq_word(uint32_t t, uint32_t i);
/* Power-on state, powered up long ago; BAR 0 answered at bar0 (IM_BAR_SIZE bytes). An SR module
 * is in the cage, the laser off and LINK_DISABLE set (as a fiber board's EEPROM loads them). */
void im_init(uint64_t bar0);
/* The BAR 0 register access as the host MMIO hook calls it (4-byte aligned, 4 bytes). */
uint64_t im_mmio_read(void *ctx, uint64_t off, int size);
void im_mmio_write(void *ctx, uint64_t off, int size, uint64_t v);
/* Receive one frame from the wire (7.1): filter, RSS, then the ring at RDH. Returns the RX queue
 * it went to; -1 filtered or receive off, -2 no descriptor (counted in QPRDC or MPC), -3 ran out
 * mid-frame. *hash_out (may be NULL): the RSS hash. */
int im_rx(const uint8_t *f, uint32_t len, uint32_t *hash_out);
/* The Toeplitz hash of in[0..n) with key (7.1.2.8). */
uint32_t im_toeplitz(const uint8_t *key, const uint8_t *in, int n);
/* The RX queue the device's RSS (RSSRK, RETA, MRQC) gives an IPv4 TCP 4-tuple (12 bytes: source,
 * destination address, source, destination port, network order); *hash_out the hash. */
uint32_t im_rss_queue(const uint8_t tuple[12], uint32_t *hash_out);
/* Every register back to its power-on value from outside the driver (see setup_lost). */
void im_lose_setup(void);
/* The driver's faults counted so far. */
int im_violations(void);

#endif
