/* Host stand-in for arch/<arch>/arch_inline.h, so unit tests can include kernel.h. */
#ifndef POLLUX_ARCH_INLINE_H
#define POLLUX_ARCH_INLINE_H
#include <stdint.h>
static inline uint64_t arch_counter(void) { return 0; }
static inline void arch_relax(void) {}
static inline void mb(void) { __sync_synchronize(); }
static inline void rmb(void) { __sync_synchronize(); }
static inline void wmb(void) { __sync_synchronize(); }
static inline struct cpu *this_cpu(void) { return 0; }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void dma_wmb(void) { __sync_synchronize(); }
static inline void dma_rmb(void) { __sync_synchronize(); }
static inline void dma_mb(void) { __sync_synchronize(); }
/* Host MMIO is plain memory: unit tests point drivers at buffers that model a device. */
static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)(uintptr_t)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)(uintptr_t)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)(uintptr_t)a = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)(uintptr_t)a = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)(uintptr_t)a = v; }
#endif
