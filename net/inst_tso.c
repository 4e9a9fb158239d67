/*
 * TCP segmentation offload from lwIP's segments (net_inst_cfg.tso_max, the NIC's caps.tso_max).
 * lwIP cuts what a connection sends into segments of one MSS, and each used to be a frame of its
 * own: a descriptor chain, a slot, a completion, and on QEMU the device's whole path per 1.4 KB.
 * The NIC can take one header and up to 64 KiB behind it and make the segments itself. So the
 * segments of one connection that lwIP hands to the netif one after another (a window's worth
 * after an ACK, a response of many segments) are held here and leave as one frame.
 *
 * A segment joins the batch when it continues it: the same connection (the same Ethernet, IP and
 * TCP header but for lengths, identification, checksums, sequence number, ACK, window and flags),
 * the next sequence number, flags ACK and PSH only (a FIN may end the frame: nothing joins behind
 * it, and the NIC sets it on the last segment only), every segment before it full (the first's
 * payload, gso_size) and itself no longer; the frame stays within tso_max, TSO_SEGS segments and
 * the NIC's pieces. Anything else (another connection, a pure ACK, a SYN, an IPv6
 * fragment, ARP) sends the batch first, so frames leave in the order lwIP made them; and the batch
 * leaves at the latest at the end of the loop iteration (net_inst.tx_end), before the doorbell.
 *
 * The frame's header is the first segment's with the newest ACK and window, PSH if any segment had
 * it, the lengths of the whole and the pseudo-header sum over the whole TCP length (the NIC adjusts
 * each segment's). The segments' pbufs are held (a reference each: lwIP retransmits no segment
 * another holds) until the NIC has read the frame, then freed together. With no room in the ring
 * the frame waits in the instance's backlog as one entry, so a backlog does not undo the batching.
 *
 * Most segments come already whole: lwIP makes segments of several MSS of what a service writes by
 * reference (its LWIP_TCP_TSO, lwIP patch 0022), flagged PBUF_FLAG_TSO, and tells the MSS to cut
 * them at (inst_tcp_seg_gso) before each. Such a segment is a frame on its own or the start of
 * one, and segments join a frame while every one before them is whole MSS.
 */
#include <string.h>

#include "inst_priv.h"

#include "lwip/inet_chksum.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/tcp.h"

#define TSO_SEGS 48             /* segments of one frame, at most (64 KiB of 1,400-byte ones) */
#define TSO_BATCHES 512         /* frames in flight or waiting at most; with none free, segments go singly */
#define TSO_HDR (SIZEOF_ETH_HDR + IP6_HLEN + 60)

struct tso_batch {
	struct inst_frame fr;           /* first: the frame's reference is the batch's address | 1 */
	struct tso_batch *next;         /* in the free list */
	uint8_t hdr[TSO_HDR];           /* the frame's header: read by the NIC in place, as the rest */
	unsigned n;
	struct pbuf *p[TSO_SEGS];
	struct nic_txo o;               /* the first segment's own offloads, should it go alone */
};

/* A TCP segment as lwIP built it: headers in the first piece. */
struct seg {
	uint16_t l4, hlen;              /* TCP header offset; all headers' length */
	uint16_t gso;                   /* a segment of several MSS (lwIP's LWIP_TCP_TSO): the MSS; else 0 */
	uint32_t payload, seq;
	uint8_t flags;
	bool v6;
};

static struct {
	uint32_t max;                   /* frame bytes at most; 0: off */
	struct tso_batch *free;
	struct tso_batch *b;            /* the batch being built; NULL: none */
	struct seg first;
	uint8_t key[TSO_HDR];           /* its header with the fields segments differ in cleared */
	uint32_t next_seq, bytes;       /* the sequence number that continues it; frame bytes */
	uint32_t segs;                  /* the segments the NIC makes of it */
	uint16_t gso;                   /* the payload of each of them but the last */
	bool aligned;                   /* every payload so far a multiple of gso: the next may join */
	uint16_t gso_next;              /* the MSS of the data segment lwIP sends next (inst_tcp_seg_gso) */
	uint8_t flags;                  /* TCP flags, PSH gathered */
	uint8_t ack_wnd[8];             /* the last segment's ACK and window */
	struct pbuf *one;               /* a segment held alone (a reference), no batch begun for it */
	struct nic_txo one_o;
	struct seg one_s;
} tso;

_Static_assert(_Alignof(struct tso_batch) >= 2, "a batch's address has its low bit free");

int inst_tso_init(uint32_t max, void *(*alloc)(size_t bytes))
{
	tso.max = max > 0xffff ? 0xffff : max;
	tso.b = tso.free = NULL;
	tso.one = NULL;
	tso.gso_next = 0;
	if (!tso.max)
		return ERR_OK;
	for (unsigned k = 0; k < TSO_BATCHES; k += 64) {      /* in blocks a size class holds */
		struct tso_batch *b = alloc(64 * sizeof(*b));
		if (!b)
			return ERR_MEM;
		for (unsigned i = 0; i < 64; i++) {
			b[i].next = tso.free;
			tso.free = &b[i];
		}
	}
	return ERR_OK;
}

/* p as a segment that may join a batch: TCP with data, ACK (and PSH) only, its checksum left to
 * the NIC (csum_offload found it whole: IPv4 without options or fragmenting, IPv6 with TCP next). */
static bool seg_of(const struct pbuf *p, const struct nic_txo *o, struct seg *s)
{
	if (!o->csum_start || o->csum_offset != 16)
		return false;
	const uint8_t *f = p->payload;
	s->l4 = o->csum_start;
	s->v6 = f[12] == 0x86;
	if (s->v6 ? s->l4 != SIZEOF_ETH_HDR + IP6_HLEN : s->l4 != SIZEOF_ETH_HDR + IP_HLEN)
		return false;
	if (p->len < s->l4 + TCP_HLEN)
		return false;
	const uint8_t *t = f + s->l4;
	s->hlen = (uint16_t)(s->l4 + (t[12] >> 4) * 4);
	if (s->hlen > TSO_HDR || p->len < s->hlen || p->tot_len <= s->hlen)
		return false;
	s->payload = p->tot_len - s->hlen;
	uint32_t iplen = s->v6 ? IP6_HLEN + (uint32_t)(f[18] << 8 | f[19]) : (uint32_t)(f[16] << 8 | f[17]);
	if (SIZEOF_ETH_HDR + iplen != p->tot_len)
		return false;
	s->flags = t[13];
	s->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	s->gso = (p->flags & PBUF_FLAG_TSO) && tso.gso_next && s->payload > tso.gso_next ? tso.gso_next : 0;
	return (s->flags & ~(TCP_ACK | TCP_PSH | TCP_FIN)) == 0 && (s->flags & TCP_ACK);
}

/* The header with what differs between one connection's segments cleared. */
static void key_of(uint8_t *k, const uint8_t *f, const struct seg *s)
{
	memcpy(k, f, s->hlen);
	uint8_t *ip = k + SIZEOF_ETH_HDR, *t = k + s->l4;
	if (s->v6)
		memset(ip + 4, 0, 2);                   /* payload length */
	else {
		memset(ip + 2, 0, 4);                   /* total length, identification */
		memset(ip + 10, 0, 2);                  /* header checksum */
	}
	memset(t + 4, 0, 8);                            /* sequence and ACK numbers */
	t[13] = 0;                                      /* flags */
	memset(t + 14, 0, 4);                           /* window, checksum */
}

/* Adds p's payload (from byte skip) to the frame's pieces, joining pieces that follow each other
 * in memory (a file sent by reference); false, with nothing changed, when the NIC could not take
 * them: more than NIC_TX_MAX_SEGS pieces, or more leading short ones than it copies. */
static bool add_pieces(struct inst_frame *fr, const struct pbuf *p, uint32_t skip)
{
	struct nic_frag f[NIC_TX_MAX_SEGS];
	unsigned nf = fr->nf;
	memcpy(f, fr->f, nf * sizeof(f[0]));
	for (const struct pbuf *q = p; q; q = q->next) {
		if (q->len <= skip) {
			skip -= q->len;
			continue;
		}
		const uint8_t *d = (const uint8_t *)q->payload + skip;
		uint32_t len = q->len - skip;
		skip = 0;
		if (nf > 1 && (const uint8_t *)f[nf - 1].p + f[nf - 1].len == d)
			f[nf - 1].len += len;
		else if (nf == NIC_TX_MAX_SEGS)
			return false;
		else
			f[nf++] = (struct nic_frag){ d, len };
	}
	uint32_t copied = 0;            /* as nic_tx: the pieces before the first long one */
	for (unsigned i = 0; i < nf && f[i].len < NIC_TX_REF_MIN; i++)
		copied += f[i].len;
	if (copied > NIC_BUF_SIZE / 2)
		return false;
	memcpy(fr->f, f, nf * sizeof(f[0]));
	fr->nf = nf;
	return true;
}

/* Begins a batch with p; false when it cannot (no batch free, pieces the NIC could not take). */
static bool start(struct pbuf *p, const struct seg *s)
{
	struct tso_batch *b = tso.free;
	if (!b || s->hlen + s->payload > tso.max)
		return false;
	memcpy(b->hdr, p->payload, s->hlen);
	b->fr.f[0] = (struct nic_frag){ b->hdr, s->hlen };
	b->fr.nf = 1;
	if (!add_pieces(&b->fr, p, s->hlen))
		return false;           /* b stays free */
	tso.free = b->next;
	b->n = 0;
	tso.b = b;
	tso.first = *s;
	key_of(tso.key, p->payload, s);
	tso.bytes = s->hlen;
	tso.segs = 0;
	tso.gso = s->gso ? s->gso : (uint16_t)s->payload;
	tso.aligned = true;
	tso.flags = 0;
	return true;
}

/* Whether p continues the batch; its pieces are added when it does. */
static bool joins(const struct pbuf *p, const struct seg *s)
{
	const struct seg *a = &tso.first;
	if (s->hlen != a->hlen || s->v6 != a->v6 || s->seq != tso.next_seq || !tso.aligned || (tso.flags & TCP_FIN) ||
	    (s->gso ? s->gso != tso.gso : s->payload > tso.gso) || tso.b->n == TSO_SEGS ||
	    tso.bytes + s->payload > tso.max)
		return false;
	uint8_t k[TSO_HDR];
	key_of(k, p->payload, s);
	return memcmp(k, tso.key, s->hlen) == 0 && add_pieces(&tso.b->fr, p, s->hlen);
}

static void hold(struct pbuf *p, const struct nic_txo *o, const struct seg *s)
{
	struct tso_batch *b = tso.b;
	pbuf_ref(p);
	if (b->n == 0)
		b->o = *o;
	b->p[b->n++] = p;
	const uint8_t *t = (const uint8_t *)p->payload + s->l4;
	memcpy(tso.ack_wnd, t + 8, 4);
	memcpy(tso.ack_wnd + 4, t + 14, 2);
	tso.flags |= s->flags;
	tso.next_seq = s->seq + s->payload;
	tso.bytes += s->payload;
	tso.segs += (s->payload + tso.gso - 1) / tso.gso;
	tso.aligned = s->payload % tso.gso == 0;
}

/* The segment held alone leaves as any frame. */
static void one_out(void)
{
	struct pbuf *q = tso.one;
	tso.one = NULL;
	inst_tx_out(q, &tso.one_o);
	pbuf_free(q);
}

/*
 * A segment is first held alone, at the cost of a reference: most answers are one segment, and a
 * batch (its header copied, its key made) pays only when a second segment follows. The second
 * begins the batch with the first when it continues it.
 */
bool inst_tso_add(struct pbuf *p, const struct nic_txo *o)
{
	if (!tso.max)
		return false;
	struct seg s;
	bool tcp = seg_of(p, o, &s);
	if (tso.one) {
		struct pbuf *q = tso.one;
		if (tcp && s.seq == tso.one_s.seq + tso.one_s.payload && start(q, &tso.one_s)) {
			tso.one = NULL;
			hold(q, &tso.one_o, &tso.one_s);
			pbuf_free(q);           /* hold took the batch's own reference */
		} else {
			one_out();
		}
	}
	if (tcp && tso.b && joins(p, &s)) {
		hold(p, o, &s);
		return true;
	}
	inst_tso_flush();
	if (!tcp)
		return false;
	if (s.gso) {
		/* several MSS: only ever as a frame the NIC cuts; with no batch free it is refused,
		 * counted as too long (tx_drop_big), and lwIP's retransmission sends it in MSS pieces */
		if (!start(p, &s))
			return false;
		hold(p, o, &s);
		return true;
	}
	pbuf_ref(p);
	tso.one = p;
	tso.one_o = *o;
	tso.one_s = s;
	return true;
}

/* The frame of a batch of several segments: its header, offloads and counts. */
static void finish(struct tso_batch *b)
{
	const struct seg *s = &tso.first;
	uint8_t *ip = b->hdr + SIZEOF_ETH_HDR, *t = b->hdr + s->l4;
	uint32_t tcplen = tso.bytes - s->l4;
	if (s->v6) {
		ip[4] = (uint8_t)(tcplen >> 8);
		ip[5] = (uint8_t)tcplen;
	} else {
		uint32_t len = tso.bytes - SIZEOF_ETH_HDR;
		ip[2] = (uint8_t)(len >> 8);
		ip[3] = (uint8_t)len;
		ip[10] = ip[11] = 0;
		u16_t c = inet_chksum(ip, IP_HLEN);
		memcpy(ip + 10, &c, 2);
	}
	memcpy(t + 8, tso.ack_wnd, 4);
	memcpy(t + 14, tso.ack_wnd + 4, 2);
	t[13] = tso.flags;
	/* The pseudo-header sum over the whole TCP length, not complemented (as csum_offload). */
	const uint8_t *a = s->v6 ? ip + 8 : ip + 12;
	uint32_t sum = tcplen + IP_PROTO_TCP;
	for (unsigned i = 0; i < (s->v6 ? 32u : 8u); i += 2)
		sum += (uint32_t)(a[i] << 8 | a[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	t[16] = (uint8_t)(sum >> 8);
	t[17] = (uint8_t)sum;
	b->fr.o = (struct nic_txo){ .csum_start = s->l4, .csum_offset = 16, .gso_size = tso.gso,
				    .gso = s->v6 ? NIC_GSO_TCP6 : NIC_GSO_TCP4, .hdr_len = (uint8_t)s->hlen };
	b->fr.segs = tso.segs;
	b->fr.wire = tso.bytes - s->hlen + tso.segs * s->hlen;
}

static void give_back(struct tso_batch *b)
{
	b->next = tso.free;
	tso.free = b;
}

/* lwIP's hooks for segments of several MSS (LWIP_TCP_TSO, lwipopts.h): the TCP payload and
 * options a frame may carry (0: no TSO), and the MSS of the data segment it sends next. */
unsigned inst_tcp_tso_max(const struct tcp_pcb *pcb)
{
	(void)pcb;
	return tso.max ? tso.max - (SIZEOF_ETH_HDR + IP6_HLEN + TCP_HLEN) : 0;
}

void inst_tcp_seg_gso(unsigned short mss)
{
	tso.gso_next = mss;
}

void inst_tso_flush(void)
{
	if (tso.one)
		one_out();
	struct tso_batch *b = tso.b;
	if (!b)
		return;
	tso.b = NULL;
	if (b->n > 1 || tso.first.gso) {
		finish(b);
		inst_tx_batch((void *)((uintptr_t)b | 1));      /* held until inst_tso_done */
		return;
	}
	inst_tx_out(b->p[0], &b->o);            /* one segment: as any frame */
	pbuf_free(b->p[0]);
	give_back(b);
}

void inst_tso_done(void *ref)
{
	struct tso_batch *b = (struct tso_batch *)inst_frame_of(ref);
	for (unsigned i = 0; i < b->n; i++)
		pbuf_free(b->p[i]);
	give_back(b);
}
