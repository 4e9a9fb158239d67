/* Build-time checks of the configuration header: a bad value stops the build with its name. */
#ifndef POLLUX_CONFIG_CHECK_H
#define POLLUX_CONFIG_CHECK_H

/* The services in this tree (net/svc_*.c): POLLUX_SERVICE names one, or a struct svc of your
 * own (net/service.h). */
#define POLLUX_SERVICE_HTTP svc_http
#define POLLUX_SERVICE_ECHO svc_echo
/* POLLUX_DHCP6's third value: DHCPv6 when the router advertisements ask for it (M flag). */
#define POLLUX_DHCP6_AUTO 2
/* POLLUX_TCP_CC: the congestion control of every TCP connection (net/inst_cc.c). */
#define POLLUX_TCP_CC_RENO 1
#define POLLUX_TCP_CC_CUBIC 2

#ifndef POLLUX_CONFIG_INCLUDED
#include POLLUX_CONFIG_FILE
#define POLLUX_CONFIG_INCLUDED
#endif

#if !defined(POLLUX_SERVICE)
#error "config: POLLUX_SERVICE must name a service: POLLUX_SERVICE_HTTP, POLLUX_SERVICE_ECHO or a struct svc"
#endif
#if !defined(POLLUX_USE_DHCP) || (POLLUX_USE_DHCP != 0 && POLLUX_USE_DHCP != 1)
#error "config: POLLUX_USE_DHCP must be 0 or 1"
#endif
#if !defined(POLLUX_IPV4) || !defined(POLLUX_IPV6) || (POLLUX_IPV4 != 0 && POLLUX_IPV4 != 1) || \
	(POLLUX_IPV6 != 0 && POLLUX_IPV6 != 1) || !(POLLUX_IPV4 || POLLUX_IPV6)
#error "config: POLLUX_IPV4 and POLLUX_IPV6 must each be 0 or 1, and one of them 1"
#endif
#if !defined(POLLUX_DHCP6) || (POLLUX_DHCP6 != 0 && POLLUX_DHCP6 != 1 && POLLUX_DHCP6 != POLLUX_DHCP6_AUTO)
#error "config: POLLUX_DHCP6 must be 0, 1 or POLLUX_DHCP6_AUTO"
#endif
#if !defined(POLLUX_HTTP_PORT) || POLLUX_HTTP_PORT < 1 || POLLUX_HTTP_PORT > 65535
#error "config: POLLUX_HTTP_PORT must be 1..65535"
#endif
#if !defined(POLLUX_ECHO_PORT) || POLLUX_ECHO_PORT < 1 || POLLUX_ECHO_PORT > 65535
#error "config: POLLUX_ECHO_PORT must be 1..65535"
#endif
#if !defined(POLLUX_MAX_CORES) || POLLUX_MAX_CORES < 1 || POLLUX_MAX_CORES > 256
#error "config: POLLUX_MAX_CORES must be 1..256"
#endif
#if !defined(POLLUX_STACK_SIZE) || POLLUX_STACK_SIZE < 16384 || POLLUX_STACK_SIZE > 1048576 || (POLLUX_STACK_SIZE & (POLLUX_STACK_SIZE - 1))
#error "config: POLLUX_STACK_SIZE must be a power of two in 16 KiB..1 MiB"
#endif
#if !defined(POLLUX_HEADER_TIMEOUT_S) || POLLUX_HEADER_TIMEOUT_S < 1 || POLLUX_HEADER_TIMEOUT_S > 600
#error "config: POLLUX_HEADER_TIMEOUT_S must be in 1..600"
#endif
#if !defined(POLLUX_IDLE_TIMEOUT_S) || POLLUX_IDLE_TIMEOUT_S < 1 || POLLUX_IDLE_TIMEOUT_S > 86400
#error "config: POLLUX_IDLE_TIMEOUT_S must be in 1..86400"
#endif
#if !defined(POLLUX_MAX_CONNS) || (POLLUX_MAX_CONNS != 0 && POLLUX_MAX_CONNS < 16) || POLLUX_MAX_CONNS > 16777216
#error "config: POLLUX_MAX_CONNS must be 0 (derive from memory) or in 16..16777216"
#endif
#if !defined(POLLUX_SEND_TIMEOUT_S) || POLLUX_SEND_TIMEOUT_S < 1 || POLLUX_SEND_TIMEOUT_S > 86400
#error "config: POLLUX_SEND_TIMEOUT_S must be in 1..86400"
#endif
#if !defined(POLLUX_NET_MEM_PCT) || POLLUX_NET_MEM_PCT < 10 || POLLUX_NET_MEM_PCT > 90
#error "config: POLLUX_NET_MEM_PCT must be in 10..90"
#endif
#if !defined(POLLUX_SEND_MEM_PCT) || POLLUX_SEND_MEM_PCT < 10 || POLLUX_SEND_MEM_PCT > 90
#error "config: POLLUX_SEND_MEM_PCT must be in 10..90"
#endif
#if !defined(POLLUX_NET_MEM_MAX_MB) || POLLUX_NET_MEM_MAX_MB < 0 || (POLLUX_NET_MEM_MAX_MB > 0 && POLLUX_NET_MEM_MAX_MB < 8)
#error "config: POLLUX_NET_MEM_MAX_MB must be 0 (no cap) or at least 8"
#endif
#if !defined(POLLUX_TCP_CC) || (POLLUX_TCP_CC != POLLUX_TCP_CC_RENO && POLLUX_TCP_CC != POLLUX_TCP_CC_CUBIC)
#error "config: POLLUX_TCP_CC must be POLLUX_TCP_CC_RENO or POLLUX_TCP_CC_CUBIC"
#endif
#if !defined(POLLUX_SYN_BACKLOG) || POLLUX_SYN_BACKLOG < 8 || POLLUX_SYN_BACKLOG > 255
#error "config: POLLUX_SYN_BACKLOG must be in 8..255"
#endif
#if !defined(POLLUX_HELD_INPUT_KB) || POLLUX_HELD_INPUT_KB < 64 || POLLUX_HELD_INPUT_KB > 65536
#error "config: POLLUX_HELD_INPUT_KB must be in 64..65536"
#endif
#if !defined(POLLUX_RX_RING_SIZE) || POLLUX_RX_RING_SIZE < 64 || POLLUX_RX_RING_SIZE > 4096 || (POLLUX_RX_RING_SIZE & (POLLUX_RX_RING_SIZE - 1))
#error "config: POLLUX_RX_RING_SIZE must be a power of two in 64..4096"
#endif
#if !defined(POLLUX_TX_RING_SIZE) || POLLUX_TX_RING_SIZE < 64 || POLLUX_TX_RING_SIZE > 4096 || (POLLUX_TX_RING_SIZE & (POLLUX_TX_RING_SIZE - 1))
#error "config: POLLUX_TX_RING_SIZE must be a power of two in 64..4096"
#endif
#if !defined(POLLUX_STATS_INTERVAL_S) || POLLUX_STATS_INTERVAL_S < 0 || POLLUX_STATS_INTERVAL_S > 86400
#error "config: POLLUX_STATS_INTERVAL_S must be 0..86400"
#endif
#if !defined(POLLUX_CONSOLE_BAUD) || (POLLUX_CONSOLE_BAUD != 0 && (POLLUX_CONSOLE_BAUD < 1200 || POLLUX_CONSOLE_BAUD > 115200 || 115200 % POLLUX_CONSOLE_BAUD != 0))
#error "config: POLLUX_CONSOLE_BAUD must be 0 or a divisor of 115200 (1200..115200)"
#endif
#if !defined(POLLUX_REQUIRE_ENTROPY) || (POLLUX_REQUIRE_ENTROPY != 0 && POLLUX_REQUIRE_ENTROPY != 1)
#error "config: POLLUX_REQUIRE_ENTROPY must be 0 or 1"
#endif
#if !defined(POLLUX_WATCHDOG_S) || (POLLUX_WATCHDOG_S != 0 && (POLLUX_WATCHDOG_S < 2 || POLLUX_WATCHDOG_S > 3600))
#error "config: POLLUX_WATCHDOG_S must be 0 (off) or 2..3600"
#endif
#if !defined(POLLUX_PANIC_REBOOT) || (POLLUX_PANIC_REBOOT != 0 && POLLUX_PANIC_REBOOT != 1)
#error "config: POLLUX_PANIC_REBOOT must be 0 or 1"
#endif
#if !defined(POLLUX_TEST_COMMANDS) || (POLLUX_TEST_COMMANDS != 0 && POLLUX_TEST_COMMANDS != 1)
#error "config: POLLUX_TEST_COMMANDS must be 0 or 1"
#endif

#endif

/* HTTP service (net/http.c). This block follows the guard above, so it carries its own. */
#ifndef POLLUX_CONFIG_CHECK_HTTP
#define POLLUX_CONFIG_CHECK_HTTP
#if !defined(POLLUX_HTTP_MAX_REQUEST) || POLLUX_HTTP_MAX_REQUEST < 256 || POLLUX_HTTP_MAX_REQUEST > 16384
#error "config: POLLUX_HTTP_MAX_REQUEST must be 256..16384"
#endif
#if !defined(POLLUX_HTTP_BODY_SIZE) || POLLUX_HTTP_BODY_SIZE < 0 || POLLUX_HTTP_BODY_SIZE > 1048576
#error "config: POLLUX_HTTP_BODY_SIZE must be 0..1048576"
#endif
#if !defined(POLLUX_SITE_MAX_FILE_MB) || POLLUX_SITE_MAX_FILE_MB < 1 || POLLUX_SITE_MAX_FILE_MB > 4096
#error "config: POLLUX_SITE_MAX_FILE_MB must be 1..4096"
#endif
#if !defined(POLLUX_SITE)
#error "config: POLLUX_SITE must name the site's directory (a string)"
#endif
#if !defined(POLLUX_HTTP_CACHE_CONTROL)
#error "config: POLLUX_HTTP_CACHE_CONTROL must be defined (\"\" for none)"
#endif
#if !defined(POLLUX_METRICS_PORT) || POLLUX_METRICS_PORT < 0 || POLLUX_METRICS_PORT > 65535
#error "config: POLLUX_METRICS_PORT must be 0..65535"
#endif
#ifndef POLLUX_METRICS_ADDR
#error "config: POLLUX_METRICS_ADDR must be a string: \"\" or \"a.b.c.d/n\""
#endif
#ifndef POLLUX_METRICS_ADDR6
#error "config: POLLUX_METRICS_ADDR6 must be a string: \"\" or \"x:x::x/64\""
#endif
#if !defined(POLLUX_HTTP_ROUTES)
#error "config: POLLUX_HTTP_ROUTES(R) must be defined (it may expand to nothing)"
#endif
#endif
