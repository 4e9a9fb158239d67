/* PCI configuration space: the registers and capabilities Pollux touches (PCI Local Bus 3.0, PCIe Base 4.0). */
#ifndef POLLUX_PCI_REG_H
#define POLLUX_PCI_REG_H

/* ECAM: one 4 KiB space per function at base + (bus << 20 | dev << 15 | fn << 12); the MCFG base is
 * where bus 0 would be even when the entry starts at a later bus (PCIe 4.0, 7.2.2; PCI Firmware 3.0, 4.1.2). */
#define PCI_ECAM_BUS_SHIFT 20
#define PCI_ECAM_DEV_SHIFT 15
#define PCI_ECAM_FN_SHIFT 12
#define PCI_CFG_SIZE 0x1000

/* Configuration Mechanism #1, "type 1" (PCI Local Bus 3.0, 3.2.2.3.2): two x86 I/O ports. A 32-bit
 * write of CONFIG_ADDRESS names the function and the dword; CONFIG_DATA then moves that dword, or
 * one byte or word of it at CONFIG_DATA + (offset & 3). It reaches segment 0 only, and only the
 * first 256 bytes of each function (the PCIe extended space needs ECAM). */
#define PCI_PIO_ADDR 0xcf8              /* CONFIG_ADDRESS, RW u32: 32-bit accesses only */
#define  PCI_PIO_ENABLE (1u << 31)      /* the next CONFIG_DATA access is a config cycle */
#define  PCI_PIO_BUS_SHIFT 16           /* bits 23:16 */
#define  PCI_PIO_DEV_SHIFT 11           /* bits 15:11 */
#define  PCI_PIO_FN_SHIFT 8             /* bits 10:8 */
#define  PCI_PIO_REG_MASK 0xfcu         /* bits 7:2, the dword; bits 1:0 are 0 */
#define PCI_PIO_DATA 0xcfc              /* CONFIG_DATA, RW u8/u16/u32 at 0xcfc..0xcff */
#define PCI_PIO_CFG_SIZE 0x100

/* Common header (PCI Local Bus 3.0, 6.1, 6.2). */
#define PCI_CFG_VENDOR 0x00             /* RO u16: 0xffff = no function here (6.2.1) */
#define PCI_CFG_DEVICE 0x02             /* RO u16 (6.2.1) */
#define PCI_CFG_COMMAND 0x04            /* RW u16 (6.2.2) */
#define  PCI_CMD_IO (1u << 0)           /* I/O Space: decode the I/O BARs */
#define  PCI_CMD_MEM (1u << 1)          /* Memory Space: decode the memory BARs */
#define  PCI_CMD_MASTER (1u << 2)       /* Bus Master: the function may DMA */
#define  PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_CFG_STATUS 0x06             /* RO + W1C u16 (6.2.3): never written by Pollux */
#define  PCI_STATUS_CAP_LIST (1u << 4)  /* RO: PCI_CFG_CAP_PTR is valid */
#define PCI_CFG_REVISION 0x08           /* RO u8 (6.2.1) */
#define PCI_CFG_PROGIF 0x09             /* RO u8 (6.2.1) */
#define PCI_CFG_SUBCLASS 0x0a           /* RO u8 (6.2.1) */
#define PCI_CFG_CLASS 0x0b              /* RO u8 (6.2.1) */
#define PCI_CFG_HEADER_TYPE 0x0e        /* RO u8 (6.2.1) */
#define  PCI_HEADER_MULTIFN (1u << 7)   /* functions 1..7 may exist */
#define  PCI_HEADER_LAYOUT 0x7f         /* 0 device, 1 PCI-to-PCI bridge, 2 CardBus bridge */
#define PCI_CFG_BAR0 0x10               /* RW u32, 6 in a type 0 header, 2 in type 1 (6.2.5.1) */
#define  PCI_BAR_IO (1u << 0)           /* RO: 1 I/O space, 0 memory space */
#define  PCI_BAR_MEM_TYPE (3u << 1)     /* RO: 0 anywhere in 32 bits, 2 anywhere in 64 bits */
#define   PCI_BAR_MEM_TYPE_32 (0u << 1)
#define   PCI_BAR_MEM_TYPE_64 (2u << 1)
#define  PCI_BAR_MEM_PREFETCH (1u << 3) /* RO */
#define  PCI_BAR_MEM_ADDR 0xfffffff0u
#define  PCI_BAR_IO_ADDR 0xfffffffcu
#define PCI_CFG_SUBSYS_VENDOR 0x2c      /* RO u16, type 0 only (6.2.4) */
#define PCI_CFG_SUBSYS_ID 0x2e          /* RO u16, type 0 only (6.2.4) */
#define PCI_CFG_CAP_PTR 0x34            /* RO u8, types 0 and 1: first capability (6.7) */
#define PCI_NBARS_TYPE0 6
#define PCI_NBARS_TYPE1 2

/* Capability list (6.7): each entry is dword aligned in 0x40..0xff; the low two bits of every
 * pointer are reserved and software must mask them. */
#define PCI_CAP_ID 0                    /* RO u8, in the capability */
#define PCI_CAP_NEXT 1                  /* RO u8: next capability, 0 = end */
#define PCI_CAP_FIRST 0x40
#define PCI_CAP_PTR_MASK 0xfcu
#define PCI_CAP_ID_MSI 0x05             /* 6.8.1 */
#define PCI_CAP_ID_VENDOR 0x09          /* vendor specific (6.7, Appendix H); virtio 1.2, 4.1.4 */
#define PCI_CAP_ID_MSIX 0x11            /* 6.8.2 */
#define PCI_MSI_CTRL 2                  /* RW u16, in the MSI capability (6.8.1.3) */
#define  PCI_MSI_CTRL_ENABLE (1u << 0)
#define PCI_MSIX_CTRL 2                 /* RW u16, in the MSI-X capability (6.8.2.3) */
#define  PCI_MSIX_CTRL_ENABLE (1u << 15)

#endif
