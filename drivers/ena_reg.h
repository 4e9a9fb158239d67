/* AWS Elastic Network Adapter: the registers, admin commands and ring entries Pollux uses.
 * Source: amzn-drivers kernel/linux/common/ena_com (ena_regs_defs.h, ena_admin_defs.h,
 * ena_eth_io_defs.h); the names below are ours. */
#ifndef POLLUX_ENA_REG_H
#define POLLUX_ENA_REG_H

#include <stdint.h>

#define ENA_VENDOR 0x1d0f
#define ENA_DEV_PF 0x0ec2               /* physical function */
#define ENA_DEV_LLQ_PF 0x1ec2
#define ENA_DEV_VF 0xec20               /* the one EC2 instances show */
#define ENA_DEV_LLQ_VF 0xec21
#define ENA_DEV_VF_0051 0x0051          /* newer virtual function ID */

#define ENA_BAR_REGS 0                  /* registers */
#define ENA_BAR_MEM 2                   /* device memory: LLQ descriptors and headers */
#define ENA_PCI_REV_NO_READLESS 0x01    /* PCI revision bit 0: direct register reads only */

/* ---- BAR0 registers (ena_regs_defs.h, "ena_registers offsets") ---- */
#define ENA_REG_VERSION         0x00    /* RO: 15:8 major, 7:0 minor */
#define ENA_REG_CTRL_VERSION    0x04    /* RO: controller version */
#define ENA_REG_CAPS            0x08    /* RO: timeouts and DMA width */
#define  ENA_CAPS_RESET_TO(c)    (((c) >> 1) & 0x1f)    /* reset timeout, 100 ms units */
#define  ENA_CAPS_DMA_WIDTH(c)   (((c) >> 8) & 0xff)
#define  ENA_CAPS_ADMIN_TO(c)    (((c) >> 16) & 0xf)    /* admin command timeout, 100 ms units */
#define ENA_REG_AQ_BASE_LO      0x10    /* RW: admin submission queue */
#define ENA_REG_AQ_BASE_HI      0x14    /* RW */
#define ENA_REG_AQ_CAPS         0x18    /* RW: 15:0 depth, 31:16 entry size */
#define ENA_REG_ACQ_BASE_LO     0x20    /* RW: admin completion queue */
#define ENA_REG_ACQ_BASE_HI     0x24    /* RW */
#define ENA_REG_ACQ_CAPS        0x28    /* RW: 15:0 depth, 31:16 entry size */
#define ENA_REG_AQ_DB           0x2c    /* W: admin queue tail (a running count) */
#define ENA_REG_AENQ_CAPS       0x34    /* RW: 15:0 depth, 31:16 entry size */
#define ENA_REG_AENQ_BASE_LO    0x38    /* RW: asynchronous event notification queue */
#define ENA_REG_AENQ_BASE_HI    0x3c    /* RW */
#define ENA_REG_AENQ_HEAD_DB    0x40    /* W: entries the driver has freed (a running count) */
#define ENA_REG_INTR_MASK       0x4c    /* RW: 1 masks the admin interrupt (polling) */
#define ENA_REG_DEV_CTL         0x54    /* RW: reset */
#define  ENA_DEV_CTL_RESET       0x1
#define  ENA_DEV_CTL_REASON_SHIFT 28    /* reason bits 3:0 */
#define  ENA_DEV_CTL_REASON_EXT_SHIFT 24        /* reason bits 7:4, with ENA_CAP_EXTENDED_RESET_REASONS */
#define ENA_REG_DEV_STS         0x58    /* RO */
#define  ENA_DEV_STS_READY       0x01
#define  ENA_DEV_STS_RESET_IN_PROGRESS 0x08
#define  ENA_DEV_STS_FATAL_ERROR 0x20
#define ENA_REG_MMIO_REG_READ   0x5c    /* W: readless read request: 31:16 offset, 15:0 id */
#define ENA_REG_MMIO_RESP_LO    0x60    /* RW: where readless answers go */
#define ENA_REG_MMIO_RESP_HI    0x64    /* RW */

/* Reset reasons (DEV_CTL 31:28). */
#define ENA_RESET_NORMAL 0
#define ENA_RESET_KEEP_ALIVE_TO 1
#define ENA_RESET_ADMIN_TO 2
#define ENA_RESET_INIT_ERR 7
#define ENA_RESET_GENERIC 13
#define ENA_RESET_DEVICE_REQUEST 19     /* the device asked (Linux ena_admin_device_request_reset) */

/* The answer to a readless read, written by the device to MMIO_RESP. */
struct ena_readless {
	uint16_t req_id;
	uint16_t reg_off;
	uint32_t reg_val;
};

/* ---- admin queue (ena_admin_defs.h) ---- */
#define ENA_ADMIN_ENTRY 64
#define ENA_ACQ_ENTRY 64
#define ENA_AENQ_ENTRY 64

/* Opcodes. */
#define ENA_CMD_CREATE_SQ 1
#define ENA_CMD_DESTROY_SQ 2
#define ENA_CMD_CREATE_CQ 3
#define ENA_CMD_DESTROY_CQ 4
#define ENA_CMD_GET_FEATURE 8
#define ENA_CMD_SET_FEATURE 9
#define ENA_CMD_GET_STATS 11

/* Feature IDs (GET_FEATURE / SET_FEATURE). */
#define ENA_FEAT_DEVICE_ATTRIBUTES 1
#define ENA_FEAT_MAX_QUEUES_NUM 2       /* the older queue limits, when MAX_QUEUES_EXT is absent */
#define ENA_FEAT_LLQ 4
#define ENA_FEAT_MAX_QUEUES_EXT 7
#define ENA_FEAT_RSS_HASH_FUNCTION 10
#define ENA_FEAT_STATELESS_OFFLOAD 11
#define ENA_FEAT_RSS_INDIRECTION 12
#define ENA_FEAT_RSS_HASH_INPUT 18      /* which fields each protocol hashes (struct ena_rss_hash_ctrl) */
#define ENA_FEAT_AENQ_CONFIG 26
#define ENA_FEAT_HOST_ATTR_CONFIG 28

/* Completion status. */
#define ENA_ADMIN_SUCCESS 0
#define ENA_ADMIN_ILLEGAL_PARAMETER 5

/* AENQ groups (bit numbers of the group masks). */
#define ENA_AENQ_LINK_CHANGE 0
#define ENA_AENQ_FATAL_ERROR 1
#define ENA_AENQ_WARNING 2
#define ENA_AENQ_NOTIFICATION 3
#define ENA_AENQ_KEEP_ALIVE 4
#define ENA_AENQ_DEVICE_REQUEST_RESET 7

/* Memory address as the device takes it: 48 bits. */
struct ena_addr {
	uint32_t lo;
	uint16_t hi;
	uint16_t reserved;
} __attribute__((packed));

/* Every admin command: a 4-byte header, then 60 bytes of command. */
struct ena_aq_hdr {
	uint16_t command_id;            /* 11:0 */
	uint8_t opcode;
	uint8_t flags;
#define  ENA_AQ_PHASE 0x01
#define  ENA_AQ_CTRL_DATA_INDIRECT 0x04 /* control data in the buffer at ctrl_addr (ena_admin_defs.h) */
};

struct ena_aq_entry {
	struct ena_aq_hdr h;
	union {
		uint8_t raw[60];
		/* GET_FEATURE / SET_FEATURE */
		struct {
			uint32_t ctrl_len;
			struct ena_addr ctrl_addr;
			uint8_t select;         /* get: 1 current value */
			uint8_t feature_id;
			uint8_t feature_version;
			uint8_t reserved;
			uint8_t data[44];
		} __attribute__((packed)) feat;
		struct {
			uint8_t cq_caps_1;
#define  ENA_CQ_INTERRUPT_MODE 0x20
			uint8_t cq_caps_2;      /* 4:0 entry size in 32-bit words */
			uint16_t cq_depth;
			uint32_t msix_vector;
			struct ena_addr cq_ba;
		} __attribute__((packed)) create_cq;
		struct {
			uint8_t sq_identity;    /* 7:5 direction */
#define  ENA_SQ_DIR_TX (1 << 5)
#define  ENA_SQ_DIR_RX (2 << 5)
			uint8_t reserved8;
			uint8_t sq_caps_2;      /* 3:0 placement, 6:4 completion policy */
#define  ENA_PLACEMENT_HOST 1
#define  ENA_PLACEMENT_DEV 3
#define  ENA_COMPLETION_DESC (0 << 4)
			uint8_t sq_caps_3;      /* 0: physically contiguous */
			uint16_t cq_idx;
			uint16_t sq_depth;
			struct ena_addr sq_ba;
			struct ena_addr head_wb;
		} __attribute__((packed)) create_sq;
		struct {
			uint16_t sq_idx;
			uint8_t sq_identity;
			uint8_t reserved;
		} destroy_sq;
		struct {
			uint16_t cq_idx;
			uint16_t reserved;
		} destroy_cq;
	} u;
};
_Static_assert(sizeof(struct ena_aq_entry) == ENA_ADMIN_ENTRY, "admin entry is 64 bytes");

/* Every admin completion: 8 bytes of header, 56 of answer. */
struct ena_acq_entry {
	uint16_t command_id;            /* 11:0 */
	uint8_t status;
	uint8_t flags;                  /* 0: phase */
	uint16_t ext_status;
	uint16_t sq_head;
	union {
		uint8_t raw[56];
		struct {
			uint32_t impl_id, device_version, supported_features, capabilities;
#define  ENA_CAP_EXTENDED_RESET_REASONS 3       /* bit number in capabilities */
			uint32_t phys_addr_width, virt_addr_width;
			uint8_t mac[6];
			uint8_t reserved[2];
			uint32_t max_mtu;
		} dev_attr;
		struct {
			uint8_t version;
			uint8_t reserved[3];
			uint32_t max_tx_sq_num, max_tx_cq_num, max_rx_sq_num, max_rx_cq_num;
			uint32_t max_tx_sq_depth, max_tx_cq_depth, max_rx_sq_depth, max_rx_cq_depth;
			uint32_t max_tx_header_size;
			uint16_t max_tx_descs, max_rx_descs;    /* per packet, meta descriptor included */
		} max_queue_ext;
		struct {                        /* MAX_QUEUES_NUM (ena_admin_queue_feature_desc) */
			uint32_t max_sq_num, max_sq_depth, max_cq_num, max_cq_depth;
			uint32_t max_legacy_llq_num, max_legacy_llq_depth, max_header_size;
			uint16_t max_packet_tx_descs, max_packet_rx_descs;     /* meta descriptor included */
		} max_queue;
		struct {
			uint32_t supported_groups, enabled_groups;
		} aenq;
		struct {
			uint32_t tx;
#define  ENA_OFFLOAD_TX_L4_IPV4_PART 0x02       /* TCP/UDP checksum, field holds the pseudo sum */
			uint32_t rx_supported;
#define  ENA_OFFLOAD_RX_L4_IPV4 0x02
#define  ENA_OFFLOAD_RX_HASH 0x08
			uint32_t rx_enabled;
		} offload;
		struct {
			uint32_t supported_func, selected_func, init_val;
		} hash_func;
		struct {
			uint16_t min_size, max_size, size;      /* log2 of entries */
			uint8_t flags, reserved;
		} ind_table;
		struct {
			uint16_t cq_idx;
			uint16_t cq_actual_depth;
			uint32_t numa_node_reg;
			uint32_t cq_head_db_reg;        /* 0: none */
			uint32_t cq_unmask_reg;
		} create_cq;
		struct {
			uint16_t sq_idx;
			uint16_t reserved;
			uint32_t sq_doorbell;
			uint32_t llq_desc_off;          /* in BAR2 */
			uint32_t llq_hdr_off;
		} create_sq;
		struct ena_llq_desc {
			uint32_t max_llq_num, max_llq_depth;
			uint16_t header_location_supported, header_location_enabled;
#define  ENA_LLQ_HEADER_INLINE 1
			uint16_t entry_size_supported, entry_size_enabled;
#define  ENA_LLQ_ENTRY_128 1
			uint16_t descs_before_header_supported, descs_before_header_enabled;
#define  ENA_LLQ_DESCS_BEFORE_HEADER_2 2
			uint16_t stride_supported, stride_enabled;
#define  ENA_LLQ_STRIDE_SINGLE 1         /* one descriptor per entry after the first */
#define  ENA_LLQ_STRIDE_MULTIPLE 2
			uint8_t feature_version;
			uint8_t entry_size_recommended;
			uint8_t reserved[2];
			uint16_t accel_flags;           /* get: supported; set: enabled */
#define  ENA_ACCEL_DISABLE_META_CACHING 0x1
#define  ENA_ACCEL_LIMIT_TX_BURST 0x2
			uint16_t max_tx_burst;          /* get: bytes between two doorbells */
			uint32_t accel_reserved;
		} llq;
	} u;
};
_Static_assert(sizeof(struct ena_acq_entry) == ENA_ACQ_ENTRY, "completion entry is 64 bytes");
_Static_assert(sizeof(struct ena_llq_desc) == 36, "LLQ feature descriptor");

/* SET_FEATURE HOST_ATTR_CONFIG body (the command's data field). */
struct ena_host_attr {
	struct ena_addr os_info;        /* the 4 KiB host-info page */
	struct ena_addr debug;
	uint32_t debug_size;
} __attribute__((packed));

/* The host-info page (ena_admin_host_info). */
struct ena_host_info {
	uint32_t os_type;
#define  ENA_OS_IPXE_LIKE 5             /* "other bare-metal driver"; the closest listed type */
	uint8_t os_dist_str[128];
	uint32_t os_dist;
	uint8_t kernel_ver_str[32];
	uint32_t kernel_ver;
	uint32_t driver_version;        /* 7:0 major, 15:8 minor, 23:16 sub-minor, 31:24 module type */
	uint32_t net_features[2];
	uint16_t ena_spec_version;      /* major << 8 | minor */
	uint16_t bdf;                   /* 15:8 bus, 7:3 device, 2:0 function */
	uint16_t num_cpus;
	uint16_t reserved;
	uint32_t driver_features;       /* driver_supported_features */
#define  ENA_HOST_INFO_RSS_CONFIGURABLE_FUNCTION_KEY (1u << 4)
};
_Static_assert(sizeof(struct ena_host_info) == 196, "host info layout");

/* RSS: the hash-key control buffer and one indirection entry. */
struct ena_rss_key {
	uint32_t key_parts;
	uint32_t reserved;
	uint32_t key[10];
};
#define ENA_HASH_TOEPLITZ 1             /* bit number in supported/selected_func */

/* RSS_HASH_INPUT's control buffer (ena_admin_feature_rss_hash_control): per protocol, the fields
 * the device can hash and those it does; the command's data is struct ena_rss_hash_sort. */
enum {
	ENA_RSS_TCP4, ENA_RSS_UDP4, ENA_RSS_TCP6, ENA_RSS_UDP6, ENA_RSS_IP4, ENA_RSS_IP6, ENA_RSS_IP4_FRAG, ENA_RSS_NOT_IP,
	ENA_RSS_TCP6_EX, ENA_RSS_IP6_EX, ENA_RSS_PROTOS = 16
};
#define ENA_RSS_L2_DA (1u << 0)
#define ENA_RSS_L2_SA (1u << 1)
#define ENA_RSS_L3_DA (1u << 2)
#define ENA_RSS_L3_SA (1u << 3)
#define ENA_RSS_L4_DP (1u << 4)
#define ENA_RSS_L4_SP (1u << 5)
struct ena_rss_hash_ctrl {
	struct { uint16_t fields, reserved; } supported[ENA_RSS_PROTOS], selected[ENA_RSS_PROTOS], reserved2[ENA_RSS_PROTOS],
		reserved3[ENA_RSS_PROTOS];
};
_Static_assert(sizeof(struct ena_rss_hash_ctrl) == 256, "hash control buffer");
/* The inline part (get: both; set: enabled): swap the addresses (ports) when the destination's is
 * the smaller, which makes the hash symmetric. */
struct ena_rss_hash_sort {
	uint16_t supported, enabled;
#define  ENA_RSS_SORT_L3 (1u << 1)
#define  ENA_RSS_SORT_L4 (1u << 2)
};

/* ---- AENQ entries ---- */
struct ena_aenq_entry {
	uint16_t group;
	uint16_t syndrome;
	uint8_t flags;                  /* 0: phase */
	uint8_t reserved[3];
	uint32_t ts_lo, ts_hi;
	union {
		uint32_t link_flags;    /* link change: bit 0 up */
		struct { uint32_t rx_drops_lo, rx_drops_hi, tx_drops_lo, tx_drops_hi, rx_overruns_lo, rx_overruns_hi; } ka;
		uint8_t raw[48];
	} u;
};
_Static_assert(sizeof(struct ena_aenq_entry) == ENA_AENQ_ENTRY, "AENQ entry is 64 bytes");

/* ---- IO rings (ena_eth_io_defs.h) ---- */
struct ena_tx_desc {
	uint32_t len_ctrl;
#define  ENA_TXD_LEN_MASK 0xffff
#define  ENA_TXD_REQ_ID_HI_SHIFT 16     /* req_id 15:10 in 21:16 */
#define  ENA_TXD_META 0x00800000u
#define  ENA_TXD_PHASE 0x01000000u
#define  ENA_TXD_FIRST 0x04000000u
#define  ENA_TXD_LAST 0x08000000u
#define  ENA_TXD_COMP_REQ 0x10000000u
	uint32_t meta_ctrl;
#define  ENA_TXD_L3_IPV4 8              /* 3:0 */
#define  ENA_TXD_L4_TCP (12 << 8)       /* 12:8 */
#define  ENA_TXD_L4_UDP (13 << 8)
#define  ENA_TXD_L4_CSUM_EN (1u << 14)
#define  ENA_TXD_L4_CSUM_PARTIAL (1u << 17)
#define  ENA_TXD_REQ_ID_LO_SHIFT 22     /* req_id 9:0 in 31:22 */
	uint32_t addr_lo;
	uint32_t addr_hi_hdr;           /* 15:0 address 47:32, 31:24 bytes pushed (LLQ) */
};
_Static_assert(sizeof(struct ena_tx_desc) == 16, "TX descriptor is 16 bytes");

/* TX meta descriptor (same slot size; len_ctrl bit 23 set). */
struct ena_tx_meta {
	uint32_t len_ctrl;              /* 13:0, 22, 25, 31:29 must be zero (ena_eth_io_defs.h) */
#define  ENA_TXM_EXT_VALID (1u << 14)
#define  ENA_TXM_ETH_META_TYPE (1u << 20)       /* extended metadata descriptor */
#define  ENA_TXM_META_STORE (1u << 21)          /* store it in the queue's cache */
#define  ENA_TXM_MBZ 0xe2403fffu
	uint32_t word1;                 /* must be zero */
	uint32_t word2;                 /* 7:0 L3 header length, 15:8 L3 offset, 21:16 L4 length in words */
	uint32_t reserved;
};

struct ena_tx_cdesc {
	uint16_t req_id;
	uint8_t status;
	uint8_t flags;                  /* 0: phase */
	uint16_t sub_qid;
	uint16_t sq_head;
};
_Static_assert(sizeof(struct ena_tx_cdesc) == 8, "TX completion is 8 bytes");

struct ena_rx_desc {
	uint16_t length;
	uint8_t reserved2;
	uint8_t ctrl;
#define  ENA_RXD_PHASE 0x01
#define  ENA_RXD_FIRST 0x04
#define  ENA_RXD_LAST 0x08
#define  ENA_RXD_COMP_REQ 0x10
	uint16_t req_id;
	uint16_t reserved6;
	uint32_t addr_lo;
	uint16_t addr_hi;
	uint16_t reserved16;
};
_Static_assert(sizeof(struct ena_rx_desc) == 16, "RX descriptor is 16 bytes");

struct ena_rx_cdesc {
	uint32_t status;
#define  ENA_RXC_L3_MASK 0x1f
#define  ENA_RXC_L4_SHIFT 8
#define  ENA_RXC_L4_MASK 0x1f
#define  ENA_RXC_L4_CSUM_ERR (1u << 14)
#define  ENA_RXC_IPV4_FRAG (1u << 15)
#define  ENA_RXC_L4_CSUM_CHECKED (1u << 16)
#define  ENA_RXC_PHASE (1u << 24)
#define  ENA_RXC_FIRST (1u << 26)
#define  ENA_RXC_LAST (1u << 27)
	uint16_t length;
	uint16_t req_id;
	uint32_t hash;
	uint16_t sub_qid;
	uint8_t offset;
	uint8_t reserved;
};
_Static_assert(sizeof(struct ena_rx_cdesc) == 16, "RX completion is 16 bytes (4 words)");
#define ENA_L3_IPV4 8                   /* status 4:0 */
#define ENA_L3_IPV6 11
#define ENA_L4_TCP 12
#define ENA_L4_UDP 13

#endif
