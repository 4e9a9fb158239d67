/* AArch64: CPU checks, generic timer, MMU switch, PSCI core start-up, crash reports. */
#include "kernel.h"
#include "../../drivers/uart.h"

#include <stddef.h>

const char arch_name[] = "aarch64";

/* SCTLR_EL1 bits (ARM ARM D17.2.118). */
#define SCTLR_M (1ul << 0)      /* stage 1 MMU on */
#define SCTLR_A (1ul << 1)      /* alignment check: off, unaligned normal-memory accesses are fine */
#define SCTLR_C (1ul << 2)      /* data caches */
#define SCTLR_SA (1ul << 3)     /* SP alignment check at EL1: kept as the firmware set it */
#define SCTLR_I (1ul << 12)     /* instruction caches */
#define SCTLR_WXN (1ul << 19)   /* writable implies never-execute: our tables already say so */

/* TCR_EL1 fields (ARM ARM D17.2.131) for one 48-bit identity map through TTBR0. */
#define TCR_T0SZ(n) ((uint64_t)(n) << 0)        /* VA size 64 - n: 16 = 48 bits, walk from level 0 */
#define TCR_IRGN0_WBWA (1ul << 8)               /* table walks: inner write-back, write-allocate */
#define TCR_ORGN0_WBWA (1ul << 10)              /* outer write-back, write-allocate */
#define TCR_SH0_INNER (3ul << 12)               /* walks are inner shareable: coherent with every core */
#define TCR_TG0_4K (0ul << 14)
#define TCR_T1SZ(n) ((uint64_t)(n) << 16)
#define TCR_EPD1 (1ul << 23)                    /* never walk TTBR1 */
#define TCR_TG1_4K (2ul << 30)                  /* TG1 = 0b00 is reserved even when TTBR1 is unused */
#define TCR_IPS(n) ((uint64_t)(n) << 32)        /* intermediate PA size, ID_AA64MMFR0_EL1.PARange encoding */

/* PSCI 1.1 (ARM DEN 0022D), SMC64 calling convention. */
#define PSCI_CPU_ON 0xC4000003u
#define PSCI_SYSTEM_RESET 0x84000009u   /* SMC32, no arguments, returns only on failure (5.11) */
#define PSCI_SUCCESS 0
/* FADT ARM_BOOT_ARCH flags (ACPI 6.5, table 5.11). */
#define ARM_BOOT_PSCI_COMPLIANT 0x1
#define ARM_BOOT_PSCI_USE_HVC 0x2

extern char a64_vectors[], a64_secondary_entry[];
/* arch/aarch64/image.lds: the image starts at ImageBase (with .text); _etext ends code; _edata ends
 * data and bss. */
extern char ImageBase[], _etext[], _edata[];
void a64_mmu_switch(uint64_t ttbr0, uint64_t mair, uint64_t tcr, uint64_t sctlr);

/* entry.S reads boot_arg with its own offsets. */
_Static_assert(offsetof(struct cpu, boot_arg) == A64_CPU_BOOT_ARG, "A64_CPU_BOOT_ARG in arch_inline.h");
_Static_assert(A64_BA_EXC_STACK < ARRAY_SIZE(((struct cpu *)0)->boot_arg), "boot_arg slots");

static uint64_t cnt_hz;
static uint64_t tcr_value, sctlr_value;

#define READ_SYSREG(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })

uint8_t arch_inb(uint16_t port)
{
	panic("no port I/O on aarch64 (inb 0x%x)", port);
}

void arch_outb(uint16_t port, uint8_t v)
{
	(void)v;
	panic("no port I/O on aarch64 (outb 0x%x)", port);
}

uint16_t arch_inw(uint16_t port)
{
	panic("no port I/O on aarch64 (inw 0x%x)", port);
}

void arch_outw(uint16_t port, uint16_t v)
{
	(void)v;
	panic("no port I/O on aarch64 (outw 0x%x)", port);
}

uint32_t arch_inl(uint16_t port)
{
	panic("no port I/O on aarch64 (inl 0x%x)", port);
}

void arch_outl(uint16_t port, uint32_t v)
{
	(void)v;
	panic("no port I/O on aarch64 (outl 0x%x)", port);
}

/* After ExitBootServices the firmware's vectors are of no use: install ours before anything can
 * fault, and the per-core pointer this_cpu() reads. */
void arch_init_boot(struct cpu *c)
{
	__asm__ volatile("msr daifset, #0xf");
	__asm__ volatile("msr vbar_el1, %0\n\tmsr tpidr_el1, %1\n\tisb" ::"r"(a64_vectors), "r"(c) : "memory");
}

void arch_check_cpu(void)
{
	uint64_t el = (READ_SYSREG(CurrentEL) >> 2) & 3;
	if (el != 1)
		panic("cpu: entered at EL%llu, not supported (Pollux runs at EL1)", (unsigned long long)el);
	uint64_t mmfr0 = READ_SYSREG(id_aa64mmfr0_el1);
	if (((mmfr0 >> 28) & 0xf) == 0xf)       /* TGran4: 0b1111 = no 4 KiB granule */
		panic("cpu: no 4 KiB translation granule (ID_AA64MMFR0_EL1=0x%llx)", (unsigned long long)mmfr0);
}

/* ---- random numbers: FEAT_RNG ---- */

static bool has_rndr;

/* ID_AA64ISAR0_EL1.RNDR, bits 63:60: 0b0001 = RNDR and RNDRRS are implemented (ARM ARM D17.2.61). */
const char *arch_rng_init(void)
{
	has_rndr = ((READ_SYSREG(id_aa64isar0_el1) >> 60) & 0xf) >= 1;
	return has_rndr ? "rndr" : 0;
}

/* RNDR is system register s3_3_c2_c4_0 (written by encoding: binutils wants .arch armv8.5-a+rng for
 * the name). A read that returns a value sets NZCV to 0b0000; one that fails (the entropy source
 * had nothing in time) returns 0 with NZCV = 0b0100 (ARM ARM D17.2.132): retry a few times. */
bool arch_rng64(uint64_t *v)
{
	for (int i = 0; has_rndr && i < 10; i++) {
		uint64_t x, fail;
		__asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tcset %1, eq" : "=r"(x), "=r"(fail) :: "cc");
		if (!fail) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* ID_AA64MMFR0_EL1.PARange (bits 3:0): physical address bits. */
static uint32_t pa_range(void)
{
	return (uint32_t)(READ_SYSREG(id_aa64mmfr0_el1) & 0xf);
}

static uint32_t pa_bits(void)
{
	static const uint8_t bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	uint32_t r = pa_range();
	return r < sizeof(bits) ? bits[r] : 48;
}

uint64_t arch_phys_limit(void)
{
	uint32_t b = pa_bits();
	return 1ull << (b > 48 ? 48 : b);       /* our descriptors carry 48-bit output addresses */
}

/* Affinity fields Aff3 (39:32) and Aff2..Aff0 (23:0): the MADT GICC MPIDR and PSCI target format. */
uint64_t arch_hwid(void)
{
	return READ_SYSREG(mpidr_el1) & 0xFF00FFFFFFull;
}

/* ---- time: the generic timer's virtual count, at the frequency the firmware put in CNTFRQ ---- */

void arch_time_init(const struct acpi_info *ai)
{
	(void)ai;
	cnt_hz = READ_SYSREG(cntfrq_el0) & 0xffffffffu;
	if (cnt_hz == 0)
		panic("cpu: CNTFRQ_EL0 is 0: the firmware did not set the counter frequency");
}

uint64_t arch_counter_hz(void)
{
	return cnt_hz;
}

void arch_delay_us(uint64_t us)
{
	/* Whole seconds and the rest apart: exact for 62.5 MHz and without overflow. */
	uint64_t ticks = us / 1000000 * cnt_hz + us % 1000000 * cnt_hz / 1000000;
	uint64_t start = arch_counter();
	while (arch_counter() - start < ticks)
		arch_relax();
}

/* ---- memory ---- */

uint32_t arch_cache_bounds(uint64_t *b, uint32_t max)
{
	(void)b, (void)max;
	return 0;       /* memory attributes come only from our tables (MAIR), nothing to respect */
}

uint32_t arch_early_reserve(const struct boot_info *bi, struct pt_range *exec, uint32_t max)
{
	(void)bi, (void)exec, (void)max;
	return 0;       /* PSCI starts cores at any address: no low-memory trampoline */
}

int arch_default_uart(struct uart *u)
{
	(void)u;
	return -1;      /* without SPCR there is no safe guess on AArch64 */
}

/* Move this core onto SP_EL0 with the stack pointer it has, then make SP_EL1 the exception stack.
 * Nothing touches the stack in between, so the C frame around this stays valid. */
void arch_exception_stack(struct cpu *c)
{
	__asm__ volatile("mov x9, sp\n\t"
			 "msr spsel, #0\n\t"
			 "mov sp, x9\n\t"
			 "msr spsel, #1\n\t"
			 "mov sp, %0\n\t"
			 "msr spsel, #0"
			 :: "r"(c->exc_stack_top) : "x9", "memory");
}

/* Boot core, once, with UEFI's MMU on: see a64_mmu_switch in entry.S for why the MMU goes off for a
 * moment rather than switching under it. The values are kept for the secondaries. */
void arch_paging_enable(uint64_t root)
{
	uint32_t r = pa_range();
	uint64_t ips = r > 5 ? 5 : r;   /* 48 bits at most: our tables never hold a larger address */
	tcr_value = TCR_T0SZ(16) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
		    TCR_T1SZ(16) | TCR_EPD1 | TCR_TG1_4K | TCR_IPS(ips);
	/* Keep what the firmware set (RES1 bits, SA, endianness), turn on the MMU and both caches;
	 * WXN off (our entries already never make a page both writable and executable), A off. */
	sctlr_value = (READ_SYSREG(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I) & ~(SCTLR_WXN | SCTLR_A);
	a64_mmu_switch(root, PT_AARCH64_MAIR, tcr_value, sctlr_value);
}

/* Clean [a, a+len) to the point of coherency (DC CVAC by line; CTR_EL0.DminLine is log2 of the
 * smallest data cache line in words): what an observer with its caches off then reads from memory. */
static void clean_to_poc(uint64_t a, uint64_t len)
{
	uint64_t line = 4ul << ((READ_SYSREG(ctr_el0) >> 16) & 0xf);
	for (uint64_t p = a & ~(line - 1); p < a + len; p += line)
		__asm__ volatile("dc cvac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

static void clean_tables(uint64_t table, int level)
{
	clean_to_poc(table, 4096);
	if (level == 3)
		return;
	const uint64_t *e = (const uint64_t *)(uintptr_t)table;
	for (int i = 0; i < 512; i++)
		if (arch_pt_format.is_table(e[i], level))
			clean_tables(arch_pt_format.next(e[i]), level + 1);
}

/*
 * What a secondary needs from memory before its caches are on. It fetches secondary_entry and
 * reads its struct cpu with the MMU off, i.e. uncached, straight from memory: the kernel image is
 * cleaned here (UEFI's loader only cleaned it to the point of unification for the boot core's own
 * instruction fetches), the struct cpu in arch_start_core once its boot_arg is written.
 * The page tables are first read by the secondary's table walker after its MMU is on, and TCR makes
 * those walks cacheable and inner shareable, so they see the boot core's cached writes; they need
 * no cleaning. They are cleaned anyway, once, because it costs a few dozen pages and removes any
 * doubt about an implementation's walker. Nothing in them changes after this point.
 */
void arch_smp_prepare(const struct acpi_info *ai, uint64_t root)
{
	(void)ai;
	clean_to_poc((uint64_t)(uintptr_t)ImageBase, (uint64_t)(_edata - ImageBase));
	if (root)
		clean_tables(root, 0);
}

/* SMC Calling Convention (ARM DEN 0028): function ID in w0, arguments x1-x3, results in x0-x3
 * (into res when given); SMCCC 1.0 lets the callee clobber x4-x17. Returns x0. */
static int64_t smccc_call(bool hvc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t res[4])
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	if (hvc)
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9",
				 "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	else
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9",
				 "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	if (res) {
		res[0] = x0;
		res[1] = x1;
		res[2] = x2;
		res[3] = x3;
	}
	return (int64_t)x0;
}

static int64_t psci_call(bool hvc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return smccc_call(hvc, fn, a1, a2, a3, 0);
}

/*
 * The SMCCC TRNG (ARM DEN 0098), found as Linux finds it: an SMCCC function the firmware does not
 * know may be undefined below SMCCC 1.1 (QEMU without EL2 makes an unknown HVC an undefined
 * instruction), so first PSCI 1.0's PSCI_FEATURES must list SMCCC_VERSION, SMCCC_VERSION must say
 * 1.1 or later, and TRNG_VERSION 1.0 or later. Then TRNG_RND64 asks for 192 bits (x1-x3); a
 * NO_ENTROPY answer is tried again a few times.
 */
#define PSCI_VERSION 0x84000000u
#define PSCI_FEATURES 0x8400000Au
#define SMCCC_VERSION 0x80000000u
#define TRNG_VERSION 0x84000050u
#define TRNG_RND64 0xC4000053u
#define TRNG_NO_ENTROPY (-3)

int arch_trng(const struct acpi_info *ai, uint64_t v[3])
{
	if (!(ai->arm_boot_flags & ARM_BOOT_PSCI_COMPLIANT))
		return -1;
	bool hvc = ai->arm_boot_flags & ARM_BOOT_PSCI_USE_HVC;
	if ((int32_t)psci_call(hvc, PSCI_VERSION, 0, 0, 0) < 0x10000 ||
	    (int32_t)psci_call(hvc, PSCI_FEATURES, SMCCC_VERSION, 0, 0) < 0 ||
	    (int32_t)psci_call(hvc, SMCCC_VERSION, 0, 0, 0) < 0x10001 ||
	    (int32_t)psci_call(hvc, TRNG_VERSION, 0, 0, 0) < 0x10000)
		return -1;
	for (int i = 0; i < 10; i++) {
		uint64_t r[4];
		int32_t st = (int32_t)smccc_call(hvc, TRNG_RND64, 192, 0, 0, r);
		if (st == 0) {
			v[0] = r[1], v[1] = r[2], v[2] = r[3];
			return 192;
		}
		if (st != TRNG_NO_ENTROPY)
			break;
	}
	return 0;
}

/*
 * PSCI CPU_ON(target MPIDR, entry point address, context_id = c). The conduit (SMC to EL3 firmware
 * or HVC to a hypervisor) is the one the FADT names. Returns 0, -1 when the platform is not PSCI
 * compliant, or the PSCI error: -2 INVALID_PARAMETERS, -3 DENIED, -4 ALREADY_ON (the core was not
 * left off by the firmware: it is not ours to start), -5 ON_PENDING, -6 INTERNAL_FAILURE,
 * -9 INVALID_ADDRESS.
 */
int arch_start_core(const struct acpi_info *ai, struct cpu *c)
{
	if (!(ai->arm_boot_flags & ARM_BOOT_PSCI_COMPLIANT))
		return -1;
	c->boot_arg[A64_BA_EXC_STACK] = c->exc_stack_top;
	c->boot_arg[A64_BA_TTBR0] = pt_root;
	c->boot_arg[A64_BA_MAIR] = PT_AARCH64_MAIR;
	c->boot_arg[A64_BA_TCR] = tcr_value;
	c->boot_arg[A64_BA_SCTLR] = sctlr_value;
	c->boot_arg[A64_BA_STACK] = c->stack_top;
	c->boot_arg[A64_BA_VBAR] = (uint64_t)(uintptr_t)a64_vectors;
	clean_to_poc((uint64_t)(uintptr_t)c, sizeof(*c));
	/* Identity map: the entry's virtual address is its physical address. */
	/* PSCI return codes are 32-bit signed: look at w0 only. */
	int32_t r = (int32_t)psci_call(ai->arm_boot_flags & ARM_BOOT_PSCI_USE_HVC, PSCI_CPU_ON, c->hwid,
				       (uint64_t)(uintptr_t)a64_secondary_entry, (uint64_t)(uintptr_t)c);
	if (r == PSCI_SUCCESS)
		return 0;
	return r < 0 ? r : -6;
}

/* What a way to reset is given to take effect before the next is tried: a VMM takes the request
 * on its own thread, so this core runs on for a while. */
#define RESET_WAIT_US 500000

/*
 * PSCI SYSTEM_RESET through the conduit the FADT names, the one CPU_ON already uses: the Arm
 * standard way (SYSTEM_RESET is mandatory from PSCI 0.2 on), which QEMU virt provides over HVC (its
 * own PSCI; -no-reboot makes it exit) and EC2 Graviton over the conduit its FADT names.
 * Then the FADT's reset register in memory, should a platform publish one. EFI ResetSystem is not
 * used: Pollux keeps no runtime services, and a crash is the worst time to run firmware code.
 */
void arch_reset(const struct acpi_info *ai)
{
	if (ai->arm_boot_flags & ARM_BOOT_PSCI_COMPLIANT) {
		bool hvc = ai->arm_boot_flags & ARM_BOOT_PSCI_USE_HVC;
		kprintf_sync("pollux: reset through PSCI SYSTEM_RESET (%s)\n", hvc ? "hvc" : "smc");
		console_settle();
		psci_call(hvc, PSCI_SYSTEM_RESET, 0, 0, 0);
		arch_delay_us(RESET_WAIT_US);
	}
	const struct acpi_gas *r = &ai->reset_reg;
	if (r->address && r->space == 0) {
		kprintf_sync("pollux: reset through the ACPI reset register (memory 0x%llx <- 0x%02x)\n",
			     (unsigned long long)r->address, ai->reset_value);
		console_settle();
		mmio_write8(r->address, ai->reset_value);
		arch_delay_us(RESET_WAIT_US);
	}
}

void arch_halt(void)
{
	__asm__ volatile("msr daifset, #0xf");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- crash reports ---- */

/* Laid out by a64_exception_common in entry.S. */
struct a64_frame {
	uint64_t x[31];
	uint64_t sp, elr, spsr, esr, far;
};
_Static_assert(sizeof(struct a64_frame) == 288, "frame layout shared with entry.S");

void arch_exception(struct a64_frame *f, uint64_t vec);

/* Vector index = 4 * group + kind (ARM ARM D1.10.2). */
static const char *const vec_kind[4] = { "sync", "irq", "fiq", "serror" };
static const char *const vec_origin[4] = { "EL1t", "EL1h", "EL0 AArch64", "EL0 AArch32" };

/* ESR_ELx.EC, bits 31:26 (ARM ARM D17.2.37). */
static const char *ec_name(uint32_t ec)
{
	switch (ec) {
	case 0x00: return "unknown reason (undefined instruction)";
	case 0x01: return "WFI/WFE trap";
	case 0x07: return "FP/SIMD access trap";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x16: return "HVC";
	case 0x17: return "SMC";
	case 0x18: return "system register trap";
	case 0x20: return "instruction abort from EL0";
	case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: return "data abort from EL0";
	case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2c: return "FP exception";
	case 0x2f: return "SError";
	case 0x30: case 0x31: return "breakpoint";
	case 0x32: case 0x33: return "software step";
	case 0x34: case 0x35: return "watchpoint";
	case 0x3c: return "BRK instruction";
	}
	return "other";
}

/* Abort details from the ISS: the fault status code (DFSC/IFSC, bits 5:0) and, for data, WnR (bit 6). */
static int abort_detail(char *s, size_t size, uint32_t ec, uint64_t esr)
{
	uint32_t fsc = esr & 0x3f;
	const char *what;
	switch (fsc >> 2) {
	case 0: what = "address size fault"; break;
	case 1: what = "translation fault"; break;
	case 2: what = "access flag fault"; break;
	case 3: what = "permission fault"; break;
	default:
		what = fsc == 0x10 ? "synchronous external abort" : fsc == 0x21 ? "alignment fault" :
		       fsc == 0x30 ? "TLB conflict" : "other fault";
		break;
	}
	const char *dir = "";
	if (ec == 0x24 || ec == 0x25)
		dir = esr & (1u << 6) ? "write, " : "read, ";
	if (fsc < 0x10)
		return ksnprintf(s, size, ", %s%s, level %u", dir, what, fsc & 3);
	return ksnprintf(s, size, ", %s%s", dir, what);
}

/* One flag per core: an exception while reporting (a bad frame pointer, say) must not loop. */
static volatile uint8_t reporting[POLLUX_MAX_CORES];

void arch_exception(struct a64_frame *f, uint64_t vec)
{
	struct cpu *c = this_cpu();
	uint32_t idx = c && c->idx < POLLUX_MAX_CORES ? c->idx : 0;
	uint64_t base = (uint64_t)(uintptr_t)ImageBase;
	if (reporting[idx]) {
		console_emergency("pollux: another exception while printing the crash report\n");
		cpu_fatal(c);
	}
	reporting[idx] = 1;

	uint32_t ec = (uint32_t)(f->esr >> 26) & 0x3f;
	char what[96] = "";
	if ((vec & 3) == 0) {
		/* Every piece fits: the longest is well under sizeof(what). */
		size_t n = (size_t)ksnprintf(what, sizeof(what), " (%s", ec_name(ec));
		if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25)
			n += (size_t)abort_detail(what + n, sizeof(what) - n, ec, f->esr);
		ksnprintf(what + n, sizeof(what) - n, ")");
	}
	char regs[1024];
	struct kbuf rb = { regs, sizeof(regs), 0 };
	for (int i = 0; i < 31; i++)
		kbprintf(&rb, "x%-2d=0x%016llx%s", i, (unsigned long long)f->x[i], i % 4 == 3 ? "\n" : " ");
	kprintf_sync("pollux: crash core=%u vector=%s%s from %s\n"
		"esr=0x%08llx far=0x%016llx elr=0x%016llx spsr=0x%08llx\n"
		"elr=+0x%llx lr=+0x%llx (offsets from ImageBase 0x%llx, for addr2line)\n"
		"%s sp=0x%016llx\n",
		idx, vec_kind[vec & 3], what, vec_origin[(vec >> 2) & 3],
		(unsigned long long)f->esr, (unsigned long long)f->far, (unsigned long long)f->elr,
		(unsigned long long)f->spsr, (unsigned long long)(f->elr - base),
		(unsigned long long)(f->x[30] - base), (unsigned long long)base, regs, (unsigned long long)f->sp);
	int g = ec == 0x25 || ec == 0x21 ? stack_guard_core(f->far) : -1;
	if (g >= 0)
		kprintf("pollux: stack overflow on core %u: far=0x%016llx is in core %d's stack guard page\n", idx,
			(unsigned long long)f->far, g);

	cpu_crash_tail(c, f->elr, f->x[29], f->sp);
}
