/* kvsnprintf: a small freestanding printf formatter (no floating point, no allocation). */
#include "kernel.h"

struct out {
	char *buf;
	size_t size;
	size_t len;     /* what would have been written: C99 snprintf semantics */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static size_t slen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

/* Format one integer: sign/prefix, precision zeros, width padding. */
static void num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper, int width, int prec,
		bool left, bool zero, const char *prefix)
{
	char tmp[24];
	int n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (n == 0 && prec != 0)
		tmp[n++] = '0';
	int zeros = prec > n ? prec - n : 0;
	int plen = (int)slen(prefix, 4) + (neg ? 1 : 0);
	int total = plen + zeros + n;
	if (prec >= 0)
		zero = false;   /* a precision turns off the 0 flag (C11 7.21.6.1) */
	if (!left && !zero)
		pad(o, ' ', width - total);
	if (neg)
		put(o, '-');
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	if (!left && zero)
		pad(o, '0', width - total);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (left)
		pad(o, ' ', width - total);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f++;
		bool left = false, zero = false;
		for (;; f++) {
			if (*f == '-')
				left = true;
			else if (*f == '0')
				zero = true;
			else if (*f != ' ' && *f != '+' && *f != '#')
				break;
		}
		int width = 0, prec = -1;
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				width = width * 10 + (*f++ - '0');
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9')
					prec = prec * 10 + (*f++ - '0');
			}
		}
		int lng = 0;    /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t/intmax/ptrdiff */
		for (;; f++) {
			if (*f == 'l')
				lng = lng == 1 ? 2 : 1;
			else if (*f == 'h')
				lng = lng == -1 ? -2 : -1;
			else if (*f == 'z' || *f == 'j' || *f == 't')
				lng = 3;
			else
				break;
		}
		uint64_t u;
		int64_t s;
		switch (*f) {
		case 'd':
		case 'i':
			if (lng >= 1)
				s = lng == 1 ? va_arg(ap, long) : lng == 2 ? va_arg(ap, long long) : va_arg(ap, int64_t);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng == -2)
				s = (signed char)s;
			num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false, width, prec, left, zero, "");
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng >= 1)
				u = lng == 1 ? va_arg(ap, unsigned long) : lng == 2 ? va_arg(ap, unsigned long long)
									      : va_arg(ap, uint64_t);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng == -2)
				u = (unsigned char)u;
			num(&o, u, false, *f == 'o' ? 8 : *f == 'u' ? 10 : 16, *f == 'X', width, prec, left, zero, "");
			break;
		case 'p':
			num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false, width, prec, left, zero, "0x");
			break;
		case 'c':
			if (!left)
				pad(&o, ' ', width - 1);
			put(&o, (char)va_arg(ap, int));
			if (left)
				pad(&o, ' ', width - 1);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int n = (int)slen(str, prec >= 0 ? (size_t)prec : (size_t)-1);
			if (!left)
				pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				put(&o, str[i]);
			if (left)
				pad(&o, ' ', width - n);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			f--;    /* a lone % at the end: stop at the NUL */
			break;
		default:        /* unknown conversion: print it as is, visibly */
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
