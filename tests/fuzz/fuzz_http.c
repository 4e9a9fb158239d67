/* fuzz_http: net/http.c on any bytes: no overrun or undefined behaviour, and the same answers however
 * the input is split and however often the writer falls short (libFuzzer, ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "net/http.h"

struct out {
	uint8_t *buf;
	size_t len, cap;
	size_t budget;          /* bytes still accepted; SIZE_MAX: unlimited */
	bool whole;             /* take a write whole or not at all, like tcp_write */
};

static int out_write(void *ctx, const void *p, size_t n, bool copy)
{
	struct out *o = ctx;
	(void)copy;
	if (n == 0)
		abort();                        /* the responder never writes nothing */
	size_t take = n < o->budget ? n : o->budget;
	if (o->whole && take < n)
		take = 0;
	if (take == 0)
		return -1;
	if (o->len + take > o->cap) {
		o->cap = (o->len + take) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (!o->buf)
			abort();
	}
	memcpy(o->buf + o->len, p, take);
	o->len += take;
	if (o->budget != SIZE_MAX)
		o->budget -= take;
	return (int)take;
}

/* Feed in[0..n) in pieces of `piece` bytes, refilling the writer by `step` whenever it fell
 * short. Returns true when the responder closed the connection. */
static bool feed(struct http_conn *c, struct out *o, const uint8_t *in, size_t n, size_t piece, size_t step)
{
	struct http_stats st = { 0 };
	struct http_out ho = { o, out_write, &st };
	size_t at = 0;
	while (at < n || http_pending(c)) {
		size_t end = at + piece < n ? at + piece : n;
		for (int spins = 0;; spins++) {
			/* A copy of exactly the piece: reading past it is an overrun ASan reports. */
			size_t len = end - at;
			uint8_t *p = malloc(len ? len : 1);
			memcpy(p, in + at, len);
			int r = http_input(c, (const char *)p, len, &ho);
			free(p);
			if (r == HTTP_CLOSE)
				return true;
			if (r < 0 || (size_t)r > len)
				abort();
			at += (size_t)r;
			if (at == end && !http_pending(c))
				break;
			if (spins > 1000000)
				abort();                /* no progress: a hang */
			o->budget += step;
		}
	}
	if (st.requests != c->stats.requests)
		abort();
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		http_init();
		ready = true;
	}
	if (size < 3)
		return 0;
	size_t piece = 1 + data[0] % 64, step = 1 + data[1] * 3u;
	bool whole = data[2] & 1;
	data += 3;
	size -= 3;

	struct http_conn *c = malloc(sizeof(*c));
	struct out a = { 0 }, b = { 0 };
	a.budget = SIZE_MAX;
	http_conn_init(c);
	bool ca = feed(c, &a, data, size, size ? size : 1, 0);
	http_conn_init(c);
	b.budget = 0;
	b.whole = whole;
	bool cb = feed(c, &b, data, size, piece, step);
	if (ca != cb || a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len)))
		abort();                        /* the answer depends on how the bytes arrived */
	if (a.len && (a.len < 12 || memcmp(a.buf, "HTTP/1.1 ", 9)))
		abort();
	free(a.buf);
	free(b.buf);
	free(c);
	return 0;
}
