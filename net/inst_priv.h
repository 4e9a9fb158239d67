/* Shared between the files linked into one lwIP instance (net/inst.c, net/inst_http.c). */
#ifndef POLLUX_INST_PRIV_H
#define POLLUX_INST_PRIV_H

#include "inst.h"
#include "lwip/tcp.h"

/* inst.c: listen on port in this instance, accepting with fn. 0 or an lwIP err_t. */
int inst_listen(uint16_t port, tcp_accept_fn fn);
/* inst_http.c: the HTTP service on port, counting into stats. */
int inst_http_start(uint16_t port, struct net_inst_stats *stats);
void inst_http_stats(struct net_inst_stats *out);

#endif
