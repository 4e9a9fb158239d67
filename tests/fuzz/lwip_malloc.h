/* fuzz_rx: lwIP's allocator in the fuzz build (MEM_LIBC_MALLOC; tests/fuzz/fuzz_rx.c), included
 * first into every lwIP file so mem.c's calls have their prototypes. */
#ifndef POLLUX_FUZZ_LWIP_MALLOC_H
#define POLLUX_FUZZ_LWIP_MALLOC_H

#include <stddef.h>

void *fuzz_lwip_malloc(size_t size);
void fuzz_lwip_free(void *p);

#endif
