/* The virtio 1.x modern PCI transport: the registers and structures we touch (virtio 1.2, 4.1). */
#ifndef POLLUX_VIRTIO_PCI_REG_H
#define POLLUX_VIRTIO_PCI_REG_H

#define VIRTIO_PCI_VENDOR 0x1af4
/* Device IDs (4.1.2.1): 0x1040 + the device type for a modern device; a transitional one (legacy I/O
 * interface as well) has its own ID and the same capabilities. The net ones are in virtio_net_reg.h. */
#define VIRTIO_PCI_DEVICE_RNG 0x1044            /* type 4, entropy device (5.4) */
#define VIRTIO_PCI_DEVICE_RNG_TRANSITIONAL 0x1005

/* Vendor-specific PCI capability (4.1.4): which BAR region holds which structure. */
#define PCI_CAP_VENDOR 0x09
#define VIRTIO_CAP_CFG_TYPE 3                   /* byte offset in the capability */
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8                     /* u32 */
#define VIRTIO_CAP_LENGTH 12                    /* u32 */
#define VIRTIO_CAP_NOTIFY_MULT 16               /* u32, notify capability only */
#define  VIRTIO_PCI_CAP_COMMON_CFG 1
#define  VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define  VIRTIO_PCI_CAP_ISR_CFG 3
#define  VIRTIO_PCI_CAP_DEVICE_CFG 4

/* Common configuration (4.1.4.3), offsets in the common-cfg region. */
#define VCFG_DEVICE_FEATURE_SELECT 0x00         /* RW u32 */
#define VCFG_DEVICE_FEATURE 0x04                /* RO u32 */
#define VCFG_DRIVER_FEATURE_SELECT 0x08         /* RW u32 */
#define VCFG_DRIVER_FEATURE 0x0c                /* RW u32 */
#define VCFG_MSIX_CONFIG 0x10                   /* RW u16 */
#define VCFG_NUM_QUEUES 0x12                    /* RO u16 */
#define VCFG_DEVICE_STATUS 0x14                 /* RW u8 */
#define  VSTAT_ACKNOWLEDGE 1
#define  VSTAT_DRIVER 2
#define  VSTAT_DRIVER_OK 4
#define  VSTAT_FEATURES_OK 8
#define  VSTAT_NEEDS_RESET 64
#define  VSTAT_FAILED 128
#define VCFG_QUEUE_SELECT 0x16                  /* RW u16 */
#define VCFG_QUEUE_SIZE 0x18                    /* RW u16 */
#define VCFG_QUEUE_MSIX_VECTOR 0x1a             /* RW u16 */
#define  VIRTIO_MSI_NO_VECTOR 0xffff
#define VCFG_QUEUE_ENABLE 0x1c                  /* RW u16 */
#define VCFG_QUEUE_NOTIFY_OFF 0x1e              /* RO u16 */
#define VCFG_QUEUE_DESC 0x20                    /* RW u64 */
#define VCFG_QUEUE_DRIVER 0x28                  /* RW u64 */
#define VCFG_QUEUE_DEVICE 0x30                  /* RW u64 */

/* Reserved feature bits (6): the ring layout and the transport, for every device type. */
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#endif
