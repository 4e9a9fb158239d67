/* HTTP/1.1 static responder: incremental parsing, ordered responses, backpressure (see http.h). */
#include "kernel.h"
#include "http.h"

/* Where the scanner is; the order matters (>= HS_BOL: at the start of a line). */
enum {
	HS_IDLE = 0,    /* between requests: CR and LF are skipped */
	HS_LINE,        /* inside a line */
	HS_BOL,         /* just after a LF: another LF (or CR LF) ends the headers */
	HS_BOL_CR,      /* just after LF CR */
};

#define HTTP_HEAD_MAX 256       /* a response header; http_init bounds what routes add to it */
#define HTTP_TYPE_MAX 64        /* longest Content-Type a route may have */

/* "/" serves this pattern; one spare byte so a size of 0 is still a valid array. */
static char http_root_body[POLLUX_HTTP_BODY_SIZE + 1];

/* Bodies must be string literals: sizeof gives their length without the NUL. */
#define HTTP_ROUTE(path, type, body) { path, type, body, sizeof(body) - 1 },
static const struct http_route http_routes[] = {
	{ "/", "text/plain", http_root_body, POLLUX_HTTP_BODY_SIZE },
	POLLUX_HTTP_ROUTES(HTTP_ROUTE)
};

/* Error answers: same shape as a route, never looked up. */
static const struct http_route http_err_400 = { 0, "text/plain", "Bad Request\n", 12 };
static const struct http_route http_err_404 = { 0, "text/plain", "Not Found\n", 10 };
static const struct http_route http_err_405 = { 0, "text/plain", "Method Not Allowed\n", 19 };
static const struct http_route http_err_413 = { 0, "text/plain", "Content Too Large\n", 18 };
static const struct http_route http_err_414 = { 0, "text/plain", "URI Too Long\n", 13 };
static const struct http_route http_err_431 = { 0, "text/plain", "Request Header Fields Too Large\n", 32 };
static const struct http_route http_err_505 = { 0, "text/plain", "HTTP Version Not Supported\n", 27 };

static size_t http_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void http_init(void)
{
	static const char pat[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+";
	size_t n = POLLUX_HTTP_BODY_SIZE;       /* a variable: a size of 0 is no comparison warning */
	for (size_t i = 0; i < n; i++)
		http_root_body[i] = (i & 63) == 63 ? '\n' : pat[i & 63];
	/* A bad route in the config is a build mistake: stop at boot rather than send bad headers. */
	for (size_t i = 0; i < ARRAY_SIZE(http_routes); i++) {
		const struct http_route *r = &http_routes[i];
		assert(r->path[0] == '/');
		for (const char *p = r->path; *p; p++)
			assert(*p > 0x20 && *p < 0x7f && *p != '?');
		assert(http_strlen(r->type) <= HTTP_TYPE_MAX);
		for (const char *p = r->type; *p; p++)
			assert(*p >= 0x20 && *p < 0x7f);
	}
}

void http_conn_init(struct http_conn *c)
{
	c->len = 0;
	c->scan = HS_IDLE;
	c->in_headers = false;
	c->closed = false;
	c->resp.r = 0;
	c->resp.sent = 0;
	c->resp.status = 0;
	c->resp.flags = 0;
	c->stats.requests = c->stats.resp_2xx = c->stats.resp_4xx = c->stats.resp_5xx = 0;
	c->stats.bad_requests = 0;
}

void http_stats_add(struct http_stats *sum, const struct http_stats *s)
{
	sum->requests += s->requests;
	sum->resp_2xx += s->resp_2xx;
	sum->resp_4xx += s->resp_4xx;
	sum->resp_5xx += s->resp_5xx;
	sum->bad_requests += s->bad_requests;
}

const struct http_route *http_route_find(const char *path, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(http_routes); i++) {
		const char *p = http_routes[i].path;
		size_t k = 0;
		while (k < len && p[k] == path[k])
			k++;
		if (k == len && p[k] == 0)
			return &http_routes[i];
	}
	return 0;
}

/* ---- response ---- */

static const char *http_reason(uint16_t status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

struct http_hb {
	char *p;
	size_t n;
};

static void hb_str(struct http_hb *b, const char *s)
{
	while (*s && b->n < HTTP_HEAD_MAX)
		b->p[b->n++] = *s++;
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

/* Build rs's header into h (HTTP_HEAD_MAX bytes); the same rs always gives the same bytes,
 * which is what lets a partly written header be resumed. Returns its length. */
static size_t http_head(char *h, const struct http_resp *rs)
{
	struct http_hb b = { h, 0 };
	hb_str(&b, "HTTP/1.1 ");
	hb_dec(&b, rs->status);
	hb_str(&b, " ");
	hb_str(&b, http_reason(rs->status));
	hb_str(&b, "\r\nServer: pollux\r\nContent-Type: ");
	hb_str(&b, rs->r->type);
	hb_str(&b, "\r\nContent-Length: ");
	hb_dec(&b, rs->r->len);
	hb_str(&b, "\r\n");
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
static bool http_emit(struct http_out *out, const char *p, size_t n, bool copy, size_t *sent)
{
	int r = out->write(out->ctx, p, n, copy);
	if (r < 0)
		return false;
	if ((size_t)r >= n) {
		*sent += n;
		return true;
	}
	*sent += (size_t)r;
	return false;
}

/* Write what is left of the pending response. Returns true when nothing is left. */
static bool http_flush(struct http_conn *c, struct http_out *out)
{
	struct http_resp *rs = &c->resp;
	if (!rs->r)
		return true;
	char h[HTTP_HEAD_MAX];
	size_t hl = http_head(h, rs);
	if (rs->sent < hl && !http_emit(out, h + rs->sent, hl - rs->sent, true, &rs->sent))
		return false;
	size_t bl = (rs->flags & HTTP_RF_HEAD) ? 0 : rs->r->len;
	size_t off = rs->sent - hl;
	if (off < bl && !http_emit(out, rs->r->body + off, bl - off, false, &rs->sent))
		return false;
	rs->r = 0;
	if (rs->flags & HTTP_RF_CLOSE)
		c->closed = true;
	return true;
}

static void http_count(struct http_stats *s, uint16_t status)
{
	s->requests++;
	if (status < 300)
		s->resp_2xx++;
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
	c->resp.r = r;
	c->resp.sent = 0;
	c->resp.status = status;
	c->resp.flags = flags;
	http_count(&c->stats, status);
	if (out->stats)
		http_count(out->stats, status);
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
struct http_req {
	bool conn_close, conn_ka;
	bool has_te;
	bool has_cl;
	uint32_t hosts;         /* Host header lines */
	uint64_t cl;
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

	struct http_req q = { false, false, false, false, 0, 0 };
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
	const struct http_route *r = http_route_find(t, pn);
	if (r)
		http_respond(c, out, 200, r, head | conn);
	else
		http_respond(c, out, 404, &http_err_404, head | conn);
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
