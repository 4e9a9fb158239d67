/* IPv6 only: a link-local address and SLAAC, no IPv4 address and no DHCP; everything else as
 * default.h. */
#include "default.h"
#undef POLLUX_IPV4
#define POLLUX_IPV4 0
