/* The console's output ring: any core appends (one at a time), core 0 takes; losses are told in the text. */
#include <string.h>

#include "kernel.h"

void conbuf_init(struct conbuf *b, char *mem, uint32_t size)
{
	assert(size >= 64 && (size & (size - 1)) == 0);
	memset(b, 0, sizeof(*b));
	b->mem = mem;
	b->size = size;
}

uint32_t conbuf_used(const struct conbuf *b)
{
	/* The consumer's tail is read against our head (or the reverse): acquire pairs with the
	 * other side's release, so the bytes (or the free room) are seen before the counter. */
	return __atomic_load_n(&b->head, __ATOMIC_ACQUIRE) - __atomic_load_n(&b->tail, __ATOMIC_ACQUIRE);
}

/* Copy n bytes in at head (the caller checked the room), then publish them. */
static void store(struct conbuf *b, const char *s, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t at = b->head & (b->size - 1);
	uint32_t first = n < b->size - at ? n : b->size - at;
	memcpy(b->mem + at, s, first);
	memcpy(b->mem, s + first, n - first);
	b->mid_line = s[n - 1] != '\n';
	__atomic_store_n(&b->head, b->head + n, __ATOMIC_RELEASE);
}

static void lose(struct conbuf *b, uint64_t n)
{
	b->lost += n;
	b->lost_total += n;
}

uint32_t conbuf_put(struct conbuf *b, const char *s, uint32_t n)
{
	uint32_t room = b->size - conbuf_used(b);
	if (b->lost) {
		/* The note goes where the text went missing: nothing may be stored ahead of it. */
		char note[64];
		uint32_t len = (uint32_t)ksnprintf(note, sizeof(note), "%s[console: %llu bytes dropped]\n",
						   b->mid_line ? "\n" : "", (unsigned long long)b->lost);
		if (len > room) {
			lose(b, n);
			return 0;
		}
		store(b, note, len);
		room -= len;
		b->lost = 0;
	}
	uint32_t k = n < room ? n : room;
	store(b, s, k);
	if (k < n)
		lose(b, n - k);
	return k;
}

uint32_t conbuf_peek(const struct conbuf *b, const char **p)
{
	uint32_t used = conbuf_used(b);
	uint32_t at = b->tail & (b->size - 1);
	*p = b->mem + at;
	return used < b->size - at ? used : b->size - at;
}

void conbuf_take(struct conbuf *b, uint32_t n)
{
	assert(n <= conbuf_used(b));
	__atomic_store_n(&b->tail, b->tail + n, __ATOMIC_RELEASE);
}
