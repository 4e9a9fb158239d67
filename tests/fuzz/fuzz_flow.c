/* fuzz_flow: net/flow.c's frame classifier on any frame: no overrun, and the same kind whether or not
 * a hash is asked for (libFuzzer, ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_key *k;
	if (!k) {
		uint8_t key[FLOW_KEY_LEN];
		for (unsigned i = 0; i < FLOW_KEY_LEN; i++)
			key[i] = (uint8_t)(i * 37 + 11);
		k = malloc(sizeof(*k));
		flow_key_init(k, key);
	}
	/* The frame in a buffer of exactly its size, so a read past it is caught. */
	uint8_t *f = malloc(size ? size : 1);
	memcpy(f, data, size);
	uint32_t h1 = 0xdeadbeef, h2 = 0xdeadbeef, h3 = 0xdeadbeef;
	enum flow_kind a = flow_classify(k, f, (uint32_t)size, &h1);
	enum flow_kind b = flow_classify(NULL, f, (uint32_t)size, &h2);
	enum flow_kind c = flow_classify(k, f, (uint32_t)size, &h3);
	if (a != b || a != c || h1 != h3)
		abort();
	if (a != FLOW_HASHED && h1 != 0xdeadbeef)
		abort();                        /* a hash written for a frame that has none */
	if (h2 != 0xdeadbeef)
		abort();                        /* no key: no hash */
	free(f);
	return 0;
}
