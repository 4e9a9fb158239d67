/* kvsnprintf: a small freestanding printf formatter with C99 snprintf semantics (no floats, no allocation). */
#include "kernel.h"

struct pf_out {
	char *buf;
	size_t size;
	size_t len;     /* what would have been written, so callers can detect truncation */
};

struct pf_spec {
	int width;
	int prec;       /* -1: none given */
	bool left, zero, plus, space, alt;
};

/* Width and precision are saturated here: a huge number in a format must not overflow an int. */
#define PF_MAX_FIELD 100000000

static void pf_put(struct pf_out *o, char c)
{
	/* Keep the last byte for the NUL; past it, only count. */
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pf_pad(struct pf_out *o, char c, int n)
{
	while (n-- > 0)
		pf_put(o, c);
}

static size_t pf_strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

/* One integer: [spaces][sign or prefix][zeros from 0 flag][zeros from precision]digits[spaces]. */
static void pf_int(struct pf_out *o, const struct pf_spec *sp, uintmax_t v, bool neg, unsigned base,
		   bool upper, bool pointer)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];   /* 2^64 in octal is 22 digits */
	int n = 0;
	for (uintmax_t x = v; x; x /= base)
		tmp[n++] = digits[x % base];
	/* An explicit precision of 0 prints no digits for the value 0 (C11 7.21.6.1p8). */
	if (n == 0 && sp->prec != 0)
		tmp[n++] = '0';
	int zeros = sp->prec > n ? sp->prec - n : 0;
	/* '#' with o: the first digit must be a 0, added only if the precision did not already. */
	if (sp->alt && base == 8 && zeros == 0 && (v != 0 || n == 0))
		zeros = 1;

	char pre[2];
	int npre = 0;
	if (neg)
		pre[npre++] = '-';
	else if (sp->plus)
		pre[npre++] = '+';
	else if (sp->space)
		pre[npre++] = ' ';
	else if (base == 16 && (pointer || (sp->alt && v != 0))) {
		pre[npre++] = '0';
		pre[npre++] = upper ? 'X' : 'x';
	}

	int total = npre + zeros + n;
	/* '-' overrides '0', and a precision turns '0' off for integers. */
	bool zero_fill = sp->zero && !sp->left && sp->prec < 0;
	if (!sp->left && !zero_fill)
		pf_pad(o, ' ', sp->width - total);
	for (int i = 0; i < npre; i++)
		pf_put(o, pre[i]);
	if (zero_fill)
		pf_pad(o, '0', sp->width - total);
	pf_pad(o, '0', zeros);
	while (n)
		pf_put(o, tmp[--n]);
	if (sp->left)
		pf_pad(o, ' ', sp->width - total);
}

static void pf_str(struct pf_out *o, const struct pf_spec *sp, const char *s, size_t n)
{
	int w = n > (size_t)PF_MAX_FIELD ? 0 : sp->width - (int)n;
	if (!sp->left)
		pf_pad(o, ' ', w);
	for (size_t i = 0; i < n; i++)
		pf_put(o, s[i]);
	if (sp->left)
		pf_pad(o, ' ', w);
}

static int pf_number(const char **f)
{
	int v = 0;
	while (**f >= '0' && **f <= '9') {
		v = v * 10 + (**f - '0');     /* at most 10 * PF_MAX_FIELD + 9: no overflow */
		if (v > PF_MAX_FIELD)
			v = PF_MAX_FIELD;
		(*f)++;
	}
	return v;
}

enum pf_len { PF_NONE, PF_HH, PF_H, PF_L, PF_LL, PF_Z, PF_J, PF_T };

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct pf_out o = { buf, size, 0 };
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			pf_put(&o, *f);
			continue;
		}
		const char *start = f++;
		struct pf_spec sp = { 0, -1, false, false, false, false, false };
		for (;; f++) {
			if (*f == '-')
				sp.left = true;
			else if (*f == '0')
				sp.zero = true;
			else if (*f == '+')
				sp.plus = true;
			else if (*f == ' ')
				sp.space = true;
			else if (*f == '#')
				sp.alt = true;
			else
				break;
		}
		if (*f == '*') {
			int w = va_arg(ap, int);
			f++;
			/* A negative width argument means '-' plus its magnitude. */
			if (w < 0) {
				sp.left = true;
				w = w < -PF_MAX_FIELD ? PF_MAX_FIELD : -w;
			}
			sp.width = w > PF_MAX_FIELD ? PF_MAX_FIELD : w;
		} else {
			sp.width = pf_number(&f);
		}
		if (*f == '.') {
			f++;
			if (*f == '*') {
				int p = va_arg(ap, int);
				f++;
				/* A negative precision argument counts as none. */
				sp.prec = p < 0 ? -1 : p > PF_MAX_FIELD ? PF_MAX_FIELD : p;
			} else {
				sp.prec = pf_number(&f);
			}
		}
		enum pf_len len = PF_NONE;
		if (*f == 'h') {
			len = f[1] == 'h' ? PF_HH : PF_H;
			f += len == PF_HH ? 2 : 1;
		} else if (*f == 'l') {
			len = f[1] == 'l' ? PF_LL : PF_L;
			f += len == PF_LL ? 2 : 1;
		} else if (*f == 'z' || *f == 'j' || *f == 't') {
			len = *f == 'z' ? PF_Z : *f == 'j' ? PF_J : PF_T;
			f++;
		}

		switch (*f) {
		case 'd':
		case 'i': {
			intmax_t s;
			switch (len) {
			case PF_HH: s = (signed char)va_arg(ap, int); break;
			case PF_H: s = (short)va_arg(ap, int); break;
			case PF_L: s = va_arg(ap, long); break;
			case PF_LL: s = va_arg(ap, long long); break;
			/* %zd takes the signed type of size_t's width; reading it as size_t is allowed. */
			case PF_Z: s = (intmax_t)(ptrdiff_t)va_arg(ap, size_t); break;
			case PF_J: s = va_arg(ap, intmax_t); break;
			case PF_T: s = va_arg(ap, ptrdiff_t); break;
			default: s = va_arg(ap, int); break;
			}
			/* Negate in unsigned arithmetic so INT64_MIN has a magnitude. */
			uintmax_t mag = s < 0 ? -(uintmax_t)s : (uintmax_t)s;
			pf_int(&o, &sp, mag, s < 0, 10, false, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uintmax_t u;
			switch (len) {
			case PF_HH: u = (unsigned char)va_arg(ap, unsigned int); break;
			case PF_H: u = (unsigned short)va_arg(ap, unsigned int); break;
			case PF_L: u = va_arg(ap, unsigned long); break;
			case PF_LL: u = va_arg(ap, unsigned long long); break;
			case PF_Z: u = va_arg(ap, size_t); break;
			case PF_J: u = va_arg(ap, uintmax_t); break;
			case PF_T: u = (size_t)va_arg(ap, ptrdiff_t); break;
			default: u = va_arg(ap, unsigned int); break;
			}
			/* '+' and ' ' only apply to signed conversions. */
			sp.plus = sp.space = false;
			unsigned base = *f == 'o' ? 8 : *f == 'u' ? 10 : 16;
			pf_int(&o, &sp, u, false, base, *f == 'X', false);
			break;
		}
		case 'p':
			sp.plus = sp.space = false;
			pf_int(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, true);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			pf_str(&o, &sp, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			pf_str(&o, &sp, s, pf_strnlen(s, sp.prec >= 0 ? (size_t)sp.prec : (size_t)-1));
			break;
		}
		case '%':
			pf_put(&o, '%');
			break;
		case '\0':
			/* A format ending inside a conversion: print nothing more, stop at the NUL. */
			f--;
			break;
		default:
			/* Unknown (including %n, which we never honour): show the text so the bug is visible. */
			for (const char *q = start; q <= f; q++)
				pf_put(&o, *q);
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	/* C leaves a result above INT_MAX undefined-ish (EOVERFLOW); saturate instead of wrapping. */
	return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kbprintf(struct kbuf *b, const char *fmt, ...)
{
	if (b->size == 0 || b->len >= b->size - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->size - b->len ? (size_t)n : b->size - 1 - b->len;
}
