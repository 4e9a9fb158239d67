/* A static address instead of DHCP (tests/net/net.py ... static): everything else as default.h. */
#include "default.h"
#undef POLLUX_USE_DHCP
#define POLLUX_USE_DHCP 0
