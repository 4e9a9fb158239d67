/* The fuzzer's bytes, consumed from the front, for every fuzz target that reads them as fields. */
#ifndef POLLUX_FUZZ_FZ_IN_H
#define POLLUX_FUZZ_FZ_IN_H

#include <stddef.h>
#include <stdint.h>

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* The next bytes (1..4) as a little-endian number; zeros once the input runs out. */
static inline uint32_t fz_take(struct fz_in *in, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v |= (uint32_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

#endif
