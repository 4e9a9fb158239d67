/* HTTP/1.1 static responder: incremental parsing, ordered responses, backpressure (see http.h). */
#include <string.h>

#include "kernel.h"
#include "http.h"
#include "site.h"

/* Where the scanner is; the order matters (>= HS_BOL: at the start of a line). */
enum {
	HS_IDLE = 0,    /* between requests: CR and LF are skipped */
	HS_LINE,        /* inside a line */
	HS_BOL,         /* just after a LF: another LF (or CR LF) ends the headers */
	HS_BOL_CR,      /* just after LF CR */
};

#define HTTP_HEAD_MAX 1280      /* a response header: the packer and config_check.h bound its parts */
#define HTTP_TYPE_MAX 64        /* longest Content-Type a route or a site file may have */
/* What the longest header holds (a 301's Location is at most 512 bytes, scripts/site.py), with
 * room to spare: a header never gets cut. */
_Static_assert(sizeof(POLLUX_HTTP_CACHE_CONTROL) <= 129, "config: POLLUX_HTTP_CACHE_CONTROL is at most 128 characters");

/* "/" serves this pattern; one spare byte so a size of 0 is still a valid array. */
static char http_root_body[POLLUX_HTTP_BODY_SIZE + 1];

/* Bodies must be string literals: sizeof gives their length without the NUL. The list ends with
 * a NULL path, so it may hold no route at all. */
#define HTTP_ROUTE(path, type, body) { path, type, body, sizeof(body) - 1 },
static const struct http_route http_routes[] = {
#if POLLUX_HTTP_BODY_SIZE > 0
	{ "/", "text/plain", http_root_body, POLLUX_HTTP_BODY_SIZE },
#endif
	POLLUX_HTTP_ROUTES(HTTP_ROUTE)
	{ 0, 0, 0, 0 }
};

/* The site packed into the image (scripts/site.py, net/site_blob.S): read only, shared by every
 * core once http_init has checked it. */
extern const unsigned char pollux_site[], pollux_site_end[];
static struct site http_site;

/* Error answers: same shape as a route, never looked up. */
static const struct http_route http_err_400 = { 0, "text/plain", "Bad Request\n", 12 };
static const struct http_route http_err_404 = { 0, "text/plain", "Not Found\n", 10 };
static const struct http_route http_err_405 = { 0, "text/plain", "Method Not Allowed\n", 19 };
static const struct http_route http_err_413 = { 0, "text/plain", "Content Too Large\n", 18 };
static const struct http_route http_err_414 = { 0, "text/plain", "URI Too Long\n", 13 };
static const struct http_route http_err_431 = { 0, "text/plain", "Request Header Fields Too Large\n", 32 };
static const struct http_route http_err_505 = { 0, "text/plain", "HTTP Version Not Supported\n", 27 };
static const struct http_route http_err_301 = { 0, "text/plain", "Moved Permanently\n", 18 };
static const struct http_route http_err_416 = { 0, "text/plain", "Range Not Satisfiable\n", 22 };
static const struct http_route http_none = { 0, "", "", 0 };      /* 304: no body */

void http_init(void)
{
	static const char pat[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+";
	size_t n = POLLUX_HTTP_BODY_SIZE;       /* a variable: a size of 0 is no comparison warning */
	for (size_t i = 0; i < n; i++)
		http_root_body[i] = (i & 63) == 63 ? '\n' : pat[i & 63];
	/* A bad route in the config is a build mistake: stop at boot rather than send bad headers. */
	for (const struct http_route *r = http_routes; r->path; r++) {
		assert(r->path[0] == '/');
		for (const char *p = r->path; *p; p++)
			assert(*p > 0x20 && *p < 0x7f && *p != '?');
		assert(strlen(r->type) <= HTTP_TYPE_MAX);
		for (const char *p = r->type; *p; p++)
			assert(*p >= 0x20 && *p < 0x7f);
	}
	/* The packer checked the site; a damaged image is refused whole rather than half served. */
	int e = site_open(&http_site, pollux_site, (size_t)(pollux_site_end - pollux_site));
	if (e)
		panic("http: the packed site is damaged (check %d)", e);
	for (uint32_t i = 0; i < http_site.h->nfiles; i++)
		assert(http_site.files[i].type_len <= HTTP_TYPE_MAX && http_site.files[i].loc_len <= 512);
	for (const char *p = POLLUX_HTTP_CACHE_CONTROL; *p; p++)
		assert(*p >= 0x20 && *p < 0x7f);
}

uint32_t http_site_files(void)
{
	return http_site.h ? http_site.h->nfiles : 0;
}

void http_conn_init(struct http_conn *c)
{
	c->len = 0;
	c->scan = HS_IDLE;
	c->in_headers = false;
	c->closed = false;
	c->resp = (struct http_resp){ 0 };
	c->stats = (struct http_stats){ 0 };
}

void http_stats_add(struct http_stats *sum, const struct http_stats *s)
{
	sum->requests += s->requests;
	sum->resp_2xx += s->resp_2xx;
	sum->resp_3xx += s->resp_3xx;
	sum->resp_4xx += s->resp_4xx;
	sum->resp_5xx += s->resp_5xx;
	sum->bad_requests += s->bad_requests;
}

const struct http_route *http_route_find(const char *path, size_t len)
{
	for (const struct http_route *r = http_routes; r->path; r++) {
		const char *p = r->path;
		size_t k = 0;
		while (k < len && p[k] == path[k])
			k++;
		if (k == len && p[k] == 0)
			return r;
	}
	return 0;
}

/* ---- response ---- */

static const char *http_reason(uint16_t status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

struct http_hb {
	char *p;
	size_t n;
};

/* Whole pieces at a time (a header is a dozen of them, built for every answer), cut at the end. */
static void hb_mem(struct http_hb *b, const char *s, size_t n)
{
	if (n > HTTP_HEAD_MAX - b->n)
		n = HTTP_HEAD_MAX - b->n;
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void hb_str(struct http_hb *b, const char *s)
{
	hb_mem(b, s, strlen(s));
}

static void hb_dec(struct http_hb *b, uint64_t v)
{
	char t[20];
	int k = 0;
	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k && b->n < HTTP_HEAD_MAX)
		b->p[b->n++] = t[--k];
}

/* The body rs sends from its first byte: a route's, or a range of a site file's form. */
static const char *http_body(const struct http_resp *rs)
{
	if (rs->f)
		return site_bytes(&http_site, &rs->f->form[rs->form]) + rs->off;
	return rs->r->body;
}

/* Build rs's header into h (HTTP_HEAD_MAX bytes); the same rs always gives the same bytes,
 * which is what lets a partly written header be resumed. Returns its length. */
static size_t http_head(char *h, const struct http_resp *rs)
{
	static const char *const coding[SITE_FORMS] = { 0, "gzip", "br" };
	const struct site_file *f = rs->f;
	struct http_hb b = { h, 0 };
	hb_str(&b, "HTTP/1.1 ");
	hb_dec(&b, rs->status);
	hb_str(&b, " ");
	hb_str(&b, http_reason(rs->status));
	hb_str(&b, "\r\nServer: pollux\r\n");
	if (rs->status != 304) {
		hb_str(&b, "Content-Type: ");
		if (f)
			hb_mem(&b, site_str(&http_site, f->type_off), f->type_len);
		else
			hb_str(&b, rs->r->type);
		hb_str(&b, "\r\nContent-Length: ");
		hb_dec(&b, rs->len);
		hb_str(&b, "\r\n");
	}
	if (rs->status == 206 || rs->status == 416) {
		hb_str(&b, "Content-Range: bytes ");
		if (rs->status == 206) {
			hb_dec(&b, rs->off);
			hb_str(&b, "-");
			hb_dec(&b, rs->off + rs->len - 1);
		} else {
			hb_str(&b, "*");
		}
		hb_str(&b, "/");
		hb_dec(&b, rs->total);
		hb_str(&b, "\r\n");
	}
	if (rs->status == 301) {
		hb_str(&b, "Location: ");
		hb_mem(&b, site_str(&http_site, rs->loc->loc_off), rs->loc->loc_len);
		hb_str(&b, "\r\n");
	}
	/* A site file's validators and caching, on its answers and on a 304 for it (RFC 9110 15.4.5). */
	if (f && rs->status != 404) {
		if (rs->status != 304 && coding[rs->form]) {
			hb_str(&b, "Content-Encoding: ");
			hb_str(&b, coding[rs->form]);
			hb_str(&b, "\r\n");
		}
		if (rs->status != 304)
			hb_str(&b, "Accept-Ranges: bytes\r\n");
		hb_str(&b, "ETag: ");
		hb_str(&b, f->form[rs->form].etag);
		hb_str(&b, "\r\nLast-Modified: ");
		hb_str(&b, f->lastmod);
		hb_str(&b, "\r\n");
		if (POLLUX_HTTP_CACHE_CONTROL[0]) {
			hb_str(&b, "Cache-Control: ");
			hb_str(&b, POLLUX_HTTP_CACHE_CONTROL);
			hb_str(&b, "\r\n");
		}
		if (f->form[SITE_GZIP].etag[0] || f->form[SITE_BR].etag[0])
			hb_str(&b, "Vary: Accept-Encoding\r\n");
	}
	if (rs->status == 405)
		hb_str(&b, "Allow: GET, HEAD\r\n");
	if (rs->flags & HTTP_RF_CLOSE)
		hb_str(&b, "Connection: close\r\n");
	else if (rs->flags & HTTP_RF_KA)
		hb_str(&b, "Connection: keep-alive\r\n");
	hb_str(&b, "\r\n");
	return b.n;
}

/* Hand p[0..n) to write; *sent advances by what it took. Returns true when it took all. */
static bool http_emit(struct http_out *out, const char *p, uint64_t n, bool copy, uint64_t *sent)
{
	int r = out->write(out->ctx, p, n > (uint64_t)__INT_MAX__ ? (size_t)__INT_MAX__ : (size_t)n, copy);
	if (r < 0)
		return false;
	*sent += (uint64_t)r;
	return (uint64_t)r >= n;
}

/* Write what is left of the pending response. Returns true when nothing is left. */
static bool http_flush(struct http_conn *c, struct http_out *out)
{
	struct http_resp *rs = &c->resp;
	if (!rs->status)
		return true;
	char h[HTTP_HEAD_MAX];
	size_t hl = http_head(h, rs);
	if (rs->sent < hl && !http_emit(out, h + rs->sent, hl - rs->sent, true, &rs->sent))
		return false;
	uint64_t bl = (rs->flags & HTTP_RF_HEAD) ? 0 : rs->len;
	uint64_t off = rs->sent - hl;
	if (off < bl && !http_emit(out, http_body(rs) + off, bl - off, false, &rs->sent))
		return false;
	uint8_t flags = rs->flags;
	*rs = (struct http_resp){ 0 };
	if (flags & HTTP_RF_CLOSE)
		c->closed = true;
	return true;
}

static void http_count(struct http_stats *s, uint16_t status)
{
	s->requests++;
	if (status < 300)
		s->resp_2xx++;
	else if (status < 400)
		s->resp_3xx++;
	else if (status < 500)
		s->resp_4xx++;
	else
		s->resp_5xx++;
	if (status == 400 || status == 414 || status == 431)
		s->bad_requests++;
}

/* Decide the answer to one request; http_flush writes it. */
static void http_respond(struct http_conn *c, struct http_out *out, uint16_t status,
			 const struct http_route *r, uint8_t flags)
{
	c->resp = (struct http_resp){ .r = r, .len = r->len, .status = status, .flags = flags };
	http_count(&c->stats, status);
	if (out->stats)
		http_count(out->stats, status);
}

/* The same for a site file's form: len bytes from off (a range, or all of it) of total. */
static void http_respond_file(struct http_conn *c, struct http_out *out, uint16_t status,
			      const struct site_file *f, uint8_t form, uint64_t off, uint64_t len, uint8_t flags)
{
	http_respond(c, out, status, &http_none, flags);
	c->resp.f = f;
	c->resp.form = form;
	c->resp.off = off;
	c->resp.len = len;
	c->resp.total = f->form[form].len;
}

/* ---- request ---- */

/* RFC 9110 5.6.2 tchar: the bytes of a method or a header name. */
static bool http_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	}
	return false;
}

/* Control bytes never allowed anywhere in a request (HTAB, CR, LF are judged by the parser). */
static bool http_ctl(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
}

static unsigned char http_lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch | 0x20) : ch;
}

/* p[0..n) equals lowercase word w, in any case. */
static bool http_ieq(const char *p, size_t n, const char *w)
{
	size_t k = 0;
	for (; k < n && w[k]; k++)
		if (http_lower((unsigned char)p[k]) != (unsigned char)w[k])
			return false;
	return k == n && w[k] == 0;
}

static bool http_eq(const char *p, size_t n, const char *w)
{
	size_t k = 0;
	for (; k < n && w[k]; k++)
		if (p[k] != w[k])
			return false;
	return k == n && w[k] == 0;
}

static bool http_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* What the headers said. */
struct http_val {
	const char *p;          /* NULL: the header was not sent */
	size_t n;
	uint32_t lines;         /* how many times it was sent */
};
struct http_req {
	bool conn_close, conn_ka;
	bool has_te;
	bool has_cl;
	uint32_t hosts;         /* Host header lines */
	uint64_t cl;
	/* For site files (RFC 9110 13, 14, 12.5.3); each the first line's value. */
	struct http_val inm, ims, range, if_range, ae;
};

/* RFC 9110 7.2 / RFC 3986 3.2.2: Host = uri-host [ ":" port ], as bytes: unreserved, pct-encoded,
 * sub-delims, ':' and the brackets of an IP literal. Empty is allowed (a target without authority). */
static bool http_host_char(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	switch (ch) {
	case '-': case '.': case '_': case '~': case '%': case '!': case '$': case '&': case '\'':
	case '(': case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '[': case ']':
		return true;
	}
	return false;
}

#define HTTP_CL_MAX 1000000000000000ULL    /* Content-Length is only compared with 0: saturate */

/* One header line (no line end). Returns false when it is malformed. */
static bool http_header(const char *p, size_t n, struct http_req *q)
{
	size_t k = 0;
	while (k < n && http_tchar((unsigned char)p[k]))
		k++;
	if (k == 0 || k == n || p[k] != ':')
		return false;   /* no name, no colon, space before the colon, or a folded line */
	size_t v = k + 1, e = n;
	while (v < e && http_ows(p[v]))
		v++;
	while (e > v && http_ows(p[e - 1]))
		e--;
	for (size_t i = v; i < e; i++)
		if (p[i] == '\r')
			return false;   /* a CR not ending the line */
	if (http_ieq(p, k, "connection")) {
		/* A comma-separated token list: "close" wins over "keep-alive". */
		size_t i = v;
		while (i < e) {
			size_t s = i;
			while (i < e && p[i] != ',')
				i++;
			size_t t = i;
			while (s < t && http_ows(p[s]))
				s++;
			while (t > s && http_ows(p[t - 1]))
				t--;
			if (http_ieq(p + s, t - s, "close"))
				q->conn_close = true;
			else if (http_ieq(p + s, t - s, "keep-alive"))
				q->conn_ka = true;
			i++;
		}
	} else if (http_ieq(p, k, "content-length")) {
		if (v == e)
			return false;
		uint64_t cl = 0;
		for (size_t i = v; i < e; i++) {
			if (p[i] < '0' || p[i] > '9')
				return false;
			cl = cl * 10 + (uint64_t)(p[i] - '0');
			if (cl > HTTP_CL_MAX)
				cl = HTTP_CL_MAX;
		}
		if (q->has_cl)
			return false;   /* repeated, even if equal: framing must have one source (smuggling) */
		q->has_cl = true;
		q->cl = cl;
	} else if (http_ieq(p, k, "transfer-encoding")) {
		q->has_te = true;
	} else if (http_ieq(p, k, "host")) {
		q->hosts++;
		for (size_t i = v; i < e; i++)
			if (!http_host_char((unsigned char)p[i]))
				return false;
	} else {
		struct http_val *hv = http_ieq(p, k, "if-none-match") ? &q->inm :
				      http_ieq(p, k, "if-modified-since") ? &q->ims :
				      http_ieq(p, k, "range") ? &q->range :
				      http_ieq(p, k, "if-range") ? &q->if_range :
				      http_ieq(p, k, "accept-encoding") ? &q->ae : 0;
		if (hv && !hv->lines++) {
			hv->p = p + v;
			hv->n = e - v;
		}
	}
	return true;
}

/* The next line of req[*pos..n) (req ends in LF), without its LF and one CR before it. */
static size_t http_line(const char *req, size_t n, size_t *pos, const char **line)
{
	size_t s = *pos, e = s;
	while (e < n && req[e] != '\n')
		e++;
	*pos = e + 1;
	*line = req + s;
	if (e > s && req[e - 1] == '\r')
		e--;
	return e - s;
}

/* ---- site files: the path, the form, the conditions, the range ---- */

static int http_hex(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = http_lower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/*
 * Percent-decode the path t[0..n) into out (n bytes at most). Returns its length, or 0 for a
 * path refused with 400: a '%' without two hex digits, an encoded NUL, or a ".." segment, which
 * could only mean a file above the site's root (checked after decoding, so "%2e%2e" too).
 */
static size_t http_decode(const char *t, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch == '%') {
			if (i + 2 >= n)
				return 0;
			int hi = http_hex((unsigned char)t[i + 1]), lo = http_hex((unsigned char)t[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return 0;
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		out[k++] = (char)ch;
	}
	for (size_t s = 0; s < k;) {
		size_t e = s + 1;
		while (e < k && out[e] != '/')
			e++;
		if (e - s == 3 && out[s + 1] == '.' && out[s + 2] == '.')
			return 0;
		s = e;
	}
	return k;
}

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian, m 1..12). */
static int64_t http_days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool http_num(const char *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 5.6.7) to seconds since 1970.
 * False for anything else: the obsolete forms are not taken, so the condition is ignored and
 * the full answer sent, which is always correct. */
static bool http_date(const char *p, size_t n, int64_t *out)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	unsigned d, y, hh, mm, ss, m = 0;
	if (n != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
	    p[19] != ':' || p[22] != ':' || p[25] != ' ' || !http_eq(p + 26, 3, "GMT") ||
	    !http_num(p + 5, 2, &d) || !http_num(p + 12, 4, &y) || !http_num(p + 17, 2, &hh) ||
	    !http_num(p + 20, 2, &mm) || !http_num(p + 23, 2, &ss))
		return false;
	while (m < 12 && (http_lower((unsigned char)p[8]) != months[3 * m] ||
			  http_lower((unsigned char)p[9]) != months[3 * m + 1] ||
			  http_lower((unsigned char)p[10]) != months[3 * m + 2]))
		m++;
	if (m == 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	*out = http_days(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
	return true;
}

/* The next element of a comma-separated list v[*i..n), without the spaces around it. */
static bool http_elem(const struct http_val *v, size_t *i, const char **e, size_t *en)
{
	while (*i < v->n && (v->p[*i] == ',' || http_ows(v->p[*i])))
		(*i)++;
	if (*i >= v->n)
		return false;
	size_t s = *i;
	bool quoted = false;
	while (*i < v->n && (quoted || v->p[*i] != ',')) {
		if (v->p[*i] == '"')
			quoted = !quoted;
		(*i)++;
	}
	size_t t = *i;
	while (t > s && http_ows(v->p[t - 1]))
		t--;
	*e = v->p + s;
	*en = t - s;
	return true;
}

/* If-None-Match names this ETag (weak comparison, RFC 9110 13.1.2), or is "*". */
static bool http_inm(const struct http_val *v, const char *etag)
{
	size_t i = 0, en, tl = strlen(etag);
	const char *e;
	while (http_elem(v, &i, &e, &en)) {
		if (en == 1 && e[0] == '*')
			return true;
		if (en > 2 && e[0] == 'W' && e[1] == '/') {
			e += 2;
			en -= 2;
		}
		if (en == tl && http_eq(e, en, etag))
			return true;
	}
	return false;
}

/* Is coding (or its alias, may be NULL) acceptable to Accept-Encoding (RFC 9110 12.5.3)? Named
 * with a weight above 0, or covered by "*" with a weight above 0 and not named. */
static bool http_accepts(const struct http_val *v, const char *coding, const char *alias)
{
	size_t i = 0, en;
	const char *e;
	int named = -1, star = -1;
	while (http_elem(v, &i, &e, &en)) {
		size_t k = 0;
		while (k < en && e[k] != ';' && !http_ows(e[k]))
			k++;
		/* ";q=0", "0.", "0.0", "0.00", "0.000": not acceptable; any other weight is */
		bool zero = false;
		for (size_t j = k; j < en; j++) {
			if (e[j] != ';')
				continue;
			size_t z = j + 1;
			while (z < en && http_ows(e[z]))
				z++;
			if (z + 1 < en && http_lower((unsigned char)e[z]) == 'q' && e[z + 1] == '=') {
				z += 2;
				zero = z < en && e[z] == '0';
				for (z++; zero && z < en; z++)
					zero = e[z] == '0' || e[z] == '.';
			}
		}
		if (http_ieq(e, k, coding) || (alias && http_ieq(e, k, alias)))
			named = !zero;
		else if (k == 1 && e[0] == '*')
			star = !zero;
	}
	return named >= 0 ? named == 1 : star == 1;
}

/*
 * A single byte range "bytes=a-b", "bytes=a-" or "bytes=-n" of a form of len bytes (RFC 9110 14.1).
 * Returns 1 with [*off, *off + *n) set, 0 when the range is to be ignored (the whole form is
 * sent: several ranges, a unit other than bytes, bad syntax), -1 when it cannot be satisfied.
 */
static int http_range(const struct http_val *v, uint64_t len, uint64_t *off, uint64_t *n)
{
	const char *p = v->p;
	size_t l = v->n, i = 6;
	if (l < 7 || !http_ieq(p, 6, "bytes="))
		return 0;
	while (i < l && http_ows(p[i]))
		i++;
	uint64_t a = 0, b = 0;
	bool has_a = false, has_b = false;
	for (; i < l && p[i] >= '0' && p[i] <= '9'; i++, has_a = true)
		if ((a = a * 10 + (uint64_t)(p[i] - '0')) > HTTP_CL_MAX)
			return 0;
	if (i >= l || p[i++] != '-')
		return 0;
	for (; i < l && p[i] >= '0' && p[i] <= '9'; i++, has_b = true)
		if ((b = b * 10 + (uint64_t)(p[i] - '0')) > HTTP_CL_MAX)
			return 0;
	while (i < l && http_ows(p[i]))
		i++;
	if (i != l || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 0;       /* a list (",") or junk: served whole, as the RFC allows */
	if (!has_a) {           /* the last b bytes */
		if (b == 0 || len == 0)
			return -1;
		*n = b < len ? b : len;
		*off = len - *n;
		return 1;
	}
	if (a >= len)
		return -1;
	*off = a;
	*n = (has_b && b < len - 1 ? b : len - 1) - a + 1;
	return 1;
}

/* GET or HEAD of a site file: the form the client accepts, then 304, 206, 416 or 200. */
static void http_file(struct http_conn *c, struct http_out *out, const struct site_file *f,
		      const struct http_req *q, uint8_t flags)
{
	uint8_t form = SITE_IDENTITY;
	if (q->ae.p && f->form[SITE_BR].etag[0] && http_accepts(&q->ae, "br", 0))
		form = SITE_BR;
	else if (q->ae.p && f->form[SITE_GZIP].etag[0] && http_accepts(&q->ae, "gzip", "x-gzip"))
		form = SITE_GZIP;
	const struct site_form *fm = &f->form[form];
	/* RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it. */
	int64_t since;
	if (q->inm.p ? http_inm(&q->inm, fm->etag) :
	    q->ims.p && http_date(q->ims.p, q->ims.n, &since) && (int64_t)f->mtime <= since) {
		http_respond_file(c, out, 304, f, form, 0, 0, flags);
		return;
	}
	uint64_t off = 0, n = fm->len;
	/* A range only for GET, one Range line, and an If-Range that still holds (an ETag compared
	 * strongly, or the exact Last-Modified date). */
	if (q->range.p && q->range.lines == 1 && !(flags & HTTP_RF_HEAD) &&
	    (!q->if_range.p || (q->if_range.n == strlen(fm->etag) && http_eq(q->if_range.p, q->if_range.n, fm->etag)) ||
	     (q->if_range.n == strlen(f->lastmod) && http_eq(q->if_range.p, q->if_range.n, f->lastmod)))) {
		int r = http_range(&q->range, fm->len, &off, &n);
		if (r < 0) {
			http_respond(c, out, 416, &http_err_416, flags);
			c->resp.total = fm->len;
			return;
		}
		if (r > 0) {
			http_respond_file(c, out, 206, f, form, off, n, flags);
			return;
		}
	}
	http_respond_file(c, out, 200, f, form, 0, fm->len, flags);
}

/* Answer one complete request: req[0..n) is the request line and headers through the empty
 * line; no control byte other than HTAB, CR, LF is in it (the scanner saw to that). */
static void http_request(struct http_conn *c, struct http_out *out, const char *req, size_t n)
{
	size_t pos = 0;
	const char *l;
	size_t ln = http_line(req, n, &pos, &l);

	/* METHOD SP target SP HTTP/d.d, single spaces (RFC 9112 3). */
	size_t m = 0;
	while (m < ln && http_tchar((unsigned char)l[m]))
		m++;
	if (m == 0 || m == ln || l[m] != ' ')
		goto bad;
	size_t ts = m + 1, te = ts;
	while (te < ln && l[te] > 0x20 && l[te] < 0x7f)
		te++;
	if (te == ts || te == ln || l[te] != ' ')
		goto bad;
	const char *ver = l + te + 1;
	if (ln - te - 1 != 8 || !http_eq(ver, 5, "HTTP/") || ver[5] < '0' || ver[5] > '9' ||
	    ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		goto bad;
	uint8_t head = http_eq(l, m, "HEAD") ? HTTP_RF_HEAD : 0;
	if (ver[5] != '1') {
		http_respond(c, out, 505, &http_err_505, head | HTTP_RF_CLOSE);
		return;
	}
	bool v11 = ver[7] != '0';

	struct http_req q = { 0 };
	for (;;) {
		const char *h;
		size_t hn = http_line(req, n, &pos, &h);
		if (hn == 0)
			break;  /* the empty line: the scanner guarantees it is the last */
		if (!http_header(h, hn, &q)) {
			http_respond(c, out, 400, &http_err_400, head | HTTP_RF_CLOSE);
			return;
		}
	}
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one otherwise. 6.1: Transfer-Encoding
	 * with Content-Length is how requests are smuggled past a proxy: refused, never "fixed". */
	if (q.hosts > 1 || (v11 && q.hosts == 0) || (q.has_te && q.has_cl)) {
		http_respond(c, out, 400, &http_err_400, head | HTTP_RF_CLOSE);
		return;
	}
	if (q.has_te || q.cl > 0) {
		http_respond(c, out, 413, &http_err_413, head | HTTP_RF_CLOSE);
		return;
	}
	uint8_t conn;
	if (q.conn_close || (!v11 && !q.conn_ka))
		conn = HTTP_RF_CLOSE;
	else
		conn = v11 ? 0 : HTTP_RF_KA;
	if (!head && !http_eq(l, m, "GET")) {
		http_respond(c, out, 405, &http_err_405, conn);
		return;
	}

	/* Origin-form "/path?query", or absolute-form "http://host/path?query" (RFC 9112 3.2.2). */
	const char *t = l + ts;
	size_t tn = te - ts, sch = 0;
	if (tn >= 7 && http_ieq(t, 7, "http://"))
		sch = 7;
	else if (tn >= 8 && http_ieq(t, 8, "https://"))
		sch = 8;
	if (sch) {
		size_t k = sch;
		while (k < tn && t[k] != '/' && t[k] != '?')
			k++;
		if (k == tn || t[k] == '?') {
			t = "/";        /* no path: the origin */
			tn = 1;
		} else {
			t += k;
			tn -= k;
		}
	}
	if (t[0] != '/')
		goto bad;
	size_t pn = 0;
	while (pn < tn && t[pn] != '?' && t[pn] != '#')
		pn++;
	char path[HTTP_MAX_REQUEST];
	size_t dn = http_decode(t, pn, path);
	if (!dn)
		goto bad;
	const struct http_route *r = http_route_find(path, dn);
	if (r) {
		http_respond(c, out, 200, r, head | conn);
		return;
	}
	const struct site_file *f = site_find(&http_site, path, dn);
	if (f && (f->flags & SITE_F_REDIRECT)) {
		http_respond(c, out, 301, &http_err_301, head | conn);
		c->resp.loc = f;
	} else if (f) {
		http_file(c, out, f, &q, head | conn);
	} else if ((f = site_notfound(&http_site))) {
		http_respond_file(c, out, 404, f, SITE_IDENTITY, 0, f->form[SITE_IDENTITY].len, head | conn);
	} else {
		http_respond(c, out, 404, &http_err_404, head | conn);
	}
	return;
bad:
	http_respond(c, out, 400, &http_err_400, HTTP_RF_CLOSE);
}

int http_input(struct http_conn *c, const char *data, size_t len, struct http_out *out)
{
	if (c->closed)
		return HTTP_CLOSE;
	if (len > (size_t)__INT_MAX__)
		len = (size_t)__INT_MAX__;
	if (!http_flush(c, out))
		return 0;
	if (c->closed)
		return HTTP_CLOSE;

	size_t i = 0;
	while (i < len) {
		/* A request that starts and ends inside data is parsed where it lies; one that
		 * began in an earlier call is gathered in c->buf, byte by byte. */
		bool direct = c->len == 0;
		size_t start = i;
		bool end = false, bad = false;
		while (i < len) {
			unsigned char ch = (unsigned char)data[i++];
			if (c->scan == HS_IDLE && (ch == '\r' || ch == '\n')) {
				start = i;      /* empty lines between requests (RFC 9112 2.2) */
				continue;
			}
			if (c->len >= HTTP_MAX_REQUEST || http_ctl(ch)) {
				bad = true;
				break;
			}
			if (!direct)
				c->buf[c->len] = (char)ch;
			c->len++;
			if (ch == '\n') {
				if (c->scan >= HS_BOL) {
					end = true;
					break;
				}
				c->scan = HS_BOL;
				c->in_headers = true;
			} else if (ch == '\r' && c->scan == HS_BOL) {
				c->scan = HS_BOL_CR;
			} else {
				c->scan = HS_LINE;
			}
		}
		if (!end && !bad) {
			/* data ran out inside a request: keep its start for the next call */
			if (direct)
				for (uint32_t k = 0; k < c->len; k++)
					c->buf[k] = data[start + k];
			break;
		}
		if (bad && c->len < HTTP_MAX_REQUEST)
			http_respond(c, out, 400, &http_err_400, HTTP_RF_CLOSE);
		else if (bad && !c->in_headers)
			http_respond(c, out, 414, &http_err_414, HTTP_RF_CLOSE);   /* the request line */
		else if (bad)
			http_respond(c, out, 431, &http_err_431, HTTP_RF_CLOSE);
		else
			http_request(c, out, direct ? data + start : c->buf, c->len);
		c->len = 0;
		c->scan = HS_IDLE;
		c->in_headers = false;
		if (!http_flush(c, out))
			return (int)i;
		if (c->closed)
			return HTTP_CLOSE;
	}
	return (int)i;
}
