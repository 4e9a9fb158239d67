/* test_site: the packed site (scripts/site.py, net/site.c) served by net/http.c, byte for byte
 * against the files of tests/unit/site; the packer's refusals; a damaged image refused; lookups of
 * 100,000 files. */
#define _DEFAULT_SOURCE        /* mkdtemp, mkstemp */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "kernel.h"
#include "net/http.h"
#include "net/site.h"

#define TREE "tests/unit/site"

extern const unsigned char pollux_site[], pollux_site_end[];

/* ---- an http_out that keeps everything ---- */
struct cap {
	char *buf;
	size_t len;
};

static int cap_write(void *ctx, const void *p, size_t n, bool copy)
{
	struct cap *k = ctx;
	(void)copy;
	k->buf = realloc(k->buf, k->len + n + 1);
	if (!k->buf)
		abort();
	memcpy(k->buf + k->len, p, n);
	k->len += n;
	k->buf[k->len] = 0;
	return (int)n;
}

/* One answer, split into its header (NUL-terminated, through the empty line) and body. */
struct resp {
	int status;
	char head[4096];
	const char *body;
	size_t body_len;
	struct cap k;
};

static void ask(struct resp *r, const char *req)
{
	struct http_conn c;
	struct http_stats st = { 0 };
	free(r->k.buf);
	memset(r, 0, sizeof(*r));
	http_conn_init(&c);
	struct http_out o = { &r->k, cap_write, &st };
	http_input(&c, req, strlen(req), &o);
	const char *e = r->k.buf ? strstr(r->k.buf, "\r\n\r\n") : NULL;
	if (!e)
		return;
	size_t hl = (size_t)(e + 4 - r->k.buf);
	memcpy(r->head, r->k.buf, hl < sizeof(r->head) ? hl : sizeof(r->head) - 1);
	r->status = atoi(r->k.buf + 9);
	r->body = r->k.buf + hl;
	r->body_len = r->k.len - hl;
}

/* The value of header name in r (without CR LF), or "" when absent. */
static const char *hdr(const struct resp *r, const char *name)
{
	static char v[1024];
	char key[128];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *p = strstr(r->head, key);
	v[0] = 0;
	if (p) {
		p += strlen(key);
		size_t n = strcspn(p, "\r");
		snprintf(v, sizeof(v), "%.*s", (int)n, p);
	}
	return v;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *b = malloc(64 << 20);
	*n = fread(b, 1, 64 << 20, f);
	fclose(f);
	return b;
}

static bool body_is_file(const struct resp *r, const char *path)
{
	size_t n;
	char *b = slurp(path, &n);
	bool ok = b && r->body_len == n && !memcmp(r->body, b, n);
	free(b);
	return ok;
}

static struct resp R;

static void files(void)
{
	ask(&R, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(R.status, 200);
	CHECK(body_is_file(&R, TREE "/index.html"));
	CHECK_STR(hdr(&R, "Content-Type"), "text/html; charset=utf-8");
	CHECK_STR(hdr(&R, "Cache-Control"), POLLUX_HTTP_CACHE_CONTROL);
	CHECK_STR(hdr(&R, "Accept-Ranges"), "bytes");
	CHECK(strlen(hdr(&R, "ETag")) == 22 && hdr(&R, "ETag")[0] == '"');
	CHECK(strlen(hdr(&R, "Last-Modified")) == 29 && strstr(hdr(&R, "Last-Modified"), " GMT"));
	CHECK_STR(hdr(&R, "Vary"), "");                 /* 49 bytes: never compressed */
	char etag[64];
	snprintf(etag, sizeof(etag), "%s", hdr(&R, "ETag"));
	ask(&R, "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, TREE "/index.html"));
	CHECK_STR(hdr(&R, "ETag"), etag);               /* the same bytes, the same tag */

	/* a directory: "dir" redirects to "dir/", which is its index */
	ask(&R, "GET /docs HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(R.status, 301);
	CHECK_STR(hdr(&R, "Location"), "docs/");
	ask(&R, "GET /docs?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(R.status, 301);
	/* an IPv6 literal as the Host or in an absolute-form target (RFC 3986 3.2.2's brackets and
	 * colons): the same answers, the Location relative, naming no host */
	ask(&R, "GET /docs HTTP/1.1\r\nHost: [fd00:198:18::2]:80\r\n\r\n");
	CHECK_EQ(R.status, 301);
	CHECK_STR(hdr(&R, "Location"), "docs/");
	ask(&R, "GET http://[fd00:198:18::2]:80/docs HTTP/1.1\r\nHost: [fd00:198:18::2]\r\n\r\n");
	CHECK_EQ(R.status, 301);
	CHECK_STR(hdr(&R, "Location"), "docs/");
	ask(&R, "GET http://[fd00:198:18::2]/docs/ HTTP/1.1\r\nHost: [fd00:198:18::2]\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, TREE "/docs/index.html"));
	ask(&R, "GET /docs/ HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, TREE "/docs/index.html"));
	ask(&R, "GET /empty-dir/ HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(R.status, 404);                        /* no index, no listing */

	/* names that need percent-encoding, decoded before lookup */
	ask(&R, "GET /docs/a%20b.txt HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, TREE "/docs/a b.txt"));
	CHECK_STR(hdr(&R, "Content-Type"), "text/plain; charset=utf-8");
	ask(&R, "GET /d%6fcs/a%20b.txt HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ(R.status, 200);
	ask(&R, "GET /img/dot.png HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, TREE "/img/dot.png"));
	CHECK_STR(hdr(&R, "Content-Type"), "image/png");
	ask(&R, "GET /empty.txt HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && R.body_len == 0);
	CHECK_STR(hdr(&R, "Content-Length"), "0");

	/* unknown paths get the site's 404.html, with status 404 */
	ask(&R, "GET /no/such HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 404 && body_is_file(&R, TREE "/404.html"));
	CHECK_STR(hdr(&R, "Content-Type"), "text/html; charset=utf-8");
	CHECK_STR(hdr(&R, "ETag"), "");
	ask(&R, "HEAD /no/such HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 404 && R.body_len == 0);

	/* refused with 400: a path above the root, an encoded NUL, a broken escape */
	const char *bad[] = { "/..", "/../etc/passwd", "/docs/%2e%2e/x", "/%2E%2E", "/a/..", "/%00", "/a%zz",
			      "/a%2", "/a%" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", bad[i]);
		ask(&R, req);
		CHECK_EQ(R.status, 400);
	}
	ask(&R, "GET /..a HTTP/1.1\r\nHost: h\r\n\r\n");        /* a name, not a step up */
	CHECK_EQ(R.status, 404);
	ask(&R, "DELETE /index.html HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 405 && !strcmp(hdr(&R, "Allow"), "GET, HEAD"));
}

/* Decompress body with the named tool (Debian's gzip or brotli) and compare with the file. */
static bool decodes_to(const struct resp *r, const char *tool, const char *path)
{
	char tmp[] = "/tmp/test_site.XXXXXX", cmd[512];
	int fd = mkstemp(tmp);
	if (fd < 0 || write(fd, r->body, r->body_len) != (ssize_t)r->body_len)
		return false;
	close(fd);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "%s -dc < %s | cmp -s - '%s'", tool, tmp, path);
	int rc = system(cmd);
	unlink(tmp);
	return rc == 0;
}

static void encodings(void)
{
	const char *css = TREE "/css/main.css";
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(R.status == 200 && body_is_file(&R, css));
	CHECK_STR(hdr(&R, "Vary"), "Accept-Encoding");
	CHECK_STR(hdr(&R, "Content-Encoding"), "");
	char id_tag[64];
	snprintf(id_tag, sizeof(id_tag), "%s", hdr(&R, "ETag"));

	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
	CHECK_STR(hdr(&R, "Content-Encoding"), "gzip");
	CHECK(R.body_len < 7690 && decodes_to(&R, "gzip", css));
	CHECK(strcmp(hdr(&R, "ETag"), id_tag) != 0);    /* each form its own strong tag */
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n");
	CHECK_STR(hdr(&R, "Content-Encoding"), "br");
	CHECK(decodes_to(&R, "brotli", css));
	CHECK_STR(hdr(&R, "Content-Length"), (snprintf(id_tag, sizeof(id_tag), "%zu", R.body_len), id_tag));
	/* weights: q=0 refuses a coding, "*" stands for the others */
	struct { const char *ae, *want; } cases[] = {
		{ "br;q=0, gzip", "gzip" }, { "br;q=0.0, gzip;q=0", "" }, { "*", "br" }, { "br; q=0 , *", "gzip" },
		{ "identity", "" }, { "x-gzip", "gzip" }, { "GZIP;Q=0.5", "gzip" }, { "*;q=0", "" }, { "", "" },
		{ "br;q=0.001", "br" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: %s\r\n\r\n",
			 cases[i].ae);
		ask(&R, req);
		if (strcmp(hdr(&R, "Content-Encoding"), cases[i].want))
			fprintf(stderr, "  Accept-Encoding: %s -> '%s', want '%s'\n", cases[i].ae,
				hdr(&R, "Content-Encoding"), cases[i].want);
		CHECK_STR(hdr(&R, "Content-Encoding"), cases[i].want);
	}
	/* a small file is never compressed, whatever is asked */
	ask(&R, "GET /docs/a%20b.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br, gzip\r\n\r\n");
	CHECK(R.status == 200 && !strcmp(hdr(&R, "Content-Encoding"), "") && body_is_file(&R, TREE "/docs/a b.txt"));
}

static void conditions(void)
{
	char tag[64], lm[64], req[512];
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\n\r\n");
	snprintf(tag, sizeof(tag), "%s", hdr(&R, "ETag"));
	snprintf(lm, sizeof(lm), "%s", hdr(&R, "Last-Modified"));

	snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: %s\r\n\r\n", tag);
	ask(&R, req);
	CHECK(R.status == 304 && R.body_len == 0);
	CHECK_STR(hdr(&R, "ETag"), tag);
	CHECK_STR(hdr(&R, "Content-Length"), "");
	CHECK_STR(hdr(&R, "Vary"), "Accept-Encoding");
	snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", W/%s\r\n\r\n", tag);
	ask(&R, req);
	CHECK_EQ(R.status, 304);                /* a list, and the weak comparison */
	ask(&R, "HEAD /css/main.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: *\r\n\r\n");
	CHECK_EQ(R.status, 304);
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"other\"\r\n\r\n");
	CHECK(R.status == 200 && R.body_len == 7690);
	/* the gzip form's tag is not the identity form's: asking with gzip and the identity tag is 200 */
	snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nIf-None-Match: %s\r\n\r\n",
		 tag);
	ask(&R, req);
	CHECK_EQ(R.status, 200);

	snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: %s\r\n\r\n", lm);
	ask(&R, req);
	CHECK_EQ(R.status, 304);
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
	CHECK_EQ(R.status, 200);
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n");
	CHECK_EQ(R.status, 304);
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: yesterday\r\n\r\n");
	CHECK_EQ(R.status, 200);                /* not a date: ignored */
	/* If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2) */
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"other\"\r\n"
		"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n");
	CHECK_EQ(R.status, 200);
}

static void ranges(void)
{
	size_t n;
	char *css = slurp(TREE "/css/main.css", &n), req[512], tag[64];
	struct { const char *range; int status; size_t off, len; const char *cr; } cases[] = {
		{ "bytes=0-9", 206, 0, 10, "bytes 0-9/7690" },
		{ "bytes=7680-", 206, 7680, 10, "bytes 7680-7689/7690" },
		{ "bytes=-5", 206, 7685, 5, "bytes 7685-7689/7690" },
		{ "bytes=-99999", 206, 0, 7690, "bytes 0-7689/7690" },
		{ "bytes=100-99999", 206, 100, 7590, "bytes 100-7689/7690" },
		{ "bytes = 5-5", 0, 0, 0, "" },
		{ "bytes=5-5", 206, 5, 1, "bytes 5-5/7690" },
		{ "bytes=7690-", 416, 0, 0, "bytes */7690" },
		{ "bytes=-0", 416, 0, 0, "bytes */7690" },
		{ "bytes=0-1,5-6", 200, 0, 7690, "" },  /* several: served whole */
		{ "bytes=9-3", 200, 0, 7690, "" },      /* invalid: ignored */
		{ "items=0-1", 200, 0, 7690, "" },
		{ "bytes=x", 200, 0, 7690, "" },
		{ "bytes=99999999999999999999-", 200, 0, 7690, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nRange: %s\r\n\r\n", cases[i].range);
		ask(&R, req);
		if (!cases[i].status)
			continue;       /* "bytes = 5-5": spaces around '=' are not the grammar; either is fine */
		CHECK_EQ(R.status, cases[i].status);
		CHECK_STR(hdr(&R, "Content-Range"), cases[i].cr);
		if (cases[i].status != 416)
			CHECK(R.body_len == cases[i].len && !memcmp(R.body, css + cases[i].off, cases[i].len));
	}
	/* If-Range: the range only while the tag or date still holds; HEAD never gets one */
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\n\r\n");
	snprintf(tag, sizeof(tag), "%s", hdr(&R, "ETag"));
	snprintf(req, sizeof(req), "GET /css/main.css HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\nIf-Range: %s\r\n\r\n", tag);
	ask(&R, req);
	CHECK(R.status == 206 && R.body_len == 1);
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\nIf-Range: \"old\"\r\n\r\n");
	CHECK(R.status == 200 && R.body_len == 7690);
	ask(&R, "HEAD /css/main.css HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\n\r\n");
	CHECK(R.status == 200 && R.body_len == 0 && !strcmp(hdr(&R, "Content-Length"), "7690"));
	/* two Range lines: ignored */
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\nRange: bytes=1-1\r\n\r\n");
	CHECK_EQ(R.status, 200);
	/* a range of the gzip form, which is what the client asked for */
	ask(&R, "GET /css/main.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nRange: bytes=0-1\r\n\r\n");
	CHECK(R.status == 206 && R.body_len == 2 && (unsigned char)R.body[0] == 0x1f &&
	      (unsigned char)R.body[1] == 0x8b && !strcmp(hdr(&R, "Content-Encoding"), "gzip"));
	free(css);
}

/* site_open checks every offset: damaged copies of the image are refused, never read past. */
static void damaged(void)
{
	size_t len = (size_t)(pollux_site_end - pollux_site);
	uint64_t *copy = malloc(len + 8);
	struct site s;
	memcpy(copy, pollux_site, len);
	CHECK_EQ(site_open(&s, copy, len), 0);
	CHECK(site_find(&s, "/css/main.css", 13) != NULL);
	CHECK(site_find(&s, "/css/main.cs", 12) == NULL);
	CHECK(site_open(&s, copy, len - 1) != 0);       /* truncated */
	CHECK(site_find(&s, "/css/main.css", 13) == NULL);       /* refused: nothing is found */
	CHECK(site_open(&s, (char *)copy + 1, len - 1) != 0);     /* misaligned */
	struct site_hdr *h = (struct site_hdr *)copy;
	h->magic[0] ^= 1;
	CHECK(site_open(&s, copy, len) != 0);
	h->magic[0] ^= 1;
	h->nbuckets = 3;
	CHECK(site_open(&s, copy, len) != 0);
	memcpy(copy, pollux_site, len);
	struct site_file *f = (struct site_file *)((char *)copy + h->files_off);
	f[0].form[0].len = len;                          /* bytes beyond the image */
	CHECK(site_open(&s, copy, len) != 0);
	memcpy(copy, pollux_site, len);
	f[1].path_len++;                                 /* a path no longer its hash's */
	CHECK(site_open(&s, copy, len) != 0);
	memcpy(copy, pollux_site, len);
	memset(f[2].lastmod, 'x', 32);                   /* a string with no end */
	CHECK(site_open(&s, copy, len) != 0);
	memcpy(copy, pollux_site, len);
	f[2].lastmod[0] = 0;                             /* a file without its date */
	CHECK(site_open(&s, copy, len) != 0);
	memcpy(copy, pollux_site, len);
	h->max_probe = 0;                                /* stored paths out of reach of lookups */
	CHECK(site_open(&s, copy, len) != 0);
	free(copy);
}

static int run(const char *cmd)
{
	fflush(stdout);                 /* the child's output after ours, not before */
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* What the packer refuses, with the reason on stderr; and what it follows. */
static void packer(void)
{
	char d[] = "/tmp/test_site_pack.XXXXXX", cmd[1024];
	CHECK(mkdtemp(d) != NULL);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/t/sub && echo hi > %s/t/sub/f.txt && ln -s sub/f.txt %s/t/link.txt && "
		 "python3 scripts/site.py %s/t %s/ok.bin >/dev/null 2>%s/err", d, d, d, d, d, d);
	CHECK_EQ(run(cmd), 0);                          /* a symlink inside the tree is followed */
	struct { const char *setup, *opt, *says; } bad[] = {
		{ "ln -s /etc/passwd t/out", "", "outside" },
		{ "printf 'x' > \"t/$(printf 'a\\001b')\"", "", "control character" },
		{ "printf 'x' > \"t/$(printf 'a\\377b')\"", "", "not UTF-8" },
		{ "mkfifo t/fifo", "", "not a regular file" },
		{ "head -c 2000000 /dev/zero > t/big.bin", "--max-file-mb 1", "over the limit" },
		{ "ln -s . t/sub/loop", "", "loop" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "cd %s && rm -rf t && mkdir -p t/sub && echo hi > t/sub/f.txt && %s && cd - >/dev/null && "
			 "python3 scripts/site.py %s %s/t %s/bad.bin 2>%s/err", d, bad[i].setup, bad[i].opt, d, d, d);
		CHECK(run(cmd) != 0);
		snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/err", bad[i].says, d);
		if (run(cmd) != 0) {
			snprintf(cmd, sizeof(cmd), "cat %s/err >&2", d);
			run(cmd);
		}
		CHECK_EQ(run(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	run(cmd);
}

/* A site of 100,000 files: every one found, none probing more than a few buckets. */
static void many(void)
{
	char d[] = "/tmp/test_site_many.XXXXXX", cmd[1024];
	CHECK(mkdtemp(d) != NULL);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir t && cd t && python3 -c \"import os\n"
		 "for i in range(100):\n os.mkdir('d%%d' %% i)\n for j in range(1000):\n"
		 "  open('d%%d/f%%d.txt' %% (i, j), 'w').write('%%d\\n' %% j)\" && cd .. && "
		 "python3 $ROOT/scripts/site.py t site.bin >/dev/null", d);
	char here[512];
	CHECK(getcwd(here, sizeof(here)) != NULL);
	char full[1600];
	snprintf(full, sizeof(full), "ROOT=%s; %s", here, cmd);
	CHECK_EQ(run(full), 0);
	snprintf(full, sizeof(full), "%s/site.bin", d);
	size_t n;
	char *b = slurp(full, &n);
	struct site s;
	bool opened = b && site_open(&s, b, n) == 0;
	CHECK(opened);
	if (!opened)
		return;
	CHECK_EQ(s.h->nfiles, 100000);
	CHECK(s.h->max_probe <= 16);
	uint32_t found = 0;
	for (int i = 0; i < 100; i++)
		for (int j = 0; j < 1000; j++) {
			char p[64];
			int l = snprintf(p, sizeof(p), "/d%d/f%d.txt", i, j);
			found += site_find(&s, p, (size_t)l) != NULL;
		}
	CHECK_EQ(found, 100000);
	printf("  100,000 files: %u buckets, the longest probe %u\n", s.h->nbuckets, s.h->max_probe);
	free(b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	run(cmd);
}

TEST_MAIN("test_site: proves the packed site answers each file of tests/unit/site byte for byte with its type, "
	  "ETag, Last-Modified and Cache-Control, directories redirected to their index (the same with an IPv6 "
	  "literal as Host or in the target), percent-decoded names, "
	  "the site's 404 page, '..' and NUL refused, gzip and Brotli forms chosen by Accept-Encoding and "
	  "decoded by Debian's tools, 304 for If-None-Match and If-Modified-Since, single ranges (206, 416) "
	  "and If-Range, a damaged image refused, the packer's refusals, and 100,000 files found within a "
	  "bounded probe", {
	http_init();
	files();
	encodings();
	conditions();
	ranges();
	damaged();
	packer();
	many();
	free(R.k.buf);
})
