/* Host stand-in for arch/<arch>/arch_inline.h, so unit tests can include kernel.h. */
#ifndef POLLUX_ARCH_INLINE_H
#define POLLUX_ARCH_INLINE_H
#include <stdbool.h>
#include <stdint.h>
/* A clock that moves one tick per read, so every bounded wait ends; tests may also jump it, or
 * read their own (host_counter: test_random's jittery and cycling counters). */
extern uint64_t host_clock;
extern uint64_t (*host_counter)(void);
static inline uint64_t arch_counter(void) { return host_counter ? host_counter() : host_clock++; }
static inline void arch_relax(void) {}
/* kernel/string.c's word access: as x86-64's, unless a build says otherwise (test_string builds both). */
#ifndef ARCH_UNALIGNED_WORDS
#define ARCH_UNALIGNED_WORDS 1
#endif
/* Whether the machine played has port I/O: false (as on AArch64) unless a test sets it; the port
 * functions of arch.h are then the test's (tests/unit/host/fakepci.c models PCI's 0xCF8/0xCFC). */
extern bool host_port_io;
static inline bool arch_port_io(void) { return host_port_io; }
/* Full barriers (mb, dma_mb) are counted, so a device model can ask that one came before a
 * doorbell (tests/unit/host/stubs.c). */
extern uint64_t host_full_barriers;
static inline void mb(void) { host_full_barriers++; __sync_synchronize(); }
static inline void rmb(void) { __sync_synchronize(); }
static inline void wmb(void) { __sync_synchronize(); }
/* The core a test is playing: it sets host_cpu before calling code that asks (tests/unit/host/stubs.c). */
extern struct cpu *host_cpu;
static inline struct cpu *this_cpu(void) { return host_cpu; }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void dma_wmb(void) { __sync_synchronize(); }
static inline void dma_rmb(void) { __sync_synchronize(); }
static inline void dma_mb(void) { host_full_barriers++; __sync_synchronize(); }
static inline void wc_wmb(void) { __sync_synchronize(); }
/*
 * Host MMIO is plain memory, unless a test registered a device model covering the address
 * (host_mmio_add): then reads and writes go to the model, which can give registers their
 * semantics (self-clearing bits, doorbells, read-to-clear counters).
 */
struct host_mmio {
	uint64_t base, size;
	uint64_t (*read)(void *ctx, uint64_t off, int size);
	void (*write)(void *ctx, uint64_t off, int size, uint64_t v);
	void *ctx;
};
#define HOST_MMIO_MAX 8
extern struct host_mmio host_mmio_models[HOST_MMIO_MAX];
extern int host_mmio_count;
static inline struct host_mmio *host_mmio_find(uint64_t a)
{
	for (int i = 0; i < host_mmio_count; i++)
		if (a - host_mmio_models[i].base < host_mmio_models[i].size)
			return &host_mmio_models[i];
	return 0;
}
static inline void host_mmio_add(struct host_mmio m)
{
	if (host_mmio_count < HOST_MMIO_MAX)
		host_mmio_models[host_mmio_count++] = m;
}
static inline void host_mmio_clear(void) { host_mmio_count = 0; }
#define HOST_MMIO_RD(T, n) \
	static inline T mmio_read##n(uint64_t a) \
	{ \
		struct host_mmio *m = host_mmio_find(a); \
		return m ? (T)m->read(m->ctx, a - m->base, n / 8) : *(volatile T *)(uintptr_t)a; \
	}
#define HOST_MMIO_WR(T, n) \
	static inline void mmio_write##n(uint64_t a, T v) \
	{ \
		struct host_mmio *m = host_mmio_find(a); \
		if (m) \
			m->write(m->ctx, a - m->base, n / 8, v); \
		else \
			*(volatile T *)(uintptr_t)a = v; \
	}
HOST_MMIO_RD(uint8_t, 8)
HOST_MMIO_RD(uint16_t, 16)
HOST_MMIO_RD(uint32_t, 32)
HOST_MMIO_RD(uint64_t, 64)
HOST_MMIO_WR(uint8_t, 8)
HOST_MMIO_WR(uint16_t, 16)
HOST_MMIO_WR(uint32_t, 32)
HOST_MMIO_WR(uint64_t, 64)
#endif
