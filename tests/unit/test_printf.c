/* test_printf: kvsnprintf matches the C library's snprintf on every format the kernel uses. */
#include <stddef.h>
#include <stdint.h>
#include "test.h"
#include "kernel.h"

static char want[256], got[256];

#define SAME(size, ...) do { \
	int w = snprintf(want, size, __VA_ARGS__); \
	int g = ksnprintf(got, size, __VA_ARGS__); \
	CHECK_EQ(g, w); \
	if (size) CHECK_STR(got, want); \
} while (0)

static void formats(void)
{
	SAME(sizeof(got), "plain text");
	SAME(sizeof(got), "%d %i %u", 0, -1, 4000000000u);
	SAME(sizeof(got), "%d|%5d|%-5d|%05d|%.3d|%8.3d", 42, -42, 42, -42, 7, -7);
	SAME(sizeof(got), "%x %X %o %#x", 0xdeadbeefu, 0xabcu, 8u, 0u);
	SAME(sizeof(got), "%lld %llu %llx", (long long)INT64_MIN, (unsigned long long)UINT64_MAX, 0x123456789abcdefull);
	SAME(sizeof(got), "%ld %lu %zu %td", -5L, 5UL, (size_t)77, (ptrdiff_t)-77);
	SAME(sizeof(got), "%hd %hu %hhd %hhu", (short)-3, (unsigned short)65535, (signed char)-128, (unsigned char)255);
	SAME(sizeof(got), "%016llx|%-8s|%8s|%.2s|%c|%-3c|%%", 0xabcull, "ab", "cd", "xyz", 'q', 'r');
	SAME(sizeof(got), "%*d|%-*d|%.*s", 6, 12, 6, 12, 3, "abcdef");
	SAME(sizeof(got), "%s", "");
	SAME(sizeof(got), "%.0d|%.0x", 0, 0);       /* precision 0 and value 0: no digits */
	SAME(sizeof(got), "%p", (void *)0x1234);
	/* Truncation: return the full length, write a NUL-terminated prefix. */
	SAME(5, "%s", "abcdefgh");
	SAME(1, "%d", 12345);
	SAME(8, "%20s", "x");
	int g = ksnprintf(NULL, 0, "%d", 123456);
	CHECK_EQ(g, 6);
	const char *volatile nul = NULL;
	CHECK_EQ(ksnprintf(got, sizeof(got), "%s", nul), 6);
	CHECK_STR(got, "(null)");
}

TEST_MAIN("test_printf: proves the kernel formatter agrees with snprintf, including truncation",
	  formats())
