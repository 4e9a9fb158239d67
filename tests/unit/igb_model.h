/* A host model of the Intel 82576 (igb) of what the driver's bring-up touches, written from the
 * 82576 datasheet's register descriptions and the order Linux's igb (e1000_82575.c, e1000_mac.c,
 * e1000_phy.c) follows: reset timing on the kernel's counter, the EEPROM auto-read and the
 * management configuration cycle (EEMNGCTL.CFG_DONE), the SW/FW semaphore (SWSM, SW_FW_SYNC)
 * around PHY access through MDIC, the copper PHY's power-down bit, link, queue enables and RSS;
 * transmit descriptors with checksum and segmentation offload (the engine of the 82599's model).
 * Time is the host counter (host_clock, 1 ns per tick): every register access takes ACCESS_NS. */
#ifndef POLLUX_IGB_MODEL_H
#define POLLUX_IGB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "iadv_model_tx.h"

#define GM_BAR_SIZE 0x20000u
#define GM_NQ 16
#define GM_ACCESS_NS 200                /* one register access over PCIe */

struct gm_state {
	uint32_t reg[GM_BAR_SIZE / 4];
	uint16_t phy[32];               /* the internal PHY's registers (clause 22) */
	uint8_t func;                   /* PCI function: port 0 or 1 of a dual-port board */
	bool cable;                     /* a link partner is there */
	/* The rules, each on by gm_init; a test turns the others off to try one alone. */
	uint64_t cfg_done_ns;           /* EEMNGCTL.CFG_DONE this long after CTRL.RST */
	uint64_t fw_phy_ns;             /* the firmware holds the PHY's semaphore this long after it */
	bool sem_required;              /* MDIC refused without the PHY's SW/FW semaphore */
	uint64_t reset_at;              /* host_clock when CTRL.RST was written (0: never) */
	uint64_t quiet_since;           /* when RCTL.EN and TCTL.EN were last both off */
	uint64_t link_at;               /* auto-negotiation completes then (0: not running) */
	uint64_t fw_phy_until;          /* the firmware holds the PHY semaphore until then */
	/* What the driver did wrong (gm_violations sums them), each a rule the model refuses. */
	int access_in_reset;            /* a register access < 1 ms after CTRL.RST */
	int reset_not_quiet;            /* CTRL.RST < 10 ms after receive and transmit were stopped */
	int mdic_before_cfg_done;       /* MDIC before EEMNGCTL.CFG_DONE: refused, MDIC.E */
	int mdic_without_sem;           /* MDIC without the PHY's SW/FW semaphore: refused, MDIC.E */
	int swfw_without_swsm;          /* SW_FW_SYNC written without holding SWSM.SWESMBI */
	int swfw_took_fw;               /* SW_FW_SYNC written claiming a resource the firmware holds */
	int an_while_powered_down;      /* auto-negotiation restarted with BMCR.PDOWN set */
	int irq_unmasked, q_enable_refused, tail_refused, reta_beyond_rss;
	int mdic_ops;                   /* PHY accesses the model performed */
	/* Transmit (tests/unit/iadv_model_tx.h, shared with the 82599's model): frames sent, the
	 * last 256 kept; a descriptor address that is not memory counts in dma_outside. */
	struct iadv_mtxq txq[GM_NQ];
	struct iadv_mtx tx;
	struct gm_txframe { uint32_t len; uint8_t data[2048]; uint32_t queue; } out[256];
	uint32_t nout;
	int dma_outside;
};
extern struct gm_state gm;
#define GM_R(off) gm.reg[(off) / 4]
extern const uint8_t gm_mac[6];         /* the MAC the EEPROM loads */

/* Power-on state (PHY powered down, as a previous driver or the firmware left it), BAR 0
 * answered at bar0 through the host MMIO hook; port func of the board. */
void gm_init(uint64_t bar0, uint8_t func);
/* The driver's faults counted so far. */
int gm_violations(void);
/* Whether the link is up now, as STATUS.LU reports it. */
bool gm_link(void);
/* Whether the 82576's receive filter (RCTL.EN aside) takes a frame to dst: broadcast with
 * RCTL.BAM, multicast with RCTL.MPE or a set MTA bit (RCTL.MO), unicast to receive address 0
 * (RAH.AV) or with RCTL.UPE. */
bool gm_rx_accepts(const uint8_t dst[6]);
#define GM_RCTL_UPE (1u << 3)           /* unicast promiscuous (Linux E1000_RCTL_UPE) */
/* The queue the 82576's RSS (MRQC, RSSRK, RETA) gives frame f[0..len), and its hash; -1 when no
 * enabled hash applies (the frame goes to the default queue, 0). */
int gm_rss_queue(const uint8_t *f, uint32_t len, uint32_t *hash_out);

#endif
