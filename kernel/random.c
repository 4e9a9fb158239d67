/* Random numbers: a seed from every entropy source the platform has, one ChaCha20 generator per core. */
#include <string.h>

#include "kernel.h"

/*
 * Where the seed comes from (random_init, once, on the boot core before anything asks), best first;
 * every source that answers is mixed in, and each is credited with the entropy it is trusted for:
 *   - the CPU's generator when it passes a check at boot: x86 RDSEED or RDRAND, AArch64 RNDR
 *     (arch_rng_init / arch_rng64); 8 values of 64 bits, credited 256 bits;
 *   - the firmware's EFI_RNG_PROTOCOL, read by boot/efi_main.c before ExitBootServices (OVMF and
 *     AAVMF offer it with a virtio-rng device, or from RDRAND): credited what it gave;
 *   - the Arm SMCCC TRNG interface (ARM DEN 0098), offered by hypervisors such as KVM: credited
 *     what it gave (arch_trng; none on x86);
 *   - counter jitter, always: the time of a fixed piece of work over a small buffer (long enough
 *     for JIT_TICKS ticks of the counter), which varies with caches, pipelines, interrupts the
 *     host takes and (in a VM) other guests. It is gathered in blocks of JIT_BLOCK samples
 *     until enough is credited or JIT_BLOCKS_MAX blocks: each block passes the health tests of
 *     NIST SP 800-90B 4.4 (repetition count and adaptive proportion, for 1 bit a sample) or is
 *     credited nothing, and a block that passes is credited a quarter of the lower of two
 *     min-entropy estimates, at most one bit a sample (successive samples are not independent):
 *     the most common value's (SP 800-90B 6.3.1, the 99% upper bound of the commonest sample's
 *     probability) and, in the spirit of the standard's predictors (6.3.7-6.3.10), how often the
 *     sample that followed the previous one last time comes again, which a counter cycling through
 *     a few values cannot hide from. A counter that moves only with the instructions run (QEMU's
 *     -icount, a stuck clock) fails.
 * A layer above may add a source once it has found its device (random_add, on the boot core before
 * the secondaries start: a virtio-rng device, drivers/virtio_rng.c): its bytes are mixed into every
 * core's key, credited, and the per-boot secret drawn again.
 * Everything is folded into one 256-bit ChaCha20 key by a ChaCha20-based sponge. When the credits
 * add up to less than RANDOM_WANT_BITS, random_short() says so, `stats` warns on every call, and a
 * configuration with POLLUX_REQUIRE_ENTROPY does not serve (net/net.c).
 * From that key each core gets a generator of its own (key = the block for nonce = core index), so
 * random_bytes takes no lock and shares no line: a core only ever touches its own state. Each
 * core's generator uses fast key erasure: every block's first 32 bytes become the next key and only
 * the rest is handed out, so what was handed out cannot be recomputed from a later state. Every
 * RANDOM_RESEED_S seconds each core mixes into its key what it gathered since (the arrival times of
 * its received frames, random_stir) with fresh values of the CPU's generator when there is one and
 * the bytes a device driver left in the core's mailbox (random_feed: core 0's loop reads the device
 * and fills every core's mailbox, so no core but 0 touches the device and no lock is needed).
 * The per-boot secret (SipHash key for random_hash: TCP ISNs) is taken from core 0's generator
 * at init and is read-only afterwards.
 */

#define RANDOM_HW_WORDS 8
#define RANDOM_RESEED_S 60
#define JIT_BLOCK 512           /* samples a block: the adaptive proportion test's window */
#define JIT_BLOCKS_MIN 8
#define JIT_BLOCKS_MAX 64
#define JIT_WORK_MIN 64         /* buffer touches a sample, at least */
#define JIT_WORK_MAX 4096
#define JIT_TICKS 64            /* counter ticks a sample should span, at least */
/* SP 800-90B 4.4.1: C = 1 + ceil(20 / H) identical samples in a row, for a false alarm
 * probability of 2^-20 at H = 1 bit a sample. */
#define JIT_RCT_CUTOFF 21
/* SP 800-90B 4.4.2: the first sample of a window seen C times in W = 512 samples, C = 1 +
 * CRITBINOM(512, 2^-H, 1 - 2^-20) = 311 for H = 1 (the standard's table). */
#define JIT_APT_CUTOFF 311

/* One core's generator, on cache lines of its own. */
struct random_core {
	uint32_t key[8];
	uint64_t counter;
	uint32_t buf[8];        /* output not yet handed out */
	uint32_t avail;         /* bytes left in buf, taken from its end */
	uint64_t stirred;       /* frame arrival times since the last reseed, folded */
	uint64_t next_reseed;   /* counter value */
	uint64_t reseeds;
	uint64_t fed;           /* reseeds that took bytes from the mailbox */
} __attribute__((aligned(CACHELINE)));

/* A core's mailbox (random_feed): written by core 0 while empty, by its core while full; a line of
 * its own, so neither side's stores disturb the generators. */
struct random_slot {
	uint8_t b[RANDOM_FEED_BYTES];
	uint32_t full;          /* __atomic: 1 = b holds bytes for the core's next reseed */
} __attribute__((aligned(CACHELINE)));

static struct random_core random_cores[POLLUX_MAX_CORES];
static struct random_slot random_slots[POLLUX_MAX_CORES];
static bool random_fed_any;
static uint8_t random_secret[16];
static const char *random_src = "none";
static bool random_ready;
static struct random_info info;

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

/* The sponge: inputs are XORed into the key words, and every 4 inputs the key is replaced by a
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

static void pool_add_bytes(struct random_pool *p, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 8) {
		uint64_t v = 0;
		for (uint32_t j = 0; j < 8 && i + j < n; j++)
			v |= (uint64_t)b[i + j] << (8 * j);
		pool_add(p, v);
	}
}

static uint64_t isqrt64(uint64_t x)
{
	uint64_t r = 0;
	for (uint64_t bit = 1ull << 62; bit; bit >>= 2) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return r;
}

/* -log2(x / 2^32) in 1/65536 bits, for 0 < x <= 2^32: the integer part by normalising, the
 * fraction one bit at a time by squaring the mantissa. */
static uint32_t neglog2_q16(uint64_t x)
{
	uint32_t whole = 0, frac = 0;
	if (x >= 1ull << 32)
		return 0;
	while (x < 1ull << 31) {
		x <<= 1;
		whole++;
	}
	/* x / 2^31 is in [1, 2): its log2 is in [0, 1), and -log2(x / 2^32) = 1 - that. */
	for (int i = 15; i >= 0; i--) {
		x = (x * x) >> 31;
		if (x >= 1ull << 32) {
			x >>= 1;
			frac |= 1u << i;
		}
	}
	return (whole + 1) * 65536 - frac;
}

/*
 * The most-common-value estimate of SP 800-90B 6.3.1 for n samples whose commonest value was seen
 * cmax times: min-entropy -log2(p_u) with p_u = p + 2.576 sqrt(p (1 - p) / (n - 1)), p = cmax / n,
 * in 1/65536 bits a sample.
 */
uint32_t random_mcv_q16(uint32_t cmax, uint32_t n)
{
	uint64_t p = ((uint64_t)cmax << 32) / n;
	uint64_t sd = isqrt64(p * ((1ull << 32) - p) / (n - 1));
	return neglog2_q16(p + sd * 2576 / 1000);
}

/*
 * One block of counter jitter: the counter read around JIT_WORK touches of a buffer, every delta
 * and reading mixed into the pool, the deltas (folded to 8 bits) put through the health tests.
 * Returns the block's credit in 1/65536 bits: 0 when a test failed (and *failed set).
 */
static volatile uint8_t scratch[4096];

/* The counter's ticks for work touches of the scratch buffer; *end: the reading after. */
static uint64_t jitter_work(uint32_t work, uint32_t s, uint64_t *end)
{
	uint64_t t0 = arch_counter();
	for (uint32_t i = 0; i < work; i++)
		scratch[(i * 67 + s * 13) & (sizeof(scratch) - 1)] += (uint8_t)i;
	*end = arch_counter();
	return *end - t0;
}

/* How much work a sample takes: enough for JIT_TICKS ticks of the counter (a slow counter, as
 * QEMU's 62.5 MHz one, would otherwise show the same few values whatever the noise), at most
 * JIT_WORK_MAX touches. */
static uint32_t jitter_calibrate(void)
{
	uint32_t work = JIT_WORK_MIN;
	uint64_t end;
	while (work < JIT_WORK_MAX && jitter_work(work, 0, &end) < JIT_TICKS)
		work *= 2;
	return work;
}

static uint64_t jitter_block(struct random_pool *p, uint32_t work, uint32_t *distinct, bool *failed)
{
	static uint16_t count[256], follower[256];
	uint8_t seen[256 / 8] = { 0 }, first = 0, last = 0;
	uint32_t run = 0, cmax = 0, first_seen = 0, hits = 0;
	*failed = false;
	for (int i = 0; i < 256; i++)
		count[i] = 0, follower[i] = 0xffff;
	for (uint32_t s = 0; s < JIT_BLOCK; s++) {
		/* Only the work is timed: the bookkeeping around it takes longer or shorter with the
		 * branches it takes, which even a deterministic counter would show as variation. */
		uint64_t end, d = jitter_work(work, s, &end);
		uint8_t h = (uint8_t)(d ^ (d >> 8) ^ (d >> 16));
		pool_add(p, d << 32 ^ end);
		if (!(seen[h / 8] & (1u << (h % 8)))) {
			seen[h / 8] |= (uint8_t)(1u << (h % 8));
			(*distinct)++;
		}
		/* The lag-one predictor: the sample that followed the previous one last time. */
		if (s) {
			hits += follower[last] == h;
			follower[last] = h;
		}
		/* Repetition count test: too many identical samples in a row. */
		run = s && h == last ? run + 1 : 1;
		last = h;
		*failed |= run >= JIT_RCT_CUTOFF;
		/* Adaptive proportion test: the window's first sample seen too often in it. */
		if (s == 0)
			first = h;
		first_seen += h == first;
		*failed |= first_seen >= JIT_APT_CUTOFF;
		if (++count[h] > cmax)
			cmax = count[h];
	}
	if (*failed)
		return 0;
	uint32_t mcv = random_mcv_q16(cmax, JIT_BLOCK), pred = random_mcv_q16(hits ? hits : 1, JIT_BLOCK - 1);
	uint64_t per = (mcv < pred ? mcv : pred) / 4;
	return (per > 65536 ? 65536 : per) * JIT_BLOCK;
}

/* The CPU's generator, if it answers and its answers look alive (no repeats, not all 0 or 1s). */
static bool random_hw(struct random_pool *p, uint32_t words)
{
	uint64_t v[RANDOM_HW_WORDS];
	for (uint32_t i = 0; i < words; i++) {
		if (!arch_rng64(&v[i]) || v[i] == 0 || v[i] == ~0ULL)
			return false;
		for (uint32_t j = 0; j < i; j++)
			if (v[j] == v[i])
				return false;
	}
	for (uint32_t i = 0; i < words; i++)
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
	c->next_reseed = 0;
}

static void random_poll(struct cpu *cpu, uint64_t now);

static void random_print(void)
{
	const struct random_info *r = &info;
	char added[24 * RANDOM_ADD_MAX];
	struct kbuf b = { added, sizeof(added), 0 };
	added[0] = 0;
	for (uint32_t i = 0; i < r->nadded; i++)
		kbprintf(&b, ", %s %u", r->added[i].name, r->added[i].bits);
	kprintf("random: %s%s, efi-rng %u, smccc-trng %s%u, jitter %u (%u blocks of %u samples, %u failed the "
		"health tests, %u distinct, %llu us)%s: %u bits%s\n",
		r->hw ? r->hw : r->hw_failed ? "the CPU's generator failed its check" : "no CPU generator",
		r->hw ? " 256" : "", r->fw_bits, r->trng ? "" : "none ", r->trng_bits, r->jitter_bits, r->blocks,
		JIT_BLOCK, r->failed, r->distinct, (unsigned long long)r->jitter_us, added, r->bits,
		random_short() ? " (short)" : "");
}

/* `random`: the sources again, each core's reseeds and, in test builds, the ISN key's value for
 * one four-tuple (two boots must differ: tests/qemu/entropy.py). */
static void cmd_random(int argc, char **argv)
{
	(void)argc, (void)argv;
	random_print();
	char line[32 + 24 * POLLUX_MAX_CORES];
	struct kbuf b = { line, sizeof(line), 0 };
	kbprintf(&b, "random: reseeds");
	for (uint32_t i = 0; i < ncpus; i++)
		kbprintf(&b, " c%u=%llu", i, (unsigned long long)random_cores[i].reseeds);
	kputs(line);
	kputs("\n");
	if (random_fed_any) {
		b.len = 0;
		kbprintf(&b, "random: reseeds with device bytes");
		for (uint32_t i = 0; i < ncpus; i++)
			kbprintf(&b, " c%u=%llu", i, (unsigned long long)random_cores[i].fed);
		kputs(line);
		kputs("\n");
	}
#if POLLUX_TEST_COMMANDS
	static const uint8_t tuple[12] = { 198, 18, 0, 2, 198, 18, 0, 1, 0, 80, 0x9c, 0x40 };
	kprintf("random: isn key 0x%016llx\n", (unsigned long long)random_hash(tuple, sizeof(tuple)));
#endif
}

static const struct console_cmd random_cmd = {
	"random", "entropy sources of the seed, each core's reseeds", cmd_random
};

void random_init(uint8_t *fw, uint32_t fw_len, const struct acpi_info *ai)
{
	struct random_pool p = { { 0 }, 0 };
	struct random_info *r = &info;
	const char *hw = arch_rng_init();
	*r = (struct random_info){ 0 };
	if (hw && random_hw(&p, RANDOM_HW_WORDS)) {
		r->hw = hw;
		r->hw_bits = 256;
	}
	r->hw_failed = hw && !r->hw;
	if (fw_len) {
		pool_add_bytes(&p, fw, fw_len);
		r->fw_bits = 8 * fw_len;
		for (uint32_t i = 0; i < fw_len; i++)
			((volatile uint8_t *)fw)[i] = 0;        /* the copy the firmware left: not kept */
	}
	uint64_t t[3];
	int tb = ai ? arch_trng(ai, t) : -1;
	if (tb > 0) {
		for (int i = 0; i < 3; i++)
			pool_add(&p, t[i]);
		r->trng_bits = (uint32_t)tb;
	}
	r->trng = tb >= 0;
	uint64_t t0 = arch_counter(), jq16 = 0;
	uint32_t have = r->hw_bits + r->fw_bits + r->trng_bits, work = jitter_calibrate();
	while (r->blocks < JIT_BLOCKS_MAX &&
	       (r->blocks < JIT_BLOCKS_MIN || have + (uint32_t)(jq16 >> 16) < RANDOM_WANT_BITS)) {
		bool bad;
		jq16 += jitter_block(&p, work, &r->distinct, &bad);
		r->blocks++;
		r->failed += bad;
	}
	r->jitter_bits = (uint32_t)(jq16 >> 16);
	r->jitter_us = ticks_to_ns(arch_counter() - t0) / 1000;
	r->bits = have + r->jitter_bits;
	pool_stir(&p);

	for (uint32_t i = 0; i < POLLUX_MAX_CORES; i++)
		core_seed(&random_cores[i], p.key, i);
	memset(random_slots, 0, sizeof(random_slots));
	random_fed_any = false;
	for (int i = 0; i < 8; i++)
		p.key[i] = 0;
	random_ready = true;
	random_bytes(random_secret, sizeof(random_secret));
	random_src = r->hw ? r->hw : r->fw_bits ? "efi-rng" : r->trng_bits ? "smccc-trng" : "counter jitter";

	random_print();
	if (random_short())
		kprintf("random: warning: %u bits of entropy, %u wanted: secrets may be guessable\n",
			r->bits, RANDOM_WANT_BITS);
	cpu_poll_register(random_poll);
	console_register(&random_cmd);
}

void random_add(const void *p, size_t n, uint32_t bits, const char *source)
{
	struct cpu *cpu = this_cpu();
	struct random_info *r = &info;
	assert(random_ready);
	if ((cpu && cpu->idx != 0) || cpus_running > 1)
		panic("random: %s added after the secondaries started", source);
	uint64_t most = (uint64_t)n * 8;
	uint32_t credit = bits < most ? bits : (uint32_t)most;   /* no more than a bit a bit */
	for (uint32_t c = 0; c < POLLUX_MAX_CORES; c++) {
		struct random_core *rc = &random_cores[c];
		struct random_pool pool = { { 0 }, 0 };
		for (int i = 0; i < 8; i++)
			pool.key[i] = rc->key[i];
		pool_add_bytes(&pool, p, n < UINT32_MAX ? (uint32_t)n : UINT32_MAX);
		pool_add(&pool, arch_counter());
		pool_stir(&pool);
		for (int i = 0; i < 8; i++) {
			rc->key[i] = pool.key[i];
			pool.key[i] = 0;
		}
		rc->avail = 0;          /* output drawn from the old key: not handed out any more */
	}
	random_bytes(random_secret, sizeof(random_secret));
	uint32_t i = 0;
	while (i < r->nadded && strcmp(r->added[i].name, source) != 0)
		i++;
	if (i == r->nadded) {
		if (i == RANDOM_ADD_MAX)
			panic("random: more than %d added sources", RANDOM_ADD_MAX);
		r->added[r->nadded++] = (struct random_added){ source, 0 };
	}
	r->added[i].bits += credit;
	r->bits += credit;
	if (!r->hw && !r->fw_bits && !r->trng_bits && credit)
		random_src = source;
	random_print();
}

bool random_feed(uint32_t core, const uint8_t p[RANDOM_FEED_BYTES])
{
	if (core >= POLLUX_MAX_CORES)
		return false;
	struct random_slot *s = &random_slots[core];
	if (__atomic_load_n(&s->full, __ATOMIC_ACQUIRE))
		return false;
	memcpy(s->b, p, RANDOM_FEED_BYTES);
	random_fed_any = true;
	__atomic_store_n(&s->full, 1, __ATOMIC_RELEASE);        /* the bytes before the flag */
	return true;
}

const char *random_source(void)
{
	return random_src;
}

const struct random_info *random_info(void)
{
	return &info;
}

bool random_short(void)
{
	return info.bits < RANDOM_WANT_BITS;
}

/* ---- reseeding ---- */

void random_stir(uint64_t v)
{
	struct cpu *cpu = this_cpu();
	struct random_core *c = &random_cores[cpu && cpu->idx < POLLUX_MAX_CORES ? cpu->idx : 0];
	c->stirred = (c->stirred << 7 | c->stirred >> 57) ^ v;
}

/* Every core, every loop: one comparison, and every RANDOM_RESEED_S seconds a new key from the old
 * one, what random_stir gathered, the counter, fresh values of the CPU's generator and what core 0
 * left in this core's mailbox (random_feed). */
static void random_poll(struct cpu *cpu, uint64_t now)
{
	struct random_core *c = &random_cores[cpu->idx < POLLUX_MAX_CORES ? cpu->idx : 0];
	if (now < c->next_reseed)
		return;
	bool first = c->next_reseed == 0;
	c->next_reseed = now + arch_counter_hz() * RANDOM_RESEED_S;
	if (first)
		return;
	struct random_pool p = { { 0 }, 0 };
	for (int i = 0; i < 8; i++)
		p.key[i] = c->key[i];
	pool_add(&p, c->stirred);
	pool_add(&p, now);
	if (info.hw)
		random_hw(&p, 4);
	struct random_slot *s = &random_slots[cpu->idx < POLLUX_MAX_CORES ? cpu->idx : 0];
	if (__atomic_load_n(&s->full, __ATOMIC_ACQUIRE)) {
		pool_add_bytes(&p, s->b, RANDOM_FEED_BYTES);
		for (int i = 0; i < RANDOM_FEED_BYTES; i++)
			((volatile uint8_t *)s->b)[i] = 0;      /* used: not kept */
		__atomic_store_n(&s->full, 0, __ATOMIC_RELEASE);
		c->fed++;
	}
	pool_stir(&p);
	for (int i = 0; i < 8; i++) {
		c->key[i] = p.key[i];
		p.key[i] = 0;
	}
	c->avail = 0;
	c->stirred = 0;
	c->reseeds++;
}

uint64_t random_reseeds(uint32_t core)
{
	return core < POLLUX_MAX_CORES ? random_cores[core].reseeds : 0;
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
