/* Random numbers: a seed from the CPU's generator or counter jitter, one ChaCha20 generator per core. */
#include "kernel.h"

/*
 * Where the seed comes from (random_init, once, on the boot core before anything asks):
 *   - the CPU's generator when it has one that passes a check at boot: x86 RDSEED or RDRAND,
 *     AArch64 RNDR (arch_rng_init / arch_rng64); 8 values of 64 bits;
 *   - and always counter jitter: RANDOM_JITTER_SAMPLES readings of the counter around a little
 *     work whose duration varies with caches, pipelines, and (in a VM) the host. On a CPU without a
 *     generator (QEMU's cortex-a72, EC2 A1) this is the only source, which is why there are many
 *     samples: even a fraction of a bit each gives far more than the 256 bits the key needs.
 * Everything is folded into one 256-bit ChaCha20 key by a ChaCha20-based sponge. From that key each
 * core gets a generator of its own (key = the block for nonce = core index), so random_bytes takes
 * no lock and shares no line: a core only ever touches its own state. Each core's generator uses
 * fast key erasure: every block's first 32 bytes become the next key and only the rest is handed
 * out, so what was handed out cannot be recomputed from a later state.
 * The per-boot secret (SipHash key for random_hash: TCP ISNs) is taken from core 0's generator
 * at init and is read-only afterwards.
 */

#define RANDOM_JITTER_SAMPLES 4096
#define RANDOM_HW_WORDS 8

/* One core's generator, on cache lines of its own. */
struct random_core {
	uint32_t key[8];
	uint64_t counter;
	uint32_t buf[8];        /* output not yet handed out */
	uint32_t avail;         /* bytes left in buf, taken from its end */
} __attribute__((aligned(CACHELINE)));

static struct random_core random_cores[POLLUX_MAX_CORES];
static uint8_t random_secret[16];
static const char *random_src = "none";
static bool random_ready;

/* ---- ChaCha20 block function (RFC 8439, 2.3; original 64-bit counter and nonce layout) ---- */

static inline uint32_t rotl32(uint32_t x, int b)
{
	return (x << b) | (x >> (32 - b));
}

#define QR(a, b, c, d) do { \
	a += b; d ^= a; d = rotl32(d, 16); \
	c += d; b ^= c; b = rotl32(b, 12); \
	a += b; d ^= a; d = rotl32(d, 8); \
	c += d; b ^= c; b = rotl32(b, 7); } while (0)

void chacha20_block(const uint32_t key[8], uint64_t counter, uint64_t nonce, uint32_t out[16])
{
	uint32_t in[16] = {
		0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,        /* "expand 32-byte k" */
		key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
		(uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)nonce, (uint32_t)(nonce >> 32),
	};
	uint32_t x[16];
	for (int i = 0; i < 16; i++)
		x[i] = in[i];
	for (int r = 0; r < 10; r++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		out[i] = x[i] + in[i];
}

/* ---- SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) ---- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND do { \
	v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
	v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); } while (0)

uint64_t siphash24(const uint8_t key[16], const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;       /* "somepseudorandomlygeneratedbytes" */
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	size_t whole = n & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	/* The last word: the remaining bytes, and the length's low byte on top. */
	uint64_t b = (uint64_t)(n & 0xff) << 56;
	for (size_t i = 0; i < (n & 7); i++)
		b |= (uint64_t)p[whole + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- seeding ---- */

/* The sponge: inputs are XORed into the key words, and every 8 words the key is replaced by a
 * ChaCha20 block of itself (its two halves XORed), so every input reaches every key bit. */
struct random_pool {
	uint32_t key[8];
	uint64_t n;
};

static void pool_stir(struct random_pool *p)
{
	uint32_t b[16];
	chacha20_block(p->key, p->n, 0x706f6f6c /* "pool" */, b);
	for (int i = 0; i < 8; i++)
		p->key[i] = b[i] ^ b[i + 8];
}

static void pool_add(struct random_pool *p, uint64_t v)
{
	p->key[p->n & 7] ^= (uint32_t)v;
	p->key[(p->n + 1) & 7] ^= (uint32_t)(v >> 32);
	if ((++p->n & 3) == 0)
		pool_stir(p);
}

/*
 * Counter jitter: time a short loop over a small buffer, whose length also depends on the previous
 * reading, and take every delta and every raw reading. Returns how many different delta values
 * appeared: a counter that never moves, or moves in lockstep with the work, shows few.
 */
static uint32_t random_jitter(struct random_pool *p, uint32_t samples)
{
	static volatile uint8_t scratch[4096];
	uint8_t seen[256 / 8] = { 0 };
	uint32_t distinct = 0;
	uint64_t prev = arch_counter();
	for (uint32_t s = 0; s < samples; s++) {
		uint32_t work = 16 + (uint32_t)(prev & 63);
		for (uint32_t i = 0; i < work; i++)
			scratch[(i * 67 + (uint32_t)prev) & (sizeof(scratch) - 1)] += (uint8_t)i;
		uint64_t now = arch_counter();
		uint64_t d = now - prev;
		uint8_t h = (uint8_t)(d ^ (d >> 8));
		if (!(seen[h / 8] & (1u << (h % 8)))) {
			seen[h / 8] |= (uint8_t)(1u << (h % 8));
			distinct++;
		}
		pool_add(p, d << 32 ^ now);
		prev = now;
	}
	return distinct;
}

/* The CPU's generator, if it answers and its answers look alive (no repeats, not all 0 or 1s). */
static bool random_hw(struct random_pool *p)
{
	uint64_t v[RANDOM_HW_WORDS];
	for (int i = 0; i < RANDOM_HW_WORDS; i++) {
		if (!arch_rng64(&v[i]) || v[i] == 0 || v[i] == ~0ULL)
			return false;
		for (int j = 0; j < i; j++)
			if (v[j] == v[i])
				return false;
	}
	for (int i = 0; i < RANDOM_HW_WORDS; i++)
		pool_add(p, v[i]);
	return true;
}

static void core_seed(struct random_core *c, const uint32_t master[8], uint32_t idx)
{
	uint32_t b[16];
	chacha20_block(master, 0, 0x100000000ULL | idx, b);
	for (int i = 0; i < 8; i++)
		c->key[i] = b[i];
	c->counter = 0;
	c->avail = 0;
}

void random_init(void)
{
	struct random_pool p = { { 0 }, 0 };
	const char *hw = arch_rng_init();
	bool hw_ok = hw && random_hw(&p);
	uint64_t t0 = arch_counter();
	uint32_t distinct = random_jitter(&p, RANDOM_JITTER_SAMPLES);
	uint64_t us = ticks_to_ns(arch_counter() - t0) / 1000;
	pool_stir(&p);

	for (uint32_t i = 0; i < POLLUX_MAX_CORES; i++)
		core_seed(&random_cores[i], p.key, i);
	for (int i = 0; i < 8; i++)
		p.key[i] = 0;
	random_ready = true;
	random_bytes(random_secret, sizeof(random_secret));

	if (hw_ok) {
		random_src = hw;
		kprintf("random: %s\n", hw);
	} else {
		random_src = "counter jitter";
		kprintf("random: counter jitter (%s%u samples, %u distinct deltas, %llu us)\n",
			hw ? "the CPU's generator failed its check; " : "", RANDOM_JITTER_SAMPLES, distinct,
			(unsigned long long)us);
	}
	/* A counter that shows almost no jitter and no generator: the seed would be guessable. */
	if (!hw_ok && distinct < 8)
		kprintf("random: warning: the counter shows almost no jitter; the seed is weak\n");
}

const char *random_source(void)
{
	return random_src;
}

/* ---- output ---- */

void random_bytes(void *out, size_t n)
{
	struct cpu *cpu = this_cpu();
	uint32_t idx = cpu && cpu->idx < POLLUX_MAX_CORES ? cpu->idx : 0;
	struct random_core *c = &random_cores[idx];
	uint8_t *o = out;
	assert(random_ready);
	while (n > 0) {
		if (c->avail == 0) {
			uint32_t b[16];
			chacha20_block(c->key, c->counter++, 0, b);
			for (int i = 0; i < 8; i++) {
				c->key[i] = b[i];               /* fast key erasure */
				c->buf[i] = b[i + 8];
			}
			c->avail = sizeof(c->buf);
		}
		const uint8_t *src = (const uint8_t *)c->buf;
		while (n > 0 && c->avail > 0) {
			c->avail--;
			*o++ = src[c->avail];
			((uint8_t *)c->buf)[c->avail] = 0;      /* handed out: not kept */
			n--;
		}
	}
}

uint64_t random_u64(void)
{
	uint64_t v;
	random_bytes(&v, sizeof(v));
	return v;
}

uint64_t random_hash(const void *p, size_t n)
{
	assert(random_ready);
	return siphash24(random_secret, p, n);
}
