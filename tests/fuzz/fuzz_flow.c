/* fuzz_flow: net/flow.c's frame classifier on any frame (IPv4, IPv6 with its extension headers):
 * no overrun, the same answer twice, the same kind whatever the key, a fragment's whole identity
 * written (libFuzzer, ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct flow_key *key_made(uint8_t mul)
{
	uint8_t key[FLOW_KEY_LEN];
	for (unsigned i = 0; i < FLOW_KEY_LEN; i++)
		key[i] = (uint8_t)(i * mul + 11);
	struct flow_key *k = malloc(sizeof(*k));
	flow_key_init(k, key);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_key *k1, *k2;
	if (!k1) {
		k1 = key_made(37);
		k2 = key_made(101);
	}
	/* The frame in a buffer of exactly its size, so a read past it is caught. */
	uint8_t *f = malloc(size ? size : 1);
	memcpy(f, data, size);
	struct flow_info a, b, c;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	enum flow_kind ka = flow_classify(k1, f, (uint32_t)size, true, &a);
	enum flow_kind kb = flow_classify(k1, f, (uint32_t)size, true, &b);
	enum flow_kind kc = flow_classify(k2, f, (uint32_t)size, true, &c);
	if (ka != kb || ka != kc)
		abort();                        /* the kind depends on the frame alone */
	if (memcmp(&a, &b, sizeof(a)))
		abort();                        /* the same frame, the same answer */
	if (ka == FLOW_FRAG && (a.first != c.first || memcmp(a.frag, c.frag, sizeof(a.frag))))
		abort();                        /* the datagram's identity does not depend on the key */
	if (ka == FLOW_FRAG) {
		/* Every word of the identity is written (net.c compares them all): the same answer
		 * over a struct full of junk. */
		struct flow_info d;
		memset(&d, 0xee, sizeof(d));
		if (flow_classify(k1, f, (uint32_t)size, true, &d) != ka || d.first != a.first || d.hash != a.hash ||
		    memcmp(d.frag, a.frag, sizeof(a.frag)))
			abort();
	}
	free(f);
	return 0;
}
