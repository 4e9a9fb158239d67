/* lwIP options for Pollux: NO_SYS, raw API only, IPv4 and IPv6 TCP/UDP/ICMP, ARP, DHCP, neighbour
 * discovery and SLAAC, one netif per instance (two with a management address, net/inst.c).
 * Every core links its own copy of lwIP (see net/Makefile.inc), so none of this state is shared. */
#ifndef POLLUX_LWIPOPTS_H
#define POLLUX_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0          /* one core per instance, no interrupts: nothing to protect */
#define LWIP_TIMERS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
/* Not 1: a management address (POLLUX_METRICS_ADDR, POLLUX_METRICS_ADDR6) is a second netif,
 * lwIP's way of giving an interface a second IPv4 address. With one netif, input looks at no
 * other (ip4_input accepts at the first) and IPv6 routes by its single-netif shortcut; IPv4 output
 * checks its one subnet. */
#define LWIP_SINGLE_NETIF 0

#define LWIP_IPV4 1
#define LWIP_IPV6 1
/*
 * IPv6: a link-local address from the MAC, addresses from router advertisements (SLAAC, the same
 * on every core: each instance sees every RA, net/net.c) and the default router they name. DAD
 * once per address. The neighbour and destination caches are bounded tables, searched linearly:
 * their cost per packet does not grow with the connections. Reassembly as IPv4's, 3 s at most.
 */
#define LWIP_IPV6_NUM_ADDRESSES 3       /* link-local, SLAAC, one more (static or a second prefix) */
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 1
#define LWIP_IPV6_MLD 1                 /* joins the solicited-node groups of its addresses */
#define LWIP_ICMP6 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
#define IPV6_FRAG_COPYHEADER 1          /* 64-bit pointers do not fit in the fragment header */
#define LWIP_IPV6_FRAG_COPY 1           /* fragments copied, the packet left whole (patch 0014) */
#define IPV6_REASS_MAXAGE 3
#define LWIP_ND6_NUM_NEIGHBORS 16
#define LWIP_ND6_NUM_DESTINATIONS 32
#define LWIP_ND6_NUM_PREFIXES 5
#define LWIP_ND6_NUM_ROUTERS 3
#define LWIP_ND6_ALLOW_RA_UPDATES 1
#define LWIP_ND6_QUEUEING 1
/*
 * DHCPv6: lwIP 2.1.3's client is stateless only, so its dhcp6.c is not built (Makefile); Pollux's
 * own (net/dhcp6.c, IA_NA addresses, on core 0) takes the two calls lwIP makes with this option:
 * dhcp6_nd6_ra_trigger from nd6.c for each router advertisement (its M flag starts the client)
 * and the dhcp6_tmr slot of timeouts.c (empty: the client is polled every millisecond).
 */
#define LWIP_IPV6_DHCP6 1
#define LWIP_IPV6_DHCP6_STATELESS 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_RAW 0
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0           /* saves a second of boot; the server owns the lease */
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_AUTOIP 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_SUPPORT_CUSTOM_PBUF 1      /* zero-copy RX: pbufs that wrap the NIC's DMA buffer */

/* Memory: every allocation of an instance, pools included, comes from its own size classes
 * (net/slab.h through inst_mem_alloc in net/inst.c): O(1) however many connections exist, sized
 * from the core's arena at boot, not a fixed first-fit heap. The fuzzer supplies its own
 * (Makefile, FUZZ_LWIP_DEFS). */
#define MEM_ALIGNMENT 8
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#ifndef mem_clib_malloc
#include <stddef.h>
void *inst_mem_alloc(size_t size);
void inst_mem_free(void *p);
void *inst_mem_calloc(size_t n, size_t size);
#define mem_clib_malloc inst_mem_alloc
#define mem_clib_free inst_mem_free
#define mem_clib_calloc inst_mem_calloc
#endif
/* Under MEMP_MEM_MALLOC these bound nothing; the budget and the connection cap do. */
#define MEMP_NUM_TCP_PCB 4096
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_TCP_SEG 8192
#define PBUF_POOL_SIZE 256
#define TCP_LISTEN_BACKLOG 1            /* half-open connections bounded per listener */
/* A SYN to a full listener is answered with a SYN cookie, and the ACK that brings one back makes
 * the connection; segments for a connection in TIME_WAIT (a small entry of net/inst_hash.c, not a
 * pcb) are answered here, and a SYN for one may start a new connection (net/inst_svc.c). */
struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) inst_tcp_inpacket(pcb, hdr, optlen, opt1len, p)
int inst_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, unsigned short optlen, unsigned short opt1len,
		      struct pbuf *p);

/* Connections are found by a hash of their four-tuple (net/inst_hash.c), not by walking lwIP's
 * lists: hooks of Pollux's lwIP patch series (net/port/patches). */
struct ip_addr;
#define LWIP_HOOK_TCP_PCB_LINKED(pcbs, npcb) inst_tcp_linked(pcbs, npcb)
#define LWIP_HOOK_TCP_PCB_UNLINKED(npcb) inst_tcp_unlinked(npcb)
#define LWIP_HOOK_TCP_PCB_LOOKUP(rport, lport, rip, lip) inst_tcp_lookup(rport, lport, rip, lip)
void inst_tcp_linked(struct tcp_pcb **pcbs, struct tcp_pcb *pcb);
void inst_tcp_unlinked(struct tcp_pcb *pcb);
struct tcp_pcb *inst_tcp_lookup(unsigned short rport, unsigned short lport, const struct ip_addr *rip,
				const struct ip_addr *lip);

/* A fragmented datagram must be complete within 3 s (lwIP's default is 15): pieces that never
 * complete hold the core's memory that much shorter. Given up ones are counted (reasm). */
#define IP_REASS_MAXAGE 3
/* lwIP's TCP timer every 50 ms (its default 250): the fast timer (delayed ACKs, as Linux's 40 ms)
 * every 50 ms, the slow one (retransmission, persist, the per-connection timeouts) every 100 ms.
 * The retransmission timeout is counted in slow ticks, and lwIP's estimator never takes it under 3
 * (its integer variance stops there): with 500 ms ticks a timeout on a 40 ms path came after 1 to
 * 1.5 s, now after 200 to 300 ms (Linux: its 200 ms minimum plus the round trip). */
#define TCP_TMR_INTERVAL 50
/* TIME_WAIT lasts 2 MSL: 60 s, as Linux's, not lwIP's default 120 s. */
#define TCP_MSL 30000UL
#define TCP_MSS 1460
#define TCP_WND (32 * TCP_MSS)
/*
 * Sending at internet round-trip times: the peer's window scale is accepted (RFC 7323; ours stays
 * 0, so the receive window is TCP_WND as before), the first flight is 10 segments (RFC 6928,
 * patch 0005), and a connection may have up to TCP_SND_BUF written and unacknowledged. How much of
 * it one connection uses grows with its path, as Linux's autotuning: net/inst_svc.c lets a
 * service write up to twice what the congestion and peer windows allow in flight, and never less
 * than INST_SND_MIN; the core's send budget bounds the sum. 16 MiB: what one connection may hold
 * at most, more than Linux's default tcp_wmem maximum (4 MiB); 2 MiB, before, held a 20 MB download
 * over a 100 ms round trip to 2 MiB a round trip (1.80 s against 1.30 s now, and Linux's 1.40 s).
 */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 0
#define TCP_SND_BUF (16u * 1024 * 1024)
#define INST_SND_MIN (32u * TCP_MSS)     /* what every connection may write at first and at least */
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (16 * TCP_MSS)          /* for sockets only; lwIP wants it in 16 bits */
#define LWIP_TCP_CALC_INITIAL_CWND(mss) \
	((tcpwnd_size_t)LWIP_MIN(10U * (mss), LWIP_MAX(2U * (mss), 14600U)))
/* Segments of several MSS (patch 0022): what a service writes by reference (the site's files)
 * leaves lwIP in segments of up to 64 KiB when the NIC cuts them (net/inst_tso.c), so a 16 KiB
 * answer is one segment to make, send, hold and free, not twelve. inst_tcp_tso_max is 0 on a NIC
 * without TSO (ENA here): segments of one MSS, as before. */
#define LWIP_TCP_TSO 1
#define LWIP_HOOK_TCP_TSO_MAX(pcb) inst_tcp_tso_max(pcb)
#define LWIP_HOOK_TCP_SEG_GSO(pcb, mss) inst_tcp_seg_gso(mss)
unsigned inst_tcp_tso_max(const struct tcp_pcb *pcb);
void inst_tcp_seg_gso(unsigned short mss);

/* Congestion avoidance and ssthresh on loss (patch 0013's hooks, net/inst_cc.c): CUBIC (RFC 9438,
 * net/tcp_cubic.c: its 20 bytes of state in every pcb) or lwIP's Reno, as POLLUX_TCP_CC says.
 * Slow start is lwIP's. */
#include "../tcp_cubic.h"
#define LWIP_TCP_CC_STATE struct tcp_cubic
#define LWIP_HOOK_TCP_CC_ACK(pcb, acked) inst_cc_ack((pcb), (acked))
#define LWIP_HOOK_TCP_CC_LOSS(pcb, wnd, rto) inst_cc_loss((pcb), (wnd), (rto))
int inst_cc_ack(struct tcp_pcb *pcb, unsigned int acked);
unsigned int inst_cc_loss(struct tcp_pcb *pcb, unsigned int wnd, int rto);
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order segments: per connection at most TCP_OOSEQ_MAX_PBUFS segments and
 * TCP_OOSEQ_MAX_BYTES bytes; per core none at all while this instance's heap is three quarters
 * used (inst_ooseq_bytes, net/inst.c). Peers that never fill their holes cannot take the core's
 * memory, and the NIC layer's RX floor keeps them from taking its ring. */
#define TCP_OOSEQ_MAX_PBUFS 8
#define TCP_OOSEQ_MAX_BYTES (8 * TCP_MSS)
#define TCP_OOSEQ_BYTES_LIMIT(pcb) inst_ooseq_bytes()
#define TCP_OOSEQ_PBUFS_LIMIT(pcb) inst_ooseq_pbufs()
unsigned inst_ooseq_bytes(void);
unsigned short inst_ooseq_pbufs(void);
#define LWIP_TCP_TIMESTAMPS 0
/* SACK (RFC 2018), offered in the SYN-ACK when the peer's SYN offers it (not on a SYN cookie's:
 * net/inst_svc.c). Receiving: lwIP's own blocks for what waits out of order (the 4 ranges fit the
 * pcb in its 320-byte size class). Sending: recovery from the peer's blocks, RFC 6675, patch 0009. */
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_SACK_IN 1
/* lwIP's checksum while copying, off: with it tcp_write summed every byte written, also every byte
 * sent by reference (a site's file), for a checksum used only when the NIC does not complete TCP's
 * checksum itself, and igb, ixgbe, ENA (IPv4) and virtio-net with VIRTIO_NET_F_CSUM do: a 16 KiB
 * answer cost a pass over its 16 KiB, a 1 MiB one over its 1 MiB. Without that offload lwIP sums
 * each segment as it sends it (and again when it sends it again). */
#define LWIP_CHECKSUM_ON_COPY 0
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1  /* per frame: skip what the NIC checked; leave what it completes */

#define LWIP_STATS 1                    /* drop counters, read by `stats` */
#define LWIP_STATS_LARGE 1              /* 32-bit counters: a flood passes 65535 in seconds */
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 1
#define MIB2_STATS 1                    /* reassembly give-ups and echo replies are counted only here */
#define MEMP_STATS 1                    /* per pool, for `stats` (table "memory") */
#define SYS_STATS 0

#define LWIP_DEBUG 0

/* IPv4 identification per destination from a keyed hash (RFC 7739 5.3, net/inst_hash.c), not one
 * counter from 0 that tells every peer how much a core sends: patch 0004's hook. */
#define LWIP_HOOK_IP4_ID(dest) inst_ip4_id(ip4_addr_get_u32(dest))
unsigned short inst_ip4_id(unsigned int dst);

/* IPv6 (patch 0010): a flow label per flow from a keyed hash (RFC 6437), and the identification
 * of fragmented datagrams per destination as IPv4's (RFC 7739 5.3), both in net/inst_hash.c. */
struct ip6_addr;
#define LWIP_HOOK_IP6_FLOWLABEL(src, dest, nexth, p) inst_ip6_flowlabel((src), (dest), (nexth), (p))
#define LWIP_HOOK_IP6_FRAG_ID(dest) inst_ip6_frag_id(dest)
unsigned int inst_ip6_flowlabel(const struct ip6_addr *src, const struct ip6_addr *dest, unsigned char nexth,
				const struct pbuf *p);
unsigned int inst_ip6_frag_id(const struct ip6_addr *dest);
/* A Packet Too Big (patches 0011, 0018): the destination's path MTU falls, within RFC 8201's
 * bounds, and the TCP connection the quoted segment belongs to shrinks its segments to fit, what
 * it had queued included (net/inst_hash.c); other connections to that destination follow at their
 * next output. What else is larger than the path (ICMPv6, UDP) leaves in fragments (patch 0014). */
struct ip6_hdr;
struct netif;
#define LWIP_HOOK_ND6_PTB(quoted, len, mtu, pmtu, inp) inst_ip6_ptb((quoted), (len), (mtu), (pmtu), (inp))
void inst_ip6_ptb(const struct ip6_hdr *quoted, unsigned short len, unsigned int mtu, unsigned short pmtu,
		  struct netif *inp);

/* RFC 6528 initial sequence numbers over the four-tuple of either family (net/lwip_port.c). */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
	inst_tcp_isn((local_ip), (local_port), (remote_ip), (remote_port))
unsigned int inst_tcp_isn(const struct ip_addr *lip, unsigned short lport, const struct ip_addr *rip,
			  unsigned short rport);

#endif
