/* virtio-net over the modern PCI transport: the registers and structures we touch (virtio 1.2). */
#ifndef POLLUX_VIRTIO_NET_REG_H
#define POLLUX_VIRTIO_NET_REG_H

#include <stdint.h>

#include "virtio_pci_reg.h"

#define VIRTIO_PCI_DEVICE_NET 0x1041            /* 0x1040 + device type 1 (4.1.2.1) */
#define VIRTIO_PCI_DEVICE_NET_TRANSITIONAL 0x1000

/* Feature bits (5.1.3); the transport's own are in virtio_pci_reg.h. */
#define VIRTIO_NET_F_CSUM 0                     /* device completes partial checksums we send */
#define VIRTIO_NET_F_GUEST_CSUM 1               /* device may hand us partial or checked checksums */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_HOST_TSO4 11               /* device segments TCP over IPv4 we send (needs CSUM) */
#define VIRTIO_NET_F_HOST_TSO6 12               /* ... and over IPv6 */
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18                 /* RX mode and MAC table through the control queue */
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_RSS 60

/* Device configuration (5.1.4). */
#define VNET_CFG_MAC 0                          /* RO u8[6] */
#define VNET_CFG_STATUS 6                       /* RO u16, with VIRTIO_NET_F_STATUS */
#define  VIRTIO_NET_S_LINK_UP 1
#define VNET_CFG_MAX_PAIRS 8                    /* RO u16 */
#define VNET_CFG_RSS_MAX_KEY 17                 /* RO u8, with VIRTIO_NET_F_RSS */
#define VNET_CFG_RSS_MAX_TABLE 18               /* RO u16 */
#define VNET_CFG_RSS_HASH_TYPES 20              /* RO u32 */
#define  VIRTIO_NET_HASH_IPV4 (1u << 0)
#define  VIRTIO_NET_HASH_TCPV4 (1u << 1)
#define  VIRTIO_NET_HASH_UDPV4 (1u << 2)
#define  VIRTIO_NET_HASH_IPV6 (1u << 3)
#define  VIRTIO_NET_HASH_TCPV6 (1u << 4)
#define  VIRTIO_NET_HASH_UDPV6 (1u << 5)
/* 6-8 (IPv6_EX, TCPv6_EX, UDPv6_EX) hash the home address and routing header's addresses instead:
 * not what net/flow.c computes, never asked for. */

/* Control virtqueue (5.1.6.5). */
#define VIRTIO_NET_CTRL_RX 0                    /* 5.1.6.5.1, one byte: 0 off, 1 on */
#define  VIRTIO_NET_CTRL_RX_PROMISC 0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1                   /* 5.1.6.5.2 */
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET 0        /* unicast then multicast table, each struct
						 * virtio_net_ctrl_mac { le32 entries; u8 macs[entries][6]; } */
#define VIRTIO_NET_CTRL_MQ 4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define  VIRTIO_NET_CTRL_MQ_RSS_CONFIG 1        /* also sets the pairs in use (5.1.6.5.7.1) */
#define VIRTIO_NET_OK 0

/* Every buffer starts with this header; with VERSION_1 it is always 12 bytes (5.1.6). */
struct virtio_net_hdr {
	uint8_t flags;
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1           /* checksum at csum_start + csum_offset is partial */
#define VIRTIO_NET_HDR_F_DATA_VALID 2           /* RX: the device checked the checksums */
	uint8_t gso_type;
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio-net header is 12 bytes");

#endif
