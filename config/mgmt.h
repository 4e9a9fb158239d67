/* The management port on its own addresses, IPv4 and IPv6 (tests/net/net.py ... mgmt): everything
 * else as default.h. */
#include "default.h"
#undef POLLUX_METRICS_ADDR
#define POLLUX_METRICS_ADDR "198.19.0.10/24"
#undef POLLUX_METRICS_ADDR6
#define POLLUX_METRICS_ADDR6 "fd00:198:19::10/64"
