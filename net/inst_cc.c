/* Congestion avoidance and ssthresh on loss (lwIP patch 0013's hooks): CUBIC (RFC 9438,
 * net/tcp_cubic.c) or lwIP's Reno, as POLLUX_TCP_CC says. */
#include "config_check.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

/* The instance's choice: the config's, set otherwise only by tests. */
int inst_tcp_cc = POLLUX_TCP_CC;

int inst_cc_ack(struct tcp_pcb *pcb, u32_t acked)
{
	if (inst_tcp_cc != POLLUX_TCP_CC_CUBIC)
		return 0;
	pcb->cwnd = cubic_ack(&pcb->cc, pcb->cwnd, acked, pcb->mss, sys_now());
	return 1;
}

u32_t inst_cc_loss(struct tcp_pcb *pcb, u32_t wnd, int rto)
{
	if (inst_tcp_cc != POLLUX_TCP_CC_CUBIC)
		return wnd / 2;
	return cubic_loss(&pcb->cc, wnd, rto);
}
