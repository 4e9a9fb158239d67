/* HTTP/1.1 static responder: a pure, incremental request parser and response writer, per connection. */
#ifndef POLLUX_HTTP_H
#define POLLUX_HTTP_H

/*
 * What it serves: GET and HEAD of the config routes (http_route_find) and of the site packed into
 * the image (net/site.h, scripts/site.py), nothing else.
 *
 *   - Requests arrive as TCP hands them over, split at any byte or several to a segment
 *     (pipelining); responses leave in request order.
 *   - Request line `METHOD SP target SP HTTP/1.x`, lines end in CRLF or a bare LF; empty lines
 *     before a request are skipped. The target is origin-form (`/path?query`) or absolute-form
 *     (`http://host/path`); the query is ignored; the path is percent-decoded, then matched
 *     exactly against the routes, then the site. A `..` segment, an encoded NUL or a broken
 *     escape is 400.
 *   - Site files: Content-Type, Content-Length, Accept-Ranges, a strong ETag per form,
 *     Last-Modified, Cache-Control (POLLUX_HTTP_CACHE_CONTROL), Vary when the file has gzip or
 *     Brotli forms, chosen by Accept-Encoding; If-None-Match, else If-Modified-Since -> 304; one
 *     Range -> 206 or 416 (several, or a malformed one: the whole file), If-Range honoured;
 *     "dir" -> 301 to "dir/", which is its index.html; unknown paths -> the site's 404.html.
 *   - Connection: HTTP/1.1 keeps the connection unless a `Connection: close` token; HTTP/1.0
 *     closes it unless a `Connection: keep-alive` token (header names and tokens in any case).
 *   - No request content is accepted: `Content-Length` > 0 or any `Transfer-Encoding` is answered
 *     413 and the connection closes, because its body bytes would otherwise be read as requests.
 *   - 400 + close (RFC 9112): a malformed request line, a missing or malformed version, a control
 *     byte, a header line without a colon, whitespace before the colon (5.1), obsolete line folding
 *     (5.2), a missing Host in HTTP/1.1, more than one Host, or a Host that is no host[:port] (3.2),
 *     a bad or repeated Content-Length (even with the same value), Transfer-Encoding together with
 *     Content-Length (6.1, request smuggling). 505 + close: HTTP/2+.
 *   - Size: the request line and headers together fit in HTTP_MAX_REQUEST bytes; a request line
 *     that does not is answered 414 (URI Too Long), headers that do not 431 (Request Header
 *     Fields Too Large); both close.
 *   - 405 with `Allow: GET, HEAD` for other methods; 404 with a short body for unknown paths when
 *     the site has no 404.html.
 *
 * Memory: struct http_conn is fixed (HTTP_MAX_REQUEST bytes of buffer plus a few words); nothing
 * is allocated. A request complete inside one segment is parsed in place, without a copy; only a
 * request split across segments is gathered in the buffer. Bodies (routes, site files) are static
 * memory, handed to TCP by reference.
 *
 * Routes come from the configuration header (config/default.h), before the site:
 *   "/"     POLLUX_HTTP_BODY_SIZE bytes of a fixed pattern (when not 0), made by http_init()
 *   POLLUX_HTTP_ROUTES(R)   one R(path, content_type, "body") per extra route, e.g.
 *       #define POLLUX_HTTP_ROUTES(R) \
 *               R("/hello", "text/plain", "Hello from Pollux\n")
 * Bodies are string literals: static memory, so they are handed to TCP without a copy.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_check.h"

#define HTTP_MAX_REQUEST POLLUX_HTTP_MAX_REQUEST   /* bytes of request line + headers */
#define HTTP_CLOSE (-1)         /* http_input: every response is written; close the connection */

struct http_route {
	const char *path;       /* exact path, starts with '/' */
	const char *type;       /* Content-Type */
	const char *body;       /* static: stays valid while the image runs */
	size_t len;
};

/* Counted when a response is decided (whether or not it has been written yet). */
struct http_stats {
	uint64_t requests;      /* requests answered, bad ones included */
	uint64_t resp_2xx;
	uint64_t resp_3xx;              /* 301 to a directory's index, 304 Not Modified */
	uint64_t resp_4xx;
	uint64_t resp_5xx;
	uint64_t bad_requests;  /* answered 400, 414 or 431: malformed or oversized */
};

/*
 * Where responses go. write(ctx, p, n, copy) hands over n > 0 bytes at p:
 *   copy == false: p is static memory (a route body) that stays valid, so it may be sent by
 *                  reference (lwIP: tcp_write without TCP_WRITE_FLAG_COPY);
 *   copy == true:  p is a header built on the stack, valid only during the call.
 * It returns how many bytes it took, from the front: n when it took them all, fewer (0 included)
 * when the send buffer filled up, or a negative value when it took none. Anything short of n
 * stops http_input (backpressure); the rest of that response is written by the next call.
 * An lwIP glue takes min(n, tcp_sndbuf(pcb), 0xffff) and returns that count (-1 on ERR_MEM).
 */
struct http_out {
	void *ctx;
	int (*write)(void *ctx, const void *p, size_t n, bool copy);
	struct http_stats *stats;       /* may be NULL; otherwise counted here too (a core's totals) */
};

/* A response decided but not yet fully written (the send buffer filled). Its header is built
 * again, identically, from these fields when writing resumes. */
struct site_file;
struct http_resp {
	const struct http_route *r;     /* type and body of a route or an error answer */
	const struct site_file *f;      /* or a site file: its form's bytes [off, off + len) */
	const struct site_file *loc;    /* 301: the redirect entry whose Location is sent */
	uint64_t off, len;              /* the body: len bytes from off */
	uint64_t total;                 /* 206, 416: the whole form's length (Content-Range) */
	uint64_t sent;                  /* bytes of header + body already taken by write */
	uint16_t status;                /* 0: nothing pending */
	uint8_t flags;                  /* HTTP_RF_* */
	uint8_t form;                   /* SITE_IDENTITY, SITE_GZIP, SITE_BR */
};
#define HTTP_RF_HEAD  0x01      /* HEAD: headers only, Content-Length of the body */
#define HTTP_RF_CLOSE 0x02      /* `Connection: close`, then the connection ends */
#define HTTP_RF_KA    0x04      /* `Connection: keep-alive` (an HTTP/1.0 client asked for it) */

struct http_conn {
	uint32_t len;           /* bytes of the current request seen so far (idle: 0) */
	uint8_t scan;           /* where the scanner is in the current line (http.c) */
	bool in_headers;        /* the current request's line has ended: a byte over the limit is 431 */
	bool closed;            /* the closing response is written: input is ignored */
	struct http_resp resp;
	struct http_stats stats;        /* this connection's own counts */
	char buf[HTTP_MAX_REQUEST];     /* a request split across calls, gathered */
};

/* Once at boot, before any connection: fill the "/" body, check the route table, open the site
 * (a damaged one stops the boot). */
void http_init(void);

/* A new connection (or reuse of c's memory for one). */
void http_conn_init(struct http_conn *c);

/*
 * Feed len bytes just received on c's connection (len may be 0: resume writing only). Answers
 * every complete request in order through out. Returns:
 *   n >= 0      data[0..n) is consumed and must not be passed again; data[n..len) is not
 *               (n < len only when out->write fell short). Keep the rest and call again, with
 *               data + n, once the send buffer has room. If http_pending(c), call again even
 *               with nothing left (len 0) so the response in progress is finished.
 *   HTTP_CLOSE  the response that ends the connection (an error, `Connection: close`, HTTP/1.0)
 *               has been taken whole by write: flush and close. Later calls return HTTP_CLOSE
 *               and write nothing; bytes after that request are never looked at.
 * Output is identical however the input is split and wherever write falls short.
 * len is capped at INT_MAX per call (n tells how much was taken).
 */
int http_input(struct http_conn *c, const char *data, size_t len, struct http_out *out);

/* A response is partly written: call http_input again when the send buffer has room. */
static inline bool http_pending(const struct http_conn *c) { return c->resp.status != 0; }

/* Files in the packed site (0 before http_init). */
uint32_t http_site_files(void);

/* The route for path[0..len) (no query), or NULL. */
const struct http_route *http_route_find(const char *path, size_t len);

/* sum += s, field by field (e.g. a closed connection's counts into a core's). */
void http_stats_add(struct http_stats *sum, const struct http_stats *s);

#endif
