/* test_http: the HTTP responder answers exactly, in order, however requests are split or writes fall short. */
#include "test.h"
#include "kernel.h"
#include "net/http.h"

/* ---- a capturing http_out: takes up to `budget` bytes in all, then falls short ---- */
struct cap {
	char *buf;
	size_t len, size;
	size_t budget;          /* bytes still accepted; SIZE_MAX: unlimited */
	bool all_or_nothing;    /* like tcp_write: take a write whole or not at all */
	uint32_t writes, zero_writes, copy_body;
	const void *last_nocopy;        /* p of the last copy == false write */
};

static int cap_write(void *ctx, const void *p, size_t n, bool copy)
{
	struct cap *k = ctx;
	if (n == 0)
		k->zero_writes++;
	size_t take = n < k->budget ? n : k->budget;
	if (k->all_or_nothing && take < n)
		take = 0;
	if (take == 0)
		return -1;
	if (k->len + take > k->size) {
		k->size = (k->len + take) * 2;
		k->buf = realloc(k->buf, k->size);
		if (!k->buf)
			abort();
	}
	memcpy(k->buf + k->len, p, take);
	k->len += take;
	if (k->budget != SIZE_MAX)
		k->budget -= take;
	k->writes++;
	if (!copy)
		k->last_nocopy = p;
	return (int)take;
}

static void cap_init(struct cap *k)
{
	memset(k, 0, sizeof(*k));
	k->budget = SIZE_MAX;
	k->size = 256;
	k->buf = malloc(k->size);       /* never NULL, so comparing an empty capture is defined */
	if (!k->buf)
		abort();
}

static struct http_stats core_stats;

static struct http_out cap_out(struct cap *k)
{
	struct http_out o = { k, cap_write, &core_stats };
	return o;
}

static bool cap_is(const struct cap *k, const char *s)
{
	size_t n = strlen(s);
	if (k->len == n && !memcmp(k->buf, s, n))
		return true;
	fprintf(stderr, "  got %zu bytes: \"%.*s\"\n  want %zu: \"%s\"\n", k->len, (int)k->len, k->buf, n, s);
	return false;
}

/* Feed in[0..n) in one call with unlimited output; returns http_input's result. */
static int once(struct http_conn *c, struct cap *k, const char *in, size_t n)
{
	struct http_out o = cap_out(k);
	return http_input(c, in, n, &o);
}

/* A fresh connection, one request string, the whole output in *k (valid until the next ask);
 * returns http_input's result. */
static int ask(struct cap *k, const char *req)
{
	static struct http_conn c;
	static struct cap own;          /* the previous answer's buffer is freed here */
	free(own.buf);
	http_conn_init(&c);
	cap_init(&own);
	int r = once(&c, &own, req, strlen(req));
	*k = own;
	return r;
}

#define ROOT_BODY "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+\n"
#define H200(type, len) "HTTP/1.1 200 OK\r\nServer: pollux\r\nContent-Type: " type "\r\nContent-Length: " len "\r\n"
#define HELLO H200("text/plain", "18") "\r\nHello from Pollux\n"
#define E400 "HTTP/1.1 400 Bad Request\r\nServer: pollux\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n" \
	"Connection: close\r\n\r\nBad Request\n"
#define E414 "HTTP/1.1 414 URI Too Long\r\nServer: pollux\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n" \
	"Connection: close\r\n\r\nURI Too Long\n"
#define E431 "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: pollux\r\nContent-Type: text/plain\r\n" \
	"Content-Length: 32\r\nConnection: close\r\n\r\nRequest Header Fields Too Large\n"
#define E404 "HTTP/1.1 404 Not Found\r\nServer: pollux\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n" \
	"\r\nNot Found\n"

static void routes(void)
{
	struct cap k;
	CHECK_EQ(ask(&k, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 27);
	CHECK(cap_is(&k, H200("text/plain", "64") "\r\n" ROOT_BODY));
	CHECK_EQ(ask(&k, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 32);
	CHECK(cap_is(&k, HELLO));
	/* the body went by reference, straight from the route table */
	const struct http_route *r = http_route_find("/hello", 6);
	CHECK(r != NULL);
	CHECK(k.last_nocopy == r->body);
	CHECK_EQ(k.writes, 2);
	CHECK(http_route_find("/hell", 5) == NULL);
	CHECK(http_route_find("/hello/", 7) == NULL);

	ask(&k, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, E404));
	ask(&k, "GET /hello?x=1&y=/ HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, HELLO));
	ask(&k, "GET /hello#frag HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, HELLO));
	ask(&k, "GET /?q HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, H200("text/plain", "64") "\r\n" ROOT_BODY));
	ask(&k, "GET http://pollux.example/hello HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, HELLO));
	ask(&k, "GET HTTP://pollux.example:80 HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, H200("text/plain", "64") "\r\n" ROOT_BODY));
	ask(&k, "GET /Hello HTTP/1.1\r\nHost: h\r\n\r\n");     /* paths are case-sensitive */
	CHECK(cap_is(&k, E404));
	/* bare LF line ends, empty lines before the request */
	CHECK_EQ(ask(&k, "\r\n\nGET /hello HTTP/1.1\nHost: x\n\n"), 32);
	CHECK(cap_is(&k, HELLO));
	ask(&k, "GET /hello HTTP/1.1\r\nHost: x\n\r\n");
	CHECK(cap_is(&k, HELLO));
	ask(&k, "GET /hello HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Tab:\tv \t\r\nContent-Length: 0\r\n\r\n");
	CHECK(cap_is(&k, HELLO));

	/* HEAD: headers only, with the body's length */
	ask(&k, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, H200("text/plain", "64") "\r\n"));
	ask(&k, "HEAD /hello HTTP/1.0\r\n\r\n");
	CHECK(cap_is(&k, H200("text/plain", "18") "Connection: close\r\n\r\n"));
	ask(&k, "HEAD /nope HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(cap_is(&k, "HTTP/1.1 404 Not Found\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 10\r\n\r\n"));

	/* other methods: 405 with Allow, connection kept */
	static const char e405[] = "HTTP/1.1 405 Method Not Allowed\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		"Content-Length: 19\r\nAllow: GET, HEAD\r\n\r\nMethod Not Allowed\n";
	CHECK_EQ(ask(&k, "POST /hello HTTP/1.1\r\nHost: h\r\n\r\n"), 33);
	CHECK(cap_is(&k, e405));
	ask(&k, "DELETE / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	CHECK(cap_is(&k, e405));
	ask(&k, "get / HTTP/1.1\r\nHost: h\r\n\r\n");      /* methods are case-sensitive */
	CHECK(cap_is(&k, e405));
	CHECK_EQ(ask(&k, "OPTIONS * HTTP/1.0\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, "HTTP/1.1 405 Method Not Allowed\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 19\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\nMethod Not Allowed\n"));

	/* request bodies are refused: 413 and close */
	static const char e413[] = "HTTP/1.1 413 Content Too Large\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		"Content-Length: 18\r\nConnection: close\r\n\r\nContent Too Large\n";
	CHECK_EQ(ask(&k, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"), HTTP_CLOSE);
	CHECK(cap_is(&k, e413));
	CHECK_EQ(ask(&k, "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, e413));
	CHECK_EQ(ask(&k, "GET / HTTP/1.1\r\nHost: h\r\ncontent-length: 99999999999999999999999999\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, e413));
	/* HTTP/2 and beyond: 505 */
	CHECK_EQ(ask(&k, "GET / HTTP/2.0\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, "HTTP/1.1 505 HTTP Version Not Supported\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 27\r\nConnection: close\r\n\r\nHTTP Version Not Supported\n"));
}

static void keepalive(void)
{
	static const struct { const char *req; const char *conn; bool close; } t[] = {
		{ "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nconnection: CLOSE\r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nCONNECTION:Close \r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Keep-Alive\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: foo,\t cLoSe ,bar\r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.1\r\nHost: h\r\nX-Connection: close\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.2\r\nHost: h\r\n\r\n", "", false },
		{ "GET /hello HTTP/1.0\r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "Connection: keep-alive\r\n", false },
		{ "GET /hello HTTP/1.0\r\nCONNECTION: Keep-Alive\r\n\r\n", "Connection: keep-alive\r\n", false },
		{ "GET /hello HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "Connection: close\r\n", true },
		{ "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		  "Connection: close\r\n", true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct cap k;
		char want[512];
		snprintf(want, sizeof(want), H200("text/plain", "18") "%s\r\nHello from Pollux\n", t[i].conn);
		int r = ask(&k, t[i].req);
		CHECK_EQ(r, t[i].close ? HTTP_CLOSE : (int)strlen(t[i].req));
		if (!cap_is(&k, want))
			CHECK_STR(t[i].req, "(wrong answer)");
	}

	/* after the closing answer nothing more is read or written, however often we are called */
	struct http_conn c;
	struct cap k;
	http_conn_init(&c);
	cap_init(&k);
	const char *two = "GET /hello HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	CHECK_EQ(once(&c, &k, two, strlen(two)), HTTP_CLOSE);
	CHECK(cap_is(&k, H200("text/plain", "18") "Connection: close\r\n\r\nHello from Pollux\n"));
	CHECK_EQ(once(&c, &k, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 18), HTTP_CLOSE);
	CHECK_EQ(once(&c, &k, "", 0), HTTP_CLOSE);
	CHECK_EQ(k.len, strlen(H200("text/plain", "18") "Connection: close\r\n\r\nHello from Pollux\n"));
	CHECK_EQ(c.stats.requests, 1);
	free(k.buf);
}

static void malformed(void)
{
	static const struct { const char *req; size_t len; } t[] = {
#define M(s) { s, sizeof(s) - 1 }
		M("garbage\r\n\r\n"),
		M("GET /\r\n\r\n"),                             /* no version (HTTP/0.9) */
		M("GET / \r\n\r\n"),
		M("GET\r\n\r\n"),
		M("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("GET / HTTP/1.1 \r\n\r\n"),
		M(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("GET / HTTPS/1.1\r\n\r\n"),
		M("GET / HTTP/1.x\r\n\r\n"),
		M("GET / HTTP/1.10\r\n\r\n"),
		M("GET / http/1.1\r\n\r\n"),
		M("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("GET relative HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost x\r\n\r\n"),          /* header without colon */
		M("GET / HTTP/1.1\r\nHost : x\r\n\r\n"),        /* space before the colon */
		M("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
		M("GET / HTTP/1.1\rX\r\n\r\n"),                 /* CR not ending a line */
		M("GET / HTTP/1.1\r\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n"),
		M("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"),                  /* NUL */
		M("\0\0\0\0"),
		M("GET / HTTP/1.1\r\nHost: h\r\nA: \x01\r\n\r\n"),
		M("GET / HTTP/1.1\r\nHost: h\r\nA: \x7f\r\n\r\n"),
		M("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),    /* a TLS ClientHello */
		M("\xff\xfe\xfd\r\n\r\n"),
#undef M
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct http_conn c;
		struct cap k;
		http_conn_init(&c);
		cap_init(&k);
		int r = once(&c, &k, t[i].req, t[i].len);
		CHECK_EQ(r, HTTP_CLOSE);
		if (!cap_is(&k, E400))
			fprintf(stderr, "  (case %zu)\n", i);
		CHECK_EQ(c.stats.bad_requests, 1);
		CHECK_EQ(c.stats.resp_4xx, 1);
		free(k.buf);
	}
	/* 400 for a HEAD request carries no body */
	struct cap k;
	CHECK_EQ(ask(&k, "HEAD / HTTP/1.1\r\nHost x\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, "HTTP/1.1 400 Bad Request\r\nServer: pollux\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 12\r\nConnection: close\r\n\r\n"));

	/* an incomplete request waits: everything consumed, nothing written */
	CHECK_EQ(ask(&k, "GET / HTTP/1.1\r\nHost: x\r\n"), 25);
	CHECK_EQ(k.len, 0);
	CHECK_EQ(ask(&k, "GET / HTTP/1.1"), 14);
	CHECK_EQ(k.len, 0);

	/* size: exactly HTTP_MAX_REQUEST bytes is served; one more in the headers is 431, in the request
	 * line 414 (also a line with no end at all) */
	static char big[HTTP_MAX_REQUEST + 64];
	const char *pre = "GET /hello HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	size_t pl = strlen(pre);
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = HTTP_MAX_REQUEST + (size_t)extra;
		memcpy(big, pre, pl);
		memset(big + pl, 'a', n - pl - 4);
		memcpy(big + n - 4, "\r\n\r\n", 4);
		for (int split = 0; split <= 1; split++) {
			struct http_conn c;
			http_conn_init(&c);
			cap_init(&k);
			int r = split ? once(&c, &k, big, 100) : once(&c, &k, big, n);
			if (split && r == 100)
				r = once(&c, &k, big + 100, n - 100);
			if (extra) {
				CHECK_EQ(r, HTTP_CLOSE);
				CHECK(cap_is(&k, E431));
			} else {
				CHECK_EQ(r, split ? (int)(n - 100) : (int)n);
				CHECK(cap_is(&k, HELLO));
			}
			free(k.buf);
		}
	}
	memset(big, 'A', sizeof(big));
	struct http_conn c;
	http_conn_init(&c);
	cap_init(&k);
	CHECK_EQ(once(&c, &k, big, HTTP_MAX_REQUEST), HTTP_MAX_REQUEST);    /* still waiting */
	CHECK_EQ(k.len, 0);
	CHECK_EQ(once(&c, &k, big, 1), HTTP_CLOSE);                         /* one byte too many */
	CHECK(cap_is(&k, E414));
	CHECK_EQ(c.stats.bad_requests, 1);
	free(k.buf);
	/* a long target: 414 however it is split; the same bytes as a header value: 431 */
	for (int hdr = 0; hdr <= 1; hdr++) {
		const char *p1 = hdr ? "GET / HTTP/1.1\r\nX-Long: /" : "GET /";
		size_t l1 = strlen(p1);
		memcpy(big, p1, l1);
		memset(big + l1, 'b', HTTP_MAX_REQUEST);
		for (size_t cut = 1; cut < HTTP_MAX_REQUEST + 10; cut += 97) {
			http_conn_init(&c);
			cap_init(&k);
			int r = once(&c, &k, big, cut);
			if (r == (int)cut)
				r = once(&c, &k, big + cut, HTTP_MAX_REQUEST + 10 - cut);
			CHECK_EQ(r, HTTP_CLOSE);
			CHECK(cap_is(&k, hdr ? E431 : E414));
			free(k.buf);
		}
	}
}

static bool feed(struct http_conn *c, struct cap *k, const char *in, size_t n, const size_t *cuts,
		 size_t ncuts, size_t step);

/* RFC 9112's rules for what a server must refuse: 400 and close for each, however split. */
static void rfc9112(void)
{
	static const struct { const char *req; const char *why; } t[] = {
		{ "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 without Host (3.2)" },
		{ "GET /hello HTTP/1.1\r\nX: y\r\n\r\n", "HTTP/1.1 without Host, other headers" },
		{ "GET http://h/hello HTTP/1.1\r\n\r\n", "absolute-form still needs Host" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "Host twice, same value" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "Host twice, different values" },
		{ "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "Host twice in HTTP/1.0" },
		{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "Host with a space inside" },
		{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "Host with a path" },
		{ "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", "Host with userinfo" },
		{ "GET / HTTP/1.1\r\nHost: h\x80\r\n\r\n", "Host with a non-ASCII byte" },
		{ "GET / HTTP/1.1\r\nHost : h\r\n\r\n", "space before the colon (5.1)" },
		{ "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", "tab before the colon" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", "obsolete line folding (5.2)" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", "folding with a tab" },
		{ "GET / HTTP/1.1\r\n Host: h\r\n\r\n", "whitespace after the request line" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
		  "Content-Length twice, equal (6.3)" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
		  "Content-Length twice, different" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n", "Content-Length as a list" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", "Content-Length with a sign" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
		  "0\r\n\r\n", "Transfer-Encoding with Content-Length (6.1, smuggling)" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
		  "Content-Length then Transfer-Encoding" },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
		  "both in HTTP/1.0" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		size_t n = strlen(t[i].req);
		struct http_conn c;
		struct cap k;
		http_conn_init(&c);
		cap_init(&k);
		/* A valid request first, on the same connection: it is answered, then the bad one. */
		const char *ok = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
		CHECK_EQ(once(&c, &k, ok, strlen(ok)), (int)strlen(ok));
		CHECK(cap_is(&k, HELLO));
		k.len = 0;
		int bad = 0;
		/* every single cut of the bad request gives the same answer */
		for (size_t cut = 0; cut <= n; cut++) {
			struct http_conn c2;
			struct cap k2;
			http_conn_init(&c2);
			cap_init(&k2);
			bool closed = feed(&c2, &k2, t[i].req, n, &cut, 1, 0);
			bad += !closed || k2.len != strlen(E400) || memcmp(k2.buf, E400, k2.len) != 0;
			free(k2.buf);
		}
		int r = once(&c, &k, t[i].req, n);
		if (r != HTTP_CLOSE || bad || !cap_is(&k, E400))
			fprintf(stderr, "  rfc9112 case %zu (%s): r=%d, %d bad splits\n", i, t[i].why, r, bad);
		CHECK_EQ(r, HTTP_CLOSE);
		CHECK_EQ(bad, 0);
		CHECK_EQ(c.stats.bad_requests, 1);
		CHECK_EQ(c.stats.resp_2xx, 1);
		free(k.buf);
	}

	/* What stays valid: HTTP/1.0 without Host, an empty Host, host:port, an IP literal, a Host
	 * the absolute-form target overrides, one Content-Length, Transfer-Encoding alone (413). */
	struct cap k;
	static const char *const good[] = {
		"GET /hello HTTP/1.0\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost:\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: pollux.example:8080\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n",
		"GET /hello HTTP/1.1\r\nhOsT:  x-y_z.~%41!$&'()*+,;=  \r\n\r\n",
		"GET http://other/hello HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: h\r\nX-Host: a\r\nX-Host: b\r\nHostname: c\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ask(&k, good[i]);
		if (!(k.len >= 17 && !memcmp(k.buf, "HTTP/1.1 200 OK\r\n", 17)))
			CHECK_STR(good[i], "(not 200)");
	}
	static const char e413[] = "HTTP/1.1 413 Content Too Large\r\n";
	CHECK_EQ(ask(&k, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP_CLOSE);
	CHECK(k.len > strlen(e413) && !memcmp(k.buf, e413, strlen(e413)));
	/* a missing Host is refused even on a request that would otherwise be 404 or 405 */
	CHECK_EQ(ask(&k, "DELETE /nope HTTP/1.1\r\n\r\n"), HTTP_CLOSE);
	CHECK(cap_is(&k, E400));
}

/* ---- splitting, pipelining, backpressure ---- */

/* Feed in[0..n) in the pieces cut at cuts[0..ncuts) (ascending), writing into k (whose budget is
 * refilled by `step` whenever http_input falls short). Returns true if the connection closed. */
static bool feed(struct http_conn *c, struct cap *k, const char *in, size_t n, const size_t *cuts,
		 size_t ncuts, size_t step)
{
	struct http_out o = cap_out(k);
	size_t at = 0;
	for (size_t p = 0; p <= ncuts; p++) {
		size_t end = p < ncuts ? cuts[p] : n;
		int guard = 0;
		for (;;) {
			int r = http_input(c, in + at, end - at, &o);
			if (r == HTTP_CLOSE)
				return true;
			if (r < 0 || (size_t)r > end - at) {
				CHECK(!"bad http_input result");
				return true;
			}
			at += (size_t)r;
			if (at == end && !http_pending(c))
				break;
			if (++guard > 10000000) {
				CHECK(!"no progress");
				return true;
			}
			k->budget += step;      /* the peer acknowledged something: room again */
		}
	}
	return false;
}

static const char pipe2[] = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";

static void splits(void)
{
	const char *in = pipe2;
	size_t n = strlen(in);
	struct http_conn c;
	struct cap ref, k;
	http_conn_init(&c);
	cap_init(&ref);
	CHECK(!feed(&c, &ref, in, n, NULL, 0, 0));
	CHECK(cap_is(&ref, HELLO H200("text/plain", "64") "Connection: keep-alive\r\n\r\n"));

	/* every single cut, then byte by byte */
	int bad = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		http_conn_init(&c);
		cap_init(&k);
		bool closed = feed(&c, &k, in, n, &cut, 1, 0);
		bad += closed || k.len != ref.len || memcmp(k.buf, ref.buf, ref.len) != 0;
		free(k.buf);
	}
	CHECK_EQ(bad, 0);
	size_t cuts[sizeof(pipe2)];
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	http_conn_init(&c);
	cap_init(&k);
	CHECK(!feed(&c, &k, in, n, cuts, n - 1, 0));
	CHECK(k.len == ref.len && !memcmp(k.buf, ref.buf, ref.len));
	CHECK_EQ(c.stats.requests, 2);
	CHECK_EQ(c.stats.resp_2xx, 2);
	free(k.buf);

	/* every pair of cuts of a request that closes, split across three calls */
	const char *cl = "GET /nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t cn = strlen(cl);
	cap_init(&k);
	http_conn_init(&c);
	CHECK(feed(&c, &k, cl, cn, NULL, 0, 0));
	struct cap ref2 = k;
	bad = 0;
	for (size_t a = 0; a <= cn; a++)
		for (size_t b = a; b <= cn; b++) {
			size_t cc[2] = { a, b };
			struct cap k2;
			http_conn_init(&c);
			cap_init(&k2);
			bool closed = feed(&c, &k2, cl, cn, cc, 2, 0);
			bad += !closed || k2.len != ref2.len || memcmp(k2.buf, ref2.buf, ref2.len) != 0;
			free(k2.buf);
		}
	CHECK_EQ(bad, 0);
	free(ref2.buf);
	free(ref.buf);
}

static void pipeline(void)
{
	enum { N = 1000 };
	static char in[N * 64], want[N * 200];
	size_t n = 0, wn = 0;
	for (int i = 0; i < N; i++) {
		const char *resp;
		char req[64];
		switch (i % 4) {
		case 0: snprintf(req, sizeof(req), "GET /hello?i=%d HTTP/1.1\r\nHost: h\r\n\r\n", i); resp = HELLO; break;
		case 1: snprintf(req, sizeof(req), "GET /n%d HTTP/1.1\r\nHost: p\r\n\r\n", i); resp = E404; break;
		case 2: snprintf(req, sizeof(req), "HEAD /?%d HTTP/1.1\nHost: h\n\n", i);
			resp = H200("text/plain", "64") "\r\n"; break;
		default: snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\nX-I: %d\r\n\r\n", i);
			resp = H200("text/plain", "64") "\r\n" ROOT_BODY; break;
		}
		memcpy(in + n, req, strlen(req));
		n += strlen(req);
		memcpy(want + wn, resp, strlen(resp));
		wn += strlen(resp);
	}
	struct http_conn c;
	struct cap k;
	http_conn_init(&c);
	cap_init(&k);
	CHECK_EQ(once(&c, &k, in, n), n);
	CHECK(k.len == wn && !memcmp(k.buf, want, wn));
	CHECK_EQ(c.stats.requests, N);
	CHECK_EQ(c.stats.resp_2xx, 3 * N / 4);
	CHECK_EQ(c.stats.resp_4xx, N / 4);
	CHECK_EQ(k.zero_writes, 0);
	free(k.buf);

	/* the same, 1460-byte segments (a request per segment boundary is split) */
	size_t cuts[N];
	size_t nc = 0;
	for (size_t at = 1460; at < n; at += 1460)
		cuts[nc++] = at;
	http_conn_init(&c);
	cap_init(&k);
	CHECK(!feed(&c, &k, in, n, cuts, nc, 0));
	CHECK(k.len == wn && !memcmp(k.buf, want, wn));
	free(k.buf);
}

static void backpressure(void)
{
	const char *in = "GET / HTTP/1.1\r\nHost: h\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n"
		"POST / HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t n = strlen(in);
	struct http_conn c;
	struct cap ref, k;
	http_conn_init(&c);
	cap_init(&ref);
	CHECK(feed(&c, &ref, in, n, NULL, 0, 0));

	/* the write falls short after N bytes: http_input stops, says how far it read, resumes */
	http_conn_init(&c);
	cap_init(&k);
	k.budget = 10;
	struct http_out o = cap_out(&k);
	int r = http_input(&c, in, n, &o);
	CHECK_EQ(r, 27);                        /* the first request is read, its answer in progress */
	CHECK(http_pending(&c));
	CHECK_EQ(k.len, 10);
	CHECK_EQ(http_input(&c, in + r, n - r, &o), 0); /* still no room: nothing more read */
	k.budget = 145 - 10 + 50;               /* the rest of the first answer, part of the second */
	int r2 = http_input(&c, in + r, n - r, &o);
	CHECK(r2 > 0 && (size_t)r2 < n - (size_t)r);
	k.budget = SIZE_MAX;
	CHECK_EQ(http_input(&c, in + r + r2, n - r - r2, &o), HTTP_CLOSE);
	CHECK(k.len == ref.len && !memcmp(k.buf, ref.buf, ref.len));
	free(k.buf);

	/* the answer to a request that ended exactly at the end of the data: call again with len 0 */
	http_conn_init(&c);
	cap_init(&k);
	k.budget = 5;
	o = cap_out(&k);
	CHECK_EQ(http_input(&c, in, 27, &o), 27);
	CHECK(http_pending(&c));
	k.budget = SIZE_MAX;
	CHECK_EQ(http_input(&c, in + 27, 0, &o), 0);
	CHECK(!http_pending(&c));
	CHECK(k.len == 145 && !memcmp(k.buf, ref.buf, k.len));
	free(k.buf);

	/* every budget step, taking partial writes or only whole ones, and with segment cuts */
	int bad = 0;
	for (int whole = 0; whole <= 1; whole++)
		for (size_t step = 1; step <= ref.len + 1; step++) {
			size_t cut = (step * 7) % (n + 1);
			http_conn_init(&c);
			cap_init(&k);
			k.budget = 0;
			k.all_or_nothing = whole;
			bool closed = feed(&c, &k, in, n, step % 3 ? &cut : NULL, step % 3 ? 1 : 0, step);
			bad += !closed || k.len != ref.len || memcmp(k.buf, ref.buf, ref.len) != 0;
			bad += k.zero_writes != 0;
			free(k.buf);
		}
	CHECK_EQ(bad, 0);
	free(ref.buf);
}

/* ---- fuzz: random bytes and random near-HTTP text, random cuts and budgets ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static void fuzz(void)
{
	static const char *words[] = {
		"GET", "HEAD", "POST", " ", "  ", "/", "/hello", "/?a=b", "http://h/hello", "HTTP/1.1", "HTTP/1.0",
		"HTTP/2.0", "\r\n", "\n", "\r", "\r\n\r\n", "\n\n", "Connection", ":", ": ", "close", "keep-alive",
		",", "Content-Length", "0", "7", "Transfer-Encoding", "Host: x", "\t", "\0", "\x7f", "\xff", "a",
	};
	static const char *reqs[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD /hello?x HTTP/1.1\nHost: h\n\n",
		"GET /nope HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nAccept: */*\r\n\r\n", "\r\n",
		"GET http://h/hello HTTP/1.1\r\nHost: h\r\nUser-Agent: fuzz\r\nAccept-Encoding: gzip, deflate\r\n\r\n",
	};
	enum { ITER = 100000, MAXIN = 2600 };
	static char in[MAXIN];
	uint64_t answers = 0, mismatches = 0, closes = 0;
	struct http_conn *c = malloc(sizeof(*c));     /* on the heap, exact size: overruns are seen */
	for (int it = 0; it < ITER; it++) {
		size_t n = 0;
		uint32_t mode = rnd(4);
		if (mode == 0) {
			n = rnd(MAXIN);
			for (size_t i = 0; i < n; i++)
				in[i] = (char)rnd(256);
		} else if (mode == 1) {
			/* valid requests, pipelined, then a few bytes flipped, dropped or doubled */
			uint32_t nr = 1 + rnd(8);
			for (uint32_t q = 0; q < nr; q++) {
				const char *s = reqs[rnd(ARRAY_SIZE(reqs))];
				size_t l = strlen(s);
				if (n + l > MAXIN)
					break;
				memcpy(in + n, s, l);
				n += l;
			}
			for (uint32_t m = rnd(4); m && n; m--) {
				size_t at = rnd((uint32_t)n);
				switch (rnd(3)) {
				case 0: in[at] = (char)rnd(256); break;
				case 1: memmove(in + at, in + at + 1, n - at - 1); n--; break;
				default: if (n < MAXIN) { memmove(in + at + 1, in + at, n - at); n++; } break;
				}
			}
		} else {
			uint32_t nw = rnd(it % 50 ? 40 : 400);
			for (uint32_t w = 0; w < nw; w++) {
				const char *s = words[rnd(ARRAY_SIZE(words))];
				size_t l = s[0] ? strlen(s) : 1;        /* the "\0" word is one byte */
				if (n + l > MAXIN)
					break;
				memcpy(in + n, s, l);
				n += l;
			}
		}
		struct cap whole, part;
		http_conn_init(c);
		cap_init(&whole);
		bool cw = feed(c, &whole, in, n, NULL, 0, 0);
		size_t cuts[3] = { rnd((uint32_t)n + 1), 0, 0 };
		cuts[1] = cuts[0] + rnd((uint32_t)(n - cuts[0]) + 1);
		cuts[2] = cuts[1] + rnd((uint32_t)(n - cuts[1]) + 1);
		http_conn_init(c);
		cap_init(&part);
		part.budget = rnd(300);
		part.all_or_nothing = rnd(2);
		bool cp = feed(c, &part, in, n, cuts, 3, 1 + rnd(500));
		mismatches += cw != cp || whole.len != part.len || memcmp(whole.buf, part.buf, whole.len) != 0;
		mismatches += whole.zero_writes + part.zero_writes;
		answers += c->stats.requests;
		closes += cw;
		free(whole.buf);
		free(part.buf);
	}
	free(c);
	CHECK_EQ(mismatches, 0);
	CHECK(answers > ITER / 2);      /* the text mode does reach the responder often */
	CHECK(closes > ITER / 4);
	printf("  fuzz: %d inputs, %llu answers, %llu closed\n", ITER, (unsigned long long)answers,
	       (unsigned long long)closes);
}

static void stats(void)
{
	struct http_stats sum = { 1, 1, 0, 0, 0, 0 };
	struct http_stats s = { 10, 5, 4, 3, 2, 1 };
	http_stats_add(&sum, &s);
	CHECK(sum.requests == 11 && sum.resp_2xx == 6 && sum.resp_3xx == 4 && sum.resp_4xx == 3 &&
	      sum.resp_5xx == 2 && sum.bad_requests == 1);
	/* out->stats gathered every answer of every test so far, classes adding up */
	CHECK(core_stats.requests > 1000);
	CHECK_EQ(core_stats.requests, core_stats.resp_2xx + core_stats.resp_3xx + core_stats.resp_4xx +
						core_stats.resp_5xx);
	CHECK(core_stats.resp_5xx > 0 && core_stats.bad_requests > 0);
}

TEST_MAIN("test_http: proves GET/HEAD/404/405/413/400/414/431/505 answers byte for byte, RFC 9112's "
	  "refusals (Host missing or repeated, whitespace before a colon, folding, repeated Content-Length, "
	  "Transfer-Encoding with Content-Length), keep-alive rules, "
	  "identical output at every split point and write shortfall, 1000 pipelined answers in order, "
	  "no overrun on 100k random inputs", {
	http_init();
	routes();
	keepalive();
	malformed();
	splits();
	rfc9112();
	pipeline();
	backpressure();
	fuzz();
	stats();
})
