/* memcpy, memmove and memset for the whole image, eight bytes at a time.
 *
 * The link needs gnu-efi's libefi (InitializeLib), whose init.o also defines memcpy and memset as
 * one-byte loops; libefi comes before newlib on the link line, so those were what every copy in
 * Pollux ran: lwIP's, the drivers' copies into TX buffers, every memset of a connection. The
 * Makefile links a copy of libefi with the two weakened ($(B)/libefi.a), and these win.
 *
 * Words are read unaligned only where the arch says that is cheap and safe (ARCH_UNALIGNED_WORDS,
 * arch_inline.h); elsewhere a source that stays misaligned once the destination is aligned is
 * copied four bytes, or one byte, at a time. */
#include <stddef.h>
#include <stdint.h>

#include "arch.h"

/* A compiler that sees these loops may turn them into calls to memcpy and memset themselves. */
#define STRING_FN __attribute__((optimize("no-tree-loop-distribute-patterns")))

typedef uint64_t __attribute__((may_alias)) word64;
typedef uint32_t __attribute__((may_alias)) word32;
#if ARCH_UNALIGNED_WORDS
typedef uint64_t __attribute__((may_alias, aligned(1))) src64;
#else
typedef uint64_t __attribute__((may_alias)) src64;
#endif

/* Ascending, each piece read before it is written: also right for an overlap with dst below src. */
static inline __attribute__((always_inline)) void copy_up(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 16) {
		for (; (uintptr_t)d & 7; n--)
			*d++ = *s++;
		if (ARCH_UNALIGNED_WORDS || !((uintptr_t)s & 7)) {
			for (; n >= 32; n -= 32, d += 32, s += 32) {
				uint64_t a = ((const src64 *)s)[0], b = ((const src64 *)s)[1];
				uint64_t c = ((const src64 *)s)[2], e = ((const src64 *)s)[3];
				((word64 *)d)[0] = a, ((word64 *)d)[1] = b, ((word64 *)d)[2] = c, ((word64 *)d)[3] = e;
			}
			for (; n >= 8; n -= 8, d += 8, s += 8)
				*(word64 *)d = *(const src64 *)s;
		} else if (!((uintptr_t)s & 3)) {
			for (; n >= 4; n -= 4, d += 4, s += 4)
				*(word32 *)d = *(const word32 *)s;
		}
	}
	while (n--)
		*d++ = *s++;
}

STRING_FN void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_up(dst, src, n);
	return dst;
}

/* Ours too, not newlib's: AArch64's memmove.S branches to memcpy with a conditional branch, which
 * cannot reach this file's memcpy across the image. An overlap with dst above src is copied
 * descending, word by word where copy_up would go by words. */
STRING_FN void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d - (uintptr_t)s >= n) {
		copy_up(d, s, n);
		return dst;
	}
	d += n, s += n;
	if (n >= 16) {
		for (; (uintptr_t)d & 7; n--)
			*--d = *--s;
		if (ARCH_UNALIGNED_WORDS || !((uintptr_t)s & 7)) {
			for (; n >= 8; n -= 8) {
				d -= 8, s -= 8;
				*(word64 *)d = *(const src64 *)s;
			}
		} else if (!((uintptr_t)s & 3)) {
			for (; n >= 4; n -= 4) {
				d -= 4, s -= 4;
				*(word32 *)d = *(const word32 *)s;
			}
		}
	}
	while (n--)
		*--d = *--s;
	return dst;
}

STRING_FN void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	if (n >= 16) {
		uint64_t w = 0x0101010101010101ull * (unsigned char)c;
		for (; (uintptr_t)d & 7; n--)
			*d++ = (unsigned char)c;
		for (; n >= 32; n -= 32, d += 32)
			((word64 *)d)[0] = w, ((word64 *)d)[1] = w, ((word64 *)d)[2] = w, ((word64 *)d)[3] = w;
		for (; n >= 8; n -= 8, d += 8)
			*(word64 *)d = w;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}
