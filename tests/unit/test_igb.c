/* test_igb: the 82576 driver through drivers/nic.c against a model of the 82576's bring-up
 * (tests/unit/igb_model.c) on a fake clock where a spin takes 10 ns: reset delays held on the
 * counter, MDIC only after EEMNGCTL.CFG_DONE and under the SW/FW semaphore, the copper PHY
 * powered up, RSS over at most 8 queue pairs, the fiber and SerDes parts not claimed. */
#include <stdarg.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/intel_adv.h"
#include "drivers/igb_reg.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "igb_model.h"
#include "tso_frames.h"
#include "test.h"
#include "drvhost.h"

/* The fake clock: 1 GHz unless a test says otherwise, and every read of the counter (one spin
 * of a wait loop) takes 10 ns, as on a CPU whose pause is short; each register access adds the
 * model's 200 ns. */
static uint64_t hz = 1000000000;
uint64_t arch_counter_hz(void) { return hz; }
#define SPIN_NS 10
static uint64_t fast_spin(void) { return host_clock += SPIN_NS; }

/* The one PCI function: an 82576 of the test's device ID and port, BAR 0 answered by the model. */
#define BAR0 0x7f0000000000ull
static struct pci_dev dev82576 = { .vendor = 0x8086, .device = 0x10c9 };
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	return vendor == 0x8086 && device == dev82576.device && nth == 0 ? &dev82576 : NULL;
}
uint64_t pci_bar_addr(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? BAR0 : 0; }
uint64_t pci_bar_size(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? GM_BAR_SIZE : 0; }
void pci_enable(struct pci_dev *d) { (void)d; }
int pci_scan(const struct acpi_info *ai) { (void)ai; return 1; }

/* nic.c's probe table names virtio-net and ENA too: here they serve no ID. */
static const struct nic_id no_ids[] = { { 0, 0 } };
const struct nic_driver vnet_driver = { NULL, no_ids }, ena_driver = { NULL, no_ids };

/* Each item of issue 14 is one named verdict line, so a run against an older driver says which
 * rule it broke. */
static void verdict(const char *name, bool ok)
{
	test_checks++;
	test_failed += !ok;
	printf("  %s %s\n", ok ? "ok  " : "FAIL", name);
}

/* The delays alone, on the fake clock: at least the time asked for, however short a spin is, and
 * exact for a counter that is not a multiple of 1 MHz (AArch64's 62.5 MHz). */
static void test_delays(void)
{
	host_counter = fast_spin;
	uint64_t t0 = host_clock;
	iadv_delay_us(1000);
	verdict("delay: iadv_delay_us(1000) waits >= 1 ms on the counter with 10 ns spins",
		host_clock - t0 >= 1000000 && host_clock - t0 < 1100000);
	hz = 62500000;
	t0 = host_clock;
	iadv_delay_us(1000);
	verdict("delay: at 62.5 MHz, 1000 us is 62500 ticks", host_clock - t0 >= 62500 && host_clock - t0 < 63000);
	hz = 1000000000;
	/* A wait that never succeeds lasts its time, not a count of register reads. */
	gm_init(BAR0, 0);
	t0 = host_clock;
	struct iadv a = { .bar = BAR0 };
	CHECK(!iadv_wait(&a, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, 10));
	verdict("delay: iadv_wait(10 ms) that never succeeds gives up after >= 10 ms", host_clock - t0 >= 10000000);
}

/* Port 1 of a dual-port board: its own CFG_DONE bit and PHY semaphore (Linux
 * igb_get_cfg_done_82575, igb_acquire_phy_82575). */
static void test_port1(void)
{
	gm_init(BAR0, 1);
	gm.cable = true;
	dev82576.fn = 1;
	drvhost_log_clear();
	CHECK(nic_attach(2) == 2);
	verdict("port 1: MDIC after CFG_DONE of port 1, under PHY1's semaphore, link up",
		gm.mdic_before_cfg_done == 0 && gm.mdic_without_sem == 0 && gm.mdic_ops > 0 && gm_link());
	dev82576.fn = 0;
}

/* The fiber and SerDes parts: their link is the PCS's, not a copper PHY's; not claimed. */
static void test_serdes_ids(void)
{
	static const uint16_t ids[] = { 0x10e6, 0x10e7, 0x1518, 0x150d };
	int claimed = 0;
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		gm_init(BAR0, 0);
		dev82576.device = ids[i];
		claimed += nic_attach(4) >= 0;
	}
	dev82576.device = 0x10c9;
	verdict("serdes: 8086:10e6, 10e7, 1518, 150d (fiber, SerDes) are not claimed", claimed == 0);
}

/* The model by hand: what it refuses, without a driver. */
static void test_model(void)
{
	gm_init(BAR0, 0);
	mmio_write32(BAR0 + IGB_CTRL, IGB_CTRL_RST);
	CHECK_EQ(mmio_read32(BAR0 + IGB_STATUS), 0xffffffff);            /* at once: no answer */
	CHECK_EQ(gm.access_in_reset, 1);
	host_clock += 2000000;
	mmio_write32(BAR0 + IGB_MDIC, IGB_MDIC_OP_READ | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT);
	CHECK(mmio_read32(BAR0 + IGB_MDIC) & IGB_MDIC_ERROR);           /* before CFG_DONE */
	CHECK_EQ(gm.mdic_before_cfg_done, 1);
	host_clock += 10000000;
	CHECK(mmio_read32(BAR0 + IGB_EEMNGCTL) & IGB_EEMNGCTL_CFG_DONE0);
	mmio_write32(BAR0 + IGB_MDIC, IGB_MDIC_OP_READ | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT);
	CHECK(mmio_read32(BAR0 + IGB_MDIC) & IGB_MDIC_ERROR);           /* without the semaphore */
	CHECK_EQ(gm.mdic_without_sem, 1);
	mmio_write32(BAR0 + IGB_SW_FW_SYNC, IGB_SWFW_PHY0_SM);          /* without SWSM: ignored */
	CHECK_EQ(gm.swfw_without_swsm, 1);
	CHECK_EQ(mmio_read32(BAR0 + IGB_SWSM) & IGB_SWSM_SMBI, 0);     /* read while free: taken */
	CHECK(mmio_read32(BAR0 + IGB_SWSM) & IGB_SWSM_SMBI);
	mmio_write32(BAR0 + IGB_SWSM, IGB_SWSM_SMBI | IGB_SWSM_SWESMBI);
	mmio_write32(BAR0 + IGB_SW_FW_SYNC, IGB_SWFW_PHY0_SM);
	mmio_write32(BAR0 + IGB_SWSM, 0);
	mmio_write32(BAR0 + IGB_MDIC, IGB_MDIC_OP_READ | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT);
	uint32_t v = mmio_read32(BAR0 + IGB_MDIC);
	CHECK(!(v & IGB_MDIC_ERROR) && (v & IGB_BMCR_PDOWN));         /* powered down at power-on */
	gm.cable = true;
	mmio_write32(BAR0 + IGB_CTRL, IGB_CTRL_SLU);
	mmio_write32(BAR0 + IGB_MDIC, IGB_MDIC_OP_WRITE | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT | (v & 0xffff) |
					      IGB_BMCR_ANRESTART);
	CHECK_EQ(gm.an_while_powered_down, 1);
	host_clock += 10000000;
	CHECK(!(mmio_read32(BAR0 + IGB_STATUS) & IGB_STATUS_LU));       /* no link while powered down */
	mmio_write32(BAR0 + IGB_MDIC, IGB_MDIC_OP_WRITE | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT |
					      (v & 0xffff & ~IGB_BMCR_PDOWN) | IGB_BMCR_ANRESTART);
	host_clock += 10000000;
	CHECK(mmio_read32(BAR0 + IGB_STATUS) & IGB_STATUS_LU);
}

/* Each PHY rule alone (the others off), so a driver breaking only one is caught by it. */
static void test_rules_alone(void)
{
	gm_init(BAR0, 0);
	gm.cable = true;
	gm.cfg_done_ns = 0;
	CHECK(nic_attach(2) > 0);
	verdict("semaphore alone: no MDIC without the PHY's SW/FW semaphore",
		gm.mdic_without_sem == 0 && gm.mdic_ops > 0);
	gm_init(BAR0, 0);
	gm.cable = true;
	gm.cfg_done_ns = 0;
	gm.fw_phy_ns = 0;
	gm.sem_required = false;
	CHECK(nic_attach(2) > 0);
	verdict("power-up alone: auto-negotiation never restarted with BMCR.PDOWN set, link up",
		gm.an_while_powered_down == 0 && gm.mdic_ops > 0 && gm_link());
}

static int tx_done_calls;
static void tx_done(void *ref) { (void)ref; tx_done_calls++; }

/* Transmit on queue 1: a frame with TCP checksum offload, then TCP segmentation over IPv4 and IPv6
 * (the header copied, the payload in place in 2 and 8 pieces), which the model cuts as the chip
 * does and refuses when a field is wrong (tests/unit/iadv_model_tx.h). */
static void tx_checks(void)
{
	static uint8_t f[2][65536];
	/* Checksum offload alone: the field holds the pseudo-header sum with the length. */
	uint32_t len = tso_frame(f[0], false, 1000, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", gm_mac);
	struct nic_frag one[2] = { { f[0], 54 }, { f[0] + 54, len - 54 } };
	struct nic_txo co = { .csum_start = 34, .csum_offset = 16 };
	uint32_t first = gm.nout;
	CHECK_EQ(nic_tx(1, one, 2, &co, f[0]), NIC_TX_INPLACE);
	nic_flush(1);
	CHECK_EQ(gm.nout - first, 1);
	CHECK_EQ(tso_seg_bad(f[0], false, 1000, 1000, 0, gm.out[first % 256].data, gm.out[first % 256].len), 0);
	verdict("tx: a frame with TCP checksum offload leaves whole, its checksum right", gm.nout - first == 1 &&
		tso_seg_bad(f[0], false, 1000, 1000, 0, gm.out[first % 256].data, gm.out[first % 256].len) == 0);
	/* The same over IPv6: its context must not say IPv4 (TUCMD.IPV4; the model counts it). */
	len = tso_frame(f[1], true, 1000, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", gm_mac);
	struct nic_frag one6[2] = { { f[1], 74 }, { f[1] + 74, len - 74 } };
	struct nic_txo co6 = { .csum_start = 54, .csum_offset = 16 };
	first = gm.nout;
	CHECK_EQ(nic_tx(1, one6, 2, &co6, f[1]), NIC_TX_INPLACE);
	nic_flush(1);
	CHECK_EQ(gm.nout - first, 1);
	verdict("tx: the same over IPv6, its context not saying IPv4", gm.nout - first == 1 && gm.tx.ip_type_bad == 0 &&
		tso_seg_bad(f[1], true, 1000, 1000, 0, gm.out[first % 256].data, gm.out[first % 256].len) == 0);
	CHECK_EQ(nic_dev()->caps.tso_max, IADV_TSO_MAX);
	int bad = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		uint32_t plen = v6 ? 60000 : 3 * 1448 + 500, hl = v6 ? 74 : 54, npieces = v6 ? NIC_TX_MAX_REFS : 2;
		uint16_t mss = v6 ? 1440 : 1448;
		tso_frame(f[v6], v6, plen, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", gm_mac);
		struct nic_frag tf[1 + NIC_TX_MAX_REFS] = { { f[v6], hl } };
		for (uint32_t i = 0; i < npieces; i++)
			tf[1 + i] = (struct nic_frag){ f[v6] + hl + plen * i / npieces, plen * (i + 1) / npieces - plen * i / npieces };
		struct nic_txo o = { .csum_start = (uint16_t)(hl - 20), .csum_offset = 16, .gso_size = mss,
				     .gso = v6 ? NIC_GSO_TCP6 : NIC_GSO_TCP4, .hdr_len = (uint8_t)hl };
		first = gm.nout;
		CHECK_EQ(nic_tx(1, tf, 1 + npieces, &o, f[v6]), NIC_TX_INPLACE);
		nic_flush(1);
		uint32_t nseg = (plen + mss - 1) / mss;
		CHECK_EQ(gm.nout - first, nseg);
		for (uint32_t k = 0; k < nseg && first + k < gm.nout; k++)
			bad += tso_seg_bad(f[v6], v6, plen, mss, k, gm.out[(first + k) % 256].data, gm.out[(first + k) % 256].len);
	}
	if (gm.tx.tso_refused)
		printf("  model refused a TSO frame: %s\n", gm.tx.tso_why);
	nic_flush(1);
	struct nic_qstats st;
	nic_qstats(1, &st);
	verdict("tso: IPv4 and IPv6 frames cut into 4 and 42 segments, each right",
		bad == 0 && gm.tx.tso_frames == 2 && gm.tx.tso_segs == 4 + 42 && gm.tx.tso_refused == 0 &&
			st.tx_tso == 2 && st.tx_tso_segs == 4 + 42 && tx_done_calls == 4);
	CHECK_EQ(gm_violations(), 0);
}

/* Our Toeplitz (the RSS specification's), written here as the reference. */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, int n)
{
	uint32_t h = 0;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			if (in[i] & (0x80 >> b)) {
				uint32_t bit = (uint32_t)(i * 8 + b), w = 0;
				for (int k = 0; k < 32; k++) {
					uint32_t kb = bit + (uint32_t)k;
					w = w << 1 | (kb < 320 ? (key[kb / 8] >> (7 - kb % 8)) & 1 : 0);
				}
				h ^= w;
			}
	return h;
}

/* Frames from peer i to us: IPv4 TCP, IPv6 TCP or UDP from sp to 443, an ICMPv6 echo, an IPv6
 * fragment of a UDP datagram (kind 0..4). Sets *n to the hash input's length and fills in. */
static uint32_t rss_frame(uint8_t *f, int kind, uint32_t i, uint16_t sp, uint8_t *in, int *n)
{
	memset(f, 0, 128);
	memcpy(f, gm_mac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	uint8_t *p;
	if (kind == 0) {
		f[12] = 0x08, f[14] = 0x45, f[22] = 64, f[23] = 6;
		f[26] = 198, f[27] = 18, f[28] = (uint8_t)(i >> 8), f[29] = (uint8_t)i;
		f[30] = 198, f[31] = 19, f[33] = 2;
		p = f + 34;
		memcpy(in, f + 26, 8);
		*n = 12;
	} else {
		f[12] = 0x86, f[13] = 0xdd, f[14] = 0x60, f[21] = 64;
		static const uint8_t pre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 4 };
		memcpy(f + 22, pre, 8), memcpy(f + 38, pre, 8);
		for (int b = 0; b < 4; b++)
			f[30 + b] = (uint8_t)((i * 2654435761u) >> (8 * b)), f[34 + b] = (uint8_t)(i >> (8 * b));
		f[53] = 2;
		f[20] = kind == 1 ? 6 : kind == 2 ? 17 : kind == 3 ? 58 : 44;
		p = f + 54;
		if (kind == 4)
			p[0] = 17, p[3] = 9, p += 8;            /* first fragment: ports there, not hashed */
		f[19] = (uint8_t)(p + 40 - (f + 54));
		memcpy(in, f + 22, 32);
		*n = kind == 1 || kind == 2 ? 36 : 32;
	}
	if (kind == 3)
		p[0] = 128;
	else
		p[0] = (uint8_t)(sp >> 8), p[1] = (uint8_t)sp, p[2] = 443 >> 8, p[3] = 443 & 0xff;
	if (*n == 12 || *n == 36)
		memcpy(in + *n - 4, p, 4);
	return (uint32_t)(p + 40 - f);
}

/* The multicast filter through nic.c: the groups asked for pass the MTA with RCTL.MPE off, a
 * group not asked for (another hash) and nothing else; broadcast and our address always; every
 * group with MPE when all multicast is asked for. */
static void mcast_checks(void)
{
	static const uint8_t list[2][6] = { { 0x33, 0x33, 0, 0, 0, 1 }, { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 } };
	nic_set_mcast(list, 2);
	struct nic_dstats ds;
	nic_dstats(&ds);
	verdict("mcast: the groups joined pass the MTA, RCTL.MPE off, another group filtered",
		gm_rx_accepts(list[0]) && gm_rx_accepts(list[1]) && !gm_rx_accepts((const uint8_t *)"\x33\x33\xff\x00\x12\x34") &&
			!(GM_R(IGB_RCTL) & IGB_RCTL_MPE) && ds.mcast_entries == 2 && !ds.mcast_all);
	verdict("mcast: broadcast (RCTL.BAM) and our own address still received",
		gm_rx_accepts((const uint8_t *)"\xff\xff\xff\xff\xff\xff") && gm_rx_accepts(gm_mac));
	nic_set_mcast(NULL, NIC_MCAST_ALL);
	nic_dstats(&ds);
	verdict("mcast: all multicast asked for: RCTL.MPE", gm_rx_accepts((const uint8_t *)"\x33\x33\xff\x00\x12\x34") &&
		(GM_R(IGB_RCTL) & IGB_RCTL_MPE) && ds.mcast_all);
	nic_set_mcast(list, 2);
}

static void test_driver(void)
{
	gm_init(BAR0, 0);
	gm.cable = true;
	drvhost_log_clear();
	int np = nic_attach(16);
	verdict("reset: no register access within 1 ms of CTRL.RST", gm.access_in_reset == 0);
	verdict("cfg_done: no MDIC before EEMNGCTL.CFG_DONE (e1000_82575.c igb_get_cfg_done_82575)",
		gm.mdic_before_cfg_done == 0 && gm.mdic_ops > 0);
	verdict("semaphore: MDIC only holding SW_FW_SYNC's PHY bit, taken under SWSM, released after",
		gm.mdic_without_sem == 0 && gm.swfw_without_swsm == 0 && gm.swfw_took_fw == 0 && gm.mdic_ops > 0 &&
			!(GM_R(IGB_SW_FW_SYNC) & 0xffff) && !(GM_R(IGB_SWSM) & (IGB_SWSM_SMBI | IGB_SWSM_SWESMBI)));
	verdict("power-up: BMCR.PDOWN cleared before auto-negotiation, link up at attach",
		!(gm.phy[IGB_PHY_BMCR] & IGB_BMCR_PDOWN) && gm.an_while_powered_down == 0 && np > 0 &&
			gm_link());
	verdict("rss: 16 cores asked, 8 queue pairs given (the 82576's RSS queues)", np == 8);
	if (np <= 0)
		return;
	uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
	for (int i = 0; i < NIC_RSS_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 37 + 1);
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)(i % np);
	CHECK_EQ(nic_start(key, reta), 0);
	for (uint32_t q = 0; q < (uint32_t)np; q++)
		nic_queue_start(q, tx_done);
	CHECK(GM_R(IGB_RCTL) & IGB_RCTL_EN);
	verdict("rss: every RETA entry names one of the 8 RSS queues", gm.reta_beyond_rss == 0);
	/* Each kind of frame on the queue RETA names for our Toeplitz: IPv4 and IPv6 TCP/UDP on the
	 * 4-tuple, ICMPv6 and IPv6 fragments on the addresses (MRQC's IPv6, TcpIPv6, UdpIPv6). */
	int right[5] = { 0 };
	for (uint32_t i = 0; i < 500; i++) {
		uint8_t f[128], in[36];
		int n, kind = (int)(i % 5);
		uint32_t len = rss_frame(f, kind, i, (uint16_t)(20000 + 7 * i), in, &n), hash = 0;
		uint32_t want = toeplitz(key, in, n);
		int q = gm_rss_queue(f, len, &hash);
		right[kind] += q == (int)reta[want & 127] && hash == want;
	}
	verdict("rss: IPv4 TCP on the 4-tuple", right[0] == 100);
	verdict("rss: IPv6 TCP and UDP on the 36-byte tuple (MRQC TcpIPv6, UdpIPv6)", right[1] == 100 && right[2] == 100);
	verdict("rss: ICMPv6 and IPv6 fragments on the addresses (MRQC IPv6)", right[3] == 100 && right[4] == 100);
	/* TcpIPv6Ex (bit 18) with TcpIPv6, as Linux's igb: QEMU's 82576 hashes TCP over IPv6 on its
	 * four-tuple only with it. IPv6Ex and UdpIPv6Ex would hash a home address or a routing
	 * header's address, not net/flow.c's: off. */
	verdict("rss: TcpIPv6Ex as Linux sets it, no IPv6Ex or UdpIPv6Ex",
		(GM_R(IADV_MRQC) & 0x010c0000u) == 0x00040000u);
	CHECK_EQ(gm.q_enable_refused, 0);
	CHECK_EQ(gm.tail_refused, 0);
	CHECK_EQ(gm.irq_unmasked, 0);
	mcast_checks();
	tx_checks();

	/* A reset while running: receive and transmit stopped, 10 ms of quiet, CTRL.RST, the same
	 * bring-up again, the link back. */
	nic_request_reset();
	nic_slow_poll();
	for (uint32_t q = 0; q < (uint32_t)np; q++)
		nic_flush(q);
	nic_slow_poll();
	for (uint32_t q = 0; q < (uint32_t)np; q++)
		nic_flush(q);
	nic_slow_poll();
	CHECK(logged("igb0: reset done, 8 queue pairs back"));
	verdict("reset: CTRL.RST >= 10 ms after receive and transmit stopped (igb_reset_hw_82575)",
		gm.reset_not_quiet == 0);
	CHECK_EQ(gm_violations(), 0);
	host_clock += 3000000;                  /* auto-negotiation, restarted by the reset */
	CHECK(gm_link());
	nic_slow_poll();
	CHECK(nic_dev() && nic_dev()->link);
	if (gm_violations())
		printf("  model: in_reset %d not_quiet %d mdic_early %d mdic_nosem %d swfw_noswsm %d swfw_fw %d "
		       "an_pdown %d reta %d q_refused %d tail %d irq %d\n", gm.access_in_reset, gm.reset_not_quiet,
		       gm.mdic_before_cfg_done, gm.mdic_without_sem, gm.swfw_without_swsm, gm.swfw_took_fw,
		       gm.an_while_powered_down, gm.reta_beyond_rss, gm.q_enable_refused, gm.tail_refused,
		       gm.irq_unmasked);
}

TEST_MAIN("igb: the 82576 driver through nic.c against a bring-up model on a fake clock with 10 ns spins: "
	  "reset delays on the counter, MDIC after CFG_DONE under the SW/FW semaphore, the copper PHY "
	  "powered up, RSS over at most 8 queue pairs (IPv4 and IPv6 fields), the multicast table, fiber/SerDes IDs not claimed",
	  test_delays(); test_model(); test_rules_alone(); test_serdes_ids(); test_port1(); test_driver())
