/* One lwIP instance as the rest of Pollux sees it: a table of entry points, no lwIP types.
 * net/inst.c, net/inst_svc.c and lwIP are linked once per core with every global renamed
 * (lwip<N>_...), so each core's instance has its own state; lwip_insts[N] (generated) points at
 * core N's table. */
#ifndef POLLUX_NET_INST_H
#define POLLUX_NET_INST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../drivers/nic.h"

struct svc;

struct net_inst_cfg {
	uint32_t core;                  /* owning core: the only one that ever calls this instance */
	uint8_t mac[6];
	uint16_t mtu;
	bool dhcp;                      /* else ip/mask/gw below, network byte order */
	uint32_t ip, mask, gw;
	bool no_ip6;                    /* IPv4 only: no link-local address, no SLAAC */
	uint8_t dhcp6;                  /* NET_DHCP6_*: when this instance asks DHCPv6 for an address */
	/* Network memory: every allocation of the stack and the service's connection state comes
	 * from the instance's size classes (net/slab.h), in chunks of NET_INST_CHUNK bytes that
	 * mem_grow takes from the core's own arena, at most mem_budget bytes (NET_INST_MIN_MEM
	 * or more). */
	uint64_t mem_budget;
	void *(*mem_grow)(uint32_t core, size_t bytes);
	/* Open connections at most; 0: as many as half the budget holds (net_inst_mem.max_conns). */
	uint32_t max_conns;
	/* Bytes written by the service and not yet acknowledged, over all connections, at most;
	 * 0: half the budget. Past it, a peer that reads nothing makes way (send_shed). */
	uint64_t send_budget;
	const struct svc *svc;          /* the service answered (net/service.h); NULL: none */
	const struct svc *mgmt;         /* a second one on its own port (metrics); NULL: none */
	/* The management address and mask (network order; 0: none). With one, mgmt answers on it
	 * alone and svc on every other address; it is answered for (ARP) beside the service's. */
	uint32_t mgmt_ip, mgmt_mask;
	/* The management IPv6 address (network order; all zero: none), a static /64 on the same
	 * management netif: answered for (neighbour discovery) once lwIP's duplicate address
	 * detection passed; mgmt answers on it too, svc never. Ignored with no_ip6. */
	uint8_t mgmt_ip6[16];
	bool csum_offload;              /* the NIC completes TCP/UDP checksums (struct nic_txo) */
	uint32_t tso_max;               /* with it, the NIC's segmentation frames (caps.tso_max); 0: none */
	/* Send one Ethernet frame of n pieces. With ref, pieces may be sent in place: returns 1 and
	 * calls net_inst.tx_done(ref) once the NIC has read them; 0 when all was copied; -1 when there
	 * is no room now (the instance keeps the frame and tries again later); -2 when it can never be
	 * sent (too long: dropped, counted by the NIC or the ring). */
	int (*tx)(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref);
	/* The loop's profile (`prof`): while *prof_on, each call into the service is bracketed by
	 * prof_svc(), which returns what prof_svc_end wants back. NULL: never profiled. */
	const bool *prof_on;
	unsigned (*prof_svc)(void);
	void (*prof_svc_end)(unsigned back);
};

/* DHCPv6 (IA_NA, net/dhcp6.c): never, always, or once a router advertisement has the M flag. */
#define NET_DHCP6_OFF 0
#define NET_DHCP6_ON 1
#define NET_DHCP6_AUTO 2

/* Multicast Ethernet addresses an instance keeps for its groups (all-nodes included). */
#define NET_MCAST_MAX NIC_MCAST_MAX

#define NET_INST_CHUNK (1u << 20)
#define NET_INST_MIN_MEM (8u << 20)

/* Where an instance's network memory went (`stats`, table "memory"). */
#define NET_INST_POOLS 12
struct net_inst_mem {
	uint64_t budget, taken;         /* bytes the instance may take, and has taken, from the arena */
	uint64_t in_use, high;          /* bytes of blocks handed out now, and at most */
	uint64_t free_listed;           /* taken, freed, kept in the classes' lists for reuse */
	uint64_t fails;                 /* allocations refused: budget or arena spent */
	uint64_t requested;             /* bytes asked for by the blocks in use (in_use less rounding) */
	uint64_t index_bytes;           /* the connection index's buckets (net/inst_hash.c) */
	uint64_t index_entries;         /* connections in it, TIME-WAIT included */
	uint64_t time_wait;             /* connections in TIME_WAIT (a 24-byte entry each, for 2 MSL) */
	uint64_t tw_cap, tw_dropped;    /* room for them, and those ended early for room */
	uint64_t lookups, probes;       /* segments looked up in it, connections compared for them */
	uint64_t send_budget;           /* bytes written and not acknowledged, at most (net_inst_cfg) */
	uint64_t send_queued, send_high;        /* such bytes now, and at most */
	uint64_t timer_pcbs;            /* connections lwIP's timers visit (the others are at rest) */
	uint32_t max_conns;             /* the connection cap applied */
	uint32_t conn_bytes;            /* memory one idle connection holds: PCB and service state */
	unsigned npools;
	struct {
		const char *name;
		uint32_t size;          /* bytes per element */
		uint64_t used, high;    /* elements */
	} pool[NET_INST_POOLS];         /* lwIP's pools (PCBs, segments, pbufs, ...), part of requested */
};

struct net_inst_stats {
	uint64_t rx_frames, rx_bytes, rx_refused;       /* refused: the stack dropped the frame */
	uint64_t tx_frames, tx_bytes, tx_drop_ring;     /* tx ring full, and its backlog too */
	uint64_t tx_waited;                             /* frames that waited for room in the tx ring */
	uint64_t tcp_accepted, tcp_open, tcp_drop_mem;
	uint64_t tcp6_open;                             /* of tcp_open, those over IPv6 */
	uint64_t tcp_reset;                             /* reset by the peer, or refused by the service */
	uint64_t tcp_abort;                             /* given up by the stack or by us */
	uint64_t held_bytes;                            /* input kept for services that have not read it */
	uint64_t held_resets;                           /* connections reset because held input ran out */
	uint64_t hdr_timeouts;                          /* closed: a request's headers took too long */
	uint64_t idle_closed;                           /* closed: idle past the keep-alive limit */
	uint64_t evicted;                               /* closed, idle the longest, for a new one (cap) */
	uint64_t evicted_partial;                       /* closed, a request stalled the longest, for a new one */
	uint64_t send_timeouts;                         /* closed: no send progress for POLLUX_SEND_TIMEOUT_S */
	uint64_t evicted_send;                          /* reset, reading nothing and holding the most, for a new one */
	uint64_t send_shed;                             /* reset, the same, for send memory (the send budget) */
	uint64_t send_waits;                            /* writes cut short by the send budget, none to shed */
	uint64_t cap_refused;                           /* new connections refused at the cap, none idle */
	uint64_t syn_cookies;                           /* SYN-ACKs with a cookie: the backlog was full */
	uint64_t cookie_ok;                             /* connections made from a cookie's ACK */
	uint64_t cookie_bad;                            /* ACKs to a listener whose cookie did not check */
	uint64_t tw_reused;                             /* TIME_WAIT ended early for a new SYN (RFC 1122) */
	uint64_t sack_recoveries;                       /* fast recoveries led by the peer's SACK blocks */
	uint64_t sack_rexmits;                          /* holes retransmitted in them */
	uint64_t sack_bad;                              /* SACK options or blocks ignored: malformed, out of range */
	uint64_t tcp_rto;                               /* retransmission timeouts that sent data again */
	uint64_t udp_rx, udp_drop;
	uint64_t ip_drop, arp_drop, mem_err;
	uint64_t ip6_drop;                              /* IPv6 packets dropped: not ours, malformed
							 * header or extension header, unknown next header */
	uint64_t nd_drop;                               /* neighbour discovery and MLD messages refused:
							 * hop limit not 255, off-link router, malformed,
							 * no router or neighbour entry left */
	uint64_t csum_err;                              /* IP/TCP/UDP/ICMP checksum wrong: dropped */
	uint64_t l4_drop;                               /* TCP/UDP/ICMP segments dropped by lwIP */
	uint64_t reasm_drop;                            /* IPv4 fragments lwIP could not reassemble */
	uint64_t http_requests, http_2xx, http_3xx, http_4xx, http_bad;
	uint64_t icmp_echo;                             /* ICMP echo requests answered */
	uint64_t dhcp6_drop;                            /* DHCPv6 messages malformed, not ours or refusing */
	uint64_t mcast_drop;                            /* IPv6 multicast frames to a group not joined:
							 * the NIC's filter let them through */
};

struct net_inst {
	/* Set up the netif and the service. Returns 0 or a negative lwIP err_t. */
	int (*init)(const struct net_inst_cfg *cfg);
	/* Hand a received frame to the stack without copying; release(buf, arg) runs when lwIP is
	 * done with it (at once, or later if TCP queues it out of order). flags: NIC_RX_*. */
	void (*input)(void *frame, uint32_t len, unsigned flags, void (*release)(void *frame, void *arg), void *arg);
	/* Hand in a frame the stack must copy (it comes from a cross-core ring slot). */
	void (*input_copy)(const void *frame, uint32_t len, unsigned flags);
	/* The NIC has read a frame cfg.tx sent in place: ref is the tx call's. */
	void (*tx_done)(void *ref);
	/* Run lwIP's timers (call every loop; cheap when nothing is due). */
	void (*poll)(void);
	/* End of a loop iteration, before the doorbell: segments held to leave as one frame go. */
	void (*tx_end)(void);
	/* Current IPv4 address, mask and gateway in network byte order; returns the address,
	 * 0 while DHCP has none. */
	uint32_t (*addr)(uint32_t *mask, uint32_t *gw);
	/* The IPv6 addresses in use (preferred, DAD done), link-local first: up to max into out, 16
	 * bytes each in network order; returns how many. Each instance configures its own from the
	 * MAC and the router advertisements every instance sees, so all come to the same ones. */
	unsigned (*addr6)(uint8_t (*out)[16], unsigned max);
	/* Take the address another instance obtained (all instances share the MAC and the IP). */
	void (*set_addr)(uint32_t ip, uint32_t mask, uint32_t gw);
	/* The DHCPv6 address this instance leased once it passed DAD (all zero: none) into addr, its
	 * lifetimes left in seconds (0xffffffff: infinite); returns a count that changes whenever
	 * any of them does (a lease, a renewal, a loss). */
	uint32_t (*dhcp6)(uint8_t addr[16], uint32_t *valid, uint32_t *pref);
	/* Take the DHCPv6 address another instance leased (all zero: it has none any more). */
	void (*set_addr6)(const uint8_t addr[16], uint32_t valid, uint32_t pref);
	void (*stats)(struct net_inst_stats *out);
	void (*mem)(struct net_inst_mem *out);
	/* The Ethernet addresses of the multicast groups joined (all-nodes, each address's
	 * solicited-node group) into out (NET_MCAST_MAX entries) and their number into *cnt
	 * (NET_MCAST_MAX + 1: more than fit); returns a count that changes whenever the list does. */
	uint32_t (*mcast)(uint8_t (*out)[6], uint32_t *cnt);
	/* The NIC's link went down or came up (core 0): coming up announces the address again
	 * (gratuitous ARP) and lets DHCP check its lease. */
	void (*link)(bool up);
	/* The management IPv6 address (net_inst_cfg.mgmt_ip6): 1 in use (duplicate address detection
	 * passed), 0 not yet, -1 none or never (another node holds it). */
	int (*mgmt6)(void);
};

extern const struct net_inst *const lwip_insts[];
extern const unsigned lwip_ninsts;

#endif
