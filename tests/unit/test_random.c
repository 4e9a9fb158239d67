/* test_random: proves SipHash-2-4 and ChaCha20 against published vectors, seeding from every source with its credit and the jitter's health tests, sources added at boot and the reseed mailbox, and RFC 6528 ISNs. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "kernel.h"

/* ---- what random.c and lwip_port.c need from the kernel and the CPU, faked ---- */

static char printed[4096];
static size_t printed_len;

void kvprintf(const char *fmt, va_list ap)
{
	int n = vsnprintf(printed + printed_len, sizeof(printed) - printed_len, fmt, ap);
	if (n > 0)
		printed_len += (size_t)n < sizeof(printed) - printed_len ? (size_t)n : 0;
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void kputs(const char *str)
{
	kprintf("%s", str);
}

void kbprintf(struct kbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->size - b->len ? (size_t)n : b->size - b->len - 1;
}

uint64_t ticks_to_ns(uint64_t t) { return t; }
uint64_t arch_counter_hz(void) { return 1000000; }
static uint64_t now_ns;
uint64_t time_ns(void) { return now_ns; }
uint32_t ncpus = 1;
volatile uint32_t cpus_running;
static void (*polled)(struct cpu *c, uint64_t now);
void cpu_poll_register(void (*fn)(struct cpu *c, uint64_t now)) { polled = fn; }
void console_register(const struct console_cmd *cmd) { (void)cmd; }

/* The fake generator: a name (NULL: none) and a mode. */
static const char *hw_name;
static enum { HW_GOOD, HW_STUCK, HW_DEAD, HW_ONES } hw_mode;
static uint64_t hw_state;
static unsigned hw_calls;

const char *arch_rng_init(void) { return hw_name; }
bool arch_rng64(uint64_t *v)
{
	hw_calls++;
	switch (hw_mode) {
	case HW_GOOD:
		hw_state = hw_state * 6364136223846793005ULL + 1442695040888963407ULL;
		*v = hw_state;
		return true;
	case HW_STUCK:
		*v = 0x1234;    /* the same value every time: a broken generator */
		return true;
	case HW_ONES:
		*v = ~0ULL;     /* what some parts return after a failed resume */
		return true;
	default:
		return false;
	}
}

/* The fake SMCCC TRNG: -1 (no interface) or 192 bits. */
static int trng_mode = -1;
int arch_trng(const struct acpi_info *ai, uint64_t v[3])
{
	(void)ai;
	if (trng_mode > 0)
		v[0] = 1, v[1] = 2, v[2] = 3;
	return trng_mode;
}

/* Counters for the jitter: one whose deltas come from a generator of their own (a noisy one), and
 * one that alternates between two deltas (moving with the work only: deterministic). */
static uint64_t noisy_t, noisy_s = 99;
static uint64_t noisy(void)
{
	noisy_s ^= noisy_s << 13, noisy_s ^= noisy_s >> 7, noisy_s ^= noisy_s << 17;
	return noisy_t += 20 + (noisy_s >> 58);
}
static uint64_t cycle_t, cycle_reads;
static uint64_t cycling(void)           /* a sample reads twice: deltas 10, 11, 10, 11, ... */
{
	return cycle_t += 10 + ((cycle_reads++ >> 1) & 1);
}

uint32_t lwip_port_rand(void);
uint32_t lwip_port_isn(const uint8_t *local_ip, uint16_t local_port, const uint8_t *remote_ip, uint16_t remote_port,
		       unsigned alen);

/* The ISN of an IPv4 four-tuple, addresses as lwIP keeps them (network order in memory). */
static uint32_t isn4(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	return lwip_port_isn((const uint8_t *)&lip, lport, (const uint8_t *)&rip, rport, 4);
}

static struct acpi_info acpi_fake;
static uint8_t fw[32];

static void reinit_fw(const char *name, int mode, uint64_t seed, uint32_t fw_len)
{
	hw_name = name;
	hw_mode = mode;
	hw_state = seed;
	hw_calls = 0;
	host_clock = 0;         /* the host counter moves one tick per read: the same jitter each time */
	printed_len = 0;
	printed[0] = 0;
	for (uint32_t i = 0; i < sizeof(fw); i++)
		fw[i] = (uint8_t)(seed + i);
	random_init(fw, fw_len, &acpi_fake);
}

static void reinit(const char *name, int mode, uint64_t seed)
{
	reinit_fw(name, mode, seed, 0);
}

/* ---- published vectors ---- */

static void test_siphash(void)
{
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The SipHash paper (appendix A) and its reference implementation's vectors. */
	CHECK_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ(siphash24(key, msg, 1), 0x74f839c593dc67fdULL);
	CHECK_EQ(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
	CHECK_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	/* Every length differs from its neighbours; one key bit changes the result. */
	for (size_t n = 1; n < 64; n++)
		CHECK(siphash24(key, msg, n) != siphash24(key, msg, n - 1));
	key[15] ^= 0x80;
	CHECK(siphash24(key, msg, 15) != 0xa129ca6149be45e5ULL);
}

static void test_chacha(void)
{
	/* RFC 8439, 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, block count 1. In our
	 * layout the 32-bit count and the nonce's first word share the 64-bit counter. */
	uint32_t key[8], out[16];
	for (int i = 0; i < 8; i++)
		key[i] = (uint32_t)(4 * i) | (uint32_t)(4 * i + 1) << 8 | (uint32_t)(4 * i + 2) << 16 |
			 (uint32_t)(4 * i + 3) << 24;
	chacha20_block(key, 1 | 0x09000000ULL << 32, 0x4a000000, out);
	static const uint32_t want[16] = {
		0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3, 0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
		0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9, 0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2,
	};
	for (int i = 0; i < 16; i++)
		CHECK_EQ(out[i], want[i]);
}

/* ---- seeding and output ---- */

static void test_sources(void)
{
	const struct random_info *r = random_info();
	reinit("rdrand", HW_GOOD, 1);
	CHECK(strncmp(printed, "random: rdrand 256, efi-rng 0, smccc-trng none 0, jitter 0 (8 blocks", 68) == 0);
	CHECK_STR(random_source(), "rdrand");
	CHECK(hw_calls >= 8);
	CHECK_EQ(r->bits, 256);
	CHECK(!random_short());
	CHECK(polled != NULL);

	/* No generator and a counter in lockstep with the work (one tick a read): every block of
	 * jitter fails the repetition count test, nothing is credited, and it is said. */
	reinit(NULL, HW_GOOD, 1);
	CHECK_STR(random_source(), "counter jitter");
	CHECK(strncmp(printed, "random: no CPU generator, efi-rng 0", 35) == 0);
	CHECK_EQ(r->blocks, 64);
	CHECK_EQ(r->failed, 64);
	CHECK_EQ(r->bits, 0);
	CHECK(random_short());
	CHECK(strstr(printed, "random: warning: 0 bits of entropy, 256 wanted") != NULL);
	CHECK_EQ(hw_calls, 0);

	/* A generator that repeats itself, answers all ones or never answers is not trusted. */
	int modes[3] = { HW_STUCK, HW_ONES, HW_DEAD };
	for (int i = 0; i < 3; i++) {
		reinit("rndr", modes[i], 1);
		CHECK_STR(random_source(), "counter jitter");
		CHECK(strstr(printed, "the CPU's generator failed its check") != NULL);
		CHECK(random_short());
	}

	/* The firmware's generator: credited, and its bytes not left where the firmware put them. */
	reinit_fw(NULL, HW_GOOD, 5, 32);
	CHECK_STR(random_source(), "efi-rng");
	CHECK_EQ(r->fw_bits, 256);
	CHECK(!random_short());
	int left = 0;
	for (uint32_t i = 0; i < sizeof(fw); i++)
		left += fw[i] != 0;
	CHECK_EQ(left, 0);
	/* The SMCCC TRNG: 192 bits, not enough alone. */
	trng_mode = 192;
	reinit(NULL, HW_GOOD, 1);
	CHECK_STR(random_source(), "smccc-trng");
	CHECK_EQ(r->trng_bits, 192);
	CHECK(strstr(printed, "smccc-trng 192") != NULL);
	CHECK(random_short());
	trng_mode = -1;

	/* A counter whose deltas vary on their own: the blocks pass and the jitter alone suffices, in
	 * more than the minimum of 8 blocks only if a block is credited under 32 bits. */
	host_counter = noisy;
	reinit(NULL, HW_GOOD, 1);
	CHECK_EQ(r->failed, 0);
	CHECK(r->jitter_bits >= 256);
	CHECK(r->blocks >= 8 && r->blocks < 64);
	CHECK(!random_short());
	/* Its estimate: a quarter of the min-entropy, at most 1 bit a sample; deltas 20..83 uniform are
	 * 6 bits, so 1 bit a sample, 512 a block. */
	CHECK_EQ(r->jitter_bits, 512 * r->blocks);
	/* A counter alternating between two deltas passes both health tests (no runs, half the window
	 * the same value) and the most-common-value estimate (about 0.85 bits), but its next sample is
	 * always the one that followed last time: credited next to nothing. */
	host_counter = cycling;
	reinit(NULL, HW_GOOD, 1);
	CHECK_EQ(r->failed, 0);
	CHECK(r->jitter_bits < 16);
	CHECK(random_short());
	host_counter = NULL;

	/* The estimator: all samples alike is 0 bits; 1 in 256 each is nearly 8 (the bound takes a
	 * little); half and half under 1. */
	CHECK_EQ(random_mcv_q16(512, 512), 0);
	uint32_t h = random_mcv_q16(2, 512);
	CHECK(h > 6 * 65536 && h < 8 * 65536);
	h = random_mcv_q16(256, 512);
	CHECK(h > 0.8 * 65536 && h < 65536);
}

/* Each core's generator is reseeded every 60 s from what it was stirred with: the stream changes
 * from there, and only from there. */
static void test_reseed(void)
{
	struct cpu c = { 0 };
	host_cpu = &c;
	reinit("rdrand", HW_GOOD, 3);
	uint64_t a = random_u64();
	polled(&c, 1000);                       /* the first call only sets the time */
	polled(&c, 1000 + 59 * 1000000ull);
	CHECK_EQ(random_reseeds(0), 0);
	random_stir(12345);
	polled(&c, 1000 + 60 * 1000000ull);
	CHECK_EQ(random_reseeds(0), 1);
	uint64_t b = random_u64();
	/* The same seed without the reseed continues differently. */
	reinit("rdrand", HW_GOOD, 3);
	CHECK_EQ(random_u64(), a);
	CHECK(random_u64() != b);
	host_cpu = NULL;
}

/* A source a layer adds at boot (random_add: virtio-rng): mixed into every core's generator and
 * the secret, credited at most 8 bits a byte, nothing for no bytes, and named on the line. */
static void test_add(void)
{
	const struct random_info *r = random_info();
	struct cpu c0 = { 0 }, c1 = { 0 };
	c1.idx = 1;
	uint8_t dev[32];
	for (int i = 0; i < 32; i++)
		dev[i] = (uint8_t)(0xa5 ^ i * 7);
	/* Without the source: the streams of cores 0 and 1 and the ISN key. */
	reinit(NULL, HW_GOOD, 1);
	CHECK(random_short());
	host_cpu = &c0;
	uint64_t a0 = random_u64();
	host_cpu = &c1;
	uint64_t a1 = random_u64();
	uint64_t ha = random_hash("abc", 3);
	/* The same boot with 32 device bytes added before anything was drawn. */
	reinit(NULL, HW_GOOD, 1);
	host_cpu = &c0;
	printed_len = 0;
	random_add(dev, sizeof(dev), 256, "virtio-rng");
	CHECK_EQ(r->bits, 256);
	CHECK_EQ(r->nadded, 1);
	CHECK_STR(r->added[0].name, "virtio-rng");
	CHECK_EQ(r->added[0].bits, 256);
	CHECK(!random_short());
	CHECK_STR(random_source(), "virtio-rng");
	CHECK(strncmp(printed, "random: no CPU generator, efi-rng 0, smccc-trng none 0, jitter 0 (64 blocks", 74) == 0);
	CHECK(strstr(printed, " us), virtio-rng 256: 256 bits\n") != NULL);
	CHECK(strstr(printed, "(short)") == NULL);
	CHECK(random_u64() != a0);
	host_cpu = &c1;
	CHECK(random_u64() != a1);
	CHECK(random_hash("abc", 3) != ha);
	/* The same source again adds to its entry; a claim past 8 bits a byte is cut to that; no
	 * bytes are credited nothing. */
	host_cpu = &c0;
	random_add(dev, 4, 256, "virtio-rng");
	CHECK_EQ(r->nadded, 1);
	CHECK_EQ(r->added[0].bits, 256 + 32);
	random_add(dev, 0, 256, "virtio-rng");
	CHECK_EQ(r->added[0].bits, 256 + 32);
	CHECK_EQ(r->bits, 256 + 32);
	/* A device giving nothing on a short boot: named with 0, still short. */
	reinit(NULL, HW_GOOD, 1);
	printed_len = 0;
	random_add(dev, 0, 256, "virtio-rng");
	CHECK_EQ(r->bits, 0);
	CHECK(random_short());
	CHECK(strstr(printed, ", virtio-rng 0: 0 bits (short)") != NULL);
	CHECK_STR(random_source(), "counter jitter");
	/* Once the secondaries run, adding would race their generators: a panic, not a race. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		cpus_running = 2;
		random_add(dev, sizeof(dev), 256, "virtio-rng");
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st));
	host_cpu = NULL;
}

/* Core 0 fills each core's mailbox (random_feed); the core's next reseed takes the bytes, which
 * change its stream, and empties the mailbox for the next offer. */
static void test_feed(void)
{
	struct cpu c = { 0 };
	uint8_t dev[RANDOM_FEED_BYTES];
	for (int i = 0; i < RANDOM_FEED_BYTES; i++)
		dev[i] = (uint8_t)(i * 13 + 1);
	host_cpu = &c;
	uint64_t out[3];
	for (int run = 0; run < 3; run++) {
		reinit("rdrand", HW_GOOD, 3);
		polled(&c, 1000);
		if (run != 1) {
			CHECK(random_feed(0, dev));
			CHECK(!random_feed(0, dev));            /* full until the reseed takes it */
		}
		polled(&c, 1000 + 60 * 1000000ull);
		CHECK_EQ(random_reseeds(0) > 0, 1);
		out[run] = random_u64();
		CHECK(random_feed(0, dev));                     /* taken: empty again */
	}
	CHECK(out[0] != out[1]);                                /* the device's bytes went in */
	CHECK_EQ(out[0], out[2]);                               /* and nothing else differed */
	CHECK(!random_feed(POLLUX_MAX_CORES, dev));
	host_cpu = NULL;
}

static void test_output(void)
{
	/* The same hardware values give the same stream (the host counter restarts at 0 each time);
	 * different ones a different stream from the first byte. */
	uint8_t a[100], b[100], c[100];
	reinit("rdseed", HW_GOOD, 42);
	random_bytes(a, sizeof(a));
	reinit("rdseed", HW_GOOD, 42);
	random_bytes(b, sizeof(b));
	reinit("rdseed", HW_GOOD, 43);
	random_bytes(c, sizeof(c));
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	int same = 0;
	for (size_t i = 0; i < sizeof(a); i++)
		same += a[i] == c[i];
	CHECK(same < 10);

	/* Pieces of any size make up the same stream as one request. */
	reinit("rdseed", HW_GOOD, 42);
	uint8_t d[100];
	size_t at = 0;
	for (size_t n = 1; at < sizeof(d); n++) {
		size_t k = n < sizeof(d) - at ? n : sizeof(d) - at;
		random_bytes(d + at, k);
		at += k;
	}
	CHECK(memcmp(a, d, sizeof(a)) == 0);

	/* 2^20 values: every bit set about half the time, no value twice among the first 4096. */
	enum { N = 1 << 20 };
	static uint64_t first[4096];
	uint32_t ones[64] = { 0 };
	for (uint32_t i = 0; i < N; i++) {
		uint64_t v = random_u64();
		if (i < 4096)
			first[i] = v;
		for (int bit = 0; bit < 64; bit++)
			ones[bit] += (v >> bit) & 1;
	}
	int skewed = 0;
	for (int bit = 0; bit < 64; bit++)      /* 6 standard deviations of a fair coin: 3072 */
		skewed += ones[bit] < N / 2 - 3072 || ones[bit] > N / 2 + 3072;
	CHECK_EQ(skewed, 0);
	int repeats = 0;
	for (int i = 0; i < 4096; i++)
		for (int j = 0; j < i; j++)
			repeats += first[i] == first[j];
	CHECK_EQ(repeats, 0);

	/* lwIP's LWIP_RAND draws from the same generator: not constant. */
	uint32_t r0 = lwip_port_rand(), r1 = lwip_port_rand(), r2 = lwip_port_rand();
	CHECK(r0 != r1 || r1 != r2);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M ticking every 4 microseconds. */
static void test_isn(void)
{
	reinit("rdrand", HW_GOOD, 7);
	uint32_t lip = 0x0200a8c0, rip = 0x0100a8c0;
	now_ns = 1000000000;
	uint32_t i0 = isn4(lip, 80, rip, 40000);
	CHECK_EQ(isn4(lip, 80, rip, 40000), i0);               /* a function of the tuple */
	now_ns += 4000;
	CHECK_EQ(isn4(lip, 80, rip, 40000), i0 + 1);           /* plus the 4 us clock */
	now_ns += 3999;
	CHECK_EQ(isn4(lip, 80, rip, 40000), i0 + 1);
	now_ns += 4000 * 1000000ULL;
	CHECK_EQ(isn4(lip, 80, rip, 40000), i0 + 1 + 1000000);
	now_ns = 1000000000;
	/* Neighbouring tuples give unrelated offsets: knowing your own ISN tells nothing of another. */
	uint32_t prev = i0;
	int close = 0;
	for (uint16_t port = 40001; port < 41000; port++) {
		uint32_t x = isn4(lip, 80, rip, port);
		uint32_t d = x - prev;
		close += d < 0x10000 || d > 0xffff0000u;
		prev = x;
	}
	CHECK(close < 3);
	CHECK(isn4(lip, 80, rip + 0x01000000, 40000) != i0);
	CHECK(isn4(rip, 40000, lip, 80) != i0);                /* direction matters */
	/* Another boot (another secret): another ISN for the same tuple and time. */
	reinit("rdrand", HW_GOOD, 8);
	CHECK(isn4(lip, 80, rip, 40000) != i0);
	/* IPv6: every byte of both addresses counts, and an IPv6 tuple is not its IPv4 prefix's. */
	uint8_t l6[16] = { 0xfd, 0, 1, 0x98, 0, 0x18 }, r6[16] = { 0xfd, 0, 1, 0x98, 0, 0x18 };
	l6[15] = 2, r6[15] = 1;
	uint32_t j0 = lwip_port_isn(l6, 80, r6, 40000, 16);
	CHECK_EQ(lwip_port_isn(l6, 80, r6, 40000, 16), j0);
	r6[15] = 3;
	CHECK(lwip_port_isn(l6, 80, r6, 40000, 16) != j0);
	r6[15] = 1, r6[8] = 1;
	CHECK(lwip_port_isn(l6, 80, r6, 40000, 16) != j0);
	CHECK(lwip_port_isn(r6, 40000, l6, 80, 16) != j0);
	CHECK(lwip_port_isn(l6, 80, r6, 40000, 4) != lwip_port_isn(l6, 80, r6, 40000, 16));
	/* random_hash is the keyed hash: the same input, the same value during one boot. */
	CHECK_EQ(random_hash("abc", 3), random_hash("abc", 3));
	CHECK(random_hash("abc", 3) != random_hash("abd", 3));
}

TEST_MAIN("test_random: proves SipHash-2-4 and ChaCha20 match their published vectors, the seed source "
	  "mixes every source and credits each (the CPU generator only when it passes its check, the "
	  "firmware's, the SMCCC TRNG, counter jitter only through SP 800-90B's health tests and estimates, "
	  "a lockstep or cycling counter credited nothing, a shortfall said), a source added at boot mixed into "
	  "every core and the secret and credited at most a bit a bit, each core reseeds every 60 s with what "
	  "core 0 left in its mailbox, "
	  "output is reproducible from the seed only, balanced and unrepeated, and ISNs follow RFC 6528", {
	test_siphash();
	test_chacha();
	test_sources();
	test_reseed();
	test_add();
	test_feed();
	test_output();
	test_isn();
})
