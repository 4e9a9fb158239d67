/* Flows: the Toeplitz hash that RSS NICs compute, and which core owns a received frame. */
#ifndef POLLUX_FLOW_H
#define POLLUX_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#define FLOW_KEY_LEN 40         /* bytes of Toeplitz key: covers inputs up to 36 bytes (IPv6 4-tuple) */
#define FLOW_IN_MAX 36          /* the longest hash input: IPv6 source, destination, ports */
#define FLOW_TABLE_LEN 128      /* indirection table entries, a power of two: hash -> core */
#define FLOW_EXT_MAX 8          /* IPv6 extension headers walked; a ninth makes the frame FLOW_BAD */
#define FLOW_FRAG_WORDS 10      /* a fragmented datagram's identity (flow_info.frag) */

/*
 * The key and, for speed, its 32-bit windows per input byte: the hash of a 12-byte IPv4 4-tuple is
 * 12 table lookups instead of 96 shifted key windows, a 36-byte IPv6 one 36. Built once at boot,
 * read-only afterwards, so every core reads it without writing a shared line (36 KiB; IPv4 reads
 * only the first 12 KiB).
 */
struct flow_key {
	uint8_t key[FLOW_KEY_LEN];
	uint32_t win[FLOW_IN_MAX][256]; /* win[i][v]: hash of byte value v at input position i */
};

void flow_key_init(struct flow_key *k, const uint8_t key[FLOW_KEY_LEN]);

/* Toeplitz hash of in[0..len), len <= FLOW_IN_MAX (uses the tables). */
uint32_t flow_hash(const struct flow_key *k, const uint8_t *in, unsigned len);

/* The same hash the slow way, bit by bit, for any len <= FLOW_KEY_LEN - 4: the tables' reference. */
uint32_t flow_hash_slow(const uint8_t key[FLOW_KEY_LEN], const uint8_t *in, unsigned len);

/* What a received Ethernet frame is, for steering. */
enum flow_kind {
	FLOW_HASHED,            /* TCP/UDP over IPv4 or IPv6, whole: hash of the 4-tuple, as the NIC's
				 * RSS has it */
	FLOW_ADDR,              /* other IP (ICMP echo, other protocols): hash of the addresses; any
				 * core can answer it */
	FLOW_FRAG,              /* an IPv4 or IPv6 fragment: it must reach the core that reassembles
				 * the datagram, which the first fragment's hash names (flow_info) */
	FLOW_ICMP_ERR,          /* an ICMP or ICMPv6 error about one of our TCP/UDP flows: hash of that
				 * flow */
	FLOW_EVERY_CORE,        /* ARP, IPv6 neighbour and router discovery and MLD: each core's stack
				 * must see it (each keeps its own neighbour cache) */
	FLOW_DHCP_CLIENT,       /* UDP to port 68 (DHCPv4) or 546 (DHCPv6): the core running the client */
	FLOW_LOCAL,             /* anything else (other ethertypes, runts, cut IP headers): the
				 * receiving core handles or drops it */
	FLOW_BAD,               /* IPv6 whose extension headers cannot be walked: cut short, more than
				 * FLOW_EXT_MAX, hop-by-hop not first, two fragment headers. Dropped and
				 * counted by the caller */
};

struct flow_info {
	uint32_t hash;          /* FLOW_HASHED, FLOW_ADDR, FLOW_ICMP_ERR, FLOW_FRAG */
	bool first;             /* FLOW_FRAG: offset 0, so hash covers the ports (TCP/UDP) */
	/*
	 * FLOW_FRAG: the datagram, every word set, to be compared whole: source address in words
	 * 0..3, destination in 4..7 (IPv4: in words 0 and 4, the rest zero), the identification in
	 * word 8 (IPv4's 16 bits, IPv6's 32), and in word 9 the IP version << 8, with IPv4's protocol
	 * in the low byte (RFC 791; an IPv6 datagram is source, destination and id, RFC 8200 4.5).
	 * The version word keeps an IPv4 datagram from ever matching an IPv6 one.
	 */
	uint32_t frag[FLOW_FRAG_WORDS];
};

/*
 * Classify frame[0..len) and hash it with k. With hash_all false, whole TCP/UDP datagrams and other
 * IP (FLOW_HASHED, FLOW_ADDR) are not hashed: the NIC already put them where they belong, and the
 * hash is left for what it cannot place (fragments, ICMP errors).
 *
 * IPv4 TCP and UDP hash source address, destination address, source port, destination port (as
 * RSS's TCPv4/UDPv4 types do); other IPv4 the two addresses. IPv6 the same with 16-byte addresses
 * (TCPv6/UDPv6, 36 bytes; IPv6, 32), the addresses of the IPv6 header and the ports of the TCP or
 * UDP header found after the extension headers (hop-by-hop, routing, fragment, destination
 * options; at most FLOW_EXT_MAX, each within the frame and the payload length). A first fragment
 * is hashed like the whole datagram would be; later fragments carry no ports, so their core comes
 * from the first one's (the caller remembers it by fi->frag). An ICMP error (unreachable, source
 * quench, redirect, time exceeded, parameter problem) or ICMPv6 error (unreachable, packet too big,
 * time exceeded, parameter problem) quoting a TCP or UDP header of ours is hashed as the flow it
 * names, seen from the peer. ICMPv6 router and neighbour discovery, redirects and MLD reports
 * (types 131-137, 143) are FLOW_EVERY_CORE, but for what a stack answers rather than learns from:
 * an MLD query (130) and a neighbour solicitation (135) from a peer's address are FLOW_ADDR, for
 * one core to answer once (a duplicate address probe, from ::, is for every core). Echo and the
 * rest are FLOW_ADDR.
 */
enum flow_kind flow_classify(const struct flow_key *k, const uint8_t *frame, uint32_t len, bool hash_all,
			     struct flow_info *fi);

#endif
