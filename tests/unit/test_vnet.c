/* test_vnet: the virtio-net driver through drivers/nic.c against a strict model of a modern virtio-net PCI device: bring-up order, RSS on 4 pairs with checksum offload and pieces sent in place, EVENT_IDX, hostile device values, control timeouts, link changes, NEEDS_RESET recovery, and the model refusing a wrong driver. */
#define _DEFAULT_SOURCE
#include <stdint.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "drivers/virtio_net_reg.h"
#include "net/flow.h"
#include "vnet_model.h"
#include "test.h"
#include "harness.h"
#include "csum.h"
#include "tso_frames.h"

/* ---- kernel services: tests/unit/host/harness.c; every allocation is memory the device may reach ---- */
static void dma_add(void *p, uint64_t size, uint32_t core)
{
	(void)core;
	vm_dma_add(p, size);
}

/* A driver counter by name, ~0 when the driver has none of that name. */
static uint64_t counter(int q, const char *name)
{
	struct nic_counter c[NIC_MAX_COUNTERS];
	unsigned k = nic_counters(q, c, NIC_MAX_COUNTERS);
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return ~0ull;
}

/* ---- frames ---- */
static void be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v) { be16(p, v >> 16), be16(p + 2, v); }
static uint32_t ip4(int a, int b, int c, int d) { return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d; }

/* Ethernet/IPv4/TCP (or UDP) from sip:sp to dip:dp with plen payload bytes. full: a complete L4
 * checksum; otherwise the pseudo-header sum a sender asking for the offload leaves in the field.
 * Returns the frame length. */
static uint32_t frame(uint8_t *f, bool udp, uint32_t sip, uint32_t dip, uint16_t sp, uint16_t dp, uint32_t plen,
		      bool full)
{
	uint32_t l4 = udp ? 8 : 20, tot = 20 + l4 + plen;
	memset(f, 0, 14 + tot);
	memcpy(f, "\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45, ip[8] = 64, ip[9] = udp ? 17 : 6;
	be16(ip + 2, tot), be32(ip + 12, sip), be32(ip + 16, dip);
	be16(ip + 10, (uint16_t)~csum16(0, ip, 20));
	be16(t, sp), be16(t + 2, dp);
	if (udp) {
		be16(t + 4, l4 + plen);
	} else {
		be32(t + 4, 0x1000 + plen), t[12] = 5 << 4, t[13] = 0x18;
		be16(t + 14, 8192);
	}
	for (uint32_t i = 0; i < plen; i++)
		t[l4 + i] = (uint8_t)(sp * 3 + i * 7);
	uint32_t pseudo = csum16(csum16(0, ip + 12, 8) + ip[9] + l4 + plen, NULL, 0);
	uint16_t c = full ? (uint16_t)~csum16(pseudo, t, l4 + plen) : (uint16_t)pseudo;
	if (udp && full && c == 0)
		c = 0xffff;
	be16(t + (udp ? 6 : 16), c);
	return 14 + tot;
}

/* What the model saw, after a failing case's log. */
static void model_report(const char *name)
{
	fprintf(stderr, "  [%s] model: %llu violations (%s)\n", name, (unsigned long long)vm.st.violations, vm.why);
}

static uint8_t key[NIC_RSS_KEY_LEN], reta[NIC_RETA_LEN];
static uint64_t tx_done_count;
static void tx_done(void *ref) { (void)ref; tx_done_count++; }

static void make_rss(uint32_t nq)
{
	uint32_t x = 0x2545f491;
	for (int i = 0; i < NIC_RSS_KEY_LEN; i++)
		x = x * 1103515245 + 12345, key[i] = (uint8_t)(x >> 16);
	for (int i = 0; i < NIC_RETA_LEN; i++)
		reta[i] = (uint8_t)((i * 5 + 1) % nq);  /* not the identity: the mapping is checked */
}

static void loop_all(uint32_t nq)
{
	for (uint32_t q = 0; q < nq; q++)
		nic_flush(q);
}

/* A quarter second of slow path per round: events handled, a reset carried through its phases. */
static void slow_path(uint32_t nq, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		host_clock += HZ / 4;
		nic_slow_poll();
		loop_all(nq);
		vm_step();
	}
}

/* The model saw no driver break a rule. */
static void model_clean(void)
{
	CHECK_EQ(vm.st.violations, 0);
	CHECK_EQ(vm.st.wild, 0);
	CHECK_EQ(vm.st.missed_notify, 0);
	CHECK_EQ(vm.st.would_interrupt, 0);
	if (vm.st.violations)
		fprintf(stderr, "  model: %s\n", vm.why);
}

/* The device and nic.c up with want pairs, every queue started. Returns the pairs. */
static int up(const struct vm_cfg *c, uint32_t want)
{
	vm_init(c);
	CHECK_EQ(pci_scan(&vm_acpi), 1);
	int np = nic_attach(want);
	if (np <= 0)
		return np;
	make_rss((uint32_t)np);
	CHECK_EQ(nic_start(key, reta), 0);
	for (uint32_t q = 0; q < (uint32_t)np; q++)
		nic_queue_start(q, tx_done);
	return np;
}

/* The pair our own Toeplitz over the 4-tuple and our table name; 0 without RSS. */
static uint32_t expect_pair(const uint8_t *f)
{
	const struct nic *d = nic_dev();
	if (!d || !d->caps.rss)
		return 0;
	uint8_t t[12];
	memcpy(t, f + 26, 8);
	memcpy(t + 8, f + 34, 4);
	uint32_t h = flow_hash_slow(key, t, 12);
	return reta[h & (d->caps.reta_len - 1u)] % d->npairs;
}

/* Replies are sent from these; pieces sent in place must stay put until tx_done. */
static uint8_t rbuf[64][2048] __attribute__((aligned(64)));
static bool rbuf_registered;

/* n frames in from the wire, each on the pair RSS names and handed up by nic_rx_burst there only,
 * with its length, bytes and checksum flag; each answered on that pair (checksum offloaded when the
 * NIC can, half of them with the payload in place) and checked byte for byte on the wire. Returns
 * the frames that made the round trip. */
static int traffic(uint32_t nq, int n, uint16_t port0)
{
	const struct nic *d = nic_dev();
	if (!d)
		return 0;
	if (!rbuf_registered)
		vm_dma_add(rbuf, sizeof(rbuf)), rbuf_registered = true;
	int good = 0;
	for (int i = 0; i < n; i++) {
		uint8_t f[1600], ref[1600];
		bool udp = i % 3 == 1, valid = i % 2 == 0, inplace = (i / 2) % 2 == 1;
		uint16_t sp = (uint16_t)(port0 + 13 * i);
		uint32_t cli = ip4(198, 18, 1 + i % 7, 1 + (i * 11) % 250), srv = ip4(198, 19, 0, 2);
		uint32_t len = frame(f, udp, cli, srv, sp, 80, (uint32_t)(i * 37) % 1400, true);
		uint32_t want = expect_pair(f);
		vm.wire_n = 0;
		int placed = vm_rx(f, len, valid);
		CHECK_EQ(placed, (int)want);
		int got = 0;
		for (uint32_t q = 0; q < nq; q++) {
			struct nic_rxf rx[4];
			int k = nic_rx_burst(q, rx, 4);
			if (k <= 0)
				continue;
			got += k;
			CHECK_EQ(q, want);
			CHECK_EQ(k, 1);
			CHECK_EQ(rx[0].len, len);
			CHECK(memcmp(rx[0].frame, f, len) == 0);
			CHECK_EQ(!!(rx[0].flags & NIC_RX_CSUM_OK), valid && d->caps.rx_csum);
			/* The answer: the same flow back. */
			uint8_t *r = rbuf[i % 64];
			uint32_t plen = 300 + (uint32_t)(i * 29) % 1100, hl = udp ? 42 : 54;
			bool off = d->caps.tx_csum;
			uint32_t rl = frame(r, udp, srv, cli, 80, sp, plen, !off);
			frame(ref, udp, srv, cli, 80, sp, plen, true);
			struct nic_frag fr[2] = { { r, hl }, { r + hl, rl - hl } };
			struct nic_txo o = { .csum_start = 34, .csum_offset = (uint16_t)(udp ? 6 : 16) };
			int t = nic_tx(q, fr, 2, off ? &o : NULL, inplace ? (void *)r : NULL);
			CHECK_EQ(t, inplace && d->caps.tx_sg ? NIC_TX_INPLACE : NIC_TX_COPIED);
			nic_rx_return(q, rx[0].buf);
			nic_flush(q);
			if (vm.cfg.tx_poll)
				vm_step();
			if (vm.cfg.tx_defer)
				vm_tx_release();
			CHECK_EQ(vm.wire_n, 1);
			if (vm.wire_n == 1) {
				CHECK_EQ(vm.wire[0].pair, q);
				CHECK_EQ(vm.wire[0].len, rl);
				bool same = vm.wire[0].len == rl && memcmp(vm.wire[0].f, ref, rl) == 0;
				CHECK(same);
				CHECK_EQ(vm_l4_check(vm.wire[0].f, vm.wire[0].len), 0);
				if (inplace && d->caps.tx_sg) {
					bool seen = false;      /* the device read the payload where it was */
					for (uint32_t j = 0; j < 64 && j < vm.nseg_pa; j++)
						seen |= vm.seg_pa[j] == (uint64_t)(uintptr_t)(r + hl);
					CHECK(seen);
				}
				good += same && vm_l4_check(vm.wire[0].f, vm.wire[0].len) == 0;
			}
		}
		CHECK_EQ(got, 1);
		loop_all(nq);
	}
	return good;
}

/* ---- cases ---- */

/* 3.1.1 in order, features a subset, every queue set up with NO_VECTOR, RX full before DRIVER_OK,
 * RSS programmed with our key and table, interrupts off at the PCI level. */
static void s_bringup(void)
{
	struct vm_cfg c = { 0 };
	vm_init(&c);
	CHECK_EQ(pci_scan(&vm_acpi), 1);
	CHECK_EQ(nic_attach(4), 4);
	static const uint8_t before_ok[] = { 0, VSTAT_ACKNOWLEDGE, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER,
					     VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK };
	CHECK_EQ(vm.nstatus, 4);
	for (int i = 0; i < 4 && i < vm.nstatus; i++)
		CHECK_EQ(vm.status_log[i], before_ok[i]);
	CHECK_EQ(vm.features & ~vm.cfg.features, 0);
	uint64_t need = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX | 1ull << VIRTIO_NET_F_CTRL_VQ |
			1ull << VIRTIO_NET_F_MQ | 1ull << VIRTIO_NET_F_RSS | 1ull << VIRTIO_NET_F_CSUM |
			1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MAC |
			1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 | 1ull << VIRTIO_NET_F_CTRL_RX;
	CHECK_EQ(vm.features, need);            /* not MRG_RXBUF, RING_PACKED or GUEST_TSO4, also offered */
	for (int i = 0; i < 9; i++) {
		CHECK(vm.q[i].enabled);
		CHECK_EQ(vm.q[i].msix, VIRTIO_MSI_NO_VECTOR);
		CHECK_EQ(vm.q[i].size, i == 8 ? 16 : 256);
	}
	CHECK_EQ(vm.ctrl_q, 8);
	/* PCI: bus master and memory on, INTx off, MSI-X (left enabled by "firmware") off. */
	struct pci_dev *pd = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET, 0);
	CHECK(pd != NULL);
	if (pd) {
		uint16_t cmd = pci_cfg_read16(pd, PCI_CFG_COMMAND);
		CHECK_EQ(cmd & (PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE),
			 PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
		CHECK_EQ(pci_cfg_read16(pd, 0x90 + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_ENABLE, 0);
	}
	make_rss(4);
	CHECK_EQ(nic_start(key, reta), 0);
	CHECK_EQ(vm.nstatus, 5);
	CHECK_EQ(vm.status_log[4], VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	for (int i = 0; i < 8; i += 2)
		CHECK_EQ(vm.q[i].avail_at_ok, 256);     /* every RX ring full when DRIVER_OK came */
	/* The RSS command's, then ALLMULTI on and PROMISC off (all multicast until a list comes);
	 * nothing before DRIVER_OK. */
	CHECK_EQ(vm.st.doorbells, 3);
	CHECK(vm.rss);
	CHECK(vm.allmulti && !vm.promisc);
	CHECK_EQ(vm.st.rss_configs, 1);
	CHECK_EQ(vm.st.pairs_sets, 0);
	CHECK_EQ(vm.reta_mask, 127);
	CHECK_EQ(vm.key_len, 40);
	CHECK(memcmp(vm.key, key, 40) == 0);
	CHECK_EQ(vm.active_pairs, 4);
	CHECK_EQ(vm.unclassified, 0);
	CHECK_EQ(vm.hash_types, VIRTIO_NET_HASH_IPV4 | VIRTIO_NET_HASH_TCPV4 | VIRTIO_NET_HASH_UDPV4 | VIRTIO_NET_HASH_IPV6 |
				VIRTIO_NET_HASH_TCPV6 | VIRTIO_NET_HASH_UDPV6);
	for (int i = 0; i < 128; i++)
		CHECK_EQ(vm.reta[i], reta[i]);
	const struct nic *n = nic_dev();
	CHECK(n != NULL);
	if (n) {
		CHECK(n->caps.rss && n->caps.tx_csum && n->caps.rx_csum && n->caps.tx_sg);
		CHECK_EQ(n->caps.reta_len, 128);
		CHECK_EQ(n->caps.rx_hdr, 12);
		CHECK_EQ(n->caps.max_pairs, 4);
		CHECK_EQ(n->rx_size, 256);
		CHECK(n->link);
		CHECK(memcmp(n->mac, vm.mac, 6) == 0);
	}
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done);
	/* Each RX queue announced; with RSS the driver rings every RX doorbell when one queue needs
	 * it (QEMU parks frames on the source queue), so each hears one per queue started. */
	for (int i = 0; i < 8; i += 2)
		CHECK_EQ(vm.q[i].doorbells, 4);
	vm_step();
	model_clean();
	CHECK(klog_has("vnet0: 52:54:00:12:34:56, link up, 4 queue pairs of 4, rings 256/256, event idx on"));
	CHECK(klog_has("vnet0: live, rss on"));
}

static void s_rss_traffic(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 1200, 1000), 1200);
	uint64_t rx = 0, zc = 0, ok = 0;
	for (uint32_t q = 0; q < 4; q++) {
		struct nic_qstats st;
		nic_qstats(q, &st);
		CHECK(st.rx_packets > 150);     /* every pair served flows */
		CHECK_EQ(st.rx_drop_bad, 0);
		CHECK_EQ(st.tx_packets, st.rx_packets);
		CHECK_EQ(st.tx_csum_offload, st.tx_packets);
		CHECK_EQ(counter((int)q, "bad_used"), 0);
		CHECK_EQ(counter((int)q, "bad_idx"), 0);
		rx += st.rx_packets, zc += st.tx_zero_copy, ok += st.rx_csum_ok;
	}
	CHECK_EQ(rx, 1200);
	CHECK_EQ(zc, 600);                      /* half the answers had their payload sent in place */
	CHECK_EQ(ok, 600);                      /* DATA_VALID on half the frames, vouched for */
	CHECK_EQ(vm.st.tx_csum, 1200);
	CHECK_EQ(vm.st.rx_drop_nobuf, 0);
	CHECK_EQ(vm.st.spurious_tx_doorbells, 0);
	CHECK_EQ(tx_done_count, 600);           /* every piece sent in place handed back */
	for (int i = 0; i < 8; i++)
		CHECK((uint16_t)(vm.q[i].used_idx) > 256);     /* the rings wrapped */
	model_clean();
}

/* The device reads pieces sent in place late (at completion): the caller gets them back only then. */
static uint32_t done_order[256], ndone;
static void tx_done_late(void *ref)
{
	uint32_t i = (uint32_t)(uintptr_t)ref;  /* 1..20, then 100 + k for the ring-full batch */
	if (ndone < 256)
		done_order[ndone++] = i;
	CHECK(vm.st.tx_frames >= (i < 100 ? i : 20 + i - 100 + 1));    /* never before the device read it */
}

static void s_inplace(void)
{
	struct vm_cfg c = { .tx_defer = true };
	CHECK_EQ(up(&c, 4), 4);
	for (uint32_t q = 0; q < 4; q++)
		nic_queue_start(q, tx_done_late);
	vm_dma_add(rbuf, sizeof(rbuf));
	uint8_t ref[20][1600];
	uint32_t rl[20];
	for (uint32_t i = 0; i < 20; i++) {
		rl[i] = frame(rbuf[i], i & 1, ip4(198, 19, 0, 2), ip4(198, 18, 0, 1 + i), 80, (uint16_t)(5000 + i), 1000, false);
		frame(ref[i], i & 1, ip4(198, 19, 0, 2), ip4(198, 18, 0, 1 + i), 80, (uint16_t)(5000 + i), 1000, true);
		uint32_t hl = i & 1 ? 42 : 54;
		struct nic_frag fr[2] = { { rbuf[i], hl }, { rbuf[i] + hl, rl[i] - hl } };
		struct nic_txo o = { .csum_start = 34, .csum_offset = (uint16_t)(i & 1 ? 6 : 16) };
		CHECK_EQ(nic_tx(1, fr, 2, &o, (void *)(uintptr_t)(i + 1)), NIC_TX_INPLACE);
	}
	for (int k = 0; k < 5; k++)
		loop_all(4);
	CHECK_EQ(vm.nheld, 20);                 /* taken by the device, not read yet */
	CHECK_EQ(ndone, 0);
	CHECK_EQ(vm.st.tx_frames, 0);
	vm_tx_release();                        /* the device reads them now */
	CHECK_EQ(vm.wire_n, 20);
	for (int i = 0; i < 20 && i < vm.wire_n; i++) {
		CHECK_EQ(vm.wire[i].len, rl[i]);
		CHECK(memcmp(vm.wire[i].f, ref[i], rl[i]) == 0);
		CHECK_EQ(vm.wire[i].pair, 1);
	}
	CHECK_EQ(vm.st.tx_inplace_reads, 20);
	CHECK_EQ(ndone, 0);                     /* reaped at the next loop iteration */
	nic_flush(1);
	CHECK_EQ(ndone, 20);
	for (uint32_t i = 0; i < ndone; i++)
		CHECK_EQ(done_order[i], i + 1);
	/* The ring full of frames in flight: NIC_TX_FULL, counted, then room after completions. */
	struct nic_frag fr[2] = { { rbuf[0], 54 }, { rbuf[0] + 54, 1000 } };
	int sent = 0, r;
	while ((r = nic_tx(2, fr, 2, NULL, (void *)(uintptr_t)(100 + sent))) == NIC_TX_INPLACE && sent < 1000) {
		sent++;
		if (sent % 16 == 0)
			nic_flush(2);
	}
	CHECK_EQ(r, NIC_TX_FULL);
	CHECK_EQ(sent, 128);                    /* 256 descriptors, two per frame */
	struct nic_qstats st;
	nic_qstats(2, &st);
	CHECK_EQ(st.tx_full, 1);
	nic_flush(2);
	vm_tx_release();
	nic_flush(2);
	CHECK_EQ(ndone, 20 + 128);
	CHECK_EQ(nic_tx(2, fr, 2, NULL, (void *)(uintptr_t)999), NIC_TX_INPLACE);
	model_clean();
}

/* EVENT_IDX: a polling device says "no doorbells" through avail_event and gets none on TX; an RX
 * queue that ran dry asks for one and gets it after the refill. */
static void s_event_idx(void)
{
	struct vm_cfg c = { .tx_poll = true };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 200, 3000), 200);
	uint64_t txdb = 0, saved = 0;
	for (int i = 1; i < 8; i += 2)
		txdb += vm.q[i].doorbells;
	for (int q = 0; q < 4; q++)
		saved += counter(q, "db_saved");
	CHECK_EQ(txdb, 1);                      /* only the first frame, before the device's first look */
	CHECK(saved >= 196);
	CHECK_EQ(vm.st.spurious_tx_doorbells, 0);
	/* 300 frames of flows on pair 0 before anyone polls: as many land as the ring holds (nic.c
	 * refills it a quarter at a time: 193 to 256 buffers), the rest find it empty. */
	uint8_t f[1600];
	int sent = 0, landed = 0;
	int posted = (uint16_t)(*(volatile uint16_t *)(uintptr_t)(vm.q[0].avail + 2) - vm.q[0].last_avail);
	CHECK(posted > 256 - (int)nic_rx_refill_batch(256) && posted <= 256);
	uint16_t port0 = 0;
	for (int i = 0; sent < 300; i++) {
		uint32_t len = frame(f, false, ip4(198, 18, 9, 9), ip4(198, 19, 0, 2), (uint16_t)(20000 + i), 80, 100, true);
		if (expect_pair(f) != 0)
			continue;
		port0 = (uint16_t)(20000 + i);
		sent++;
		landed += vm_rx(f, len, true) == 0;
	}
	CHECK_EQ(landed, posted);
	CHECK_EQ(vm.st.rx_drop_nobuf, (uint64_t)(300 - posted));
	CHECK(vm.q[0].parked);
	uint64_t db0 = vm.q[0].doorbells;
	int got = 0;
	struct nic_rxf rx[64];
	for (int k; (k = nic_rx_burst(0, rx, 64)) > 0;) {
		got += k;
		for (int i = 0; i < k; i++)
			nic_rx_return(0, rx[i].buf);
	}
	CHECK_EQ(got, posted);
	struct nic_qstats st;
	nic_qstats(0, &st);
	CHECK_EQ(st.rx_empty, 1);
	vm_step();
	CHECK_EQ(vm.st.missed_notify, 0);       /* not owed yet: nothing published */
	nic_flush(0);                           /* refill, and the doorbell the device asked for */
	CHECK_EQ(vm.q[0].doorbells, db0 + 1);
	CHECK(!vm.q[0].parked);
	uint32_t len = frame(f, false, ip4(198, 18, 9, 9), ip4(198, 19, 0, 2), port0, 80, 100, true);
	CHECK_EQ(vm_rx(f, len, true), 0);       /* lands again */
	CHECK_EQ(nic_rx_burst(0, rx, 64), 1);
	nic_rx_return(0, rx[0].buf);
	CHECK_EQ(traffic(4, 40, 4000), 40);
	model_clean();
}

/* Capabilities pointing past their BAR: attach fails, nothing is touched. */
static void cap_fails(enum vm_hostile h)
{
	struct vm_cfg c = { .hostile = h };
	vm_init(&c);
	CHECK_EQ(pci_scan(&vm_acpi), 1);
	CHECK(nic_attach(4) < 0);
	CHECK(nic_dev() == NULL);
	CHECK_EQ(nic_slow_poll(), 0);
	CHECK_EQ(vm.st.status_writes, 0);
	CHECK_EQ(vm.st.doorbells, 0);
	CHECK(klog_has("vnet0: not a modern virtio device"));
	model_clean();
}
static void s_cap_common(void) { cap_fails(VM_H_COMMON_BEYOND_BAR); }
static void s_cap_devcfg(void) { cap_fails(VM_H_DEVCFG_LEN_HUGE); }
static void s_cap_bar(void) { cap_fails(VM_H_CAP_BAR_MISSING); }

static void s_notify_beyond(void)
{
	struct vm_cfg c = { .hostile = VM_H_NOTIFY_OFF_BEYOND };
	vm_init(&c);
	CHECK_EQ(pci_scan(&vm_acpi), 1);
	CHECK(nic_attach(4) < 0);
	CHECK(nic_dev() == NULL);
	CHECK(klog_has("vnet0: cannot set up a queue pair"));
	CHECK(vm.driver_failed);                /* FAILED written */
	CHECK(!vm.q[3].enabled);
	for (int i = 0; i < vm.nstatus; i++)
		CHECK(!(vm.status_log[i] & VSTAT_DRIVER_OK));
	CHECK_EQ(vm.st.doorbells, 0);
	model_clean();
}

static void s_zero_pairs(void)
{
	struct vm_cfg c = { .zero_pairs = true };
	CHECK_EQ(up(&c, 4), 1);
	CHECK(klog_has("vnet0: device offers 0 queue pairs: using 1"));
	const struct nic *n = nic_dev();
	CHECK(n && !n->caps.rss && n->npairs == 1);
	CHECK_EQ(vm.st.rss_configs + vm.st.pairs_sets, 0);     /* only the RX filter's commands */
	CHECK_EQ(traffic(1, 60, 5000), 60);
	nic_request_reset();                    /* a reset with the reduced feature set */
	slow_path(1, 3);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK_EQ(traffic(1, 60, 6000), 60);
	model_clean();
}

/* Every queue as attach left it, RX full at DRIVER_OK, RSS programmed again. */
static void all_back(uint32_t rss_configs)
{
	for (int i = 0; i < 9; i++) {
		CHECK(vm.q[i].enabled);
		CHECK_EQ(vm.q[i].msix, VIRTIO_MSI_NO_VECTOR);
	}
	for (int i = 0; i < 8; i += 2)
		CHECK_EQ(vm.q[i].avail_at_ok, 256);
	CHECK(vm.rss);
	CHECK_EQ(vm.st.rss_configs, rss_configs);
	CHECK(vm.status == (VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK));
	CHECK(klog_has("vnet0: reset done, 4 queue pairs back"));
}

static void s_bad_idx(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 40, 7000), 40);
	vm_used_idx_jump(2, 257);               /* RX queue of pair 1: a ring and one ahead */
	struct nic_rxf rx[8];
	CHECK_EQ(nic_rx_burst(1, rx, 8), 0);
	CHECK_EQ(counter(1, "bad_idx"), 1);
	host_clock += HZ / 4;
	nic_slow_poll();                        /* the broken ring seen: queues told to stop */
	uint8_t f[64] = { 0 };
	struct nic_frag fr = { f, 60 };
	CHECK_EQ(nic_tx(0, &fr, 1, NULL, NULL), NIC_TX_FULL);   /* paused, not lost */
	slow_path(4, 4);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK_EQ(d.reset_failed, 0);
	CHECK_EQ(vm.st.resets, 2);
	CHECK_EQ(counter(-1, "broken_rings"), 1);
	CHECK_EQ(counter(1, "bad_idx"), 1);     /* kept across the reset */
	all_back(2);
	CHECK_EQ(traffic(4, 200, 8000), 200);
	model_clean();
}

static void s_bad_used(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 40, 9000), 40);
	struct nic_qstats before, after;
	nic_qstats(1, &before);
	vm_put_used(2, 1000, 100);              /* RX: an id beyond the ring */
	vm_put_used(3, 7, 0);                   /* TX: an id not in flight */
	struct nic_rxf rx[8];
	CHECK_EQ(nic_rx_burst(1, rx, 8), 0);
	loop_all(4);
	CHECK_EQ(counter(1, "bad_used"), 2);
	nic_qstats(1, &after);
	CHECK_EQ(after.rx_packets, before.rx_packets);
	CHECK_EQ(after.rx_drop_bad, 0);
	CHECK_EQ(traffic(4, 100, 10000), 100);  /* the rings go on */
	model_clean();
}

static void s_bad_len(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	uint8_t f[1600];
	uint32_t len = frame(f, false, ip4(198, 18, 3, 3), ip4(198, 19, 0, 2), 4321, 80, 200, true);
	uint32_t p = expect_pair(f);
	vm.rx_len_lie = 5000;                   /* more than the 2048-byte buffer */
	CHECK_EQ(vm_rx(f, len, true), (int)p);
	struct nic_rxf rx[8];
	CHECK_EQ(nic_rx_burst(p, rx, 8), 0);    /* not handed up with a length nobody wrote */
	struct nic_qstats st;
	nic_qstats(p, &st);
	CHECK_EQ(st.rx_drop_bad, 1);
	CHECK_EQ(st.rx_packets, 0);
	CHECK_EQ(counter((int)p, "bad_used"), 1);
	CHECK_EQ(traffic(4, 100, 11000), 100);
	model_clean();
}

/* A control command the device never answers: counted, the buffer left alone, the device reset
 * from the slow path and RSS programmed on the fresh device; at boot and again mid-run. */
static void s_ctrl_hang(void)
{
	struct vm_cfg c = { .ctrl_hang = true };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(counter(-1, "ctrl_timeouts"), 1);
	CHECK(klog_has("vnet0: control command 4/1 timed out"));
	CHECK(vm.ctrl_held);
	CHECK_EQ(vm.st.ctrl_cmds, 1);           /* nothing else posted while it was in flight */
	vm_step();                              /* the held bytes unchanged */
	CHECK_EQ(vm.st.violations, 0);
	vm.cfg.ctrl_hang = false;
	slow_path(4, 4);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK(nic_dev() && nic_dev()->caps.rss);
	all_back(1);
	CHECK_EQ(traffic(4, 100, 12000), 100);
	/* Mid-run: NEEDS_RESET, and the restart's command hangs. */
	vm.cfg.ctrl_hang = true;
	vm_set_needs_reset();
	for (int i = 0; i < 8 && counter(-1, "ctrl_timeouts") < 2; i++)
		slow_path(4, 1);
	CHECK_EQ(counter(-1, "ctrl_timeouts"), 2);
	vm.cfg.ctrl_hang = false;
	slow_path(4, 4);
	nic_dstats(&d);
	CHECK_EQ(d.resets, 3);
	CHECK_EQ(d.reset_failed, 0);
	CHECK(nic_dev() && nic_dev()->caps.rss);
	all_back(2);
	CHECK_EQ(traffic(4, 100, 13000), 100);
	model_clean();
}

static void s_link(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	host_clock += HZ / 4;
	CHECK_EQ(nic_slow_poll(), 0);
	vm_set_link(false);
	host_clock += HZ / 4;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_DOWN);
	CHECK(nic_dev() && !nic_dev()->link);
	CHECK_EQ(nic_slow_poll(), 0);           /* once per change */
	uint8_t f[200];
	uint32_t len = frame(f, true, ip4(198, 18, 1, 1), ip4(198, 19, 0, 2), 53, 53, 20, true);
	CHECK_EQ(vm_rx(f, len, false), -1);     /* nothing arrives while down */
	vm_set_link(true);
	host_clock += HZ / 4;
	CHECK_EQ(nic_slow_poll(), NIC_EV_LINK_UP);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.link_down, 1);
	CHECK_EQ(d.link_up, 1);
	CHECK_EQ(d.resets, 0);
	CHECK(klog_has("vnet0: link down") && klog_has("vnet0: link up"));
	CHECK_EQ(traffic(4, 40, 14000), 40);
	model_clean();
}

static void s_needs_reset(void)
{
	struct vm_cfg c = { .tx_defer = true };
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 100, 15000), 100);
	uint64_t done0 = tx_done_count;
	/* Frames in flight on every pair, pieces in place, when the device asks for a reset. */
	for (uint32_t q = 0; q < 4; q++)
		for (int i = 0; i < 3; i++) {
			uint8_t *r = rbuf[q * 3 + (uint32_t)i];
			uint32_t rl = frame(r, false, ip4(198, 19, 0, 2), ip4(198, 18, 5, 5), 80, (uint16_t)(100 + i), 600, true);
			struct nic_frag fr[2] = { { r, 54 }, { r + 54, rl - 54 } };
			CHECK_EQ(nic_tx(q, fr, 2, NULL, r), NIC_TX_INPLACE);
		}
	loop_all(4);
	CHECK_EQ(vm.nheld, 12);
	vm_set_needs_reset();
	uint8_t f[200];
	uint32_t len = frame(f, true, ip4(198, 18, 1, 1), ip4(198, 19, 0, 2), 53, 53, 20, true);
	CHECK_EQ(vm_rx(f, len, false), -1);     /* a device in NEEDS_RESET does nothing */
	slow_path(4, 4);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	CHECK_EQ(counter(-1, "needs_reset"), 1);
	CHECK(klog_has("vnet0: device set NEEDS_RESET"));
	CHECK_EQ(tx_done_count, done0 + 12);    /* the frames the device dropped handed back */
	CHECK_EQ(vm.nheld, 0);
	all_back(2);
	CHECK_EQ(traffic(4, 200, 16000), 200);
	for (uint32_t q = 0; q < 4; q++) {
		struct nic_qstats st;
		nic_qstats(q, &st);
		CHECK(st.rx_packets > 40);      /* every queue back */
	}
	model_clean();
}

/* Only VERSION_1 and MAC offered: one pair, no offloads, no EVENT_IDX, no link status. */
static void s_minimal_device(void)
{
	struct vm_cfg c = { .features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC };
	CHECK_EQ(up(&c, 4), 1);
	CHECK_EQ(vm.features, c.features);
	const struct nic *n = nic_dev();
	CHECK(n && !n->caps.rss && !n->caps.tx_csum && !n->caps.rx_csum && n->link);
	CHECK(klog_has("event idx off, csum offload tx off rx off"));
	CHECK_EQ(traffic(1, 300, 17000), 300);
	CHECK_EQ(vm.st.tx_csum, 0);
	CHECK_EQ(vm.st.ctrl_cmds, 0);
	model_clean();
}

/* ---- multicast filter (VIRTIO_NET_F_CTRL_RX) ---- */
static const uint8_t mc_joined[6] = { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 };     /* solicited-node */
static const uint8_t mc_other[6] = { 0x33, 0x33, 0xff, 0x00, 0x12, 0x34 };

/* A frame to dst (not IP: the unclassified pair 0) in from the wire; returns the frames nic.c
 * handed up on every queue (each given back). */
static int mc_arrives(const uint8_t dst[6])
{
	uint8_t f[64] = { 0 };
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02\x88\xb5", 8);
	vm_rx(f, sizeof(f), false);
	int got = 0;
	for (uint32_t q = 0; q < nic_dev()->npairs; q++) {
		struct nic_rxf rx[4];
		int k = nic_rx_burst(q, rx, 4);
		for (int j = 0; j < k; j++, got++)
			nic_rx_return(q, rx[j].buf);
	}
	loop_all(nic_dev()->npairs);
	return got;
}

static void s_mcast(void)
{
	CHECK_EQ(up(&(struct vm_cfg){ 0 }, 4), 4);
	CHECK(vm.features & (1ull << VIRTIO_NET_F_CTRL_RX));
	const uint8_t list[2][6] = { { 0x33, 0x33, 0, 0, 0, 1 }, { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 } };
	nic_set_mcast(list, 2);
	CHECK(!vm.promisc && !vm.allmulti);     /* QEMU starts promiscuous: turned off */
	CHECK_EQ(vm.nuni, 0);
	CHECK_EQ(vm.nmulti, 2);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK(ds.mcast_entries == 2 && !ds.mcast_all && ds.mcast_fallbacks == 0);
	CHECK_EQ(mc_arrives(mc_joined), 1);
	CHECK_EQ(mc_arrives(mc_other), 0);      /* the device filtered it */
	CHECK_EQ(vm.st.rx_drop_filter, 1);
	CHECK_EQ(mc_arrives((const uint8_t *)"\xff\xff\xff\xff\xff\xff"), 1);
	CHECK_EQ(mc_arrives(vm.mac), 1);
	/* More than nic.c keeps: every multicast frame, counted. */
	uint8_t many[NIC_MCAST_MAX + 1][6];
	for (int i = 0; i <= NIC_MCAST_MAX; i++)
		memcpy(many[i], "\x33\x33\xff\x00\x00", 5), many[i][5] = (uint8_t)i;
	nic_set_mcast(many, NIC_MCAST_MAX + 1);
	CHECK(vm.allmulti && !vm.promisc);
	CHECK_EQ(mc_arrives(mc_other), 1);
	nic_dstats(&ds);
	CHECK(ds.mcast_all && ds.mcast_fallbacks == 1);  /* a list too long: counted */
	/* Back to two after a device reset: the list is set again. */
	nic_set_mcast(list, 2);
	nic_request_reset();
	for (int i = 0; i < 10; i++) {
		nic_slow_poll();
		loop_all(4);
	}
	CHECK(klog_has("vnet0: reset done"));
	CHECK(!vm.promisc && !vm.allmulti && vm.nmulti == 2);
	CHECK_EQ(mc_arrives(mc_other), 0);
	CHECK_EQ(mc_arrives(mc_joined), 1);
	model_clean();
}

/* A refused MAC table: counted, all multicast instead, nothing lost. */
static void s_mcast_refused(void)
{
	CHECK_EQ(up(&(struct vm_cfg){ .mac_refuse = true }, 4), 4);
	const uint8_t list[1][6] = { { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 } };
	nic_set_mcast(list, 1);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK(ds.mcast_all && ds.mcast_fallbacks == 1);
	CHECK(counter(-1, "mcast_refused") >= 1 && counter(-1, "mcast_refused") != ~0ull);
	CHECK(vm.allmulti && !vm.promisc);
	CHECK_EQ(mc_arrives(mc_other), 1);
	CHECK_EQ(mc_arrives(mc_joined), 1);
	model_clean();
}

/* Without CTRL_RX the device cannot be told: it stays promiscuous, as QEMU starts it. */
static void s_mcast_no_ctrl_rx(void)
{
	CHECK_EQ(up(&(struct vm_cfg){ .features = vm_default_features() & ~(1ull << VIRTIO_NET_F_CTRL_RX) }, 4), 4);
	const uint8_t list[1][6] = { { 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 } };
	nic_set_mcast(list, 1);
	struct nic_dstats ds;
	nic_dstats(&ds);
	CHECK(ds.mcast_all && ds.mcast_entries == 0);
	CHECK(vm.promisc);
	CHECK_EQ(mc_arrives(mc_other), 1);
	model_clean();
}

/* The model refuses MAC tables whose sizes do not add up, as QEMU does. */
static void s_model_mac_table(void)
{
	CHECK_EQ(up(&(struct vm_cfg){ 0 }, 1), 1);
	uint8_t d[4 + 4 + 12] = { 0 };
	d[4] = 2;                                       /* 0 unicast, 2 multicast */
	CHECK_EQ(vm_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, sizeof(d)), VIRTIO_NET_OK);
	CHECK_EQ(vm_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, sizeof(d) - 1), 1);    /* short */
	d[4] = 1;
	CHECK_EQ(vm_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, sizeof(d)), 1);        /* long */
	d[0] = 0xff;
	CHECK_EQ(vm_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, sizeof(d)), 1);        /* past the end */
	CHECK_EQ(vm_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, 3), 1);
	CHECK_EQ(vm.nmulti, 2);                 /* only the good one applied */
}

/* ---- the model refuses what a driver must not do (a driver written by hand) ---- */
static void cw8(uint32_t o, uint8_t v) { mmio_write8(VM_BAR + VM_COMMON + o, v); }
static void cw16(uint32_t o, uint16_t v) { mmio_write16(VM_BAR + VM_COMMON + o, v); }
static void cw32(uint32_t o, uint32_t v) { mmio_write32(VM_BAR + VM_COMMON + o, v); }
static uint8_t cr8(uint32_t o) { return mmio_read8(VM_BAR + VM_COMMON + o); }

static struct {
	uint8_t desc[16 * 16] __attribute__((aligned(16)));
	uint16_t avail[3 + 16];
	uint8_t used[6 + 8 * 16] __attribute__((aligned(4)));
} raw[2];
static uint8_t raw_buf[2048], stray[64];

static bool raw_features(uint64_t f)
{
	cw8(VCFG_DEVICE_STATUS, 0);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER);
	cw32(VCFG_DRIVER_FEATURE_SELECT, 0), cw32(VCFG_DRIVER_FEATURE, (uint32_t)f);
	cw32(VCFG_DRIVER_FEATURE_SELECT, 1), cw32(VCFG_DRIVER_FEATURE, (uint32_t)(f >> 32));
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK);
	return cr8(VCFG_DEVICE_STATUS) & VSTAT_FEATURES_OK;
}

static void raw_queue(uint16_t i)
{
	memset(&raw[i], 0, sizeof(raw[i]));
	vm_dma_add(&raw[i], sizeof(raw[i]));
	cw16(VCFG_QUEUE_SELECT, i);
	cw16(VCFG_QUEUE_SIZE, 16);
	cw32(VCFG_QUEUE_DESC, (uint32_t)(uintptr_t)raw[i].desc), cw32(VCFG_QUEUE_DESC + 4, (uint32_t)((uintptr_t)raw[i].desc >> 32));
	cw32(VCFG_QUEUE_DRIVER, (uint32_t)(uintptr_t)raw[i].avail), cw32(VCFG_QUEUE_DRIVER + 4, (uint32_t)((uintptr_t)raw[i].avail >> 32));
	cw32(VCFG_QUEUE_DEVICE, (uint32_t)(uintptr_t)raw[i].used), cw32(VCFG_QUEUE_DEVICE + 4, (uint32_t)((uintptr_t)raw[i].used >> 32));
	cw16(VCFG_QUEUE_ENABLE, 1);
}

/* One TX buffer (header + 60 bytes) at addr on raw queue 1, made available. */
static void raw_tx(const void *addr)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	uint32_t len = 72;
	memcpy(raw[1].desc, &a, 8), memcpy(raw[1].desc + 8, &len, 4);
	raw[1].avail[2] = 0;
	__sync_synchronize();
	raw[1].avail[1] = 1;
}

static bool refused(const char *why)
{
	bool ok = vm.st.violations == 1 && strstr(vm.why, why) && (cr8(VCFG_DEVICE_STATUS) & VSTAT_NEEDS_RESET);
	if (!ok)
		fprintf(stderr, "  wanted \"%s\", model said \"%s\" (%llu)\n", why, vm.why, (unsigned long long)vm.st.violations);
	return ok;
}

static void s_model_refuses(void)
{
	struct vm_cfg c = { 0 };
	uint64_t v1 = 1ull << VIRTIO_F_VERSION_1;
	vm_dma_add(raw_buf, sizeof(raw_buf));
	/* Feature bits the device did not offer: FEATURES_OK is not kept. */
	vm_init(&c);
	vm_dma_add(raw_buf, sizeof(raw_buf));
	CHECK(!raw_features(v1 | 1ull << 40));
	CHECK_EQ(vm.st.features_refused, 1);
	CHECK(!raw_features(v1 | 1ull << VIRTIO_NET_F_MQ));      /* MQ without the control queue */
	CHECK(raw_features(v1));
	CHECK_EQ(vm.st.violations, 0);
	/* A TX queue used before DRIVER_OK. */
	raw_queue(0), raw_queue(1);
	raw_tx(raw_buf);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	CHECK(refused("TX queue 1 used before DRIVER_OK"));
	/* A doorbell before DRIVER_OK. */
	vm_init(&c);
	CHECK(raw_features(v1));
	raw_queue(0);
	vm_notify(0);
	CHECK(refused("before DRIVER_OK"));
	/* A doorbell naming a queue that is not enabled, and one beyond num_queues. */
	vm_init(&c);
	CHECK(raw_features(v1));
	raw_queue(0), raw_queue(1);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	mmio_write16(VM_BAR + VM_NOTIFY + (uint32_t)vm.q[5].notify_off * 4, 5);
	CHECK(refused("doorbell for queue 5 beyond the enabled queues"));
	cw8(VCFG_DEVICE_STATUS, 0);
	vm.st.violations = 0, vm.why[0] = 0;
	CHECK(raw_features(v1));
	raw_queue(0), raw_queue(1);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	mmio_write16(VM_BAR + VM_NOTIFY, 40);
	CHECK(refused("doorbell for queue 40 beyond the enabled queues"));
	/* A descriptor pointing at memory nobody registered. */
	vm_init(&c);
	vm_dma_add(raw_buf, sizeof(raw_buf));
	CHECK(raw_features(v1));
	raw_queue(0), raw_queue(1);
	cw8(VCFG_DEVICE_STATUS, VSTAT_ACKNOWLEDGE | VSTAT_DRIVER | VSTAT_FEATURES_OK | VSTAT_DRIVER_OK);
	raw_tx(stray);
	vm_notify(1);
	CHECK(refused("outside registered memory"));
	CHECK_EQ(vm.st.tx_frames, 0);
	/* The same rules hold the real driver: a stray doorbell puts the device into NEEDS_RESET, the
	 * driver resets it from the slow path and traffic resumes. */
	c.pairs = 6;
	CHECK_EQ(up(&c, 4), 4);
	CHECK_EQ(traffic(4, 20, 18000), 20);
	mmio_write16(VM_BAR + VM_NOTIFY + (uint32_t)vm.q[9].notify_off * 4, 9);  /* tx4: not enabled */
	CHECK(refused("doorbell for queue 9 beyond the enabled queues"));
	slow_path(4, 4);
	struct nic_dstats d;
	nic_dstats(&d);
	CHECK_EQ(d.resets, 1);
	vm.st.violations = 0;
	CHECK_EQ(traffic(4, 40, 19000), 40);
	model_clean();
}

/* Ethernet/IPv6 from peer i to us: TCP (6) or UDP (17) from sp to dp after nopt destination
 * options headers, or with frag a fragment (offset frag - 1, in 8-byte units) of a UDP datagram, or
 * an ICMPv6 echo (58). Returns the length. */
static uint32_t frame6(uint8_t *f, uint8_t proto, uint32_t i, uint16_t sp, uint16_t dp, unsigned nopt, unsigned frag)
{
	memset(f, 0, 200);
	memcpy(f, "\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x02\x86\xdd", 14);
	uint8_t *ip = f + 14, *p = ip + 40, *nh = ip + 6;
	ip[0] = 0x60, ip[7] = 64;
	static const uint8_t pre[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	memcpy(ip + 8, pre, 8), be32(ip + 16, i * 2654435761u), be32(ip + 20, i);
	memcpy(ip + 24, pre, 8), ip[39] = 2;
	for (unsigned k = 0; k < nopt; k++, p += 8)
		*nh = 60, nh = p, p[2] = 1, p[3] = 4;
	if (frag) {
		*nh = 44, nh = p;
		be16(p + 2, (frag - 1) << 3 | 1), be32(p + 4, i);
		p += 8;
	}
	*nh = proto;
	be16(p, sp), be16(p + 2, dp);
	if (proto == 58)
		p[0] = 128, p[1] = 0;
	uint32_t plen = (uint32_t)(p + 24 - (ip + 40));
	be16(ip + 4, plen);
	return 14 + 40 + plen;
}

/* The pair our Toeplitz over n bytes at f + 22 (the IPv6 addresses, then with n 36 the ports at
 * ports) and our table name. */
static uint32_t expect_pair6(const uint8_t *f, const uint8_t *ports, unsigned n)
{
	uint8_t t[36];
	memcpy(t, f + 22, 32);
	if (n == 36)
		memcpy(t + 32, ports, 4);
	return reta[flow_hash_slow(key, t, n) & 127] % 4;
}

/* IPv6 placed as net/flow.c hashes it: TCP and UDP (extension headers or not) by the 36-byte
 * tuple, echo and fragments by the addresses; each frame handed up on that pair only. A device
 * without the IPv6 types leaves RSS off (net/ steers in software). */
static void s_rss_ipv6(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 4), 4);
	CHECK(vm.hash_types & VIRTIO_NET_HASH_TCPV6);
	CHECK(vm.hash_types & VIRTIO_NET_HASH_UDPV6);
	CHECK(vm.hash_types & VIRTIO_NET_HASH_IPV6);
	uint32_t right = 0, seen[4] = { 0 };
	for (uint32_t i = 0; i < 400; i++) {
		uint8_t f[256];
		uint8_t proto = i % 5 == 4 ? 58 : i % 2 ? 6 : 17;
		unsigned nopt = i % 3, frag = proto == 17 && i % 4 == 0 ? 1 + i % 8 : 0;
		uint16_t sp = (uint16_t)(20000 + 7 * i);
		uint32_t len = frame6(f, proto, i, sp, 443, nopt, frag);
		uint32_t want = expect_pair6(f, f + 54 + 8 * nopt, proto == 58 || frag ? 32 : 36);
		int placed = vm_rx(f, len, false);
		int got = 0;
		for (uint32_t q = 0; q < 4; q++) {
			struct nic_rxf rx[4];
			int k = nic_rx_burst(q, rx, 4);
			for (int j = 0; j < k; j++) {
				got++;
				right += q == want && rx[j].len == len && memcmp(rx[j].frame, f, len) == 0;
				nic_rx_return(q, rx[j].buf);
			}
		}
		CHECK_EQ(got, 1);
		if (placed >= 0)
			seen[placed]++;
		loop_all(4);
	}
	CHECK_EQ(right, 400);
	for (int q = 0; q < 4; q++)
		CHECK(seen[q] > 50);
	model_clean();
}

static void s_no_ipv6_types(void)
{
	struct vm_cfg c = { .hash_types = VIRTIO_NET_HASH_IPV4 | VIRTIO_NET_HASH_TCPV4 | VIRTIO_NET_HASH_UDPV4 };
	CHECK_EQ(up(&c, 4), 4);
	const struct nic *n = nic_dev();
	CHECK(n && !n->caps.rss);
	CHECK(!vm.rss);
	CHECK_EQ(vm.active_pairs, 4);           /* VQ_PAIRS_SET instead */
	CHECK(klog_has("vnet0: device hashes types 0x7, not TCP and UDP over IPv4 and IPv6: RSS not used"));
	CHECK(klog_has("vnet0: live, rss off"));
	model_clean();
}

/* ---- TCP segmentation offload (HOST_TSO4/6, 5.1.6.2) ---- */

static uint8_t big[2][70000] __attribute__((aligned(64)));

/* A segmentation frame in f: TCP over IPv4 or IPv6, plen payload bytes from sequence number 7000,
 * PSH and ACK, its checksum field the pseudo-header sum over the whole TCP length (psum_ok) or a
 * wrong one. Returns the frame's length. */
static uint32_t vnet_tso_frame(uint8_t *f, bool v6, uint32_t plen, bool psum_ok)
{
	uint32_t len = tso_frame(f, v6, plen, (const uint8_t *)"\x52\x54\x00\x12\x34\x56",
				 (const uint8_t *)"\x02\x00\x00\x00\x00\x02");
	uint8_t *c = f + (v6 ? 54 : 34) + 16;
	if (!psum_ok)
		c[0] = (uint8_t)~c[0], c[1] = (uint8_t)~c[1];
	return len;
}

/* The wire has the segments of f (payload plen in gso_size pieces), each whole and checked. */
static void tso_check(const uint8_t *f, bool v6, uint32_t plen, uint16_t gso_size, int first)
{
	uint32_t l4 = v6 ? 54 : 34, hl = l4 + 20, nseg = (plen + gso_size - 1) / gso_size;
	CHECK_EQ((uint32_t)(vm.wire_n - first), nseg);
	for (uint32_t k = 0; k < nseg && first + (int)k < vm.wire_n; k++) {
		const struct vm_wire *w = &vm.wire[first + k];
		uint32_t pl = k + 1 < nseg ? gso_size : plen - k * gso_size;
		const uint8_t *ip = w->f + 14, *t = w->f + l4;
		CHECK_EQ(w->len, hl + pl);
		CHECK(memcmp(w->f, f, 14) == 0);
		CHECK(memcmp(t + 20, f + hl + k * gso_size, pl) == 0);
		CHECK_EQ((uint32_t)(t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7]), 7000 + k * gso_size);
		CHECK_EQ(t[13], k + 1 < nseg ? 0x10 : 0x18);    /* PSH on the last only */
		if (v6)
			CHECK_EQ((uint32_t)(ip[4] << 8 | ip[5]), 20 + pl);
		else {
			CHECK_EQ((uint32_t)(ip[2] << 8 | ip[3]), 40 + pl);
			CHECK_EQ(ip[4] << 8 | ip[5], 0x1234 + (int)k);
			CHECK_EQ(csum16(0, ip, 20), 0xffff);
		}
		CHECK_EQ(csum16(csum16(20 + pl + 6u, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8), t, 20 + pl), 0xffff);
	}
}

/* Offered HOST_TSO4/6 (with CSUM): negotiated, and a frame of several segments leaves as them, over
 * IPv4 and IPv6, read in place; not offered (or CSUM not): no segmentation, such a frame refused. */
static void s_tso(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 1), 1);
	CHECK_EQ(nic_dev()->caps.tso_max, 0xffff);
	CHECK(klog_has("tso on"));
	vm_dma_add(big, sizeof(big));
	for (int v6 = 0; v6 < 2; v6++) {
		uint32_t plen = v6 ? 60000 : 3 * 1448 + 500;
		vnet_tso_frame(big[v6], v6, plen, true);
		uint16_t l4 = v6 ? 54 : 34;
		struct nic_frag fr[2] = { { big[v6], l4 + 20u }, { big[v6] + l4 + 20, plen } };
		struct nic_txo o = { .csum_start = l4, .csum_offset = 16, .gso_size = 1448,
				     .gso = v6 ? NIC_GSO_TCP6 : NIC_GSO_TCP4, .hdr_len = (uint8_t)(l4 + 20) };
		int first = vm.wire_n;
		CHECK_EQ(nic_tx(0, fr, 2, &o, (void *)1), NIC_TX_INPLACE);
		nic_flush(0);
		CHECK_EQ(vm.st.tx_gso, (uint64_t)v6 + 1);
		tso_check(big[v6], v6, plen, 1448, first);
	}
	struct nic_qstats st;
	nic_qstats(0, &st);
	CHECK(st.tx_tso == 2 && st.tx_tso_segs == 4 + 42);
	model_clean();
}

/* A frame of 4,000 payload bytes in 1,448-byte segments over IPv4 (psum_ok: a right pseudo-header
 * sum), to queue 0; nic_tx's answer. */
static int tso_send(bool psum_ok)
{
	vm_dma_add(big, sizeof(big));
	vnet_tso_frame(big[0], false, 4000, psum_ok);
	struct nic_frag fr[2] = { { big[0], 54 }, { big[0] + 54, 4000 } };
	struct nic_txo o = { .csum_start = 34, .csum_offset = 16, .gso_size = 1448, .gso = NIC_GSO_TCP4, .hdr_len = 54 };
	int r = nic_tx(0, fr, 2, &o, (void *)1);
	nic_flush(0);
	return r;
}

/* The model is strict: a checksum field that is not the whole length's pseudo-header sum is refused
 * (a device would send every segment with a wrong checksum). */
static void s_tso_refused(void)
{
	struct vm_cfg c = { 0 };
	CHECK_EQ(up(&c, 1), 1);
	CHECK_EQ(tso_send(false), NIC_TX_INPLACE);
	CHECK_EQ(vm.st.violations, 1);
	CHECK(strstr(vm.why, "pseudo-header") != NULL);
	CHECK_EQ(vm.st.tx_frames, 0);
}

/* Not offered, or offered without CSUM (5.1.3.1): not negotiated, and nic.c refuses a segmentation
 * frame (counted) before the device sees it. */
static void tso_off(uint64_t drop)
{
	struct vm_cfg c = { .features = vm_default_features() & ~drop };
	CHECK_EQ(up(&c, 1), 1);
	CHECK_EQ(vm.features & (1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6), 0);
	CHECK_EQ(nic_dev()->caps.tso_max, 0);
	CHECK_EQ(tso_send(true), NIC_TX_DROP);
	struct nic_qstats st;
	nic_qstats(0, &st);
	CHECK_EQ(st.tx_drop_big, 1);
	CHECK_EQ(vm.st.tx_frames, 0);
	model_clean();
}

static void s_tso_not_offered(void)
{
	tso_off(1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6);
}

static void s_tso_no_csum(void)
{
	tso_off(1ull << VIRTIO_NET_F_CSUM);
}

TEST_MAIN("test_vnet: virtio-net driver + nic.c against a strict virtio 1.2 device model: bring-up, RSS on 4 pairs (IPv4 and IPv6), in place, TCP segmentation offload, EVENT_IDX, hostile values, ctrl timeouts, link, NEEDS_RESET, multicast filter", {
	alloc_hook = dma_add;
	harness_fail_report = model_report;
	harness_run("bring-up order", s_bringup);
	harness_run("RSS traffic on 4 pairs + offloads", s_rss_traffic);
	harness_run("RSS of IPv6: TCPv6/UDPv6/IPv6 types", s_rss_ipv6);
	harness_run("no IPv6 hash types: RSS off", s_no_ipv6_types);
	harness_run("in place until completion, ring full", s_inplace);
	harness_run("TCP segmentation offload, IPv4 and IPv6", s_tso);
	harness_run("segmentation: wrong pseudo-header sum", s_tso_refused);
	harness_run("segmentation not offered: refused", s_tso_not_offered);
	harness_run("segmentation without CSUM: refused", s_tso_no_csum);
	harness_run("EVENT_IDX doorbells, RX ring dry", s_event_idx);
	harness_run("hostile: common cfg beyond BAR", s_cap_common);
	harness_run("hostile: device cfg length huge", s_cap_devcfg);
	harness_run("hostile: capability on a missing BAR", s_cap_bar);
	harness_run("hostile: notify offset beyond region", s_notify_beyond);
	harness_run("hostile: max_virtqueue_pairs 0", s_zero_pairs);
	harness_run("hostile: used idx a ring ahead", s_bad_idx);
	harness_run("hostile: used id never posted", s_bad_used);
	harness_run("hostile: used length above buffer", s_bad_len);
	harness_run("hostile: control command never ends", s_ctrl_hang);
	harness_run("link down/up", s_link);
	harness_run("NEEDS_RESET: reset, every queue back", s_needs_reset);
	harness_run("minimal device: no offloads, 1 pair", s_minimal_device);
	harness_run("model refuses a wrong driver", s_model_refuses);
	harness_run("multicast filter: joined groups only", s_mcast);
	harness_run("multicast filter: MAC table refused, all multicast", s_mcast_refused);
	harness_run("multicast filter: no CTRL_RX, promiscuous", s_mcast_no_ctrl_rx);
	harness_run("model refuses malformed MAC tables", s_model_mac_table);
})
