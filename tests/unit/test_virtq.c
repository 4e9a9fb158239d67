/* test_virtq: split virtqueue against a device model: layout, batching, notify rules, wrap, bad devices. */
#include "test.h"
#include "kernel.h"
#include "drivers/virtq.h"

/*
 * A fake physical address space: the rings and the buffers live in arena[], which the driver only
 * knows by physical address ARENA_PA + offset. The device model below reaches everything through
 * pa2va(), as a real device would through DMA, so a virtual address leaking into a ring is caught.
 */
#define ARENA_PA   0x40000000ull
#define ARENA_SIZE (2u << 20)
#define BUF_OFF    (1u << 20)           /* buffers start here */
#define BUF_SIZE   2048u
#define NBUF       64u
static uint8_t arena[ARENA_SIZE] __attribute__((aligned(4096)));

static void *pa2va(uint64_t pa, uint64_t len)
{
	if (pa < ARENA_PA || pa + len > ARENA_PA + ARENA_SIZE) {
		fprintf(stderr, "  device model: DMA outside the arena (pa 0x%llx len %llu)\n",
			(unsigned long long)pa, (unsigned long long)len);
		abort();
	}
	return arena + (pa - ARENA_PA);
}

static uint64_t buf_pa(uint32_t i) { return ARENA_PA + BUF_OFF + (uint64_t)i * BUF_SIZE; }

static uint32_t rng = 0x2545f491;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* ---- the device model: what QEMU's virtio-net does with a split queue ---- */
struct dev {
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	volatile uint16_t *used_event, *avail_event;
	uint16_t size;
	uint16_t last_avail;    /* next avail slot to read */
	uint16_t used_idx;      /* next used slot to fill */
	bool event_idx;
	bool asleep;            /* waits for a notification before looking at the ring again */
	uint16_t held[64];      /* fetched, not yet used */
	int nheld;
	uint64_t irqs;          /* used buffer notifications the device would have sent */
	uint64_t bad_avail;     /* avail entries naming a descriptor out of range */
	uint64_t bad_desc;      /* descriptors with flags we never set (NEXT) */
};

/* Only the physical addresses the transport would program, and the size, reach the device. */
static void dev_attach(struct dev *d, const struct virtq *q, bool event_idx)
{
	*d = (struct dev){ 0 };
	d->size = q->size;
	d->desc = pa2va(virtq_desc_pa(q), 16ull * q->size);
	d->avail = pa2va(virtq_avail_pa(q), 6 + 2ull * q->size);
	d->used = pa2va(virtq_used_pa(q), 6 + 8ull * q->size);
	d->used_event = &d->avail->ring[q->size];
	d->avail_event = (volatile uint16_t *)&d->used->ring[q->size];
	d->event_idx = event_idx;
}

static uint16_t dev_avail_idx(struct dev *d) { return *(volatile uint16_t *)&d->avail->idx; }

/* Take every published avail entry. With EVENT_IDX, ask to be notified of the next one (as QEMU
 * does on each pop). Returns how many were taken. */
static int dev_fetch(struct dev *d)
{
	uint16_t idx = dev_avail_idx(d);
	int n = 0;
	__sync_synchronize();
	while (d->last_avail != idx) {
		uint16_t id = d->avail->ring[d->last_avail & (d->size - 1)];
		d->last_avail++;
		if (id >= d->size || d->nheld == (int)ARRAY_SIZE(d->held)) {
			d->bad_avail++;
			continue;
		}
		d->held[d->nheld++] = id;
		n++;
	}
	if (d->event_idx)
		*d->avail_event = d->last_avail;
	return n;
}

/* Before sleeping, a device says where it wants to be woken, then looks once more (the mirror
 * image of virtq_need_notify's barrier). Returns true when it did go to sleep. */
static bool dev_try_sleep(struct dev *d)
{
	if (d->event_idx)
		*d->avail_event = d->last_avail;
	else
		d->used->flags = 0;             /* notifications welcome again */
	__sync_synchronize();
	if (dev_avail_idx(d) != d->last_avail) {
		if (!d->event_idx)
			d->used->flags = VIRTQ_USED_F_NO_NOTIFY;
		return false;
	}
	d->asleep = true;
	return true;
}

static void dev_wake(struct dev *d)
{
	d->asleep = false;
	if (!d->event_idx)
		d->used->flags = VIRTQ_USED_F_NO_NOTIFY;   /* busy: do not kick me */
}

/* Publish a used entry as given (a hostile device can say anything). */
static void dev_put_used(struct dev *d, uint32_t id, uint32_t len)
{
	uint16_t old = d->used_idx;
	d->used->ring[d->used_idx & (d->size - 1)] = (struct virtq_used_elem){ id, len };
	d->used_idx++;
	__sync_synchronize();
	*(volatile uint16_t *)&d->used->idx = d->used_idx;
	__sync_synchronize();
	if (d->event_idx ? virtq_need_event(*d->used_event, d->used_idx, old)
			 : !(d->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT))
		d->irqs++;
}

/* Complete held[k]. A writable buffer gets len bytes (seq + j), where seq is the first word the
 * driver left in it and len = 1 + seq % 1000 unless force_len; a readable one is checked and
 * reported with len 0. Returns the id. */
static uint16_t dev_complete(struct dev *d, int k, uint32_t force_len)
{
	uint16_t id = d->held[k];
	memmove(&d->held[k], &d->held[k + 1], (size_t)(d->nheld - k - 1) * sizeof(d->held[0]));
	d->nheld--;
	struct virtq_desc de = d->desc[id];
	uint8_t *b = pa2va(de.addr, de.len);
	uint32_t seq, len = 0;
	memcpy(&seq, b, 4);
	if (de.flags & VIRTQ_DESC_F_WRITE) {
		len = force_len ? force_len : 1 + seq % 1000;
		if (len > de.len)
			len = de.len;
		for (uint32_t j = 4; j < len; j++)
			b[j] = (uint8_t)(seq + j);
	}
	d->bad_desc += (de.flags & VIRTQ_DESC_F_NEXT) != 0;
	dev_put_used(d, id, len);
	return id;
}

/* Complete held[k] as a chain, the way a NIC reads a frame in pieces: gather the readable
 * descriptors into out (at most max bytes), then write fill bytes of 0xEE across the writable
 * ones. A chain longer than the queue or a readable piece after a writable one counts in bad_desc.
 * Returns the bytes gathered. */
static uint32_t dev_complete_chain(struct dev *d, int k, uint8_t *out, uint32_t max, uint32_t fill)
{
	uint16_t id = d->held[k], i = id;
	memmove(&d->held[k], &d->held[k + 1], (size_t)(d->nheld - k - 1) * sizeof(d->held[0]));
	d->nheld--;
	uint32_t got = 0, wrote = 0, n = 0;
	bool writing = false;
	for (;;) {
		struct virtq_desc de = d->desc[i];
		uint8_t *b = pa2va(de.addr, de.len);
		if (++n > d->size || (writing && !(de.flags & VIRTQ_DESC_F_WRITE))) {
			d->bad_desc++;
			break;
		}
		if (de.flags & VIRTQ_DESC_F_WRITE) {
			writing = true;
			uint32_t w = fill - wrote < de.len ? fill - wrote : de.len;
			memset(b, 0xEE, w);
			wrote += w;
		} else {
			uint32_t c = max - got < de.len ? max - got : de.len;
			memcpy(out + got, b, c);
			got += c;
		}
		if (!(de.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = de.next;
		if (i >= d->size) {
			d->bad_desc++;
			break;
		}
	}
	dev_put_used(d, id, wrote);
	return got;
}

/* ---- tests ---- */

/* Ring placement for every size: spec alignments, our 4096 for used, no overlap, inside the block. */
static void layout(void)
{
	CHECK_EQ(sizeof(struct virtq_desc), 16);
	CHECK_EQ(offsetof(struct virtq_desc, len), 8);
	CHECK_EQ(offsetof(struct virtq_desc, flags), 12);
	CHECK_EQ(offsetof(struct virtq_desc, next), 14);
	CHECK_EQ(offsetof(struct virtq_avail, ring), 4);
	CHECK_EQ(offsetof(struct virtq_used, ring), 4);
	CHECK_EQ(sizeof(struct virtq_used_elem), 8);
	/* 256: desc 4096 + avail 518, used at 8192 (2054), slots at 10304 (4096), free 512 */
	CHECK_EQ(virtq_mem_size(256), 10304 + 4096 + 512);
	for (uint32_t n = 1; n <= VIRTQ_MAX_SIZE; n <<= 1) {
		size_t sz = virtq_mem_size((uint16_t)n);
		uint8_t *mem = aligned_alloc(4096, ALIGN_UP(sz, 4096));
		memset(mem, 0xA5, sz);
		struct virtq q;
		const uint64_t pa = 0x123456000ull;
		virtq_init(&q, (uint16_t)n, mem, pa);
		uint64_t d = virtq_desc_pa(&q), a = virtq_avail_pa(&q), u = virtq_used_pa(&q);
		CHECK_EQ(d, pa);
		CHECK_EQ(a, d + 16 * n);                        /* 16-aligned: right after */
		CHECK_EQ(a % 2, 0);
		CHECK_EQ(u % 4096, 0);
		CHECK(u >= a + 6 + 2 * n);
		CHECK(u + 6 + 8 * n <= pa + sz);
		CHECK((uint8_t *)q.slot >= mem + (u - pa) + 6 + 8 * n);
		CHECK((uint8_t *)(q.free + n) <= mem + sz);
		CHECK((uint8_t *)q.avail == mem + (a - pa));
		CHECK((uint8_t *)q.used == mem + (u - pa));
		CHECK_EQ(q.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
		CHECK_EQ(q.avail->idx, 0);
		CHECK_EQ(q.used->idx, 0);
		CHECK_EQ(q.used->flags, 0);
		CHECK_EQ(*q.used_event, 0xFFFF);
		CHECK_EQ(*q.avail_event, 0);
		CHECK_EQ(virtq_free_count(&q), n);
		CHECK(!q.event_idx);
		free(mem);
	}
}

static struct virtq *new_queue(struct virtq *q, uint16_t n)
{
	memset(arena, 0xEE, BUF_OFF);           /* stale junk the driver must overwrite */
	CHECK(virtq_mem_size(n) <= BUF_OFF);
	memset(q, 0xAB, sizeof(*q));                    /* init must set every field */
	virtq_init(q, n, arena, ARENA_PA);
	return q;
}

/* Device fills RX buffers and reads TX ones; completions come back in order with their lengths. */
static void fifo(void)
{
	struct virtq q;
	struct dev d;
	struct virtq_done done[16];
	new_queue(&q, 8);
	dev_attach(&d, &q, false);
	for (uint32_t i = 0; i < 5; i++) {
		uint32_t seq = 100 + i;
		memcpy(pa2va(buf_pa(i), 4), &seq, 4);
		CHECK_EQ(virtq_add(&q, buf_pa(i), BUF_SIZE, i != 2, 0xC0DE0000 + i), i);
	}
	CHECK_EQ(q.desc[2].flags, 0);                   /* the one readable (TX) buffer */
	CHECK_EQ(q.desc[0].flags, VIRTQ_DESC_F_WRITE);
	CHECK_EQ(q.desc[4].addr, buf_pa(4));
	CHECK_EQ(q.desc[4].len, BUF_SIZE);
	CHECK_EQ(dev_fetch(&d), 0);                     /* nothing published yet */
	virtq_publish(&q);
	CHECK_EQ(dev_fetch(&d), 5);
	CHECK_EQ(virtq_poll_used(&q, done, 16), 0);
	while (d.nheld)
		dev_complete(&d, 0, 0);
	CHECK_EQ(virtq_poll_used(&q, done, 2), 2);      /* max respected, rest left for later */
	CHECK_EQ(virtq_poll_used(&q, done + 2, 16), 3);
	for (uint32_t i = 0; i < 5; i++) {
		uint32_t seq = 100 + i, want = i == 2 ? 0 : 1 + seq % 1000;
		CHECK_EQ(done[i].cookie, 0xC0DE0000 + i);
		CHECK_EQ(done[i].len, want);
		uint8_t *b = pa2va(buf_pa(i), BUF_SIZE), bad = 0;
		for (uint32_t j = 4; j < want; j++)
			bad |= b[j] != (uint8_t)(seq + j);
		CHECK_EQ(bad, 0);
	}
	CHECK_EQ(q.stats.completions, 5);
	CHECK_EQ(virtq_free_count(&q), 8);
	CHECK_EQ(virtq_poll_used(&q, done, 16), 0);
	CHECK_EQ(virtq_poll_used(&q, done, 0), 0);
	CHECK_EQ(*q.used_event, (uint16_t)(5 - 1));
	CHECK_EQ(d.irqs, 0);                            /* NO_INTERRUPT honoured */
	CHECK_EQ(d.bad_avail + d.bad_desc, 0);
}

/* Full queue: -1 and a counted drop each time, and room again after a completion. */
static void full(void)
{
	struct virtq q;
	struct dev d;
	struct virtq_done done[4];
	new_queue(&q, 4);
	dev_attach(&d, &q, false);
	for (uint32_t i = 0; i < 4; i++)
		CHECK(virtq_add(&q, buf_pa(i), 64, true, i) >= 0);
	CHECK_EQ(virtq_add(&q, buf_pa(4), 64, true, 4), -1);
	CHECK_EQ(virtq_add(&q, buf_pa(4), 64, true, 4), -1);
	CHECK_EQ(q.stats.add_full, 2);
	CHECK_EQ(virtq_free_count(&q), 0);
	virtq_publish(&q);
	CHECK_EQ(dev_fetch(&d), 4);
	CHECK_EQ(q.avail->idx, 4);
	dev_complete(&d, 1, 10);
	CHECK_EQ(virtq_poll_used(&q, done, 4), 1);
	CHECK_EQ(done[0].cookie, 1);
	CHECK_EQ(done[0].len, 10);
	CHECK_EQ(virtq_add(&q, buf_pa(4), 64, true, 4), 1);     /* the freed descriptor, reused */
	CHECK_EQ(virtq_add(&q, buf_pa(5), 64, true, 5), -1);
	CHECK_EQ(q.stats.add_full, 3);
}

/* Adds only fill slots; the index moves once per publish, and a publish with nothing new stores
 * nothing. */
static void batching(void)
{
	struct virtq q;
	struct dev d;
	new_queue(&q, 16);
	dev_attach(&d, &q, false);
	uint16_t seen[8];
	int nseen = 0;
	for (int batch = 0; batch < 4; batch++) {
		for (int i = 0; i < 3; i++) {
			virtq_add(&q, buf_pa((uint32_t)(batch * 3 + i)), 64, true, 0);
			CHECK_EQ(q.avail->idx, batch * 3);      /* unchanged until publish */
		}
		virtq_publish(&q);
		seen[nseen++] = q.avail->idx;
		CHECK_EQ(dev_fetch(&d), 3);
		while (d.nheld)
			dev_complete(&d, 0, 1);
		struct virtq_done done[8];
		CHECK_EQ(virtq_poll_used(&q, done, 8), 3);
	}
	for (int i = 0; i < nseen; i++)
		CHECK_EQ(seen[i], 3 * (i + 1));
	/* No store without new buffers: a value planted in the ring survives the publish. */
	q.avail->idx = 0xBEEF;
	virtq_publish(&q);
	CHECK_EQ(q.avail->idx, 0xBEEF);
	q.avail->idx = q.published;
	CHECK_EQ(q.published, 12);
}

/* vring_need_event against its definition (event in [old, new) modulo 2^16), wrap included. */
static void need_event_rule(void)
{
	static const struct { uint16_t event, new_idx, old; bool want; } cases[] = {
		{ 0, 1, 0, true },              /* device waits for slot 0, we added it */
		{ 1, 1, 0, false },             /* waits for slot 1, not there yet */
		{ 0, 0, 0, false },             /* nothing added */
		{ 5, 9, 3, true },
		{ 2, 9, 3, false },             /* already notified past that */
		{ 9, 9, 3, false },
		{ 8, 9, 3, true },
		{ 0xFFFF, 0x0001, 0xFFFE, true },       /* batch spans the 16-bit wrap */
		{ 0x0000, 0x0001, 0xFFFE, true },
		{ 0x0001, 0x0001, 0xFFFE, false },
		{ 0xFFFD, 0x0001, 0xFFFE, false },
		{ 0xFFFF, 0x0000, 0xFFFF, true },
		{ 0x0000, 0x0000, 0xFFFF, false },
		{ 0x7FFF, 0x8000, 0x7FFF, true },
		{ 0x1234, 0x1233, 0x1234, true },       /* 65535 added: everything but new itself */
		{ 0x1233, 0x1233, 0x1234, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_EQ(virtq_need_event(cases[i].event, cases[i].new_idx, cases[i].old), cases[i].want);

	static const uint16_t olds[] = { 0, 1, 0x7FFF, 0x8000, 0xFFF0, 0xFFFF };
	static const uint16_t adds[] = { 0, 1, 2, 7, 256, 32768, 65535 };
	for (size_t i = 0; i < ARRAY_SIZE(olds); i++)
		for (size_t j = 0; j < ARRAY_SIZE(adds); j++) {
			uint16_t old = olds[i], new_idx = (uint16_t)(old + adds[j]);
			uint32_t wrong = 0;
			for (uint32_t e = 0; e < 65536; e++) {
				bool in = (uint16_t)(e - old) < adds[j];
				wrong += virtq_need_event((uint16_t)e, new_idx, old) != in;
			}
			CHECK_EQ(wrong, 0);
		}
}

/* Run n buffers straight through (add, publish, device, poll), to move the indices. */
static void cycle(struct virtq *q, struct dev *d, uint32_t n)
{
	struct virtq_done done[8];
	while (n) {
		uint32_t k = n < 4 ? n : 4;
		for (uint32_t i = 0; i < k; i++)
			virtq_add(q, buf_pa(i), 64, false, i);
		virtq_publish(q);
		virtq_need_notify(q);
		dev_fetch(d);
		while (d->nheld)
			dev_complete(d, 0, 0);
		virtq_poll_used(q, done, 8);
		n -= k;
	}
}

/* The queue's notify decision with EVENT_IDX, including across the 16-bit wrap. */
static void notify_event_idx(void)
{
	struct virtq q;
	struct dev d;
	new_queue(&q, 8);
	dev_attach(&d, &q, true);
	q.event_idx = true;

	CHECK(!virtq_need_notify(&q));                  /* nothing published: no call, no count */
	CHECK_EQ(q.stats.notifies + q.stats.notifies_suppressed, 0);

	/* Device idle, asked for slot 0: the first batch notifies. */
	virtq_add(&q, buf_pa(0), 64, true, 0);
	virtq_add(&q, buf_pa(1), 64, true, 1);
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));
	CHECK_EQ(q.stats.notifies, 1);
	CHECK(!virtq_need_notify(&q));                  /* same batch: never twice */
	/* Device has not run yet (avail_event still 0): the next batch is already covered. */
	virtq_add(&q, buf_pa(2), 64, true, 2);
	virtq_publish(&q);
	CHECK(!virtq_need_notify(&q));
	CHECK_EQ(q.stats.notifies_suppressed, 1);
	/* Device catches up and asks for slot 3: the next add notifies again. */
	CHECK_EQ(dev_fetch(&d), 3);
	CHECK_EQ(*q.avail_event, 3);
	virtq_add(&q, buf_pa(3), 64, true, 3);
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));
	/* A device that asks for a later slot (e.g. "notify me after 2 more") is honoured exactly. */
	dev_fetch(&d);
	*d.avail_event = 5;
	virtq_add(&q, buf_pa(4), 64, true, 4);          /* slot 4 */
	virtq_publish(&q);
	CHECK(!virtq_need_notify(&q));
	virtq_add(&q, buf_pa(5), 64, true, 5);          /* slot 5 */
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));
	CHECK_EQ(q.stats.notifies, 3);
	CHECK_EQ(q.stats.notifies_suppressed, 2);
	dev_fetch(&d);
	while (d.nheld)
		dev_complete(&d, 0, 1);
	struct virtq_done done[8];
	CHECK_EQ(virtq_poll_used(&q, done, 8), 6);

	/* Move to just before the wrap, then batches straddling it against a table of avail_event. */
	cycle(&q, &d, 0xFFFD - 6);
	CHECK_EQ(q.published, 0xFFFD);
	CHECK_EQ(q.kicked, 0xFFFD);
	static const struct { uint16_t event; bool want; } wrap[] = {
		{ 0xFFFD, true }, { 0xFFFF, true }, { 0x0000, true }, { 0x0001, false },
		{ 0xFFFC, false }, { 0x8000, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(wrap); i++) {
		uint16_t old = q.published;
		for (int k = 0; k < 4; k++)             /* old .. old + 4 spans 0xFFFF -> 0 */
			virtq_add(&q, buf_pa((uint32_t)k), 64, true, (uint64_t)k);
		virtq_publish(&q);
		*d.avail_event = wrap[i].event;
		CHECK_EQ(virtq_need_notify(&q), wrap[i].want);
		CHECK_EQ(q.kicked, (uint16_t)(old + 4));
		dev_fetch(&d);
		while (d.nheld)
			dev_complete(&d, 0, 1);
		CHECK_EQ(virtq_poll_used(&q, done, 8), 4);
		/* Re-base so every row starts at 0xFFFD: run 65532 more through. */
		cycle(&q, &d, 65532);
		CHECK_EQ(q.published, 0xFFFD);
	}
	CHECK_EQ(d.irqs, 0);                            /* used_event kept out of reach throughout */
}

/* The decision covers what was published, not what was only added: a buffer added after the
 * publish is decided at its own publish, and the device is not left asleep with it. */
static void notify_published_only(void)
{
	struct virtq q;
	struct dev d;
	new_queue(&q, 8);
	dev_attach(&d, &q, true);
	q.event_idx = true;
	dev_try_sleep(&d);
	virtq_add(&q, buf_pa(0), 64, true, 0);
	virtq_publish(&q);
	virtq_add(&q, buf_pa(1), 64, true, 1);          /* not yet published */
	CHECK(virtq_need_notify(&q));
	CHECK_EQ(q.kicked, 1);
	CHECK_EQ(dev_fetch(&d), 1);                     /* the device sees one, asks for slot 1 */
	CHECK(dev_try_sleep(&d));
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));                   /* slot 1 wakes it */
	CHECK_EQ(q.stats.notifies, 2);
}

/* Without EVENT_IDX: notify unless the device set VIRTQ_USED_F_NO_NOTIFY; avail_event ignored. */
static void notify_flag(void)
{
	struct virtq q;
	struct dev d;
	new_queue(&q, 8);
	dev_attach(&d, &q, false);
	*d.avail_event = 0x4000;                        /* would suppress if it were (wrongly) used */
	virtq_add(&q, buf_pa(0), 64, true, 0);
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));
	d.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	virtq_add(&q, buf_pa(1), 64, true, 1);
	virtq_publish(&q);
	CHECK(!virtq_need_notify(&q));
	CHECK(!virtq_need_notify(&q));
	d.used->flags = 0;
	CHECK(!virtq_need_notify(&q));                  /* nothing new since the last decision */
	virtq_add(&q, buf_pa(2), 64, true, 2);
	virtq_publish(&q);
	CHECK(virtq_need_notify(&q));
	CHECK_EQ(q.stats.notifies, 2);
	CHECK_EQ(q.stats.notifies_suppressed, 1);
}

/* A hostile device: ids out of range, not in flight, repeated; lengths past the buffer. */
static void bad_device(void)
{
	struct virtq q;
	struct dev d;
	struct virtq_done done[16];
	new_queue(&q, 8);
	dev_attach(&d, &q, false);
	for (uint32_t i = 0; i < 4; i++)
		virtq_add(&q, buf_pa(i), 100 + i, i != 3, 50 + i);  /* ids 0..3, id 3 readable */
	virtq_publish(&q);
	dev_put_used(&d, 99, 10);                       /* out of range */
	dev_put_used(&d, 5, 10);                        /* in range, never posted */
	dev_put_used(&d, 0, 5000);                      /* too long: clamped to 100 */
	dev_put_used(&d, 0, 10);                        /* completed twice */
	dev_put_used(&d, 0xFFFFFFFF, 0);
	dev_put_used(&d, 0x10001, 0);                   /* would alias id 1 if truncated to 16 bits */
	dev_put_used(&d, 2, 102);                       /* exactly the buffer: fine */
	dev_put_used(&d, 3, 0xFFFFFFFF);                /* readable buffer: it can have written 0 */
	CHECK_EQ(virtq_poll_used(&q, done, 16), 3);
	CHECK_EQ(done[0].cookie, 50);
	CHECK_EQ(done[0].len, 100);
	CHECK(done[0].clamped);                         /* the caller learns the length was a lie */
	CHECK_EQ(done[1].cookie, 52);
	CHECK_EQ(done[1].len, 102);
	CHECK(!done[1].clamped);
	CHECK_EQ(done[2].cookie, 53);
	CHECK_EQ(done[2].len, 0);
	CHECK(done[2].clamped);
	CHECK_EQ(q.stats.bad_used, 5);
	CHECK_EQ(q.stats.bad_len, 2);
	CHECK_EQ(q.stats.completions, 3);
	CHECK_EQ(q.last_used, 8);
	/* The free stack is intact: exactly 7 adds fit (id 1 is still in flight). */
	CHECK_EQ(virtq_free_count(&q), 7);
	int n = 0;
	while (virtq_add(&q, buf_pa(8), 64, true, 0) >= 0)
		n++;
	CHECK_EQ(n, 7);
	uint32_t len = 7;
	CHECK(virtq_check_used(&q, 1, &len));           /* still in flight */
	CHECK_EQ(len, 7);
	len = 102;
	CHECK(virtq_check_used(&q, 1, &len));
	CHECK_EQ(len, 101);
	CHECK(!virtq_check_used(&q, 8, &len));
	CHECK(!virtq_check_used(&q, 0x80000000u, &len));
	CHECK_EQ(q.stats.bad_used, 7);
	CHECK_EQ(q.stats.bad_len, 3);
}

/* Chains: pieces gathered in order, write length bounded by the writable pieces, every descriptor
 * of a chain freed once on completion even if the device rewrites the links, all-or-nothing when
 * descriptors run short. */
static void chains(void)
{
	struct virtq q;
	struct dev d;
	struct virtq_done done[8];
	uint8_t out[4096];
	new_queue(&q, 8);
	dev_attach(&d, &q, false);
	for (uint32_t i = 0; i < 4; i++)
		memset(pa2va(buf_pa(i), BUF_SIZE), 'a' + (int)i, BUF_SIZE);
	/* A frame in three read-only pieces (header, headers, payload by reference). */
	struct virtq_seg tx[3] = { { buf_pa(0), 12, false }, { buf_pa(1), 54, false }, { buf_pa(2), 1000, false } };
	int h = virtq_add_chain(&q, tx, 3, 77);
	CHECK(h >= 0);
	CHECK_EQ(virtq_free_count(&q), 5);
	/* A control command: two readable pieces and a writable status byte. */
	struct virtq_seg ctl[3] = { { buf_pa(3), 2, false }, { buf_pa(3) + 64, 10, false }, { buf_pa(3) + 512, 1, true } };
	CHECK(virtq_add_chain(&q, ctl, 3, 78) >= 0);
	CHECK_EQ(virtq_free_count(&q), 2);
	struct virtq_seg big[3] = { tx[0], tx[1], tx[2] };
	CHECK_EQ(virtq_add_chain(&q, big, 3, 79), -1);  /* only two left: nothing taken */
	CHECK_EQ(virtq_free_count(&q), 2);
	CHECK_EQ(q.stats.add_full, 1);
	CHECK_EQ(virtq_add_chain(&q, big, 0, 79), -1);
	virtq_publish(&q);
	CHECK_EQ(dev_fetch(&d), 2);
	CHECK_EQ(d.held[0], (uint16_t)h);
	CHECK_EQ(dev_complete_chain(&d, 0, out, sizeof(out), 0), 1066);
	CHECK(out[0] == 'a' && out[11] == 'a' && out[12] == 'b' && out[65] == 'b' && out[66] == 'c' && out[1065] == 'c');
	/* The device claims 200 bytes written into the 1-byte status: clamped. */
	uint16_t cid = d.held[0];
	d.nheld = 0;
	dev_put_used(&d, cid, 200);
	d.desc[cid].next = (uint16_t)h;                 /* and rewrites a link after the fact */
	CHECK_EQ(virtq_poll_used(&q, done, 8), 2);
	CHECK_EQ(done[0].cookie, 77);
	CHECK_EQ(done[0].len, 0);
	CHECK_EQ(done[1].cookie, 78);
	CHECK_EQ(done[1].len, 1);
	CHECK_EQ(q.stats.bad_len, 1);
	CHECK_EQ(d.bad_desc, 0);
	/* The device repeats the chain's completion: skipped, nothing freed twice. */
	dev_put_used(&d, (uint32_t)h, 0);
	CHECK_EQ(virtq_poll_used(&q, done, 8), 0);
	CHECK_EQ(q.stats.bad_used, 1);
	/* All eight free, each once: eight single adds fit, the ninth does not. */
	CHECK_EQ(virtq_free_count(&q), 8);
	bool seen[8] = { 0 };
	for (int i = 0; i < 8; i++) {
		int id = virtq_add(&q, buf_pa(0), 64, true, 0);
		CHECK(id >= 0 && id < 8 && !seen[id]);
		if (id >= 0 && id < 8)
			seen[id] = true;
	}
	CHECK_EQ(virtq_add(&q, buf_pa(0), 64, true, 0), -1);
}

/* A chain as long as the queue, posted and completed over and over while indices wrap. */
static void chain_wrap(void)
{
	struct virtq q;
	struct dev d;
	struct virtq_done done[4];
	uint8_t out[BUF_SIZE * 8];
	new_queue(&q, 8);
	dev_attach(&d, &q, true);
	q.event_idx = true;
	for (uint32_t round = 0; round < 70000; round++) {
		unsigned n = 1 + round % 8;
		struct virtq_seg seg[8];
		for (unsigned i = 0; i < n; i++) {
			memset(pa2va(buf_pa(i), 16), (int)(round + i), 16);
			seg[i] = (struct virtq_seg){ buf_pa(i), 16, i + 1 == n && (round & 1) };
		}
		if (virtq_add_chain(&q, seg, n, round) < 0) {
			CHECK(0);
			break;
		}
		virtq_publish(&q);
		virtq_need_notify(&q);
		if (dev_fetch(&d) != 1) {
			CHECK(0);
			break;
		}
		uint32_t got = dev_complete_chain(&d, 0, out, sizeof(out), 16);
		uint32_t want = 16 * (n - (round & 1));
		if (got != want || (got && out[got - 1] != (uint8_t)(round + want / 16 - 1)))
			CHECK(0);
		if (virtq_poll_used(&q, done, 4) != 1 || done[0].cookie != round ||
		    done[0].len != ((round & 1) ? 16u : 0u) || virtq_free_count(&q) != 8) {
			CHECK(0);
			break;
		}
	}
	CHECK_EQ(d.bad_desc, 0);
	CHECK_EQ(q.stats.completions, 70000);
	CHECK_EQ(q.stats.bad_used + q.stats.bad_len, 0);
}

/*
 * The long run: more than 70000 buffers through a size-8 queue, so both 16-bit indices wrap.
 * The device fetches at random moments, sleeps and must be woken by a notification (a missed one
 * stalls the run), completes random subsets in random order with per-buffer lengths and data; the
 * driver polls with random max. Every buffer comes back exactly once with its own cookie, length
 * and data; with fifo the order is the posting order.
 */
static void long_run(bool event_idx, bool fifo_order)
{
	enum { N = 70001 };
	static uint8_t seen[N];
	struct virtq q;
	struct dev d;
	struct virtq_done done[8];
	uint32_t bufs[8], nbufs = 8;
	uint32_t posted = 0, got = 0, next_fifo = 0, bad = 0, stalls = 0;
	uint64_t calls = 0;

	memset(seen, 0, sizeof(seen));
	new_queue(&q, 8);
	dev_attach(&d, &q, event_idx);
	q.event_idx = event_idx;
	for (uint32_t i = 0; i < 8; i++)
		bufs[i] = i;
	d.asleep = true;
	dev_try_sleep(&d);

	while (got < N) {
		if (++stalls > 1000) {
			fprintf(stderr, "  long_run: no progress (lost notification?) at %u\n", got);
			CHECK(0);
			break;
		}
		/* Driver: post a random batch (sometimes more than fits), publish, maybe notify. */
		uint32_t want = rnd() % 10;
		for (uint32_t i = 0; i < want && posted < N; i++) {
			if (nbufs == 0) {
				CHECK_EQ(virtq_add(&q, buf_pa(0), 1, true, ~0ull), -1);
				break;
			}
			uint32_t b = bufs[--nbufs];
			memcpy(pa2va(buf_pa(b), 4), &posted, 4);
			uint64_t cookie = (uint64_t)posted << 8 | b;
			if (virtq_add(&q, buf_pa(b), BUF_SIZE, true, cookie) < 0) {
				bad++;
				break;
			}
			posted++;
		}
		if (rnd() % 4) {        /* sometimes hold the batch back and grow it */
			virtq_publish(&q);
			if (virtq_need_notify(&q)) {
				calls++;
				if (d.asleep)
					dev_wake(&d);
			}
		}
		/* Device: when awake, fetch now and then, complete some, maybe go to sleep. */
		if (!d.asleep) {
			if (rnd() % 3)
				dev_fetch(&d);
			int k = d.nheld ? (int)(rnd() % (uint32_t)(d.nheld + 1)) : 0;
			for (int i = 0; i < k; i++)
				dev_complete(&d, fifo_order ? 0 : (int)(rnd() % (uint32_t)d.nheld), 0);
			if (d.nheld == 0 && rnd() % 2 && dev_fetch(&d) == 0)
				dev_try_sleep(&d);
		}
		/* Driver: collect. */
		int n = virtq_poll_used(&q, done, 1 + (int)(rnd() % 8));
		for (int i = 0; i < n; i++) {
			uint32_t seq = (uint32_t)(done[i].cookie >> 8), b = (uint32_t)(done[i].cookie & 0xFF);
			uint8_t *p = pa2va(buf_pa(b), BUF_SIZE);
			uint32_t first;
			memcpy(&first, p, 4);
			bad += seq >= N || seen[seq] || first != seq || done[i].len != 1 + seq % 1000;
			for (uint32_t j = 4; j < done[i].len; j++)
				bad += p[j] != (uint8_t)(seq + j);
			if (seq < N)
				seen[seq] = 1;
			if (fifo_order)
				bad += seq != next_fifo++;
			bufs[nbufs++] = b;
			got++;
			stalls = 0;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(got, N);
	CHECK_EQ(q.stats.completions, N);
	CHECK_EQ(q.stats.bad_used + q.stats.bad_len, 0);
	CHECK_EQ(q.last_used, N % 65536);               /* wrapped */
	CHECK_EQ(d.used_idx, N % 65536);
	CHECK_EQ(q.stats.notifies, calls);
	CHECK(q.stats.notifies > 0 && q.stats.notifies_suppressed > 0);
	CHECK(q.stats.add_full > 0);
	CHECK_EQ(virtq_free_count(&q), 8);
	CHECK_EQ(d.irqs, 0);
	CHECK_EQ(d.bad_avail + d.bad_desc, 0);
}

TEST_MAIN("test_virtq: proves the split virtqueue lays out its rings per virtio 1.2 2.7, batches "
	  "publishes, notifies exactly per EVENT_IDX / NO_NOTIFY across 16-bit wrap, returns every buffer "
	  "once with its cookie in device order over 70000+ buffers, survives bad used entries, and posts and frees chains "
	  "exactly", {
	layout();
	fifo();
	full();
	batching();
	need_event_rule();
	notify_event_idx();
	notify_published_only();
	notify_flag();
	bad_device();
	chains();
	chain_wrap();
	long_run(true, true);
	long_run(true, false);
	long_run(false, true);
	long_run(false, false);
})
