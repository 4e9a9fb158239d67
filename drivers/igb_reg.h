/* Intel 82576 (igb) registers Pollux touches: offset, access, and the datasheet section
 * (82576EB GbE Controller Datasheet, rev. 2.x, chapter 8; where no section is given, the offset and
 * bits are Linux igb's e1000_regs.h / e1000_defines.h). Descriptors: drivers/intel_adv.h. */
#ifndef POLLUX_IGB_REG_H
#define POLLUX_IGB_REG_H

#define IGB_VENDOR 0x8086

#define IGB_CTRL 0x0000                 /* RW, device control, 8.2.1 */
#define IGB_CTRL_GIO_MASTER_DISABLE (1u << 2)
#define IGB_CTRL_LRST (1u << 3)         /* link reset: held until software clears it */
#define IGB_CTRL_SLU (1u << 6)          /* set link up */
#define IGB_CTRL_RST (1u << 26)         /* software reset, self-clearing */
#define IGB_STATUS 0x0008               /* RO, device status, 8.2.2 */
#define IGB_STATUS_LU (1u << 1)         /* link up */
#define IGB_STATUS_FUNC_MASK (3u << 2)  /* LAN port of this function (Linux E1000_STATUS_FUNC_MASK) */
#define IGB_STATUS_FUNC_SHIFT 2
#define IGB_STATUS_SPEED_SHIFT 6        /* bits 7:6: 00 10, 01 100, 1x 1000 Mb/s */
#define IGB_STATUS_GIO_MASTER_ENABLE (1u << 19)
#define IGB_EECD 0x0010                 /* RW, EEPROM control, 8.4.1 */
#define IGB_EECD_PRES (1u << 8)         /* an EEPROM is present */
#define IGB_EECD_AUTO_RD (1u << 9)      /* EEPROM auto-read done */
#define IGB_MDIC 0x0020                 /* RW, MDI (PHY register) control, 8.2.4 */
#define IGB_MDIC_REG_SHIFT 16
#define IGB_MDIC_PHY_SHIFT 21
#define IGB_MDIC_OP_WRITE (1u << 26)
#define IGB_MDIC_OP_READ (2u << 26)
#define IGB_MDIC_READY (1u << 28)
#define IGB_MDIC_ERROR (1u << 30)
#define IGB_PHY_ADDR 1                  /* the internal PHY */
#define IGB_PHY_BMCR 0                  /* PHY control (IEEE 802.3 clause 22) */
#define IGB_BMCR_ANRESTART (1u << 9)
#define IGB_BMCR_PDOWN (1u << 11)       /* power down: no link until cleared */
#define IGB_BMCR_AUTOEN (1u << 12)
#define IGB_IMS 0x00D0                  /* RW, interrupt mask set (never written non-zero) */
#define IGB_IMC 0x00D8                  /* WO, interrupt mask clear, 8.8.7 */
#define IGB_EEMNGCTL 0x1010             /* RO here, manageability EEPROM control (Linux E1000_EEMNGCTL) */
#define IGB_EEMNGCTL_CFG_DONE0 (1u << 18)  /* port 0's configuration cycle done (Linux
					    * E1000_NVM_CFG_DONE_PORT_0) */
#define IGB_EEMNGCTL_CFG_DONE1 (1u << 19)  /* port 1's */
#define IGB_EIMS 0x1524                 /* RW, extended interrupt mask set (never written non-zero) */
#define IGB_EIMC 0x1528                 /* WO, extended interrupt mask clear, 8.8.11 */
#define IGB_SWSM 0x5B50                 /* RW, software semaphore (Linux E1000_SWSM) */
#define IGB_SWSM_SMBI (1u << 0)         /* set by the device when read while clear: taken */
#define IGB_SWSM_SWESMBI (1u << 1)      /* software/firmware semaphore: ours when it reads back */
#define IGB_SW_FW_SYNC 0x5B5C           /* RW, software-firmware synchronization (Linux
					 * E1000_SW_FW_SYNC): bits 15:0 software's, 31:16 firmware's */
#define IGB_SWFW_PHY0_SM (1u << 1)      /* port 0's PHY */
#define IGB_SWFW_PHY1_SM (1u << 2)      /* port 1's PHY */
#define IGB_RCTL 0x0100                 /* RW, receive control, 8.10.1 */
#define IGB_RCTL_EN (1u << 1)
#define IGB_RCTL_MPE (1u << 4)          /* accept every multicast, not only the MTA's */
#define IGB_RCTL_MO_MASK (3u << 12)     /* multicast offset: which 12 address bits hash into the MTA;
					 * 0 = bits 47:36 (drivers/intel_adv.h IADV_MTA) */
#define IGB_RCTL_BAM (1u << 15)         /* accept broadcast */
#define IGB_RCTL_SECRC (1u << 26)       /* strip the Ethernet CRC */
#define IGB_TCTL 0x0400                 /* RW, transmit control, 8.12.1 */
#define IGB_TCTL_EN (1u << 1)
#define IGB_TCTL_PSP (1u << 3)          /* pad short packets */
#define IGB_RXCSUM 0x5000               /* RW, receive checksum control, 8.10.17 */
#define IGB_RXCSUM_IPOFLD (1u << 8)
#define IGB_RXCSUM_TUOFLD (1u << 9)
#define IGB_RXCSUM_PCSD (1u << 13)      /* descriptor carries the RSS hash, not a checksum */
#define IGB_MRQC_RSS 0x2                /* MRQC bits 2:0, 8.10.19: RSS, no VMDq */
#define IGB_MRQC_IPV6_TCP_EX (1u << 18) /* TCP over IPv6, also behind extension headers */
#define IGB_RAL0 0x5400                 /* RW, receive address low, 8.10.13 */
#define IGB_RAH0 0x5404                 /* RW, receive address high; AV bit 31 (IADV_RAH_AV) */

/* Queue register blocks, 8.10.5-8.10.10 and 8.12.5-8.12.10: one layout for all 16 queues (queues
 * 0-3 also answer at the 8254x-compatible 0x2800 / 0x3800, not used here). */
#define IGB_RXQ(q) (0xC000 + 0x40 * (q))
#define IGB_TXQ(q) (0xE000 + 0x40 * (q))
#define IGB_SRRCTL(q) (IGB_RXQ(q) + 0x0C)  /* RW, split and replication receive control, 8.10.7 */
#define IGB_SRRCTL_BSIZEPKT_2K 2u       /* bits 6:0, 1 KiB units */
#define IGB_SRRCTL_ADV_ONEBUF (1u << 25)   /* DESCTYPE bits 27:25 = 001 */
#define IGB_SRRCTL_DROP_EN (1u << 31)   /* drop, do not stall, when the queue has no buffer */
#define IGB_RXD_ERR_L4E (1u << 29)      /* advanced RX write-back error bits, 7.1.5.2 */
#define IGB_RXD_ERR_IPE (1u << 30)

/* Statistics, 8.19: clear on read. */
#define IGB_CRCERRS 0x4000              /* RC, CRC errors */
#define IGB_MPC 0x4010                  /* RC, missed packets (no room in the packet buffer) */
#define IGB_RNBC 0x40A0                 /* RC, receive no buffers (a queue's ring was empty) */

#define IGB_MAX_QUEUES 16               /* queue register blocks */
#define IGB_RSS_QUEUES 8                /* queues RSS spreads over (Linux igb.h IGB_MAX_RX_QUEUES) */

#endif
