/* The management port on its own address (tests/net/net.py ... mgmt): everything else as default.h. */
#include "default.h"
#undef POLLUX_METRICS_ADDR
#define POLLUX_METRICS_ADDR "198.19.0.10/24"
