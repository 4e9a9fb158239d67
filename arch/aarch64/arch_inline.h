/* AArch64 inline primitives: MMIO, barriers, the generic timer, the per-core pointer. */
#ifndef POLLUX_ARCH_INLINE_H
#define POLLUX_ARCH_INLINE_H

#include <stdint.h>

#define arch_pt_format pt_format_aarch64

/* Armv8 is weakly ordered (ARM ARM B2.3): barriers between cores are inner shareable; ordering
 * against a DMA-capable device is outer shareable. */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("dmb ish" ::: "memory"); }
static inline void rmb(void) { __asm__ volatile("dmb ishld" ::: "memory"); }
static inline void wmb(void) { __asm__ volatile("dmb ishst" ::: "memory"); }
static inline void dma_wmb(void) { __asm__ volatile("dmb oshst" ::: "memory"); }
static inline void dma_rmb(void) { __asm__ volatile("dmb oshld" ::: "memory"); }

/* Plain ldr/str with a base register only: a hypervisor can emulate these (ESR syndrome is
 * valid), unlike the pre/post-indexed forms a compiler may pick for a volatile pointer. */
static inline uint8_t mmio_read8(uint64_t a)
{
	uint8_t v;
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline uint16_t mmio_read16(uint64_t a)
{
	uint16_t v;
	__asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
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
static inline void mmio_write8(uint64_t a, uint8_t v) { __asm__ volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void mmio_write16(uint64_t a, uint16_t v) { __asm__ volatile("strh %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void mmio_write32(uint64_t a, uint32_t v) { __asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static inline void mmio_write64(uint64_t a, uint64_t v) { __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory"); }

/* The virtual counter; the isb keeps the read from being hoisted above earlier instructions. */
static inline uint64_t arch_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}

static inline void arch_relax(void) { __asm__ volatile("yield" ::: "memory"); }

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mrs %0, tpidr_el1" : "=r"(c));
	return c;
}

#endif
