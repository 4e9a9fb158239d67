/* Host test of printf.c: every case is compared byte for byte with the host's vsnprintf, at every buffer size. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "test.h"

#define BUF 512

static int shown(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return (int)n;
}
#define GUARD 0x5a

/* Format fmt with the host and with kvsnprintf into equal guarded buffers, for sizes 0..len+2 and
 * a few larger ones, and compare the return value and every byte (including untouched tails). */
static void cmp_at(int line, const char *fmt, va_list ap)
{
	char want[BUF + 16], got[BUF + 16];
	va_list a;
	va_copy(a, ap);
	int full = vsnprintf(NULL, 0, fmt, a);
	va_end(a);
	size_t sizes[BUF + 8];
	size_t ns = 0;
	for (size_t s = 0; s <= (size_t)full + 2 && s <= BUF; s++)
		sizes[ns++] = s;
	sizes[ns++] = BUF;
	for (size_t i = 0; i < ns; i++) {
		size_t s = sizes[i];
		memset(want, GUARD, sizeof(want));
		memset(got, GUARD, sizeof(got));
		va_copy(a, ap);
		int rw = vsnprintf(want, s, fmt, a);
		va_end(a);
		va_copy(a, ap);
		int rg = kvsnprintf(got, s, fmt, a);
		va_end(a);
		test_checks++;
		if (rw != rg || memcmp(want, got, sizeof(want))) {
			test_failed++;
			fprintf(stderr, "  FAIL line %d: fmt \"%s\" size %zu: host %d \"%.*s\", ours %d \"%.*s\"\n", line,
				fmt, s, rw, shown(want, s), want, rg, shown(got, s), got);
			return;
		}
	}
}

__attribute__((format(printf, 2, 3))) static void cmp(int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cmp_at(line, fmt, ap);
	va_end(ap);
}
#define T(...) cmp(__LINE__, __VA_ARGS__)

/* The same without format checking: for cases GCC warns about although C defines them
 * (ignored flags, empty format) and for the generated formats. */
static void vcmp(int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cmp_at(line, fmt, ap);
	va_end(ap);
}
#define V(...) vcmp(__LINE__, __VA_ARGS__)

/* Our own behaviour where the host differs or C leaves it undefined: no format checking here. */
static int kfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void table(void)
{
	/* Plain text, %%, empty. */
	V("");
	T("hello, world");
	T("100%%");
	T("%%%%%d%%", 5);
	T("a%cb", 'x');
	T("[%c]", 0);           /* an embedded NUL still counts */

	/* int and unsigned, extremes. */
	T("%d %i %u", 0, -1, 0u);
	T("%d %d", INT_MAX, INT_MIN);
	T("%u %x %X %o", UINT_MAX, UINT_MAX, UINT_MAX, UINT_MAX);
	T("%x %X %o", 0xdeadbeefu, 0xcafef00du, 01234567u);
	T("%lld %lld", (long long)INT64_MIN, (long long)INT64_MAX);
	T("%llu %llx %llX %llo", (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX,
	  (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX);
	T("%ld %lu %lx", LONG_MIN, ULONG_MAX, (unsigned long)0x123456789abcdefUL);
	T("%li", -1234567890123L);

	/* hh and h truncate to char and short. */
	T("%hhd %hhd %hhd %hhu %hhx", (signed char)-128, (signed char)127, (signed char)-1, (unsigned char)255,
	  (unsigned char)0xab);
	T("%hd %hd %hu %hx %ho", (short)-32768, (short)32767, (unsigned short)65535, (unsigned short)0xbeef,
	  (unsigned short)0177777);
	{
		int big = 300, neg = -129, wide = 70000;
		/* Values wider than the modifier: the conversion keeps the low bits. */
		char a[64], b[64];
		snprintf(a, sizeof(a), "%d %d %d", (signed char)big, (signed char)neg, (short)wide);
		ksnprintf(b, sizeof(b), "%d %d %d", (signed char)big, (signed char)neg, (short)wide);
		CHECK_STR(a, b);
		kfmt(b, sizeof(b), "%hhd %hhu %hd %hu", big, neg, wide, -wide);
		snprintf(a, sizeof(a), "%d %u %d %u", (signed char)big, (unsigned char)neg, (short)wide,
			 (unsigned short)-wide);
		CHECK_STR(b, a);
	}

	/* z, j, t. */
	T("%zu %zx %zd", SIZE_MAX, (size_t)0x1000, (ptrdiff_t)-5);
	T("%jd %jd %ju %jx", INTMAX_MIN, INTMAX_MAX, UINTMAX_MAX, UINTMAX_MAX);
	T("%td %td %tx", PTRDIFF_MIN, PTRDIFF_MAX, (ptrdiff_t)0x7fff);
	T("%tu", (ptrdiff_t)-1);

	/* Width, '-' and '0'. */
	V("[%5d] [%-5d] [%05d] [%-05d]", 42, 42, 42, 42);
	T("[%5d] [%-5d] [%05d]", -42, -42, -42);
	T("[%1d] [%2d] [%020lld]", 12345, -7, (long long)INT64_MIN);
	T("[%08x] [%-8X] [%8o]", 0xbeefu, 0xbeefu, 8u);
	T("[%30llu]", (unsigned long long)UINT64_MAX);
	T("[%*d] [%*d] [%-*d]", 6, 1, -6, 2, 4, 3);
	T("[%0*d]", 7, -12);

	/* Precision for integers, also with width and the 0 flag (which a precision turns off). */
	T("[%.0d] [%.0u] [%.0x] [%.0o]", 0, 0u, 0u, 0u);
	T("[%5.0d] [%-5.0x]", 0, 0u);
	T("[%.3d] [%.3d] [%.10d]", 7, -7, INT_MIN);
	V("[%8.3d] [%-8.3d] [%08.3d] [%08.3x]", -7, 7, 7, 0xau);
	T("[%.20llu] [%.25llo]", (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX);
	T("[%.*d] [%.*d] [%.*x]", 4, 5, -1, 5, 0, 0u);
	T("[%.d]", 0);

	/* '+', ' ', '#'. */
	V("[%+d] [%+d] [% d] [% d] [%+ d]", 5, -5, 5, -5, 5);
	T("[%+05d] [% 05d] [%-+5d] [%+.3d]", 5, 5, 5, 5);
	T("[%#x] [%#X] [%#x] [%#o] [%#o]", 255u, 255u, 0u, 8u, 0u);
	T("[%#10x] [%#-10x] [%#010x] [%#.6x]", 0xabu, 0xabu, 0xabu, 0xabu);
	T("[%#.0o] [%#.3o] [%#5o] [%#llx]", 0u, 8u, 8u, (unsigned long long)UINT64_MAX);

	/* %c and %s with width and precision. */
	T("[%3c] [%-3c]", 'a', 'b');
	T("[%s] [%10s] [%-10s] [%.2s] [%5.1s] [%-5.3s]", "abc", "abc", "abc", "abc", "abc", "abc");
	T("[%.0s] [%.10s] [%s]", "abc", "abc", "");
	T("[%*s] [%-*s] [%.*s] [%.*s]", 6, "x", 6, "y", 2, "abcdef", -1, "abcdef");
	{
		const char *volatile np = NULL;         /* volatile: keep the compiler from judging it */
		T("[%s] [%10s] [%-8s]", np, np, np);
	}

	/* %p (the host prints non-NULL pointers as 0x + hex too). */
	T("%p", (void *)0x1234);
	T("[%20p] [%-20p]", (void *)0xffff800000001000ULL, (void *)0x10);
	T("%p", (void *)UINTPTR_MAX);

	/* Widths larger than any buffer: the return value still counts them. */
	T("[%300d]", 1);
	T("[%-300s]", "left");
	T("%s%s%s", "0123456789012345678901234567890123456789", "abcdefghijklmnopqrstuvwxyz", "!");

	/* Mixed, as the kernel uses it. */
	T("  core %-3u hwid=0x%-8llx %-8s loops=%llu\n", 3u, 0x100ULL, "running", 123456789ULL);
	T("mem: checksum=0x%016llx boot=0x%016llx %s\n", 0xfeedULL, 0ULL, "unchanged");
	T("assertion failed: %s (%s:%d)", "x == y", "kernel/mem.c", 42);
}

static void ours(void)
{
	char b[64];
	/* NULL pointer: glibc says "(nil)", we always print 0x + hex. */
	CHECK_EQ(ksnprintf(b, sizeof(b), "%p", (void *)0), 3);
	CHECK_STR(b, "0x0");
	/* size 0: nothing written, not even the NUL, and buf may be NULL. */
	memset(b, 'q', sizeof(b));
	CHECK_EQ(ksnprintf(b, 0, "%d", 12345), 5);
	CHECK_EQ(b[0], 'q');
	CHECK_EQ(ksnprintf(NULL, 0, "%s-%d", "abc", 7), 5);
	/* size 1: only the NUL. */
	CHECK_EQ(ksnprintf(b, 1, "xyz"), 3);
	CHECK_EQ(b[0], 0);
	CHECK_EQ(b[1], 'q');
	/* Unknown conversions and %n are printed, never acted on; a trailing % prints nothing. */
	CHECK_EQ(kfmt(b, sizeof(b), "a%yb"), 4);
	CHECK_STR(b, "a%yb");
	int n = 7;
	CHECK_EQ(kfmt(b, sizeof(b), "x%ny", &n), 4);
	CHECK_STR(b, "x%ny");
	CHECK_EQ(n, 7);
	CHECK_EQ(kfmt(b, sizeof(b), "%-5.2q|"), 7);
	CHECK_STR(b, "%-5.2q|");
	CHECK_EQ(kfmt(b, sizeof(b), "end%"), 3);
	CHECK_STR(b, "end");
	CHECK_EQ(kfmt(b, sizeof(b), "end%-08.3l"), 3);
	CHECK_STR(b, "end");
	/* Absurd widths saturate instead of overflowing an int. */
	CHECK_EQ(kfmt(b, sizeof(b), "%99999999999999999999d", 1), 100000000);
	CHECK_EQ(kfmt(b, sizeof(b), "%*d|", INT_MIN, 1), 100000001);
	CHECK_EQ(b[0], '1');
	CHECK_EQ(b[1], ' ');
	CHECK_EQ(kfmt(b, sizeof(b), "%.*s|", INT_MAX, "abc"), 4);
	CHECK_STR(b, "abc|");
}

/* Random integer conversions (flags, width, precision, length) against the host. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_ints(int count)
{
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
	static const char convs[] = "diuxXo";
	for (int i = 0; i < count; i++) {
		char fmt[64];
		int k = 0;
		char conv = convs[rnd() % 6];
		bool sign = conv == 'd' || conv == 'i';
		fmt[k++] = '[';
		fmt[k++] = '%';
		/* Only flags C defines for the conversion: '+'/' ' for signed, '#' for o/x/X. */
		if (rnd() % 3 == 0)
			fmt[k++] = '-';
		if (rnd() % 3 == 0)
			fmt[k++] = '0';
		if (sign && rnd() % 4 == 0)
			fmt[k++] = '+';
		if (sign && rnd() % 4 == 0)
			fmt[k++] = ' ';
		if (!sign && conv != 'u' && rnd() % 3 == 0)
			fmt[k++] = '#';
		if (rnd() % 2)
			k += sprintf(fmt + k, "%d", (int)(rnd() % 40));
		if (rnd() % 2)
			k += sprintf(fmt + k, ".%d", (int)(rnd() % 30));
		else if (rnd() % 8 == 0)
			fmt[k++] = '.';
		const char *l = lens[rnd() % 8];
		k += sprintf(fmt + k, "%s%c]", l, conv);
		/* Interesting values: extremes, small, and random bit widths. */
		uint64_t v;
		switch (rnd() % 6) {
		case 0: v = 0; break;
		case 1: v = (uint64_t)INT64_MIN; break;
		case 2: v = UINT64_MAX; break;
		case 3: v = rnd() % 20; break;
		case 4: v = -(rnd() % 20); break;
		default: v = rnd(); v >>= rnd() % 64; break;    /* two statements: a fixed order */
		}
		/* Pass the type the length modifier names, as the host's va_arg will read it. */
		if (!strcmp(l, "l"))
			vcmp(__LINE__, fmt, (long)v);
		else if (!strcmp(l, "ll"))
			vcmp(__LINE__, fmt, (long long)v);
		else if (!strcmp(l, "z"))
			vcmp(__LINE__, fmt, (size_t)v);
		else if (!strcmp(l, "j"))
			vcmp(__LINE__, fmt, (intmax_t)v);
		else if (!strcmp(l, "t"))
			vcmp(__LINE__, fmt, (ptrdiff_t)v);
		else
			vcmp(__LINE__, fmt, (int)v);
	}
}

/* kbprintf appends piece by piece and stops cleanly at the end of the buffer. */
static void appends(void)
{
	char buf[16];
	memset(buf, 'Z', sizeof(buf));
	struct kbuf b = { buf, 12, 0 };
	kbprintf(&b, "%s", "abc");
	kbprintf(&b, "-%d", 42);
	CHECK_STR(buf, "abc-42");
	CHECK_EQ(b.len, 6);
	for (int i = 0; i < 10; i++)
		kbprintf(&b, "%s", "xyz");
	CHECK_EQ(b.len, 11);
	CHECK_STR(buf, "abc-42xyzxy");
	CHECK_EQ(buf[12], 'Z');                 /* nothing written past size */
	struct kbuf z = { buf, 0, 0 };
	kbprintf(&z, "%s", "never");
	CHECK_EQ(z.len, 0);
}

TEST_MAIN("test_printf: proves kvsnprintf matches the host's vsnprintf for every supported conversion, flag, "
	  "width, precision and length (and 20000 random ones) at every buffer size, with C99 return values, and kbprintf never overruns",
	  table(); ours(); random_ints(20000); appends())
