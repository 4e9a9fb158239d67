/* The clients of the HTTP end-to-end tests (tests/unit/nic_http.c): lwIP instance copy 4 (not in
 * lwip_insts[]) on the device model's wire, with raw-API TCP connections asking GET / and GET
 * /hello in turn. No lwIP types here, so the harness itself can include kernel.h. */
#ifndef POLLUX_NIC_HTTP_CLIENT_H
#define POLLUX_NIC_HTTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/inst.h"

/* One connection: what it asked and what came back. */
struct hc_conn {
	void *pcb;                      /* the client's tcp_pcb; NULL once gone */
	uint16_t port;
	bool connected, fin, err, err_rst;      /* err_rst: the error was the server's reset */
	uint32_t target, asked, answered;
	uint32_t every_ms;              /* at most one request this often (0: each as the last is answered) */
	uint64_t next_at;               /* host tick of the next request */
	uint32_t bad;                   /* bytes that were not the next expected answer */
	uint32_t pos;                   /* bytes of the answer in progress matched so far */
};
#define HC_MAX 512
/* Request 2k and 2k + 1 of every connection. */
extern const char *const hc_requests[2];
extern struct hc_conn hc_conns[HC_MAX];
extern uint32_t hc_nconns;

/* Bring up the client instance: ip and mask in host order; tx as in struct net_inst_cfg. answers
 * [0] and [1]: the exact responses to request 2k (GET /) and 2k + 1 (GET /hello). */
int hc_init(const uint8_t mac[6], uint32_t ip, uint32_t mask,
	    int (*tx)(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref),
	    const char *answers[2], const uint32_t answer_len[2]);
/* A frame from the wire (copied). */
void hc_input(const void *frame, uint32_t len);
/* Ask the wire who has ip (host order): an ARP request. */
void hc_arp(uint32_t ip);
/* The client's timers. */
void hc_poll(void);
/* Open n connections from ports port0.. to server ip:port (host order), each to ask target
 * requests, one at most every_ms (ticks_per_ms converts), staggered from now. Returns the index
 * of the first; -1 when one could not be opened. */
int hc_open(uint32_t n, uint16_t port0, uint32_t ip, uint16_t port, uint32_t target, uint32_t every_ms,
	    uint64_t now, uint64_t ticks_per_ms);
/* Each connection whose last answer is in and whose time has come asks its next request. */
void hc_step(uint64_t now, uint64_t ticks_per_ms);
/* Finished: every request answered, or an error, a close, or a wrong byte. */
bool hc_done(const struct hc_conn *k);
/* Close every open connection; returns how many the stack refused to close. */
uint32_t hc_close_all(void);
/* The lwIP heap bytes in use of instance copy i (0..4). */
uint32_t hc_heap_used(uint32_t i);
/* The TCP segments instance i's lwIP sent (tcp_output_segment: data, SYN and FIN, not bare ACKs). */
uint32_t hc_tcp_xmit(uint32_t i);

extern const struct net_inst lwip4_net_inst;

#endif
