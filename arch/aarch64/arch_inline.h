/* AArch64 inline primitives: MMIO, barriers, the generic timer, the per-core pointer, no port I/O.
 * Also included by arch/aarch64/entry.S (with __ASSEMBLY__ defined) for the offsets below. */
#ifndef POLLUX_ARCH_INLINE_H
#define POLLUX_ARCH_INLINE_H

/* struct cpu offsets the secondary start-up code in entry.S reads with its MMU off
 * (checked against kernel.h with _Static_assert in cpu.c). */
#define A64_CPU_BOOT_ARG 192            /* offsetof(struct cpu, boot_arg) */
/* boot_arg[] slots filled by arch_start_core for secondary_entry. */
#define A64_BA_TTBR0  0                 /* root of the identity map */
#define A64_BA_MAIR   1
#define A64_BA_TCR    2
#define A64_BA_SCTLR  3                 /* the boot core's final SCTLR_EL1: MMU and caches on */
#define A64_BA_STACK  4                 /* stack top (c->stack_top) */
#define A64_BA_VBAR   5                 /* informational: entry.S takes its own vector address */
#define A64_BA_EXC_STACK 6              /* exception stack top (c->exc_stack_top), SP_EL1 */

#ifndef __ASSEMBLY__

#include <stdbool.h>
#include <stdint.h>

#define arch_pt_format pt_format_aarch64

/*
 * Barriers (ARM ARM B2.3, "Memory barriers"). AArch64 is weakly ordered, so unlike x86 every one
 * of these is a real instruction, each also a compiler barrier:
 *   mb()      dmb ish    all earlier loads and stores before all later ones, between cores
 *                        (every core we run on is in the inner shareable domain);
 *   rmb()     dmb ishld  earlier loads before later loads and stores, between cores;
 *   wmb()     dmb ishst  earlier stores before later stores, between cores;
 *   dma_wmb() dmb oshst  stores to normal (write-back) memory, e.g. descriptors, become visible to
 *                        a DMA master before later stores, including a device (MMIO) doorbell
 *                        write: devices sit in the outer shareable domain;
 *   dma_rmb() dmb oshld  an earlier load (e.g. a descriptor's "done" flag, or an MMIO status
 *                        register) completes before later loads of the data the device wrote;
 *   dma_mb()  dmb osh    mb() as a DMA master sees it: an index store before the load of the
 *                        device's "wake me" field (a hardware device, not only a hypervisor's).
 * A DMB orders accesses to both Normal and Device memory; nothing here needs a DSB (which would
 * also wait for completion, e.g. before a system register write or WFI).
 */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("dmb ish" ::: "memory"); }
static inline void rmb(void) { __asm__ volatile("dmb ishld" ::: "memory"); }
static inline void wmb(void) { __asm__ volatile("dmb ishst" ::: "memory"); }
static inline void dma_wmb(void) { __asm__ volatile("dmb oshst" ::: "memory"); }
static inline void dma_rmb(void) { __asm__ volatile("dmb oshld" ::: "memory"); }
static inline void dma_mb(void) { __asm__ volatile("dmb osh" ::: "memory"); }
/* Stores to Normal non-cacheable memory (a write-combining BAR) before a later store, e.g. the
 * doorbell to Device memory: the same outer-shareable store barrier as dma_wmb. */
static inline void wc_wmb(void) { __asm__ volatile("dmb oshst" ::: "memory"); }

/*
 * MMIO: one plain LDR/STR with a base register and no offset or writeback. A plain C volatile
 * access lets the compiler pick any addressing mode, and a pre/post-indexed (writeback) access to
 * a stage-2 fault under a hypervisor (KVM, Nitro) reports no instruction syndrome (ESR ISV=0), so
 * the hypervisor cannot emulate it. Each accessor is also a compiler barrier ("memory"), so normal
 * memory accesses are not moved across it by the compiler; CPU ordering still needs the barriers.
 */
static inline uint8_t mmio_read8(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (uint8_t)v;
}

static inline uint16_t mmio_read16(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (uint16_t)v;
}

static inline uint32_t mmio_read32(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline uint64_t mmio_read64(uint64_t a)
{
	uint64_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void mmio_write8(uint64_t a, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" ::"rZ"((uint32_t)v), "r"(a) : "memory");
}

static inline void mmio_write16(uint64_t a, uint16_t v)
{
	__asm__ volatile("strh %w0, [%1]" ::"rZ"((uint32_t)v), "r"(a) : "memory");
}

static inline void mmio_write32(uint64_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

static inline void mmio_write64(uint64_t a, uint64_t v)
{
	__asm__ volatile("str %x0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

/* The virtual count of the generic timer (CNTFRQ_EL0 ticks per second). The ISB keeps the read
 * from being performed early, before the instructions that precede it (ARM ARM D12.1.2). */
static inline uint64_t arch_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

/* A hint that this core spins; lets an SMT sibling or a hypervisor run something else. */
static inline void arch_relax(void) { __asm__ volatile("yield" ::: "memory"); }

/* kernel/string.c reads words only where aligned: the image is built -mstrict-align, and the
 * firmware's boot services run it before our own SCTLR (alignment checks off) is in place. */
#define ARCH_UNALIGNED_WORDS 0

/* AArch64 has no I/O port space: everything is memory mapped (arch_inb and the rest panic). */
static inline bool arch_port_io(void) { return false; }

/* TPIDR_EL1 holds this core's struct cpu (set by arch_init_boot and secondary_entry). */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mrs %0, tpidr_el1" : "=r"(c));
	return c;
}

#endif /* __ASSEMBLY__ */

#endif
