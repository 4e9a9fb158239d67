/* Intel 82599 (ixgbe) registers Pollux touches: offset, access, and the section of the 82599 10 GbE
 * Controller Datasheet (331520) that defines them. Descriptors: drivers/intel_adv.h. */
#ifndef POLLUX_IXGBE_REG_H
#define POLLUX_IXGBE_REG_H

#define IXGBE_VENDOR 0x8086

#define IXGBE_CTRL 0x00000              /* RW, device control, 8.2.3.1.1 */
#define IXGBE_CTRL_GIO_MASTER_DISABLE (1u << 2)
#define IXGBE_CTRL_LNK_RST (1u << 3)    /* link reset, self-clearing */
#define IXGBE_CTRL_RST (1u << 26)       /* device reset, self-clearing */
#define IXGBE_STATUS 0x00008            /* RO, device status, 8.2.3.1.2 */
#define IXGBE_STATUS_LAN_ID_SHIFT 2     /* bits 3:2: which port of the chip this function is */
#define IXGBE_STATUS_GIO_MASTER_ENABLE (1u << 19)
#define IXGBE_CTRL_EXT 0x00018          /* RW, extended device control, 8.2.3.1.3 */
#define IXGBE_CTRL_EXT_NS_DIS (1u << 16)   /* no-snoop disable: every DMA is snooped */
#define IXGBE_EEC 0x10010               /* RW, EEPROM/flash control, 8.2.3.2.1 */
#define IXGBE_EEC_ARD (1u << 9)         /* EEPROM auto-read done */
#define IXGBE_EERD 0x10014              /* RW, EEPROM read (offset and bits: ixgbe_type.h) */
#define IXGBE_EERD_START (1u << 0)
#define IXGBE_EERD_DONE (1u << 1)
#define IXGBE_EERD_ADDR_SHIFT 2         /* word address, bits 15:2 */
#define IXGBE_EERD_DATA_SHIFT 16
#define IXGBE_EE_PHY_INIT_OFFSET 0x2B   /* EEPROM word: where the SFP+ init sequences are listed */
#define IXGBE_EE_LIST_END 0xFFFF        /* ends the list and each sequence */
#define IXGBE_ESDP 0x00020              /* RW, extended SDP control (ixgbe_type.h) */
#define IXGBE_ESDP_SDP3 (1u << 3)       /* fiber boards: TX laser disable (1 = dark) */
#define IXGBE_I2CCTL 0x00028            /* RW, I2C bit-banged to the SFP+ cage (ixgbe_type.h) */
#define IXGBE_I2C_CLK_IN (1u << 0)
#define IXGBE_I2C_CLK_OUT (1u << 1)
#define IXGBE_I2C_DATA_IN (1u << 2)
#define IXGBE_I2C_DATA_OUT (1u << 3)
#define IXGBE_CORECTL 0x14F00           /* WO, analog core configuration the EEPROM's SFP+ words go to */
#define IXGBE_SWSM 0x10140              /* RW, software semaphore (ixgbe_type.h) */
#define IXGBE_SWSM_SMBI (1u << 0)       /* between drivers: a read that finds it 0 sets it */
#define IXGBE_SWSM_SWESMBI (1u << 1)    /* between software and firmware: set it, read it back */
#define IXGBE_GSSR 0x10160              /* RW, SW/FW synchronization: a resource's bit, firmware's << 5 */
#define IXGBE_GSSR_MAC_CSR (1u << 3)    /* MAC registers (CORECTL, AUTOC) */
#define IXGBE_GSSR_FW_SHIFT 5
#define IXGBE_MMNGC 0x042D0             /* RO, MAC manageability control (ixgbe_type.h) */
#define IXGBE_MMNGC_MNG_VETO (1u << 0)  /* firmware forbids link resets and AUTOC changes */

/* The SFP+ module's ID EEPROM (SFF-8472) at I2C address 0xA0, as ixgbe_phy.h names its bytes. */
#define SFP_I2C_ADDR 0xA0
#define SFP_IDENTIFIER 0x00             /* 0x03: SFP/SFP+ */
#define SFP_IDENTIFIER_SFP 0x03
#define SFP_10GBE_COMP 0x03             /* bit 4 10GBASE-SR, bit 5 10GBASE-LR */
#define SFP_10GBASESR (1u << 4)
#define SFP_10GBASELR (1u << 5)
#define SFP_CABLE_TECH 0x08             /* bit 2 passive, bit 3 active direct attach */
#define SFP_DA_PASSIVE (1u << 2)
#define SFP_DA_ACTIVE (1u << 3)
#define SFP_CABLE_SPEC 0x3C             /* bit 2: active cable, limiting */
#define SFP_DA_SPEC_LIMITING (1u << 2)
/* SFP types as the EEPROM's init-sequence list names them (ixgbe_type.h enum ixgbe_sfp_type). */
#define SFP_TYPE_DA_CU_CORE0 3          /* + 1 on port 1 */
#define SFP_TYPE_SRLR_CORE0 5           /* + 1 on port 1; also active limiting cables */
#define IXGBE_EIMC 0x00888              /* WO, extended interrupt mask clear, 8.2.3.5.4 */
#define IXGBE_EIMC_ALL 0x7fffffff
#define IXGBE_EIMS 0x00880              /* RW (set on write), the mask as it is, 8.2.3.5.3 */

#define IXGBE_RDRXCTL 0x02F00           /* RW, receive DMA control, 8.2.3.8.8 */
#define IXGBE_RDRXCTL_CRCSTRIP (1u << 1)   /* must match HLREG0.RXCRCSTRP */
#define IXGBE_RDRXCTL_DMAIDONE (1u << 3)   /* DMA init done, RO */
#define IXGBE_RDRXCTL_RSCFRSTSIZE 0x003E0000u   /* must be 0 */
#define IXGBE_RDRXCTL_RSCACKC (1u << 25)   /* must be 1 */
#define IXGBE_RDRXCTL_FCOE_WRFIX (1u << 26)        /* must be 1 */
#define IXGBE_RXCTRL 0x03000            /* RW, receive control, 8.2.3.8.10 */
#define IXGBE_RXCTRL_RXEN (1u << 0)
#define IXGBE_SECRXCTRL 0x08D00         /* RW, security RX control, 8.2.3.26.11 */
#define IXGBE_SECRXCTRL_RX_DIS (1u << 1)
#define IXGBE_SECRXSTAT 0x08D04         /* RO, security RX status, 8.2.3.26.12 */
#define IXGBE_SECRXSTAT_RDY (1u << 0)
#define IXGBE_HLREG0 0x04240            /* RW, MAC core control 0, 8.2.3.22.8 */
#define IXGBE_HLREG0_TXCRCEN (1u << 0)
#define IXGBE_HLREG0_RXCRCSTRP (1u << 1)
#define IXGBE_HLREG0_TXPADEN (1u << 10)
#define IXGBE_FCTRL 0x05080             /* RW, filter control, 8.2.3.7.1 */
#define IXGBE_FCTRL_MPE (1u << 8)       /* accept every multicast, not only the MTA's */
#define IXGBE_FCTRL_BAM (1u << 10)      /* accept broadcast */
#define IXGBE_MCSTCTRL 0x05090          /* RW, multicast control, 8.2.3.7 (ixgbe_type.h) */
#define IXGBE_MCSTCTRL_MO_MASK 3u       /* bits 1:0, the MTA's offset: 0 = address bits 47:36 */
#define IXGBE_MCSTCTRL_MFE (1u << 2)    /* multicast filter (the MTA) enable */
#define IXGBE_RXCSUM 0x05000            /* RW, receive checksum control, 8.2.3.7.5 */
#define IXGBE_RXCSUM_PCSD (1u << 13)    /* descriptor carries the RSS hash */
#define IXGBE_MRQC_RSS 0x1              /* MRQC.MRQE bits 3:0 = 0001: RSS only, 8.2.3.7.12 */
#define IXGBE_RAL0 0x0A200              /* RW, receive address low, 8.2.3.7.9 */
#define IXGBE_RAH0 0x0A204              /* RW, receive address high; AV bit 31, 8.2.3.7.10 */
#define IXGBE_RAH_AV (1u << 31)

#define IXGBE_RTTDCS 0x04900            /* RW, DCB transmit descriptor plane control, 8.2.3.10.2 */
#define IXGBE_RTTDCS_ARBDIS (1u << 6)   /* set while MTQC changes */
#define IXGBE_MTQC 0x08120              /* RW, multiple transmit queues command, 8.2.3.9.15 */
#define IXGBE_MTQC_64Q 0x0              /* no DCB, no VT: 64 queues, one packet buffer */
#define IXGBE_DMATXCTL 0x04A80          /* RW, DMA TX control, 8.2.3.9.2 */
#define IXGBE_DMATXCTL_TE (1u << 0)     /* transmit enable: before any TXDCTL.ENABLE */

#define IXGBE_AUTOC 0x042A0             /* RW, auto-negotiation control, 8.2.3.22.19 */
#define IXGBE_AUTOC_AN_RESTART (1u << 12)
#define IXGBE_AUTOC_LMS_MASK (0x7u << 13)
#define IXGBE_AUTOC_LMS_10G_SFI (0x3u << 13)   /* 10 GbE serial, no auto-negotiation (SFP+) */
#define IXGBE_AUTOC_LMS_BIT2 (0x4u << 13)       /* toggled for a pipeline reset */
#define IXGBE_AUTOC_10G_PMA_MASK (0x3u << 7)
#define IXGBE_AUTOC2 0x042A8            /* RW, auto-negotiation control 2 (ixgbe_type.h) */
#define IXGBE_AUTOC2_LINK_DISABLE_MASK 0x70000000u      /* the EEPROM may load the link disabled */
#define IXGBE_ANLP1 0x042B0             /* RO, auto-negotiation link partner 1 (ixgbe_type.h) */
#define IXGBE_ANLP1_AN_STATE_MASK 0x000F0000u   /* 0: auto-negotiation has not left its idle state */
#define IXGBE_LINKS 0x042A4             /* RO, link status, 8.2.3.22.20 */
#define IXGBE_LINKS_UP (1u << 30)
#define IXGBE_LINKS_SPEED_SHIFT 28      /* bits 29:28: 01 100 Mb/s, 10 1 Gb/s, 11 10 Gb/s */

/* Queue register blocks, 8.2.3.8 and 8.2.3.9. */
#define IXGBE_RXQ(q) (0x01000 + 0x40 * (q))     /* RDBAL..RXDCTL of queue q < 64 */
#define IXGBE_TXQ(q) (0x06000 + 0x40 * (q))     /* TDBAL..TXDCTL of queue q < 128 */
#define IXGBE_SRRCTL(q) (0x01014 + 0x40 * (q))  /* RW, split receive control, 8.2.3.8.7 */
#define IXGBE_SRRCTL_BSIZEPKT_2K 2u     /* bits 4:0, 1 KiB units */
#define IXGBE_SRRCTL_ADV_ONEBUF (1u << 25)      /* DESCTYPE bits 27:25 = 001 */
#define IXGBE_SRRCTL_DROP_EN (1u << 28)
/* DCA and relaxed ordering per queue (offsets and bits: ixgbe_type.h): reset leaves bit 12 and the
 * write relaxed-ordering bits set. */
#define IXGBE_DCA_RXCTRL(q) ((q) < 16 ? 0x02200 + 4 * (q) : 0x0100C + 0x40 * (q))  /* RW, q < 64 */
#define IXGBE_DCA_RXCTRL_BIT12 (1u << 12)       /* reserved: must be 0 (4.6.7; iPXE intelx_open) */
#define IXGBE_DCA_RXCTRL_DATA_WRO (1u << 13)    /* RX data write relaxed ordering */
#define IXGBE_DCA_RXCTRL_HEAD_WRO (1u << 15)    /* RX header write relaxed ordering */
#define IXGBE_DCA_TXCTRL(q) (0x0600C + 0x40 * (q))      /* RW, q < 128 */
#define IXGBE_DCA_TXCTRL_DESC_WRO (1u << 11)    /* TX descriptor write-back relaxed ordering */
#define IXGBE_RXD_ERR_L4E (1u << 30)    /* advanced RX write-back error bits, 7.1.6.2 */
#define IXGBE_RXD_ERR_IPE (1u << 31)

/* Statistics, 8.2.3.23: clear on read. */
#define IXGBE_CRCERRS 0x04000           /* RC, CRC errors */
#define IXGBE_MPC(n) (0x03FA0 + 4 * (n))        /* RC, missed packets per packet buffer, n < 8 */
#define IXGBE_QPRDC(n) (0x01430 + 0x40 * (n))   /* RC, queue n's drops for want of a descriptor, n < 16 */

#define IXGBE_MAX_QUEUES 64
#define IXGBE_RSS_QUEUES 16             /* a RETA entry names one of 16 queues (4 bits) */

#endif
