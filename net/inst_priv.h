/* Shared between the files linked into one lwIP instance (net/inst.c, net/inst_svc.c). */
#ifndef POLLUX_INST_PRIV_H
#define POLLUX_INST_PRIV_H

#include "inst.h"
#include "lwip/err.h"
#include "lwip/netif.h"

/* inst_svc.c: ERR_ARG when s (NULL: none) breaks its contract (net/service.h), else ERR_OK. */
int inst_svc_check(const struct svc *s);
/* inst_svc.c: listen for s (and mgmt, may be NULL, on its own port) in this instance, counting
 * into stats, with at most conns_max connections open (0: as many as half of budget bytes holds)
 * and send_max bytes written and not acknowledged (0: half of budget). With mgmt_ip (network
 * order; 0: none) or mgmt_ip6 (16 bytes, network order; all zero: none), mgmt answers on those
 * addresses alone and s on every other. 0 or an lwIP err_t. */
int inst_svc_start(const struct svc *s, const struct svc *mgmt, uint32_t mgmt_ip, const uint8_t mgmt_ip6[16],
		   struct net_inst_stats *stats, uint32_t conns_max, uint64_t budget, uint64_t send_max);
/* inst_svc.c: time the service's callbacks while *on, through enter and end (net_inst_cfg's
 * prof_on, prof_svc, prof_svc_end); on NULL: never. */
void inst_svc_prof(const bool *on, unsigned (*enter)(void), void (*end)(unsigned back));
/* inst_svc.c: the connection cap applied and the memory of one idle connection. */
void inst_svc_mem(struct net_inst_mem *out);
/* inst_svc.c: the ACK that brought back a SYN cookie is input again for the connection it made,
 * once the segment that carried it is done (call after every netif input). */
void inst_svc_reinput(struct netif *nif);
/* inst_svc.c: the service's counts into out. */
void inst_svc_stats(struct net_inst_stats *out);

/* inst_dhcp6.c: the DHCPv6 client on n (mode NET_DHCP6_*; the other cores pass NET_DHCP6_OFF and
 * only take core 0's address); 0 or an lwIP err_t. Poll it every millisecond or so. */
int inst_dhcp6_start(struct netif *n, const uint8_t mac[6], unsigned mode);
void inst_dhcp6_poll(void);
/* inst_dhcp6.c: the link came up again: an address leased is Rebound (RFC 8415 18.2.12). */
void inst_dhcp6_link_up(void);
/* inst_dhcp6.c: net_inst.dhcp6 and net_inst.set_addr6 (inst.h); its drop count into out. */
uint32_t inst_dhcp6_lease(uint8_t addr[16], uint32_t *valid, uint32_t *pref);
void inst_dhcp6_take(const uint8_t addr[16], uint32_t valid, uint32_t pref);
void inst_dhcp6_stats(struct net_inst_stats *out);

/* inst.c: frame p to the NIC, or behind those waiting for room (ERR_OK), or dropped (ERR_MEM). */
err_t inst_tx_out(struct pbuf *p, const struct nic_txo *o);
/* A frame of several segments (inst_tso.c), named by its address with the low bit set: such a
 * reference, given to cfg.tx, comes back to net_inst.tx_done, and waits in the backlog as one. */
struct inst_frame {
	struct nic_frag f[NIC_TX_MAX_SEGS];     /* f[0]: the header */
	unsigned nf, segs;
	uint32_t wire;                          /* the segments' bytes on the wire */
	struct nic_txo o;
};
static inline struct inst_frame *inst_frame_of(void *ref)
{
	return (struct inst_frame *)((uintptr_t)ref & ~(uintptr_t)1);
}
/* inst.c: such a frame to the NIC in place, or to wait behind the frames waiting already; dropped
 * (counted, inst_tso_done) with no room left. */
void inst_tx_batch(void *ref);

/* inst_tso.c: TCP segmentation offload. Set up for frames of max bytes (0: off), from alloc. */
int inst_tso_init(uint32_t max, void *(*alloc)(size_t bytes));
/* inst_tso.c: true when p (offloads o, from csum_offload) is held to leave with the next segments
 * of its connection; false: send it now (anything held went first). */
bool inst_tso_add(struct pbuf *p, const struct nic_txo *o);
/* inst_tso.c: what is held leaves now (net_inst.tx_end). */
void inst_tso_flush(void);
/* inst_tso.c: the NIC read a frame of several segments, or it was dropped: its segments go. */
void inst_tso_done(void *ref);

/* inst_mcast.c: keep the Ethernet addresses of the groups n joins (its MLD MAC filter). */
void inst_mcast_start(struct netif *n);
/* inst_mcast.c: dst (a multicast Ethernet address) is one of a group joined, or the list
 * overflowed and every group counts as joined. */
bool inst_mcast_joined(const uint8_t dst[6]);
/* inst_mcast.c: net_inst.mcast (inst.h). */
uint32_t inst_mcast_list(uint8_t (*out)[6], uint32_t *cnt);

/* inst_hash.c: the index of this instance's connections (lwipopts.h's pcb hooks). Set up with a
 * bucket per expected connection (rounded up to a power of two, 1024 at least) and room for
 * time_wait connections in TIME_WAIT (the same, 256 at least), from alloc. 0 or ERR_MEM. */
int inst_hash_init(uint32_t conns, uint32_t time_wait, void *(*alloc)(size_t bytes));
struct inst_hash_stats {
	uint64_t buckets, entries;      /* entries: pcbs indexed (active; TIME-WAIT ones until taken) */
	uint64_t time_wait, tw_cap;     /* connections in TIME_WAIT (inst_tw entries), room for them */
	uint64_t tw_entered, tw_dropped;        /* entries made, and ended early for room */
	uint64_t lookups, probes;       /* segments looked up, pcbs compared for them */
};
void inst_hash_stats(struct inst_hash_stats *out);

/* inst_hash.c: connections whose segments a Packet Too Big found still held by the NIC are sent
 * again, split, once it lets them go: call from the poll. */
void inst_ptb_poll(void);

/* A remote address of either family, as the index keeps it: IPv6's 16 bytes, or IPv4 mapped into
 * IPv6 (::ffff:a.b.c.d), in network order. */
struct inst_ip {
	uint32_t w[4];
};

static inline struct inst_ip inst_ip_of(const ip_addr_t *a)
{
	if (IP_IS_V6(a)) {
		const ip6_addr_t *a6 = ip_2_ip6(a);
		return (struct inst_ip){ { a6->addr[0], a6->addr[1], a6->addr[2], a6->addr[3] } };
	}
	return (struct inst_ip){ { 0, 0, PP_HTONL(0xffffu), ip4_addr_get_u32(ip_2_ip4(a)) } };
}

static inline bool inst_ip_eq(const struct inst_ip *a, const struct inst_ip *b)
{
	return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3]));
}

/* inst_hash.c: a connection in TIME_WAIT: 36 bytes, not a pcb. Ports in host order, the address
 * in network order, as lwIP keeps them. */
struct inst_tw {
	struct inst_ip rip;
	uint16_t rport, lport;          /* lport 0: ended or restarted, only its ring slot is left */
	uint32_t snd_nxt, rcv_nxt;      /* what this side sent up to and expects next */
	uint32_t until;                 /* sys_now() when it ends */
	uint32_t next;                  /* the next in its bucket: index + 1; 0: none */
};
/* Turn every pcb lwIP moved to TIME_WAIT into an entry (the pcb is freed), and end the entries
 * whose time is up. Call after every input and from the poll. */
void inst_tw_take(void);
/* The entry of a four-tuple (the local address is the instance's), or NULL. */
struct inst_tw *inst_tw_find(const struct inst_ip *rip, uint16_t rport, uint16_t lport);
/* End e now (a new connection takes its ports), or start its 2 MSL again (its FIN came again). */
void inst_tw_end(struct inst_tw *e);
void inst_tw_restart(struct inst_tw *e);

/* inst_hash.c: the IPv4 identification of the next datagram to dst (network order), for
 * lwipopts.h's LWIP_HOOK_IP4_ID. */
uint16_t inst_ip4_id(uint32_t dst);

#endif
