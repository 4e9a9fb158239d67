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
#endif
