/* x86-64 assembly: exception stubs, GDT/stack switching, and the real-mode AP trampoline. */

	.text

/* ---- exception vectors 0..31: each stub is 16 bytes, so C finds stub i at x86_vectors + 16*i ---- */
/* The CPU pushes an error code for vectors 8, 10-14, 17, 21, 29, 30 (SDM vol 3, 6.15). */
.macro VEC n
	.balign 16
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $\n
	.else
	pushq $0
	pushq $\n
	.endif
	jmp x86_exception_common
.endm

	.balign 16
	.globl x86_vectors
x86_vectors:
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
	VEC 16
	VEC 17
	VEC 18
	VEC 19
	VEC 20
	VEC 21
	VEC 22
	VEC 23
	VEC 24
	VEC 25
	VEC 26
	VEC 27
	VEC 28
	VEC 29
	VEC 30
	VEC 31

/* Save every general register; the frame layout matches struct x86_frame in cpu.c. */
x86_exception_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call x86_exception
1:	cli
	hlt
	jmp 1b

/* void x86_load_gdt(const void *gdtr): load the GDT, reload CS with 0x08 and data segments with 0x10. */
	.globl x86_load_gdt
x86_load_gdt:
	lgdt (%rdi)
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	popq %rdi               /* return address */
	pushq $0x08
	pushq %rdi
	lretq

/* void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg) */
	.globl arch_switch_stack
arch_switch_stack:
	movq %rdi, %rsp
	xorl %ebp, %ebp         /* end of the frame chain for backtraces */
	movq %rdx, %rdi
	pushq $0                /* fake return address keeps the ABI's 16-byte alignment at entry */
	jmp *%rsi

/* ---- AP trampoline: copied to a page T below 1 MiB; the data page is T + 0x1000 ----
 * A started AP runs at CS:IP = (T >> 4):0 in real mode (SDM vol 3, 8.4.4.1). It goes straight to
 * long mode: PAE, our PAT, our CR3, EFER.LME|NXE, then CR0.PE|PG|WP in one write, a far jump into 64-bit
 * code, and a jump to x86_ap_entry(cpu) on the cpu's own stack. Offsets in the data page: */
#define TD_GDT   0x00   /* 3 descriptors: null, 64-bit code (0x08), data (0x10) */
#define TD_GDTR  0x20   /* limit:16, base:32 (linear address of TD_GDT) */
#define TD_FAR   0x30   /* offset:32, selector:16 of tramp64 in the copy */
#define TD_CR3   0x40   /* root page table, below 4 GiB */
#define TD_CPU   0x48   /* struct cpu * */
#define TD_STACK 0x50   /* stack top */
#define TD_ENTRY 0x58   /* x86_ap_entry */
#define TD_PAT   0x60   /* IA32_PAT value (PT_X86_PAT), loaded before CR3 */

	.balign 4096
	.globl x86_tramp_start
x86_tramp_start:
	.code16
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl 0x1000 + TD_GDTR
	movl %cr4, %eax
	orl $0x20, %eax                 /* CR4.PAE */
	movl %eax, %cr4
	wbinvd                          /* as arch_paging_enable: caches clean before the PAT changes */
	movl $0x277, %ecx               /* IA32_PAT */
	movl 0x1000 + TD_PAT, %eax
	movl 0x1000 + TD_PAT + 4, %edx
	wrmsr
	movl 0x1000 + TD_CR3, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* IA32_EFER */
	rdmsr
	orl $0x900, %eax                /* LME (bit 8) | NXE (bit 11) */
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE */
	movl %eax, %cr0
	ljmpl *(0x1000 + TD_FAR)

	.code64
	.globl x86_tramp64
x86_tramp64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq x86_tramp_start + 0x1000 + TD_STACK(%rip), %rsp
	movq x86_tramp_start + 0x1000 + TD_CPU(%rip), %rdi
	movq x86_tramp_start + 0x1000 + TD_ENTRY(%rip), %rax
	xorl %ebp, %ebp
	pushq $0
	jmp *%rax
	.globl x86_tramp_end
x86_tramp_end:

	.section .note.GNU-stack, "", @progbits
