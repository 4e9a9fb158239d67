/* test_ixgbe: the 82599 driver and the advanced-descriptor engine, through drivers/nic.c, against a
 * model of the 82599 written from its datasheet (331520, tests/unit/ixgbe_model.c): register
 * semantics, bring-up order, RX and TX descriptors, RSS per key and RETA, error counters, link, bad
 * device values, reset, and issue 14's items (the SFP+ bring-up of the shared code among them). */
#include <stdarg.h>
#include <stdint.h>

#include "kernel.h"
#include "drivers/intel_adv.h"
#include "drivers/ixgbe_reg.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "ixgbe_model.h"
#include "tso_frames.h"
#include "test.h"
#include "drvhost.h"

/* One counter tick a microsecond: each read of it in a wait costs about what a register read costs
 * on PCIe, and the model's times (reset, SECRXSTAT.RDY, auto-negotiation) are in that time. */
uint64_t arch_counter_hz(void) { return 1000000; }

/* The one PCI function: an 82599 SFP+ with BAR 0 at a host address only the model answers. */
#define BAR0 0x7f0000000000ull
static struct pci_dev dev82599 = { .vendor = 0x8086, .device = 0x10fb };
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	return vendor == 0x8086 && device == dev82599.device && nth == 0 ? &dev82599 : NULL;
}
uint64_t pci_bar_addr(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? BAR0 : 0; }
uint64_t pci_bar_size(const struct pci_dev *d, int bar) { (void)d; return bar == 0 ? IM_BAR_SIZE : 0; }
void pci_enable(struct pci_dev *d) { (void)d; }
int pci_scan(const struct acpi_info *ai) { (void)ai; return 1; }      /* nic_wc_ranges' (not run here) */

/* nic.c's probe table names virtio-net and ENA too: here they serve no ID. */
static const struct nic_id no_ids[] = { { 0, 0 } };
const struct nic_driver vnet_driver = { NULL, no_ids }, ena_driver = { NULL, no_ids };

/* ---- the 82599 model: tests/unit/ixgbe_model.c ---- */
#define R(off) IM_R(off)
#define MAC im_mac
static void model_init(void) { im_init(BAR0); }

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}
static uint32_t csum_add(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* ---- frames ---- */
static uint32_t frame_tcp(uint8_t *f, const uint8_t *dst, uint32_t sip, uint32_t dip, uint16_t sp, uint16_t dp,
			  uint32_t paylen, bool good_csum)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14, *t = f + 34;
	uint32_t l4len = 20 + paylen;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[2] = (uint8_t)((20 + l4len) >> 8), ip[3] = (uint8_t)(20 + l4len), ip[8] = 64, ip[9] = 6;
	for (int i = 0; i < 4; i++)
		ip[12 + i] = (uint8_t)(sip >> (24 - 8 * i)), ip[16 + i] = (uint8_t)(dip >> (24 - 8 * i));
	uint16_t ic = (uint16_t)~csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(ic >> 8), ip[11] = (uint8_t)ic;
	memset(t, 0, 20);
	t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
	t[12] = 5 << 4, t[13] = 0x18;
	for (uint32_t i = 0; i < paylen; i++)
		t[20 + i] = (uint8_t)(i * 7 + sp);
	uint32_t s = csum_add(0, ip + 12, 8) + 6 + l4len;
	uint16_t c = (uint16_t)~csum_fold(csum_add(s, t, l4len));
	if (!good_csum)
		c ^= 0x1234;
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	return 34 + l4len;
}

static bool l4_csum_ok(const uint8_t *f, uint32_t len)
{
	uint32_t l4len = len - 34;
	uint32_t s = csum_add(0, f + 26, 8) + f[23] + l4len;
	return csum_fold(csum_add(s, f + 34, l4len)) == 0xffff;
}

/* The segments of f (plen payload bytes in mss pieces) at im.out[first...] (tests/unit/host/tso_frames.h). */
static void tso_check(const uint8_t *f, bool v6, uint32_t plen, uint32_t mss, uint32_t first)
{
	uint32_t nseg = (plen + mss - 1) / mss;
	CHECK_EQ(im.nout - first, nseg);
	int bad = 0;
	for (uint32_t k = 0; k < nseg && first + k < im.nout; k++)
		bad += tso_seg_bad(f, v6, plen, mss, k, im.out[(first + k) % 256].data, im.out[(first + k) % 256].len);
	CHECK_EQ(bad, 0);
}

static int tx_done_calls;
static void tx_done(void *ref) { (void)ref; tx_done_calls++; }

static const uint8_t ms_key[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
				    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
				    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa };

static uint64_t counter(int q, const char *name)
{
	struct nic_counter c[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(q, c, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return UINT64_MAX;
}

/* The transmit engine of both models (tests/unit/iadv_model_tx.h) by hand: a right TSE frame is
 * cut, and each field a chip needs right is refused when wrong, one at a time. */
static uint32_t tso_seen;
static void tso_sink(const uint8_t *f, uint32_t len, uint32_t q) { (void)f, (void)len, (void)q; tso_seen++; }

enum tso_fault { TF_NONE, TF_PAYLEN, TF_NO_MSS, TF_NO_CTX, TF_NO_IXSM, TF_LEN_IN_CSUM, TF_DESCS, TF_BIG_MSS };

/* One IPv4 TSE frame of 4,000 payload bytes in 1,448-byte segments, through a fresh engine with
 * the 82599's rules, with fault f. Returns the segments sent; *refused the refusals. */
static uint32_t tso_engine(enum tso_fault f, int *refused)
{
	static uint8_t fr[4100];
	static struct iadv_mtxq s;
	struct iadv_mtx m = { .max_data = IADV_TX_MAX_DATA, .need_cc = true, .out = tso_sink };
	iadv_mtx_reset(&s, 1);
	tso_frame(fr, false, 4000, MAC, MAC);
	if (f != TF_LEN_IN_CSUM) {      /* Intel's convention: the sum without the length */
		uint32_t c = csum_add(6, fr + 26, 8);
		fr[50] = (uint8_t)(csum_fold(c) >> 8), fr[51] = (uint8_t)csum_fold(c);
	}
	union iadv_txd d;
	struct iadv_txctx cx = { 14u << IADV_CTX_MACLEN_SHIFT | 20, 0,
				 IADV_TXD_DTYP_CTXT | IADV_TXD_DEXT | IADV_CTX_TUCMD_IPV4 | IADV_CTX_TUCMD_L4T_TCP,
				 (f == TF_NO_MSS ? 0 : f == TF_BIG_MSS ? 1461u : 1448u) << IADV_CTX_MSS_SHIFT | 20u << IADV_CTX_L4LEN_SHIFT };
	memcpy(&d, &cx, 16);
	tso_seen = 0;
	if (f != TF_NO_CTX)
		iadv_mtx_desc(&m, &s, 0, &d, NULL);
	uint32_t olinfo = (f == TF_PAYLEN ? 4054u : 4000u) << IADV_TXD_PAYLEN_SHIFT | IADV_TXD_TXSM | IADV_TXD_CC |
			  (f == TF_NO_IXSM ? 0 : IADV_TXD_IXSM);
	/* the header, then the payload in pieces: 2, or 41 for the descriptor bound */
	uint32_t n = f == TF_DESCS ? IADV_TX_MAX_DATA + 1 : 2, off = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t len = i == 0 ? 54 : 54 + 4000 * i / n - off;
		d.rd.addr = (uint64_t)(uintptr_t)(fr + off);
		d.rd.olinfo_status = olinfo;
		d.rd.cmd_type_len = IADV_TXD_DTYP_DATA | IADV_TXD_DEXT | IADV_TXD_IFCS | IADV_TXD_TSE | len |
				    (i == n ? IADV_TXD_EOP : 0);
		iadv_mtx_desc(&m, &s, 0, &d, fr + off);
		off += len;
	}
	*refused = m.tso_refused;
	return tso_seen;
}

static void test_model_tso(void)
{
	int refused;
	CHECK_EQ(tso_engine(TF_NONE, &refused), 3);
	CHECK_EQ(refused, 0);
	static const enum tso_fault faults[] = { TF_PAYLEN, TF_NO_MSS, TF_NO_CTX, TF_NO_IXSM, TF_LEN_IN_CSUM, TF_DESCS,
						 TF_BIG_MSS };
	int caught = 0;
	for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		caught += tso_engine(faults[i], &refused) == 0 && refused == 1;
	CHECK_EQ(caught, 7);
	printf("  model: a TSE frame cut in 3; PAYLEN of the whole frame, no MSS, no context, no IXSM, the length "
	       "in the checksum field, 41 data descriptors, segments of 1,515 bytes: %d of 7 refused\n", caught);
}

/* The model itself: what the datasheet says the registers do, poked by hand. */
static void test_model_semantics(void)
{
	model_init();
	mmio_write32(BAR0 + IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK(mmio_read32(BAR0 + IXGBE_CTRL) & IXGBE_CTRL_RST);         /* still resetting */
	mmio_write32(BAR0 + IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	CHECK_EQ(im.write_in_reset, 1);                                  /* lost, and noticed */
	int spins = 0;
	while (mmio_read32(BAR0 + IXGBE_CTRL) & IXGBE_CTRL_RST)
		spins++;
	CHECK(spins > 10 && spins < 100);                               /* self-clearing */
	CHECK(!(mmio_read32(BAR0 + IXGBE_EEC) & IXGBE_EEC_ARD));        /* auto-read comes later */
	CHECK(!(mmio_read32(BAR0 + IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE));
	for (int i = 0; i < 300; i++)
		mmio_read32(BAR0 + IXGBE_STATUS);
	CHECK(mmio_read32(BAR0 + IXGBE_EEC) & IXGBE_EEC_ARD);
	CHECK(mmio_read32(BAR0 + IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE);
	/* A queue enable before its ring is described does not latch. */
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(!(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE));
	static union iadv_rxd ring[64] __attribute__((aligned(128)));
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_BAL, (uint32_t)(uintptr_t)ring);
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_BAH, (uint32_t)((uintptr_t)ring >> 32));
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_LEN, sizeof(ring));
	mmio_write32(BAR0 + IXGBE_SRRCTL(3), IXGBE_SRRCTL_ADV_ONEBUF | 2);
	/* ... nor while DCA_RXCTRL bit 12 is as the reset left it (set). */
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(!(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE));
	CHECK_EQ(im.dca_bit12, 1);
	mmio_write32(BAR0 + IXGBE_DCA_RXCTRL(3), 0);
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE);
	/* A tail beyond the ring is refused. */
	mmio_write32(BAR0 + IXGBE_RXQ(3) + IADV_Q_T, 64);
	CHECK_EQ(im.tail_refused, 1);
	CHECK_EQ(mmio_read32(BAR0 + IXGBE_RXQ(3) + IADV_Q_T), 0);
	/* TX enable before DMATXCTL.TE is refused (4.6.8). */
	mmio_write32(BAR0 + IXGBE_TXQ(0) + IADV_Q_LEN, 1024);
	mmio_write32(BAR0 + IXGBE_TXQ(0) + IADV_Q_DCTL, IADV_Q_DCTL_ENABLE);
	CHECK(!(mmio_read32(BAR0 + IXGBE_TXQ(0) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE));
	/* RSS: the Microsoft verification vector (IPv4/TCP 66.9.149.187:2794 -> 161.142.100.80:1766). */
	const uint8_t in[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 2794 >> 8, 2794 & 255, 1766 >> 8, 1766 & 255 };
	CHECK_EQ(im_toeplitz(ms_key, in, 12), 0x51ccc178);
	CHECK_EQ(im_toeplitz(ms_key, in, 8), 0x323e8fc2);
}

/* The model's SFP+ link by hand: down until every step of the shared code is done, the laser off and
 * LINK_DISABLE set at power-on, AUTOC's mode taken only through a pipeline reset. */
static void test_model_sfp_link(void)
{
	model_init();
	im.cable = true;
	for (int i = 0; i < 400; i++)
		mmio_read32(BAR0 + IXGBE_STATUS);
	CHECK(R(IXGBE_ESDP) & IXGBE_ESDP_SDP3);
	CHECK(R(IXGBE_AUTOC2) & IXGBE_AUTOC2_LINK_DISABLE_MASK);
	uint32_t sfi = (R(IXGBE_AUTOC) & ~IXGBE_AUTOC_LMS_MASK) | IXGBE_AUTOC_LMS_10G_SFI;
	mmio_write32(BAR0 + IXGBE_AUTOC, sfi | IXGBE_AUTOC_AN_RESTART);         /* one write: not taken */
	CHECK(im.lms_run != IXGBE_AUTOC_LMS_10G_SFI);
	mmio_write32(BAR0 + IXGBE_AUTOC, (sfi | IXGBE_AUTOC_AN_RESTART) ^ IXGBE_AUTOC_LMS_BIT2);
	CHECK(!(mmio_read32(BAR0 + IXGBE_ANLP1) & IXGBE_ANLP1_AN_STATE_MASK));
	host_clock += IM_AN_STATE_US;
	CHECK(mmio_read32(BAR0 + IXGBE_ANLP1) & IXGBE_ANLP1_AN_STATE_MASK);
	mmio_write32(BAR0 + IXGBE_AUTOC, sfi | IXGBE_AUTOC_AN_RESTART);
	CHECK_EQ(im.lms_run, IXGBE_AUTOC_LMS_10G_SFI);
	for (int i = 0; i < 100; i++)
		mmio_read32(BAR0 + IXGBE_STATUS);
	CHECK(!(mmio_read32(BAR0 + IXGBE_LINKS) & IXGBE_LINKS_UP));             /* disabled, dark, no sequence */
	mmio_write32(BAR0 + IXGBE_AUTOC2, 0);
	CHECK(!(mmio_read32(BAR0 + IXGBE_LINKS) & IXGBE_LINKS_UP));
	mmio_write32(BAR0 + IXGBE_ESDP, IXGBE_ESDP_SDP3 << 8);                  /* laser on */
	CHECK(!(mmio_read32(BAR0 + IXGBE_LINKS) & IXGBE_LINKS_UP));
	for (uint32_t i = 0; i < 4; i++)                                        /* a DA cable's words: wrong */
		mmio_write32(BAR0 + IXGBE_CORECTL, im_sfp_seq_word(3, i));
	CHECK(!(mmio_read32(BAR0 + IXGBE_LINKS) & IXGBE_LINKS_UP));
	CHECK(im.corectl_wrong > 0 && im.corectl_unlocked > 0);
	mmio_write32(BAR0 + IXGBE_GSSR, IXGBE_GSSR_MAC_CSR);
	int unlocked = im.corectl_unlocked;
	for (uint32_t i = 0; i < 4; i++)                                        /* the SR module's */
		mmio_write32(BAR0 + IXGBE_CORECTL, im_sfp_seq_word(5, i));
	CHECK_EQ(im.corectl_unlocked, unlocked);
	CHECK(mmio_read32(BAR0 + IXGBE_LINKS) & IXGBE_LINKS_UP);
	/* A link reset loads the EEPROM's link set-up again: down; the sequence stays. */
	mmio_write32(BAR0 + IXGBE_CTRL, IXGBE_CTRL_LNK_RST);
	CHECK_EQ(im.lnk_rst_link_up, 1);                                        /* with the link up */
	CHECK(R(IXGBE_ESDP) & IXGBE_ESDP_SDP3);
	CHECK(im.sfp_configured);
}

/* A reset that never completes: attach fails, says why, counts it, and leaves no queue. */
static void test_stuck_reset(void)
{
	model_init();
	im.stuck_reset = true;
	drvhost_log_clear();
	CHECK(nic_attach(4) < 0);
	CHECK(logged("ixgbe0: reset did not complete"));
	CHECK_EQ(counter(-1, "reset_stuck"), 1);
	CHECK(nic_dev() == NULL);
}

static uint8_t reta[NIC_RETA_LEN];

/* One of issue 14's items: named in the output with its verdict. */
static void item(const char *name, bool ok)
{
	CHECK(ok);
	printf("  issue 14 ixgbe %s: %s\n", name, ok ? "ok" : "FAILED");
}

/* An attach on the model as it is set up, as device; true when it brought the link up. */
static bool attach_as(uint16_t device)
{
	dev82599.device = device;
	drvhost_log_clear();
	bool ok = nic_attach(4) == 4 && logged("link up 10 Gb/s") && im_violations() == 0;
	dev82599.device = 0x10fb;
	return ok;
}

/* Issue 14's 82599 items seen in test_driver's bring-up, once the queues run (the model:
 * tests/unit/ixgbe_model.c). */
static void issue14_started(void)
{
	bool all_on = true;
	for (uint32_t q = 0; q < 4; q++)
		all_on &= (R(IXGBE_RXQ(q) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE) != 0;
	item("1 DCA_RXCTRL bit 12 clear before RXDCTL.ENABLE (RX queues enabled)", im.dca_bit12 == 0 && all_on);
	item("2 SFP+ module identified over I2C, its EEPROM init sequence in CORECTL (SR)",
	     im.sfp_configured && im.corectl_wrong == 0);
	item("2 GSSR MAC_CSR semaphore held around the CORECTL words, released after",
	     im.corectl_unlocked == 0 && !(R(IXGBE_GSSR) & IXGBE_GSSR_MAC_CSR) && !(R(IXGBE_SWSM) & IXGBE_SWSM_SMBI));
	item("2 AUTOC2 LINK_DISABLE cleared", !(R(IXGBE_AUTOC2) & IXGBE_AUTOC2_LINK_DISABLE_MASK));
	item("2 TX laser on (ESDP.SDP3 clear)", !(R(IXGBE_ESDP) & IXGBE_ESDP_SDP3));
	item("2 AUTOC 10 GbE serial through a pipeline reset", im.lms_run == IXGBE_AUTOC_LMS_10G_SFI);
	item("2 link up at attach", logged("link up 10 Gb/s") && nic_dev() && nic_dev()->link);
	/* Both need the queues and the receive unit on: a bring-up that stopped earlier fails them. */
	bool rxen = (R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN) != 0;
	item("3 relaxed ordering off before the queues are enabled", im.relaxed_order == 0 && all_on);
	item("3 SECRXSTAT.RDY waited for (up to 40 ms) before RXCTRL.RXEN", im.rxen_before_secrx_rdy == 0 && rxen);
	item("delays: nothing programmed within 10 ms of CTRL.RST", im.early_after_reset == 0);
}

/*
 * The rest of issue 14's 82599 items, each on a fresh model and an attach: a direct-attach cable,
 * master requests that never drain, the device IDs 0x1507 (82599_SFP_EM, an SFP+ port) and 0x154F
 * (82599_LS).
 */
static void test_issue14(void)
{
	model_init();
	im.cable = true;
	im_sfp_insert(true);
	item("2 SFP+ direct-attach cable identified, its own sequence in CORECTL, link up",
	     attach_as(0x10fb) && im.sfp_configured && im.corectl_wrong == 0);
	model_init();
	im.cable = true;
	im.gio_stuck = true;
	bool up = attach_as(0x10fb);
	item("3 a second CTRL.RST after GIO master disable timed out",
	     up && im.one_reset_after_gio == 0 && im.driver_resets == 2 && !im.need_second_reset);
	model_init();
	im.cable = true;
	item("2 device 0x1507 (82599_SFP_EM) brought up as SFP+", attach_as(0x1507));
	model_init();
	im.cable = true;
	item("2 device 0x154F (82599_LS) served, as SFP+", attach_as(0x154f));
}

/* An IPv6 frame to us (dst) from peer i: TCP (6) or UDP (17) from sp to 443 right after the IPv6
 * header, with frag a fragment header first (offset 8 bytes), or an ICMPv6 echo (58). */
static uint32_t frame6(uint8_t *f, const uint8_t *dst, uint8_t proto, uint32_t i, uint16_t sp, bool frag)
{
	memset(f, 0, 160);
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14, *p = ip + 40;
	static const uint8_t pre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 3 };
	ip[0] = 0x60, ip[6] = proto, ip[7] = 64;
	memcpy(ip + 8, pre, 8), memcpy(ip + 24, pre, 8);
	for (int b = 0; b < 4; b++)
		ip[16 + b] = (uint8_t)((i * 2654435761u) >> (8 * b)), ip[20 + b] = (uint8_t)(i >> (8 * b));
	ip[39] = 2;
	if (frag)
		ip[6] = 44, p[0] = proto, p[3] = 8, p[7] = (uint8_t)i, p += 8;
	if (proto == 58)
		p[0] = 128;
	else
		p[0] = (uint8_t)(sp >> 8), p[1] = (uint8_t)sp, p[2] = 443 >> 8, p[3] = 443 & 0xff;
	if (proto == 6)
		p[12] = 0x50;
	uint32_t plen = (uint32_t)(p + 40 - (ip + 40));
	ip[4] = (uint8_t)(plen >> 8), ip[5] = (uint8_t)plen;
	return 14 + 40 + plen;
}

/* The queue and hash RSS must give an IPv6 frame from frame6: our Toeplitz over the addresses and,
 * for whole TCP/UDP, the ports (36 bytes, RSS's TCPv6/UDPv6), else the addresses (32, IPv6). */
static uint32_t hash6(const uint8_t *key, const uint8_t *f, bool ports)
{
	uint8_t in[36];
	memcpy(in, f + 22, 32);
	memcpy(in + 32, f + 54, 4);
	return im_toeplitz(key, in, ports ? 36 : 32);
}

/* A TCP frame to us whose flow RSS sends to queue want (the key and RETA the test gave). */
static uint32_t frame_on(uint8_t *f, uint32_t want, uint32_t paylen)
{
	for (uint16_t sp = 1024;; sp++) {
		uint8_t in[12] = { 198, 18, 0, 1, 198, 18, 0, 50, (uint8_t)(sp >> 8), (uint8_t)sp, 0, 80 };
		if (reta[im_toeplitz(ms_key, in, 12) & 127] == want)
			return frame_tcp(f, MAC, 0xc6120001, 0xc6120032, sp, 80, paylen, true);
	}
}

static void test_driver(void)
{
	model_init();
	im.cable = true;
	drvhost_log_clear();
	int np = nic_attach(4);
	CHECK_EQ(np, 4);
	CHECK(logged("ixgbe0: 00:1b:21:aa:bb:cc, link up 10 Gb/s, 4 queue pairs of 64"));
	CHECK_EQ(R(IXGBE_AUTOC) & IXGBE_AUTOC_LMS_MASK, IXGBE_AUTOC_LMS_10G_SFI);     /* SFP+: serial */
	CHECK_EQ(R(IXGBE_EIMS), 0);                    /* masked at reset, kept masked */
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)((i * 5 + 1) % 4);
	CHECK_EQ(nic_start(ms_key, reta), 0);
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done);
	issue14_started();
	CHECK_EQ(im_violations(), 0);
	CHECK(R(IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN);
	CHECK(R(IXGBE_FCTRL) & IXGBE_FCTRL_BAM);
	CHECK(R(IXGBE_HLREG0) & IXGBE_HLREG0_RXCRCSTRP);
	for (uint32_t q = 0; q < 4; q++) {
		CHECK(R(IXGBE_SRRCTL(q)) & IXGBE_SRRCTL_DROP_EN);
		CHECK_EQ(R(IXGBE_RXQ(q) + IADV_Q_T), POLLUX_RX_RING_SIZE - 1);        /* every buffer posted */
	}
	CHECK_EQ(R(IXGBE_RXQ(4) + IADV_Q_DCTL) & IADV_Q_DCTL_ENABLE, 0);

	/* RX: 400 TCP flows, each lands on the queue RETA names for its hash; descriptor fields
	 * reach the network layer (length, hash, checksum verdict). */
	uint8_t f[2048];
	int placed = 0, hashed = 0, csum_ok = 0, seen[4] = { 0 };
	for (uint32_t i = 0; i < 400; i++) {
		uint32_t len = frame_tcp(f, MAC, 0xc6120001 + (i % 7), 0xc6120032, (uint16_t)(10000 + i * 13), 80,
					 i % 97, true), hash = 0;
		int q = im_rx(f, len, &hash);
		CHECK(q >= 0);
		if (q < 0)
			continue;
		placed += (uint32_t)q == reta[hash & 127];
		seen[q]++;
		struct nic_rxf r[4];
		int got = nic_rx_burst((uint32_t)q, r, 4);
		CHECK_EQ(got, 1);
		if (got != 1)
			continue;
		hashed += (r[0].flags & NIC_RX_HASH) && r[0].hash == hash;
		csum_ok += (r[0].flags & NIC_RX_CSUM_OK) != 0;
		CHECK_EQ(r[0].len, len);
		CHECK(!memcmp(r[0].frame, f, len));
		nic_rx_return((uint32_t)q, r[0].buf);
		nic_flush((uint32_t)q);
	}
	CHECK_EQ(placed, 400);
	CHECK_EQ(hashed, 400);
	CHECK_EQ(csum_ok, 400);
	CHECK(seen[0] > 50 && seen[1] > 50 && seen[2] > 50 && seen[3] > 50);
	printf("  rx: 400 flows over queues %d/%d/%d/%d, each on reta[hash & 127]\n", seen[0], seen[1], seen[2], seen[3]);

	/* IPv6: TCP and UDP on the 36-byte tuple (MRQC TcpIPv6, UdpIPv6), echo and fragments on the
	 * addresses (IPv6), each on the queue RETA names for our Toeplitz, with that hash. */
	CHECK_EQ(R(IADV_MRQC) & (IADV_MRQC_IPV6 | IADV_MRQC_IPV6_TCP | IADV_MRQC_IPV6_UDP),
		 IADV_MRQC_IPV6 | IADV_MRQC_IPV6_TCP | IADV_MRQC_IPV6_UDP);
	CHECK_EQ(R(IADV_MRQC) & 0x010c0000u, 0);                                /* no Ex fields */
	int placed6 = 0, seen6[4] = { 0 };
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t proto = i % 5 == 4 ? 58 : i % 2 ? 6 : 17;
		bool frag = proto == 17 && i % 4 == 0;
		uint32_t len = frame6(f, MAC, proto, i, (uint16_t)(20000 + 7 * i), frag), hash = 0;
		uint32_t want = hash6(ms_key, f, proto != 58 && !frag);
		int q = im_rx(f, len, &hash);
		CHECK(q >= 0);
		if (q < 0)
			continue;
		seen6[q]++;
		struct nic_rxf r[4];
		int got = nic_rx_burst((uint32_t)q, r, 4);
		CHECK_EQ(got, 1);
		if (got != 1)
			continue;
		placed6 += (uint32_t)q == reta[want & 127] && hash == want && (r[0].flags & NIC_RX_HASH) && r[0].hash == want;
		nic_rx_return((uint32_t)q, r[0].buf);
		nic_flush((uint32_t)q);
	}
	CHECK_EQ(placed6, 300);
	CHECK(seen6[0] > 30 && seen6[1] > 30 && seen6[2] > 30 && seen6[3] > 30);

	/* A wrong checksum: no CSUM_OK, counted. */
	uint32_t len = frame_tcp(f, MAC, 0xc6120009, 0xc6120032, 4242, 80, 10, false), hash;
	int q = im_rx(f, len, &hash);
	struct nic_rxf r[8];
	CHECK_EQ(nic_rx_burst((uint32_t)q, r, 8), 1);
	CHECK(!(r[0].flags & NIC_RX_CSUM_OK));
	CHECK_EQ(counter(q, "csum_err"), 1);
	nic_rx_return((uint32_t)q, r[0].buf);
	/* Not for us: filtered by the device. Broadcast: accepted (FCTRL.BAM); multicast, as IPv6's
	 * neighbour solicitations to a solicited-node group: accepted (all multicast until nic.c is
	 * given the groups). */
	f[5] ^= 1;
	CHECK_EQ(im_rx(f, len, NULL), -1);
	memcpy(f, "\x33\x33\xff\x00\x00\x01", 6);
	CHECK(im_rx(f, len, NULL) >= 0);
	memset(f, 0xff, 6);
	CHECK(im_rx(f, len, NULL) >= 0);

	/* Bad values from the device. A length beyond the buffer: dropped, counted, buffer back. */
	uint32_t b = IXGBE_RXQ(0);
	len = frame_on(f, 0, 0);
	CHECK_EQ(im_rx(f, len, NULL), 0);
	union iadv_rxd *ring = (void *)(uintptr_t)((uint64_t)R(b + IADV_Q_BAH) << 32 | R(b + IADV_Q_BAL));
	uint32_t last = (R(b + IADV_Q_H) + POLLUX_RX_RING_SIZE - 1) % POLLUX_RX_RING_SIZE;
	ring[last].wb.length = 4000;
	struct nic_qstats qs0, qs1;
	nic_qstats(0, &qs0);
	int got = nic_rx_burst(0, r, 8);
	nic_qstats(0, &qs1);
	CHECK_EQ(got, 0);
	CHECK_EQ(qs1.rx_drop_bad, qs0.rx_drop_bad + 1);
	CHECK_EQ(counter(0, "bad_len"), 1);
	/* A write-back on a descriptor never posted (beyond the tail): counted, not delivered. */
	nic_flush(0);
	uint32_t tail = R(b + IADV_Q_T);
	ring[tail].wb.status_error = IADV_RXD_DD | IADV_RXD_EOP;
	ring[tail].wb.length = 60;
	/* nic.c refills a quarter ring at a time: the device holds more than three quarters of it */
	int posted = (int)((tail + POLLUX_RX_RING_SIZE - R(b + IADV_Q_H)) % POLLUX_RX_RING_SIZE), fed = 0;
	CHECK(posted > POLLUX_RX_RING_SIZE - 1 - (int)nic_rx_refill_batch(POLLUX_RX_RING_SIZE - 1));
	for (int i = 0; i < posted; i++)                        /* use every posted buffer */
		fed += im_rx(f, len, NULL) == 0;
	CHECK_EQ(fed, posted);
	int total = 0;
	while ((got = nic_rx_burst(0, r, 8)) > 0) {
		total += got;
		for (int i = 0; i < got; i++)
			nic_rx_return(0, r[i].buf);
	}
	CHECK_EQ(total, posted);
	CHECK_EQ(counter(0, "stray_wb"), 1);
	/* The ring empty: the device drops and counts; the slow path reads it into no_buf. */
	CHECK_EQ(im_rx(f, len, NULL), -2);
	CHECK_EQ(im_rx(f, len, NULL), -2);
	nic_slow_poll();
	CHECK_EQ(counter(-1, "no_buf"), 2);
	nic_flush(0);                   /* buffers back: frames flow again */
	CHECK_EQ(im_rx(f, len, NULL), 0);
	CHECK_EQ(nic_rx_burst(0, r, 8), 1);
	nic_rx_return(0, r[0].buf);
	/* A frame spread over two descriptors (a device ignoring SRRCTL): dropped whole, counted. */
	uint8_t big[2100];
	memcpy(big, f, len);
	memset(big + len, 0x5a, sizeof(big) - len);
	nic_flush(0);
	R(IXGBE_SRRCTL(0)) = (R(IXGBE_SRRCTL(0)) & ~0x1fu) | 1;         /* the model now fills 1 KiB */
	CHECK_EQ(im_rx(big, 1500, NULL), 0);
	R(IXGBE_SRRCTL(0)) = (R(IXGBE_SRRCTL(0)) & ~0x1fu) | 2;
	got = nic_rx_burst(0, r, 8);
	CHECK_EQ(got, 0);
	CHECK_EQ(counter(0, "not_eop"), 1);
	nic_flush(0);
	CHECK_EQ(im_rx(f, len, NULL), 0);
	CHECK_EQ(nic_rx_burst(0, r, 8), 1);                             /* and the next one is fine */
	nic_rx_return(0, r[0].buf);

	/* TX: a copied frame with TCP checksum offload, and one with a piece sent in place. */
	im.nout = 0;
	static uint8_t payload[1200];
	len = frame_tcp(f, (const uint8_t *)"\x02\x00\x00\x00\x00\x01", 0xc6120032, 0xc6120001, 80, 40000, 0, true);
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 3);
	f[16] = (uint8_t)((40 + sizeof(payload)) >> 8), f[17] = (uint8_t)(40 + sizeof(payload));
	uint32_t ps = csum_add(0, f + 26, 8) + 6 + 20 + sizeof(payload);
	uint16_t pseudo = csum_fold(ps);
	f[50] = (uint8_t)(pseudo >> 8), f[51] = (uint8_t)pseudo;
	struct nic_frag fr[2] = { { f, len }, { payload, sizeof(payload) } };
	struct nic_txo o = { .csum_start = 34, .csum_offset = 16 };
	CHECK_EQ(nic_tx(2, fr, 2, &o, payload), NIC_TX_INPLACE);
	CHECK_EQ(nic_tx(2, fr, 1, NULL, NULL), NIC_TX_COPIED);
	CHECK_EQ(im.nout, 0);                    /* nothing before the doorbell */
	nic_flush(2);
	CHECK_EQ(im.nout, 2);
	CHECK_EQ(im.out[0].len, len + sizeof(payload));
	CHECK(!memcmp(im.out[0].data + len, payload, sizeof(payload)));
	CHECK(l4_csum_ok(im.out[0].data, im.out[0].len));
	CHECK_EQ(im.out[1].len, 60);             /* padded by the device */
	CHECK_EQ(im.out[0].queue, 2);
	nic_flush(2);                           /* completions reaped by DD */
	CHECK_EQ(tx_done_calls, 1);
	CHECK_EQ(im_violations(), 0);

	/* TCP segmentation: the header copied, the payload in place in 2 and 8 pieces; the model
	 * (strict: PAYLEN, context, POPTS, descriptors, checksum field) cuts them as the chip does. */
	CHECK_EQ(nic_dev()->caps.tso_max, IADV_TSO_MAX);
	static uint8_t tbig[2][65536];
	for (int v6 = 0; v6 < 2; v6++) {
		uint32_t plen = v6 ? 60000 : 3 * 1448 + 500, l4 = v6 ? 54 : 34, hl = l4 + 20;
		uint16_t mss = v6 ? 1440 : 1448;        /* segments of 1514 bytes at most */
		tso_frame(tbig[v6], v6, plen, (const uint8_t *)"\x02\x00\x00\x00\x00\x02", MAC);
		uint8_t hdr[74];
		memcpy(hdr, tbig[v6], hl);
		struct nic_frag tf[1 + NIC_TX_MAX_REFS] = { { tbig[v6], hl } };
		uint32_t npieces = v6 ? NIC_TX_MAX_REFS : 2;
		for (uint32_t i = 0; i < npieces; i++) {
			uint32_t from = plen * i / npieces, to = plen * (i + 1) / npieces;
			tf[1 + i] = (struct nic_frag){ tbig[v6] + hl + from, to - from };
		}
		struct nic_txo to = { .csum_start = (uint16_t)l4, .csum_offset = 16, .gso_size = mss,
				      .gso = v6 ? NIC_GSO_TCP6 : NIC_GSO_TCP4, .hdr_len = (uint8_t)hl };
		uint32_t first = im.nout;
		CHECK_EQ(nic_tx(1, tf, 1 + npieces, &to, tbig[v6]), NIC_TX_INPLACE);
		nic_flush(1);
		CHECK_EQ(im.tx.tso_frames, (uint64_t)v6 + 1);
		tso_check(tbig[v6], v6, plen, mss, first);
		CHECK(!memcmp(hdr, tbig[v6], hl));       /* the stack's header untouched */
	}
	nic_flush(1);
	CHECK_EQ(tx_done_calls, 3);
	struct nic_qstats tq;
	nic_qstats(1, &tq);
	CHECK(tq.tx_tso == 2 && tq.tx_tso_segs == 4 + 42);
	CHECK_EQ(im.tx.tso_segs, 4 + 42);
	if (im.tx.tso_refused)
		printf("    model refused a TSO frame: %s\n", im.tx.tso_why);
	CHECK_EQ(im_violations(), 0);

	/* Link: cable out, cable in, seen by the slow path. */
	im.cable = false;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_DOWN);
	CHECK(!nic_dev()->link);
	im.cable = true;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_UP);
	CHECK(nic_dev()->link);

	/* A device reset while running: every queue pauses, the driver brings the chip up again in
	 * the same order (the model still finds no fault), frames flow again. */
	nic_request_reset();
	nic_slow_poll();
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);
	nic_slow_poll();                        /* reset, rings set up again */
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);                   /* buffers posted again */
	nic_slow_poll();                        /* started */
	CHECK(logged("ixgbe0: reset done, 4 queue pairs back"));
	item("3 CTRL.LNK_RST only with the link down (a reset with the link up)",
	     im.lnk_rst_link_up == 0 && im.driver_resets == 2);
	CHECK_EQ(im_violations(), 0);
	CHECK_EQ(R(IXGBE_EIMS), 0);
	for (uint32_t i = 0; i < 4; i++)
		nic_flush(i);
	len = frame_tcp(f, MAC, 0xc6120001, 0xc6120032, 5555, 80, 100, true);
	q = im_rx(f, len, &hash);
	CHECK((uint32_t)q == reta[hash & 127]);
	CHECK_EQ(nic_rx_burst((uint32_t)q, r, 8), 1);
	CHECK_EQ(r[0].len, len);
	nic_rx_return((uint32_t)q, r[0].buf);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK_EQ(ds.resets, 1);
	CHECK_EQ(ds.link_down, 1);
	CHECK_EQ(ds.link_up, 1);

	/* The multicast filter: the groups asked for pass the MTA (MCSTCTRL.MFE, FCTRL.MPE off), one
	 * of another hash does not; every group with MPE when all multicast is asked for. */
	static const uint8_t list[2][6] = { { 0x33, 0x33, 0, 0, 0, 1 }, { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 } };
	nic_set_mcast(list, 2);
	CHECK(!(R(IXGBE_FCTRL) & IXGBE_FCTRL_MPE));
	nic_dstats(&ds);
	CHECK(ds.mcast_entries == 2 && !ds.mcast_all);
	len = frame_tcp(f, MAC, 0xc6120001, 0xc6120032, 5556, 80, 100, true);
	for (int i = 0; i < 3; i++) {
		static const uint8_t *dst[3] = { list[0], list[1], (const uint8_t *)"\xff\xff\xff\xff\xff\xff" };
		memcpy(f, dst[i], 6);
		q = im_rx(f, len, NULL);
		CHECK(q >= 0);
		if (q >= 0 && nic_rx_burst((uint32_t)q, r, 8) == 1)
			nic_rx_return((uint32_t)q, r[0].buf);
	}
	int filtered = im.rx_dropped_mcast;
	memcpy(f, "\x33\x33\xff\x00\x12\x34", 6);
	CHECK_EQ(im_rx(f, len, NULL), -1);
	CHECK_EQ(im.rx_dropped_mcast, filtered + 1);
	nic_set_mcast(NULL, NIC_MCAST_ALL);
	CHECK(R(IXGBE_FCTRL) & IXGBE_FCTRL_MPE);
	q = im_rx(f, len, NULL);
	CHECK(q >= 0);
	if (q >= 0 && nic_rx_burst((uint32_t)q, r, 8) == 1)
		nic_rx_return((uint32_t)q, r[0].buf);
}

TEST_MAIN("ixgbe: the 82599 driver through nic.c against a datasheet model: reset, auto-read and DMA-init "
	  "waits, queue enables that latch only on a described ring, refused tails, bring-up order, RX/TX "
	  "descriptors, RSS per key and RETA (IPv4 and IPv6), the multicast table, drop counters, link, bad device values, reset; issue 14's items (DCA bit 12, "
	  "SFP+ bring-up, device IDs, relaxed ordering, SECRX_RDY, LNK_RST, double reset, time after reset) each named",
	  test_model_semantics(); test_model_tso(); test_model_sfp_link(); test_stuck_reset(); test_driver(); test_issue14())
