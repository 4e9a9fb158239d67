/* Flows: the Toeplitz hash that RSS NICs compute, and which core owns a received frame. */
#ifndef POLLUX_FLOW_H
#define POLLUX_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#define FLOW_KEY_LEN 40         /* bytes of Toeplitz key: covers inputs up to 36 bytes (IPv6 4-tuple) */
#define FLOW_TABLE_LEN 128      /* indirection table entries, a power of two: hash -> core */

/*
 * The key and, for speed, its 32-bit windows per input byte: the hash of a 12-byte IPv4 4-tuple is
 * 12 table lookups instead of 96 shifted key windows. Built once at boot, read-only afterwards, so
 * every core reads it without writing a shared line.
 */
struct flow_key {
	uint8_t key[FLOW_KEY_LEN];
	uint32_t win[12][256];          /* win[i][v]: hash of byte value v at input position i */
};

void flow_key_init(struct flow_key *k, const uint8_t key[FLOW_KEY_LEN]);

/* Toeplitz hash of in[0..len), len <= 12 (uses the tables). */
uint32_t flow_hash(const struct flow_key *k, const uint8_t *in, unsigned len);

/* The same hash the slow way, bit by bit, for any len <= FLOW_KEY_LEN - 4: the tables' reference. */
uint32_t flow_hash_slow(const uint8_t key[FLOW_KEY_LEN], const uint8_t *in, unsigned len);

/* What a received Ethernet frame is, for steering. */
enum flow_kind {
	FLOW_HASHED,            /* IPv4 TCP/UDP, whole: hash of the 4-tuple, as the NIC's RSS has it */
	FLOW_ADDR,              /* other IPv4 (ICMP echo, other protocols): hash of the addresses; any
				 * core can answer it */
	FLOW_FRAG,              /* an IPv4 fragment: it must reach the core that reassembles the
				 * datagram, which the first fragment's hash names (flow_info) */
	FLOW_ICMP_ERR,          /* an ICMP error about one of our TCP/UDP flows: hash of that flow */
	FLOW_EVERY_CORE,        /* ARP: each core's stack must see it */
	FLOW_DHCP_CLIENT,       /* UDP to port 68: the core running the DHCP client */
	FLOW_LOCAL,             /* anything else (IPv6, runts): the receiving core handles or drops it */
};

struct flow_info {
	uint32_t hash;          /* FLOW_HASHED, FLOW_ADDR, FLOW_ICMP_ERR, FLOW_FRAG with first */
	bool first;             /* FLOW_FRAG: offset 0, so hash covers the ports (TCP/UDP) */
	uint32_t frag[3];       /* FLOW_FRAG: the datagram (source, destination, id and protocol) */
};

/*
 * Classify frame[0..len) and hash it with k. With hash_all false, whole TCP/UDP datagrams and other
 * IPv4 (FLOW_HASHED, FLOW_ADDR) are not hashed: the NIC already put them where they belong, and the
 * hash is left for what it cannot place (fragments, ICMP errors). IPv4 TCP and UDP hash source address, destination
 * address, source port, destination port (as RSS's TCPv4/UDPv4 types do); other IPv4 the two
 * addresses. A first fragment is hashed like the whole datagram would be; later fragments carry no
 * ports, so their core comes from the first one's (the caller remembers it by fi->frag). An ICMP
 * error (unreachable, source quench, redirect, time exceeded, parameter problem) quoting a TCP or
 * UDP header of ours is hashed as the flow it names, seen from the peer.
 */
enum flow_kind flow_classify(const struct flow_key *k, const uint8_t *frame, uint32_t len, bool hash_all,
			     struct flow_info *fi);

#endif
