/* Index of the kernel: every cross-file function, grouped under the file that owns it. */
#ifndef POLLUX_KERNEL_H
#define POLLUX_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"
#include "config_check.h"
#include "prof.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHELINE 64

/* assert() is never compiled out and never wraps a side effect. */
#define assert(e) ((e) ? (void)0 : panic("assertion failed: %s (%s:%d)", #e, __FILE__, __LINE__))

/* ---- acpi.c: firmware tables, parsed once on the boot core ---- */
#define ACPI_MAX_CPUS 256
#define ACPI_MAX_MCFG 8

struct acpi_cpu {
	uint64_t hwid;          /* x86: (x2)APIC ID; AArch64: MPIDR affinity bits */
	uint32_t uid;           /* ACPI processor UID */
};

struct acpi_gas {               /* Generic Address Structure (ACPI 6.5, 5.2.3.2) */
	uint8_t space;          /* 0 system memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

struct acpi_info {
	uint32_t ncpus;                 /* enabled cores, MADT order (boot core first) */
	struct acpi_cpu cpu[ACPI_MAX_CPUS];
	uint64_t lapic_base;            /* x86 local APIC MMIO base from MADT */
	bool has_spcr;
	uint8_t spcr_type;              /* SPCR interface type: 0 16550, 3 PL011, 0x12 16550-compatible with GAS... */
	struct acpi_gas spcr_addr;
	uint32_t spcr_baud;             /* 0 = as the firmware left it */
	uint32_t nmcfg;
	struct { uint64_t base; uint16_t segment; uint8_t bus_start, bus_end; } mcfg[ACPI_MAX_MCFG];
	bool has_fadt;
	uint16_t arm_boot_flags;        /* FADT ARM_BOOT_ARCH: bit 0 PSCI compliant, bit 1 PSCI uses HVC */
	struct acpi_gas pm_timer;       /* FADT X_PM_TMR_BLK (or PM_TMR_BLK as I/O); address 0 if none */
	bool pm_timer_32bit;            /* FADT flag TMR_VAL_EXT */
	struct acpi_gas reset_reg;      /* FADT RESET_REG when RESET_REG_SUP says it is valid, an 8-bit
					 * register in memory or I/O space; address 0 if none */
	uint8_t reset_value;            /* FADT RESET_VALUE: written to reset_reg to reset the machine */
	char oem_id[7];
};

/* Parse RSDP -> XSDT (or RSDT) -> MADT, SPCR, MCFG, FADT at rsdp (a physical = virtual address).
 * Checks every signature, length and checksum. Returns 0, or a negative ACPI_E* with *out partly filled. */
int acpi_parse(uint64_t rsdp, struct acpi_info *out);
const char *acpi_strerror(int err);
#define ACPI_ENORSDP   (-1)   /* bad RSDP signature or checksum */
#define ACPI_ENOXSDT   (-2)   /* bad XSDT/RSDT */
#define ACPI_EBADTABLE (-3)   /* a table's checksum or length is wrong */
#define ACPI_ENOMADT   (-4)   /* no MADT: cores cannot be found */

/* ---- pagetable.c: the one-time identity map ---- */
enum pt_kind {
	PT_HOLE = 0,    /* nothing there: mapped as device memory, never executable */
	PT_RAM,         /* normal write-back, read-write, never executable */
	PT_DEVICE,      /* uncached device memory, read-write, never executable */
	PT_TEXT,        /* normal write-back, read-only, executable */
	PT_GUARD,       /* not mapped at all (a stack's guard page): any access faults */
	PT_WC,          /* write-combining device memory (x86 PAT WC, AArch64 Normal non-cacheable),
			 * read-write, never executable: a NIC's BAR the CPU writes descriptors into */
	PT_RODATA,      /* normal write-back, read-only, never executable: the image's constant data */
};

/* How one architecture writes entries. Both of ours use 4 KiB granules and 4 levels of 512:
 * level 0 covers 512 GiB per entry (always a table), 1: 1 GiB, 2: 2 MiB, 3: 4 KiB (always a leaf). */
struct pt_format {
	const char *name;
	uint64_t (*table)(uint64_t pa);                         /* entry pointing to a next-level table */
	uint64_t (*leaf)(uint64_t pa, int level, enum pt_kind k); /* level 1: 1 GiB, 2: 2 MiB, 3: 4 KiB */
	int (*is_table)(uint64_t e, int level);                 /* e (at level) points to a next-level table */
	uint64_t (*next)(uint64_t e);                           /* the table address inside such an e */
};
extern const struct pt_format pt_format_x86_64;     /* arch/x86_64/pte.c */
extern const struct pt_format pt_format_aarch64;    /* arch/aarch64/pte.c */
/* MAIR_EL1 the aarch64 entries assume: attr0 = 0x04 Device-nGnRE, attr1 = 0xFF Normal write-back,
 * attr2 = 0x44 Normal inner and outer non-cacheable (write-combining). */
#define PT_AARCH64_MAIR 0x000000000044FF04ULL
/* IA32_PAT the x86 entries assume (SDM vol 3, 11.12.2): the power-on value 0x0007040600070406
 * (PA0 WB, PA1 WT, PA2 UC-, PA3 UC, PA4-7 the same) with PA1 made WC (0x01), selected by PWT alone.
 * Every core loads it before it loads the tables. */
#define PT_X86_PAT 0x0007040600070106ULL

struct pt_range { uint64_t base, end; };

struct pt_input {
	const struct mem_range *ranges;   /* the boot memory map */
	uint32_t nranges;
	uint64_t limit;                   /* map [0, limit): everything not RAM becomes device memory */
	const struct pt_range *exec;      /* ranges mapped PT_TEXT (4 KiB aligned) */
	uint32_t nexec;
	const uint64_t *bounds;           /* addresses where the arch's cache type changes (x86 MTRRs) */
	uint32_t nbounds;                 /* a page never straddles one of these */
	const struct pt_range *guards;    /* ranges left unmapped, as 4 KiB pages (4 KiB aligned) */
	uint32_t nguards;
	const struct pt_range *wc;        /* device ranges mapped PT_WC (4 KiB aligned); a page only
					   * partly inside one, and RAM inside one, keep their kind */
	uint32_t nwc;
	const struct pt_range *rodata;    /* ranges mapped PT_RODATA (4 KiB aligned) */
	uint32_t nrodata;
};

struct pt_stats {
	uint64_t pages_1g, pages_2m, pages_4k, tables;
	uint64_t guard_pages;             /* 4 KiB pages left unmapped (not in pages_4k) */
	uint64_t ram_bytes;               /* bytes mapped as PT_RAM, PT_TEXT or PT_RODATA */
	uint64_t device_bytes;            /* PT_DEVICE, PT_HOLE and PT_WC */
	uint64_t wc_bytes;                /* of which PT_WC */
};

/* A table page source: returns a zeroed, 4 KiB aligned page or 0. */
typedef uint64_t (*pt_alloc_fn)(void *ctx);

/* Build the tables for in with format f; *root gets the level-0 table. Returns 0, or -1 when out of
 * pages or the input is unusable (ranges unsorted/overlapping, limit above 256 TiB). */
int pt_build(const struct pt_input *in, const struct pt_format *f, pt_alloc_fn alloc, void *ctx,
	     uint64_t *root, struct pt_stats *st);
/* FNV-1a over every table page reachable from root, in walk order. */
uint64_t pt_checksum(uint64_t root, const struct pt_format *f);
/* Classify the 4 KiB page at pa the way pt_build would (for tests and `mem`). Any [pa, pa+size) gets
 * the strongest kind present in it: PT_GUARD > PT_TEXT > PT_RODATA > PT_RAM > PT_DEVICE > PT_HOLE > PT_WC
 * (write-combining only where all of it is). */
enum pt_kind pt_classify(const struct pt_input *in, uint64_t pa, uint64_t size);

/* ---- mem.c: physical memory, handed out once and kept (physical = virtual) ---- */
/* Take the free ranges of bi; reserve lo_bytes below 4 GiB for tables and trampolines. */
void mem_init(const struct boot_info *bi);
/* Split what is left into ncores equal arenas (called once, before secondaries start). */
void mem_init_arenas(uint32_t ncores);
/* Allocate size bytes aligned to align (a power of two, >= 64) from core's arena, zeroed.
 * Lock-free: only core `core` ever calls it with its own index. Returns 0 when the arena is empty. */
uint64_t mem_alloc(uint32_t core, uint64_t size, uint64_t align);
/* Boot-core only, before arenas: allocate below `below` (for page tables and the AP trampoline). */
uint64_t mem_alloc_early(uint64_t size, uint64_t align, uint64_t below);
/* As mem_alloc, without zeroing: for memory its user initializes itself (network buffers). */
uint64_t mem_alloc_raw(uint32_t core, uint64_t size, uint64_t align);
uint64_t mem_free_bytes(void);   /* not yet handed out, summed over arenas */
uint64_t mem_arena_bytes(uint32_t core);        /* not yet handed out in core's arena */
uint64_t mem_total_ram(void);

/* Pure allocator core, host-tested: a list of free ranges carved from the front. */
#define MEM_MAX_FREE 128
struct mem_pool {
	uint32_t n;
	struct pt_range r[MEM_MAX_FREE];   /* sorted by base */
};
void mem_pool_init(struct mem_pool *p, const struct mem_range *ranges, uint32_t n, uint64_t min_addr);
uint64_t mem_pool_alloc(struct mem_pool *p, uint64_t size, uint64_t align, uint64_t below);
uint64_t mem_pool_bytes(const struct mem_pool *p);
/* Move about `bytes` (whole ranges or a split) from p into out. Returns bytes moved. */
uint64_t mem_pool_take(struct mem_pool *p, struct mem_pool *out, uint64_t bytes);

/* ---- printf.c: formatting, no allocation ---- */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A line or table built piece by piece: kbprintf appends and never writes past size; once the
 * buffer is full, len stays at size - 1 and the text is cut there. */
struct kbuf {
	char *buf;
	size_t size, len;
};
void kbprintf(struct kbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- conbuf.c: the console's output ring, pure and host-tested ---- */
/* One consumer; producers serialized by the caller (console.c's lock). head and tail run freely
 * and wrap at 2^32; size is a power of two. */
struct conbuf {
	char *mem;
	uint32_t size;
	uint32_t head;                  /* bytes ever stored: written by producers only */
	uint32_t tail;                  /* bytes ever taken: written by the consumer only */
	uint64_t lost;                  /* bytes dropped since the last note (producers) */
	uint64_t lost_total;            /* bytes ever dropped (producers) */
	bool mid_line;                  /* the last byte stored was not a newline */
};
void conbuf_init(struct conbuf *b, char *mem, uint32_t size);
/* Append s[0..n). What does not fit is dropped and counted; before anything more is stored, a
 * note "[console: N bytes dropped]" (on a line of its own) says what was lost, and while even
 * the note does not fit, new text is dropped too. Returns the bytes of s stored. conbuf_put
 * with n = 0 stores just a pending note. */
uint32_t conbuf_put(struct conbuf *b, const char *s, uint32_t n);
/* Consumer: bytes waiting; *p gets the first of them and the return value is how many follow
 * it without a wrap (call again after conbuf_take for the rest). */
uint32_t conbuf_peek(const struct conbuf *b, const char **p);
/* Consumer: n bytes (at most what conbuf_peek returned) have been written out. */
void conbuf_take(struct conbuf *b, uint32_t n);
uint32_t conbuf_used(const struct conbuf *b);

/* ---- console.c: serial console, whole lines never interleaved, output buffered ---- */
/* The device the console writes to, supplied from above the kernel (kernel_console_probe). */
struct console_dev {
	const char *name;
	void *ctx;
	/* Bytes the transmitter takes right now without waiting (0: full). Costs a device read. */
	uint32_t (*tx_room)(void *ctx);
	/* Write c; only as many times as tx_room last allowed. */
	void (*tx)(void *ctx, char c);
	/* A received byte, or -1 when none is waiting. Never waits. */
	int (*getc)(void *ctx);
};

/* Find the device through kernel_console_probe (SPCR or the arch default). Boot core, early. */
void console_init(const struct acpi_info *ai);
/* Print a formatted line (or lines) atomically with respect to other cores. Once core 0 runs its
 * loop, text goes into a buffer that core 0 drains a little per loop iteration (console_drain),
 * so no caller ever waits for the UART; before that, and once core 0 has stopped, it is written
 * at once. When the buffer is full the excess is dropped and the loss reported in the text. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* up to 1 KiB per call */
void kputs(const char *s);              /* a whole string of any length, e.g. a kbprintf table */
void kvprintf(const char *fmt, va_list ap);
/* For panic and crash reports: write what is buffered, then this, before returning. */
void kprintf_sync(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Before a reset: write out what is buffered and give the UART time to send its last byte. */
void console_settle(void);
/* For a crash while printing a crash report: write s at once without taking the lock. */
void console_emergency(const char *s);
/* Core 0, once, as its loop starts: from now on output is buffered. */
void console_start_buffering(void);
/* Core 0's loop: read pending input (at most once a millisecond) and run complete lines. */
void console_poll(uint64_t now);
/* Core 0's loop: hand the device what it takes without waiting, within a small budget of bytes
 * and time. */
void console_drain(uint64_t now);

/* Line editing and command dispatch, pure and host-tested. */
#define CONSOLE_LINE_MAX 128
#define CONSOLE_ARGS_MAX 8
struct lineedit {
	char buf[CONSOLE_LINE_MAX];
	uint32_t len;
	bool overflow;          /* the line grew past the buffer: it is discarded at the newline */
	bool last_cr;           /* swallow the LF of a CRLF pair */
};
/* Feed one received byte. Returns 1 with the line NUL-terminated in le->buf when a line ends,
 * -1 when an overlong line ended (discarded), 0 otherwise. echo (may be NULL) gets what to echo. */
int lineedit_feed(struct lineedit *le, int c, void (*echo)(const char *s));
void lineedit_reset(struct lineedit *le);
/* Split line in place on spaces and tabs; returns argc (at most max). */
int console_split(char *line, char **argv, int max);

struct console_cmd {
	const char *name;
	const char *help;
	void (*fn)(int argc, char **argv);
};
/* Run a split command line against table cmds (NULL-terminated). Returns 0, or -1 if unknown. */
int console_dispatch(const struct console_cmd *cmds, int argc, char **argv);
/* Add a command (copied; its strings must live forever). The kernel adds its own (help, cores, prof,
 * mem, uptime); the layers above add theirs from their boot hooks. Boot core, before the
 * secondaries start; a full table or a name taken twice panics. */
void console_register(const struct console_cmd *cmd);

/* ---- cpu.c: cores, their data and the loop ---- */
enum cpu_state { CPU_ABSENT = 0, CPU_STARTING, CPU_RUNNING, CPU_STOPPED };

struct cpu {
	struct cpu *self;               /* offset 0: x86 finds itself through %gs:0 */
	uint32_t idx;                   /* 0 = boot core */
	uint32_t hwid_lo;
	uint64_t hwid;                  /* APIC ID or MPIDR */
	uint64_t stack_top;             /* POLLUX_STACK_SIZE below it, then an unmapped guard page */
	uint64_t exc_stack_top;         /* where exceptions run (x86 IST1, AArch64 SP_EL1); guarded too */
	volatile uint32_t state;        /* enum cpu_state, written by the core itself */
	uint32_t pad0;
	/* Written only by this core on its data path. */
	uint64_t loops;
	uint64_t last_poll;             /* counter at the start of the last loop iteration */
	uint64_t max_gap;               /* longest gap between two polls since the last read, ticks */
	uint64_t console_max;           /* core 0: most ticks one iteration spent on the console, same reset */
	uint64_t seen_reset;            /* reset generation this core has applied */
	/* The watchdog (watchdog.c): this core watching the next one. */
	uint64_t wd_next;               /* counter at which to look again */
	uint64_t wd_loops;              /* the watched core's loop counter when it last moved */
	uint64_t wd_since;              /* our counter when it was seen moving */
	uint32_t wd_target;             /* the core watched */
	bool wd_told;                   /* reported already: once */
	/* Written only by the reader (console), on its own cache line. */
	uint64_t reset_gen __attribute__((aligned(CACHELINE)));
	volatile uint32_t prof_req;     /* `prof`: bumped to ask, low bit on (prof.c; the core applies it) */
	/* Test builds: a function core 0 asks this core to run from its loop (cpu_test_call). */
	void (*volatile test_call)(struct cpu *c);
	/* Arch start-up scratch (stack, tables, entry), read by the secondary before its MMU is on. */
	uint64_t boot_arg[8] __attribute__((aligned(CACHELINE)));
	/* The loop's profile (prof.h), written only by this core, on lines of its own. */
	struct prof prof __attribute__((aligned(CACHELINE)));
} __attribute__((aligned(CACHELINE)));

extern struct cpu cpus[POLLUX_MAX_CORES];
extern uint32_t ncpus;                  /* cores found and started */
extern volatile uint32_t cpus_running;  /* cores inside their loop */
/* Start every core in ai (except the boot core) and wait until each is in its loop. */
void cpu_start_all(const struct acpi_info *ai);
/* Every core's loop; never returns. */
void cpu_loop(struct cpu *c) __attribute__((noreturn));
/* End of a crash report (arch exception handlers): the backtrace from frame pointer fp,
 * "pollux: core N stopped", then cpu_fatal (a reset, or the core halts). */
void cpu_crash_tail(struct cpu *c, uint64_t pc, uint64_t fp, uint64_t sp) __attribute__((noreturn));
/* Entry of a secondary core once arch code has its stack and MMU set. */
void cpu_secondary_main(struct cpu *c) __attribute__((noreturn));
/* Run fn(c, now) on every core in every loop iteration (fn returns at once on a core it has
 * nothing for). Boot core, before the secondaries start; at most CPU_POLL_MAX, more panics. */
#define CPU_POLL_MAX 8
void cpu_poll_register(void (*fn)(struct cpu *c, uint64_t now));
/* Each layer's core hook, on core c itself, before its loop. */
void cpu_layers_core(struct cpu *c);
/* Test builds (the console's `fault N`, `hang N`): have core idx run fn(its cpu) from its loop.
 * Returns 0, or -1 when idx is not a running core or it has a call pending. */
int cpu_test_call(uint32_t idx, void (*fn)(struct cpu *c));

/* ---- watchdog.c: each core watches the next one's loop; the end of every fatal report ---- */
/* Core 0, once every core is in its loop: from now on each core looks at the next running core's
 * loop counter ten times a second, and a core whose loop has not moved for POLLUX_WATCHDOG_S
 * seconds is reported (then, with POLLUX_PANIC_REBOOT, the machine resets). Off with one core or
 * POLLUX_WATCHDOG_S 0. Prints one line saying which. */
void watchdog_start(void);
/* Every core's loop, when now reaches c->wd_next. */
void watchdog_check(struct cpu *c, uint64_t now);
/* The end of a panic or crash report on core c (NULL: the boot core before its data): c is marked
 * stopped; with POLLUX_PANIC_REBOOT the first core to get here resets the machine once the console
 * has sent everything (arch_reset). Otherwise, or when no reset worked, c halts. */
void cpu_fatal(struct cpu *c) __attribute__((noreturn));

/* ---- boot/layers.c: what sits above the kernel, which the kernel calls but never names ---- */
struct kernel_layer {
	const char *name;
	/* Boot core, after the memory arenas and before the secondaries start: find devices, take
	 * resources, register poll hooks and console commands. 0, or an error the layer has logged. */
	int (*boot)(uint32_t cores);
	/* On each core before its loop (may be NULL). 0, or an error the layer has logged. */
	int (*core)(struct cpu *c);
};
extern const struct kernel_layer *const kernel_layers[];        /* in boot order, NULL-terminated */
/* The console device for ai (SPCR, else the arch default), or NULL when there is none. Called
 * by console_init, before any layer boots. */
extern const struct console_dev *(*const kernel_console_probe)(const struct acpi_info *ai);
/* Supplied from above the kernel (the drivers layer, boot/layers.c): before the page tables are
 * built, with the firmware's mapping still in place, store in out[0..max) the device ranges to map
 * write-combining (4 KiB aligned) and return how many. NULL: none. */
extern uint32_t (*const kernel_wc_probe)(const struct acpi_info *ai, struct pt_range *out, uint32_t max);

/* ---- main.c ---- */
extern struct boot_info *boot;
extern struct acpi_info acpi;
extern uint64_t pt_root;
extern uint64_t pt_limit;               /* [0, pt_limit) is mapped */
extern struct pt_stats pt_stat;
extern uint64_t pt_sum_boot;            /* table checksum taken right after they were built */
extern const struct pt_format *pt_fmt;
#define EXC_STACK_SIZE KiB(16)          /* each core's exception stack: crash reports only */
/* The core whose stack (or exception stack) has its guard page at addr, or -1: a fault there is a
 * stack overflow. The arch crash reports say so. */
int stack_guard_core(uint64_t addr);
void kmain(struct boot_info *bi) __attribute__((noreturn));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* The stack protector's word and its failure (the compiler emits the references): a protected
 * function whose frame copy of __stack_chk_guard changed calls __stack_chk_fail, which panics
 * naming where. Not protected itself: it is reached with the frame already known bad. */
extern uintptr_t __stack_chk_guard;
void __stack_chk_fail(void) __attribute__((noreturn, no_stack_protector));

/* ---- random.c: a seed from every entropy source there is, a ChaCha20 generator per core ---- */
#define RANDOM_WANT_BITS 256
#define RANDOM_ADD_MAX 4                /* sources random_add can name */
#define RANDOM_FEED_BYTES 32            /* bytes a core's reseed takes from random_feed */
/* What seeded the generators, and the entropy each source is credited with (bits). */
struct random_info {
	const char *hw;                 /* "rdseed", "rdrand", "rndr", or NULL */
	bool hw_failed;                 /* the CPU has a generator that failed its check */
	bool trng;                      /* the SMCCC TRNG interface answered */
	uint32_t hw_bits, fw_bits, trng_bits, jitter_bits, bits;
	uint32_t blocks, failed, distinct;      /* jitter: blocks taken, failing the health tests */
	uint64_t jitter_us;
	/* Sources a layer above added at its boot (random_add: a virtio-rng device), bits in `bits`. */
	struct random_added {
		const char *name;
		uint32_t bits;
	} added[RANDOM_ADD_MAX];
	uint32_t nadded;
};
/* Boot core, once, before anything asks for a random number: seed every core's generator and the
 * per-boot secret from the CPU's generator, fw[0..fw_len) (the firmware's EFI_RNG_PROTOCOL), the
 * SMCCC TRNG and counter jitter; prints what each gave ("random: ..."). */
void random_init(uint8_t *fw, uint32_t fw_len, const struct acpi_info *ai);
/* n random bytes into p, from the calling core's own generator: any core, no lock, never blocks. */
void random_bytes(void *p, size_t n);
uint64_t random_u64(void);
/* The best source that seeded the generators: "rdseed", "rdrand", "rndr", "efi-rng", "smccc-trng",
 * the first source random_add credited (when none of those gave anything) or "counter jitter". */
const char *random_source(void);
const struct random_info *random_info(void);
/* The sources were credited with less than RANDOM_WANT_BITS: the secrets may be guessable. */
bool random_short(void);
/* Boot core, after random_init and before the secondaries start (panics otherwise): mix p[0..n)
 * from source (a device a layer above found, e.g. "virtio-rng") into every core's generator key,
 * credit it min(bits, 8 n) bits, draw the per-boot secret again (nothing has hashed with it yet:
 * the network is not up) and print the "random:" line again with the source. Safe without a lock
 * because only the boot core runs. The stack protector's canary keeps its value. p is not wiped:
 * the caller's. */
void random_add(const void *p, size_t n, uint32_t bits, const char *source);
/* Core 0's loop (a device driver's poll hook): offer RANDOM_FEED_BYTES bytes of p for core's next
 * reseed. A mailbox per core, one cache line each, with no lock: core 0 fills it when empty and
 * marks it full (release), the core's reseed takes the bytes, wipes them and marks it empty.
 * Returns false when the slot is still full or core is out of range (offer again later). */
bool random_feed(uint32_t core, const uint8_t p[RANDOM_FEED_BYTES]);
/* Fold v (a frame's arrival time) into the calling core's next reseed. */
void random_stir(uint64_t v);
/* How many times a core's generator has been reseeded (every 60 s of its loop). */
uint64_t random_reseeds(uint32_t core);
/* SP 800-90B 6.3.1's most-common-value min-entropy for n samples whose commonest was seen cmax
 * times, in 1/65536 bits a sample (exposed for the tests). */
uint32_t random_mcv_q16(uint32_t cmax, uint32_t n);
/* SipHash-2-4 of p[0..n) keyed with the per-boot secret: unpredictable from outside, the same for
 * the same input during one boot (RFC 6528 ISNs, hash tables an attacker must not aim at). */
uint64_t random_hash(const void *p, size_t n);
/* The primitives, exposed for the tests: SipHash-2-4 with a 16-byte key; one ChaCha20 block
 * (RFC 8439, 2.3) with a 64-bit block counter in state words 12-13 and a 64-bit nonce in 14-15. */
uint64_t siphash24(const uint8_t key[16], const void *p, size_t n);
void chacha20_block(const uint32_t key[8], uint64_t counter, uint64_t nonce, uint32_t out[16]);

/* ---- prof.c: the loop's profile (prof.h has what the loop calls) ---- */
/* The console's `prof` over cores 0..n: `prof on` asks every core to time its loop from its next iteration (each resets its own
 * counters), `prof off` to stop (the table follows), `prof` prints the table. */
void prof_cmd(uint32_t n, int argc, char **argv);
/* The table: per core (cores 0..n) and in total, frames, busy and idle polls, per stage ticks and
 * nanoseconds per frame. */
void prof_print(uint32_t n);

/* ---- time.c ---- */
uint64_t time_ns(void);                 /* since efi_main */
uint64_t ticks_to_ns(uint64_t ticks);

#include "arch.h"

#endif
