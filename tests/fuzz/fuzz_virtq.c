/* fuzz_virtq: drivers/virtq.c against a hostile device: the fuzzer writes the used ring (ids, lengths,
 * the index, flags, avail_event) between the driver's calls. Nothing may be completed twice or that was
 * never posted, no length may exceed what was posted, and no descriptor may be lost or leak
 * (libFuzzer, ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drivers/virtq.h"

#include "fz_in.h"

#define MAXQ 256

/* What the driver has in flight, by cookie (= head id + 1 + generation * MAXQ). */
struct model {
	uint64_t cookie[MAXQ];          /* 0: free */
	uint32_t wlen[MAXQ];            /* device-writable bytes posted */
	uint16_t ndesc[MAXQ];
	uint32_t used_desc;
	uint64_t gen;
};

static void check_free(const struct virtq *q, const struct model *m)
{
	if (q->nfree + m->used_desc != q->size)
		abort();                        /* a descriptor lost or made up */
	uint8_t seen[MAXQ] = { 0 };
	for (unsigned i = 0; i < q->nfree; i++) {
		uint16_t id = q->free[i];
		if (id >= q->size || seen[id]++ || m->cookie[id])
			abort();                /* out of range, twice on the stack, or still in flight */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint16_t qsize = (uint16_t)(1u << (fz_take(&in, 1) % 9));          /* 1..256 */
	size_t bytes = virtq_mem_size(qsize);
	void *mem = aligned_alloc(VIRTQ_MEM_ALIGN, ALIGN_UP(bytes, VIRTQ_MEM_ALIGN));
	struct virtq *q = malloc(sizeof(*q));
	static struct model m;
	memset(&m, 0, sizeof(m));
	virtq_init(q, qsize, mem, (uint64_t)(uintptr_t)mem);
	q->event_idx = fz_take(&in, 1) & 1;

	for (int step = 0; step < 200 && in.n; step++) {
		switch (fz_take(&in, 1) % 5) {
		case 0: {       /* post one buffer */
			uint32_t len = fz_take(&in, 2);
			bool w = len & 1;
			uint64_t cookie = ++m.gen;
			int id = virtq_add(q, 0x1000 * (uint64_t)(m.gen & 0xffff), len, w, cookie);
			if (id < 0) {
				if (q->nfree)
					abort();
				break;
			}
			if (id >= qsize || m.cookie[id])
				abort();
			m.cookie[id] = cookie;
			m.wlen[id] = w ? len : 0;
			m.ndesc[id] = 1;
			m.used_desc++;
			break;
		}
		case 1: {       /* post a chain: read-only pieces, then device-writable ones */
			struct virtq_seg seg[4];
			unsigned n = 1 + fz_take(&in, 1) % 4, ro = fz_take(&in, 1) % (n + 1);
			uint32_t wlen = 0;
			for (unsigned i = 0; i < n; i++) {
				seg[i].pa = 0x100000 + i;
				seg[i].len = fz_take(&in, 2);
				seg[i].device_writes = i >= ro;
				if (seg[i].device_writes)
					wlen += seg[i].len;
			}
			uint64_t cookie = ++m.gen;
			int id = virtq_add_chain(q, seg, n, cookie);
			if (id < 0) {
				if (q->nfree >= n)
					abort();
				break;
			}
			if (id >= qsize || m.cookie[id])
				abort();
			m.cookie[id] = cookie;
			m.wlen[id] = wlen;
			m.ndesc[id] = (uint16_t)n;
			m.used_desc += n;
			break;
		}
		case 2:         /* publish; the device's avail_event and flags are whatever it likes */
			*q->avail_event = (uint16_t)fz_take(&in, 2);
			q->used->flags = (uint16_t)fz_take(&in, 2);
			virtq_publish(q);
			virtq_need_notify(q);
			break;
		case 3: {       /* the device returns entries: any id, any length, any index step */
			unsigned k = fz_take(&in, 1) % 8;
			uint16_t idx = q->used->idx;
			for (unsigned i = 0; i < k; i++) {
				struct virtq_used_elem *e = &q->used->ring[(uint16_t)(idx + i) & q->mask];
				uint32_t pick = fz_take(&in, 1);
				/* mostly ids of buffers in flight, sometimes anything at all */
				e->id = pick & 0x80 ? fz_take(&in, 4) : pick % qsize;
				e->len = pick & 0x40 ? fz_take(&in, 4) : fz_take(&in, 2);
			}
			uint32_t jump = fz_take(&in, 1);
			q->used->idx = (uint16_t)(idx + (jump & 0x80 ? fz_take(&in, 2) : k));
			break;
		}
		default: {      /* the driver collects */
			struct virtq_done out[64];
			int max = 1 + (int)(fz_take(&in, 1) % 64);
			int n = virtq_poll_used(q, out, max);
			if (n < 0 || n > max)
				abort();
			for (int i = 0; i < n; i++) {
				int id = -1;
				for (int j = 0; j < qsize; j++)
					if (m.cookie[j] && m.cookie[j] == out[i].cookie)
						id = j;
				if (id < 0)
					abort();        /* completed twice, or never posted */
				if (out[i].len > m.wlen[id])
					abort();        /* longer than the buffer posted */
				m.cookie[id] = 0;
				m.used_desc -= m.ndesc[id];
			}
			break;
		}
		}
		check_free(q, &m);
	}
	free(q);
	free(mem);
	return 0;
}
