/* A host model of an AWS ENA device, as strict as the firmware traps in HARDWARE.md: PCI function,
 * BAR0 registers, admin/completion/event queues, IO queues, RSS, LLQ device memory. */
#ifndef POLLUX_ENA_MODEL_H
#define POLLUX_ENA_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/ena_reg.h"

struct em_cfg {
	bool readless;                  /* PCI revision bit 0 clear: direct register reads give junk */
	bool llq;                       /* offers LLQ */
	bool llq_only;                  /* refuses TX queues in host memory (newer instance types) */
	bool no_meta_caching;           /* LLQ accel flag DISABLE_META_CACHING: meta on every packet */
	uint32_t burst_bytes;           /* LLQ LIMIT_TX_BURST, 0: none */
	bool out_of_order;              /* TX completions held and given newest first */
	uint32_t cq_div;                /* CQ depth returned = asked / cq_div (1: as asked) */
	uint32_t max_queues;
	uint32_t reset_reads;           /* DEV_STS reads before a reset phase shows */
	bool no_queues_ext;             /* offers MAX_QUEUES_NUM only, not MAX_QUEUES_EXT */
	bool llq_single_stride;         /* LLQ with one descriptor per entry only */
	bool no_ext_reset_reasons;      /* without capability EXTENDED_RESET_REASONS: 4-bit reasons */
	bool no_rss;                    /* never offers RSS_HASH_FUNCTION, whatever the driver declares */
	bool no_hash_input;             /* never offers RSS_HASH_INPUT: its own fields per protocol stay */
	bool no_l4_tcp6;                /* RSS_HASH_INPUT cannot hash TCPv6 ports (supported_fields) */
	/* When set, every frame the device transmits, as it leaves (a test's peer on the wire). */
	void (*wire)(const uint8_t *f, uint32_t len);
};

#define EM_MAX_Q 16
struct em_q {
	bool used, tx, llq;
	uint16_t sq_idx, cq_idx;
	uint32_t depth;
	uint64_t ba;                    /* host placement ring */
	uint32_t llq_off;
	uint16_t tail;                  /* last doorbell value */
	uint16_t head;                  /* next descriptor the device reads */
	uint8_t phase;
	int cq;                         /* index into em.cq */
};
struct em_cq {
	bool used, bound;
	uint16_t idx;
	uint32_t depth, words;
	uint64_t ba;
	uint32_t tail;
	uint8_t phase;
};

struct em_stats {
	uint64_t commands, refused;
	uint64_t refused_no_aenq, refused_no_host_info, refused_msix, refused_sq_before_cq, refused_host_placement,
		 refused_feature_version, refused_bad_reta, refused_bad_llq, refused_rss_not_offered,
		 refused_ctrl_not_indirect, refused_select, refused_hash_input, bad_phase, doorbell_beyond, doorbell_unknown,
		 direct_reads, readless_reads, readless_no_addr, resets, resets_bad_order, rx_drop_no_desc, rx_bad_desc,
		 tx_frames, tx_bad_desc, tx_meta, tx_csum, meta_missing, llq_no_meta, tx_split, meta_bad,
		 aenq_db_no_barrier, reset_reason_bad, burst_exceeded, aenq_dropped, keep_alives;
	uint32_t first_opcode, first_feature;     /* the first command after the last reset */
	uint32_t cq_before_sq_ok;
};

struct em_state {
	struct em_cfg cfg;
	uint32_t regs[0x80 / 4];
	uint32_t dev_sts, sts_reads;
	bool resetting, reset_cleared;
	uint16_t aq_head;
	uint8_t aq_phase;
	uint32_t acq_tail;
	uint8_t acq_phase;
	uint32_t aenq_tail;
	uint8_t aenq_phase;
	bool aenq_head_written;
	bool host_info;
	uint64_t host_info_pa;
	uint32_t host_features;         /* the host-info page's driver_supported_features */
	uint32_t aenq_groups;
	bool llq_set, meta_every;
	uint32_t llq_stride;            /* as the driver set it */
	uint32_t reset_reason;          /* DEV_CTL 31:28 of the last reset */
	uint64_t aenq_barriers;         /* host_full_barriers when the last event was written */
	bool aenq_written;              /* an event written since the last head doorbell */
	uint8_t key[40];
	/* RSS_HASH_INPUT: the fields hashed per protocol and the sorting. Until a driver sets them,
	 * the model's own choice: TCP and UDP over IPv4 on the 4-tuple, over IPv6 on the addresses
	 * only (so a driver that leaves them is seen), the rest on the addresses; no sorting. */
	struct ena_rss_hash_ctrl hctrl;
	uint16_t hsort;
	uint32_t hash_inputs;           /* RSS_HASH_INPUT sets taken */
	bool rss;
	uint32_t reta_log;
	uint16_t reta[1024];
	struct em_q q[EM_MAX_Q];
	struct em_cq cq[EM_MAX_Q];
	uint8_t llq_mem[1 << 20];
	uint32_t burst_used[EM_MAX_Q];
	uint16_t held[256];             /* TX completions held back (out of order) */
	int held_q[256];
	int nheld;
	struct em_stats st;
	uint64_t now_ms, last_ka_ms;
	bool keep_alive_stopped;
	int tx_q;                       /* em.q[] slot of the frame now leaving (cfg.wire) */
	uint8_t wire[64][2048];
	uint32_t wire_len[64];
	int wire_n;
};
extern struct em_state em;
extern struct acpi_info em_acpi;

#define EM_BAR0 0xfe000000ull
#define EM_BAR2 0xfd000000ull
#define EM_BAR0_SIZE 0x10000ull
#define EM_BAR2_SIZE (1ull << 20)

void em_init(const struct em_cfg *c);
/* A frame from the wire; returns the device RX queue index (em.q[] slot) it went to, or -1. */
int em_rx(const uint8_t *f, uint32_t len);
/* Model time: keep-alive every second unless stopped. */
void em_tick(uint32_t ms);
void em_aenq(uint16_t group, uint32_t data);
/* Give the held TX completions, newest first. */
void em_release_tx(void);
/* The internet checksum of an IPv4 TCP/UDP frame's L4 part; 0 when it is correct. */
uint16_t em_l4_check(const uint8_t *f, uint32_t len);

#endif
