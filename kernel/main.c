/* kmain: the boot core's path from ExitBootServices to every core in its loop. */
#include "kernel.h"

struct boot_info *boot;
struct acpi_info acpi;
uint64_t pt_root, pt_limit, pt_sum_boot;
struct pt_stats pt_stat;
const struct pt_format *pt_fmt = &arch_pt_format;

static uint64_t pt_alloc_page(void *ctx)
{
	(void)ctx;
	/* Below 4 GiB: an x86 AP loads CR3 from 32-bit code in its trampoline. */
	return mem_alloc_early(4096, 4096, GiB(4));
}

/*
 * The stack protector's canary (-fstack-protector-strong -mstack-protector-guard=global: every
 * protected function on every core compares its frame's copy with this word before returning).
 * Its low byte is always 0, as glibc's is, so that an overrun by a string copy, which stops at a
 * NUL, cannot write it back intact. It is writable data: neither .rodata nor .data.rel.ro.
 *
 * Until stack_guard_init, the value is this fixed one, known to anyone with the image. What runs
 * before it is checked against it: GNU-EFI's crt0 and _relocate (built without the protector),
 * efi_main, and kmain's first steps up to random_init (ACPI parsing, console, CPU checks, counter
 * calibration, the random seed). That catches an accidental overrun there, not a forged canary,
 * and that code reads only what the firmware hands over, never the network, which the layers above
 * bring up long after. A protected function on the stack when the value changes would fail its
 * check on return, so none may return across it: efi_main calls kmain, which never returns.
 */
uintptr_t __stack_chk_guard = (uintptr_t)0x2f8e51c9a3d6b700ULL;

/* A random canary, as early as there is randomness. Not protected itself (it would be checking
 * against the value it changes); kmain, its caller, never returns. */
__attribute__((no_stack_protector, noinline)) static void stack_guard_init(void)
{
	__stack_chk_guard = (uintptr_t)random_u64() & ~(uintptr_t)0xff;
}

void __stack_chk_fail(void)
{
	/* The return address is just past the call in the function whose frame was overrun: minus
	 * one it is inside the call, which addr2line names. */
	uint64_t at = (uint64_t)(uintptr_t)__builtin_return_address(0) - 1;
	panic("stack protector: canary overwritten, the stack frame of the function calling from +0x%llx "
	      "(offset from ImageBase, for addr2line) was overrun",
	      (unsigned long long)(at - (boot ? boot->image_base : 0)));
}

/* Every stack's guard page: left out of the page tables, so an overflow faults at once. */
static struct pt_range stack_guards[2 * POLLUX_MAX_CORES];
static uint32_t nstack_guards;

/* size bytes of stack with an unmapped page below it; returns the top, or 0. */
static uint64_t stack_alloc(uint64_t size)
{
	uint64_t p = mem_alloc_early(size + 4096, 4096, 0);
	if (!p)
		return 0;
	stack_guards[nstack_guards++] = (struct pt_range){ p, p + 4096 };
	return p + 4096 + size;
}

/* Every core's stacks (its own and its exception stack) before the tables are built: the tables
 * never change afterwards, so the guard pages must be known now. cpus[i] is core i's slot. */
static void stacks_init(void)
{
	uint32_t n = acpi.ncpus < POLLUX_MAX_CORES ? acpi.ncpus : POLLUX_MAX_CORES;
	for (uint32_t i = 0; i < n || i == 0; i++) {
		uint64_t top = stack_alloc(POLLUX_STACK_SIZE), exc = top ? stack_alloc(EXC_STACK_SIZE) : 0;
		if (!exc) {
			if (i == 0)
				panic("mem: no memory for the boot core's stacks");
			kprintf("cpu: no memory for stacks: at most %u cores\n", i);
			break;
		}
		cpus[i].stack_top = top;
		cpus[i].exc_stack_top = exc;
	}
}

int stack_guard_core(uint64_t addr)
{
	for (uint32_t i = 0; i < POLLUX_MAX_CORES; i++) {
		uint64_t lo = cpus[i].stack_top - POLLUX_STACK_SIZE - 4096;
		uint64_t xlo = cpus[i].exc_stack_top - EXC_STACK_SIZE - 4096;
		if ((cpus[i].stack_top && addr - lo < 4096) || (cpus[i].exc_stack_top && addr - xlo < 4096))
			return (int)i;
	}
	return -1;
}

/* Build the identity map once; nothing writes an entry after this. */
static void paging_init(void)
{
	struct pt_range exec[4], wc[8];
	uint64_t bounds[64];
	uint32_t nexec = arch_early_reserve(boot, exec, ARRAY_SIZE(exec) - 1);
	exec[nexec++] = (struct pt_range){ boot->text_start, boot->text_end };
	/* Constant data: the relocation that wrote its GOT and .data.rel.ro ran before efi_main. */
	struct pt_range rodata = { boot->rodata_start, boot->rodata_end };

	struct pt_input in = {
		.ranges = boot->ranges,
		.nranges = boot->nranges,
		.exec = exec,
		.nexec = nexec,
		.bounds = bounds,
		.nbounds = arch_cache_bounds(bounds, ARRAY_SIZE(bounds)),
		.guards = stack_guards,
		.nguards = nstack_guards,
		/* Device memory the layers above write descriptors into (a NIC's LLQ BAR): the tables
		 * never change later, so these must be known now. */
		.wc = wc,
		.nwc = kernel_wc_probe ? kernel_wc_probe(&acpi, wc, ARRAY_SIZE(wc)) : 0,
		.rodata = &rodata,
		.nrodata = 1,
	};
	/* Map the whole physical address space the CPU reports, and at least all RAM. */
	uint64_t top = 0;
	for (uint32_t i = 0; i < boot->nranges; i++)
		if (boot->ranges[i].base + boot->ranges[i].size > top)
			top = boot->ranges[i].base + boot->ranges[i].size;
	pt_limit = arch_phys_limit();
	if (pt_limit < top)
		pt_limit = top;
	in.limit = ALIGN_UP(pt_limit, GiB(1));
	pt_limit = in.limit;

	if (pt_build(&in, pt_fmt, pt_alloc_page, 0, &pt_root, &pt_stat) != 0)
		panic("mem: cannot build page tables: no memory below 4 GiB, or the UEFI map overlaps itself");
	pt_sum_boot = pt_checksum(pt_root, pt_fmt);
	if (in.nwc)
		kprintf("mem: %u write-combining range(s), %llu KiB mapped write-combining\n", in.nwc,
			(unsigned long long)(pt_stat.wc_bytes >> 10));
	arch_paging_enable(pt_root);
}

/* Boot every layer above the kernel (boot/layers.c), lowest first. One that fails has said why
 * and stays idle; the console and the other layers go on without it. */
static void layers_boot(uint32_t cores)
{
	for (const struct kernel_layer *const *l = kernel_layers; *l; l++)
		if ((*l)->boot)
			(*l)->boot(cores);
}

static void kmain_on_stack(void *arg)
{
	(void)arg;
	uint32_t cores = acpi.ncpus < POLLUX_MAX_CORES ? acpi.ncpus : POLLUX_MAX_CORES;
	mem_init_arenas(cores ? cores : 1); /* one per core, before the NIC takes its queues' share */
	layers_boot(cores);               /* above us (boot/layers.c): devices, queues, hooks, commands */
	cpu_start_all(&acpi);             /* secondaries: stack, per-core data, layers, into loops */
	cpu_layers_core(&cpus[0]);        /* the boot core's own share of each layer */

	watchdog_start();                 /* each core watches the next one's loop from here */
	uint64_t ms = time_ns() / 1000000u;
	kprintf("pollux: ready arch=%s cores=%u ram=%lluMiB boot=%llums\n", arch_name, ncpus,
		(unsigned long long)(mem_total_ram() >> 20), (unsigned long long)ms);
	cpu_loop(&cpus[0]);
}

void kmain(struct boot_info *bi)
{
	boot = bi;
	cpus[0].self = &cpus[0];
	arch_init_boot(&cpus[0]);         /* exception vectors and per-core pointer first */
	int err = acpi_parse(bi->rsdp, &acpi);
	console_init(&acpi);              /* UART from SPCR, or the arch default (boot/layers.c) */
	kprintf("\npollux: booting on %s, ACPI OEM '%s'\n", arch_name, acpi.oem_id);
	if (err)
		panic("acpi: %s (RSDP at 0x%llx)", acpi_strerror(err), (unsigned long long)bi->rsdp);
	arch_check_cpu();                 /* page sizes, NX, exception level */
	arch_time_init(&acpi);            /* counter frequency */
	random_init(bi->rng, bi->rng_len, &acpi);   /* every entropy source: RSS key, ISNs, lwIP */
	stack_guard_init();               /* the stack protector's canary, random from here on */
	mem_init(bi);                     /* free RAM from the UEFI map */
	stacks_init();                    /* every core's stacks, each above a guard page */
	paging_init();                    /* our identity map, 1 GiB pages, W^X, guards unmapped */

	/* Leave the firmware's stack (boot-services memory) for our own. */
	arch_exception_stack(&cpus[0]);
	arch_switch_stack(cpus[0].stack_top, kmain_on_stack, 0);
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct cpu *c = this_cpu();
	kprintf_sync("pollux: panic on core %u: %s\n", c ? c->idx : 0, buf);
	cpu_fatal(c);
}
