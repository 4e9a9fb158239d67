/* x86-64 inline primitives: MMIO, barriers, the TSC, the per-core pointer, port I/O present. */
#ifndef POLLUX_ARCH_INLINE_H
#define POLLUX_ARCH_INLINE_H

#include <stdbool.h>
#include <stdint.h>

#define arch_pt_format pt_format_x86_64

/* x86 keeps stores in order and loads in order (SDM vol 3, 9.2.2); only the compiler needs fencing
 * for cacheable memory. mb() orders stores before later loads. */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void rmb(void) { barrier(); }
static inline void wmb(void) { barrier(); }
/* Device-visible ordering: UC MMIO is strongly ordered, but descriptors live in WB memory. */
static inline void dma_wmb(void) { barrier(); }
static inline void dma_rmb(void) { barrier(); }
static inline void dma_mb(void) { mb(); }
/* Stores to write-combining memory (a NIC's LLQ BAR) are weakly ordered and sit in WC buffers:
 * SFENCE makes them globally visible before any later store, e.g. the doorbell (SDM vol 3, 11.3.1). */
static inline void wc_wmb(void) { __asm__ volatile("sfence" ::: "memory"); }

static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)(uintptr_t)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)(uintptr_t)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)(uintptr_t)a = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)(uintptr_t)a = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)(uintptr_t)a = v; }

static inline uint64_t arch_counter(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void arch_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* Unaligned loads of cacheable memory cost what aligned ones do (kernel/string.c reads words so). */
#define ARCH_UNALIGNED_WORDS 1

/* x86 has an I/O port space (arch_inb and the rest in arch.h). */
static inline bool arch_port_io(void) { return true; }

/* The per-core struct cpu keeps a pointer to itself at offset 0; GS base points at it. */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

#endif
