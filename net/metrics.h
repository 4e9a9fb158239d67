/* What the management port's /metrics reads (net/svc_metrics.c): one core's counters at a time,
 * copied from where that core keeps them, without stopping it. */
#ifndef POLLUX_NET_METRICS_H
#define POLLUX_NET_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "inst.h"

struct net_sample {
	struct net_inst_stats s;        /* the core's lwIP instance and service */
	struct net_inst_mem m;          /* its network memory */
	struct nic_qstats q;            /* its NIC queue (zero when it owns none) */
	int32_t queue;                  /* -1: no queue of its own */
	struct {
		uint64_t steered, forwarded, xring_drops, fwd_waits, fwd_drops, frag_drops, not_up, runts, bad_ext;
		uint64_t loops;
	} c;                            /* net.c's own counts and the core's loop count */
};

/* Cores that may serve (some may not be up yet). */
uint32_t net_cores(void);
/* Core `core`'s counters into out; false when it is not serving. */
bool net_sample(uint32_t core, struct net_sample *out);

#endif
