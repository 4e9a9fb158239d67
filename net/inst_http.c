/* The HTTP service inside one core's lwIP instance: raw-API callbacks feeding net/http.c,
 * answering from the receive callback while the request is still in cache. Linked per core. */
#include "inst_priv.h"
#include "http.h"

#include "lwip/mem.h"
#include "lwip/tcp.h"

struct hconn {
	struct tcp_pcb *pcb;
	struct pbuf *in;                /* received and not yet consumed (backpressure) */
	uint16_t in_off;                /* consumed bytes at the front of in */
	bool closing;
	struct http_conn h;
};

static struct http_stats hstats;        /* this core's totals (closed connections included) */
static struct net_inst_stats *nst;

static int out_write(void *ctx, const void *p, size_t n, bool copy)
{
	struct tcp_pcb *pcb = ctx;
	size_t room = tcp_sndbuf(pcb);
	if (room > 0xffff)
		room = 0xffff;
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	/* Bodies are static: send them by reference. Headers live on the stack: copy them. */
	if (tcp_write(pcb, p, (u16_t)n, (u8_t)(copy ? TCP_WRITE_FLAG_COPY : 0) | TCP_WRITE_FLAG_MORE) != ERR_OK)
		return -1;
	return (int)n;
}

static void hconn_free(struct hconn *c)
{
	http_stats_add(&hstats, &c->h.stats);
	if (c->in)
		pbuf_free(c->in);
	mem_free(c);
	nst->tcp_open--;
}

/* Detach from lwIP and close. Input after the closing response is never parsed, but it is
 * acknowledged: lwIP answers a close with unread data by a reset, which could destroy the
 * response still in flight. */
static void hconn_close(struct hconn *c)
{
	struct tcp_pcb *pcb = c->pcb;
	if (c->in) {
		tcp_recved(pcb, (u16_t)(c->in->tot_len - c->in_off));
		pbuf_free(c->in);
		c->in = NULL;
	}
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	hconn_free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

/* Feed what is buffered to the parser until it is all consumed or the send buffer is full. */
static void hconn_run(struct hconn *c)
{
	struct http_out out = { c->pcb, out_write, 0 };
	int r = 0;
	uint32_t consumed = 0;
	while (c->in && !c->closing) {
		struct pbuf *p = c->in;
		size_t len = p->len - c->in_off;
		r = http_input(&c->h, (const char *)p->payload + c->in_off, len, &out);
		if (r == HTTP_CLOSE) {
			c->closing = true;
			break;
		}
		consumed += (uint32_t)r;
		c->in_off = (uint16_t)(c->in_off + r);
		if ((size_t)r < len)
			break;          /* send buffer full: resume from tcp_sent */
		c->in = pbuf_dechain(p);        /* keep the rest, free this one pbuf */
		pbuf_free(p);
		c->in_off = 0;
	}
	/* A response cut short by a full send buffer resumes here, even after the peer's FIN. */
	if (!c->in && http_pending(&c->h) && http_input(&c->h, "", 0, &out) == HTTP_CLOSE)
		c->closing = true;
	if (consumed)
		tcp_recved(c->pcb, (u16_t)consumed);
	tcp_output(c->pcb);
	if (c->closing && !http_pending(&c->h))
		hconn_close(c);
}

static err_t h_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct hconn *c = arg;
	(void)err;
	if (!c) {
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {               /* the client closed: finish the response in progress, then close */
		c->closing = true;
		if (!http_pending(&c->h))
			hconn_close(c);
		return ERR_OK;
	}
	if (c->in)
		pbuf_cat(c->in, p);
	else
		c->in = p;
	hconn_run(c);
	return ERR_OK;
}

static err_t h_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb, (void)len;
	struct hconn *c = arg;
	if (c && (c->in || http_pending(&c->h)))
		hconn_run(c);
	return ERR_OK;
}

static void h_err(void *arg, err_t err)
{
	struct hconn *c = arg;      /* the pcb is already gone */
	if (err == ERR_RST || err == ERR_ABRT)
		nst->tcp_reset++;
	if (c)
		hconn_free(c);
}

static err_t h_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct hconn *c = mem_malloc(sizeof(*c));
	if (!c) {
		nst->tcp_drop_mem++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	c->in = NULL;
	c->in_off = 0;
	c->closing = false;
	http_conn_init(&c->h);
	nst->tcp_accepted++;
	nst->tcp_open++;
	tcp_nagle_disable(pcb);
	tcp_arg(pcb, c);
	tcp_recv(pcb, h_recv);
	tcp_sent(pcb, h_sent);
	tcp_err(pcb, h_err);
	return ERR_OK;
}

int inst_http_start(uint16_t port, struct net_inst_stats *stats)
{
	nst = stats;
	return inst_listen(port, h_accept);
}

void inst_http_stats(struct net_inst_stats *out)
{
	out->http_requests = hstats.requests;
	out->http_2xx = hstats.resp_2xx;
	out->http_4xx = hstats.resp_4xx;
	out->http_bad = hstats.bad_requests;
}
