/* The network as the kernel sees it: set-up on the boot core, then one poll per loop per core. */
#ifndef POLLUX_NET_H
#define POLLUX_NET_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

/* Boot core, before secondaries start: find the NIC and ask for one queue pair per core. */
int net_init(uint32_t cores);
/* On each core before its loop: its queue's buffers and its own lwIP instance. */
int net_core_init(struct cpu *c);
/* Each loop iteration: RX batch into lwIP, cross-core frames, timers, one TX flush. */
void net_poll(struct cpu *c, uint64_t now);
/* `stats`: one row per core and queue. */
void net_print_stats(void);
/* "a.b.c.d" to an address in network byte order. */
uint32_t net_parse_ip(const char *s);
/* "a.b.c.d/n" to an address and its mask, network byte order; false (nothing set) if s is not one. */
bool net_parse_prefix(const char *s, uint32_t *ip, uint32_t *mask);
/* "x:x::x/n" to an address (16 bytes, network order) and n; false (nothing set) if s is not one. */
bool net_parse_prefix6(const char *s, uint8_t ip[16], uint32_t *len);
/* An IPv6 address (16 bytes, network order) as RFC 5952 text. */
void net_fmt_ip6(char out[40], const uint8_t a[16]);

#endif
