/* What each arch/<arch>/ provides to shared code. The inline part lives in arch/<arch>/arch_inline.h. */
#ifndef POLLUX_ARCH_H
#define POLLUX_ARCH_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct acpi_info;
struct boot_info;
struct pt_format;
struct pt_range;

#include "arch_inline.h"   /* mmio_*, barriers, arch_counter(), arch_relax(), this_cpu(), arch_port_io() */

extern const char arch_name[];          /* "x86_64" or "aarch64" */
extern const struct pt_format arch_pt_format;

/* Boot core, first thing after ExitBootServices: exception vectors, per-core pointer. */
void arch_init_boot(struct cpu *c);
/* Calibrate the counter (x86: TSC against the ACPI PM timer or the PIT). */
void arch_time_init(const struct acpi_info *ai);
uint64_t arch_counter_hz(void);
/* Addresses where the cache type of physical memory changes (x86 MTRRs); returns count. */
uint32_t arch_cache_bounds(uint64_t *bounds, uint32_t max);
/* Highest physical address + 1 the CPU can address (capped to what one 4-level map covers). */
uint64_t arch_phys_limit(void);
/* Check the CPU can do what we need (x86: PDPE1GB, NX; AArch64: EL1, 4 KiB granule). 0 or panics. */
void arch_check_cpu(void);
/* Load the page tables at root on this core (and enable the MMU/NX/caches as needed). */
void arch_paging_enable(uint64_t root);
/* Prepare what secondaries need (x86: the real-mode trampoline below 1 MiB). */
void arch_smp_prepare(const struct acpi_info *ai, uint64_t root);
/* Start secondary c (its stack and boot_arg are set). Returns 0 when the start was requested. */
int arch_start_core(const struct acpi_info *ai, struct cpu *c);
/* Hardware ID of the calling core (APIC ID / MPIDR affinity). */
uint64_t arch_hwid(void);
/* Stop this core forever with interrupts off. */
void arch_halt(void) __attribute__((noreturn));
/* Reset the whole machine, from any core, each way this arch has in turn (x86: the FADT's reset
 * register, port 0xCF9, the keyboard controller, a triple fault; AArch64: PSCI SYSTEM_RESET, the
 * FADT's reset register). Names each on the console before trying it. Returns only when none
 * worked. ai: the parsed ACPI tables (may be partly filled when a panic came early). */
void arch_reset(const struct acpi_info *ai);
/* Busy-wait (uses the calibrated counter). */
void arch_delay_us(uint64_t us);

/* Reserve what must sit at fixed low addresses before the allocator runs (x86: the AP trampoline
 * below 1 MiB); store ranges that must be executable in exec. Returns how many. */
uint32_t arch_early_reserve(const struct boot_info *bi, struct pt_range *exec, uint32_t max);
/* From now on take exceptions on c->exc_stack_top, so that a fault on an overflowed stack can still
 * be reported (x86: IST1 of c's TSS for every vector; AArch64: SP_EL1, with the kernel itself
 * moving to SP_EL0). The boot core calls it once its stacks exist; secondaries start that way. */
void arch_exception_stack(struct cpu *c);
/* Switch to the stack whose top is top and call fn(arg) there; never returns. */
void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg) __attribute__((noreturn));

/* The CPU's random number generator (x86 RDSEED/RDRAND, AArch64 RNDR): its name when CPUID /
 * ID_AA64ISAR0_EL1 says it exists, else NULL. arch_rng64 stores one 64-bit value and returns true,
 * or false when the generator gave nothing after a few retries (or there is none). */
const char *arch_rng_init(void);
bool arch_rng64(uint64_t *v);
/* The Arm SMCCC TRNG (ARM DEN 0098) through the PSCI conduit ACPI names: up to 192 bits into
 * v[0..3) and their number, 0 when it had none to give, -1 when there is no such interface (x86,
 * or firmware without SMCCC 1.1 and TRNG 1.0). */
int arch_trng(const struct acpi_info *ai, uint64_t v[3]);

/* Port I/O, one access of the width named (b 8, w 16, l 32 bits) at port; on AArch64 these panic
 * (there is none: arch_port_io() in arch_inline.h says whether it exists before anyone calls). */
uint8_t arch_inb(uint16_t port);
void arch_outb(uint16_t port, uint8_t v);
uint16_t arch_inw(uint16_t port);
void arch_outw(uint16_t port, uint16_t v);
uint32_t arch_inl(uint16_t port);
void arch_outl(uint16_t port, uint32_t v);

#endif
