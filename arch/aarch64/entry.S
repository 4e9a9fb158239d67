/* AArch64 assembly: exception vectors, the switch to our tables, secondary-core entry, stack switching.
 * Everything here is position-independent (adr/adrp, no absolute addresses): parts of it run before
 * relocation matters or with the MMU off. */

#include "arch_inline.h"        /* A64_CPU_BOOT_ARG, A64_BA_* (assembly part only) */

/* Exception frame, struct a64_frame in cpu.c: x0..x30, sp, elr, spsr, esr, far (36 words). */
#define FRAME_SIZE 288
#define FR_SP 248
#define FR_ELR 256
#define FR_ESR 272

#define BA(slot) (A64_CPU_BOOT_ARG + 8 * (slot))

	.text

/* ---- exception vectors ----
 * VBAR_EL1 needs 2 KiB alignment; 16 entries of 128 bytes (ARM ARM D1.10.2): current EL with SP_EL0,
 * current EL with SP_ELx, lower EL AArch64, lower EL AArch32, each sync / IRQ / FIQ / SError.
 * Every entry is treated the same: Pollux takes no interrupt and makes no call into a higher
 * level that returns through here, so any exception is a crash report. Each entry makes room for
 * the frame on SP_EL1 (entry to EL1 always selects it), saves x0/x1 and passes its index (0..15)
 * to the common code. Pollux itself runs on SP_EL0 ("EL1t", vectors 0-3) and keeps SP_EL1 for
 * exceptions alone, each core on its own exception stack: a fault on an overflowed stack (its guard
 * page) is taken on a good one and reported, rather than faulting again on every entry. */
.macro VEC n
	.balign 128
	sub sp, sp, #FRAME_SIZE
	stp x0, x1, [sp, #0]
	mov x0, #\n
	b a64_exception_common
.endm

	.balign 2048
	.globl a64_vectors
a64_vectors:
	VEC 0
	VEC 1
	VEC 2
	VEC 3
	VEC 4
	VEC 5
	VEC 6
	VEC 7
	VEC 8
	VEC 9
	VEC 10
	VEC 11
	VEC 12
	VEC 13
	VEC 14
	VEC 15

a64_exception_common:
	stp x2, x3, [sp, #16]
	stp x4, x5, [sp, #32]
	stp x6, x7, [sp, #48]
	stp x8, x9, [sp, #64]
	stp x10, x11, [sp, #80]
	stp x12, x13, [sp, #96]
	stp x14, x15, [sp, #112]
	stp x16, x17, [sp, #128]
	stp x18, x19, [sp, #144]
	stp x20, x21, [sp, #160]
	stp x22, x23, [sp, #176]
	stp x24, x25, [sp, #192]
	stp x26, x27, [sp, #208]
	stp x28, x29, [sp, #224]
	add x2, sp, #FRAME_SIZE         /* sp before the exception: this stack's, from EL1h */
	cmp x0, #4
	b.hs 1f
	mrs x2, sp_el0                  /* from EL1t: the kernel's own stack */
1:	stp x30, x2, [sp, #240]
	mrs x2, elr_el1
	mrs x3, spsr_el1
	stp x2, x3, [sp, #FR_ELR]
	mrs x2, esr_el1
	mrs x3, far_el1
	stp x2, x3, [sp, #FR_ESR]
	/* A frame record {interrupted x29, elr} on top, so a debugger sees through the exception. */
	ldr x2, [sp, #FR_ELR]
	stp x29, x2, [sp, #-16]!
	mov x29, sp
	mov x1, x0                      /* vector index */
	add x0, sp, #16                 /* struct a64_frame * */
	bl arch_exception               /* never returns */
2:	msr daifset, #0xf
	wfi
	b 2b

/* ---- void a64_mmu_switch(uint64_t ttbr0, uint64_t mair, uint64_t tcr, uint64_t sctlr) ----
 * Boot core, once: leave UEFI's identity map for ours. The firmware's TCR may differ from ours in
 * T0SZ and so in the level the walk starts at; TCR and TTBR0 cannot be changed together in one
 * instruction, so a live switch has a window in which one of them is new and the other old and
 * the walker misreads a table. Instead the MMU goes off for the few instructions that load the
 * new regime: with SCTLR_EL1.M = 0 addresses are not translated (VA = PA, the same as under both
 * identity maps), instruction fetches still go through the instruction cache (SCTLR.I stays 1),
 * and nothing in the window touches data memory (which is Device-nGnRnE while the MMU is off).
 * The TLB is invalidated before the MMU comes back, so no firmware entry survives. */
	.globl a64_mmu_switch
a64_mmu_switch:
	dsb ish                         /* our table writes complete before anything else */
	isb
	mrs x4, sctlr_el1
	bic x4, x4, #1                  /* M */
	msr sctlr_el1, x4
	isb
	msr mair_el1, x1
	msr tcr_el1, x2
	msr ttbr0_el1, x0
	isb
	tlbi vmalle1
	dsb nsh
	isb
	msr sctlr_el1, x3               /* M, C, I on */
	isb
	ret

/* ---- a64_secondary_entry: where PSCI CPU_ON starts a secondary ----
 * PSCI (ARM DEN 0022, 6.4.3): EL1, AArch64, MMU and data cache off, DAIF masked, x0 = context_id =
 * its struct cpu. Until the MMU is on every load here is an uncached (Device) access straight to
 * memory, which is why arch_start_core cleaned the struct to the point of coherency; nothing
 * is stored and no stack is used before then. */
	.globl a64_secondary_entry
a64_secondary_entry:
	msr daifset, #0xf
	msr spsel, #1                   /* SP_EL1 until both stacks are set below; none is used before */
	mov x19, x0
	mov x1, #(3 << 20)              /* CPACR_EL1.FPEN = 0b11: no FP/SIMD trap, as on the boot core */
	msr cpacr_el1, x1
	adrp x1, a64_vectors
	add x1, x1, :lo12:a64_vectors
	msr vbar_el1, x1
	ldp x0, x1, [x19, #BA(A64_BA_TTBR0)]    /* ttbr0, mair */
	ldp x2, x3, [x19, #BA(A64_BA_TCR)]      /* tcr, sctlr */
	ldr x4, [x19, #BA(A64_BA_STACK)]
	msr mair_el1, x1
	msr tcr_el1, x2
	msr ttbr0_el1, x0
	isb
	tlbi vmalle1                    /* nothing left from before the power-up */
	ic iallu                        /* nor in the instruction cache */
	dsb nsh
	isb
	msr sctlr_el1, x3               /* the boot core's final value: MMU, caches on */
	isb
	ldr x5, [x19, #BA(A64_BA_EXC_STACK)]
	mov sp, x5                      /* SP_EL1: exceptions only */
	msr spsel, #0
	mov sp, x4                      /* SP_EL0: everything else */
	msr tpidr_el1, x19
	mov x29, #0                     /* end of the frame chain for backtraces */
	mov x30, #0
	mov x0, x19
	bl cpu_secondary_main           /* never returns */
2:	msr daifset, #0xf
	wfi
	b 2b

/* ---- void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg) ---- */
	.globl arch_switch_stack
arch_switch_stack:
	msr spsel, #0                   /* SP_EL0: SP_EL1 is the exception stack (arch_exception_stack) */
	mov sp, x0
	mov x29, #0                     /* end of the frame chain for backtraces */
	mov x30, #0
	mov x0, x2
	br x1

	.section .note.GNU-stack, "", %progbits
