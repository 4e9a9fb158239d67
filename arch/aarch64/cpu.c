/* AArch64: CPU checks, generic timer, MMU switch, PSCI core start-up, crash reports. */
#include "kernel.h"
#include "../../drivers/uart.h"

const char arch_name[] = "aarch64";

/* SCTLR_EL1 bits (ARM ARM D17.2.118). */
#define SCTLR_M (1ul << 0)      /* MMU on */
#define SCTLR_C (1ul << 2)      /* data caches */
#define SCTLR_I (1ul << 12)     /* instruction caches */
#define SCTLR_WXN (1ul << 19)   /* writable implies never-execute: our tables already say so */

/* TCR_EL1 fields (ARM ARM D17.2.131) for one 48-bit identity map through TTBR0. */
#define TCR_T0SZ(n) ((uint64_t)(n) << 0)
#define TCR_IRGN0_WBWA (1ul << 8)
#define TCR_ORGN0_WBWA (1ul << 10)
#define TCR_SH0_INNER (3ul << 12)
#define TCR_TG0_4K (0ul << 14)
#define TCR_T1SZ(n) ((uint64_t)(n) << 16)
#define TCR_EPD1 (1ul << 23)    /* never walk TTBR1 */
#define TCR_IPS(n) ((uint64_t)(n) << 32)

/* PSCI 1.1 (ARM DEN 0022), SMC64 calling convention. */
#define PSCI_CPU_ON 0xC4000003u
#define PSCI_SUCCESS 0
/* FADT ARM_BOOT_ARCH flags (ACPI 6.5, table 5.11). */
#define ARM_BOOT_PSCI_COMPLIANT 0x1
#define ARM_BOOT_PSCI_USE_HVC 0x2

extern char a64_vectors[], a64_secondary_entry[], ImageBase[], _edata[];
void a64_mmu_switch(uint64_t ttbr0, uint64_t mair, uint64_t tcr, uint64_t sctlr);

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

uint32_t arch_inl(uint16_t port)
{
	panic("no port I/O on aarch64 (inl 0x%x)", port);
}

void arch_init_boot(struct cpu *c)
{
	__asm__ volatile("msr daifset, #0xf");
	__asm__ volatile("msr vbar_el1, %0; msr tpidr_el1, %1; isb" ::"r"(a64_vectors), "r"(c));
}

void arch_check_cpu(void)
{
	uint64_t el = (READ_SYSREG(CurrentEL) >> 2) & 3;
	if (el != 1)
		panic("cpu: entered at EL%llu; Pollux runs at EL1", (unsigned long long)el);
	uint64_t mmfr0 = READ_SYSREG(id_aa64mmfr0_el1);
	if (((mmfr0 >> 28) & 0xf) == 0xf)
		panic("cpu: no 4 KiB translation granule");
}

static uint32_t pa_bits(void)
{
	static const uint8_t bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	uint64_t r = READ_SYSREG(id_aa64mmfr0_el1) & 0xf;
	return r < sizeof(bits) ? bits[r] : 48;
}

uint64_t arch_phys_limit(void)
{
	uint32_t b = pa_bits();
	return 1ull << (b > 48 ? 48 : b);
}

uint64_t arch_hwid(void)
{
	return READ_SYSREG(mpidr_el1) & 0xFF00FFFFFFull;
}

void arch_time_init(const struct acpi_info *ai)
{
	(void)ai;
	cnt_hz = READ_SYSREG(cntfrq_el0);
	if (cnt_hz == 0)
		panic("cpu: CNTFRQ_EL0 is 0: the firmware did not set the counter frequency");
}

uint64_t arch_counter_hz(void)
{
	return cnt_hz;
}

void arch_delay_us(uint64_t us)
{
	uint64_t end = arch_counter() + cnt_hz / 1000000 * us;
	while (arch_counter() < end)
		arch_relax();
}

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

void arch_paging_enable(uint64_t root)
{
	uint32_t b = pa_bits();
	uint64_t ips = b >= 48 ? 5 : (READ_SYSREG(id_aa64mmfr0_el1) & 0xf);
	tcr_value = TCR_T0SZ(16) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
		    TCR_T1SZ(16) | TCR_EPD1 | TCR_IPS(ips);
	sctlr_value = (READ_SYSREG(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I) & ~SCTLR_WXN;
	a64_mmu_switch(root, PT_AARCH64_MAIR, tcr_value, sctlr_value);
}

/* Clean [a, a+len) to the point of coherency: a secondary reads it with its caches off. */
static void clean_to_poc(uint64_t a, uint64_t len)
{
	uint64_t line = 4ul << ((READ_SYSREG(ctr_el0) >> 16) & 0xf);
	for (uint64_t p = a & ~(line - 1); p < a + len; p += line)
		__asm__ volatile("dc cvac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

void arch_smp_prepare(const struct acpi_info *ai, uint64_t root)
{
	(void)ai, (void)root;
	/* A secondary fetches its first instructions with the MMU and caches off. The page tables
	 * need no cleaning: they are walked only after its MMU is on, with cacheable, inner-shareable
	 * walks (TCR) that see the boot core's cached writes. */
	clean_to_poc((uint64_t)(uintptr_t)ImageBase, (uint64_t)(_edata - ImageBase));
}

static int64_t psci_call(bool hvc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	/* SMCCC 1.0 lets the callee clobber x4-x17. */
	if (hvc)
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9",
				 "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	else
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9",
				 "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return (int64_t)x0;
}

int arch_start_core(const struct acpi_info *ai, struct cpu *c)
{
	if (!(ai->arm_boot_flags & ARM_BOOT_PSCI_COMPLIANT))
		return -100;    /* no PSCI: the firmware gives no way to start cores */
	c->boot_arg[0] = pt_root;
	c->boot_arg[1] = PT_AARCH64_MAIR;
	c->boot_arg[2] = tcr_value;
	c->boot_arg[3] = sctlr_value;
	c->boot_arg[4] = (uint64_t)(uintptr_t)a64_vectors;
	c->boot_arg[5] = c->stack_top;
	c->boot_arg[6] = (uint64_t)(uintptr_t)c;
	clean_to_poc((uint64_t)(uintptr_t)c, sizeof(*c));
	int64_t r = psci_call(ai->arm_boot_flags & ARM_BOOT_PSCI_USE_HVC, PSCI_CPU_ON, c->hwid,
			      (uint64_t)(uintptr_t)a64_secondary_entry, (uint64_t)(uintptr_t)c->boot_arg);
	return r == PSCI_SUCCESS ? 0 : (int)r;
}

void arch_halt(void)
{
	__asm__ volatile("msr daifset, #0xf");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- crash reports ---- */

struct a64_frame {
	uint64_t x[31];
	uint64_t sp, elr, spsr, esr, far;
};
_Static_assert(sizeof(struct a64_frame) == 288, "frame layout shared with entry.S");

static const char *const vec_kind[4] = { "sync", "irq", "fiq", "serror" };
static const char *const vec_origin[4] = { "EL1 SP0", "EL1", "EL0 64-bit", "EL0 32-bit" };

static const char *ec_name(uint32_t ec)
{
	switch (ec) {
	case 0x00: return "unknown reason";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x18: return "system register trap";
	case 0x20: case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2f: return "SError";
	case 0x3c: return "BRK";
	}
	return "other";
}

static bool in_image(uint64_t a)
{
	return a >= (uint64_t)(uintptr_t)ImageBase && a < (uint64_t)(uintptr_t)_edata;
}

void arch_exception(struct a64_frame *f, uint64_t vec)
{
	struct cpu *c = this_cpu();
	uint32_t idx = c ? c->idx : 0;
	uint64_t base = (uint64_t)(uintptr_t)ImageBase;
	uint32_t ec = (uint32_t)(f->esr >> 26) & 0x3f;
	char regs[1024];
	size_t n = 0;
	for (int i = 0; i < 31; i++)
		n += (size_t)ksnprintf(regs + n, sizeof(regs) - n, "x%-2d=0x%016llx%s", i,
				       (unsigned long long)f->x[i], i % 4 == 3 ? "\n" : " ");
	kprintf("pollux: crash core=%u vector=%s from %s (%s)\n"
		"esr=0x%08llx far=0x%016llx elr=0x%016llx (+0x%llx) spsr=0x%llx\n%s sp=0x%016llx\n",
		idx, vec_kind[vec & 3], vec_origin[(vec >> 2) & 3], (vec & 3) == 0 ? ec_name(ec) : "interrupt",
		(unsigned long long)f->esr, (unsigned long long)f->far, (unsigned long long)f->elr,
		(unsigned long long)(f->elr - base), (unsigned long long)f->spsr, regs, (unsigned long long)f->sp);

	/* Follow the x29 frame records while they stay on this core's stack. */
	char line[256];
	n = (size_t)ksnprintf(line, sizeof(line), "backtrace: +0x%llx", (unsigned long long)(f->elr - base));
	uint64_t lo = c && c->stack_top ? c->stack_top - POLLUX_STACK_SIZE : 0;
	uint64_t hi = c && c->stack_top ? c->stack_top : 0;
	uint64_t fp = f->x[29];
	for (int depth = 0; depth < 16 && fp >= lo && fp + 16 <= hi && !(fp & 15); depth++) {
		uint64_t ret = ((uint64_t *)(uintptr_t)fp)[1];
		if (!in_image(ret))
			break;
		n += (size_t)ksnprintf(line + n, sizeof(line) - n, " +0x%llx", (unsigned long long)(ret - base));
		uint64_t next = ((uint64_t *)(uintptr_t)fp)[0];
		if (next <= fp)
			break;
		fp = next;
	}
	kprintf("%s\npollux: core %u stopped\n", line, idx);
	if (c)
		c->state = CPU_STOPPED;
	arch_halt();
}
