/* The packed site: validated once at boot, then looked up in place (see site.h). */
#include "site.h"

static uint64_t site_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static bool within(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

static bool terminated(const char *s, size_t cap)
{
	for (size_t i = 0; i < cap; i++)
		if (!s[i])
			return true;
	return false;
}

/* A header value must be visible ASCII or spaces: it goes into responses as it is. */
static bool printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

int site_open(struct site *s, const void *p, size_t len)
{
	static const char magic[8] = { 'P', 'L', 'X', 'S', 'I', 'T', 'E', '1' };
	const unsigned char *b = p;
	s->base = b;
	s->h = 0;
	if (len < sizeof(struct site_hdr) || ((uintptr_t)p & 7))
		return -1;
	const struct site_hdr *h = p;
	for (int i = 0; i < 8; i++)
		if (h->magic[i] != magic[i])
			return -2;
	uint64_t nf = h->nfiles, nb = h->nbuckets;
	if (h->total != len || !nb || (nb & (nb - 1)) || nb < nf || h->max_probe > nb || h->notfound > nf ||
	    (h->files_off & 7) || (h->buckets_off & 3) || !within(h->files_off, nf * sizeof(struct site_file), len) ||
	    !within(h->buckets_off, nb * 4, len))
		return -3;
	const struct site_file *f = (const void *)(b + h->files_off);
	const uint32_t *bk = (const void *)(b + h->buckets_off);
	for (uint64_t i = 0; i < nf; i++) {
		const struct site_file *e = &f[i];
		if (!within(e->path_off, e->path_len, len) || !e->path_len || b[e->path_off] != '/' ||
		    !within(e->type_off, e->type_len, len) || !printable(b + e->type_off, e->type_len) ||
		    !within(e->loc_off, e->loc_len, len) || !printable(b + e->loc_off, e->loc_len) ||
		    !terminated(e->lastmod, sizeof(e->lastmod)) ||
		    e->hash != site_hash((const char *)b + e->path_off, e->path_len))
			return -4;
		if ((e->flags & SITE_F_REDIRECT) ? !e->loc_len :
		    (!e->type_len || !e->form[SITE_IDENTITY].etag[0] || !e->lastmod[0]))
			return -5;
		for (int k = 0; k < SITE_FORMS; k++)
			if (!within(e->form[k].off, e->form[k].len, len) ||
			    !terminated(e->form[k].etag, sizeof(e->form[k].etag)))
				return -6;
	}
	/* Every stored path must be found within max_probe, or lookups would miss it. */
	for (uint64_t i = 0; i < nb; i++)
		if (bk[i] > nf)
			return -7;
	s->h = h;
	s->files = f;
	s->buckets = bk;
	for (uint64_t i = 0; i < nf; i++)
		if (site_find(s, (const char *)b + f[i].path_off, f[i].path_len) != &f[i]) {
			s->h = 0;
			return -8;
		}
	return 0;
}

const struct site_file *site_find(const struct site *s, const char *p, size_t n)
{
	if (!s->h)
		return 0;
	uint64_t h = site_hash(p, n), mask = s->h->nbuckets - 1;
	for (uint32_t k = 0; k < s->h->max_probe; k++) {
		uint32_t i = s->buckets[(h + k) & mask];
		if (!i)
			return 0;
		const struct site_file *e = &s->files[i - 1];
		if (e->hash != h || e->path_len != n)
			continue;
		const char *q = (const char *)s->base + e->path_off;
		size_t j = 0;
		while (j < n && q[j] == p[j])
			j++;
		if (j == n)
			return e;
	}
	return 0;
}
