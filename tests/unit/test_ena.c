/* test_ena: the ENA driver through drivers/nic.c against a strict device model: bring-up order, every firmware trap refusing a wrong driver, RSS placement on 4 queues (IPv4 and IPv6), checksum offloads, LLQ, out-of-order completions, resets mid-traffic, and issue 14's ENA steps (scenarios i14.N). */
#define _DEFAULT_SOURCE
#include <stdint.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "drivers/ena_reg.h"
#include "net/flow.h"
#include "ena_model.h"
#include "test.h"
#include "harness.h"
#include "csum.h"

/* ---- frames ---- */
/* An Ethernet/IPv4/TCP frame from src to dst. full: a correct checksum; else the pseudo-header
 * sum only, as a sender asking for the offload leaves it. Returns its length. */
static uint32_t tcp_frame(uint8_t *f, uint32_t sip, uint32_t dip, uint16_t sp, uint16_t dp, uint32_t plen, bool full)
{
	memset(f, 0, 54 + plen);
	memcpy(f, "\x02\x1d\x0f\xec\x20\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	uint8_t *ip = f + 14, *t = f + 34;
	uint32_t tot = 20 + 20 + plen;
	ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot, ip[8] = 64, ip[9] = 6;
	for (int i = 0; i < 4; i++)
		ip[12 + i] = (uint8_t)(sip >> (24 - 8 * i)), ip[16 + i] = (uint8_t)(dip >> (24 - 8 * i));
	uint16_t c = (uint16_t)~csum16(0, ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
	t[12] = 5 << 4, t[13] = 0x18;
	for (uint32_t i = 0; i < plen; i++)
		t[20 + i] = (uint8_t)(sp + i);
	uint32_t ps = csum16(0, ip + 12, 8) + 6 + 20 + plen;
	uint16_t pseudo = csum16(ps, NULL, 0);
	if (full) {
		c = (uint16_t)~csum16(pseudo, t, 20 + plen);
	} else {
		c = pseudo;
	}
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	return 54 + plen;
}

static uint32_t ip4(int a, int b, int c, int d) { return (uint32_t)a << 24 | b << 16 | c << 8 | d; }

/* The queue the device must choose for a frame: our own Toeplitz over the 4-tuple. */
static uint32_t expect_queue(const uint8_t *key, const uint8_t *reta, const uint8_t *f, uint32_t *hash)
{
	uint8_t t[12];
	memcpy(t, f + 26, 8);
	memcpy(t + 8, f + 34, 4);
	*hash = flow_hash_slow(key, t, 12);
	return reta[*hash & (NIC_RETA_LEN - 1)];
}

static void model(const struct em_cfg *c)
{
	em_init(c);
	CHECK_EQ(pci_scan(&em_acpi), 1);
}

static uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
static uint64_t tx_done_count;
static void tx_done(void *ref) { (void)ref; tx_done_count++; }

static void setup_rss(uint32_t nq)
{
	uint32_t x = 0x9e3779b9;
	for (int i = 0; i < NIC_RSS_KEY_LEN; i++)
		x = x * 1103515245 + 12345, key[i] = (uint8_t)(x >> 16);
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)((i * 7 + 3) % nq);  /* not the identity: the mapping is checked */
}

/* The device and nic.c up with nq queues, RSS set, every queue started. */
static void up(const struct em_cfg *c, uint32_t nq)
{
	model(c);
	CHECK_EQ(nic_attach(nq), nq);
	setup_rss(nq);
	CHECK_EQ(nic_start(key, reta), 0);
	for (uint32_t q = 0; q < nq; q++)
		nic_queue_start(q, tx_done);
}

/* Keep every queue's loop going: what each core does once per iteration. */
static void loop_all(uint32_t nq)
{
	for (uint32_t q = 0; q < nq; q++)
		nic_flush(q);
}

/* A few seconds of slow path: keep-alives arrive, events are handled, a reset runs to the end. */
static void slow_path(uint32_t nq, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		host_clock += HZ / 4;
		em_tick(250);
		nic_slow_poll();
		loop_all(nq);
	}
}

/* Send n flows' frames in, check each lands on the queue RSS names, echo it back with the checksum
 * offloaded, and check the wire. Returns frames that made the round trip. */
static int traffic(uint32_t nq, int n, uint16_t port0, bool rss)
{
	int good = 0;
	for (int i = 0; i < n; i++) {
		uint8_t f[1600], r[1600];
		uint16_t sp = (uint16_t)(port0 + 17 * i);
		uint32_t len = tcp_frame(f, ip4(198, 18, 1 + i % 3, 9), ip4(198, 19, 0, 2), sp, 80, (uint32_t)(i * 37) % 1400, true);
		uint32_t hash = 0, want = rss ? expect_queue(key, reta, f, &hash) : 0;
		em.wire_n = 0;
		if (em_rx(f, len) < 0) {
			CHECK(!"the device dropped a frame");
			continue;
		}
		struct nic_rxf rx[4];
		int got_q = -1, got = 0;
		for (uint32_t q = 0; q < nq; q++) {
			int k = nic_rx_burst(q, rx, 4);
			if (k > 0) {
				got_q = (int)q;
				got += k;
				CHECK_EQ(k, 1);
				CHECK_EQ(rx[0].len, len);
				CHECK(memcmp(rx[0].frame, f, len) == 0);
				CHECK(rx[0].flags & NIC_RX_CSUM_OK);
				if (rss)
					CHECK_EQ(rx[0].hash, hash);
				/* The hash is vouched for only when the device hashes with our key. */
				CHECK_EQ(!!(rx[0].flags & NIC_RX_HASH), rss);
				/* The answer: same flow back, pseudo-header sum only, NIC completes it. */
				uint32_t rl = tcp_frame(r, ip4(198, 19, 0, 2), ip4(198, 18, 1 + i % 3, 9), 80, sp, 300 + (uint32_t)i, false);
				struct nic_frag fr[2] = { { r, 54 }, { r + 54, rl - 54 } };
				struct nic_txo o = { .csum_start = 34, .csum_offset = 16 };
				int t = nic_tx(q, fr, 2, &o, (void *)r);
				CHECK(t == NIC_TX_COPIED || t == NIC_TX_INPLACE);
				nic_rx_return(q, rx[0].buf);
				nic_flush(q);
				CHECK_EQ(em.wire_n, 1);
				if (em.wire_n == 1) {
					CHECK_EQ(em.wire_len[0], rl);
					CHECK_EQ(em_l4_check(em.wire[0], em.wire_len[0]), 0);
					CHECK(memcmp(em.wire[0] + 54, r + 54, rl - 54) == 0);
					if (em_l4_check(em.wire[0], em.wire_len[0]) == 0)
						good++;
				}
			}
		}
		CHECK_EQ(got, 1);
		CHECK_EQ(got_q, (int)want);
		em_release_tx();
		loop_all(nq);
	}
	return good;
}

/* ---- scenarios ---- */
static void s_bringup(void)
{
	struct em_cfg c = { .max_queues = 8 };
	model(&c);
	CHECK_EQ(nic_attach(4), 4);
	const struct nic *n;
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(em.st.first_opcode, ENA_CMD_SET_FEATURE);          /* host info first */
	CHECK_EQ(em.st.first_feature, ENA_FEAT_HOST_ATTR_CONFIG);
	CHECK_EQ(em.st.resets, 1);
	CHECK_EQ(em.st.resets_bad_order, 0);
	CHECK(em.aenq_groups & 1u << ENA_AENQ_KEEP_ALIVE);
	CHECK(em.aenq_groups & 1u << ENA_AENQ_DEVICE_REQUEST_RESET);
	CHECK_EQ(em.st.readless_reads, 0);
	setup_rss(4);
	CHECK_EQ(nic_start(key, reta), 0);
	CHECK((n = nic_dev()) != NULL);
	if (n) {
		CHECK_EQ(n->rx_size, POLLUX_RX_RING_SIZE);
		CHECK(n->caps.rss && n->caps.tx_csum && n->caps.rx_csum);
	}
	CHECK(em.rss);
	for (uint32_t i = 0; i < NIC_RETA_LEN; i++) {
		int k = -1;             /* the entry names the RX queue the device returned for pair reta[i] */
		for (int j = 0; j < EM_MAX_Q; j++)
			if (em.q[j].used && em.q[j].sq_idx == em.reta[i])
				k = j;
		CHECK(k >= 0 && !em.q[k].tx);
	}
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done);
	/* Every RX ring full and announced: exactly its depth. */
	for (int j = 0; j < EM_MAX_Q; j++)
		if (em.q[j].used && !em.q[j].tx)
			CHECK_EQ((uint16_t)(em.q[j].tail - em.q[j].head), em.q[j].depth);
	CHECK(klog_has("ena0: 02:1d:0f:ec:20:01, 4 queue pairs of 8"));
}

static void s_readless(void)
{
	struct em_cfg c = { .readless = true, .max_queues = 2, .reset_reads = 3 };
	model(&c);
	CHECK_EQ(nic_attach(4), 2);
	CHECK_EQ(em.st.direct_reads, 0);        /* every read went through MMIO_REG_READ */
	CHECK(em.st.readless_reads > 4);
	CHECK_EQ(em.st.readless_no_addr, 0);    /* re-armed after the reset */
	CHECK(klog_has("readless reads"));
}

static void s_cq_smaller(void)
{
	struct em_cfg c = { .max_queues = 2, .cq_div = 4 };
	model(&c);
	CHECK_EQ(nic_attach(2), 2);
	const struct nic *n = NULL;
	setup_rss(2);
	CHECK_EQ(nic_start(key, reta), 0);
	n = nic_dev();
	CHECK(n && n->rx_size == POLLUX_RX_RING_SIZE / 4 && n->tx_size == POLLUX_TX_RING_SIZE / 4);
	for (int j = 0; j < EM_MAX_Q; j++)
		if (em.q[j].used)
			CHECK_EQ(em.q[j].depth, POLLUX_RX_RING_SIZE / 4);     /* SQ as deep as the CQ given */
	for (uint32_t q = 0; q < 2; q++)
		nic_queue_start(q, tx_done);
	CHECK_EQ(traffic(2, 40, 1000, true), 40);
}

/* A driver written by hand, to show the model refuses what the firmware refuses. */
static struct ena_aq_entry raq[8] __attribute__((aligned(4096)));
static struct ena_acq_entry racq[8] __attribute__((aligned(4096)));
static struct ena_aenq_entry raenq[8] __attribute__((aligned(4096)));
static uint16_t rtail;
static void rw(uint32_t off, uint32_t v) { mmio_write32(EM_BAR0 + off, v); }
static void raw_admin(bool aenq)
{
	rtail = 0;
	memset(raq, 0, sizeof(raq)), memset(racq, 0, sizeof(racq));
	rw(ENA_REG_AQ_BASE_LO, (uint32_t)(uintptr_t)raq), rw(ENA_REG_AQ_BASE_HI, (uint32_t)((uintptr_t)raq >> 32));
	rw(ENA_REG_ACQ_BASE_LO, (uint32_t)(uintptr_t)racq), rw(ENA_REG_ACQ_BASE_HI, (uint32_t)((uintptr_t)racq >> 32));
	rw(ENA_REG_AQ_CAPS, 8 | 64 << 16), rw(ENA_REG_ACQ_CAPS, 8 | 64 << 16);
	if (aenq) {
		rw(ENA_REG_AENQ_BASE_LO, (uint32_t)(uintptr_t)raenq), rw(ENA_REG_AENQ_BASE_HI, (uint32_t)((uintptr_t)raenq >> 32));
		rw(ENA_REG_AENQ_CAPS, 8 | 64 << 16);
		rw(ENA_REG_AENQ_HEAD_DB, 8);
	}
}
static int raw_cmd(struct ena_aq_entry *c, struct ena_acq_entry *r)
{
	uint8_t phase = (uint8_t)(((rtail / 8) & 1) ^ 1);      /* flips at each wrap */
	c->h.flags = (uint8_t)((c->h.flags & ~1) | phase);
	c->h.command_id = rtail;
	raq[rtail % 8] = *c;
	rtail++;
	rw(ENA_REG_AQ_DB, rtail);
	struct ena_acq_entry *e = &racq[(rtail - 1) % 8];
	if ((e->flags & 1) != phase)
		return -1;
	if (r)
		*r = *e;
	return e->status;
}
static int raw_host_info(uint32_t version)
{
	static struct ena_host_info h __attribute__((aligned(4096)));
	h.driver_version = version;
	struct ena_aq_entry c = { 0 };
	c.h.opcode = ENA_CMD_SET_FEATURE;
	c.u.feat.feature_id = ENA_FEAT_HOST_ATTR_CONFIG;
	uint64_t a = (uint64_t)(uintptr_t)&h;
	struct ena_host_attr at = { { (uint32_t)a, (uint16_t)(a >> 32), 0 }, { 0, 0, 0 }, 0 };
	memcpy(c.u.feat.data, &at, sizeof(at));
	return raw_cmd(&c, NULL);
}
static int raw_cq(uint32_t msix, uint16_t *idx)
{
	static uint8_t ring[4096] __attribute__((aligned(4096)));
	struct ena_aq_entry c = { 0 };
	struct ena_acq_entry r;
	c.h.opcode = ENA_CMD_CREATE_CQ;
	c.u.create_cq.cq_caps_2 = 4;
	c.u.create_cq.cq_depth = 64;
	c.u.create_cq.msix_vector = msix;
	c.u.create_cq.cq_ba.lo = (uint32_t)(uintptr_t)ring, c.u.create_cq.cq_ba.hi = (uint16_t)((uintptr_t)ring >> 32);
	int s = raw_cmd(&c, &r);
	if (idx)
		*idx = r.u.create_cq.cq_idx;
	return s;
}
static int raw_sq(uint16_t cq, uint8_t dir, uint8_t place)
{
	static uint8_t ring[4096] __attribute__((aligned(4096)));
	struct ena_aq_entry c = { 0 };
	c.h.opcode = ENA_CMD_CREATE_SQ;
	c.u.create_sq.sq_identity = dir;
	c.u.create_sq.sq_caps_2 = place;
	c.u.create_sq.cq_idx = cq;
	c.u.create_sq.sq_depth = 64;
	c.u.create_sq.sq_ba.lo = (uint32_t)(uintptr_t)ring, c.u.create_sq.sq_ba.hi = (uint16_t)((uintptr_t)ring >> 32);
	return raw_cmd(&c, NULL);
}

static void s_traps(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true };
	uint16_t cq;
	/* No AENQ: every command refused (Graviton). */
	model(&c);
	raw_admin(false);
	struct ena_aq_entry g = { 0 };
	g.h.opcode = ENA_CMD_GET_FEATURE, g.u.feat.feature_id = ENA_FEAT_DEVICE_ATTRIBUTES;
	CHECK(raw_cmd(&g, NULL) != 0);
	CHECK_EQ(em.st.refused_no_aenq, 1);
	/* With an AENQ the same command works. */
	model(&c);
	raw_admin(true);
	CHECK_EQ(raw_cmd(&g, NULL), 0);
	/* MAX_QUEUES_EXT at feature version 0 is refused. */
	struct ena_aq_entry mq = { 0 };
	mq.h.opcode = ENA_CMD_GET_FEATURE, mq.u.feat.feature_id = ENA_FEAT_MAX_QUEUES_EXT;
	CHECK(raw_cmd(&mq, NULL) != 0);
	/* CREATE_CQ before the host-info page, then with a real MSI-X vector. */
	CHECK(raw_cq(0xFFFFFFFFu, NULL) != 0);
	CHECK_EQ(em.st.refused_no_host_info, 1);
	CHECK(raw_host_info(1) != 0);           /* driver_version other than 2 */
	CHECK_EQ(raw_host_info(2), 0);
	CHECK(raw_cq(0, NULL) != 0);
	CHECK_EQ(em.st.refused_msix, 1);
	/* CREATE_SQ naming a CQ that does not exist yet. */
	CHECK(raw_sq(99, ENA_SQ_DIR_RX, ENA_PLACEMENT_HOST) != 0);
	CHECK_EQ(em.st.refused_sq_before_cq, 1);
	/* LLQ-only: TX in host memory refused. */
	CHECK_EQ(raw_cq(0xFFFFFFFFu, &cq), 0);
	CHECK(raw_sq(cq, ENA_SQ_DIR_TX, ENA_PLACEMENT_HOST) != 0);
	CHECK_EQ(em.st.refused_host_placement, 1);
	CHECK_EQ(raw_sq(cq, ENA_SQ_DIR_RX, ENA_PLACEMENT_HOST), 0);
	/* A guessed doorbell offset reaches nothing. */
	rw(0x2000 + 4, 1);
	CHECK_EQ(em.st.doorbell_unknown, 1);
	/* A doorbell beyond the ring: the device stops trusting the driver. */
	rw(0x2000, 65);
	CHECK_EQ(em.st.doorbell_beyond, 1);
	CHECK(mmio_read32(EM_BAR0 + ENA_REG_DEV_STS) & ENA_DEV_STS_FATAL_ERROR);
	/* One-phase reset (clear without waiting for RESET_IN_PROGRESS): never ready again. */
	model(&c);
	rw(ENA_REG_DEV_CTL, ENA_DEV_CTL_RESET);
	rw(ENA_REG_DEV_CTL, 0);
	bool ready = false;
	for (int i = 0; i < 1000; i++)
		ready |= mmio_read32(EM_BAR0 + ENA_REG_DEV_STS) & ENA_DEV_STS_READY;
	CHECK(!ready);
	CHECK_EQ(em.st.resets_bad_order, 1);
	/* Readless device: a direct read gives nothing usable. */
	struct em_cfg rl = { .readless = true };
	model(&rl);
	CHECK_EQ(mmio_read32(EM_BAR0 + ENA_REG_DEV_STS), 0xffffffffu);
	/* The driver against the LLQ-only device: it takes LLQ and nothing is refused. */
	model(&c);
	CHECK_EQ(nic_attach(2), 2);
	CHECK_EQ(em.st.refused, 0);
	CHECK(klog_has("LLQ"));
}

static void s_rss_traffic(void)
{
	struct em_cfg c = { .max_queues = 8, .out_of_order = true };
	up(&c, 4);
	CHECK_EQ(traffic(4, 300, 2000, true), 300);
	struct nic_qstats st;
	uint64_t rx = 0;
	for (uint32_t q = 0; q < 4; q++) {
		nic_qstats(q, &st);
		CHECK(st.rx_packets > 30);      /* every queue served flows */
		CHECK_EQ(st.rx_drop_bad, 0);
		CHECK_EQ(st.tx_csum_offload, st.tx_packets);
		rx += st.rx_packets;
	}
	CHECK_EQ(rx, 300);
	CHECK_EQ(em.st.tx_csum, 300);
	CHECK_EQ(em.st.meta_missing, 0);
	CHECK_EQ(em.st.doorbell_beyond + em.st.bad_phase + em.st.tx_bad_desc + em.st.rx_bad_desc, 0);
	/* Frames beyond the rings' wrap: ring phases flip several times. */
	CHECK(em.st.tx_frames >= 300);
	struct nic_counter ctr[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(0, ctr, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(ctr[i].name, "bad_req_id"))
			CHECK_EQ(ctr[i].value, 0);
}

static void s_llq(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true, .no_meta_caching = true, .burst_bytes = 256 };
	up(&c, 2);
	CHECK_EQ(traffic(2, 200, 3000, true), 200);
	CHECK_EQ(em.st.refused_host_placement, 0);
	/* A burst of frames between two loop ends: the device's burst limit is kept. */
	uint8_t r[1600];
	uint32_t rl = tcp_frame(r, 1, 2, 3, 4, 100, false);
	struct nic_frag fr = { r, rl };
	for (int i = 0; i < 8; i++)
		CHECK(nic_tx(0, &fr, 1, NULL, NULL) == NIC_TX_COPIED);
	nic_flush(0);
	CHECK_EQ(em.st.burst_exceeded, 0);
	CHECK(em.st.tx_frames >= 208);
	CHECK_EQ(em.st.meta_missing, 0);
	CHECK_EQ(em.st.tx_meta, em.st.tx_frames);       /* a meta descriptor on every frame, offload or not */
	struct nic_counter ctr[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(0, ctr, NIC_MAX_COUNTERS);
	bool burst = false;
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(ctr[i].name, "burst_doorbells"))
			burst = ctr[i].value > 0;
	CHECK(burst);
}

static void s_reset(void)
{
	struct em_cfg c = { .max_queues = 8, .out_of_order = true };
	up(&c, 4);
	slow_path(4, 8);                        /* two seconds of keep-alives: nothing happens */
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 0);
	CHECK_EQ(traffic(4, 50, 4000, true), 50);

	/* Frames in flight, then the device asks for a reset. */
	uint8_t r[1600];
	uint32_t rl = tcp_frame(r, 1, 2, 3, 4, 500, false);
	struct nic_frag fr = { r, rl };
	for (int i = 0; i < 5; i++)
		nic_tx(1, &fr, 1, NULL, NULL);
	nic_flush(1);                           /* completions held by the device */
	em_aenq(ENA_AENQ_DEVICE_REQUEST_RESET, 0);
	slow_path(4, 6);
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK_EQ(d.reset_failed, 0);
	CHECK_EQ(em.st.resets, 2);
	CHECK(em.rss);                          /* RSS programmed again */
	CHECK_EQ(traffic(4, 50, 5000, true), 50);

	/* The device goes quiet: no keep-alive for 6 s. */
	em.keep_alive_stopped = true;
	slow_path(4, 28);
	em.keep_alive_stopped = false;
	slow_path(4, 4);
	nic_dstats(&d);
	CHECK_EQ(d.resets, 2);
	CHECK(klog_has("no keep-alive"));
	CHECK_EQ(traffic(4, 50, 6000, true), 50);

	/* A fatal-error event. */
	em_aenq(ENA_AENQ_FATAL_ERROR, 0);
	slow_path(4, 4);
	nic_dstats(&d);
	CHECK_EQ(d.resets, 3);
	CHECK_EQ(traffic(4, 50, 7000, true), 50);

	/* A doorbell beyond the ring (what a broken driver would do): DEV_STS fatal, reset. */
	mmio_write32(EM_BAR0 + 0x2000, 0x7fff);
	slow_path(4, 4);
	nic_dstats(&d);
	CHECK_EQ(d.resets, 4);
	CHECK_EQ(traffic(4, 50, 8000, true), 50);

	/* Link events reach the counters and the caller. */
	em_aenq(ENA_AENQ_LINK_CHANGE, 0);
	host_clock += HZ / 4;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_DOWN);
	em_aenq(ENA_AENQ_LINK_CHANGE, 1);
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_UP);
	nic_dstats(&d);
	CHECK_EQ(d.link_down, 1);
	CHECK_EQ(d.link_up, 1);
	struct nic_counter ctr[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(-1, ctr, NIC_MAX_COUNTERS), seen = 0;
	for (unsigned i = 0; i < k; i++) {
		if (!strcmp(ctr[i].name, "keep_alive_timeouts"))
			{ CHECK_EQ(ctr[i].value, 1); seen++; }
		if (!strcmp(ctr[i].name, "reset_requests"))
			{ CHECK_EQ(ctr[i].value, 1); seen++; }
		if (!strcmp(ctr[i].name, "dev_tx_drops"))
			{ CHECK_EQ(ctr[i].value, 7); seen++; }
		if (!strcmp(ctr[i].name, "link_events"))
			{ CHECK_EQ(ctr[i].value, 2); seen++; }
	}
	CHECK_EQ(seen, 4);
}

/* Issue 14, ENA item 1: the device hashes with the key read in reverse byte order, so the driver
 * must send it reversed for the device's hash to equal the software Toeplitz with our key (which
 * net.c uses for fragments and ICMP errors). */
static void s_i14_rss_key(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 4);
	CHECK(em.rss);
	CHECK(memcmp(em.key, key, NIC_RSS_KEY_LEN) == 0);       /* the device's key is ours */
	CHECK_EQ(traffic(4, 40, 9000, true), 40);               /* its hash and queue: our Toeplitz */
}

/* Issue 14, ENA item 2: the host info declares RSS_CONFIGURABLE_FUNCTION_KEY (Linux ena_netdev.c
 * ena_config_host_info), else the device does not offer RSS_HASH_FUNCTION; NIC_RX_HASH is reported
 * only when RSS took our key, so net.c steers in software otherwise. */
static void s_i14_host_features(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 4);
	const struct nic *n = nic_dev();
	CHECK(em.host_features & ENA_HOST_INFO_RSS_CONFIGURABLE_FUNCTION_KEY);
	CHECK(n && n->caps.rss && n->caps.rx_hash);
	CHECK(em.rss);
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(traffic(4, 20, 9100, true), 20);
}

/* A device that keeps RSS to itself: RSS off, every frame on queue 0 without NIC_RX_HASH. */
static void s_i14_no_rss(void)
{
	struct em_cfg c = { .max_queues = 4, .no_rss = true };
	up(&c, 4);
	const struct nic *n = nic_dev();
	CHECK(n && !n->caps.rss && !n->caps.rx_hash);
	CHECK(!em.rss);
	CHECK_EQ(traffic(4, 20, 9200, false), 20);
	CHECK(klog_has("ena0: live, rss off"));
}

/* One queue pair: RSS is not programmed, the device hashes with its own key, which is not ours. */
static void s_i14_one_pair(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 1);
	const struct nic *n = nic_dev();
	CHECK(n && !n->caps.rss && !n->caps.rx_hash);
	CHECK_EQ(traffic(1, 20, 9300, false), 20);
}

/* Issue 14, ENA item 5: SET_FEATURE's control buffers (RSS key, indirection table) flagged
 * CTRL_DATA_INDIRECT (0x04), as every reference does; the model refuses them otherwise. */
static void s_i14_ctrl_indirect(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 4);
	CHECK_EQ(em.st.refused_ctrl_not_indirect, 0);
	CHECK(em.rss);
	CHECK_EQ(em.reta_log, 7);
	CHECK(klog_has("ena0: live, rss on"));
}

/* Issue 14, ENA item 3: on LLQ every packet opens with a meta descriptor, also when the device
 * caches metadata and the packet asks for no offload; the model drops one without. */
static void s_i14_llq_meta(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true };
	up(&c, 2);
	uint8_t r[1600];
	uint32_t rl = tcp_frame(r, 1, 2, 3, 4, 100, true);
	struct nic_frag fr = { r, rl };
	em.wire_n = 0;
	for (int i = 0; i < 8; i++)
		CHECK(nic_tx(0, &fr, 1, NULL, NULL) == NIC_TX_COPIED);
	nic_flush(0);
	CHECK_EQ(em.st.llq_no_meta, 0);
	CHECK_EQ(em.wire_n, 8);
	CHECK(em.wire_n == 8 && em.wire_len[7] == rl && memcmp(em.wire[7], r, rl) == 0);
	CHECK_EQ(em.st.tx_meta, em.st.tx_frames);
	CHECK_EQ(traffic(2, 20, 9400, true), 20);       /* and with the checksum offload */
	CHECK_EQ(em.st.llq_no_meta, 0);
}

/* Issue 14, ENA item 4: with an LLQ burst limit, the doorbell rings before a packet that would not
 * fit the budget left, never between the entries of one packet (Linux ena_eth_com.h
 * ena_com_is_doorbell_needed). A frame of a copied head and two pieces in place takes a meta and
 * three data descriptors, two 128-byte entries; the budget is two entries. */
static void s_i14_llq_burst(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true, .burst_bytes = 256 };
	up(&c, 2);
	static uint8_t r[1600];
	uint32_t rl = tcp_frame(r, 1, 2, 3, 4, 600, true);
	struct nic_frag one = { r, rl }, three[3] = { { r, 120 }, { r + 120, 260 }, { r + 380, rl - 380 } };
	em.wire_n = 0;
	CHECK(nic_tx(0, &one, 1, NULL, NULL) == NIC_TX_COPIED);       /* one entry: one left */
	for (int i = 0; i < 6; i++)
		CHECK(nic_tx(0, three, 3, NULL, r) == NIC_TX_INPLACE);   /* two entries each */
	nic_flush(0);
	CHECK_EQ(em.st.tx_split, 0);
	CHECK_EQ(em.st.burst_exceeded, 0);
	CHECK_EQ(em.wire_n, 7);
	for (int i = 0; i < em.wire_n && i < 7; i++)
		CHECK(em.wire_len[i] == rl && memcmp(em.wire[i], r, rl) == 0);
	CHECK_EQ(em.st.tx_bad_desc, 0);
}

/* Issue 14, ENA item 6: fall back as Linux does. A device without MAX_QUEUES_EXT answers
 * MAX_QUEUES_NUM (Linux ena_com.c ena_com_get_dev_attr_feat). */
static void s_i14_max_queues_num(void)
{
	struct em_cfg c = { .max_queues = 4, .no_queues_ext = true };
	model(&c);
	if (nic_attach(4) != 4) {
		CHECK(!"attach on a device with MAX_QUEUES_NUM only");
		return;
	}
	setup_rss(4);
	CHECK_EQ(nic_start(key, reta), 0);
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done);
	const struct nic *n = nic_dev();
	CHECK(n && n->npairs == 4 && n->rx_size == POLLUX_RX_RING_SIZE && n->caps.tx_sg);
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(traffic(4, 20, 9500, true), 20);
}

/* LLQ offered with one descriptor per entry only (Linux ena_com.c ena_com_config_llq_info falls
 * back to ENA_ADMIN_SINGLE_DESC_PER_ENTRY): frames of a meta and three data descriptors take
 * three entries, two descriptors in the first, one in each after. */
static void s_i14_llq_single(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true, .llq_single_stride = true };
	model(&c);
	CHECK_EQ(nic_attach(2), 2);
	CHECK(em.llq_set && em.llq_stride == ENA_LLQ_STRIDE_SINGLE);
	CHECK_EQ(em.st.refused, 0);
	setup_rss(2);
	CHECK_EQ(nic_start(key, reta), 0);
	for (uint32_t q = 0; q < 2; q++)
		nic_queue_start(q, tx_done);
	static uint8_t r[1600];
	uint32_t rl = tcp_frame(r, 1, 2, 3, 4, 600, true);
	struct nic_frag three[3] = { { r, 120 }, { r + 120, 260 }, { r + 380, rl - 380 } };
	em.wire_n = 0;
	for (int i = 0; i < 6; i++)
		CHECK(nic_tx(0, three, 3, NULL, r) == NIC_TX_INPLACE);
	nic_flush(0);
	CHECK_EQ(em.wire_n, 6);
	for (int i = 0; i < em.wire_n && i < 6; i++)
		CHECK(em.wire_len[i] == rl && memcmp(em.wire[i], r, rl) == 0);
	CHECK_EQ(em.st.tx_bad_desc + em.st.tx_split + em.st.llq_no_meta, 0);
	CHECK_EQ(traffic(2, 20, 9600, true), 20);
}

/* GET_FEATURE with select 0, as every reference sends it. */
static void s_i14_select0(void)
{
	struct em_cfg c = { .max_queues = 4, .llq = true };
	up(&c, 4);
	CHECK_EQ(em.st.refused_select, 0);
	CHECK_EQ(em.st.refused, 0);
	CHECK(em.rss && em.llq_set);
}

/* The meta descriptor as Linux ena_com_create_meta writes it: ETH_META_TYPE and META_STORE, nothing
 * in the must-be-zero bits (req_id has no place in it), with and without LLQ. */
static void s_i14_meta_bits(void)
{
	struct em_cfg c = { .max_queues = 2, .llq = true, .llq_only = true, .no_meta_caching = true };
	up(&c, 2);
	CHECK_EQ(traffic(2, 20, 9700, true), 20);
	CHECK_EQ(em.st.meta_bad, 0);
	CHECK(em.st.tx_meta >= 20);
}

static void s_i14_meta_bits_host(void)
{
	struct em_cfg c = { .max_queues = 2 };
	up(&c, 2);
	CHECK_EQ(traffic(2, 20, 9800, true), 20);       /* checksum offload: a meta descriptor */
	CHECK_EQ(em.st.meta_bad, 0);
	CHECK(em.st.tx_meta >= 20);
}

/* A reset the device asked for names its reason, DEVICE_REQUEST (19) (Linux ena_netdev.c
 * ena_admin_device_request_reset); the event queue's head doorbell comes after a full barrier. */
static void s_i14_reset_reason(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 4);
	slow_path(4, 8);                        /* keep-alive events handed back */
	CHECK(em.st.keep_alives >= 2);
	em_aenq(ENA_AENQ_DEVICE_REQUEST_RESET, 0);
	slow_path(4, 6);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK_EQ(em.st.resets, 2);
	CHECK_EQ(em.reset_reason, ENA_RESET_DEVICE_REQUEST);
	CHECK_EQ(traffic(4, 20, 9900, true), 20);
}

/* A device without extended reset reasons reads 4 bits: Linux falls back to GENERIC (13). */
static void s_i14_reset_reason_short(void)
{
	struct em_cfg c = { .max_queues = 2, .no_ext_reset_reasons = true };
	up(&c, 2);
	em_aenq(ENA_AENQ_DEVICE_REQUEST_RESET, 0);
	slow_path(2, 6);
	CHECK_EQ(em.st.resets, 2);
	CHECK_EQ(em.st.reset_reason_bad, 0);
	CHECK_EQ(em.reset_reason, ENA_RESET_GENERIC);
}

static void s_i14_aenq_barrier(void)
{
	struct em_cfg c = { .max_queues = 2 };
	up(&c, 2);
	slow_path(2, 12);
	em_aenq(ENA_AENQ_LINK_CHANGE, 1);
	slow_path(2, 2);
	CHECK(em.st.keep_alives >= 2);
	CHECK_EQ(em.st.aenq_dropped, 0);
	CHECK_EQ(em.st.aenq_db_no_barrier, 0);
}

/* Before the page tables: the kernel's hook (kernel_wc_probe = nic_wc_ranges) lists BAR 2 (LLQ device memory) to map write-combining,
 * and nothing of BAR 0 (registers, uncached). */
static void s_wc(void)
{
	struct em_cfg c = { .llq = true, .max_queues = 4 };
	em_init(&c);
	struct pt_range r[4];
	CHECK_EQ(nic_wc_ranges(&em_acpi, r, 4), 1);
	CHECK_EQ(r[0].base, EM_BAR2);
	CHECK_EQ(r[0].end, EM_BAR2 + EM_BAR2_SIZE);
	CHECK_EQ(nic_wc_ranges(&em_acpi, r, 0), 0);   /* no room: none, nothing written past */
	CHECK(pci_find(0x1d0f, 0xec20, 0) != NULL);     /* the scan it made is the usual one */
}

/* An Ethernet/IPv6 frame from peer i to us: TCP (6) or UDP (17) from sp to 443 after nopt
 * destination options headers, or an ICMPv6 echo (58). Returns its length. */
static uint32_t frame6(uint8_t *f, uint8_t proto, uint32_t i, uint16_t sp, unsigned nopt)
{
	memset(f, 0, 200);
	memcpy(f, "\x02\x1d\x0f\xec\x20\x01\x02\x00\x00\x00\x00\x02\x86\xdd", 14);
	uint8_t *ip = f + 14, *p = ip + 40, *nh = ip + 6;
	ip[0] = 0x60, ip[7] = 64;
	static const uint8_t pre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2 };
	memcpy(ip + 8, pre, 8), memcpy(ip + 24, pre, 8);
	for (int b = 0; b < 4; b++)
		ip[16 + b] = (uint8_t)((i * 2654435761u) >> (8 * b)), ip[20 + b] = (uint8_t)(i >> (8 * b));
	ip[39] = 2;
	for (unsigned k = 0; k < nopt; k++, p += 8)
		*nh = 60, nh = p, p[2] = 1, p[3] = 4;
	*nh = proto;
	if (proto == 58)
		p[0] = 128;
	else
		p[0] = (uint8_t)(sp >> 8), p[1] = (uint8_t)sp, p[2] = 443 >> 8, p[3] = 443 & 0xff;
	uint32_t plen = (uint32_t)(p + 24 - (ip + 40));
	ip[4] = (uint8_t)(plen >> 8), ip[5] = (uint8_t)plen;
	return 14 + 40 + plen;
}

/* IPv6 placed as net/flow.c hashes it: the driver sets the hash input (RSS_HASH_INPUT) so that TCP
 * and UDP over IPv6 hash the 4-tuple (the model's own default hashes their addresses only) with no
 * sorting; each frame arrives on the queue our Toeplitz names, with that hash. */
static void s_rss_ipv6(void)
{
	struct em_cfg c = { .max_queues = 4 };
	up(&c, 4);
	CHECK_EQ(em.hash_inputs, 1);
	CHECK_EQ(em.hsort, 0);
	uint16_t l3 = ENA_RSS_L3_SA | ENA_RSS_L3_DA, l4 = ENA_RSS_L4_SP | ENA_RSS_L4_DP;
	CHECK_EQ(em.hctrl.selected[ENA_RSS_TCP6].fields, l3 | l4);
	CHECK_EQ(em.hctrl.selected[ENA_RSS_UDP6].fields, l3 | l4);
	CHECK_EQ(em.hctrl.selected[ENA_RSS_TCP4].fields, l3 | l4);
	CHECK_EQ(em.hctrl.selected[ENA_RSS_IP6].fields, l3);
	uint32_t right = 0, seen[4] = { 0 };
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t f[256], t[36];
		uint8_t proto = i % 5 == 4 ? 58 : i % 2 ? 6 : 17;
		unsigned nopt = i % 3;
		uint32_t len = frame6(f, proto, i, (uint16_t)(20000 + 7 * i), nopt);
		memcpy(t, f + 22, 32);
		memcpy(t + 32, f + 54 + 8 * nopt, 4);
		uint32_t hash = flow_hash_slow(key, t, proto == 58 ? 32 : 36), want = reta[hash & (NIC_RETA_LEN - 1)];
		CHECK(em_rx(f, len) >= 0);
		for (uint32_t q = 0; q < 4; q++) {
			struct nic_rxf rx[4];
			int k = nic_rx_burst(q, rx, 4);
			for (int j = 0; j < k; j++) {
				right += q == want && rx[j].len == len && (rx[j].flags & NIC_RX_HASH) && rx[j].hash == hash;
				seen[q]++;
				nic_rx_return(q, rx[j].buf);
			}
		}
		loop_all(4);
	}
	CHECK_EQ(right, 300);
	for (int q = 0; q < 4; q++)
		CHECK(seen[q] > 40);
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(traffic(4, 40, 9400, true), 40);               /* IPv4 as before */
}

/* A device without RSS_HASH_INPUT keeps its own fields (the references go on so too); one that
 * cannot hash TCPv6 ports is asked for nothing it lacks. RSS stays on in both, said so: IPv4 is
 * placed as before, and IPv6 as well as the device can. */
static void s_rss_ipv6_fields_fixed(void)
{
	struct em_cfg c = { .max_queues = 4, .no_hash_input = true };
	up(&c, 4);
	const struct nic *n = nic_dev();
	CHECK(n && n->caps.rss);
	CHECK_EQ(em.hash_inputs, 0);
	CHECK(klog_has("ena0: no RSS_HASH_INPUT: the device's own fields per protocol"));
	CHECK_EQ(traffic(4, 20, 9500, true), 20);
}

static void s_rss_ipv6_fields_partial(void)
{
	struct em_cfg d = { .max_queues = 4, .no_l4_tcp6 = true };
	up(&d, 4);
	const struct nic *n = nic_dev();
	CHECK(n && n->caps.rss);
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(em.hash_inputs, 1);
	CHECK_EQ(em.hctrl.selected[ENA_RSS_UDP6].fields, ENA_RSS_L3_SA | ENA_RSS_L3_DA | ENA_RSS_L4_SP | ENA_RSS_L4_DP);
	CHECK(klog_has("ena0: the device cannot hash TCPv6 on its ports"));
	CHECK_EQ(traffic(4, 20, 9600, true), 20);
}

TEST_MAIN("test_ena: ENA driver + nic.c against a strict device model: bring-up, traps, RSS on 4 queues (IPv4, IPv6 hash input), LLQ, resets mid-traffic, the LLQ BAR listed for write-combining; issue 14's ENA steps (i14.N) as the reference drivers take them", {
	harness_run("bring-up order", s_bringup);
	harness_run("readless registers", s_readless);
	harness_run("smaller CQ depth", s_cq_smaller);
	harness_run("firmware traps refuse", s_traps);
	harness_run("RSS on 4 queues + offload", s_rss_traffic);
	harness_run("RSS of IPv6: hash input TCP6/UDP6 on the 4-tuple", s_rss_ipv6);
	harness_run("RSS without hash input: RSS stays on", s_rss_ipv6_fields_fixed);
	harness_run("RSS hash input without TCPv6 ports: the rest set", s_rss_ipv6_fields_partial);
	harness_run("LLQ, meta, burst limit", s_llq);
	harness_run("resets mid-traffic", s_reset);
	harness_run("LLQ BAR write-combining", s_wc);
	harness_run("i14.1 RSS key sent reversed: device hash = software Toeplitz", s_i14_rss_key);
	harness_run("i14.2 host info declares RSS_CONFIGURABLE_FUNCTION_KEY: RSS offered", s_i14_host_features);
	harness_run("i14.2 device without RSS: no NIC_RX_HASH, software steering", s_i14_no_rss);
	harness_run("i14.2 one queue pair: no NIC_RX_HASH (device key not ours)", s_i14_one_pair);
	harness_run("i14.3 LLQ: a meta descriptor on every packet", s_i14_llq_meta);
	harness_run("i14.4 LLQ burst: doorbell before a packet, never inside one", s_i14_llq_burst);
	harness_run("i14.5 SET_FEATURE control buffers flagged CTRL_DATA_INDIRECT", s_i14_ctrl_indirect);
	harness_run("i14.6 MAX_QUEUES_NUM when MAX_QUEUES_EXT is absent", s_i14_max_queues_num);
	harness_run("i14.6 LLQ with one descriptor per entry", s_i14_llq_single);
	harness_run("i14.6 GET_FEATURE with select 0", s_i14_select0);
	harness_run("i14.6 meta descriptor: ETH_META_TYPE, META_STORE, no must-be-zero bits (LLQ)", s_i14_meta_bits);
	harness_run("i14.6 meta descriptor: the same in host memory", s_i14_meta_bits_host);
	harness_run("i14.6 device-requested reset names DEVICE_REQUEST", s_i14_reset_reason);
	harness_run("i14.6 reset reason on a device without extended reasons: GENERIC", s_i14_reset_reason_short);
	harness_run("i14.6 full barrier before the AENQ head doorbell", s_i14_aenq_barrier);
})
