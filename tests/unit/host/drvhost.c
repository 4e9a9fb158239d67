/* kprintf into a buffer and mem_alloc from the host heap, for test_ixgbe and test_igb. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drvhost.h"

static char klog[65536];
static size_t klen;

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(klog + klen, sizeof(klog) - klen, fmt, ap);
	va_end(ap);
	if (n > 0)
		klen += (size_t)n < sizeof(klog) - klen ? (size_t)n : sizeof(klog) - klen - 1;
}

bool logged(const char *s)
{
	return strstr(klog, s) != NULL;
}

void drvhost_log_clear(void)
{
	klen = 0;
	klog[0] = 0;
}

uint64_t mem_alloc(uint32_t core, uint64_t size, uint64_t align)
{
	(void)core;
	void *p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
	if (p)
		memset(p, 0, size);
	return (uint64_t)(uintptr_t)p;
}
