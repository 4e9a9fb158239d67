/* Host test of conbuf.c: the console's output ring across its wrap, when full (drop count and the note that reports it), drained in pieces, and streamed between two threads. */
#include <pthread.h>
#include <sched.h>

#include "kernel.h"
#include "test.h"

/* Take up to max bytes (in as many peeks as the wrap needs) and append them to out. */
static uint32_t drain(struct conbuf *b, char *out, uint32_t max)
{
	uint32_t got = 0;
	size_t len = strlen(out);
	while (got < max) {
		const char *p;
		uint32_t n = conbuf_peek(b, &p);
		if (n == 0)
			break;
		if (n > max - got)
			n = max - got;
		memcpy(out + len + got, p, n);
		conbuf_take(b, n);
		got += n;
	}
	out[len + got] = '\0';
	return got;
}

static void basic(void)
{
	static char mem[64];
	struct conbuf b;
	conbuf_init(&b, mem, sizeof(mem));
	char out[256] = "";
	CHECK_EQ(conbuf_used(&b), 0);
	const char *p;
	CHECK_EQ(conbuf_peek(&b, &p), 0);
	CHECK_EQ(conbuf_put(&b, "hello\n", 6), 6);
	CHECK_EQ(conbuf_put(&b, "", 0), 0);
	CHECK_EQ(conbuf_used(&b), 6);
	/* A partial drain leaves the rest in order. */
	CHECK_EQ(drain(&b, out, 2), 2);
	CHECK_STR(out, "he");
	CHECK_EQ(conbuf_put(&b, "world\n", 6), 6);
	CHECK_EQ(drain(&b, out, 100), 10);
	CHECK_STR(out, "hello\nworld\n");
	CHECK_EQ(conbuf_used(&b), 0);
	CHECK_EQ(b.lost_total, 0);
}

static void wrap(void)
{
	static char mem[64];
	struct conbuf b;
	conbuf_init(&b, mem, sizeof(mem));
	char out[256] = "", fill[64];
	memset(fill, 'f', sizeof(fill));
	CHECK_EQ(conbuf_put(&b, fill, 50), 50);
	CHECK_EQ(drain(&b, out, 50), 50);
	/* 30 bytes from offset 50: 14 before the end, 16 after the wrap. */
	const char *text = "0123456789abcdefghijklmnopqrst";
	CHECK_EQ(conbuf_put(&b, text, 30), 30);
	const char *p;
	CHECK_EQ(conbuf_peek(&b, &p), 14);
	CHECK(p == mem + 50);
	CHECK(memcmp(p, text, 14) == 0);
	conbuf_take(&b, 14);
	CHECK_EQ(conbuf_peek(&b, &p), 16);
	CHECK(p == mem);
	CHECK(memcmp(p, text + 14, 16) == 0);
	conbuf_take(&b, 16);
	CHECK_EQ(conbuf_used(&b), 0);

	/* The counters run freely and wrap at 2^32 without a hitch. */
	b.head = b.tail = 0xfffffff0u;
	out[0] = '\0';
	CHECK_EQ(conbuf_put(&b, text, 30), 30);
	CHECK_EQ(conbuf_used(&b), 30);
	CHECK(b.head < b.tail);
	CHECK_EQ(drain(&b, out, 100), 30);
	CHECK_STR(out, text);
}

static void full(void)
{
	static char mem[64];
	struct conbuf b;
	conbuf_init(&b, mem, sizeof(mem));
	char out[512] = "", big[100];
	for (int i = 0; i < 100; i++)
		big[i] = (char)('a' + i % 26);

	/* Exactly full: nothing lost. */
	CHECK_EQ(conbuf_put(&b, big, 64), 64);
	CHECK_EQ(b.lost_total, 0);
	CHECK_EQ(conbuf_put(&b, "x", 1), 0);
	CHECK_EQ(b.lost, 1);
	CHECK_EQ(drain(&b, out, 64), 64);

	/* The next text gets the note first, on a line of its own (the last byte was mid-line);
	 * of big, what fits after it. */
	out[0] = '\0';
	CHECK_EQ(conbuf_put(&b, big, 100), 64 - 28);
	CHECK_EQ(b.lost, 64);
	CHECK_EQ(drain(&b, out, 100), 64);
	CHECK(strncmp(out, "\n[console: 1 bytes dropped]\n", 28) == 0);
	CHECK(memcmp(out + 28, big, 36) == 0);

	/* Again; then, while even the note does not fit, new text is dropped whole and counted. */
	CHECK_EQ(conbuf_put(&b, big, 60), 64 - 29);
	CHECK_EQ(b.lost, 25);
	CHECK_EQ(conbuf_put(&b, "more\n", 5), 0);
	CHECK_EQ(b.lost, 30);
	out[0] = '\0';
	CHECK_EQ(drain(&b, out, 100), 64);
	CHECK(strncmp(out, "\n[console: 64 bytes dropped]\n", 29) == 0);
	/* With nothing new to carry it, an empty put stores the pending note. */
	CHECK_EQ(conbuf_put(&b, "", 0), 0);
	out[0] = '\0';
	CHECK_EQ(drain(&b, out, 100), 29);
	CHECK_STR(out, "\n[console: 30 bytes dropped]\n");
	CHECK_EQ(b.lost, 0);
	CHECK_EQ(b.lost_total, 1 + 64 + 30);
	CHECK_EQ(conbuf_put(&b, "", 0), 0);     /* nothing pending: nothing stored */
	CHECK_EQ(conbuf_used(&b), 0);
	/* And then text flows again as usual. */
	CHECK_EQ(conbuf_put(&b, "ok\n", 3), 3);
	out[0] = '\0';
	drain(&b, out, 100);
	CHECK_STR(out, "ok\n");
}

/* Two threads: numbered lines in, everything out; whatever is lost is exactly what the notes say. */
#define STREAM_LINES 50000
static struct conbuf sb;
static volatile int producer_done, consumer_hold;

static void *producer(void *arg)
{
	(void)arg;
	char line[32];
	for (int i = 0; i < STREAM_LINES; i++) {
		int n = snprintf(line, sizeof(line), "L%07d\n", i);
		/* Mostly wait for room (note and line fit); in every thousand, a burst of 100 lines
		 * while the consumer holds off overflows the ring: both paths get exercised. */
		if (i % 1000 < 900)
			while (sb.size - conbuf_used(&sb) < 48)
				sched_yield();
		__atomic_store_n(&consumer_hold, i % 1000 >= 900 && i % 1000 < 999, __ATOMIC_RELEASE);
		conbuf_put(&sb, line, (uint32_t)n);
	}
	__atomic_store_n(&producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void stream(void)
{
	static char mem[256];
	conbuf_init(&sb, mem, sizeof(mem));
	pthread_t t;
	pthread_create(&t, NULL, producer, NULL);
	size_t cap = (size_t)STREAM_LINES * 10 + 1;
	char *out = malloc(cap * 2);
	size_t len = 0;
	for (;;) {
		int done = __atomic_load_n(&producer_done, __ATOMIC_ACQUIRE);
		const char *p;
		uint32_t n;
		while (!__atomic_load_n(&consumer_hold, __ATOMIC_ACQUIRE) && (n = conbuf_peek(&sb, &p)) > 0) {
			uint32_t k = n > 7 ? 7 : n;     /* odd pieces, like a UART's budget */
			memcpy(out + len, p, k);
			len += k;
			conbuf_take(&sb, k);
		}
		if (done)
			break;
	}
	pthread_join(t, NULL);
	conbuf_put(&sb, "", 0);                 /* a last pending note */
	const char *p;
	uint32_t n;
	while ((n = conbuf_peek(&sb, &p)) > 0) {
		memcpy(out + len, p, n);
		len += n;
		conbuf_take(&sb, n);
	}
	out[len] = '\0';

	/* Walk the lines: each is a whole "L%07d", a note, or a line cut by a full ring right before
	 * a note. A line cut just before its own newline reads like a whole one whose newline is the
	 * note's line break: such a line, right before a note, may have lost one byte more. */
	uint64_t text = 0, noted = 0;
	long last = -1;
	int bad = 0, notes = 0, maybe_cut = 0;
	for (char *s = out; *s;) {
		char *e = strchr(s, '\n');
		if (!e) {
			bad++;
			break;
		}
		*e = '\0';
		bool before_note = e[1] == '[';
		unsigned long long k;
		if (sscanf(s, "[console: %llu bytes dropped]", &k) == 1) {
			noted += k;
			notes++;
		} else if (s[0] == 'L' && strlen(s) == 8) {
			long v = atol(s + 1);
			if (v <= last)
				bad++;
			last = v;
			text += 9;
			maybe_cut += before_note;
		} else if (s[0] == 'L' && strlen(s) < 8 && before_note) {
			text += strlen(s);
		} else {
			bad++;
		}
		s = e + 1;
	}
	free(out);
	CHECK_EQ(bad, 0);
	CHECK(text + noted >= (uint64_t)STREAM_LINES * 9 && text + noted <= (uint64_t)STREAM_LINES * 9 + maybe_cut);
	CHECK_EQ(noted, sb.lost_total);
	CHECK_EQ(sb.lost, 0);
	CHECK(notes >= STREAM_LINES / 1000);    /* each burst overflowed the 256-byte ring */
	printf("stream: %llu bytes through, %llu dropped in %d notes\n", (unsigned long long)text,
	       (unsigned long long)noted, notes);
}

TEST_MAIN("test_conbuf: proves the console ring keeps order across its wrap and the 2^32 counter wrap, "
	  "drains in pieces, drops and counts what does not fit, reports the loss in the text before "
	  "anything newer, and streams exactly between two threads",
	  basic(); wrap(); full(); stream())
