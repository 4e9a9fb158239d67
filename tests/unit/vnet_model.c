/* The virtio-net device model (tests/unit/vnet_model.h), written from the virtio 1.2 text: what a
 * device does with its registers and rings, and every driver MUST it can see broken counted as a
 * violation that puts the device into NEEDS_RESET. Register offsets from drivers/virtio_net_reg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnet_model.h"
#include "drivers/pci.h"
#include "drivers/pci_reg.h"
#include "drivers/virtio_net_reg.h"
#include "net/flow.h"
#include "csum.h"
#include "tso.h"
#include "fakepci.h"
#include "ip6_walk.h"

struct vm_state vm;
struct acpi_info vm_acpi;

#define F(b) (1ull << (b))
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define HDR 12u
#define VM_F_GUEST_TSO4 7               /* offered, but the driver has no use for them */
#define VM_F_MRG_RXBUF 15
#define VM_F_RING_PACKED 34

uint64_t vm_default_features(void)
{
	return F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_F_RING_EVENT_IDX) | F(VIRTIO_NET_F_CTRL_VQ) |
	       F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_STATUS) |
	       F(VIRTIO_NET_F_RSS) | F(VIRTIO_NET_F_CTRL_RX) | F(VM_F_GUEST_TSO4) | F(VM_F_MRG_RXBUF) | F(VM_F_RING_PACKED) |
	       F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6);
}

static bool has(unsigned bit) { return (vm.features >> bit) & 1; }

/* A driver broke a rule: remember the first, stop processing, ask for a reset (2.1.1). */
static void violation(const char *fmt, ...)
{
	va_list ap;
	vm.st.violations++;
	if (!vm.why[0]) {
		va_start(ap, fmt);
		vsnprintf(vm.why, sizeof(vm.why), fmt, ap);
		va_end(ap);
	}
	vm.needs_reset = true;
	vm.halted = true;
	vm.isr |= 2;                    /* a configuration change (4.1.4.5) */
}

/* ---- memory the device may reach ---- */
static struct { uint64_t base, len; } dma[4096];
static int ndma;

void vm_dma_add(const void *p, uint64_t len)
{
	if (ndma < (int)(sizeof(dma) / sizeof(dma[0])))
		dma[ndma++].base = (uint64_t)(uintptr_t)p, dma[ndma - 1].len = len;
}

static bool dma_ok(uint64_t a, uint64_t len)
{
	for (int i = 0; i < ndma; i++)
		if (a >= dma[i].base && len + !len <= dma[i].len && a - dma[i].base <= dma[i].len - len - !len)
			return true;
	return false;
}

static void *pa(uint64_t a) { return (void *)(uintptr_t)a; }

/* ---- PCI: 1af4:1041 at 00:03.0 in the fake ECAM; BAR1 MSI-X table, BAR4 the virtio structures ---- */
#define VM_MSIX_BAR 0xfebff000ull
static size_t fn;                       /* the function's index in the fake ECAM */

/* The capabilities are read-only: a driver writes only the BARs (sizing), the command register and
 * MSI-X's control word (fakepci.wmask says which bits of them). */
static bool cfg_write_ok(size_t f, uint32_t off, int size, uint32_t v)
{
	(void)v;
	if (f != fn || (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24 && size == 4) ||
	    (off == PCI_CFG_COMMAND && size == 2) || (off == 0x90 + PCI_MSIX_CTRL && size == 2))
		return true;
	violation("config space write at 0x%x (size %d)", (unsigned)off, size);
	return false;
}

static void put8(uint32_t off, uint8_t v) { fakepci_put(fakepci.mem, fn + off, v, 1); }
static void put16c(uint32_t off, uint16_t v) { fakepci_put(fakepci.mem, fn + off, v, 2); }
static void put32c(uint32_t off, uint32_t v) { fakepci_put(fakepci.mem, fn + off, v, 4); }

/* A virtio capability (4.1.4): vendor id, next, length, cfg_type, bar, id, offset, length. */
static void vcap(uint32_t at, uint32_t next, uint8_t len, uint8_t type, uint8_t bar, uint32_t off, uint32_t length)
{
	put8(at, PCI_CAP_ID_VENDOR), put8(at + 1, (uint8_t)next), put8(at + 2, len), put8(at + 3, type);
	put8(at + 4, bar), put8(at + 5, 0);
	put32c(at + 8, off), put32c(at + 12, length);
}

static void pci_init(void)
{
	fakepci_reset();
	fakepci.allow = cfg_write_ok;
	fn = fakepci_fn(0, 3, 0, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET, 0x02, 0x00, 0x00);
	put8(PCI_CFG_REVISION, 1);
	fakepci_bar(fn, 1, (uint32_t)VM_MSIX_BAR, ~0xfffu);                      /* 32-bit, 4 KiB */
	fakepci_bar(fn, 4, 0x4 | (uint32_t)VM_BAR, (uint32_t)~(VM_BAR_SIZE - 1));  /* 64-bit */
	fakepci_bar(fn, 5, 0, 0xffffffffu);
	put16c(PCI_CFG_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR), put16c(PCI_CFG_SUBSYS_ID, 1);
	fakepci_cap_ptr(fn, 0x40);
	fakepci_put(fakepci.wmask, fn + 0x90 + PCI_MSIX_CTRL, 0xc000, 2);      /* enable and mask only */

	uint32_t common_off = VM_COMMON, common_len = 0x40, dev_len = 0x100, notify_len = vm.num_queues * vm.cfg.notify_mult;
	uint8_t notify_bar = 4;
	if (vm.cfg.hostile == VM_H_COMMON_BEYOND_BAR)
		common_off = (uint32_t)VM_BAR_SIZE - 0x20;
	if (vm.cfg.hostile == VM_H_DEVCFG_LEN_HUGE)
		dev_len = 0xffffff00u;
	if (vm.cfg.hostile == VM_H_CAP_BAR_MISSING)
		notify_bar = 2;
	if (notify_len < 2)
		notify_len = 2;
	vcap(0x40, 0x54, 16, VIRTIO_PCI_CAP_COMMON_CFG, 4, common_off, common_len);
	vcap(0x54, 0x68, 16, VIRTIO_PCI_CAP_ISR_CFG, 4, VM_ISR, 4);
	vcap(0x68, 0x7c, 16, VIRTIO_PCI_CAP_DEVICE_CFG, 4, VM_DEVCFG, dev_len);
	vcap(0x7c, 0x90, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, notify_bar, VM_NOTIFY, notify_len);
	put32c(0x7c + VIRTIO_CAP_NOTIFY_MULT, vm.cfg.notify_mult);
	/* MSI-X, enabled as a previous owner (firmware, a boot loader) may have left it. */
	put8(0x90, PCI_CAP_ID_MSIX), put8(0x91, 0);
	put16c(0x90 + PCI_MSIX_CTRL, (uint16_t)(PCI_MSIX_CTRL_ENABLE | (VM_MAX_Q)));
	put32c(0x94, 1), put32c(0x98, 0x800 | 1);
}

/* ---- split rings (2.7), little-endian like the host ---- */
static volatile uint16_t *u16p(uint64_t a) { return (volatile uint16_t *)pa(a); }
static uint16_t avail_idx(const struct vm_q *q) { return *u16p(q->avail + 2); }
static uint16_t avail_ent(const struct vm_q *q, uint16_t i) { return *u16p(q->avail + 4 + 2u * (i & (q->size - 1))); }
static uint16_t used_event(const struct vm_q *q) { return *u16p(q->avail + 4 + 2u * q->size); }
static void set_avail_event(struct vm_q *q, uint16_t v) { *u16p(q->used + 4 + 8u * q->size) = v; }
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old) { return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old); }
static int qindex(const struct vm_q *q) { return (int)(q - vm.q); }

/* Does what the driver published since the device last looked call for a doorbell (2.7.10)? With
 * EVENT_IDX: it wrote the entry at avail_event. Without: unless the device set NO_NOTIFY. */
static bool notify_owed(const struct vm_q *q)
{
	if (has(VIRTIO_F_RING_EVENT_IDX))
		return need_event(*u16p(q->used + 4 + 8u * q->size), avail_idx(q), q->seen);
	return !(*u16p(q->used) & 1) && avail_idx(q) != q->seen;
}

static void put_used_raw(struct vm_q *q, uint32_t id, uint32_t len)
{
	volatile uint32_t *e = (volatile uint32_t *)pa(q->used + 4 + 8u * (q->used_idx & (q->size - 1)));
	e[0] = id, e[1] = len;
	__sync_synchronize();           /* the entry before the index (2.7.8) */
	uint16_t old = q->used_idx++;
	*u16p(q->used + 2) = q->used_idx;
	__sync_synchronize();
	/* Would this need a used buffer notification (2.7.7)? We never send one; count the driver's
	 * suppression failing. */
	bool irq = has(VIRTIO_F_RING_EVENT_IDX) ? need_event(used_event(q), q->used_idx, old)
						 : !(*u16p(q->avail) & 1);
	if (irq)
		vm.st.would_interrupt++;
}

/* The next available head, or false. */
static bool take(struct vm_q *q, uint16_t *head)
{
	uint16_t ai = avail_idx(q);
	if ((uint16_t)(ai - q->last_avail) > q->size) {
		violation("queue %d: avail idx %u more than a ring ahead of %u", qindex(q), ai, q->last_avail);
		return false;
	}
	if (ai == q->last_avail)
		return false;
	__sync_synchronize();           /* ring entries after the index (2.7.13) */
	*head = avail_ent(q, q->last_avail);
	q->last_avail++;
	return true;
}

struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

/* The chain from head (2.7.5): returns its length, or -1 after a violation. */
static int walk(struct vm_q *q, uint16_t head, struct seg *s, int max)
{
	int n = 0;
	uint16_t i = head;
	for (;;) {
		if (i >= q->size) {
			violation("queue %d: descriptor %u beyond the ring of %u", qindex(q), i, q->size);
			return -1;
		}
		volatile const uint8_t *d = pa(q->desc + 16u * i);
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		memcpy(&addr, (const void *)d, 8), memcpy(&len, (const void *)(d + 8), 4);
		memcpy(&flags, (const void *)(d + 12), 2), memcpy(&next, (const void *)(d + 14), 2);
		if (flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE)) {
			violation("queue %d: descriptor flags 0x%x (indirect was not negotiated)", qindex(q), flags);
			return -1;
		}
		if (!dma_ok(addr, len)) {
			violation("queue %d: descriptor %u points outside registered memory (0x%llx, %u bytes)", qindex(q), i,
				  (unsigned long long)addr, len);
			return -1;
		}
		if (n == max) {
			violation("queue %d: a chain longer than %d (or a loop)", qindex(q), max);
			return -1;
		}
		s[n++] = (struct seg){ addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0 };
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return n;
		i = next;
	}
}

/* ---- checksums and hashing ---- */
uint16_t vm_l4_check(const uint8_t *f, uint32_t len)
{
	if (len < 34 || f[12] != 8 || f[13] != 0)
		return 0xffff;
	uint32_t ihl = (f[14] & 0xfu) * 4, tot = (uint32_t)f[16] << 8 | f[17];
	if (ihl < 20 || tot < ihl || len < 14 + tot)
		return 0xffff;
	uint32_t s = csum16(0, f + 26, 8) + f[23] + (tot - ihl);
	return (uint16_t)~csum16(s, f + 14 + ihl, tot - ihl);
}

/* Toeplitz (5.1.6.4.3.1) with the driver's key; key bits past its length are zero. */
static uint32_t rss_hash(const uint8_t *data, uint32_t n)
{
	uint8_t k[FLOW_KEY_LEN] = { 0 };
	memcpy(k, vm.key, vm.key_len < FLOW_KEY_LEN ? vm.key_len : FLOW_KEY_LEN);
	return flow_hash_slow(k, data, n);
}

/*
 * 5.1.6.4.3.2: the hash of an IPv6 frame by the enabled types, false when none applies. The
 * addresses are the IPv6 header's (the _EX types, which take them from a home address option or a
 * routing header, are not offered); the ports are TCP's or UDP's after hop-by-hop, routing and
 * destination options headers (QEMU's net_rx_pkt walks them so), never a fragment's.
 */
static bool frame_hash6(const uint8_t *f, uint32_t len, uint32_t *hash)
{
	const uint8_t *ip = f + 14;
	uint32_t off;
	uint8_t nh;
	bool frag = ip6_walk(f, len, 8, &off, &nh);
	uint8_t t[36];
	memcpy(t, ip + 8, 32);
	bool l4 = !frag && 14 + off + 4 <= len &&
		  ((nh == 6 && (vm.hash_types & VIRTIO_NET_HASH_TCPV6)) || (nh == 17 && (vm.hash_types & VIRTIO_NET_HASH_UDPV6)));
	if (l4) {
		memcpy(t + 32, ip + off, 4);
		*hash = rss_hash(t, 36);
		return true;
	}
	if (vm.hash_types & VIRTIO_NET_HASH_IPV6) {
		*hash = rss_hash(t, 32);
		return true;
	}
	return false;
}

/* 5.1.6.4.3: the hash of an IPv4 or IPv6 frame by the enabled types; false when none applies. */
static bool frame_hash(const uint8_t *f, uint32_t len, uint32_t *hash)
{
	if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6)
		return frame_hash6(f, len, hash);
	if (len < 34 || f[12] != 8 || f[13] != 0 || (f[14] >> 4) != 4)
		return false;
	uint32_t ihl = (f[14] & 0xfu) * 4;
	bool frag = ((f[20] & 0x3f) | f[21]) != 0;     /* MF or a fragment offset */
	uint8_t t[12];
	memcpy(t, f + 26, 8);
	bool l4 = !frag && len >= 14 + ihl + 4 &&
		  ((f[23] == 6 && (vm.hash_types & VIRTIO_NET_HASH_TCPV4)) ||
		   (f[23] == 17 && (vm.hash_types & VIRTIO_NET_HASH_UDPV4)));
	if (l4) {
		memcpy(t + 8, f + 14 + ihl, 4);
		*hash = rss_hash(t, 12);
		return true;
	}
	if (vm.hash_types & VIRTIO_NET_HASH_IPV4) {
		*hash = rss_hash(t, 8);
		return true;
	}
	return false;
}

int vm_rss_pair(const uint8_t *f, uint32_t len, uint32_t *hash)
{
	if (!vm.rss)
		return -1;
	if (!frame_hash(f, len, hash))
		return vm.unclassified;
	return vm.reta[*hash & vm.reta_mask];
}

/* ---- RX (5.1.6.4) ---- */
static void park(struct vm_q *q)
{
	/* Ask for a doorbell when the next buffer is made available (2.7.10), then look once more:
	 * the driver may have added one between our look and our store. */
	set_avail_event(q, avail_idx(q));
	__sync_synchronize();
	q->parked = avail_idx(q) == q->last_avail;
}

static bool mac_in(const uint8_t (*t)[6], uint32_t n, const uint8_t *m)
{
	for (uint32_t i = 0; i < n; i++)
		if (!memcmp(t[i], m, 6))
			return true;
	return false;
}

/* What QEMU's receive_filter lets through (without VLANs or CTRL_RX_EXTRA): everything while
 * promiscuous; broadcast; multicast with allmulti, an overflowed table or a table hit; unicast
 * to the device's address, or with an overflowed table or a table hit. */
static bool rx_filter(const uint8_t *f, uint32_t len)
{
	if (vm.promisc)
		return true;
	if (len < 6)
		return false;
	if (!memcmp(f, "\xff\xff\xff\xff\xff\xff", 6))
		return true;
	if (f[0] & 1)
		return vm.allmulti || vm.multi_overflow || mac_in(vm.multi, vm.nmulti, f);
	return !memcmp(f, vm.mac, 6) || vm.uni_overflow || mac_in(vm.uni, vm.nuni, f);
}

int vm_rx(const uint8_t *f, uint32_t len, bool data_valid)
{
	if (!(vm.status & VSTAT_DRIVER_OK) || vm.halted || !vm.link) {
		vm.st.rx_drop_down++;
		return -1;
	}
	if (!rx_filter(f, len)) {
		vm.st.rx_drop_filter++;
		return -1;
	}
	uint32_t hash = 0;
	int pair = 0;
	if (vm.rss)
		pair = vm_rss_pair(f, len, &hash);
	else if (vm.active_pairs > 1 && frame_hash(f, len, &hash))
		pair = (int)(hash % vm.active_pairs);  /* automatic steering: any fixed choice per flow */
	struct vm_q *q = &vm.q[2 * pair];
	uint16_t head;
	if (!q->enabled || q->parked || !take(q, &head)) {
		if (q->enabled && !q->parked && !vm.halted)
			park(q);
		vm.st.rx_drop_nobuf++;
		return -1;
	}
	struct seg s[16];
	int n = walk(q, head, s, 16);
	if (n < 0)
		return -1;
	uint32_t room = 0;
	for (int i = 0; i < n; i++) {
		if (!s[i].w) {
			violation("RX queue %d: a device-readable descriptor", qindex(q));
			return -1;
		}
		room += s[i].len;
	}
	if (room < HDR + 1514) {        /* 5.1.6.3.1: without MRG_RXBUF or GUEST_TSO, at least 1526 bytes */
		violation("RX queue %d: a buffer of %u bytes", qindex(q), room);
		return -1;
	}
	uint8_t buf[HDR + 2048];
	struct virtio_net_hdr h = { 0 };
	if (data_valid && has(VIRTIO_NET_F_GUEST_CSUM))
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h.num_buffers = 1;
	memcpy(buf, &h, HDR);
	uint32_t total = HDR + (len < 2048 ? len : 2048);
	memcpy(buf + HDR, f, total - HDR);
	if (total > room)
		total = room;
	for (int i = 0, off = 0; i < n && (uint32_t)off < total; i++) {
		uint32_t c = s[i].len < total - (uint32_t)off ? s[i].len : total - (uint32_t)off;
		memcpy(pa(s[i].addr), buf + off, c);
		off += (int)c;
	}
	uint32_t used_len = total;
	if (vm.rx_len_lie) {
		used_len = vm.rx_len_lie;
		vm.rx_len_lie = 0;
	}
	put_used_raw(q, head, used_len);
	vm.st.rx_frames++;
	return pair;
}

/* ---- TX (5.1.6.2) ---- */

/* A frame on the wire from pair *arg: kept (the first 64) and counted. */
static void wire_seg(const uint8_t *fr, uint32_t len, void *arg)
{
	if (vm.wire_n < 64) {
		struct vm_wire *w = &vm.wire[vm.wire_n++];
		w->len = len < sizeof(w->f) ? len : (uint32_t)sizeof(w->f);
		memcpy(w->f, fr, w->len);
		w->pair = (uint16_t)*(int *)arg;
	}
	vm.st.tx_frames++;
}

static void tx_one(struct vm_q *q, uint16_t head)
{
	struct seg s[64];
	int n = walk(q, head, s, 64);
	if (n < 0)
		return;
	static uint8_t buf[HDR + 65536];
	uint32_t total = 0;
	for (int i = 0; i < n; i++) {
		if (s[i].w) {
			violation("TX queue %d: a device-writable descriptor", qindex(q));
			return;
		}
		if (total + s[i].len > sizeof(buf)) {
			violation("TX queue %d: a frame of more than 64 KiB", qindex(q));
			return;
		}
		memcpy(buf + total, pa(s[i].addr), s[i].len);
		total += s[i].len;
		vm.seg_pa[vm.nseg_pa++ % 64] = s[i].addr;
	}
	vm.st.tx_inplace_reads += n > 1;
	struct virtio_net_hdr h;
	if (total < HDR + 14) {
		violation("TX queue %d: %u bytes, less than a header and an Ethernet header", qindex(q), total);
		return;
	}
	memcpy(&h, buf, HDR);
	uint8_t *fr = buf + HDR;
	uint32_t len = total - HDR;
	bool gso = (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && has(VIRTIO_NET_F_HOST_TSO4)) ||
		   (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && has(VIRTIO_NET_F_HOST_TSO6));
	if (h.num_buffers != 0 || (h.gso_type != 0 && !gso) || (h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    (gso && !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))) {
		violation("TX queue %d: header flags 0x%x gso %u num_buffers %u", qindex(q), h.flags, h.gso_type,
			  h.num_buffers);
		return;
	}
	if (gso) {      /* 5.1.6.2: one header, the payload of several segments */
		char why[160];
		int pair = qindex(q) / 2;
		if (tso_segment(fr, len, h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? TSO_V4 : TSO_V6, h.gso_size,
				h.hdr_len, h.csum_start, h.csum_offset, wire_seg, &pair, why, sizeof(why)) < 0) {
			violation("TX queue %d: segmentation: %s", qindex(q), why);
			return;
		}
		vm.st.tx_gso++;
		put_used_raw(q, head, 0);
		return;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(VIRTIO_NET_F_CSUM)) {
			violation("TX queue %d: NEEDS_CSUM without VIRTIO_NET_F_CSUM", qindex(q));
			return;
		}
		if ((uint32_t)h.csum_start + h.csum_offset + 2 > len) {
			violation("TX queue %d: checksum at %u+%u past the frame of %u", qindex(q), h.csum_start,
				  h.csum_offset, len);
			return;
		}
		/* From csum_start to the end, the field holding the partial sum; the result there. */
		uint16_t c = (uint16_t)~csum16(0, fr + h.csum_start, len - h.csum_start);
		fr[h.csum_start + h.csum_offset] = (uint8_t)(c >> 8);
		fr[h.csum_start + h.csum_offset + 1] = (uint8_t)c;
		vm.st.tx_csum++;
	}
	int pair = qindex(q) / 2;
	wire_seg(fr, len, &pair);
	put_used_raw(q, head, 0);
}

/* Take what the driver made available on TX queue q: at once, or held (tx_defer). */
static void tx_queue(struct vm_q *q)
{
	uint16_t head;
	if ((uint16_t)qindex(q) / 2 >= vm.active_pairs && avail_idx(q) != q->last_avail) {
		violation("TX queue %d used with %u pairs active (5.1.6.5.6.1)", qindex(q), vm.active_pairs);
		return;
	}
	while (!vm.halted && take(q, &head)) {
		if (vm.cfg.tx_defer && vm.nheld < 1024) {
			vm.held_q[vm.nheld] = (uint16_t)qindex(q);
			vm.held_head[vm.nheld++] = head;
		} else {
			tx_one(q, head);
		}
	}
	q->seen = avail_idx(q);
	/* tx_poll: a busy-polling device wants no doorbells: the event index is out of reach, or
	 * NO_NOTIFY without EVENT_IDX. */
	if (has(VIRTIO_F_RING_EVENT_IDX))
		set_avail_event(q, vm.cfg.tx_poll ? (uint16_t)(q->last_avail + 0x4000) : q->last_avail);
	else
		*u16p(q->used) = vm.cfg.tx_poll ? 1 : 0;
}

void vm_tx_release(void)
{
	for (int i = 0; i < vm.nheld && !vm.halted; i++)
		tx_one(&vm.q[vm.held_q[i]], vm.held_head[i]);
	vm.nheld = 0;
}

/* ---- control queue (5.1.6.5) ---- */
static uint8_t ctrl_mq(uint8_t cmd, const uint8_t *d, uint32_t n)
{
	uint32_t pairs = vm.cfg.zero_pairs ? 1 : vm.cfg.pairs;
	if (!has(VIRTIO_NET_F_MQ))
		return 1;
	if (cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
		uint16_t np;
		if (n != 2)
			return 1;
		memcpy(&np, d, 2);
		if (np < 1 || np > pairs)
			return 1;
		for (uint32_t i = 0; i < 2u * np; i++)
			if (!vm.q[i].enabled)
				return 1;       /* 5.1.6.5.6.1: queues configured before they are used */
		vm.active_pairs = np;
		vm.rss = false;
		vm.st.pairs_sets++;
		return 0;
	}
	if (cmd != VIRTIO_NET_CTRL_MQ_RSS_CONFIG || !has(VIRTIO_NET_F_RSS) || n < 8)
		return 1;
	uint32_t types;
	uint16_t mask, uncl, tab[VM_TABLE_MAX], max_tx;
	memcpy(&types, d, 4), memcpy(&mask, d + 4, 2), memcpy(&uncl, d + 6, 2);
	uint32_t entries = (uint32_t)mask + 1;
	/* 5.1.6.5.7.1: a power of two, mask below the table length we offered, types we support. */
	if ((entries & mask) || mask >= vm.cfg.rss_table || entries > VM_TABLE_MAX || (types & ~vm.cfg.hash_types))
		return 1;
	if (n < 8 + 2 * entries + 3)
		return 1;
	memcpy(tab, d + 8, 2 * entries);
	memcpy(&max_tx, d + 8 + 2 * entries, 2);
	uint8_t klen = d[8 + 2 * entries + 2];
	if (n != 8 + 2 * entries + 3 + klen || klen == 0 || klen > vm.cfg.rss_key)
		return 1;
	if (max_tx < 1 || max_tx > pairs)
		return 1;
	for (uint32_t i = 0; i < 2u * max_tx; i++)
		if (!vm.q[i].enabled)
			return 1;
	for (uint32_t i = 0; i <= entries; i++) {
		uint16_t id = i < entries ? tab[i] : uncl;      /* rss_rq_id: the RX vq index / 2 */
		if ((id & 0x8000) || id >= pairs || !vm.q[2 * id].enabled)
			return 1;
	}
	vm.hash_types = types, vm.reta_mask = mask, vm.unclassified = uncl;
	memcpy(vm.reta, tab, 2 * entries);
	vm.key_len = klen;
	memcpy(vm.key, d + 8 + 2 * entries + 3, klen);
	vm.active_pairs = max_tx;
	vm.rss = true;
	vm.st.rss_configs++;
	return 0;
}

/* RX mode (5.1.6.5.1): one byte, off or on. */
static uint8_t ctrl_rx(uint8_t cmd, const uint8_t *d, uint32_t n)
{
	if (!has(VIRTIO_NET_F_CTRL_RX) || n != 1)
		return 1;
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		vm.promisc = d[0] != 0;
	else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
		vm.allmulti = d[0] != 0;
	else
		return 1;               /* ALLUNI and the rest need CTRL_RX_EXTRA, not offered */
	return 0;
}

/* MAC_TABLE_SET (5.1.6.5.2): two struct virtio_net_ctrl_mac back to back, unicast then multicast,
 * each le32 entries and entries * 6 bytes; anything else, short or long, is refused as QEMU's
 * virtio_net_handle_mac does. Past VM_MAC_TABLE the kind overflows (accepted whole). */
static uint8_t ctrl_mac(uint8_t cmd, const uint8_t *d, uint32_t n)
{
	if (!has(VIRTIO_NET_F_CTRL_RX) || cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || n < 4 || vm.cfg.mac_refuse)
		return 1;
	uint32_t nu, nm;
	memcpy(&nu, d, 4);
	if (nu > (n - 4) / 6 || 4 + 6 * nu + 4 > n)
		return 1;
	memcpy(&nm, d + 4 + 6 * nu, 4);
	if (nm > n || 4 + 6 * nu + 4 + 6 * (uint64_t)nm != n)
		return 1;
	vm.uni_overflow = nu > VM_MAC_TABLE;
	vm.nuni = vm.uni_overflow ? 0 : nu;
	memcpy(vm.uni, d + 4, 6 * vm.nuni);
	vm.multi_overflow = nm > VM_MAC_TABLE - vm.nuni;
	vm.nmulti = vm.multi_overflow ? 0 : nm;
	memcpy(vm.multi, d + 4 + 6 * nu + 4, 6 * vm.nmulti);
	vm.st.mac_table_sets++;
	return 0;
}

uint8_t vm_ctrl(uint8_t cls, uint8_t cmd, const uint8_t *d, uint32_t n)
{
	uint8_t ack = cls == VIRTIO_NET_CTRL_MQ    ? ctrl_mq(cmd, d, n)
		    : cls == VIRTIO_NET_CTRL_RX  ? ctrl_rx(cmd, d, n)
		    : cls == VIRTIO_NET_CTRL_MAC ? ctrl_mac(cmd, d, n)
						 : 1;
	if (ack)
		vm.st.ctrl_refused++;
	return ack;
}

/* The held command's readable bytes must stay as they were while the device owns them. */
static void ctrl_check_held(void)
{
	if (!vm.ctrl_held)
		return;
	uint32_t off = 0;
	for (int i = 0; i < vm.ctrl_snap_n; i++) {
		if (memcmp(pa(vm.ctrl_snap_pa[i]), vm.ctrl_snap + off, vm.ctrl_snap_len[i]))
			violation("control buffer rewritten while the device holds it");
		off += vm.ctrl_snap_len[i];
	}
	if (avail_idx(&vm.q[vm.ctrl_q]) != vm.ctrl_held_avail)
		violation("a control command posted while one is in flight");
}

static void ctrl_queue(void)
{
	struct vm_q *q = &vm.q[vm.ctrl_q];
	uint16_t head;
	ctrl_check_held();
	while (!vm.halted && !vm.ctrl_held && take(q, &head)) {
		struct seg s[8];
		int n = walk(q, head, s, 8);
		if (n < 0)
			return;
		uint8_t cmd[4096];
		uint32_t len = 0;
		int i = 0;
		for (; i < n && !s[i].w; i++) {
			if (len + s[i].len > sizeof(cmd)) {
				violation("control command of more than 4 KiB");
				return;
			}
			memcpy(cmd + len, pa(s[i].addr), s[i].len);
			len += s[i].len;
		}
		if (i == n || len < 2) {
			violation("control command without class/command or without a status byte");
			return;
		}
		for (int j = i; j < n; j++)
			if (!s[j].w) {
				violation("control command: a readable descriptor after a writable one");
				return;
			}
		vm.st.ctrl_cmds++;
		if (vm.cfg.ctrl_hang) {
			vm.ctrl_held = true;
			vm.ctrl_held_avail = avail_idx(q);
			memcpy(vm.ctrl_snap, cmd, len);
			vm.ctrl_snap_n = i;
			for (int j = 0; j < i; j++)
				vm.ctrl_snap_pa[j] = s[j].addr, vm.ctrl_snap_len[j] = s[j].len;
			break;
		}
		uint8_t ack = vm_ctrl(cmd[0], cmd[1], cmd + 2, len - 2);
		*(volatile uint8_t *)pa(s[i].addr) = ack;
		put_used_raw(q, head, 1);
	}
	q->seen = avail_idx(q);
	set_avail_event(q, q->last_avail);
}

/* ---- doorbells (4.1.4.4) ---- */
static void doorbell(uint32_t off, int size, uint16_t v)
{
	if (size != 2) {
		violation("doorbell write of %d bytes", size);
		return;
	}
	if (!(vm.status & VSTAT_DRIVER_OK)) {
		violation("doorbell for queue %u before DRIVER_OK (3.1.1)", v);
		return;
	}
	if (v >= vm.num_queues || !vm.q[v].enabled) {
		violation("doorbell for queue %u beyond the enabled queues", v);
		return;
	}
	struct vm_q *q = &vm.q[v];
	if ((uint32_t)q->notify_off * vm.cfg.notify_mult != off) {
		violation("doorbell for queue %u at 0x%x, not its notify address", v, off);
		return;
	}
	vm.st.doorbells++;
	q->doorbells++;
	if (vm.halted)
		return;
	bool tx = v != vm.ctrl_q && (v & 1);
	if (tx && !notify_owed(q))
		vm.st.spurious_tx_doorbells++;  /* the device said not to (2.7.10 SHOULD NOT) */
	if (v == vm.ctrl_q) {
		ctrl_queue();
	} else if (tx && !vm.cfg.tx_poll) {
		tx_queue(q);
	} else {
		q->parked = false;
		q->seen = avail_idx(q);
	}
}

void vm_notify(uint16_t qi)
{
	doorbell((uint32_t)vm.q[qi].notify_off * vm.cfg.notify_mult, 2, qi);
}

void vm_step(void)
{
	if (!(vm.status & VSTAT_DRIVER_OK) || vm.halted)
		return;
	ctrl_check_held();
	for (uint16_t i = 0; i < vm.num_queues; i++) {
		struct vm_q *q = &vm.q[i];
		if (!q->enabled)
			continue;
		bool tx = i != vm.ctrl_q && (i & 1);
		/* Published what called for a doorbell, and none came: a missed notification (2.7.10
		 * MUST); a device waiting for it would never look. */
		if (((tx && avail_idx(q) != q->last_avail) || (!tx && q->parked)) && notify_owed(q))
			vm.st.missed_notify++;
		if (tx && vm.cfg.tx_poll)
			tx_queue(q);
	}
}

/* ---- common configuration (4.1.4.3) ---- */
static void reset(void)
{
	ctrl_check_held();
	vm.status = 0;
	vm.needs_reset = vm.halted = false;
	vm.dfsel = vm.drsel = 0;
	vm.drv_features = vm.features = 0;
	vm.msix_config = 0;
	vm.qsel = 0;
	for (int i = 0; i < VM_MAX_Q; i++) {
		struct vm_q *q = &vm.q[i];
		uint16_t off = q->notify_off;
		*q = (struct vm_q){ 0 };
		q->notify_off = off;
		q->size = i < vm.num_queues ? vm.cfg.qmax : 0;
	}
	vm.active_pairs = 1;
	vm.rss = false;
	vm.promisc = true;              /* QEMU's virtio_net_reset */
	vm.allmulti = vm.uni_overflow = vm.multi_overflow = false;
	vm.nuni = vm.nmulti = 0;
	vm.ctrl_held = false;
	vm.nheld = 0;
	vm.isr = 0;
	vm.st.resets++;
}

static bool features_ok(uint64_t f)
{
	uint64_t offered = vm.cfg.features;
	if (f & ~offered)
		return false;           /* 3.1.1 step 5: a subset of what the device offered */
	if (!(f & F(VIRTIO_F_VERSION_1)))
		return false;
	if ((f & (F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_RSS) | F(VIRTIO_NET_F_CTRL_RX))) && !(f & F(VIRTIO_NET_F_CTRL_VQ)))
		return false;           /* 5.1.3.1: MQ, RSS and CTRL_RX need the control queue */
	if ((f & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))) && !(f & F(VIRTIO_NET_F_CSUM)))
		return false;           /* 5.1.3.1: segmentation needs the checksum offload */
	return true;
}

static void status_write(uint8_t v)
{
	vm.st.status_writes++;
	if (vm.nstatus < 32)
		vm.status_log[vm.nstatus++] = v;
	if (v == 0) {
		reset();
		return;
	}
	uint8_t old = vm.status;
	if (v & VSTAT_FAILED) {
		vm.driver_failed = true;
		vm.status |= VSTAT_FAILED;
		return;
	}
	if (old & ~v & 0x0f)
		violation("status 0x%x -> 0x%x clears bits without a reset", old, v);
	else if ((v & VSTAT_DRIVER) && !(v & VSTAT_ACKNOWLEDGE))
		violation("DRIVER before ACKNOWLEDGE");
	else if ((v & VSTAT_FEATURES_OK) && !(v & VSTAT_DRIVER))
		violation("FEATURES_OK before DRIVER");
	else if ((v & VSTAT_DRIVER_OK) && !(v & VSTAT_FEATURES_OK))
		violation("DRIVER_OK without FEATURES_OK");
	if ((v & VSTAT_FEATURES_OK) && !(old & VSTAT_FEATURES_OK)) {
		if (!features_ok(vm.drv_features)) {
			vm.st.features_refused++;
			v &= (uint8_t)~VSTAT_FEATURES_OK;       /* 2.2.2: FEATURES_OK not kept */
		} else {
			vm.features = vm.drv_features;
		}
	}
	if ((v & VSTAT_DRIVER_OK) && !(old & VSTAT_DRIVER_OK) && (v & VSTAT_FEATURES_OK)) {
		for (uint16_t i = 0; i < vm.num_queues; i++) {
			struct vm_q *q = &vm.q[i];
			if (!q->enabled)
				continue;
			q->avail_at_ok = avail_idx(q);
			q->seen = 0;
			if (i != vm.ctrl_q && (i & 1) && avail_idx(q) != 0)
				violation("TX queue %u used before DRIVER_OK", i);
		}
		vm.active_pairs = 1;    /* 5.1.6.5.6.1: receiveq1 only until VQ_PAIRS_SET */
	}
	vm.status = (uint8_t)(v & 0x0f);
}

static int field_size(uint32_t off)
{
	switch (off) {
	case VCFG_DEVICE_FEATURE_SELECT: case VCFG_DEVICE_FEATURE: case VCFG_DRIVER_FEATURE_SELECT:
	case VCFG_DRIVER_FEATURE:
	case VCFG_QUEUE_DESC: case VCFG_QUEUE_DESC + 4: case VCFG_QUEUE_DRIVER: case VCFG_QUEUE_DRIVER + 4:
	case VCFG_QUEUE_DEVICE: case VCFG_QUEUE_DEVICE + 4:
		return 4;
	case VCFG_DEVICE_STATUS: case 0x15:
		return 1;
	case VCFG_MSIX_CONFIG: case VCFG_NUM_QUEUES: case VCFG_QUEUE_SELECT: case VCFG_QUEUE_SIZE:
	case VCFG_QUEUE_MSIX_VECTOR: case VCFG_QUEUE_ENABLE: case VCFG_QUEUE_NOTIFY_OFF: case 0x38: case 0x3a:
		return 2;
	}
	return 0;
}

static struct vm_q *selq(void) { return vm.qsel < vm.num_queues ? &vm.q[vm.qsel] : NULL; }

static uint64_t common_read(uint32_t off, int size)
{
	if (size == 8 && (off == VCFG_QUEUE_DESC || off == VCFG_QUEUE_DRIVER || off == VCFG_QUEUE_DEVICE))
		return common_read(off, 4) | common_read(off + 4, 4) << 32;
	if (field_size(off) != size) {
		violation("common cfg read at 0x%x of %d bytes", off, size);
		return 0;
	}
	struct vm_q *q = selq();
	switch (off) {
	case VCFG_DEVICE_FEATURE_SELECT: return vm.dfsel;
	case VCFG_DEVICE_FEATURE:
		if ((vm.status & (VSTAT_ACKNOWLEDGE | VSTAT_DRIVER)) != (VSTAT_ACKNOWLEDGE | VSTAT_DRIVER))
			violation("device features read before ACKNOWLEDGE|DRIVER (3.1.1 step 4)");
		return vm.dfsel < 2 ? (uint32_t)(vm.cfg.features >> (32 * vm.dfsel)) : 0;
	case VCFG_DRIVER_FEATURE_SELECT: return vm.drsel;
	case VCFG_DRIVER_FEATURE: return vm.drsel < 2 ? (uint32_t)(vm.drv_features >> (32 * vm.drsel)) : 0;
	case VCFG_MSIX_CONFIG: return vm.msix_config;
	case VCFG_NUM_QUEUES: return vm.num_queues;
	case VCFG_DEVICE_STATUS: return vm.status | (vm.needs_reset ? VSTAT_NEEDS_RESET : 0);
	case 0x15: return 0;    /* config_generation */
	case VCFG_QUEUE_SELECT: return vm.qsel;
	case VCFG_QUEUE_SIZE: return q ? q->size : 0;
	case VCFG_QUEUE_MSIX_VECTOR: return q ? q->msix : VIRTIO_MSI_NO_VECTOR;
	case VCFG_QUEUE_ENABLE: return q ? q->enabled : 0;
	case VCFG_QUEUE_NOTIFY_OFF: return q ? q->notify_off : 0;
	case VCFG_QUEUE_DESC: return q ? (uint32_t)q->desc : 0;
	case VCFG_QUEUE_DESC + 4: return q ? (uint32_t)(q->desc >> 32) : 0;
	case VCFG_QUEUE_DRIVER: return q ? (uint32_t)q->avail : 0;
	case VCFG_QUEUE_DRIVER + 4: return q ? (uint32_t)(q->avail >> 32) : 0;
	case VCFG_QUEUE_DEVICE: return q ? (uint32_t)q->used : 0;
	case VCFG_QUEUE_DEVICE + 4: return q ? (uint32_t)(q->used >> 32) : 0;
	}
	return 0;
}

static void set_half(uint64_t *a, bool hi, uint32_t v)
{
	*a = hi ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

static void queue_enable(struct vm_q *q)
{
	uint16_t s = q->size;
	if (!(vm.status & VSTAT_FEATURES_OK) || (vm.status & VSTAT_DRIVER_OK)) {
		violation("queue %d enabled outside FEATURES_OK..DRIVER_OK (3.1.1 step 7)", qindex(q));
		return;
	}
	if (!q->desc || (q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
		violation("queue %d: ring addresses missing or misaligned (2.7)", qindex(q));
		return;
	}
	if (!dma_ok(q->desc, 16u * s) || !dma_ok(q->avail, 6u + 2u * s) || !dma_ok(q->used, 6u + 8u * s)) {
		violation("queue %d: rings outside registered memory", qindex(q));
		return;
	}
	q->enabled = true;
	q->last_avail = q->used_idx = q->seen = 0;
	q->parked = false;
}

static void common_write(uint32_t off, int size, uint64_t v)
{
	if (size == 8 && (off == VCFG_QUEUE_DESC || off == VCFG_QUEUE_DRIVER || off == VCFG_QUEUE_DEVICE)) {
		common_write(off, 4, (uint32_t)v);
		common_write(off + 4, 4, v >> 32);
		return;
	}
	if (field_size(off) != size) {
		violation("common cfg write at 0x%x of %d bytes", off, size);
		return;
	}
	struct vm_q *q = selq();
	bool queue_field = off >= VCFG_QUEUE_SIZE && off != 0x38 && off != 0x3a;
	if (queue_field && !q) {
		violation("queue register 0x%x written with queue_select %u beyond num_queues", off, vm.qsel);
		return;
	}
	if (queue_field && (!(vm.status & VSTAT_FEATURES_OK) || q->enabled) && off != VCFG_QUEUE_MSIX_VECTOR) {
		violation("queue %u register 0x%x written %s", vm.qsel, off,
			  q->enabled ? "after the queue was enabled" : "before FEATURES_OK");
		return;
	}
	switch (off) {
	case VCFG_DEVICE_FEATURE_SELECT: vm.dfsel = (uint32_t)v; return;
	case VCFG_DRIVER_FEATURE_SELECT: vm.drsel = (uint32_t)v; return;
	case VCFG_DRIVER_FEATURE:
		if ((vm.status & (VSTAT_ACKNOWLEDGE | VSTAT_DRIVER)) != (VSTAT_ACKNOWLEDGE | VSTAT_DRIVER) ||
		    (vm.status & VSTAT_FEATURES_OK))
			violation("driver features written outside DRIVER..FEATURES_OK");
		else if (vm.drsel < 2)
			set_half(&vm.drv_features, vm.drsel == 1, (uint32_t)v);
		else if (v)
			vm.drv_features |= 1ull << 63;  /* a bit beyond 64: never offered, refused later */
		return;
	case VCFG_MSIX_CONFIG: vm.msix_config = (uint16_t)v; return;
	case VCFG_DEVICE_STATUS: status_write((uint8_t)v); return;
	case VCFG_QUEUE_SELECT: vm.qsel = (uint16_t)v; return;
	case VCFG_QUEUE_SIZE:
		if (!v || (v & (v - 1)) || v > vm.cfg.qmax)
			violation("queue %u size %u: not a power of two up to %u", vm.qsel, (unsigned)v, vm.cfg.qmax);
		else
			q->size = (uint16_t)v;
		return;
	case VCFG_QUEUE_MSIX_VECTOR: q->msix = (uint16_t)v; return;
	case VCFG_QUEUE_ENABLE:
		if (v != 1)
			violation("queue %u: queue_enable written %u (4.1.4.3.2)", vm.qsel, (unsigned)v);
		else
			queue_enable(q);
		return;
	case VCFG_QUEUE_DESC: case VCFG_QUEUE_DESC + 4: set_half(&q->desc, off & 4, (uint32_t)v); return;
	case VCFG_QUEUE_DRIVER: case VCFG_QUEUE_DRIVER + 4: set_half(&q->avail, off & 4, (uint32_t)v); return;
	case VCFG_QUEUE_DEVICE: case VCFG_QUEUE_DEVICE + 4: set_half(&q->used, off & 4, (uint32_t)v); return;
	}
	violation("write to read-only common cfg field 0x%x", off);
}

/* ---- device configuration (5.1.4) ---- */
static void devcfg(uint8_t *c)
{
	uint16_t st = vm.link ? VIRTIO_NET_S_LINK_UP : 0, mp = vm.cfg.zero_pairs ? 0 : vm.cfg.pairs, mtu = 1500;
	uint32_t speed = 10000;
	memset(c, 0, 0x100);
	memcpy(c + VNET_CFG_MAC, vm.mac, 6);
	memcpy(c + VNET_CFG_STATUS, &st, 2);
	memcpy(c + VNET_CFG_MAX_PAIRS, &mp, 2);
	memcpy(c + 10, &mtu, 2);
	memcpy(c + 12, &speed, 4);
	c[16] = 1;
	c[VNET_CFG_RSS_MAX_KEY] = vm.cfg.rss_key;
	memcpy(c + VNET_CFG_RSS_MAX_TABLE, &vm.cfg.rss_table, 2);
	memcpy(c + VNET_CFG_RSS_HASH_TYPES, &vm.cfg.hash_types, 4);
}

/* ---- the BAR ---- */
static uint64_t bar_read(void *ctx, uint64_t off, int size)
{
	(void)ctx;
	uint32_t common = vm.cfg.hostile == VM_H_COMMON_BEYOND_BAR ? (uint32_t)VM_BAR_SIZE - 0x20 : VM_COMMON;
	if (off >= common && off < common + 0x40)
		return common_read((uint32_t)(off - common), size);
	if (off >= VM_DEVCFG && off + (uint64_t)size <= VM_DEVCFG + 0x100) {
		uint8_t c[0x100];
		uint64_t v = 0;
		devcfg(c);
		memcpy(&v, c + (off - VM_DEVCFG), (size_t)size);
		return v;
	}
	if (off == VM_ISR && size == 1) {
		uint8_t v = vm.isr;
		vm.isr = 0;             /* read to clear (4.1.4.5) */
		return v;
	}
	vm.st.wild++;
	violation("read of %d bytes at BAR offset 0x%llx: no register there", size, (unsigned long long)off);
	return ~0ull;
}

static void bar_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	uint32_t common = vm.cfg.hostile == VM_H_COMMON_BEYOND_BAR ? (uint32_t)VM_BAR_SIZE - 0x20 : VM_COMMON;
	if (off >= common && off < common + 0x40) {
		common_write((uint32_t)(off - common), size, v);
		return;
	}
	if (off >= VM_NOTIFY && off < VM_NOTIFY + (uint64_t)vm.num_queues * vm.cfg.notify_mult + 2) {
		doorbell((uint32_t)(off - VM_NOTIFY), size, (uint16_t)v);
		return;
	}
	vm.st.wild++;
	violation("write of %d bytes at BAR offset 0x%llx: no writable register there", size, (unsigned long long)off);
}

/* Anything else in the device window: no device answers. */
static uint64_t trap_read(void *ctx, uint64_t off, int size)
{
	(void)ctx, (void)size;
	vm.st.wild++;
	violation("read from 0x%llx: outside every BAR", (unsigned long long)(off + 0xf0000000ull));
	return ~0ull;
}

static void trap_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx, (void)size, (void)v;
	vm.st.wild++;
	violation("write to 0x%llx: outside every BAR", (unsigned long long)(off + 0xf0000000ull));
}

/* ---- test hooks ---- */
void vm_used_idx_jump(uint16_t qi, uint16_t by)
{
	struct vm_q *q = &vm.q[qi];
	q->used_idx = (uint16_t)(q->used_idx + by);
	*u16p(q->used + 2) = q->used_idx;
}

void vm_put_used(uint16_t qi, uint32_t id, uint32_t len)
{
	put_used_raw(&vm.q[qi], id, len);
}

void vm_set_link(bool up)
{
	vm.link = up;
	vm.isr |= 2;
}

void vm_set_needs_reset(void)
{
	vm.needs_reset = true;
	vm.halted = true;
	vm.isr |= 2;
}

void vm_init(const struct vm_cfg *c)
{
	memset(&vm, 0, sizeof(vm));
	ndma = 0;
	vm.cfg = *c;
	if (!vm.cfg.features)
		vm.cfg.features = vm_default_features();
	if (!vm.cfg.pairs)
		vm.cfg.pairs = 4;
	if (!vm.cfg.qmax)
		vm.cfg.qmax = 256;
	if (!vm.cfg.rss_table)
		vm.cfg.rss_table = 128;
	if (!vm.cfg.rss_key)
		vm.cfg.rss_key = 40;
	if (!vm.cfg.hash_types)
		vm.cfg.hash_types = VIRTIO_NET_HASH_IPV4 | VIRTIO_NET_HASH_TCPV4 | VIRTIO_NET_HASH_UDPV4 |
				    VIRTIO_NET_HASH_IPV6 | VIRTIO_NET_HASH_TCPV6 | VIRTIO_NET_HASH_UDPV6 | 0x1c0;
	if (!vm.cfg.notify_mult)
		vm.cfg.notify_mult = 4;
	/* rx1, tx1, ..., then the control queue at 2N (N = 1 without MQ or with a lying 0). */
	uint16_t n = (vm.cfg.features & F(VIRTIO_NET_F_MQ)) && !vm.cfg.zero_pairs ? vm.cfg.pairs : 1;
	vm.ctrl_q = (uint16_t)(2 * n);
	vm.num_queues = (uint16_t)(2 * vm.cfg.pairs + 1);
	if (vm.ctrl_q + 1u > vm.num_queues)
		vm.num_queues = (uint16_t)(vm.ctrl_q + 1);
	for (uint16_t i = 0; i < vm.num_queues; i++)
		vm.q[i].notify_off = (uint16_t)(vm.num_queues - 1 - i);        /* not the identity */
	if (vm.cfg.hostile == VM_H_NOTIFY_OFF_BEYOND)
		vm.q[3].notify_off = (uint16_t)(vm.num_queues + 5);
	vm.link = true;
	memcpy(vm.mac, "\x52\x54\x00\x12\x34\x56", 6);
	reset();
	vm.st.resets = 0;
	pci_init();
	pci_set_cfg_ops(&fakepci_ops);
	memset(&vm_acpi, 0, sizeof(vm_acpi));
	vm_acpi.nmcfg = 1;
	vm_acpi.mcfg[0].base = fakepci.base;
	vm_acpi.mcfg[0].bus_end = 0;
	host_mmio_clear();
	host_mmio_add((struct host_mmio){ VM_BAR, VM_BAR_SIZE, bar_read, bar_write, NULL });
	host_mmio_add((struct host_mmio){ 0xf0000000ull, 0x10000000ull, trap_read, trap_write, NULL });
}
