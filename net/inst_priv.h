/* Shared between the files linked into one lwIP instance (net/inst.c, net/inst_svc.c). */
#ifndef POLLUX_INST_PRIV_H
#define POLLUX_INST_PRIV_H

#include "inst.h"
#include "lwip/err.h"
#include "lwip/netif.h"

/* inst_svc.c: ERR_ARG when s (NULL: none) breaks its contract (net/service.h), else ERR_OK. */
int inst_svc_check(const struct svc *s);
/* inst_svc.c: listen for s in this instance, counting into stats, with at most conns_max
 * connections open (0: as many as half of budget bytes holds) and send_max bytes written and not
 * acknowledged (0: half of budget). 0 or an lwIP err_t. */
int inst_svc_start(const struct svc *s, struct net_inst_stats *stats, uint32_t conns_max, uint64_t budget,
		   uint64_t send_max);
/* inst_svc.c: the connection cap applied and the memory of one idle connection. */
void inst_svc_mem(struct net_inst_mem *out);
/* inst_svc.c: a SYN that ended a TIME_WAIT connection of the same ports is input again, once the
 * segment that carried it is done (call after every netif input). */
void inst_svc_reinput(struct netif *nif);
/* inst_svc.c: the service's counts into out. */
void inst_svc_stats(struct net_inst_stats *out);


/* inst_hash.c: the index of this instance's connections (lwipopts.h's pcb hooks). Set up with a
 * bucket per expected connection (rounded up to a power of two, 1024 at least) from alloc.
 * 0 or ERR_MEM. */
int inst_hash_init(uint32_t conns, void *(*alloc)(size_t bytes));
struct inst_hash_stats {
	uint64_t buckets, entries;      /* entries: pcbs indexed (active and TIME-WAIT) */
	uint64_t time_wait;             /* of which in TIME-WAIT */
	uint64_t lookups, probes;       /* segments looked up, pcbs compared for them */
};
void inst_hash_stats(struct inst_hash_stats *out);

#endif
