/* A static site packed into the image at build time (scripts/site.py), read in place. */
#ifndef POLLUX_SITE_H
#define POLLUX_SITE_H

/*
 * The image: a header, nfiles fixed-size entries, nbuckets hash buckets, the strings, the bytes.
 * Every offset counts from the image's first byte; integers are little-endian (both targets are).
 * Paths are stored decoded ("/a b.txt"), so a request's target is percent-decoded before lookup.
 *
 * Lookup hashes the path (FNV-1a 64) into a power-of-two table probed linearly; the packer
 * records the longest probe any stored path needed, so a lookup compares at most max_probe
 * entries whatever the request: its cost is the same with 10 files and with 100,000.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SITE_IDENTITY 0
#define SITE_GZIP 1
#define SITE_BR 2
#define SITE_FORMS 3

#define SITE_F_REDIRECT 0x1     /* "dir" of a "dir/" with an index: 301 to loc */

struct site_hdr {
	char magic[8];          /* "PLXSITE1" */
	uint32_t nfiles;
	uint32_t nbuckets;      /* power of two; each bucket is an entry's index + 1, or 0 */
	uint32_t max_probe;     /* buckets any stored path needed, at most */
	uint32_t notfound;      /* the entry of /404.html + 1, or 0 */
	uint64_t files_off, buckets_off, total;
	uint8_t pad[16];
};

struct site_form {
	uint64_t off, len;      /* the bytes of this form; len 0 and etag "" when absent */
	char etag[24];          /* a quoted strong ETag, NUL-terminated */
};

struct site_file {
	uint64_t hash;          /* FNV-1a 64 of the path */
	uint64_t mtime;         /* seconds since 1970 (Last-Modified), 0 for a redirect */
	uint32_t path_off;
	uint16_t path_len, flags;
	uint32_t type_off;
	uint16_t type_len;
	uint16_t loc_len;
	uint32_t loc_off;
	uint32_t pad;
	char lastmod[32];       /* IMF-fixdate of mtime, NUL-terminated */
	struct site_form form[SITE_FORMS];
};

_Static_assert(sizeof(struct site_hdr) == 64, "site_hdr matches scripts/site.py");
_Static_assert(sizeof(struct site_file) == 192, "site_file matches scripts/site.py");

struct site {
	const unsigned char *base;
	const struct site_hdr *h;
	const struct site_file *files;
	const uint32_t *buckets;
};

/* Check an image of len bytes at p (every offset, string and length inside it) and open it.
 * Returns 0, or a negative number naming the first fault (see site.c). */
int site_open(struct site *s, const void *p, size_t len);

/* The entry for the decoded path p[0..n), or NULL. */
const struct site_file *site_find(const struct site *s, const char *p, size_t n);

/* The 404 page, or NULL. */
static inline const struct site_file *site_notfound(const struct site *s)
{
	return s->h && s->h->notfound ? &s->files[s->h->notfound - 1] : NULL;
}

static inline const char *site_str(const struct site *s, uint32_t off)
{
	return (const char *)s->base + off;
}

static inline const char *site_bytes(const struct site *s, const struct site_form *f)
{
	return (const char *)s->base + f->off;
}

#endif
