/* The echo service: TCP and UDP on POLLUX_ECHO_PORT, everything received goes straight back. */
#include "service.h"

/* Echo what fits in the send buffer (copied: the received bytes are the NIC's, only lent). The
 * rest stays unconsumed, so unacknowledged: it comes again after `sent`. */
static long echo_data(struct svc_conn *c, void *state, const void *p, size_t len)
{
	(void)state;
	if (!p)
		return SVC_CLOSE;       /* the peer is done and everything it sent is echoed */
	return (long)svc_send(c, p, len, SVC_COPY);
}

static void echo_udp(struct svc_udp *u, const void *p, size_t len, const struct svc_peer *from)
{
	svc_udp_send(u, p, len, from);
}

const struct svc svc_echo = {
	.tcp_port = POLLUX_ECHO_PORT,
	.udp_port = POLLUX_ECHO_PORT,
	.data = echo_data,
	.udp = echo_udp,
};
