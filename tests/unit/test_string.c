/* Host test of kernel/string.c: memcpy, memmove (overlapping either way) and memset, built as the
 * kernel builds them both ways (words read unaligned, as on x86-64; words read only where aligned,
 * as on AArch64), give byte for byte what the host's libc gives, for every length to 300 at every
 * pair of offsets in a word, and touch nothing outside the bytes they were given. */
#include <stddef.h>
#include <stdint.h>

#include "test.h"

void *u_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *u_memmove(void *dst, const void *src, size_t n);
void *u_memset(void *dst, int c, size_t n);
void *a_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *a_memmove(void *dst, const void *src, size_t n);
void *a_memset(void *dst, int c, size_t n);

#define MAXLEN 300
#define SLACK 32                /* guard bytes each side */
#define GUARD 0xc3

static _Alignas(64) unsigned char src[MAXLEN + 2 * SLACK], dst[MAXLEN + 2 * SLACK], want[MAXLEN + 2 * SLACK];
static unsigned wrong;          /* cases that differed (each also counted as a failed check once below) */

/* One case's verdict: fn returned its destination (dst + SLACK + doff) and left dst equal to want. */
static void verdict(const char *fn, const void *r, size_t doff, size_t len, long so_or_value)
{
	if (r == dst + SLACK + doff && !memcmp(dst, want, sizeof(dst)))
		return;
	if (wrong++ < 8)
		fprintf(stderr, "  %s: length %zu, destination offset %zu, source offset or value %ld differs\n", fn, len,
			doff, so_or_value);
}

static void copy_case(void *(*fn)(void *restrict, const void *restrict, size_t), size_t len, size_t so,
		      size_t doff)
{
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + len + so);
	memset(dst, GUARD, sizeof(dst));
	memset(want, GUARD, sizeof(want));
	memcpy(want + SLACK + doff, src + SLACK + so, len);
	verdict("memcpy", fn(dst + SLACK + doff, src + SLACK + so, len), doff, len, (long)so);
}

/* memmove within one buffer: source and destination up to 40 bytes apart either way, so most overlap. */
static void move_case(void *(*fn)(void *, const void *, size_t), size_t len, size_t so, size_t doff)
{
	for (size_t i = 0; i < sizeof(dst); i++)
		dst[i] = want[i] = (unsigned char)(i * 13 + len);
	memmove(want + SLACK + doff, want + SLACK + so, len);
	verdict("memmove", fn(dst + SLACK + doff, dst + SLACK + so, len), doff, len, (long)so);
}

static void set_case(void *(*fn)(void *, int, size_t), size_t len, size_t doff, int c)
{
	memset(dst, GUARD, sizeof(dst));
	memset(want, GUARD, sizeof(want));
	memset(want + SLACK + doff, c, len);
	verdict("memset", fn(dst + SLACK + doff, c, len), doff, len, c);
}

static void both(const char *what, void *(*cpy)(void *restrict, const void *restrict, size_t),
		 void *(*move)(void *, const void *, size_t), void *(*set)(void *, int, size_t))
{
	unsigned cases = 0;
	wrong = 0;
	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t so = 0; so < 16; so++)
			for (size_t doff = 0; doff < 16; doff++, cases++)
				copy_case(cpy, len, so, doff);
	for (size_t len = 0; len + 40 <= MAXLEN; len++)
		for (size_t so = 0; so <= 40; so++)
			for (size_t doff = 0; doff <= 40; doff++, cases++)
				move_case(move, len, so, doff);
	static const int values[] = { 0, 0xa5, 0x1ff, -1 };     /* only the low byte counts */
	for (size_t len = 0; len <= MAXLEN; len++)
		for (size_t doff = 0; doff < 16; doff++)
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++, cases++)
				set_case(set, len, doff, values[v]);
	printf("  %s: %u cases, %u differ from libc\n", what, cases, wrong);
	CHECK(cases > 500000);
	CHECK_EQ(wrong, 0);
}

TEST_MAIN("string: memcpy, memmove and memset, as x86-64 and AArch64 build them, equal libc's at every length to 300 and "
	  "every alignment, and write nothing outside their bytes",
	  both("unaligned words (x86-64)", u_memcpy, u_memmove, u_memset);
	  both("aligned words only (AArch64)", a_memcpy, a_memmove, a_memset))
