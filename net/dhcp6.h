/* A DHCPv6 client for one address (RFC 8415, IA_NA): its messages and its state machine, with no
 * lwIP in it (net/inst_dhcp6.c carries its messages on core 0's instance); the host test drives
 * it with crafted messages. Times are milliseconds of the caller's clock. */
#ifndef POLLUX_NET_DHCP6_H
#define POLLUX_NET_DHCP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547

/* Message types (RFC 8415 7.3) and the options this client sends or reads (21). */
#define DHCP6_SOLICIT 1
#define DHCP6_ADVERTISE 2
#define DHCP6_REQUEST 3
#define DHCP6_RENEW 5
#define DHCP6_REBIND 6
#define DHCP6_REPLY 7
#define DHCP6_DECLINE 9
#define DHCP6_OPT_CLIENTID 1
#define DHCP6_OPT_SERVERID 2
#define DHCP6_OPT_IA_NA 3
#define DHCP6_OPT_IAADDR 5
#define DHCP6_OPT_ORO 6
#define DHCP6_OPT_PREFERENCE 7
#define DHCP6_OPT_ELAPSED_TIME 8
#define DHCP6_OPT_STATUS_CODE 13
#define DHCP6_OPT_SOL_MAX_RT 82
#define DHCP6_ST_SUCCESS 0
#define DHCP6_ST_NOADDRSAVAIL 2
#define DHCP6_ST_NOBINDING 3

#define DHCP6_DUID_MAX 130      /* a DUID is 128 bytes at most (RFC 8415 11.1), 2 more of slack */
#define DHCP6_MSG_MAX 256       /* what this client sends fits */
#define DHCP6_INFINITE 0xffffffffu

enum dhcp6_state {
	DHCP6_IDLE,             /* not started */
	DHCP6_SOLICITING,       /* Solicit sent, gathering Advertises */
	DHCP6_REQUESTING,       /* Request sent to the chosen server */
	DHCP6_BOUND,            /* an address, until T1 */
	DHCP6_RENEWING,         /* Renew to our server, until T2 */
	DHCP6_REBINDING,        /* Rebind to any server, until the address's valid lifetime ends */
	DHCP6_DECLINING,        /* the address was a duplicate (DAD): Decline, then Solicit again */
};

/* What the caller must do after dhcp6_input or dhcp6_tick (bits). */
#define DHCP6_EV_SEND 1         /* send the message left in the caller's buffer to ff02::1:2 */
#define DHCP6_EV_BOUND 2        /* add or update addr with its lifetimes (a new lease or a renewal) */
#define DHCP6_EV_LOST 4         /* remove addr: expired, declined, or replaced */

struct dhcp6_stats {
	uint64_t tx;                    /* messages sent */
	uint64_t rx;                    /* Advertises and Replies taken */
	uint64_t drop;                  /* dropped: malformed, unexpected, not ours, refusing */
	uint64_t late;                  /* ignored: more answers to the exchange before, which one
					 * already ended (a retransmission was answered too) */
	uint64_t bound;                 /* leases obtained or renewed */
	uint64_t lost;                  /* addresses given up (expired, declined) */
};

struct dhcp6c {
	uint8_t duid[10];               /* DUID-LL (type 3, Ethernet) from the MAC */
	uint32_t iaid;
	uint32_t (*rand)(void);
	enum dhcp6_state state;
	uint32_t xid;                   /* 24 bits, new for each exchange */
	uint32_t prev_xid;              /* the exchange before's; bit 31: none */
	uint64_t start;                 /* the exchange's first transmission (elapsed time) */
	uint64_t next;                  /* its next transmission */
	uint64_t mrd_end;               /* Renew: T2; Rebind: the end of the valid lifetime */
	uint32_t rt, rc;                /* the retransmission timeout in ms, messages sent */
	uint32_t sol_max_rt;            /* ms; a server's SOL_MAX_RT option may change it */
	uint8_t sid[DHCP6_DUID_MAX];    /* the server chosen (Advertise) or that last answered */
	uint16_t sid_len;
	int16_t best_pref;              /* Soliciting: the best Advertise's preference, -1: none yet */
	uint8_t addr[16];               /* offered (Soliciting, Requesting) or leased */
	uint32_t pref_s, valid_s;       /* the lease's lifetimes in seconds, as the Reply gave them */
	uint64_t t1, t2, pref_end, valid_end;   /* absolute; UINT64_MAX: never */
	struct dhcp6_stats st;
};

/* Set up c for the interface with this MAC; rand gives 32 random bits. Idle until dhcp6_start. */
void dhcp6_init(struct dhcp6c *c, const uint8_t mac[6], uint32_t (*rand)(void));
/* Begin (a Solicit after a random delay of up to 1 s); nothing if already running. */
void dhcp6_start(struct dhcp6c *c, uint64_t now);
/* A message received on port 546, m[0..len). Returns DHCP6_EV_* (SEND with the message built in
 * out[0..*out_len), out DHCP6_MSG_MAX bytes); anything malformed or unexpected is counted in
 * st.drop and changes nothing. */
unsigned dhcp6_input(struct dhcp6c *c, const uint8_t *m, size_t len, uint64_t now, uint8_t *out, size_t *out_len);
/* Call at least every second, or at c->next: timers and retransmissions, as dhcp6_input. */
unsigned dhcp6_tick(struct dhcp6c *c, uint64_t now, uint8_t *out, size_t *out_len);
/* The leased address failed duplicate address detection: Decline it (RFC 8415 18.2.8). */
unsigned dhcp6_dad_failed(struct dhcp6c *c, uint64_t now, uint8_t *out, size_t *out_len);
/* The link came back (perhaps on another network): with an address, Rebind it at once to learn
 * whether it is still good here (RFC 8415 18.2.12); the message goes at the next dhcp6_tick. */
void dhcp6_link_up(struct dhcp6c *c, uint64_t now);
/* When dhcp6_tick next has work (ms), for a caller that sleeps. */
uint64_t dhcp6_due(const struct dhcp6c *c);

#endif
