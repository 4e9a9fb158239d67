/* Pollux build-time configuration: the documented defaults.
 *
 * To change a setting, copy this file and build with it:
 *     cp config/default.h config/local.h   (edit config/local.h)
 *     make CONFIG=config/local.h
 * Every value is checked at build time (kernel/config_check.h); a bad one fails the build
 * with a message naming the setting.
 */

/* Service answered on every core: POLLUX_SERVICE_HTTP, POLLUX_SERVICE_ECHO, or the name of a
 * struct svc of your own (README, "Writing a service"). */
#define POLLUX_SERVICE POLLUX_SERVICE_HTTP

/* Families served: IPv4, IPv6 or both (dual stack), each 0 or 1, one at least. IPv6 takes a
 * link-local address from the MAC and its global addresses from the network's router
 * advertisements (SLAAC). */
#define POLLUX_IPV4 1
#define POLLUX_IPV6 1

/* IPv6 addresses by DHCPv6 (RFC 8415, IA_NA: how EC2 gives an instance its IPv6 address; core 0
 * asks, every core answers on it): POLLUX_DHCP6_AUTO once a router advertisement has the M
 * (managed) flag, 1 always, 0 never (SLAAC and link-local only). */
#define POLLUX_DHCP6 POLLUX_DHCP6_AUTO

/* IPv4 addressing: 1 = DHCP (what EC2 needs), 0 = the static address below. */
#define POLLUX_USE_DHCP 1
#define POLLUX_STATIC_IP      "198.18.0.2"
#define POLLUX_STATIC_NETMASK "255.255.255.0"
#define POLLUX_STATIC_GW      "198.18.0.1"

/* Ports of the services. */
#define POLLUX_HTTP_PORT 80
#define POLLUX_ECHO_PORT 7

/* Most cores Pollux will start (1..256); cores beyond this stay parked in firmware. */
#define POLLUX_MAX_CORES 64

/* Per-core stack size in bytes (power of two, 16 KiB..1 MiB). */
#define POLLUX_STACK_SIZE (64 * 1024)

/* NIC descriptor ring entries per queue (power of two, 64..4096). */
#define POLLUX_RX_RING_SIZE 256
#define POLLUX_TX_RING_SIZE 256

/* Input received for the service but not yet consumed, per core, in KiB (64..65536). Each
 * connection is bounded by the TCP window; when a core's held input passes this, the connection
 * holding the most is reset (counted as held_rs in `stats`). */
#define POLLUX_HELD_INPUT_KB 1024

/* Network memory, per core: every buffer, PCB and connection state of a core's stack comes from
 * its own size classes (net/slab.c), taken from the core's RAM as needed, up to
 * POLLUX_NET_MEM_PCT (10..90) percent of what the core's arena holds when its stack starts, and
 * at most POLLUX_NET_MEM_MAX_MB MiB (0: no cap; else 8 or more). The boot log prints what was
 * chosen; `stats` shows where it went. */
#define POLLUX_NET_MEM_PCT 75
#define POLLUX_NET_MEM_MAX_MB 0
/* Of that, POLLUX_SEND_MEM_PCT (10..90) percent at most holds data written to connections and not
 * yet acknowledged. Past it, the peer that has taken nothing for a second and holds the most is
 * reset (snd_shed), or, with none such, writes wait for acknowledgements (snd_wait). */
#define POLLUX_SEND_MEM_PCT 50

/* Connection limits, per core (each counted in `stats`, table "limits"):
 * - a request's headers must all arrive within POLLUX_HEADER_TIMEOUT_S (1..600) seconds of its
 *   first byte, else the connection is closed;
 * - a keep-alive connection idle (nothing to read, nothing unacknowledged) for
 *   POLLUX_IDLE_TIMEOUT_S (1..86400) seconds is closed;
 * - both limits shrink as a core passes three quarters of its connection cap, in proportion to
 *   the room left, to a quarter (one second at least); at most 512 connections a second are
 *   closed by them,
 *   so that a crowd expiring together does not flood the TX ring;
 * - a connection whose peer acknowledges nothing of what it is sent (a zero window, or silence)
 *   for POLLUX_SEND_TIMEOUT_S (1..86400) seconds is reset, as nginx's send_timeout;
 * - at POLLUX_MAX_CONNS open connections (0: derived from the network memory, half of it for
 *   idle connections; else 16..16777216) a new one makes room by closing the connection idle the
 *   longest, else the request in progress begun the longest ago, else by resetting the peer that
 *   has taken nothing for a second holding the most unacknowledged data, else it is refused;
 * - at most POLLUX_SYN_BACKLOG (8..255) half-open connections per port: beyond it the oldest is
 *   dropped for the new one, so a SYN flood cannot lock clients out. */
#define POLLUX_HEADER_TIMEOUT_S 10
#define POLLUX_IDLE_TIMEOUT_S 60
#define POLLUX_SEND_TIMEOUT_S 60
#define POLLUX_MAX_CONNS 0
#define POLLUX_SYN_BACKLOG 128

/* TCP congestion control after a loss: POLLUX_TCP_CC_CUBIC (RFC 9438, what Linux and the other
 * modern senders use: the window back to 0.7 of what it was and regrown on a cubic of the time
 * since, as fast as Reno at least) or POLLUX_TCP_CC_RENO (lwIP's: halved, one segment a round
 * trip). Slow start is the same for both. */
#define POLLUX_TCP_CC POLLUX_TCP_CC_CUBIC

/* The management port: GET /metrics answers every counter `stats` shows, in Prometheus' text
 * format, per core and queue (0: off). Any core answers a scrape, reading the others' counters
 * without stopping them. Keep it reachable only by your monitoring (a security group). */
#define POLLUX_METRICS_PORT 9100
/* The management port's own IPv4 address and prefix length, e.g. "198.19.0.10/24" ("": none, the
 * port is answered on the service's addresses). With one, every core answers for it (ARP) beside
 * the service's address, on the same NIC and MAC; the management port is answered on it alone
 * (and on POLLUX_METRICS_ADDR6), the service on every other address, and a connection to either
 * port at the other's address is refused (RST, counted in l4_drop). A scraper off its subnet is
 * reached through the service's gateway. */
#define POLLUX_METRICS_ADDR ""
/* Its own IPv6 address, a static one with prefix length 64 (lwIP takes a static address's subnet
 * as an on-link /64), e.g. "fd00:198:19::10/64" ("": none; ignored without POLLUX_IPV6). Either
 * address or both: every core answers for it (neighbour discovery) once duplicate address
 * detection has passed, and the same rule holds: the management port on a management address of
 * either family alone, the service never there. */
#define POLLUX_METRICS_ADDR6 ""

/* Entropy: the random generators (TCP sequence numbers, SYN cookies, the RSS key) are seeded from
 * the CPU's generator, the firmware's, the SMCCC TRNG and counter jitter, each credited with what
 * it is trusted for (kernel/random.c). With less than 256 bits in all, `stats` warns on every call
 * and, with POLLUX_REQUIRE_ENTROPY 1, the appliance does not serve (0: it serves anyway). */
#define POLLUX_REQUIRE_ENTROPY 1

/* Seconds between one-line statistics summaries on the console; 0 = never. */
#define POLLUX_STATS_INTERVAL_S 10

/* Watchdog (kernel/watchdog.c): every core, ten times a second, looks at the next core's loop
 * counter; a core whose loop has not moved for POLLUX_WATCHDOG_S seconds (0: off; else 2..3600)
 * is reported by the core watching it. With one core nothing can watch (no interrupts, no
 * hardware watchdog used): only panics and faults are caught there. */
#define POLLUX_WATCHDOG_S 10

/* 1: a panic, a crash (an exception) or the watchdog's report ends in a reset of the machine once
 * the report is out on the console (an Auto Scaling group's health check or QEMU's -no-reboot
 * sees it); 0: the core stops and the others go on serving what they can. */
#define POLLUX_PANIC_REBOOT 1

/* Console UART baud rate when Pollux programs the UART itself (0 = keep the firmware's). */
#define POLLUX_CONSOLE_BAUD 0

/* Test-only console commands (`fault`): 0 in production images. `make test` sets it to 1. */
#ifndef POLLUX_TEST_COMMANDS
#define POLLUX_TEST_COMMANDS 0
#endif

/* HTTP service (net/http.c). Longest request line + headers accepted, in bytes (256..16384):
 * each connection holds a buffer this size; a longer request is answered 400 and closed. */
#define POLLUX_HTTP_MAX_REQUEST 2048

/* The site: a directory packed into the image at build time (scripts/site.py), every file served
 * at its path, with its type, ETag, Last-Modified, ranges and gzip/Brotli forms. A relative path
 * is taken from the top of the tree; `make SITE=dir` overrides it. A file over
 * POLLUX_SITE_MAX_FILE_MB (1..4096) stops the build. */
#define POLLUX_SITE "site"
#define POLLUX_SITE_MAX_FILE_MB 256

/* Cache-Control sent with every site file ("" for none, at most 128 characters). "no-cache" lets
 * browsers and CDNs keep a file but ask each time whether it changed: a 304 costs a header. */
#define POLLUX_HTTP_CACHE_CONTROL "no-cache"

/* Bytes of a fixed printable pattern (64-byte lines) served at "/" instead of the site's index
 * (0..1048576; 0: none). make bench serves it. */
#define POLLUX_HTTP_BODY_SIZE 0

/* Further routes, one R(path, content type, body) each; path starts with '/', body is a string
 * literal (served from the image without a copy). Add a line (ending in a backslash) to add one. */
#define POLLUX_HTTP_ROUTES(R) \
	R("/hello", "text/plain", "Hello from Pollux\n")
