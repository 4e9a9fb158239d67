/* test_lwip_inst: two renamed copies of lwIP in one program keep separate state and talk TCP/UDP. */
#include "test.h"
#include "tso.h"
#include "net/inst.h"
#include "net/service.h"

/* The client side drives instance 1 through its renamed raw API. */
#define tcp_new lwip1_tcp_new
#define tcp_connect lwip1_tcp_connect
#define tcp_write lwip1_tcp_write
#define tcp_output lwip1_tcp_output
#define tcp_recv lwip1_tcp_recv
#define tcp_recved lwip1_tcp_recved
#define tcp_close lwip1_tcp_close
#define tcp_arg lwip1_tcp_arg
#define pbuf_free lwip1_pbuf_free
#define pbuf_alloc lwip1_pbuf_alloc
#define pbuf_copy_partial lwip1_pbuf_copy_partial
#define udp_new lwip1_udp_new
#define udp_sendto lwip1_udp_sendto
#define udp_recv lwip1_udp_recv
#define udp_bind lwip1_udp_bind
#define ip_addr_any lwip1_ip_addr_any
#include "lwip/tcp.h"
#include "lwip/udp.h"

extern const struct net_inst lwip0_net_inst, lwip1_net_inst;


extern uint32_t now_ms;          /* tests/unit/host/lwip_port.c: the instances' clock */

/*
 * ---- a wire between the two instances: frames queued, delivered from the loop ----
 * Like a NIC, it reads pieces sent in place only when it delivers them (so lwIP must leave them
 * alone until tx_done), completes checksums the sender left partial, and cuts a segmentation frame
 * into its segments (tests/unit/host/tso.h, strict: a frame it refuses fails the test).
 */
struct frame { uint32_t len; uint8_t data[1600]; int to; struct nic_frag f[16]; unsigned nf; struct nic_txo o; void *ref; };
static struct frame q[4096];
static unsigned qh, qt;
static int released, delivered, in_place, done_refs, offloaded;
static bool corrupt_udp;                /* flip a payload bit of UDP frames on the wire */
static int ring_per_ms = -1;            /* frames instance 0's ring takes a millisecond; -1: all */
static int ring_room;
static unsigned rx_flags;               /* NIC_RX_* the receiving NIC reports */
static int tso_frames, tso_segs;        /* segmentation frames on the wire, and their segments */

static int tx(uint32_t core, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref)
{
	uint32_t len = 0;
	for (unsigned i = 0; i < n; i++)
		len += f[i].len;
	if (len > (o && o->gso ? 0xffffu : 1600u) || n > 16 || (o && o->gso && !ref))
		return -2;              /* never fits: dropped */
	if (qt - qh == 4096 || (core == 0 && ring_per_ms >= 0 && ring_room-- <= 0))
		return -1;              /* no room now */
	struct frame *fr = &q[qt++ % 4096];
	fr->len = len;
	fr->to = core == 0 ? 1 : 0;
	fr->o = o ? *o : (struct nic_txo){ 0 };
	fr->ref = ref;
	fr->nf = n;
	memcpy(fr->f, f, n * sizeof(*f));
	if (!ref) {             /* copy now: the caller may reuse its memory at once */
		for (unsigned i = 0, off = 0; i < n; off += f[i].len, i++)
			memcpy(fr->data + off, f[i].p, f[i].len);
		fr->nf = 0;
		return 0;
	}
	in_place++;
	return 1;
}

/* The NIC's side of a TX frame: gather pieces sent in place, complete a partial checksum. */
static void wire_read(struct frame *fr)
{
	for (unsigned i = 0, off = 0; i < fr->nf; off += fr->f[i].len, i++)
		memcpy(fr->data + off, fr->f[i].p, fr->f[i].len);
	if (fr->o.csum_start) {
		uint32_t sum = 0;
		for (uint32_t i = fr->o.csum_start; i < fr->len; i += 2)
			sum += (uint32_t)(fr->data[i] << 8 | (i + 1 < fr->len ? fr->data[i + 1] : 0));
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		uint16_t c = (uint16_t)~sum;
		fr->data[fr->o.csum_start + fr->o.csum_offset] = (uint8_t)(c >> 8);
		fr->data[fr->o.csum_start + fr->o.csum_offset + 1] = (uint8_t)c;
		offloaded++;
	}
	if (fr->ref) {
		(fr->to ? &lwip0_net_inst : &lwip1_net_inst)->tx_done(fr->ref);
		done_refs++;
	}
}

static void release(void *frame, void *arg)
{
	(void)arg;
	free(frame);
	released++;
}

/* A frame into the instance it is for, from a buffer of its own as a NIC's. */
static void deliver(const uint8_t *f, uint32_t len, void *arg)
{
	void *buf = malloc(len);                /* the NIC's DMA buffer */
	memcpy(buf, f, len);
	if (corrupt_udp && len > 60 && ((uint8_t *)buf)[14 + 9] == 17)
		((uint8_t *)buf)[len - 1] ^= 1;
	delivered++;
	(*(int *)arg ? &lwip1_net_inst : &lwip0_net_inst)->input(buf, len, rx_flags, release, NULL);
}

/* A segmentation frame: its pieces gathered, cut into segments, each delivered; then tx_done. */
static void wire_tso(struct frame *fr)
{
	static uint8_t f[0x10000];
	char why[160];
	for (unsigned i = 0, off = 0; i < fr->nf; off += fr->f[i].len, i++)
		memcpy(f + off, fr->f[i].p, fr->f[i].len);
	int n = tso_segment(f, fr->len, fr->o.gso == NIC_GSO_TCP4 ? TSO_V4 : TSO_V6, fr->o.gso_size, fr->o.hdr_len,
			    fr->o.csum_start, fr->o.csum_offset, deliver, &fr->to, why, sizeof(why));
	if (n < 0)
		fprintf(stderr, "  segmentation frame refused: %s\n", why);
	CHECK(n > 1);
	tso_frames++;
	tso_segs += n > 0 ? n : 0;
	(fr->to ? &lwip0_net_inst : &lwip1_net_inst)->tx_done(fr->ref);
	done_refs++;
}

static void run(int ms)
{
	for (int i = 0; i < ms; i++) {
		while (qh != qt) {
			struct frame *fr = &q[qh++ % 4096];
			if (fr->o.gso) {
				wire_tso(fr);
				continue;
			}
			wire_read(fr);
			deliver(fr->data, fr->len, &fr->to);
		}
		now_ms++;
		ring_room = ring_per_ms;
		lwip0_net_inst.poll();
		lwip1_net_inst.poll();
		lwip0_net_inst.tx_end();        /* the loop's end, before the doorbell (net.c) */
		lwip1_net_inst.tx_end();
	}
}

static uint8_t sent[100000], got[100000];
static size_t nsent, ngot;
static int closed;

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (!p) {
		closed = 1;
		return ERR_OK;
	}
	ngot += pbuf_copy_partial(p, got + ngot, p->tot_len, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	CHECK_EQ(err, ERR_OK);
	tcp_recv(pcb, cli_recv);
	return ERR_OK;
}

/* All of sent through client c to the echo service and back into got, within rounds ms. */
static void echo_all(struct tcp_pcb *c, int rounds)
{
	for (int round = 0; round < rounds && ngot < sizeof(sent); round++) {
		size_t room = tcp_sndbuf(c), left = sizeof(sent) - nsent;
		size_t n = room < left ? room : left;
		if (n && tcp_write(c, sent + nsent, (u16_t)(n > 60000 ? 60000 : n), TCP_WRITE_FLAG_COPY) == ERR_OK) {
			nsent += n > 60000 ? 60000 : n;
			tcp_output(c);
		}
		run(1);
	}
	CHECK_EQ(ngot, sizeof(sent));
	CHECK(memcmp(sent, got, sizeof(sent)) == 0);
}

static uint8_t udp_got[600];
static int udp_len = -1;
static void cli_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	(void)arg, (void)pcb, (void)addr, (void)port;
	udp_len = pbuf_copy_partial(p, udp_got, sizeof(udp_got), 0);
	pbuf_free(p);
}

void *host_mem_grow(uint32_t core, size_t bytes);

static void two_instances(void)
{
	struct net_inst_cfg a = { .core = 0, .mac = {2, 0, 0, 0, 0, 1}, .ip = PP_HTONL(0xC6120002),
				  .mask = PP_HTONL(0xFFFFFF00), .gw = 0, .mem_budget = 64 << 20,
				  .mem_grow = host_mem_grow, .svc = &svc_echo, .csum_offload = true, .tso_max = 0xffff,
				  .tx = tx };
	struct net_inst_cfg b = a;
	b.core = 1;
	b.mac[5] = 2;
	b.ip = PP_HTONL(0xC6120003);
	b.svc = NULL;
	b.csum_offload = false;         /* its checksums are lwIP's own, checked by instance 0 */
	b.tso_max = 0;
	CHECK_EQ(lwip0_net_inst.init(&a), 0);
	CHECK_EQ(lwip1_net_inst.init(&b), 0);
	CHECK_EQ(lwip0_net_inst.addr(NULL, NULL), PP_HTONL(0xC6120002));
	CHECK_EQ(lwip1_net_inst.addr(NULL, NULL), PP_HTONL(0xC6120003));

	/* TCP: 100 kB through instance 1's client to instance 0's echo, back byte for byte. */
	for (size_t i = 0; i < sizeof(sent); i++)
		sent[i] = (uint8_t)(i * 7 + (i >> 8));
	struct tcp_pcb *c = tcp_new();
	ip_addr_t dst;
	IP_ADDR4(&dst, 198, 18, 0, 2);
	CHECK_EQ(tcp_connect(c, &dst, 7, cli_connected), ERR_OK);
	run(50);
	echo_all(c, 2000);
	CHECK_EQ(tcp_close(c), ERR_OK);
	run(100);
	CHECK(closed);

	/* UDP echo. */
	struct udp_pcb *u = udp_new();
	CHECK_EQ(udp_bind(u, IP_ADDR_ANY, 5000), ERR_OK);
	udp_recv(u, cli_udp, NULL);
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 512, PBUF_RAM);
	for (int i = 0; i < 512; i++)
		((uint8_t *)p->payload)[i] = (uint8_t)(255 - i);
	CHECK_EQ(udp_sendto(u, p, &dst, 7), ERR_OK);
	pbuf_free(p);
	run(10);
	CHECK_EQ(udp_len, 512);
	CHECK_EQ(udp_got[0], 255);
	CHECK_EQ(udp_got[511], (uint8_t)(255 - 511));

	/* A corrupted datagram is dropped by the checksum check, unless the NIC says it checked it
	 * (NIC_RX_CSUM_OK: lwIP then trusts it, which is what the flag means). */
	corrupt_udp = true;
	for (int ok = 0; ok < 2; ok++) {
		rx_flags = ok ? NIC_RX_CSUM_OK : 0;
		udp_len = -1;
		p = pbuf_alloc(PBUF_TRANSPORT, 100, PBUF_RAM);
		memset(p->payload, 'x', 100);
		CHECK_EQ(udp_sendto(u, p, &dst, 7), ERR_OK);
		pbuf_free(p);
		run(10);
		CHECK_EQ(udp_len, ok ? 100 : -1);
	}
	corrupt_udp = false;
	rx_flags = 0;

	/* Separate state: only instance 0 accepted a connection and echoed a datagram. */
	struct net_inst_stats s0, s1;
	lwip0_net_inst.stats(&s0);
	lwip1_net_inst.stats(&s1);
	CHECK_EQ(s0.tcp_accepted, 1);
	CHECK_EQ(s1.tcp_accepted, 0);
	CHECK_EQ(s0.udp_rx, 2);
	CHECK_EQ(s1.udp_rx, 0);
	CHECK_EQ(s0.tcp_open, 0);
	CHECK(s0.rx_frames > 50 && s1.rx_frames > 50);
	CHECK_EQ(s0.rx_frames + s1.rx_frames, (uint64_t)delivered);
	/* Zero-copy RX: every frame handed in was given back once lwIP was done with it. */
	run(1000);
	CHECK_EQ(released, delivered);
	/* Zero-copy TX: frames went in place, each handed back once; instance 0's checksums were
	 * completed by the wire and instance 1 (checking in software) accepted every frame. */
	CHECK(in_place > 100);
	CHECK_EQ(done_refs, in_place);
	CHECK(offloaded > 10);
	/* The echo went back in segmentation frames of several segments (all but a few of its 69),
	 * each cut by the wire and accepted; instance 0 counts every segment it sent as a frame. */
	CHECK(tso_frames > 5 && tso_segs > 2 * tso_frames && tso_segs > 60);
	CHECK_EQ(s0.tx_frames, s1.rx_frames);
	CHECK_EQ(s1.rx_refused, 0);
	CHECK_EQ(s0.udp_drop, 0);
	CHECK_EQ(s0.csum_err, 1);               /* the corrupted datagram, counted where dropped */
	CHECK_EQ(s1.csum_err, 0);
}

/*
 * A ring with room for 2 frames a millisecond on the echo side: what does not fit waits in the
 * instance's backlog, in order, instead of being dropped; 100 kB comes back intact, no frame
 * counted as dropped, and every frame that waited was sent in the end.
 */
static void tx_backlog(void)
{
	struct net_inst_stats s0, s;
	lwip0_net_inst.stats(&s0);
	ngot = nsent = 0;
	closed = 0;
	memset(got, 0, sizeof(got));
	struct tcp_pcb *c = tcp_new();
	ip_addr_t dst;
	IP_ADDR4(&dst, 198, 18, 0, 2);
	CHECK_EQ(tcp_connect(c, &dst, 7, cli_connected), ERR_OK);
	run(50);
	ring_per_ms = 2;
	int tso0 = tso_frames;
	echo_all(c, 20000);
	lwip0_net_inst.stats(&s);
	CHECK(s.tx_waited - s0.tx_waited > 20);         /* bursts of a window's worth waited */
	CHECK_EQ(s.tx_drop_ring, s0.tx_drop_ring);      /* none was lost for it */
	CHECK(tso_frames - tso0 > 5);                   /* segmentation frames waited whole */
	ring_per_ms = -1;
	CHECK_EQ(tcp_close(c), ERR_OK);
	run(100);
	CHECK(closed);
	run(1000);
	CHECK_EQ(released, delivered);
	CHECK_EQ(done_refs, in_place);                  /* every frame that waited went out */
}

TEST_MAIN("test_lwip_inst: proves two renamed lwIP copies keep separate state, echo 100 kB of TCP and a UDP datagram byte for byte, release every zero-copy RX frame, send in place until tx_done, leave checksums to an offloading NIC correctly, send a connection's segments as segmentation frames that a strict wire cuts back into them, and keep frames the TX ring has no room for in order until it has",
	  two_instances(); tx_backlog())
