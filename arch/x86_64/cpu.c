/* x86-64: CPU checks, GDT/IDT, TSC calibration, MTRRs, paging switch, AP start-up, crash reports. */
#include "kernel.h"
#include "../../drivers/uart.h"

const char arch_name[] = "x86_64";

/* MSRs (SDM vol 4, table 2-2). */
#define MSR_APIC_BASE 0x01B     /* RW: bit 11 global enable, bit 10 x2APIC mode */
#define MSR_MTRRCAP 0x0FE       /* RO: VCNT in bits 7:0 */
#define MSR_PAT 0x277           /* RW: IA32_PAT, eight memory types (SDM vol 3, 11.12.2) */
#define MSR_MTRR_PHYSBASE0 0x200 /* RW: base | type; PHYSMASKn = 0x201 + 2n, bit 11 valid */
#define MSR_MTRR_DEF_TYPE 0x2FF /* RW: bit 11 MTRRs enabled, bit 10 fixed ranges enabled */
#define MSR_X2APIC_ID 0x802     /* RO */
#define MSR_X2APIC_ICR 0x830    /* RW */
#define MSR_EFER 0xC0000080     /* RW: bit 11 NXE */
#define MSR_GS_BASE 0xC0000101  /* RW */

/* xAPIC registers (SDM vol 3, table 10-1), offsets from the MADT's local APIC base. */
#define LAPIC_ICR_LO 0x300      /* RW: bit 12 delivery status */
#define LAPIC_ICR_HI 0x310      /* RW: destination in bits 31:24 */
#define ICR_INIT 0x00004500     /* INIT, level assert */
#define ICR_SIPI 0x00004600     /* start-up, vector in bits 7:0 */

#define CR0_WP (1ul << 16)

static uint64_t tsc_hz;
static bool x2apic;
static uint64_t lapic_base;
static uint64_t tramp_pa;               /* the AP trampoline page below 1 MiB; data at +0x1000 */

extern char x86_vectors[], x86_tramp_start[], x86_tramp64[], x86_tramp_end[];
extern char ImageBase[];
void x86_load_gdt(const void *gdtr);

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t m)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t m, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

uint8_t arch_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void arch_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

uint16_t arch_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void arch_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

uint32_t arch_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void arch_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

/* ---- descriptor tables ---- */

/* Null, code, data, then each core's TSS descriptor (16 bytes, two slots) from GDT_TSS on. Not
 * const: LTR marks a TSS descriptor busy, a write to the GDT. */
#define GDT_TSS 3
static uint64_t gdt[GDT_TSS + 2 * POLLUX_MAX_CORES] = {
	0,
	0x00AF9A000000FFFFull,  /* 0x08: 64-bit code, present, ring 0 */
	0x00CF92000000FFFFull,  /* 0x10: data, present, writable */
};

/* 64-bit TSS (SDM vol 3, 8.7): only the interrupt stack table is used. IST1 is the core's exception
 * stack: every vector switches to it, so a fault with a bad or overflowed stack pointer (a stack
 * guard page) is still reported instead of becoming a double and then a triple fault. */
struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap;         /* past the limit: no I/O permission bitmap */
} __attribute__((packed));
_Static_assert(sizeof(struct x86_tss) == 104, "64-bit TSS is 104 bytes");

static struct x86_tss tss[POLLUX_MAX_CORES];

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;           /* 0x8E: present, ring 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

static struct idt_gate idt[32];

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Core c's TSS descriptor (SDM vol 3, 8.2.3): type 9 (available 64-bit TSS), present, base, limit. */
static void tss_install(struct cpu *c)
{
	struct x86_tss *t = &tss[c->idx];
	uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;
	t->iomap = sizeof(*t);
	t->ist[0] = c->exc_stack_top;
	gdt[GDT_TSS + 2 * c->idx] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
				    ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[GDT_TSS + 2 * c->idx + 1] = base >> 32;
	uint16_t sel = (uint16_t)((GDT_TSS + 2 * c->idx) * 8);
	__asm__ volatile("ltr %0" ::"r"(sel) : "memory");
}

static void tables_load(struct cpu *c)
{
	struct dtr g = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
	struct dtr i = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	x86_load_gdt(&g);
	__asm__ volatile("lidt %0" ::"m"(i));
	tss_install(c);
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_WP)); /* ring 0 honours read-only pages */
}

void arch_init_boot(struct cpu *c)
{
	__asm__ volatile("cli");
	/* Mask both legacy PICs for good; the LAPIC timer is never programmed. */
	arch_outb(0x21, 0xff);
	arch_outb(0xa1, 0xff);
	for (int v = 0; v < 32; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(x86_vectors + 16 * v);
		idt[v] = (struct idt_gate){ (uint16_t)a, 0x08, 0, 0x8E, (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0 };
	}
	tables_load(c);
	x2apic = (rdmsr(MSR_APIC_BASE) & (1u << 10)) != 0;
}

/* The boot core's TSS was loaded before its exception stack existed, with every gate on the
 * current stack (IST 0). Now the stack exists: point IST1 at it and every gate at IST1. Secondaries
 * load their TSS with IST1 already set and the gates already switched (tables_load). */
void arch_exception_stack(struct cpu *c)
{
	tss[c->idx].ist[0] = c->exc_stack_top;
	for (int v = 0; v < 32; v++)
		idt[v].ist = 1;
}

void arch_check_cpu(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000008)
		panic("cpu: no extended CPUID leaves");
	cpuid(0x80000001, 0, r);
	if (!(r[3] & (1u << 26)))
		panic("cpu: no 1 GiB pages (CPUID PDPE1GB); with QEMU use -cpu max or a host CPU that has them");
	if (!(r[3] & (1u << 20)))
		panic("cpu: no NX bit");
	cpuid(0x80000007, 0, r);
	if (!(r[3] & (1u << 8)))
		kprintf("cpu: warning: TSC is not invariant; time may drift with frequency changes\n");
}

/* ---- random numbers: RDSEED (entropy source) preferred, RDRAND (its DRBG) otherwise ---- */

static bool has_rdseed, has_rdrand;

const char *arch_rng_init(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	cpuid(1, 0, r);
	has_rdrand = (r[2] >> 30) & 1;                  /* CPUID.01H:ECX.RDRAND[bit 30] */
	if (max_leaf >= 7) {
		cpuid(7, 0, r);
		has_rdseed = (r[1] >> 18) & 1;          /* CPUID.(EAX=07H,ECX=0):EBX.RDSEED[bit 18] */
	}
	return has_rdseed ? "rdseed" : has_rdrand ? "rdrand" : 0;
}

/* CF=1: a valid value; CF=0: none available right now, try again (SDM vol 2, RDRAND, RDSEED).
 * Intel's DRNG guide: RDRAND fails 10 times in a row only if the hardware is broken; RDSEED may
 * run dry for a while under load, so it gets more tries with a pause in between, and RDRAND after. */
bool arch_rng64(uint64_t *v)
{
	uint8_t ok;
	for (int i = 0; has_rdseed && i < 100; i++) {
		__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
		if (ok)
			return true;
		arch_relax();
	}
	for (int i = 0; has_rdrand && i < 10; i++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
		if (ok)
			return true;
	}
	return false;
}

/* The SMCCC TRNG is Arm's: x86 has none. */
int arch_trng(const struct acpi_info *ai, uint64_t v[3])
{
	(void)ai, (void)v;
	return -1;
}

uint64_t arch_phys_limit(void)
{
	uint32_t r[4];
	cpuid(0x80000008, 0, r);
	uint32_t bits = r[0] & 0xff;
	if (bits > 48)
		bits = 48;
	return 1ull << bits;
}

uint64_t arch_hwid(void)
{
	if (x2apic)
		return rdmsr(MSR_X2APIC_ID);
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[1] >> 24;
}

/* ---- time ---- */

/* Count TSC ticks across a known interval: the ACPI PM timer (3.579545 MHz) when the FADT
 * names one, else PIT channel 2 (1.193182 MHz) in one-shot mode. */
static uint64_t tsc_calibrate_pm(const struct acpi_gas *g, bool ext)
{
	uint32_t mask = ext ? 0xffffffffu : 0xffffffu;
	uint32_t want = 3579545 / 20;   /* 50 ms */
	uint32_t start = arch_inl((uint16_t)g->address) & mask;
	uint64_t t0 = arch_counter();
	uint32_t now;
	do
		now = arch_inl((uint16_t)g->address) & mask;
	while (((now - start) & mask) < want);
	uint64_t t1 = arch_counter();
	return (t1 - t0) * 3579545ull / ((now - start) & mask);
}

static uint64_t tsc_calibrate_pit(void)
{
	uint32_t count = 1193182 / 20;  /* 50 ms */
	arch_outb(0x61, (arch_inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	arch_outb(0x43, 0xB0);          /* channel 2, lobyte/hibyte, mode 0 */
	arch_outb(0x42, (uint8_t)count);
	arch_outb(0x42, (uint8_t)(count >> 8));
	uint64_t t0 = arch_counter();
	for (uint64_t spin = 0; !(arch_inb(0x61) & 0x20) && spin < 100000000; spin++)
		;
	uint64_t t1 = arch_counter();
	return (t1 - t0) * 20;
}

void arch_time_init(const struct acpi_info *ai)
{
	if (ai->pm_timer.address && ai->pm_timer.space == 1)
		tsc_hz = tsc_calibrate_pm(&ai->pm_timer, ai->pm_timer_32bit);
	else
		tsc_hz = tsc_calibrate_pit();
	if (tsc_hz == 0)
		panic("cpu: TSC calibration failed");
}

uint64_t arch_counter_hz(void)
{
	return tsc_hz;
}

void arch_delay_us(uint64_t us)
{
	uint64_t end = arch_counter() + tsc_hz / 1000000 * us;
	while (arch_counter() < end)
		arch_relax();
}

/* ---- memory ---- */

uint32_t arch_cache_bounds(uint64_t *b, uint32_t max)
{
	uint32_t n = 0;
	uint64_t def = rdmsr(MSR_MTRR_DEF_TYPE);
	if (!(def & (1u << 11)))
		return 0;
	/* Fixed-range MTRRs cover the first MiB in pieces as small as 4 KiB: a bound at 1 MiB
	 * makes the first 2 MiB use 4 KiB pages, each inside one fixed range. */
	if ((def & (1u << 10)) && n < max)
		b[n++] = MiB(1);
	uint32_t r[4];
	cpuid(0x80000008, 0, r);
	uint64_t physmask = (1ull << (r[0] & 0xff)) - 1;
	uint32_t vcnt = rdmsr(MSR_MTRRCAP) & 0xff;
	for (uint32_t i = 0; i < vcnt && n + 2 <= max; i++) {
		uint64_t base = rdmsr(MSR_MTRR_PHYSBASE0 + 2 * i);
		uint64_t mask = rdmsr(MSR_MTRR_PHYSBASE0 + 2 * i + 1);
		if (!(mask & (1u << 11)))
			continue;
		uint64_t m = mask & physmask & ~0xfffull;
		uint64_t start = base & physmask & ~0xfffull;
		b[n++] = start;
		/* A contiguous mask covers [start, start + size); a sparse one gets only its base. */
		uint64_t size = (~m + 1) & physmask;
		if (size && ((m | (size - 1)) & physmask) == physmask)
			b[n++] = start + size;
	}
	return n;
}

uint32_t arch_early_reserve(const struct boot_info *bi, struct pt_range *exec, uint32_t max)
{
	/* Two free pages below 1 MiB (not page 0): trampoline code, then its data. */
	for (uint32_t i = 0; i < bi->nranges && !tramp_pa; i++) {
		const struct mem_range *r = &bi->ranges[i];
		if (r->kind != MEM_FREE)
			continue;
		uint64_t s = ALIGN_UP(r->base < 0x1000 ? 0x1000 : r->base, 4096);
		uint64_t e = r->base + r->size;
		if (e > MiB(1))
			e = MiB(1);
		if (s + 0x2000 <= e)
			tramp_pa = s;
	}
	if (!tramp_pa || max == 0) {
		kprintf("cpu: no free memory below 1 MiB for the AP trampoline: one core only\n");
		return 0;
	}
	/* Copy the code now, while the firmware's tables still map this page writable: ours map
	 * it read-only and executable. */
	char *dst = (char *)(uintptr_t)tramp_pa;
	for (char *p = x86_tramp_start; p < x86_tramp_end; p++)
		dst[p - x86_tramp_start] = *p;
	exec[0] = (struct pt_range){ tramp_pa, tramp_pa + 4096 };
	return 1;
}

void arch_paging_enable(uint64_t root)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | (1u << 11));  /* NXE before any NX entry is used */
	/* Our PAT (PA1 becomes WC) before our tables use it: write back and invalidate the caches
	 * first, so no line cached under the firmware's PA1 (WT) survives the change (SDM vol 3,
	 * 11.12.4); loading CR3 then flushes the TLB. The AP trampoline does the same from TD_PAT. */
	__asm__ volatile("wbinvd" ::: "memory");
	wrmsr(MSR_PAT, PT_X86_PAT);
	__asm__ volatile("mov %0, %%cr3" ::"r"(root) : "memory");
}

/* ---- cores ---- */

static void icr_send(uint32_t apic_id, uint32_t lo)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)apic_id << 32) | lo);
		return;
	}
	mmio_write32(lapic_base + LAPIC_ICR_HI, apic_id << 24);
	mmio_write32(lapic_base + LAPIC_ICR_LO, lo);
	for (uint32_t spin = 0; (mmio_read32(lapic_base + LAPIC_ICR_LO) & (1u << 12)) && spin < 1000000; spin++)
		arch_relax();
}

void x86_ap_entry(struct cpu *c);

void arch_smp_prepare(const struct acpi_info *ai, uint64_t root)
{
	lapic_base = ai->lapic_base ? ai->lapic_base : 0xFEE00000u;
	if (!tramp_pa)
		return;
	uint8_t *d = (uint8_t *)(uintptr_t)(tramp_pa + 0x1000);
	for (int i = 0; i < 3; i++)
		((uint64_t *)d)[i] = gdt[i];
	*(uint16_t *)(d + 0x20) = 3 * 8 - 1;   /* the first three only: code and data */
	*(uint32_t *)(d + 0x22) = (uint32_t)(tramp_pa + 0x1000);
	*(uint32_t *)(d + 0x30) = (uint32_t)(tramp_pa + (uint64_t)(x86_tramp64 - x86_tramp_start));
	*(uint16_t *)(d + 0x34) = 0x08;
	*(uint32_t *)(d + 0x40) = (uint32_t)root;
	*(uint64_t *)(d + 0x58) = (uint64_t)(uintptr_t)x86_ap_entry;
	*(uint64_t *)(d + 0x60) = PT_X86_PAT;
	if (root >> 32)
		panic("cpu: page tables above 4 GiB cannot be loaded by the AP trampoline");
}

/* INIT, 10 ms, SIPI, 200 us, SIPI: the universal start-up algorithm (SDM vol 3, 8.4.4.1).
 * These are the only IPIs Pollux ever sends. */
int arch_start_core(const struct acpi_info *ai, struct cpu *c)
{
	(void)ai;
	if (!tramp_pa)
		return -1;
	if (!x2apic && c->hwid > 0xff)
		return -2;
	uint8_t *d = (uint8_t *)(uintptr_t)(tramp_pa + 0x1000);
	*(volatile uint64_t *)(d + 0x48) = (uint64_t)(uintptr_t)c;
	*(volatile uint64_t *)(d + 0x50) = c->stack_top;
	mb();
	uint32_t id = (uint32_t)c->hwid;
	icr_send(id, ICR_INIT);
	arch_delay_us(10000);
	for (int i = 0; i < 2; i++) {
		icr_send(id, ICR_SIPI | (uint32_t)(tramp_pa >> 12));
		arch_delay_us(200);
	}
	return 0;
}

void x86_ap_entry(struct cpu *c)
{
	tables_load(c);
	cpu_secondary_main(c);
}

int arch_default_uart(struct uart *u)
{
	u->type = UART_16550_PIO;       /* COM1, what x86 VMs (QEMU, EC2 Nitro) provide */
	u->base = 0x3F8;
	u->shift = 0;
	u->mmio32 = false;
	return 0;
}

void arch_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- reset ---- */

/* Ports of the fallbacks. RST_CNT: Intel ICH9 datasheet 13.7.5 (every PCH since has it, and
 * QEMU's q35 models it): bit 1 SYS_RST asks for a hard reset, and bit 2 RST_CPU going from 0 to 1
 * starts it. The 8042's command 0xFE pulses the CPU reset line (IBM PC AT technical reference). */
#define PORT_RST_CNT 0xCF9
#define  RST_CNT_SYS_RST 0x02
#define  RST_CNT_RST_CPU 0x04
#define PORT_KBC_CMD 0x64
#define  KBC_PULSE_RESET 0xFE
/* What a way to reset is given to take effect before the next is tried: a VMM (QEMU, KVM) takes
 * the request on its own thread, so the write returns and this core runs on for a while. */
#define RESET_WAIT_US 500000

/*
 * In the order of trust: the FADT's RESET_REG is what the platform's firmware says resets it
 * (ACPI 6.5, 4.8.3.6; QEMU's q35 names port 0xCF9 with value 0x0F; EC2's tables were not checked
 * here, which is why the fallbacks exist); without one, RST_CNT, then the keyboard controller, and
 * last a triple fault, which KVM (Nitro), Xen and QEMU all turn into a reset (QEMU with -no-reboot
 * exits on each of these). EFI ResetSystem is not used: Pollux keeps no runtime services (no SetVirtualAddressMap,
 * no firmware call after ExitBootServices), and a crash is the worst time to start running
 * firmware code on our stack and page tables.
 */
void arch_reset(const struct acpi_info *ai)
{
	const struct acpi_gas *r = &ai->reset_reg;
	if (r->address) {
		kprintf_sync("pollux: reset through the ACPI reset register (%s 0x%llx <- 0x%02x)\n",
			     r->space == 1 ? "port" : "memory", (unsigned long long)r->address, ai->reset_value);
		console_settle();
		if (r->space == 1)
			arch_outb((uint16_t)r->address, ai->reset_value);
		else
			mmio_write8(r->address, ai->reset_value);
		arch_delay_us(RESET_WAIT_US);
	}
	kprintf_sync("pollux: reset through port 0xcf9\n");
	console_settle();
	arch_outb(PORT_RST_CNT, RST_CNT_SYS_RST);
	arch_outb(PORT_RST_CNT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
	arch_delay_us(RESET_WAIT_US);

	kprintf_sync("pollux: reset through the keyboard controller\n");
	console_settle();
	arch_outb(PORT_KBC_CMD, KBC_PULSE_RESET);
	arch_delay_us(RESET_WAIT_US);

	/* An IDT of no entries: the exception cannot be delivered, nor the double fault that
	 * follows, and the third is a shutdown, which the chipset or hypervisor turns into a reset. */
	kprintf_sync("pollux: reset by a triple fault\n");
	console_settle();
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) no_idt = { 0, 0 };
	__asm__ volatile("lidt %0; int3" ::"m"(no_idt) : "memory");
	arch_delay_us(RESET_WAIT_US);
}

/* ---- crash reports ---- */

struct x86_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static const char *const vec_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
	"device not available", "double fault", "coprocessor overrun", "invalid TSS",
	"segment not present", "stack fault", "general protection", "page fault", "reserved",
	"x87 error", "alignment check", "machine check", "SIMD error", "virtualization",
	"control protection",
};

/* One flag per core: every vector runs at the top of the same IST stack, so an exception while
 * reporting would start over on top of the report in progress; it stops the core instead. */
static volatile uint8_t reporting[POLLUX_MAX_CORES];

void x86_exception(struct x86_frame *f)
{
	struct cpu *c = (struct cpu *)(uintptr_t)rdmsr(MSR_GS_BASE);
	uint32_t idx = c && c->idx < POLLUX_MAX_CORES ? c->idx : 0;
	if (reporting[idx]) {
		console_emergency("pollux: another exception while printing the crash report\n");
		cpu_fatal(c);
	}
	reporting[idx] = 1;
	uint64_t cr2, cr3;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	const char *name = f->vector < 32 && vec_names[f->vector] ? vec_names[f->vector] : "reserved";
	kprintf_sync("pollux: crash core=%u vector=%llu (%s) error=0x%llx\n"
		"rip=0x%016llx (+0x%llx) cs=0x%llx rflags=0x%llx rsp=0x%016llx\n"
		"cr2=0x%016llx cr3=0x%016llx\n"
		"rax=0x%016llx rbx=0x%016llx rcx=0x%016llx rdx=0x%016llx\n"
		"rsi=0x%016llx rdi=0x%016llx rbp=0x%016llx r8 =0x%016llx\n"
		"r9 =0x%016llx r10=0x%016llx r11=0x%016llx r12=0x%016llx\n"
		"r13=0x%016llx r14=0x%016llx r15=0x%016llx\n",
		idx, (unsigned long long)f->vector, name, (unsigned long long)f->error,
		(unsigned long long)f->rip, (unsigned long long)(f->rip - (uint64_t)(uintptr_t)ImageBase),
		(unsigned long long)f->cs, (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)cr2, (unsigned long long)cr3,
		(unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx,
		(unsigned long long)f->rdx, (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->r8, (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12,
		(unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	int g = f->vector == 14 ? stack_guard_core(cr2) : -1;
	if (g >= 0)
		kprintf("pollux: stack overflow on core %u: cr2=0x%016llx is in core %d's stack guard page\n", idx,
			(unsigned long long)cr2, g);

	cpu_crash_tail(c, f->rip, f->rbp, f->rsp);
}
