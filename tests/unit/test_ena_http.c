/* test_ena_http: HTTP end to end through the ENA driver: net/net.c, drivers/nic.c and drivers/ena.c against the ENA device model with 4 queue pairs and RSS, 4 cores each with its own lwIP instance serving svc_http, a fifth instance as the clients on the model's wire; DHCP, RSS over every core, device resets mid-traffic, nothing leaked. The harness is tests/unit/nic_http.c. */
#define _DEFAULT_SOURCE
#include <stdint.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/ena_reg.h"
#include "net/flow.h"
#include "net/http.h"
#include "ena_model.h"
#include "harness.h"
#include "nic_http.h"

/* Reset 2's pace: a request per connection this often (fewer with big bodies, for the time). */
#define KA_EVERY_MS (POLLUX_HTTP_BODY_SIZE > 1024 ? 100 : 25)

static struct em_cfg cfg;               /* the scenario's device */

static void (*to_wire)(const uint8_t *f, uint32_t len);
static uint32_t synack_seen, synack_wrong_core;
static uint32_t sw_core_of(const uint8_t t[12]);

/* Without RSS, every SYN-ACK must leave through the TX queue of the core the software Toeplitz
 * names (core c sends on pair c; the model makes pair i's TX queue its slot 2i): a per-flow check
 * of net.c's software steering, which per-core counts alone cannot give. */
static void wire_tap(const uint8_t *f, uint32_t len)
{
	if (cfg.no_rss && len >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6 && (f[47] & 0x12) == 0x12) {
		uint8_t t[12];
		memcpy(t, f + 30, 4), memcpy(t + 4, f + 26, 4);         /* the client's view */
		memcpy(t + 8, f + 36, 2), memcpy(t + 10, f + 34, 2);
		synack_seen++;
		synack_wrong_core += (uint32_t)em.tx_q / 2 != sw_core_of(t);
	}
	to_wire(f, len);
}

static void ena_init(void (*wire)(const uint8_t *f, uint32_t len))
{
	struct em_cfg c = cfg;
	to_wire = wire;
	c.wire = wire_tap;
	em_init(&c);
}

static int ena_rx(const uint8_t *f, uint32_t len) { return em_rx(f, len); }
static void ena_tick(void) { em_tick(1); }

/* The device hashes the 4-tuple with the key the driver gave it, bucket hash % 128; net.c's one
 * table gives bucket i to core i % cores. */
static uint32_t ena_core_of(const uint8_t t[12])
{
	return (flow_hash_slow(em.key, t, 12) % NIC_RETA_LEN) % NH_CORES;
}

/* A device that does no RSS (issue 14, ENA item 2): net.c hashes in software with this boot's key
 * (the harness keeps what random_bytes gave net_init). */
static uint32_t sw_core_of(const uint8_t t[12])
{
	return (flow_hash_slow(harness_rss_key, t, 12) % NIC_RETA_LEN) % NH_CORES;
}

static void ena_check_up(void) { CHECK_EQ(em.rss, !cfg.no_rss); }

static void ena_check_end(void)
{
	CHECK_EQ(em.st.resets, 3);              /* attach, and the two */
	CHECK_EQ(em.st.refused, 0);
	CHECK_EQ(em.st.doorbell_beyond + em.st.doorbell_unknown + em.st.bad_phase, 0);
	CHECK_EQ(em.st.tx_bad_desc + em.st.rx_bad_desc + em.st.meta_missing + em.st.burst_exceeded, 0);
	CHECK_EQ(em.st.llq_no_meta + em.st.tx_split, 0);
	CHECK_EQ(em.rss, !cfg.no_rss);
	if (cfg.no_rss) {
		CHECK(synack_seen >= 5 * 64);   /* the five batches' connections */
		CHECK_EQ(synack_wrong_core, 0);
	}
	for (int q = 0; q < NH_CORES; q++) {
		struct nic_counter ctr[NIC_MAX_COUNTERS];
		unsigned k = nic_counters(q, ctr, NIC_MAX_COUNTERS);
		for (unsigned i = 0; i < k; i++)
			if (!strcmp(ctr[i].name, "bad_req_id") || !strcmp(ctr[i].name, "bad_cdesc"))
				CHECK_EQ(ctr[i].value, 0);
	}
}

static void ask_reset(void) { em_aenq(ENA_AENQ_DEVICE_REQUEST_RESET, 0); }
static void stop_keep_alive(void) { em.keep_alive_stopped = true; }
static void resume_keep_alive(void) { em.keep_alive_stopped = false; }

static const struct nh_dev ena_dev = {
	.init = ena_init,
	.acpi = &em_acpi,
	.rx = ena_rx,
	.round = em_release_tx,
	.tick_ms = ena_tick,
	.core_of = ena_core_of,
	.check_up = ena_check_up,
	.check_end = ena_check_end,
	.reset = {
		/* The device asks for a reset while traffic flows: the 64 kept connections ask 40 more
		 * requests, 64 new ones open and ask 40, each one every 10 ms (400 ms of traffic). */
		{ .what = "reset requested", .log = "ena0: device asked for a reset", .provoke = ask_reset,
		  .lead_ms = 50, .requests = 40, .every_ms = 10, .bound_ms = 3000, .device_takes = true },
		/* The device goes quiet (no keep-alive): the driver resets it after 6 s, while the 64
		 * connections of the last batch and 64 new ones each ask a request every KA_EVERY_MS
		 * for 8 s. */
		{ .what = "keep-alive lost", .log = "ena0: no keep-alive for 6000 ms", .provoke = stop_keep_alive,
		  .after = resume_keep_alive, .requests = 8000 / KA_EVERY_MS, .every_ms = KA_EVERY_MS,
		  .bound_ms = 9000, .device_takes = true },
	},
};

static void s_host_placement(void)
{
	cfg = (struct em_cfg){ .max_queues = 8, .out_of_order = true };
	nh_scenario(&ena_dev, "host TX placement");
	nh_collect(&test_checks, &test_failed);
}

static void s_llq(void)
{
	cfg = (struct em_cfg){ .max_queues = 8, .llq = true, .llq_only = true, .no_meta_caching = true, .burst_bytes = 1024 };
	nh_scenario(&ena_dev, "LLQ");
	nh_collect(&test_checks, &test_failed);
}

/* The device does not offer RSS: every flow arrives on queue 0 without NIC_RX_HASH and net.c steers
 * it in software, each served by the core the software Toeplitz names. */
static void s_no_rss(void)
{
	cfg = (struct em_cfg){ .max_queues = 8, .no_rss = true };
	struct nh_dev d = ena_dev;
	d.core_of = sw_core_of;
	d.sw_steer = true;
	nh_scenario(&d, "no RSS");
	nh_collect(&test_checks, &test_failed);
}

#define STR2(x) #x
#define STR(x) STR2(x)
#define BODY_NAME STR(POLLUX_HTTP_BODY_SIZE) "-byte"

/* Each scenario in its own process, so net.c, nic.c and the driver start fresh. */
TEST_MAIN("test_ena_http (" BODY_NAME " body at /): HTTP end to end through the ENA driver and nic.c on the device model: 4 queue pairs with RSS, 4 cores each serving HTTP from its own lwIP instance, clients in a fifth; DHCP through the device, every request answered byte for byte by the core RSS names, device resets (requested, keep-alive lost) mid-traffic with the service continuing, no buffer or memory leaked; a device without RSS steered in software", {
	harness_run("4 queues RSS, host TX placement", s_host_placement);
	harness_run("4 queues RSS, LLQ", s_llq);
	harness_run("i14.2 4 queues, device without RSS: software steering", s_no_rss);
})
