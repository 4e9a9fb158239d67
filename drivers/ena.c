/* AWS ENA (Elastic Network Adapter): the hardware half of a NIC under drivers/nic.h (ena_).
 * Fully polled: admin completions, AENQ events and IO completions are found by phase bits,
 * interrupts are never enabled. The admin queue is used only from attach, start, reset and the
 * slow path on core 0. Register and ring layouts: drivers/ena_reg.h. */
#include <string.h>

#include "kernel.h"
#include "nic.h"
#include "pci.h"
#include "ena_reg.h"

#define ENA_AQ_DEPTH 32
#define ENA_AENQ_DEPTH 32
#define ENA_READLESS_TIMEOUT_MS 200
#define ENA_ADMIN_TIMEOUT_DEF_MS 3000
#define ENA_RESET_TIMEOUT_DEF_MS 3000
#define ENA_KEEP_ALIVE_TIMEOUT_MS 6000  /* the Linux driver's limit without a keep-alive */
#define ENA_NO_MSIX 0xFFFFFFFFu         /* some firmware wants this even for polled queues */
#define ENA_RSS_LOG 7                   /* 128 indirection entries, as the public drivers use */
#define ENA_LLQ_ENTRY 128               /* bytes of one LLQ entry (ENA_LLQ_ENTRY_128) */
#define ENA_LLQ_DESCS_FIRST 2           /* descriptors before the pushed header in an entry */
#define ENA_TX_MAX_DESCS (NIC_TX_MAX_SEGS + 1)  /* one meta descriptor at most */

/* A submission ring and its completion ring. */
struct ena_ring {
	void *desc;                     /* SQ entries (host placement), or a bounce entry (LLQ) */
	void *cq;                       /* CQ entries */
	uint32_t depth;                 /* SQ entries, a power of two, never above the CQ's */
	uint32_t alloc_depth;           /* entries the memory holds */
	uint32_t cq_depth;              /* as the device returned it */
	uint16_t tail;                  /* SQ producer count (descriptors, or LLQ entries) */
	uint16_t db_tail;               /* tail at the last doorbell */
	uint32_t cq_head;               /* CQ consumer count */
	uint8_t sq_phase, cq_phase;
	uint32_t free;                  /* SQ entries not in flight */
	uint64_t doorbell;              /* SQ tail doorbell (absolute address) */
	uint64_t cq_head_db;            /* 0: the device wants no CQ head updates */
	uint64_t llq;                   /* LLQ descriptor area in BAR2, 0: host placement */
	uint32_t burst;                 /* LLQ entries since the last doorbell */
	uint16_t sq_idx, cq_idx;
	uint16_t *used;                 /* TX: [slot] SQ entries the frame took, 0 when not in flight */
	bool broken;                    /* the device named something it was never given */
	uint64_t bad_req_id, bad_cdesc, burst_doorbells, doorbells;
};

struct ena_pair {
	struct ena_ring tx, rx;
} __attribute__((aligned(CACHELINE)));

/* The softc. Everything but the pairs is touched by core 0 only. */
static struct {
	struct pci_dev *pci;
	uint64_t regs, mem;             /* BAR0, BAR2 (0: none) */
	uint64_t mem_size;
	bool readless;
	volatile struct ena_readless *rl;
	uint16_t rl_seq;
	uint32_t reset_to_ms, admin_to_ms;
	/* admin queue, completion queue, event queue */
	struct ena_aq_entry *aq;
	volatile struct ena_acq_entry *acq;
	volatile struct ena_aenq_entry *aenq;
	uint16_t aq_tail;
	uint8_t aq_phase;
	uint32_t acq_head;
	uint8_t acq_phase;
	uint32_t aenq_head;
	uint8_t aenq_phase;
	bool admin_broken;
	uint8_t *ctrl;                  /* 4 KiB for control buffers (RSS key, indirection table) */
	struct ena_host_info *host_info;
	/* what the device offers */
	uint32_t features;              /* supported_features bitmap of feature IDs */
	uint32_t dev_caps;              /* capabilities (ENA_CAP_*) */
	uint32_t aenq_groups;           /* enabled */
	uint32_t max_pairs;
	uint32_t max_tx_depth, max_rx_depth;
	uint32_t max_tx_descs;          /* per packet, meta included */
	uint32_t max_hdr;               /* LLQ: header bytes the device takes */
	bool use_llq, meta_always;
	uint32_t llq_burst_entries;     /* 0: no limit */
	uint32_t llq_descs_per_entry;   /* in the entries after a packet's first */
	uint32_t offload_tx, offload_rx;
	uint16_t rss_min, rss_max;
	/* health */
	uint64_t last_keep_alive;       /* arch_counter() */
	uint32_t reset_reason;
	uint64_t keep_alive_events, keep_alive_timeouts, fatal_events, reset_requests, warnings,
		 notifications, admin_timeouts, admin_errors, unknown_events, link_events;
	uint64_t dev_rx_drops, dev_tx_drops, dev_rx_overruns;   /* the device's own, from keep-alives */
} en;
static struct ena_pair pairs[NIC_MAX_QUEUES];

/* ---- registers: every access goes through these ---- */
static void reg_w(uint32_t off, uint32_t v) { mmio_write32(en.regs + off, v); }

static uint64_t ms_ticks(uint32_t ms) { return arch_counter_hz() / 1000 * ms; }

/*
 * Readless mode: the device writes the register's value into host memory (en.rl) when asked
 * through MMIO_REG_READ. Used when the PCI revision does not set bit 0. Returns ~0 on a timeout,
 * which no register we read has as a valid value.
 */
static uint32_t reg_r(uint32_t off)
{
	if (!en.readless)
		return mmio_read32(en.regs + off);
	uint16_t id = ++en.rl_seq;
	en.rl->req_id = (uint16_t)(id ^ 0xffff);        /* anything but the answer we wait for */
	dma_wmb();
	reg_w(ENA_REG_MMIO_REG_READ, (uint32_t)off << 16 | id);
	uint64_t end = arch_counter() + ms_ticks(ENA_READLESS_TIMEOUT_MS);
	while (en.rl->req_id != id) {
		if (arch_counter() > end)
			return 0xffffffffu;
		arch_relax();
	}
	dma_rmb();
	if (en.rl->reg_off != off)
		return 0xffffffffu;
	return en.rl->reg_val;
}

static void readless_arm(void)
{
	uint64_t pa = (uint64_t)(uintptr_t)en.rl;
	reg_w(ENA_REG_MMIO_RESP_LO, (uint32_t)pa);
	reg_w(ENA_REG_MMIO_RESP_HI, (uint32_t)(pa >> 32));
}

static struct ena_addr addr48(const void *p)
{
	uint64_t pa = (uint64_t)(uintptr_t)p;   /* physical = virtual */
	return (struct ena_addr){ (uint32_t)pa, (uint16_t)(pa >> 32), 0 };
}

static int fail(int err, const char *why)
{
	kprintf("ena0: %s\n", why);
	return err;
}

/* ---- reset: two phases, with the device's own timeouts ---- */
static int wait_sts(uint32_t mask, uint32_t want, uint32_t ms)
{
	uint64_t end = arch_counter() + ms_ticks(ms);
	for (;;) {
		uint32_t s = reg_r(ENA_REG_DEV_STS);
		if (s != 0xffffffffu && (s & mask) == want)
			return 0;
		if (arch_counter() > end)
			return -1;
		arch_relax();
	}
}

static int dev_reset(uint32_t reason)
{
	uint32_t caps = reg_r(ENA_REG_CAPS);
	if (caps == 0xffffffffu)
		return fail(-2, "no answer to a register read");
	en.reset_to_ms = ENA_CAPS_RESET_TO(caps) ? ENA_CAPS_RESET_TO(caps) * 100 : ENA_RESET_TIMEOUT_DEF_MS;
	en.admin_to_ms = ENA_CAPS_ADMIN_TO(caps) ? ENA_CAPS_ADMIN_TO(caps) * 100 : ENA_ADMIN_TIMEOUT_DEF_MS;
	/* Reason bits 3:0 go to 31:28 and 7:4 to 27:24, the latter only on a device with extended
	 * reasons; otherwise a reason that needs them is sent as GENERIC (Linux ena_com.c
	 * ena_com_dev_reset). The capability is the one read at the previous bring-up. */
	uint32_t ctl = ENA_DEV_CTL_RESET | (reason & 0xf) << ENA_DEV_CTL_REASON_SHIFT;
	if (reason >> 4 && (en.dev_caps >> ENA_CAP_EXTENDED_RESET_REASONS & 1))
		ctl |= (reason >> 4 & 0xf) << ENA_DEV_CTL_REASON_EXT_SHIFT;
	else if (reason >> 4)
		ctl = ENA_DEV_CTL_RESET | (uint32_t)ENA_RESET_GENERIC << ENA_DEV_CTL_REASON_SHIFT;
	reg_w(ENA_REG_DEV_CTL, ctl);
	readless_arm();                 /* a reset forgets where readless answers go */
	if (wait_sts(ENA_DEV_STS_RESET_IN_PROGRESS, ENA_DEV_STS_RESET_IN_PROGRESS, en.reset_to_ms))
		return fail(-3, "reset did not start");
	reg_w(ENA_REG_DEV_CTL, 0);
	if (wait_sts(ENA_DEV_STS_RESET_IN_PROGRESS, 0, en.reset_to_ms))
		return fail(-3, "reset did not finish");
	if (wait_sts(ENA_DEV_STS_READY, ENA_DEV_STS_READY, en.reset_to_ms))
		return fail(-3, "device not ready after reset");
	return 0;
}

/* ---- the admin queue ---- */

/* Program the admin, completion and event queues (all polled). The event queue is given before
 * any command: some firmware refuses every command without one. */
static void admin_init(void)
{
	memset(en.aq, 0, ENA_AQ_DEPTH * sizeof(*en.aq));
	memset((void *)en.acq, 0, ENA_AQ_DEPTH * sizeof(*en.acq));
	memset((void *)en.aenq, 0, ENA_AENQ_DEPTH * sizeof(*en.aenq));
	en.aq_tail = 0, en.aq_phase = 1;
	en.acq_head = 0, en.acq_phase = 1;
	en.aenq_head = 0, en.aenq_phase = 1;
	en.admin_broken = false;
	uint64_t aq = (uint64_t)(uintptr_t)en.aq, acq = (uint64_t)(uintptr_t)en.acq;
	uint64_t aenq = (uint64_t)(uintptr_t)en.aenq;
	reg_w(ENA_REG_AQ_BASE_LO, (uint32_t)aq);
	reg_w(ENA_REG_AQ_BASE_HI, (uint32_t)(aq >> 32));
	reg_w(ENA_REG_ACQ_BASE_LO, (uint32_t)acq);
	reg_w(ENA_REG_ACQ_BASE_HI, (uint32_t)(acq >> 32));
	reg_w(ENA_REG_AQ_CAPS, ENA_AQ_DEPTH | (uint32_t)ENA_ADMIN_ENTRY << 16);
	reg_w(ENA_REG_ACQ_CAPS, ENA_AQ_DEPTH | (uint32_t)ENA_ACQ_ENTRY << 16);
	reg_w(ENA_REG_AENQ_BASE_LO, (uint32_t)aenq);
	reg_w(ENA_REG_AENQ_BASE_HI, (uint32_t)(aenq >> 32));
	reg_w(ENA_REG_AENQ_CAPS, ENA_AENQ_DEPTH | (uint32_t)ENA_AENQ_ENTRY << 16);
	reg_w(ENA_REG_INTR_MASK, 1);            /* admin completions are polled */
	dma_wmb();
	reg_w(ENA_REG_AENQ_HEAD_DB, ENA_AENQ_DEPTH);    /* every event entry is the device's */
	en.aenq_head = ENA_AENQ_DEPTH;
}

/*
 * Run one admin command and wait for its completion (core 0, never on a data path). *cmd is
 * copied into the ring with our id and phase; the answer lands in *resp. Returns 0, a positive
 * device status, or -1 on a timeout (the queue is then not trusted until a reset).
 */
static int admin(struct ena_aq_entry *cmd, struct ena_acq_entry *resp)
{
	if (en.admin_broken)
		return -1;
	uint32_t slot = en.aq_tail & (ENA_AQ_DEPTH - 1);
	uint16_t id = (uint16_t)(en.aq_tail & 0xfff);
	cmd->h.command_id = id;
	cmd->h.flags = (uint8_t)((cmd->h.flags & ~ENA_AQ_PHASE) | en.aq_phase);
	en.aq[slot] = *cmd;
	en.aq_tail++;
	if ((en.aq_tail & (ENA_AQ_DEPTH - 1)) == 0)
		en.aq_phase ^= 1;
	dma_wmb();
	reg_w(ENA_REG_AQ_DB, en.aq_tail);
	uint64_t end = arch_counter() + ms_ticks(en.admin_to_ms);
	for (;;) {
		volatile struct ena_acq_entry *c = &en.acq[en.acq_head & (ENA_AQ_DEPTH - 1)];
		if ((c->flags & 1) == en.acq_phase) {
			dma_rmb();
			struct ena_acq_entry r = *(struct ena_acq_entry *)c;
			if (++en.acq_head % ENA_AQ_DEPTH == 0)
				en.acq_phase ^= 1;
			if ((r.command_id & 0xfff) != id)
				continue;       /* a stale answer: ours follows */
			if (resp)
				*resp = r;
			if (r.status != ENA_ADMIN_SUCCESS)
				en.admin_errors++;
			return r.status;
		}
		if (arch_counter() > end) {
			en.admin_broken = true;
			en.admin_timeouts++;
			en.reset_reason = ENA_RESET_ADMIN_TO;
			kprintf("ena0: admin command %u timed out\n", cmd->h.opcode);
			return -1;
		}
		arch_relax();
	}
}

/* GET_FEATURE; with ctrl, the device writes ctrl_len bytes of control data there (flagged
 * CTRL_DATA_INDIRECT, as Linux ena_com_get_feature_ex does with a control buffer). */
static int get_feature_ctrl(uint8_t id, uint8_t version, struct ena_acq_entry *resp, void *ctrl, uint32_t ctrl_len)
{
	struct ena_aq_entry c = { 0 };
	c.h.opcode = ENA_CMD_GET_FEATURE;
	c.u.feat.select = 0;            /* as every reference sends it (Linux ena_com_get_feature_ex) */
	c.u.feat.feature_id = id;
	c.u.feat.feature_version = version;
	if (ctrl) {
		c.h.flags = ENA_AQ_CTRL_DATA_INDIRECT;
		c.u.feat.ctrl_len = ctrl_len;
		c.u.feat.ctrl_addr = addr48(ctrl);
	}
	return admin(&c, resp);
}

static int get_feature(uint8_t id, uint8_t version, struct ena_acq_entry *resp)
{
	return get_feature_ctrl(id, version, resp, NULL, 0);
}

/* SET_FEATURE with len bytes of inline data, and an optional control buffer. */
static int set_feature(uint8_t id, const void *data, uint32_t len, const void *ctrl, uint32_t ctrl_len)
{
	struct ena_aq_entry c = { 0 };
	c.h.opcode = ENA_CMD_SET_FEATURE;
	c.u.feat.feature_id = id;
	memcpy(c.u.feat.data, data, len);
	if (ctrl) {
		/* Control data in a buffer: CTRL_DATA_INDIRECT, as every reference sets it (Linux
		 * ena_com.c ena_com_set_hash_function, ena_com_indirect_table_set). */
		c.h.flags = ENA_AQ_CTRL_DATA_INDIRECT;
		c.u.feat.ctrl_len = ctrl_len;
		c.u.feat.ctrl_addr = addr48(ctrl);
	}
	return admin(&c, NULL);
}

static bool has_feature(uint32_t id) { return (en.features >> id) & 1; }

/* ---- bring-up ---- */

/* The host-info page; the firmware refuses CREATE_CQ until it has one. */
static int host_info(uint32_t ncpus)
{
	struct ena_host_info *h = en.host_info;
	memset(h, 0, 4096);
	h->os_type = ENA_OS_IPXE_LIKE;
	memcpy(h->os_dist_str, "Pollux", 7);
	memcpy(h->kernel_ver_str, "pollux", 7);
	h->driver_version = 2;          /* some firmware checks for this value */
	h->ena_spec_version = 2 << 8;
	struct pci_dev *d = en.pci;
	h->bdf = (uint16_t)(d->bus << 8 | d->dev << 3 | d->fn);
	h->num_cpus = (uint16_t)ncpus;
	/* What the driver supports, as Linux declares it (ena_netdev.c ena_config_host_info): without
	 * RSS_CONFIGURABLE_FUNCTION_KEY the device may not offer RSS_HASH_FUNCTION. The other bits Linux
	 * sets name features Pollux does not have (RX offset, interrupt moderation, ...). */
	h->driver_features = ENA_HOST_INFO_RSS_CONFIGURABLE_FUNCTION_KEY;
	struct ena_host_attr a = { addr48(h), { 0, 0, 0 }, 0 };
	return set_feature(ENA_FEAT_HOST_ATTR_CONFIG, &a, sizeof(a), NULL, 0) ? -1 : 0;
}

static uint32_t pow2_floor(uint32_t v) { return v ? 1u << (31 - __builtin_clz(v)) : 0; }

/* Device attributes, event groups, queue limits, LLQ, offloads and RSS limits. */
static int read_features(struct nic *n, uint32_t ncpus)
{
	struct ena_acq_entry r;
	if (host_info(ncpus))
		return fail(-4, "device refused the host-info page");
	if (get_feature(ENA_FEAT_DEVICE_ATTRIBUTES, 0, &r))
		return fail(-4, "cannot read the device attributes");
	memcpy(n->mac, r.u.dev_attr.mac, 6);
	en.features = r.u.dev_attr.supported_features;
	en.dev_caps = r.u.dev_attr.capabilities;
	if (has_feature(ENA_FEAT_AENQ_CONFIG)) {
		if (get_feature(ENA_FEAT_AENQ_CONFIG, 0, &r))
			return fail(-4, "cannot read the event groups");
		uint32_t want = 1u << ENA_AENQ_LINK_CHANGE | 1u << ENA_AENQ_FATAL_ERROR | 1u << ENA_AENQ_WARNING |
				1u << ENA_AENQ_NOTIFICATION | 1u << ENA_AENQ_KEEP_ALIVE | 1u << ENA_AENQ_DEVICE_REQUEST_RESET;
		uint32_t g[2] = { 0, r.u.aenq.supported_groups & want };
		if (set_feature(ENA_FEAT_AENQ_CONFIG, g, sizeof(g), NULL, 0))
			return fail(-4, "device refused the event groups");
		en.aenq_groups = g[1];
	}
	/* Queue limits: MAX_QUEUES_EXT, or on a device without it the older MAX_QUEUES_NUM, whose
	 * numbers and depths hold for both directions (Linux ena_com.c ena_com_get_dev_attr_feat,
	 * ena_netdev.c ena_calc_max_io_queue_num). */
	uint32_t lim[4], tx_sq_depth, tx_cq_depth, rx_sq_depth, rx_cq_depth, tx_descs;
	if (has_feature(ENA_FEAT_MAX_QUEUES_EXT)) {
		if (get_feature(ENA_FEAT_MAX_QUEUES_EXT, 1, &r))
			return fail(-4, "cannot read MAX_QUEUES_EXT");
		lim[0] = r.u.max_queue_ext.max_tx_sq_num, lim[1] = r.u.max_queue_ext.max_tx_cq_num;
		lim[2] = r.u.max_queue_ext.max_rx_sq_num, lim[3] = r.u.max_queue_ext.max_rx_cq_num;
		tx_sq_depth = r.u.max_queue_ext.max_tx_sq_depth, tx_cq_depth = r.u.max_queue_ext.max_tx_cq_depth;
		rx_sq_depth = r.u.max_queue_ext.max_rx_sq_depth, rx_cq_depth = r.u.max_queue_ext.max_rx_cq_depth;
		tx_descs = r.u.max_queue_ext.max_tx_descs;
		en.max_hdr = r.u.max_queue_ext.max_tx_header_size;
	} else {
		if (get_feature(ENA_FEAT_MAX_QUEUES_NUM, 0, &r))
			return fail(-4, "device lacks MAX_QUEUES_EXT and MAX_QUEUES_NUM");
		lim[0] = lim[2] = r.u.max_queue.max_sq_num;
		lim[1] = lim[3] = r.u.max_queue.max_cq_num;
		tx_sq_depth = rx_sq_depth = r.u.max_queue.max_sq_depth;
		tx_cq_depth = rx_cq_depth = r.u.max_queue.max_cq_depth;
		tx_descs = r.u.max_queue.max_packet_tx_descs;
		en.max_hdr = r.u.max_queue.max_header_size;
	}
	en.max_pairs = NIC_MAX_QUEUES;
	for (uint32_t i = 0; i < 4; i++)
		if (lim[i] < en.max_pairs)
			en.max_pairs = lim[i];
	en.max_tx_depth = tx_sq_depth < tx_cq_depth ? tx_sq_depth : tx_cq_depth;
	en.max_rx_depth = rx_sq_depth < rx_cq_depth ? rx_sq_depth : rx_cq_depth;
	en.max_tx_descs = tx_descs ? tx_descs : 1;
	if (en.max_pairs == 0 || en.max_tx_depth < 8 || en.max_rx_depth < 8)
		return fail(-4, "device offers no usable queues");

	/* LLQ: TX descriptors and headers in device memory, where the device offers it. */
	en.use_llq = false;
	en.meta_always = false;
	en.llq_burst_entries = 0;
	if (has_feature(ENA_FEAT_LLQ) && en.mem && get_feature(ENA_FEAT_LLQ, 1, &r) == 0 && r.u.llq.max_llq_num) {
		struct ena_llq_desc l = r.u.llq;
		if ((l.header_location_supported & ENA_LLQ_HEADER_INLINE) && (l.entry_size_supported & ENA_LLQ_ENTRY_128) &&
		    (l.descs_before_header_supported & ENA_LLQ_DESCS_BEFORE_HEADER_2) &&
		    (l.stride_supported & (ENA_LLQ_STRIDE_MULTIPLE | ENA_LLQ_STRIDE_SINGLE))) {
			/* Several descriptors per entry where offered, else one per entry after the
			 * first (Linux ena_com.c ena_com_config_llq_info). */
			uint16_t stride = (l.stride_supported & ENA_LLQ_STRIDE_MULTIPLE) ? ENA_LLQ_STRIDE_MULTIPLE :
					  ENA_LLQ_STRIDE_SINGLE;
			uint16_t accel = l.accel_flags, burst = l.max_tx_burst;
			struct ena_llq_desc s = { 0 };
			s.header_location_enabled = ENA_LLQ_HEADER_INLINE;
			s.entry_size_enabled = ENA_LLQ_ENTRY_128;
			s.descs_before_header_enabled = ENA_LLQ_DESCS_BEFORE_HEADER_2;
			s.stride_enabled = stride;
			s.feature_version = 1;
			s.accel_flags = accel & (ENA_ACCEL_DISABLE_META_CACHING | ENA_ACCEL_LIMIT_TX_BURST);
			if (set_feature(ENA_FEAT_LLQ, &s, sizeof(s), NULL, 0) == 0) {
				en.use_llq = true;
				en.llq_descs_per_entry = stride == ENA_LLQ_STRIDE_MULTIPLE ? ENA_LLQ_ENTRY / 16 : 1;
				/* A meta descriptor opens every LLQ packet, even one that says nothing:
				 * newer generations drop a packet without one whether or not they offer
				 * DISABLE_META_CACHING (iPXE src/drivers/net/ena.c ena_transmit writes a
				 * zero-information one on every LLQ packet). */
				en.meta_always = true;
				if ((accel & ENA_ACCEL_LIMIT_TX_BURST) && burst)
					en.llq_burst_entries = burst / ENA_LLQ_ENTRY ? burst / ENA_LLQ_ENTRY : 1;
				if (l.max_llq_depth < en.max_tx_depth)
					en.max_tx_depth = l.max_llq_depth;
				if (l.max_llq_num < en.max_pairs)
					en.max_pairs = l.max_llq_num;
			} else {
				kprintf("ena0: device refused our LLQ layout: TX from host memory\n");
			}
		} else {
			kprintf("ena0: LLQ offered without the layout we write: TX from host memory\n");
		}
	}

	en.offload_tx = en.offload_rx = 0;
	if (has_feature(ENA_FEAT_STATELESS_OFFLOAD) && get_feature(ENA_FEAT_STATELESS_OFFLOAD, 0, &r) == 0) {
		en.offload_tx = r.u.offload.tx;
		en.offload_rx = r.u.offload.rx_supported;
	}
	en.rss_min = en.rss_max = 0;
	if (has_feature(ENA_FEAT_RSS_INDIRECTION) && has_feature(ENA_FEAT_RSS_HASH_FUNCTION) &&
	    get_feature(ENA_FEAT_RSS_INDIRECTION, 0, &r) == 0) {
		en.rss_min = r.u.ind_table.min_size;
		en.rss_max = r.u.ind_table.max_size;
	}
	return 0;
}

static void *dma_alloc(uint64_t size)
{
	return (void *)(uintptr_t)mem_alloc_early(ALIGN_UP(size, 4096), 4096, 0);
}

/* Ring memory for a pair, once: depth entries of each kind. */
static int ring_alloc(struct ena_ring *t, struct ena_ring *r, uint32_t tdepth, uint32_t rdepth)
{
	if (!t->desc) {
		t->desc = dma_alloc((uint64_t)tdepth * sizeof(struct ena_tx_desc));
		t->cq = dma_alloc((uint64_t)tdepth * sizeof(struct ena_tx_cdesc));
		t->used = dma_alloc(2ull * tdepth);
		r->desc = dma_alloc((uint64_t)rdepth * sizeof(struct ena_rx_desc));
		r->cq = dma_alloc((uint64_t)rdepth * sizeof(struct ena_rx_cdesc));
		if (!t->desc || !t->cq || !t->used || !r->desc || !r->cq)
			return -1;
		t->alloc_depth = tdepth;
		r->alloc_depth = rdepth;
	}
	return 0;
}

/* CREATE_CQ then CREATE_SQ for one direction; the SQ is made as deep as the CQ the device gave,
 * and every doorbell offset comes from the answers. */
static int ring_create(struct ena_ring *g, bool tx, uint32_t want)
{
	struct ena_acq_entry r;
	struct ena_aq_entry c = { 0 };
	uint32_t csize = tx ? sizeof(struct ena_tx_cdesc) : sizeof(struct ena_rx_cdesc);
	if (want > g->alloc_depth)
		want = g->alloc_depth;
	memset(g->cq, 0, (uint64_t)g->alloc_depth * csize);
	c.h.opcode = ENA_CMD_CREATE_CQ;
	c.u.create_cq.cq_caps_1 = 0;                    /* polled: no interrupt mode */
	c.u.create_cq.cq_caps_2 = (uint8_t)(csize / 4);
	c.u.create_cq.cq_depth = (uint16_t)want;
	c.u.create_cq.msix_vector = ENA_NO_MSIX;
	c.u.create_cq.cq_ba = addr48(g->cq);
	if (admin(&c, &r))
		return -1;
	uint32_t got = r.u.create_cq.cq_actual_depth;
	if (got < 8 || got > want || (got & (got - 1)))
		return -2;
	g->cq_idx = r.u.create_cq.cq_idx;
	g->cq_depth = got;
	g->cq_head_db = r.u.create_cq.cq_head_db_reg ? en.regs + r.u.create_cq.cq_head_db_reg : 0;
	g->depth = got;
	g->llq = 0;
	memset(&c, 0, sizeof(c));
	c.h.opcode = ENA_CMD_CREATE_SQ;
	c.u.create_sq.sq_identity = tx ? ENA_SQ_DIR_TX : ENA_SQ_DIR_RX;
	c.u.create_sq.sq_caps_2 = (tx && en.use_llq ? ENA_PLACEMENT_DEV : ENA_PLACEMENT_HOST) | ENA_COMPLETION_DESC;
	c.u.create_sq.sq_caps_3 = 1;
	c.u.create_sq.cq_idx = g->cq_idx;
	c.u.create_sq.sq_depth = (uint16_t)g->depth;
	if (!(tx && en.use_llq)) {
		memset(g->desc, 0, (uint64_t)g->alloc_depth * 16);
		c.u.create_sq.sq_ba = addr48(g->desc);
	}
	if (admin(&c, &r))
		return -3;
	uint32_t db = r.u.create_sq.sq_doorbell;
	if (db < 0x80 || db + 4 > pci_bar_size(en.pci, ENA_BAR_REGS))
		return -4;
	g->sq_idx = r.u.create_sq.sq_idx;
	g->doorbell = en.regs + db;
	if (tx && en.use_llq) {
		uint64_t off = r.u.create_sq.llq_desc_off;
		if (off + (uint64_t)g->depth * ENA_LLQ_ENTRY > en.mem_size)
			return -5;
		g->llq = en.mem + off;
	}
	g->tail = g->db_tail = 0;
	g->cq_head = 0;
	g->sq_phase = g->cq_phase = 1;
	g->free = g->depth;
	g->burst = 0;
	g->broken = false;
	if (tx)
		memset(g->used, 0, 2ull * g->alloc_depth);
	return 0;
}

static int queues_create(uint32_t np, uint32_t tdepth, uint32_t rdepth)
{
	for (uint32_t i = 0; i < np; i++) {
		int err;
		if ((err = ring_create(&pairs[i].tx, true, tdepth)) || (err = ring_create(&pairs[i].rx, false, rdepth))) {
			kprintf("ena0: cannot create queue pair %u (step %d)\n", i, -err);
			return -6;
		}
	}
	return 0;
}

/* Everything from the reset to live-ready IO queues: the order the public driver uses. */
static int bring_up(struct nic *n, uint32_t want, bool again)
{
	int err;
	readless_arm();
	if ((err = dev_reset(again ? en.reset_reason : ENA_RESET_NORMAL)))
		return err;
	uint32_t ver = reg_r(ENA_REG_VERSION);
	if (ver == 0xffffffffu)
		return fail(-2, "cannot read the version register");
	admin_init();
	if ((err = read_features(n, want)))
		return err;
	uint32_t np = want < en.max_pairs ? want : en.max_pairs;
	uint32_t td = pow2_floor(en.max_tx_depth < POLLUX_TX_RING_SIZE ? en.max_tx_depth : POLLUX_TX_RING_SIZE);
	uint32_t rd = pow2_floor(en.max_rx_depth < POLLUX_RX_RING_SIZE ? en.max_rx_depth : POLLUX_RX_RING_SIZE);
	if (again) {
		if (np < n->npairs)
			return fail(-7, "device offers fewer queues after a reset");
		np = n->npairs;
	} else {
		for (uint32_t i = 0; i < np; i++)
			if (ring_alloc(&pairs[i].tx, &pairs[i].rx, td, rd))
				return fail(-5, "no memory for the rings");
	}
	if ((err = queues_create(np, td, rd)))
		return err;
	uint32_t rs = pairs[0].rx.depth, ts = pairs[0].tx.depth;
	for (uint32_t i = 1; i < np; i++) {
		rs = pairs[i].rx.depth < rs ? pairs[i].rx.depth : rs;
		ts = pairs[i].tx.depth < ts ? pairs[i].tx.depth : ts;
	}
	if (again && (rs < n->rx_size || ts < n->tx_size))
		return fail(-7, "device gave shorter rings after a reset");
	if (!again) {
		n->npairs = np;
		n->rx_size = rs;        /* the m8i trap: post exactly what the ring holds */
		n->tx_size = ts;
	}
	en.last_keep_alive = arch_counter();
	return 0;
}

static int ena_attach(struct nic *n, struct pci_dev *d, uint32_t want)
{
	en.pci = d;
	en.regs = pci_bar_addr(d, ENA_BAR_REGS);
	if (!en.regs)
		return fail(-2, "register BAR unassigned by the firmware");
	en.mem = pci_bar_addr(d, ENA_BAR_MEM);
	en.mem_size = en.mem ? pci_bar_size(d, ENA_BAR_MEM) : 0;
	pci_enable(d);
	en.readless = !(d->revision & ENA_PCI_REV_NO_READLESS);
	if (!en.aq) {
		en.aq = dma_alloc(ENA_AQ_DEPTH * sizeof(struct ena_aq_entry));
		en.acq = dma_alloc(ENA_AQ_DEPTH * sizeof(struct ena_acq_entry));
		en.aenq = dma_alloc(ENA_AENQ_DEPTH * sizeof(struct ena_aenq_entry));
		en.ctrl = dma_alloc(4096);
		en.host_info = dma_alloc(4096);
		en.rl = dma_alloc(64);
		if (!en.aq || !en.acq || !en.aenq || !en.ctrl || !en.host_info || !en.rl)
			return fail(-5, "no memory for the admin queues");
	}
	int err = bring_up(n, want, false);
	if (err)
		return err;
	n->caps.max_pairs = en.max_pairs;
	n->caps.tx_csum = en.offload_tx & ENA_OFFLOAD_TX_L4_IPV4_PART;
	n->caps.rx_csum = en.offload_rx & ENA_OFFLOAD_RX_L4_IPV4;
	n->caps.rx_hash = false;        /* until RSS takes our key (ena_start) */
	n->caps.tx_sg = en.max_tx_descs >= ENA_TX_MAX_DESCS;
	n->caps.rss = en.rss_max >= ENA_RSS_LOG && en.rss_min <= ENA_RSS_LOG && n->npairs > 1;
	n->caps.reta_len = 1u << ENA_RSS_LOG;
	n->caps.rx_hdr = 0;
	n->caps.tx_hdr = 0;
	n->priv = &en;
	n->link = true;                 /* until a link event says otherwise */
	kprintf("ena0: %02x:%02x:%02x:%02x:%02x:%02x, %u queue pairs of %u, rings %u/%u, %s, %s reads, "
		"csum offload tx %s rx %s\n", n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
		n->npairs, en.max_pairs, n->rx_size, n->tx_size, en.use_llq ? "LLQ" : "host TX placement",
		en.readless ? "readless" : "direct", n->caps.tx_csum ? "on" : "off", n->caps.rx_csum ? "on" : "off");
	return 0;
}

/*
 * The fields each protocol hashes (RSS_HASH_INPUT), as net/flow.c hashes them: TCP and UDP over
 * IPv4 and IPv6 on source and destination address and port, the rest of IP on the addresses
 * (Linux ena_com_set_default_hash_ctrl chooses the same), with no sorting (the references enable
 * L3 and L4 sorting, a symmetric hash that is no longer the plain Toeplitz net.c computes for
 * fragments and ICMP errors). Best effort: a device without the feature keeps its own choice, as
 * the references accept (ena_com returns EOPNOTSUPP and they go on), and one that cannot hash a
 * field gets the others; either is said, since IPv6 fragments and ICMPv6 errors may then be
 * steered to another core than the flow's. IPv4 is placed as before in every case.
 */
static void hash_input(void)
{
	if (!has_feature(ENA_FEAT_RSS_HASH_INPUT)) {
		kprintf("ena0: no RSS_HASH_INPUT: the device's own fields per protocol\n");
		return;
	}
	const uint16_t l3 = ENA_RSS_L3_SA | ENA_RSS_L3_DA, l4 = ENA_RSS_L4_SP | ENA_RSS_L4_DP;
	static const uint16_t want[] = {
		[ENA_RSS_TCP4] = l3 | l4, [ENA_RSS_UDP4] = l3 | l4, [ENA_RSS_TCP6] = l3 | l4, [ENA_RSS_UDP6] = l3 | l4,
		[ENA_RSS_IP4] = l3, [ENA_RSS_IP6] = l3, [ENA_RSS_IP4_FRAG] = l3,
		[ENA_RSS_TCP6_EX] = l3 | l4, [ENA_RSS_IP6_EX] = l3,
	};
	static const char *const name[] = { "TCPv4", "UDPv4", "TCPv6", "UDPv6", "IPv4", "IPv6", "IPv4 fragments", "non-IP",
					    "TCPv6 with extension headers", "IPv6 with extension headers" };
	struct ena_rss_hash_ctrl *h = (void *)en.ctrl;
	memset(h, 0, sizeof(*h));
	struct ena_acq_entry r;
	if (get_feature_ctrl(ENA_FEAT_RSS_HASH_INPUT, 0, &r, h, sizeof(*h))) {
		kprintf("ena0: device refused to tell its hash input: its own fields stay\n");
		return;
	}
	for (uint32_t p = 0; p < sizeof(want) / sizeof(want[0]); p++) {
		if (!want[p])
			continue;               /* NOT_IP: the device's choice (net/ sends ARP everywhere) */
		uint16_t can = h->supported[p].fields & want[p];
		if (can != want[p])
			kprintf("ena0: the device cannot hash %s on its %s\n", name[p], (can & l3) == l3 ? "ports" : "addresses");
		h->selected[p].fields = can;
	}
	struct ena_rss_hash_sort sort = { 0, 0 };
	if (set_feature(ENA_FEAT_RSS_HASH_INPUT, &sort, sizeof(sort), h, sizeof(*h)))
		kprintf("ena0: device refused our hash input: its own fields stay\n");
}

/* RSS: Toeplitz with our key, then the indirection table in the RX queue indices the device gave,
 * then the fields hashed. */
static int rss_config(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	struct ena_rss_key *k = (void *)en.ctrl;
	memset(k, 0, sizeof(*k));
	k->key_parts = NIC_RSS_KEY_LEN / 4;
	/* The device reads the key in reverse byte order (FreeBSD ena_rss.c ena_rss_reorder_hash_key,
	 * DPDK ena_rss.c ena_reorder_rss_hash_key): reversed, its hash is the software Toeplitz with
	 * our key, which net.c computes for fragments and ICMP errors. */
	uint8_t *kb = (uint8_t *)k->key;
	for (uint32_t i = 0; i < NIC_RSS_KEY_LEN; i++)
		kb[i] = key[NIC_RSS_KEY_LEN - 1 - i];
	uint32_t f[3] = { 0, 1u << ENA_HASH_TOEPLITZ, 0 };
	if (set_feature(ENA_FEAT_RSS_HASH_FUNCTION, f, sizeof(f), k, sizeof(*k)))
		return -1;
	uint32_t *t = (void *)en.ctrl;
	for (uint32_t i = 0; i < (1u << ENA_RSS_LOG); i++)
		t[i] = pairs[reta[i] % n->npairs].rx.sq_idx;     /* cq_idx field, then reserved */
	uint8_t it[12] = { 0 };
	it[4] = ENA_RSS_LOG;                            /* size (log2) */
	memset(it + 8, 0xff, 4);                        /* inline_index: none */
	if (set_feature(ENA_FEAT_RSS_INDIRECTION, it, sizeof(it), t, 4u << ENA_RSS_LOG))
		return -1;
	hash_input();
	return 0;
}

static void sq_doorbell(struct ena_ring *g)
{
	if (g->tail != g->db_tail) {
		if (g->llq)
			wc_wmb();       /* the entries written to the write-combining BAR, all of them */
		else
			dma_wmb();
		mmio_write32(g->doorbell, g->tail);
		g->db_tail = g->tail;
		g->burst = 0;
		g->doorbells++;
	}
}

static int ena_start(struct nic *n, const uint8_t *key, const uint8_t *reta)
{
	if (n->caps.rss && rss_config(n, key, reta)) {
		kprintf("ena0: device refused the RSS configuration\n");
		n->caps.rss = false;
	}
	/* The completion's hash is our Toeplitz only when the device took our key; otherwise it is the
	 * device's own (or none), and net.c must hash in software to steer. */
	n->caps.rx_hash = n->caps.rss && (en.offload_rx & ENA_OFFLOAD_RX_HASH);
	for (uint32_t i = 0; i < n->npairs; i++)
		sq_doorbell(&pairs[i].rx);      /* the rings were filled; their cores wait for us */
	kprintf("ena0: live, rss %s\n", n->caps.rss ? "on" : "off");
	return 0;
}

/* ---- data path ---- */

static void ena_rx_post(struct nic *n, uint32_t q, const uint32_t *ids, uint32_t cnt)
{
	(void)n;
	struct ena_ring *g = &pairs[q].rx;
	struct ena_rx_desc *ring = g->desc;
	for (uint32_t i = 0; i < cnt; i++) {
		struct ena_rx_desc *d = &ring[g->tail & (g->depth - 1)];
		uint64_t pa = (uint64_t)(uintptr_t)nic_rx_buf(q, ids[i]);
		d->length = NIC_BUF_SIZE;
		d->reserved2 = 0;
		d->req_id = (uint16_t)ids[i];
		d->reserved6 = 0;
		d->addr_lo = (uint32_t)pa;
		d->addr_hi = (uint16_t)(pa >> 32);
		d->reserved16 = 0;
		dma_wmb();              /* the phase last: the entry is whole when the device sees it */
		d->ctrl = ENA_RXD_FIRST | ENA_RXD_LAST | ENA_RXD_COMP_REQ | g->sq_phase;
		if ((++g->tail & (g->depth - 1)) == 0)
			g->sq_phase ^= 1;
	}
}

static void cq_advance(struct ena_ring *g)
{
	if ((++g->cq_head & (g->cq_depth - 1)) == 0)
		g->cq_phase ^= 1;
}

static int ena_rx_poll(struct nic *n, uint32_t q, struct nic_rxd *out, int max)
{
	struct ena_ring *g = &pairs[q].rx;
	volatile struct ena_rx_cdesc *ring = g->cq;
	int k = 0;
	while (k < max) {
		volatile struct ena_rx_cdesc *c = &ring[g->cq_head & (g->cq_depth - 1)];
		uint32_t st = c->status;
		if (!!(st & ENA_RXC_PHASE) != g->cq_phase)
			break;
		dma_rmb();
		struct nic_rxd d = { c->req_id, c->length, c->hash, 0 };
		cq_advance(g);
		if ((st & (ENA_RXC_FIRST | ENA_RXC_LAST)) != (ENA_RXC_FIRST | ENA_RXC_LAST) || c->offset) {
			g->bad_cdesc++;         /* a frame over several buffers, or moved: not ours */
			d.len = 0;
		}
		uint32_t l4 = st >> ENA_RXC_L4_SHIFT & ENA_RXC_L4_MASK;
		if (n->caps.rx_csum && (l4 == ENA_L4_TCP || l4 == ENA_L4_UDP) && (st & ENA_RXC_L4_CSUM_CHECKED) &&
		    !(st & (ENA_RXC_L4_CSUM_ERR | ENA_RXC_IPV4_FRAG)))
			d.flags |= NIC_RX_CSUM_OK;
		if (n->caps.rx_hash)
			d.flags |= NIC_RX_HASH;
		out[k++] = d;
	}
	return k;
}

static uint32_t tx_entries(uint32_t ndesc)
{
	if (!en.use_llq)
		return ndesc;
	/* LLQ: the first entry holds two descriptors and the header, each further entry eight (or one
	 * with single-descriptor stride). */
	uint32_t rest = ndesc > ENA_LLQ_DESCS_FIRST ? ndesc - ENA_LLQ_DESCS_FIRST : 0;
	return 1 + (rest + en.llq_descs_per_entry - 1) / en.llq_descs_per_entry;
}

static bool ena_tx_room(struct nic *n, uint32_t q, uint32_t nseg)
{
	(void)n;
	return pairs[q].tx.free >= tx_entries(nseg + 1);
}

/* Write one LLQ entry (a bounce copy in host memory) into device memory, 8 bytes at a time. */
static void llq_put(struct ena_ring *g, const uint8_t *e)
{
	uint64_t dst = g->llq + (uint64_t)(g->tail & (g->depth - 1)) * ENA_LLQ_ENTRY;
	for (uint32_t i = 0; i < ENA_LLQ_ENTRY; i += 8) {
		uint64_t v;
		memcpy(&v, e + i, 8);
		mmio_write64(dst + i, v);
	}
	g->burst++;
	if ((++g->tail & (g->depth - 1)) == 0)
		g->sq_phase ^= 1;
}

static void ena_tx_post(struct nic *n, uint32_t q, const struct nic_txd *d)
{
	(void)n;
	struct ena_ring *g = &pairs[q].tx;
	struct ena_tx_desc dv[ENA_TX_MAX_DESCS];
	uint32_t nd = 0, push = 0;
	uint32_t rid = d->slot;
	uint32_t meta = 0;
	/* Offload: a meta descriptor tells the device where the headers are. */
	if (d->o.csum_start || en.meta_always) {
		struct ena_tx_meta *m = (void *)&dv[nd++];
		memset(m, 0, sizeof(*m));
		/* As Linux ena_eth_com.c ena_com_create_meta writes it: an extended meta descriptor,
		 * stored in the queue's cache; the req_id bits of a data descriptor are must-be-zero
		 * here (ena_eth_io_defs.h ena_eth_io_tx_meta_desc). */
		m->len_ctrl = ENA_TXD_META | ENA_TXM_EXT_VALID | ENA_TXM_ETH_META_TYPE | ENA_TXM_META_STORE |
			      ENA_TXD_FIRST;
		if (d->o.csum_start) {
			uint32_t l3off = 14, l3len = d->o.csum_start - 14, l4w = d->o.csum_offset == 16 ? 5 : 2;
			if (d->o.csum_offset == 16 && d->seg[0].len > d->o.csum_start + 12u)
				l4w = d->buf[d->o.csum_start + 12] >> 4;        /* TCP data offset, in words */
			m->word2 = (l3len & 0xff) | l3off << 8 | (l4w & 0x3f) << 16;
			meta = ENA_TXD_L3_IPV4 | ENA_TXD_L4_CSUM_EN | ENA_TXD_L4_CSUM_PARTIAL |
			       (d->o.csum_offset == 16 ? ENA_TXD_L4_TCP : ENA_TXD_L4_UDP);
		}
	}
	if (en.use_llq) {
		/* The leading bytes go into device memory with the descriptors; at least one byte
		 * stays in a buffer so every frame has one. */
		push = d->seg[0].len;
		uint32_t room = ENA_LLQ_ENTRY - 16 * ENA_LLQ_DESCS_FIRST;
		if (en.max_hdr && en.max_hdr < room)
			room = en.max_hdr;
		if (push > room)
			push = room;
		if (d->nseg == 1 && push == d->seg[0].len)
			push--;
	}
	uint32_t first = nd;
	for (uint32_t i = 0; i < d->nseg; i++) {
		uint64_t pa = d->seg[i].pa;
		uint32_t len = d->seg[i].len;
		if (i == 0 && push) {
			pa += push, len -= push;
			if (!len)
				continue;
		}
		struct ena_tx_desc *t = &dv[nd++];
		t->len_ctrl = len | (rid >> 10 & 0x3f) << ENA_TXD_REQ_ID_HI_SHIFT;
		t->meta_ctrl = meta | (rid & 0x3ff) << ENA_TXD_REQ_ID_LO_SHIFT;
		t->addr_lo = (uint32_t)pa;
		t->addr_hi_hdr = (uint32_t)(pa >> 32 & 0xffff) | (nd - 1 == first ? push << 24 : 0);
	}
	dv[first].len_ctrl |= ENA_TXD_COMP_REQ | (first == 0 ? ENA_TXD_FIRST : 0);
	dv[nd - 1].len_ctrl |= ENA_TXD_LAST;
	uint32_t used = tx_entries(nd);
	/* The device takes at most llq_burst_entries between two doorbells, and a doorbell inside a
	 * packet hands it half a packet: ring before a packet that would not fit what is left (Linux
	 * ena_eth_com.h ena_com_is_doorbell_needed, called before the packet is written). */
	if (en.use_llq && en.llq_burst_entries && g->burst + used > en.llq_burst_entries && g->burst)
		sq_doorbell(g), g->burst_doorbells++;
	g->used[d->slot] = (uint16_t)used;
	g->free -= used;
	if (!en.use_llq) {
		struct ena_tx_desc *ring = g->desc;
		for (uint32_t i = 0; i < nd; i++) {
			struct ena_tx_desc *s = &ring[g->tail & (g->depth - 1)];
			s->meta_ctrl = dv[i].meta_ctrl;
			s->addr_lo = dv[i].addr_lo;
			s->addr_hi_hdr = dv[i].addr_hi_hdr;
			dma_wmb();
			s->len_ctrl = dv[i].len_ctrl | (uint32_t)g->sq_phase << 24;
			if ((++g->tail & (g->depth - 1)) == 0)
				g->sq_phase ^= 1;
		}
		return;
	}
	/* LLQ entries: [2 descriptors][pushed header], then 8 (or 1) descriptors per entry. */
	uint8_t e[ENA_LLQ_ENTRY] __attribute__((aligned(8)));
	uint32_t i = 0;
	while (i < nd) {
		memset(e, 0, sizeof(e));
		uint32_t per = i == 0 ? ENA_LLQ_DESCS_FIRST : en.llq_descs_per_entry;
		for (uint32_t j = 0; j < per && i < nd; j++, i++) {
			dv[i].len_ctrl |= (uint32_t)g->sq_phase << 24;
			memcpy(e + 16 * j, &dv[i], 16);
		}
		if (per == ENA_LLQ_DESCS_FIRST && push)
			memcpy(e + 16 * ENA_LLQ_DESCS_FIRST, d->buf, push);
		llq_put(g, e);
	}
}

static int ena_tx_reap(struct nic *n, uint32_t q, uint32_t *slots, int max)
{
	struct ena_ring *g = &pairs[q].tx;
	volatile struct ena_tx_cdesc *ring = g->cq;
	int k = 0;
	while (k < max) {
		volatile struct ena_tx_cdesc *c = &ring[g->cq_head & (g->cq_depth - 1)];
		if ((c->flags & 1) != g->cq_phase)
			break;
		dma_rmb();
		uint32_t id = c->req_id;
		cq_advance(g);
		if (id >= n->tx_size || !g->used[id]) {
			g->bad_req_id++;        /* completions may come out of order, but never twice */
			g->broken = true;
			continue;
		}
		g->free += g->used[id];
		g->used[id] = 0;
		slots[k++] = id;
	}
	return k;
}

static void ena_flush(struct nic *n, uint32_t q)
{
	(void)n;
	struct ena_pair *p = &pairs[q];
	sq_doorbell(&p->rx);
	sq_doorbell(&p->tx);
	if (p->rx.cq_head_db)
		mmio_write32(p->rx.cq_head_db, p->rx.cq_head & (p->rx.cq_depth - 1));
	if (p->tx.cq_head_db)
		mmio_write32(p->tx.cq_head_db, p->tx.cq_head & (p->tx.cq_depth - 1));
}

/* ---- slow path: events, keep-alive, device health ---- */

static unsigned aenq_poll(struct nic *n)
{
	unsigned ev = 0;
	uint32_t seen = 0;
	for (;;) {
		volatile struct ena_aenq_entry *e = &en.aenq[en.aenq_head & (ENA_AENQ_DEPTH - 1)];
		if ((e->flags & 1) != en.aenq_phase)
			break;
		dma_rmb();
		switch (e->group) {
		case ENA_AENQ_LINK_CHANGE: {
			bool up = e->u.link_flags & 1;
			en.link_events++;
			ev |= nic_link_change(n, up);
			break;
		}
		case ENA_AENQ_KEEP_ALIVE:
			en.keep_alive_events++;
			en.last_keep_alive = arch_counter();
			en.dev_rx_drops = (uint64_t)e->u.ka.rx_drops_hi << 32 | e->u.ka.rx_drops_lo;
			en.dev_tx_drops = (uint64_t)e->u.ka.tx_drops_hi << 32 | e->u.ka.tx_drops_lo;
			en.dev_rx_overruns = (uint64_t)e->u.ka.rx_overruns_hi << 32 | e->u.ka.rx_overruns_lo;
			break;
		case ENA_AENQ_FATAL_ERROR:
			en.fatal_events++;
			en.reset_reason = ENA_RESET_GENERIC;
			kprintf("ena0: fatal error event\n");
			ev |= NIC_EV_RESET;
			break;
		case ENA_AENQ_DEVICE_REQUEST_RESET:
			en.reset_requests++;
			en.reset_reason = ENA_RESET_DEVICE_REQUEST;    /* Linux ena_admin_device_request_reset */
			kprintf("ena0: device asked for a reset\n");
			ev |= NIC_EV_RESET;
			break;
		case ENA_AENQ_WARNING:
			en.warnings++;
			break;
		case ENA_AENQ_NOTIFICATION:
			en.notifications++;
			break;
		default:
			en.unknown_events++;
			break;
		}
		if ((++en.aenq_head & (ENA_AENQ_DEPTH - 1)) == 0)
			en.aenq_phase ^= 1;
		seen++;
	}
	if (seen) {
		/* The entries read before they are handed back: a full barrier, loads before the
		 * store (Linux ena_com.c ena_com_aenq_intr_handler: mb() then the doorbell). dma_rmb
		 * orders loads only, which AArch64 does not extend to a later store (dmb oshld
		 * would; dma_mb is dmb osh there, mfence on x86). */
		dma_mb();
		reg_w(ENA_REG_AENQ_HEAD_DB, en.aenq_head);
	}
	return ev;
}

static unsigned ena_slow_poll(struct nic *n)
{
	unsigned ev = aenq_poll(n);
	if ((en.aenq_groups >> ENA_AENQ_KEEP_ALIVE & 1) &&
	    arch_counter() - en.last_keep_alive > ms_ticks(ENA_KEEP_ALIVE_TIMEOUT_MS)) {
		en.keep_alive_timeouts++;
		en.reset_reason = ENA_RESET_KEEP_ALIVE_TO;
		kprintf("ena0: no keep-alive for %u ms\n", ENA_KEEP_ALIVE_TIMEOUT_MS);
		ev |= NIC_EV_RESET;
	}
	uint32_t st = reg_r(ENA_REG_DEV_STS);
	if (st != 0xffffffffu && (st & ENA_DEV_STS_FATAL_ERROR)) {
		en.fatal_events++;
		en.reset_reason = ENA_RESET_GENERIC;
		ev |= NIC_EV_RESET;
	}
	if (en.admin_broken)
		ev |= NIC_EV_RESET;
	for (uint32_t i = 0; i < n->npairs; i++)
		if (pairs[i].tx.broken || pairs[i].rx.broken) {
			en.reset_reason = ENA_RESET_GENERIC;
			ev |= NIC_EV_RESET;
		}
	return ev;
}

/* Every queue stopped: reset the device and make the same queues again, empty and not live. */
static int ena_reset(struct nic *n)
{
	int err = bring_up(n, n->npairs, true);
	en.reset_reason = ENA_RESET_NORMAL;
	return err;
}

static unsigned ena_counters(struct nic *n, int q, struct nic_counter *out, unsigned max)
{
	(void)n;
	unsigned k = 0;
#define C(name, v) nic_counter(out, &k, max, name, v)
	if (q < 0) {
		C("dev_rx_drops", en.dev_rx_drops);
		C("dev_tx_drops", en.dev_tx_drops);
		C("dev_rx_overruns", en.dev_rx_overruns);
		C("keep_alives", en.keep_alive_events);
		C("keep_alive_timeouts", en.keep_alive_timeouts);
		C("fatal_events", en.fatal_events);
		C("reset_requests", en.reset_requests);
		C("link_events", en.link_events);
		C("admin_timeouts", en.admin_timeouts);
		C("admin_errors", en.admin_errors);
		C("warnings", en.warnings + en.notifications + en.unknown_events);
		return k;
	}
	const struct ena_pair *p = &pairs[q];
	C("doorbells", p->rx.doorbells + p->tx.doorbells);
	C("burst_doorbells", p->tx.burst_doorbells);
	C("bad_req_id", p->tx.bad_req_id + p->rx.bad_req_id);
	C("bad_cdesc", p->rx.bad_cdesc);
#undef C
	return k;
}

static const struct nic_ops ena_ops = {
	.name = "ena",
	.wc_bars = 1u << ENA_BAR_MEM,   /* LLQ entries: write-combining */
	.attach = ena_attach,
	.start = ena_start,
	.rx_post = ena_rx_post,
	.rx_poll = ena_rx_poll,
	.tx_room = ena_tx_room,
	.tx_post = ena_tx_post,
	.tx_reap = ena_tx_reap,
	.flush = ena_flush,
	.slow_poll = ena_slow_poll,
	.reset = ena_reset,
	.counters = ena_counters,
	/*
	 * No set_mcast: the device has no receive filter to program. Its admin queue takes
	 * CREATE/DESTROY_SQ/CQ, GET/SET_FEATURE and GET_STATS only, and none of its features is
	 * an address or multicast filter (amzn-drivers, kernel/linux/common/ena_com/
	 * ena_admin_defs.h, enum ena_admin_aq_opcode and ena_admin_aq_feature_id, commit 64788ef);
	 * Linux's ena_set_rx_mode is an empty stub marked "TODO set Rx mode" (kernel/linux/ena/
	 * ena_netdev.c). What reaches the guest is the VPC's choice; nic.c records the device as
	 * receiving all multicast, and the stacks drop the groups they did not join (counted).
	 */
};

static const struct nic_id ena_ids[] = {
	{ ENA_VENDOR, ENA_DEV_VF },
	{ ENA_VENDOR, ENA_DEV_LLQ_VF },
	{ ENA_VENDOR, ENA_DEV_PF },
	{ ENA_VENDOR, ENA_DEV_LLQ_PF },
	{ ENA_VENDOR, ENA_DEV_VF_0051 },
	{ 0, 0 },
};

const struct nic_driver ena_driver = { &ena_ops, ena_ids };
