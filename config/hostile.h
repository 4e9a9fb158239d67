/* tests/net/hostile.py: the defaults with short connection limits, so that its half-sent requests
 * reach the header limit and the per-core cap within seconds under TCG. */
#include "default.h"
#undef POLLUX_HEADER_TIMEOUT_S
#define POLLUX_HEADER_TIMEOUT_S 2
#undef POLLUX_IDLE_TIMEOUT_S
#define POLLUX_IDLE_TIMEOUT_S 5
#undef POLLUX_MAX_CONNS
#define POLLUX_MAX_CONNS 128
