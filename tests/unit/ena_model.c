/* The ENA device model (tests/unit/ena_model.h): what the firmware does with registers, admin
 * commands and rings, refusing what the firmware refuses. Layouts from drivers/ena_reg.h. */
#include <stdio.h>
#include <string.h>

#include "ena_model.h"
#include "drivers/ena_reg.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "net/flow.h"
#include "csum.h"
#include "fakepci.h"
#include "ip6_walk.h"

struct em_state em;
struct acpi_info em_acpi;

/* ---- PCI: one function, 1d0f:ec20 at 00:03.0 in the fake ECAM, BAR0 registers, BAR2 device memory ---- */
static void pci_init(bool readless)
{
	fakepci_reset();
	size_t s = fakepci_fn(0, 3, 0, ENA_VENDOR, ENA_DEV_VF, 0x02, 0x00, 0x00);
	fakepci_put(fakepci.mem, s + PCI_CFG_REVISION, readless ? 0 : ENA_PCI_REV_NO_READLESS, 1);
	fakepci_bar(s, 0, 0x4 | (uint32_t)EM_BAR0, (uint32_t)~(EM_BAR0_SIZE - 1));     /* 64-bit memory */
	fakepci_bar(s, 1, 0, 0xffffffffu);
	fakepci_bar(s, 2, 0xc | (uint32_t)EM_BAR2, (uint32_t)~(EM_BAR2_SIZE - 1));     /* 64-bit prefetchable */
	fakepci_bar(s, 3, 0, 0xffffffffu);
	pci_set_cfg_ops(&fakepci_ops);
	memset(&em_acpi, 0, sizeof(em_acpi));
	em_acpi.nmcfg = 1;
	em_acpi.mcfg[0].base = fakepci.base;
	em_acpi.mcfg[0].bus_end = 0;
}

/* ---- DMA: physical = virtual on the host ---- */
static void *pa(uint64_t a) { return (void *)(uintptr_t)a; }
static uint64_t addr48(const struct ena_addr *a) { return (uint64_t)a->hi << 32 | a->lo; }

/* ---- AENQ ---- */
void em_aenq(uint16_t group, uint32_t data)
{
	uint32_t depth = em.regs[ENA_REG_AENQ_CAPS / 4] & 0xffff;
	uint64_t ba = (uint64_t)em.regs[ENA_REG_AENQ_BASE_HI / 4] << 32 | em.regs[ENA_REG_AENQ_BASE_LO / 4];
	if (!depth || !ba || !em.aenq_head_written || em.aenq_tail >= em.regs[ENA_REG_AENQ_HEAD_DB / 4] ||
	    (group < 32 && !((em.aenq_groups >> group) & 1))) {
		em.st.aenq_dropped++;
		return;
	}
	struct ena_aenq_entry *e = (struct ena_aenq_entry *)pa(ba) + (em.aenq_tail & (depth - 1));
	struct ena_aenq_entry v = { 0 };
	v.group = group;
	v.u.link_flags = data;
	if (group == ENA_AENQ_KEEP_ALIVE) {
		v.u.ka.rx_drops_lo = (uint32_t)em.st.rx_drop_no_desc;
		v.u.ka.tx_drops_lo = 7;
	}
	v.flags = em.aenq_phase;
	*e = v;
	em.aenq_written = true;
	em.aenq_barriers = host_full_barriers;
	if ((++em.aenq_tail & (depth - 1)) == 0)
		em.aenq_phase ^= 1;
}

void em_tick(uint32_t ms)
{
	em.now_ms += ms;
	if (em.now_ms - em.last_ka_ms >= 1000) {
		em.last_ka_ms = em.now_ms;
		if (!em.keep_alive_stopped && !em.resetting) {
			em.st.keep_alives++;
			em_aenq(ENA_AENQ_KEEP_ALIVE, 0);
		}
	}
}

/* ---- reset ---- */
static void hctrl_defaults(void)
{
	struct ena_rss_hash_ctrl *h = &em.hctrl;
	const uint16_t l3 = ENA_RSS_L3_SA | ENA_RSS_L3_DA, l4 = ENA_RSS_L4_SP | ENA_RSS_L4_DP, l2 = ENA_RSS_L2_SA | ENA_RSS_L2_DA;
	memset(h, 0, sizeof(*h));
	for (int p = 0; p <= ENA_RSS_IP6_EX; p++) {
		bool ports = p == ENA_RSS_TCP4 || p == ENA_RSS_UDP4 || p == ENA_RSS_TCP6 || p == ENA_RSS_UDP6 ||
			     p == ENA_RSS_TCP6_EX;
		h->supported[p].fields = p == ENA_RSS_NOT_IP ? l2 : (uint16_t)(l2 | l3 | (ports ? l4 : 0));
		h->selected[p].fields = p == ENA_RSS_NOT_IP ? l2 : (uint16_t)(l3 | (p == ENA_RSS_TCP4 || p == ENA_RSS_UDP4 ? l4 : 0));
	}
	if (em.cfg.no_l4_tcp6)
		h->supported[ENA_RSS_TCP6].fields = l2 | l3;
	em.hsort = 0;
}

static void forget_everything(void)
{
	uint32_t keep_caps = em.regs[ENA_REG_CAPS / 4], keep_ver = em.regs[ENA_REG_VERSION / 4];
	memset(em.regs, 0, sizeof(em.regs));
	em.regs[ENA_REG_CAPS / 4] = keep_caps;
	em.regs[ENA_REG_VERSION / 4] = keep_ver;
	em.aq_head = 0, em.aq_phase = 1;
	em.acq_tail = 0, em.acq_phase = 1;
	em.aenq_tail = 0, em.aenq_phase = 1;
	em.aenq_head_written = false;
	em.aenq_written = false;
	em.host_info = false;
	em.aenq_groups = 0;
	em.llq_set = em.meta_every = em.rss = false;
	em.host_features = 0;
	hctrl_defaults();
	for (int i = 0; i < 40; i++)    /* the device's own key until the driver gives one: not ours */
		em.key[i] = (uint8_t)(0x6d + 29 * i);
	memset(em.q, 0, sizeof(em.q));
	memset(em.cq, 0, sizeof(em.cq));
	em.nheld = 0;
	em.st.first_opcode = em.st.first_feature = 0;
}

/* ---- admin commands ---- */
#define SUPPORTED_FEATURES (1u << ENA_FEAT_DEVICE_ATTRIBUTES | 1u << ENA_FEAT_STATELESS_OFFLOAD | \
	1u << ENA_FEAT_RSS_INDIRECTION | \
	1u << ENA_FEAT_AENQ_CONFIG | 1u << ENA_FEAT_HOST_ATTR_CONFIG)
#define SUPPORTED_GROUPS (1u << ENA_AENQ_LINK_CHANGE | 1u << ENA_AENQ_FATAL_ERROR | 1u << ENA_AENQ_WARNING | \
	1u << ENA_AENQ_NOTIFICATION | 1u << ENA_AENQ_KEEP_ALIVE | 1u << ENA_AENQ_DEVICE_REQUEST_RESET)
#define EM_MAX_DEPTH 1024

/* RSS_HASH_FUNCTION is offered only to a driver that declared RSS_CONFIGURABLE_FUNCTION_KEY in its
 * host info (Linux ena_netdev.c ena_config_host_info declares it; without it the device may keep
 * the function and key to itself). */
static bool rss_offered(void)
{
	return !em.cfg.no_rss && (em.host_features & ENA_HOST_INFO_RSS_CONFIGURABLE_FUNCTION_KEY);
}

static uint8_t refuse(uint64_t *counter, uint8_t status)
{
	(*counter)++;
	em.st.refused++;
	return status;
}

static struct em_q *sq_by_idx(uint16_t idx)
{
	for (int i = 0; i < EM_MAX_Q; i++)
		if (em.q[i].used && em.q[i].sq_idx == idx)
			return &em.q[i];
	return NULL;
}

static uint8_t cmd_get(const struct ena_aq_entry *c, struct ena_acq_entry *r)
{
	switch (c->u.feat.feature_id) {
	case ENA_FEAT_DEVICE_ATTRIBUTES: {
		static const uint8_t mac[6] = { 0x02, 0x1d, 0x0f, 0xec, 0x20, 0x01 };
		r->u.dev_attr.supported_features = SUPPORTED_FEATURES | (em.cfg.llq ? 1u << ENA_FEAT_LLQ : 0) |
						   (em.cfg.no_queues_ext ? 1u << ENA_FEAT_MAX_QUEUES_NUM :
									    1u << ENA_FEAT_MAX_QUEUES_EXT) |
						   (rss_offered() ? 1u << ENA_FEAT_RSS_HASH_FUNCTION : 0) |
						   (em.cfg.no_hash_input ? 0 : 1u << ENA_FEAT_RSS_HASH_INPUT);
		r->u.dev_attr.capabilities = em.cfg.no_ext_reset_reasons ? 0 : 1u << ENA_CAP_EXTENDED_RESET_REASONS;
		r->u.dev_attr.phys_addr_width = 48;
		memcpy(r->u.dev_attr.mac, mac, 6);
		r->u.dev_attr.max_mtu = 9216;
		return 0;
	}
	case ENA_FEAT_AENQ_CONFIG:
		r->u.aenq.supported_groups = SUPPORTED_GROUPS;
		r->u.aenq.enabled_groups = em.aenq_groups;
		return 0;
	case ENA_FEAT_MAX_QUEUES_NUM:
		if (!em.cfg.no_queues_ext)
			return 3;
		r->u.max_queue.max_sq_num = r->u.max_queue.max_cq_num = em.cfg.max_queues;
		r->u.max_queue.max_sq_depth = r->u.max_queue.max_cq_depth = EM_MAX_DEPTH;
		r->u.max_queue.max_legacy_llq_num = em.cfg.llq ? em.cfg.max_queues : 0;
		r->u.max_queue.max_legacy_llq_depth = em.cfg.llq ? 512 : 0;
		r->u.max_queue.max_header_size = 96;
		r->u.max_queue.max_packet_tx_descs = 17;
		r->u.max_queue.max_packet_rx_descs = 1;
		return 0;
	case ENA_FEAT_MAX_QUEUES_EXT:
		if (em.cfg.no_queues_ext)
			return 3;               /* not offered: an older device */
		if (c->u.feat.feature_version < 1)
			return refuse(&em.st.refused_feature_version, ENA_ADMIN_ILLEGAL_PARAMETER);
		r->u.max_queue_ext.version = 1;
		r->u.max_queue_ext.max_tx_sq_num = r->u.max_queue_ext.max_tx_cq_num = em.cfg.max_queues;
		r->u.max_queue_ext.max_rx_sq_num = r->u.max_queue_ext.max_rx_cq_num = em.cfg.max_queues;
		r->u.max_queue_ext.max_tx_sq_depth = r->u.max_queue_ext.max_tx_cq_depth = EM_MAX_DEPTH;
		r->u.max_queue_ext.max_rx_sq_depth = r->u.max_queue_ext.max_rx_cq_depth = EM_MAX_DEPTH;
		r->u.max_queue_ext.max_tx_header_size = 96;
		r->u.max_queue_ext.max_tx_descs = 17;
		r->u.max_queue_ext.max_rx_descs = 1;
		return 0;
	case ENA_FEAT_LLQ:
		if (!em.cfg.llq)
			return 3;
		r->u.llq.max_llq_num = em.cfg.max_queues;
		r->u.llq.max_llq_depth = 512;
		r->u.llq.header_location_supported = ENA_LLQ_HEADER_INLINE;
		r->u.llq.entry_size_supported = ENA_LLQ_ENTRY_128 | 2 | 4;
		r->u.llq.descs_before_header_supported = 1 | 2 | 4 | 8;
		r->u.llq.stride_supported = em.cfg.llq_single_stride ? ENA_LLQ_STRIDE_SINGLE :
					    ENA_LLQ_STRIDE_SINGLE | ENA_LLQ_STRIDE_MULTIPLE;
		r->u.llq.feature_version = 1;
		r->u.llq.accel_flags = (em.cfg.no_meta_caching ? ENA_ACCEL_DISABLE_META_CACHING : 0) |
				       (em.cfg.burst_bytes ? ENA_ACCEL_LIMIT_TX_BURST : 0);
		r->u.llq.max_tx_burst = (uint16_t)em.cfg.burst_bytes;
		return 0;
	case ENA_FEAT_STATELESS_OFFLOAD:
		r->u.offload.tx = ENA_OFFLOAD_TX_L4_IPV4_PART;
		r->u.offload.rx_supported = ENA_OFFLOAD_RX_L4_IPV4 | ENA_OFFLOAD_RX_HASH;
		return 0;
	case ENA_FEAT_RSS_INDIRECTION:
		r->u.ind_table.min_size = 0;
		r->u.ind_table.max_size = 10;
		r->u.ind_table.size = 7;
		return 0;
	case ENA_FEAT_RSS_HASH_INPUT: {
		/* The fields into the driver's control buffer (Linux ena_com_get_hash_ctrl), the
		 * sorting inline. */
		if (em.cfg.no_hash_input)
			return 3;
		if (!(c->h.flags & ENA_AQ_CTRL_DATA_INDIRECT))
			return refuse(&em.st.refused_ctrl_not_indirect, ENA_ADMIN_ILLEGAL_PARAMETER);
		if (c->u.feat.ctrl_len < sizeof(em.hctrl))
			return refuse(&em.st.refused_hash_input, ENA_ADMIN_ILLEGAL_PARAMETER);
		memcpy(pa(addr48(&c->u.feat.ctrl_addr)), &em.hctrl, sizeof(em.hctrl));
		struct ena_rss_hash_sort hs = { ENA_RSS_SORT_L3 | ENA_RSS_SORT_L4, em.hsort };
		memcpy(r->u.raw, &hs, sizeof(hs));
		return 0;
	}
	}
	return 3;
}

/* A control buffer (RSS key, indirection table) is taken only with CTRL_DATA_INDIRECT (0x04), the
 * flag every reference sets with one (Linux ena_com.c ena_com_set_hash_function,
 * ena_com_indirect_table_set; FreeBSD and DPDK share ena_com). */
static uint8_t cmd_set(const struct ena_aq_entry *c)
{
	const uint8_t *d = c->u.feat.data;
	switch (c->u.feat.feature_id) {
	case ENA_FEAT_HOST_ATTR_CONFIG: {
		struct ena_host_attr a;
		memcpy(&a, d, sizeof(a));
		if (!addr48(&a.os_info))
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		const struct ena_host_info *h = pa(addr48(&a.os_info));
		if (h->driver_version != 2)     /* the firmware iPXE met: it wants exactly this */
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		em.host_info = true;
		em.host_info_pa = addr48(&a.os_info);
		em.host_features = h->driver_features;
		return 0;
	}
	case ENA_FEAT_AENQ_CONFIG: {
		uint32_t g[2];
		memcpy(g, d, 8);
		if (g[1] & ~SUPPORTED_GROUPS)
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		em.aenq_groups = g[1];
		return 0;
	}
	case ENA_FEAT_LLQ: {
		struct ena_llq_desc l;
		memcpy(&l, d, sizeof(l));
		if (!em.cfg.llq || l.header_location_enabled != ENA_LLQ_HEADER_INLINE ||
		    l.entry_size_enabled != ENA_LLQ_ENTRY_128 || l.descs_before_header_enabled != 2 ||
		    (l.stride_enabled != ENA_LLQ_STRIDE_SINGLE && l.stride_enabled != ENA_LLQ_STRIDE_MULTIPLE) ||
		    (l.stride_enabled == ENA_LLQ_STRIDE_MULTIPLE && em.cfg.llq_single_stride))
			return refuse(&em.st.refused_bad_llq, ENA_ADMIN_ILLEGAL_PARAMETER);
		em.llq_set = true;
		em.llq_stride = l.stride_enabled;
		em.meta_every = em.cfg.no_meta_caching;
		return 0;
	}
	case ENA_FEAT_RSS_HASH_FUNCTION: {
		uint32_t f[3];
		memcpy(f, d, 12);
		if (!rss_offered())
			return refuse(&em.st.refused_rss_not_offered, 3);
		if (!(c->h.flags & ENA_AQ_CTRL_DATA_INDIRECT))
			return refuse(&em.st.refused_ctrl_not_indirect, ENA_ADMIN_ILLEGAL_PARAMETER);
		if (f[1] != 1u << ENA_HASH_TOEPLITZ)
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		const struct ena_rss_key *k = pa(addr48(&c->u.feat.ctrl_addr));
		if (k->key_parts != 10)
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		/* The device reads the key in reverse byte order (FreeBSD ena_rss.c
		 * ena_rss_reorder_hash_key, DPDK ena_rss.c ena_reorder_rss_hash_key): em.key is the
		 * key it hashes with. */
		const uint8_t *kb = (const uint8_t *)k->key;
		for (int i = 0; i < 40; i++)
			em.key[i] = kb[39 - i];
		return 0;
	}
	case ENA_FEAT_RSS_INDIRECTION: {
		uint32_t log = d[4];
		if (!(c->h.flags & ENA_AQ_CTRL_DATA_INDIRECT))
			return refuse(&em.st.refused_ctrl_not_indirect, ENA_ADMIN_ILLEGAL_PARAMETER);
		if (log > 10 || c->u.feat.ctrl_len != 4u << log)
			return ENA_ADMIN_ILLEGAL_PARAMETER;
		const uint32_t *t = pa(addr48(&c->u.feat.ctrl_addr));
		for (uint32_t i = 0; i < (1u << log); i++) {
			struct em_q *q = sq_by_idx((uint16_t)t[i]);
			if (!q || q->tx)
				return refuse(&em.st.refused_bad_reta, ENA_ADMIN_ILLEGAL_PARAMETER);
			em.reta[i] = (uint16_t)t[i];
		}
		em.reta_log = log;
		em.rss = true;
		return 0;
	}
	case ENA_FEAT_RSS_HASH_INPUT: {
		/* Only fields the device supports, only the sorting it supports. */
		if (em.cfg.no_hash_input)
			return 3;
		if (!(c->h.flags & ENA_AQ_CTRL_DATA_INDIRECT))
			return refuse(&em.st.refused_ctrl_not_indirect, ENA_ADMIN_ILLEGAL_PARAMETER);
		struct ena_rss_hash_sort hs;
		memcpy(&hs, d, sizeof(hs));
		const struct ena_rss_hash_ctrl *h = pa(addr48(&c->u.feat.ctrl_addr));
		if (c->u.feat.ctrl_len != sizeof(*h) || (hs.enabled & ~(ENA_RSS_SORT_L3 | ENA_RSS_SORT_L4)))
			return refuse(&em.st.refused_hash_input, ENA_ADMIN_ILLEGAL_PARAMETER);
		for (int p = 0; p < ENA_RSS_PROTOS; p++)
			if (h->selected[p].fields & ~em.hctrl.supported[p].fields)
				return refuse(&em.st.refused_hash_input, ENA_ADMIN_ILLEGAL_PARAMETER);
		for (int p = 0; p < ENA_RSS_PROTOS; p++)
			em.hctrl.selected[p].fields = h->selected[p].fields;
		em.hsort = hs.enabled;
		em.hash_inputs++;
		return 0;
	}
	}
	return 3;
}

static uint8_t cmd_create_cq(const struct ena_aq_entry *c, struct ena_acq_entry *r)
{
	if (!em.host_info)
		return refuse(&em.st.refused_no_host_info, 6);
	if (c->u.create_cq.msix_vector != 0xFFFFFFFFu || (c->u.create_cq.cq_caps_1 & ENA_CQ_INTERRUPT_MODE))
		return refuse(&em.st.refused_msix, ENA_ADMIN_ILLEGAL_PARAMETER);
	uint32_t depth = c->u.create_cq.cq_depth, words = c->u.create_cq.cq_caps_2 & 0x1f;
	if (!depth || (depth & (depth - 1)) || depth > EM_MAX_DEPTH || (words != 2 && words != 4) ||
	    !addr48(&c->u.create_cq.cq_ba))
		return ENA_ADMIN_ILLEGAL_PARAMETER;
	for (int i = 0; i < EM_MAX_Q; i++)
		if (!em.cq[i].used) {
			struct em_cq *q = &em.cq[i];
			*q = (struct em_cq){ true, false, (uint16_t)(3 * i + 5), depth / em.cfg.cq_div, words,
					     addr48(&c->u.create_cq.cq_ba), 0, 1 };
			r->u.create_cq.cq_idx = q->idx;
			r->u.create_cq.cq_actual_depth = (uint16_t)q->depth;
			r->u.create_cq.cq_head_db_reg = 0;
			return 0;
		}
	return 1;
}

static uint8_t cmd_create_sq(const struct ena_aq_entry *c, struct ena_acq_entry *r)
{
	int cq = -1;
	for (int i = 0; i < EM_MAX_Q; i++)
		if (em.cq[i].used && !em.cq[i].bound && em.cq[i].idx == c->u.create_sq.cq_idx)
			cq = i;
	if (cq < 0)
		return refuse(&em.st.refused_sq_before_cq, ENA_ADMIN_ILLEGAL_PARAMETER);
	bool tx = (c->u.create_sq.sq_identity & 0xe0) == ENA_SQ_DIR_TX;
	uint32_t place = c->u.create_sq.sq_caps_2 & 0xf, depth = c->u.create_sq.sq_depth;
	if (!depth || (depth & (depth - 1)) || depth > em.cq[cq].depth)
		return ENA_ADMIN_ILLEGAL_PARAMETER;
	if (tx && place == ENA_PLACEMENT_HOST && em.cfg.llq_only)
		return refuse(&em.st.refused_host_placement, 1);
	if (place == ENA_PLACEMENT_DEV && (!tx || !em.llq_set))
		return ENA_ADMIN_ILLEGAL_PARAMETER;
	if (place == ENA_PLACEMENT_HOST && !addr48(&c->u.create_sq.sq_ba))
		return ENA_ADMIN_ILLEGAL_PARAMETER;
	for (int i = 0; i < EM_MAX_Q; i++)
		if (!em.q[i].used) {
			struct em_q *q = &em.q[i];
			*q = (struct em_q){ 0 };
			q->used = true;
			q->tx = tx;
			q->llq = place == ENA_PLACEMENT_DEV;
			q->sq_idx = (uint16_t)(7 * i + 2);
			q->cq_idx = em.cq[cq].idx;
			q->depth = depth;
			q->ba = addr48(&c->u.create_sq.sq_ba);
			q->llq_off = q->llq ? (uint32_t)(i * 512 * 128) : 0;
			q->phase = 1;
			q->cq = cq;
			em.cq[cq].bound = true;
			r->u.create_sq.sq_idx = q->sq_idx;
			r->u.create_sq.sq_doorbell = 0x2000 + 0x18 * (uint32_t)i;      /* no pattern to guess */
			r->u.create_sq.llq_desc_off = q->llq_off;
			return 0;
		}
	return 1;
}

static void admin_doorbell(uint32_t tail)
{
	uint32_t depth = em.regs[ENA_REG_AQ_CAPS / 4] & 0xffff, cdepth = em.regs[ENA_REG_ACQ_CAPS / 4] & 0xffff;
	uint64_t aq = (uint64_t)em.regs[ENA_REG_AQ_BASE_HI / 4] << 32 | em.regs[ENA_REG_AQ_BASE_LO / 4];
	uint64_t acq = (uint64_t)em.regs[ENA_REG_ACQ_BASE_HI / 4] << 32 | em.regs[ENA_REG_ACQ_BASE_LO / 4];
	if (!depth || !cdepth || !aq || !acq || (uint16_t)(tail - em.aq_head) > depth) {
		em.st.doorbell_beyond++;
		return;
	}
	while (em.aq_head != (uint16_t)tail) {
		struct ena_aq_entry c = ((struct ena_aq_entry *)pa(aq))[em.aq_head & (depth - 1)];
		if ((c.h.flags & ENA_AQ_PHASE) != em.aq_phase) {
			em.st.bad_phase++;
			return;         /* the device waits for a valid entry */
		}
		if ((++em.aq_head & (depth - 1)) == 0)
			em.aq_phase ^= 1;
		em.st.commands++;
		if (!em.st.first_opcode) {
			em.st.first_opcode = c.h.opcode;
			em.st.first_feature = c.u.feat.feature_id;
		}
		struct ena_acq_entry r = { 0 };
		uint8_t s;
		bool aenq = em.aenq_head_written && em.regs[ENA_REG_AENQ_CAPS / 4] && em.regs[ENA_REG_AENQ_BASE_LO / 4];
		if (!aenq)
			s = refuse(&em.st.refused_no_aenq, 6);  /* Graviton: nothing works without an AENQ */
		else if (c.h.opcode == ENA_CMD_GET_FEATURE && c.u.feat.select != 0)
			/* Every reference sends select 0 (Linux ena_com.c ena_com_get_feature_ex leaves it
			 * zeroed); what firmware makes of 1 ("current value" in ena_admin_defs.h) is not
			 * known, so the model holds the driver to 0. */
			s = refuse(&em.st.refused_select, ENA_ADMIN_ILLEGAL_PARAMETER);
		else if (c.h.opcode == ENA_CMD_GET_FEATURE)
			s = cmd_get(&c, &r);
		else if (c.h.opcode == ENA_CMD_SET_FEATURE)
			s = cmd_set(&c);
		else if (c.h.opcode == ENA_CMD_CREATE_CQ)
			s = cmd_create_cq(&c, &r);
		else if (c.h.opcode == ENA_CMD_CREATE_SQ)
			s = cmd_create_sq(&c, &r);
		else
			s = 2;
		r.command_id = c.h.command_id & 0xfff;
		r.status = s;
		r.sq_head = em.aq_head;
		struct ena_acq_entry *dst = (struct ena_acq_entry *)pa(acq) + (em.acq_tail & (cdepth - 1));
		r.flags = 0;
		memcpy(dst, &r, sizeof(r));
		__sync_synchronize();
		dst->flags = em.acq_phase;
		if ((++em.acq_tail & (cdepth - 1)) == 0)
			em.acq_phase ^= 1;
	}
}

/* ---- IO ---- */
static void cq_put(struct em_cq *cq, const void *e, uint32_t size)
{
	uint8_t *dst = (uint8_t *)pa(cq->ba) + (uint64_t)(cq->tail & (cq->depth - 1)) * cq->words * 4;
	memcpy(dst, e, size);
	if ((++cq->tail & (cq->depth - 1)) == 0)
		cq->phase ^= 1;
}

static void tx_complete(struct em_q *q, uint16_t req_id)
{
	struct ena_tx_cdesc c = { req_id, 0, em.cq[q->cq].phase, 0, q->head };
	cq_put(&em.cq[q->cq], &c, sizeof(c));
}

void em_release_tx(void)
{
	while (em.nheld > 0) {
		em.nheld--;
		tx_complete(&em.q[em.held_q[em.nheld]], em.held[em.nheld]);
	}
}

uint16_t em_l4_check(const uint8_t *f, uint32_t len)
{
	uint32_t ihl = (f[14] & 0xf) * 4u, tot = (uint32_t)f[16] << 8 | f[17];
	if (len < 14 + tot || tot < ihl)
		return 0xffff;
	uint32_t l4len = tot - ihl, s = 0;
	s += csum16(0, f + 26, 8);            /* addresses */
	s += f[23];
	s += l4len;
	return (uint16_t)~csum16(s, f + 14 + ihl, l4len);
}

/* One TX frame: its descriptors from head; returns false when the ring holds no whole frame. */
static bool tx_one(struct em_q *q)
{
	uint8_t frame[9216];
	uint32_t len = 0, n = 0, llq_entry = 0;
	uint16_t head = q->head;
	uint8_t phase = q->phase;
	bool meta = false, meta_first = false, first_seen = false, csum = false, bad_meta = false;
	uint32_t l3off = 0, l3len = 0, req_id = 0xffffffffu;
	for (;;) {
		if (head == q->tail) {
			/* A doorbell between the entries of one packet: the device refuses it (Linux
			 * ena_eth_com.h ena_com_is_doorbell_needed rings before a packet, never inside). */
			if (n)
				em.st.tx_split++;
			return false;
		}
		struct ena_tx_desc d;
		const uint8_t *entry = NULL;
		if (q->llq) {
			/* Entry head holds 2 descriptors and the header (first) or 8 descriptors. */
			entry = em.llq_mem + q->llq_off + (uint64_t)(head & (q->depth - 1)) * 128;
			memcpy(&d, entry + 16 * llq_entry, 16);
		} else {
			memcpy(&d, (struct ena_tx_desc *)pa(q->ba) + (head & (q->depth - 1)), 16);
		}
		if (!!(d.len_ctrl & ENA_TXD_PHASE) != phase) {
			em.st.tx_bad_desc++;
			return false;
		}
		if (n == 0 && !(d.len_ctrl & ENA_TXD_FIRST)) {
			em.st.tx_bad_desc++;
			return false;
		}
		if (n == 0)
			meta_first = d.len_ctrl & ENA_TXD_META;
		n++;
		if (d.len_ctrl & ENA_TXD_META) {
			struct ena_tx_meta m;
			memcpy(&m, &d, 16);
			/* As Linux ena_eth_com.c ena_com_create_meta writes it: extended type, stored,
			 * nothing where ena_eth_io_defs.h says must-be-zero (the req_id is not there). */
			if ((m.len_ctrl & (ENA_TXM_ETH_META_TYPE | ENA_TXM_META_STORE)) !=
			    (ENA_TXM_ETH_META_TYPE | ENA_TXM_META_STORE) || (m.len_ctrl & ENA_TXM_MBZ) || m.word1)
				bad_meta = true;
			meta = true;
			em.st.tx_meta++;
			l3len = m.word2 & 0xff;
			l3off = m.word2 >> 8 & 0xff;
		} else {
			if (!first_seen && q->llq) {
				uint32_t push = d.addr_hi_hdr >> 24;
				const uint8_t *first = em.llq_mem + q->llq_off + (uint64_t)(q->head & (q->depth - 1)) * 128;
				memcpy(frame, first + 32, push);
				len = push;
			}
			if (!first_seen) {
				req_id = (d.len_ctrl >> ENA_TXD_REQ_ID_HI_SHIFT & 0x3f) << 10 | d.meta_ctrl >> ENA_TXD_REQ_ID_LO_SHIFT;
				if (!(d.len_ctrl & ENA_TXD_COMP_REQ))
					em.st.tx_bad_desc++;
				csum = d.meta_ctrl & ENA_TXD_L4_CSUM_EN;
			}
			first_seen = true;
			uint32_t l = d.len_ctrl & ENA_TXD_LEN_MASK;
			uint64_t a = (uint64_t)(d.addr_hi_hdr & 0xffff) << 32 | d.addr_lo;
			if (len + l > sizeof(frame)) {
				em.st.tx_bad_desc++;
				return false;
			}
			memcpy(frame + len, pa(a), l);
			len += l;
		}
		bool last = d.len_ctrl & ENA_TXD_LAST;
		if (q->llq) {
			uint32_t per = head == q->head ? 2 : em.llq_stride == ENA_LLQ_STRIDE_SINGLE ? 1 : 8;
			if (++llq_entry == per || last) {
				llq_entry = 0;
				if ((++head & (q->depth - 1)) == 0)
					phase ^= 1;
			}
		} else if ((++head & (q->depth - 1)) == 0) {
			phase ^= 1;
		}
		if (last)
			break;
	}
	if (em.meta_every && !meta)
		em.st.meta_missing++;
	q->head = head;
	q->phase = phase;
	/* LLQ: newer generations drop a packet that does not open with a meta descriptor, even one
	 * that says nothing (iPXE ena.c ena_transmit always writes one). */
	if ((q->llq && !meta_first) || bad_meta) {
		if (bad_meta)
			em.st.meta_bad++;
		else
			em.st.llq_no_meta++;
		tx_complete(q, (uint16_t)req_id);
		return true;
	}
	if (csum) {
		em.st.tx_csum++;
		if (!meta || l3off != 14 || l3len < 20)
			em.st.meta_missing++;
		else {
			/* Partial mode: the field holds the pseudo-header sum; the device sums the L4
			 * part with it and writes the complement there. */
			uint32_t l4 = l3off + l3len, field = frame[23] == 6 ? 16 : 6;
			uint32_t end = 14 + ((uint32_t)frame[16] << 8 | frame[17]);
			if (end > len || l4 + field + 2 > end) {
				em.st.tx_bad_desc++;
			} else {
				uint16_t c = (uint16_t)~csum16(0, frame + l4, end - l4);
				frame[l4 + field] = (uint8_t)(c >> 8), frame[l4 + field + 1] = (uint8_t)c;
			}
		}
	}
	em.st.tx_frames++;
	if (em.wire_n < 64) {
		memcpy(em.wire[em.wire_n], frame, len);
		em.wire_len[em.wire_n++] = len;
	}
	em.tx_q = (int)(q - em.q);
	if (em.cfg.wire)
		em.cfg.wire(frame, len);
	if (em.cfg.out_of_order && em.nheld < 256) {
		em.held[em.nheld] = (uint16_t)req_id;
		em.held_q[em.nheld++] = (int)(q - em.q);
	} else {
		tx_complete(q, (uint16_t)req_id);
	}
	return true;
}

static void sq_doorbell(struct em_q *q, uint16_t tail)
{
	if ((uint16_t)(tail - q->head) > q->depth || (uint16_t)(tail - q->tail) > q->depth) {
		em.st.doorbell_beyond++;
		em.dev_sts |= ENA_DEV_STS_FATAL_ERROR;  /* the device gives up on this driver */
		return;
	}
	if (q->llq && em.cfg.burst_bytes) {
		uint32_t entries = (uint16_t)(tail - q->tail);
		if (entries * 128 > em.cfg.burst_bytes)
			em.st.burst_exceeded++;
	}
	q->tail = tail;
	if (q->tx)
		while (tx_one(q))
			;
}

/* ---- RX ---- */
/* The device's hash of a flow under protocol p's selected fields and the sorting: the source and
 * destination addresses (alen bytes each), then the ports when there are any. */
static uint32_t flow_fields_hash(int p, const uint8_t *sa, const uint8_t *da, unsigned alen, const uint8_t *ports)
{
	uint16_t fl = em.hctrl.selected[p].fields;
	const uint8_t *sp = ports, *dp = ports ? ports + 2 : NULL;
	if ((em.hsort & ENA_RSS_SORT_L3) && memcmp(da, sa, alen) < 0) {
		const uint8_t *x = sa;
		sa = da, da = x;
	}
	if (ports && (em.hsort & ENA_RSS_SORT_L4) && memcmp(dp, sp, 2) < 0) {
		const uint8_t *x = sp;
		sp = dp, dp = x;
	}
	uint8_t t[36];
	unsigned n = 0;
	if (fl & ENA_RSS_L3_SA)
		memcpy(t + n, sa, alen), n += alen;
	if (fl & ENA_RSS_L3_DA)
		memcpy(t + n, da, alen), n += alen;
	if (ports && (fl & ENA_RSS_L4_SP))
		memcpy(t + n, sp, 2), n += 2;
	if (ports && (fl & ENA_RSS_L4_DP))
		memcpy(t + n, dp, 2), n += 2;
	return flow_hash_slow(em.key, t, n);
}

/* An IPv6 frame's protocol for the hash (TCP6, UDP6 or IP6: a fragment's ports are not hashed)
 * and where its ports are, after hop-by-hop, routing and destination options headers. */
static int ip6_proto(const uint8_t *f, uint32_t len, const uint8_t **ports, uint8_t *l4)
{
	const uint8_t *ip = f + 14;
	uint32_t off;
	uint8_t nh;
	bool frag = ip6_walk(f, len, 8, &off, &nh);
	*ports = NULL;
	*l4 = nh;
	if (frag || (nh != 6 && nh != 17) || 14 + off + 4 > len)
		return ENA_RSS_IP6;
	*ports = ip + off;
	return nh == 6 ? ENA_RSS_TCP6 : ENA_RSS_UDP6;
}

int em_rx(const uint8_t *f, uint32_t len)
{
	uint32_t hash = 0;
	bool l4 = len >= 38 && f[12] == 8 && f[13] == 0 && (f[23] == 6 || f[23] == 17);
	bool ip6 = len >= 54 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6;
	const uint8_t *ports6 = NULL;
	uint8_t l4_6 = 0;
	if (l4) {
		uint32_t ihl = (f[14] & 0xf) * 4u;
		hash = flow_fields_hash(f[23] == 6 ? ENA_RSS_TCP4 : ENA_RSS_UDP4, f + 26, f + 30, 4, f + 14 + ihl);
	} else if (ip6) {
		int p = ip6_proto(f, len, &ports6, &l4_6);
		hash = flow_fields_hash(p, f + 22, f + 38, 16, ports6);
	}
	struct em_q *q = NULL;
	if (em.rss && (l4 || ip6))
		q = sq_by_idx(em.reta[hash & ((1u << em.reta_log) - 1)]);
	else
		for (int i = 0; i < EM_MAX_Q && !q; i++)
			if (em.q[i].used && !em.q[i].tx)
				q = &em.q[i];
	if (!q || q->head == q->tail) {
		em.st.rx_drop_no_desc++;
		return -1;
	}
	struct ena_rx_desc *d = (struct ena_rx_desc *)pa(q->ba) + (q->head & (q->depth - 1));
	if ((d->ctrl & ENA_RXD_PHASE) != q->phase || d->length < len) {
		em.st.rx_bad_desc++;
		return -1;
	}
	memcpy(pa((uint64_t)d->addr_hi << 32 | d->addr_lo), f, len);
	if ((++q->head & (q->depth - 1)) == 0)
		q->phase ^= 1;
	struct ena_rx_cdesc c = { 0 };
	c.status = ENA_RXC_FIRST | ENA_RXC_LAST | (uint32_t)em.cq[q->cq].phase << 24;
	if (l4) {
		c.status |= ENA_L3_IPV4 | (uint32_t)(f[23] == 6 ? ENA_L4_TCP : ENA_L4_UDP) << ENA_RXC_L4_SHIFT |
			    ENA_RXC_L4_CSUM_CHECKED;
		if (em_l4_check(f, len) != 0)
			c.status |= ENA_RXC_L4_CSUM_ERR;
	} else if (ip6) {
		/* The protocols named; the model checks no IPv6 checksum, so none is vouched for. */
		c.status |= ENA_L3_IPV6;
		if (ports6)
			c.status |= (uint32_t)(l4_6 == 6 ? ENA_L4_TCP : ENA_L4_UDP) << ENA_RXC_L4_SHIFT;
	}
	c.length = (uint16_t)len;
	c.req_id = d->req_id;
	c.hash = hash;
	cq_put(&em.cq[q->cq], &c, sizeof(c));
	return (int)(q - em.q);
}

/* ---- BAR0 ---- */
static uint32_t reg_value(uint32_t off)
{
	if (off == ENA_REG_DEV_STS) {
		/* A reset phase shows only after a few reads: a driver that does not wait sees it late. */
		if (++em.sts_reads >= em.cfg.reset_reads) {
			if (em.resetting && !em.reset_cleared)
				em.dev_sts = (em.dev_sts | ENA_DEV_STS_RESET_IN_PROGRESS) & ~ENA_DEV_STS_READY;
			if (em.resetting && em.reset_cleared) {
				em.dev_sts = (em.dev_sts & ~(ENA_DEV_STS_RESET_IN_PROGRESS | ENA_DEV_STS_FATAL_ERROR)) |
					     ENA_DEV_STS_READY;
				em.resetting = false;
			}
		}
		return em.dev_sts;
	}
	return off < sizeof(em.regs) ? em.regs[off / 4] : 0;
}

static uint64_t bar0_read(void *ctx, uint64_t off, int size)
{
	(void)ctx;
	if (size != 4)
		return ~0ull;
	if (em.cfg.readless) {
		em.st.direct_reads++;
		return 0xffffffffu;     /* this device answers only through MMIO_REG_READ */
	}
	return reg_value((uint32_t)off);
}

static void bar0_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	if (size != 4)
		return;
	uint32_t o = (uint32_t)off, x = (uint32_t)v;
	if (o >= 0x2000) {
		for (int i = 0; i < EM_MAX_Q; i++)
			if (em.q[i].used && o == 0x2000 + 0x18u * (uint32_t)i) {
				sq_doorbell(&em.q[i], (uint16_t)x);
				return;
			}
		em.st.doorbell_unknown++;
		return;
	}
	switch (o) {
	case ENA_REG_DEV_CTL:
		if (x & ENA_DEV_CTL_RESET) {
			forget_everything();
			/* Reason bits 3:0 in 31:28, 7:4 in 27:24 where the device has extended reasons
			 * (Linux ena_com.c ena_com_dev_reset). */
			uint32_t msb = x >> ENA_DEV_CTL_REASON_EXT_SHIFT & 0xf;
			em.reset_reason = x >> ENA_DEV_CTL_REASON_SHIFT | (em.cfg.no_ext_reset_reasons ? 0 : msb << 4);
			if (msb && em.cfg.no_ext_reset_reasons)
				em.st.reset_reason_bad++;
			em.resetting = true;
			em.reset_cleared = false;
			em.sts_reads = 0;
			em.st.resets++;
		} else if (em.resetting) {
			if (!(em.dev_sts & ENA_DEV_STS_RESET_IN_PROGRESS)) {
				em.st.resets_bad_order++;       /* cleared before the device said it started: */
			} else {                                /* it stays in reset, never ready */
				em.reset_cleared = true;
				em.sts_reads = 0;
			}
		}
		em.regs[o / 4] = x;
		return;
	case ENA_REG_AQ_DB:
		if (!em.resetting)
			admin_doorbell(x);
		return;
	case ENA_REG_AENQ_HEAD_DB:
		/* Entries handed back must have been read first: a full barrier between the reads and
		 * this write (Linux ena_com.c ena_com_aenq_intr_handler: mb() before the doorbell). */
		if (em.aenq_written && host_full_barriers == em.aenq_barriers)
			em.st.aenq_db_no_barrier++;
		em.aenq_written = false;
		em.aenq_head_written = true;
		em.regs[o / 4] = x;
		return;
	case ENA_REG_MMIO_REG_READ: {
		uint64_t a = (uint64_t)em.regs[ENA_REG_MMIO_RESP_HI / 4] << 32 | em.regs[ENA_REG_MMIO_RESP_LO / 4];
		if (!a) {
			em.st.readless_no_addr++;
			return;
		}
		em.st.readless_reads++;
		struct ena_readless *r = pa(a);
		r->reg_val = reg_value(x >> 16);
		r->reg_off = (uint16_t)(x >> 16);
		__sync_synchronize();
		r->req_id = (uint16_t)x;
		return;
	}
	default:
		if (o < sizeof(em.regs))
			em.regs[o / 4] = x;
	}
}

static uint64_t bar2_read(void *ctx, uint64_t off, int size)
{
	(void)ctx, (void)off, (void)size;
	return 0;       /* device memory for LLQ is write-only to the driver */
}

static void bar2_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	if (off + (uint64_t)size <= sizeof(em.llq_mem))
		memcpy(em.llq_mem + off, &v, (size_t)size);
}

void em_init(const struct em_cfg *c)
{
	memset(&em, 0, sizeof(em));
	em.cfg = *c;
	if (!em.cfg.cq_div)
		em.cfg.cq_div = 1;
	if (!em.cfg.max_queues)
		em.cfg.max_queues = 8;
	forget_everything();
	em.regs[ENA_REG_VERSION / 4] = 0x0201;
	em.regs[ENA_REG_CAPS / 4] = 5u << 1 | 48u << 8 | 3u << 16;      /* 500 ms reset, 300 ms admin */
	em.dev_sts = ENA_DEV_STS_READY;

	pci_init(c->readless);
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ EM_BAR0, EM_BAR0_SIZE, bar0_read, bar0_write, NULL });
	host_mmio_add((struct host_mmio){ EM_BAR2, EM_BAR2_SIZE, bar2_read, bar2_write, NULL });
}
