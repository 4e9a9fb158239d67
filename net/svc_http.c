/* The HTTP service: net/http.c's responder on POLLUX_HTTP_PORT, through the service API. */
#include "service.h"
#include "http.h"

struct hconn {
	bool fin;               /* the peer closed: close once the response in progress is written */
	struct http_stats counted;      /* h.stats as already added to the core's counts */
	struct http_conn h;
};

/* Requests count in the core's totals as they are answered, not when the connection ends. */
static void count(struct svc_conn *c, struct hconn *s)
{
	c->stats->requests += s->h.stats.requests - s->counted.requests;
	c->stats->ok += s->h.stats.resp_2xx - s->counted.resp_2xx;
	c->stats->redirected += s->h.stats.resp_3xx - s->counted.resp_3xx;
	c->stats->errors += s->h.stats.resp_4xx - s->counted.resp_4xx;
	c->stats->bad += s->h.stats.bad_requests - s->counted.bad_requests;
	s->counted = s->h.stats;
	c->partial = s->h.len != 0;     /* part of a request is buffered: its time limit runs */
}

/* http.c's writer: bodies are static, so sent by reference; headers live on the stack, copied. */
static int hconn_write(void *ctx, const void *p, size_t n, bool copy)
{
	return (int)svc_send(ctx, p, n, (copy ? SVC_COPY : 0) | SVC_MORE);
}

static int hconn_accept(struct svc_conn *c, void *state)
{
	struct hconn *s = state;
	(void)c;
	http_conn_init(&s->h);
	return 0;
}

static long hconn_data(struct svc_conn *c, void *state, const void *p, size_t len)
{
	struct hconn *s = state;
	if (!p) {
		s->fin = true;
		return http_pending(&s->h) ? 0 : SVC_CLOSE;
	}
	struct http_out out = { c, hconn_write, 0 };
	int r = http_input(&s->h, p, len, &out);
	count(c, s);
	return r == HTTP_CLOSE ? SVC_CLOSE : r;
}

/* A response cut short by a full send buffer resumes here, even after the peer's FIN. */
static int hconn_sent(struct svc_conn *c, void *state, size_t len)
{
	struct hconn *s = state;
	(void)len;
	if (!http_pending(&s->h))
		return 0;
	struct http_out out = { c, hconn_write, 0 };
	int r = http_input(&s->h, "", 0, &out);
	count(c, s);
	if (r == HTTP_CLOSE)
		return SVC_CLOSE;
	return s->fin && !http_pending(&s->h) ? SVC_CLOSE : 0;
}


const struct svc svc_http = {
	.tcp_port = POLLUX_HTTP_PORT,
	.conn_size = sizeof(struct hconn),
	.init = http_init,
	.accept = hconn_accept,
	.data = hconn_data,
	.sent = hconn_sent,
};
