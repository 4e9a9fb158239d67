/* AArch64 assembly: exception vectors, the MMU switch, secondary-core entry, stack switching. */

/* Exception frame: x0..x30, sp, elr, spsr, esr, far (struct a64_frame in cpu.c). */
#define FRAME_SIZE 288

	.text

/* Each of the 16 vectors is 128 bytes (ARM ARM D1.10.2): save x0/x1, pass the vector index. */
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
	add x2, sp, #FRAME_SIZE
	stp x30, x2, [sp, #240]
	mrs x2, elr_el1
	mrs x3, spsr_el1
	stp x2, x3, [sp, #256]
	mrs x2, esr_el1
	mrs x3, far_el1
	stp x2, x3, [sp, #272]
	mov x1, x0
	mov x0, sp
	bl arch_exception
1:	wfi
	b 1b

/* void a64_mmu_switch(uint64_t ttbr0, uint64_t mair, uint64_t tcr, uint64_t sctlr)
 * Turn the MMU off, load the new translation regime, invalidate the TLB, turn it on with sctlr.
 * Changing TCR (T0SZ) under live tables could make the walker misread the firmware's tables;
 * with the MMU off nothing is translated. No data access happens in the window, and instruction
 * fetches stay valid because both maps are the identity. */
	.globl a64_mmu_switch
a64_mmu_switch:
	dsb ish
	isb
	mrs x4, sctlr_el1
	bic x4, x4, #1
	msr sctlr_el1, x4
	isb
	msr mair_el1, x1
	msr tcr_el1, x2
	msr ttbr0_el1, x0
	isb
	tlbi vmalle1
	dsb nsh
	isb
	msr sctlr_el1, x3
	isb
	ret

/* Secondary entry from PSCI CPU_ON: EL1, MMU and caches off, x0 = &cpu->boot_arg[0]:
 * [0] ttbr0, [1] mair, [2] tcr, [3] sctlr, [4] vbar, [5] stack top, [6] struct cpu *. */
	.globl a64_secondary_entry
a64_secondary_entry:
	msr daifset, #0xf
	mov x19, x0
	mov x1, #(3 << 20)              /* CPACR_EL1.FPEN: no trap on FP/SIMD, as on the boot core */
	msr cpacr_el1, x1
	ldp x0, x1, [x19, #0]
	ldp x2, x3, [x19, #16]
	ldp x5, x6, [x19, #32]
	ldr x7, [x19, #48]
	msr vbar_el1, x5
	msr mair_el1, x1
	msr tcr_el1, x2
	msr ttbr0_el1, x0
	isb
	tlbi vmalle1
	dsb nsh
	isb
	msr sctlr_el1, x3
	isb
	mov sp, x6
	msr tpidr_el1, x7
	mov x29, #0
	mov x30, #0
	mov x0, x7
	bl cpu_secondary_main
2:	wfi
	b 2b

/* void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg) */
	.globl arch_switch_stack
arch_switch_stack:
	mov sp, x0
	mov x29, #0
	mov x30, #0
	mov x0, x2
	br x1

	.section .note.GNU-stack, "", %progbits
