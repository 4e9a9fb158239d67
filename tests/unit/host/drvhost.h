/* What the driver tests that run without the harness (test_ixgbe, test_igb) take from the kernel:
 * kprintf into a buffer they can search, and mem_alloc from the host heap. */
#ifndef POLLUX_DRVHOST_H
#define POLLUX_DRVHOST_H
#include <stdbool.h>

/* Did anything printed since the last drvhost_log_clear contain s? */
bool logged(const char *s);
void drvhost_log_clear(void);

#endif
