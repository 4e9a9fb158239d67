/* test_ixgbe_http: HTTP end to end through the 82599 driver: net/net.c, drivers/nic.c, drivers/ixgbe.c and drivers/intel_adv.c against the 82599 datasheet model (tests/unit/ixgbe_model.c) with 4 queue pairs and RSS by its RSSRK and RETA, 4 cores each serving svc_http from its own lwIP instance, clients in a fifth on the model's wire; DHCP, every flow on the core the model's Toeplitz hash names, device resets mid-traffic (one the driver asks for, one from outside that the slow path finds), the model finding no fault in the driver's order, nothing leaked. The harness is tests/unit/nic_http.c. */
#define _DEFAULT_SOURCE
#include <stdint.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/intel_adv.h"
#include "drivers/ixgbe_reg.h"
#include "net/flow.h"
#include "net/http.h"
#include "fakepci.h"
#include "harness.h"
#include "ixgbe_model.h"
#include "nic_http.h"
#include "nic_http_client.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define BODY_NAME STR(POLLUX_HTTP_BODY_SIZE) "-byte"

/* ---- PCI: one function, an 82599 SFP+ (8086:10fb) at 00:04.0 of the fake ECAM, BAR 0 64-bit ---- */
#define IX_BAR0 0xfb000000ull
static struct acpi_info ix_acpi;

static void ix_pci_init(void)
{
	fakepci_reset();
	size_t s = fakepci_fn(0, 4, 0, IXGBE_VENDOR, 0x10fb, 0x02, 0x00, 0x00);
	fakepci_bar(s, 0, 0x4 | (uint32_t)IX_BAR0, (uint32_t)~(IM_BAR_SIZE - 1));
	fakepci_bar(s, 1, 0, 0xffffffffu);
	pci_set_cfg_ops(&fakepci_ops);
	memset(&ix_acpi, 0, sizeof(ix_acpi));
	ix_acpi.nmcfg = 1;
	ix_acpi.mcfg[0].base = fakepci.base;
	ix_acpi.mcfg[0].bus_end = 0;
}

/* ---- the device, as tests/unit/nic_http.c drives it ---- */
static void ix_init(void (*wire)(const uint8_t *f, uint32_t len))
{
	im_init(IX_BAR0);
	im.cable = true;
	im.wire = wire;
	ix_pci_init();
}

static int ix_rx(const uint8_t *f, uint32_t len) { return im_rx(f, len, NULL); }

/* The model's own RSS (its RSSRK key and RETA, 7.1.2.8): queue q is core q's. */
static uint32_t ix_core_of(const uint8_t t[12]) { return im_rss_queue(t, NULL); }

/* Brought up in the datasheet's order: the model found no fault; RSS with net.c's key and table,
 * the model's Toeplitz agreeing with net/flow.c's. */
static void ix_check_up(void)
{
	CHECK_EQ(im_violations(), 0);
	CHECK_EQ(im.driver_resets, 1);
	CHECK(IM_R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN);
	CHECK_EQ(IM_R(IADV_MRQC) & 0xf, IXGBE_MRQC_RSS);
	/* net.c's one table (bucket i to core i % cores) and its key, as the datasheet lays them out:
	 * four RETA entries a register, key byte 0 in RSSRK(0) bits 7:0 (7.1.2.8). */
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < IADV_RETA_LEN; i++)
		wrong += ((IM_R(IADV_RETA(i / 4)) >> (8 * (i % 4))) & 0xf) != i % NH_CORES;
	CHECK_EQ(wrong, 0);
	uint8_t key[40];
	for (int i = 0; i < 40; i++)
		key[i] = (uint8_t)(IM_R(IADV_RSSRK(i / 4)) >> (8 * (i % 4)));
	CHECK(!memcmp(key, harness_rss_key, sizeof(key)));
	for (uint32_t q = 0; q < NH_CORES; q++)
		CHECK(IM_R(IXGBE_RXQ(q) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE);
	uint32_t agree = 0;
	for (uint32_t i = 0; i < 64; i++) {
		uint8_t t[12] = { 198, 18, 0, 1, 198, 18, 0, 100, (uint8_t)(i * 37 >> 8), (uint8_t)(i * 37), 0, 80 };
		agree += im_toeplitz(key, t, 12) == flow_hash_slow(key, t, 12);
	}
	CHECK_EQ(agree, 64);
}

static void ix_check_end(void)
{
	CHECK_EQ(im_violations(), 0);           /* both resets in the datasheet's order too */
	CHECK_EQ(im.driver_resets, 3);          /* attach, and the two */
	CHECK_EQ(im.outside_resets, 1);
	CHECK_EQ(im.rx_dropped_filter, 0);
	/* The client's duplicate address detection and router solicitations go to groups the server
	 * never joined: the MTA keeps them out. */
	CHECK(im.rx_dropped_mcast > 0);
	for (int q = 0; q < NH_CORES; q++) {
		CHECK_EQ(nh_counter(q, "csum_err"), 0);
		CHECK_EQ(nh_counter(q, "not_eop") + nh_counter(q, "bad_len") + nh_counter(q, "stray_wb"), 0);
	}
	CHECK_EQ(nh_counter(-1, "missed"), 0);  /* DROP_EN: a full ring drops per queue, counted */
	CHECK_EQ(nh_counter(-1, "reset_stuck") + nh_counter(-1, "crc_err"), 0);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.link_down, 1);              /* the reset from outside took the link down */
	CHECK_EQ(ds.link_up, 1);
	CHECK(nic_dev() && nic_dev()->link);
	/* TCP segmentation: every TSE frame the driver posted and the device read was cut (a refused
	 * one is a violation, above); with a body of several segments, frames of several left. */
	uint64_t tso = 0, tso_segs = 0;
	for (uint32_t q = 0; q < NH_CORES; q++) {
		struct nic_qstats st;
		nic_qstats(q, &st);
		tso += st.tx_tso, tso_segs += st.tx_tso_segs;
	}
	CHECK_EQ(im.tx.tso_refused, 0);
	CHECK(im.tx.tso_frames <= tso && im.tx.tso_segs <= tso_segs);
	if (POLLUX_HTTP_BODY_SIZE >= 4 * 1448)
		CHECK(im.tx.tso_frames > 0 && im.tx.tso_segs > im.tx.tso_frames);
	/* lwIP's own segments are of several MSS where the NIC cuts them (lwIP patch 0022): the
	 * serving cores' lwIP sent fewer than a quarter of the segments the wire carried. */
	uint64_t xmit = 0;
	for (uint32_t q = 0; q < NH_CORES; q++)
		xmit += hc_tcp_xmit(q);
	if (POLLUX_HTTP_BODY_SIZE >= 4 * 1448)
		CHECK(xmit * 4 < tso_segs);
	printf("    ixgbe: %llu frames received and %llu sent by the model; %llu driver writes found the set-up lost, "
	       "%d frames refused with the receive unit off, %llu dropped for want of a descriptor; TSO: %llu frames "
	       "posted (%llu segments), %llu cut by the model into %llu segments; lwIP's own TCP segments %llu\n",
	       (unsigned long long)im.rx_frames, (unsigned long long)im.tx_frames, (unsigned long long)im.writes_lost,
	       im.rx_dropped_disabled, (unsigned long long)nh_counter(-1, "no_buf"), (unsigned long long)tso,
	       (unsigned long long)tso_segs, (unsigned long long)im.tx.tso_frames, (unsigned long long)im.tx.tso_segs,
	       (unsigned long long)xmit);
}

static void ask_reset(void) { nic_request_reset(); }

static const struct nh_dev ixgbe_dev = {
	.init = ix_init,
	.acpi = &ix_acpi,
	.rx = ix_rx,
	.core_of = ix_core_of,
	.check_up = ix_check_up,
	.check_end = ix_check_end,
	.reset = {
		/* The driver is asked for a reset (nic_request_reset, as the console's test command
		 * does) while the 64 kept connections ask 40 more requests and 64 new ones ask 40, each
		 * one every 10 ms: the queues stop, the chip is reset and brought up again. */
		{ .what = "reset requested", .log = "ixgbe0: resetting the device", .provoke = ask_reset,
		  .lead_ms = 50, .requests = 40, .every_ms = 10, .bound_ms = 3000, .device_takes = true },
		/* The chip loses its set-up from outside (a function-level reset): receive unit and
		 * queues off, link down; the slow path sees RXCTRL.RXEN clear and resets it. */
		{ .what = "set-up lost", .log = "ixgbe0: link down", .provoke = im_lose_setup,
		  .lead_ms = 50, .requests = 40, .every_ms = 10, .bound_ms = 3000, .device_takes = false },
	},
};

static void s_rss(void)
{
	nh_scenario(&ixgbe_dev, "82599");
	nh_collect(&test_checks, &test_failed);
}

/* The scenario in its own process, so net.c, nic.c and the driver start fresh. */
TEST_MAIN("test_ixgbe_http (" BODY_NAME " body at /): HTTP end to end through the 82599 driver and nic.c on the datasheet model: 4 queue pairs with RSS by the model's RSSRK and RETA, 4 cores each serving HTTP from its own lwIP instance, clients in a fifth; DHCP through the device, every request answered byte for byte by the core the model's Toeplitz hash names, device resets (requested, set-up lost from outside) mid-traffic with the service continuing and the bring-up order still right, no buffer or memory leaked", {
	harness_run("4 queues RSS by RETA", s_rss);
})
