/* The transmit side the 82576 and 82599 models share (their advanced TX descriptors are
 * byte-identical: 82599 datasheet 331520 7.2.3, 82576 7.2.2): data gathered from descriptor to EOP
 * behind the last context descriptor, the L4 checksum inserted on TXSM (the field holds the
 * pseudo-header sum), and TCP segmentation on DCMD.TSE, cut as the chips do and strict about what
 * they cannot cut (iadv_mtx_frame). A model walks its ring and hands each descriptor here. */
#ifndef POLLUX_IADV_MODEL_TX_H
#define POLLUX_IADV_MODEL_TX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "drivers/intel_adv.h"
#include "csum.h"
#include "tso.h"

/* One queue's frame being gathered, and its context. */
struct iadv_mtxq {
	uint8_t buf[65536 + 512];       /* a TSO frame of 64 KiB at most (the driver's) */
	uint32_t len, ndata;            /* bytes and data descriptors so far */
	uint32_t olinfo, cmd;           /* the frame's first data descriptor's */
	struct iadv_txctx ctx;
	bool ctx_valid;                 /* a context descriptor came since the queue was set up */
};

/* The device's transmit rules and what it saw. */
struct iadv_mtx {
	uint32_t max_data;              /* data descriptors of one TSO frame at most; 0: no bound */
	bool need_cc;                   /* an offload without olinfo.CC is a fault (the 82599's) */
	void (*out)(const uint8_t *f, uint32_t len, uint32_t q);        /* the device sends a frame */
	uint64_t frames;                /* frames read (EOP), whatever became of them */
	uint64_t tso_frames, tso_segs;  /* TSE frames cut, and the segments made */
	/* The driver's faults: a data descriptor of length 0 (QEMU drops the frame), an offload
	 * without CC, a TSE frame refused (PAYLEN, context, POPTS, descriptors per frame, the
	 * checksum field: the last reason in tso_why; nothing is sent). */
	int zero_len, no_cc, tso_refused;
	char tso_why[160];
	/* A checksum-only frame whose context says IPv4 (TUCMD.IPV4) and which is not: the chip
	 * would take its IPv6 header for an IPv4 one. */
	int ip_type_bad;
};

static inline void iadv_mtx_reset(struct iadv_mtxq *qs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		qs[i].len = qs[i].ndata = 0, qs[i].ctx_valid = false;
}

struct iadv_mtx_seg { struct iadv_mtx *m; uint32_t q; };

static inline void iadv_mtx_seg_out(const uint8_t *seg, uint32_t len, void *arg)
{
	struct iadv_mtx_seg *a = arg;
	a->m->tso_segs++;
	a->m->out(seg, len, a->q);
}

static inline void iadv_mtx_refuse(struct iadv_mtx *m, const char *why)
{
	m->tso_refused++;
	snprintf(m->tso_why, sizeof(m->tso_why), "%s", why);
}

/* A frame with DCMD.TSE (TCP segmentation; the 82598EB datasheet's 3.5.3.4.7 and the I210's
 * 7.2.4.7, of the 82599's and the 82576's families, say what each segment gets): the context gives the
 * headers' lengths (MACLEN, IPLEN, L4LEN), the segments' payload (MSS) and IPv4 or IPv6
 * (TUCMD.IPV4); PAYLEN is the TCP payload alone; the TCP checksum field holds the pseudo-header
 * sum without the length (tests/unit/host/tso.h, TSO_INTEL, which cuts it). What the chips cannot
 * cut (the reference drivers never send it; the 82598's datasheet warns of bad frames or a hung
 * queue for a wrong PAYLEN or header length) is refused. */
static inline void iadv_mtx_tso(struct iadv_mtx *m, struct iadv_mtxq *s, uint32_t q)
{
	const struct iadv_txctx *c = &s->ctx;
	uint32_t maclen = c->vlan_macip_lens >> IADV_CTX_MACLEN_SHIFT & 0x7f, iplen = c->vlan_macip_lens & 0x1ff;
	uint32_t l4len = c->mss_l4len_idx >> IADV_CTX_L4LEN_SHIFT & 0xff, mss = c->mss_l4len_idx >> IADV_CTX_MSS_SHIFT;
	uint32_t hdr = maclen + iplen + l4len, paylen = s->olinfo >> IADV_TXD_PAYLEN_SHIFT;
	bool v4 = c->type_tucmd_mlhl & IADV_CTX_TUCMD_IPV4;
	char why[160];
	if (!s->ctx_valid || !(c->type_tucmd_mlhl & IADV_CTX_TUCMD_L4T_TCP) || mss == 0 || l4len < 12) {
		snprintf(why, sizeof(why), "TSE without a TCP context with MSS and L4LEN (mss %u l4len %u)", mss, l4len);
		return iadv_mtx_refuse(m, why);
	}
	if (!(s->olinfo & IADV_TXD_TXSM) || (v4 && !(s->olinfo & IADV_TXD_IXSM))) {
		snprintf(why, sizeof(why), "TSE without TXSM%s in POPTS (olinfo %#x)", v4 ? " and IXSM" : "", s->olinfo);
		return iadv_mtx_refuse(m, why);
	}
	if (m->max_data && s->ndata > m->max_data) {
		snprintf(why, sizeof(why), "%u data descriptors for one TSO frame, more than %u", s->ndata, m->max_data);
		return iadv_mtx_refuse(m, why);
	}
	if (hdr >= 512 || hdr >= s->len || paylen != s->len - hdr) {
		snprintf(why, sizeof(why), "PAYLEN %u with headers of %u in a frame of %u", paylen, hdr, s->len);
		return iadv_mtx_refuse(m, why);
	}
	if (hdr + mss > 1514) {
		/* No jumbo frames are set up: a segment of more than 1514 bytes (1518 with the CRC)
		 * is one the link's MTU of 1500 does not carry. */
		snprintf(why, sizeof(why), "MSS %u behind %u bytes of headers: segments beyond 1514 bytes", mss, hdr);
		return iadv_mtx_refuse(m, why);
	}
	struct iadv_mtx_seg arg = { m, q };
	int n = tso_segment_conv(s->buf, s->len, v4 ? TSO_V4 : TSO_V6, (uint16_t)mss, (uint16_t)hdr,
				 (uint16_t)(maclen + iplen), 16, iadv_mtx_seg_out, &arg, why, sizeof(why), TSO_INTEL);
	if (n < 0)
		return iadv_mtx_refuse(m, why);
	m->tso_frames++;
}

/* Descriptor d at queue q's head, src its buffer (data descriptors; NULL when the address is not
 * memory the model may read, which the caller counts). Returns true when it ended a frame (EOP):
 * the caller then writes DD back if RS asks. */
static inline bool iadv_mtx_desc(struct iadv_mtx *m, struct iadv_mtxq *s, uint32_t q, const union iadv_txd *d,
				 const uint8_t *src)
{
	uint32_t cmd = d->rd.cmd_type_len;
	if ((cmd & (0xfu << 20)) == IADV_TXD_DTYP_CTXT) {
		memcpy(&s->ctx, d, 16);
		s->ctx_valid = true;
		return false;
	}
	uint32_t len = cmd & 0xffff;
	if (len == 0)
		m->zero_len++;
	if (s->ndata++ == 0)
		s->olinfo = d->rd.olinfo_status, s->cmd = cmd;
	if (src && s->len + len <= sizeof(s->buf)) {
		memcpy(s->buf + s->len, src, len);
		s->len += len;
	}
	if (!(cmd & IADV_TXD_EOP))
		return false;
	if (m->need_cc && (s->olinfo & IADV_TXD_TXSM) && !(s->olinfo & IADV_TXD_CC))
		m->no_cc++;
	if (s->cmd & IADV_TXD_TSE) {
		iadv_mtx_tso(m, s, q);
	} else {
		if ((s->olinfo & IADV_TXD_TXSM) && (s->ctx.type_tucmd_mlhl & IADV_CTX_TUCMD_IPV4) &&
		    !(s->len >= 14 && s->buf[12] == 0x08 && s->buf[13] == 0x00))
			m->ip_type_bad++;
		if (s->olinfo & IADV_TXD_TXSM) {
			uint32_t l4 = (s->ctx.vlan_macip_lens >> IADV_CTX_MACLEN_SHIFT) + (s->ctx.vlan_macip_lens & 0x1ff);
			uint32_t off = l4 + (s->ctx.type_tucmd_mlhl & IADV_CTX_TUCMD_L4T_TCP ? 16 : 6);
			if (off + 2 <= s->len) {        /* the field's pseudo-header sum is summed too */
				uint16_t c = (uint16_t)~csum16(0, s->buf + l4, s->len - l4);
				s->buf[off] = (uint8_t)(c >> 8), s->buf[off + 1] = (uint8_t)c;
			}
		}
		m->out(s->buf, s->len, q);
	}
	s->len = s->ndata = 0;
	m->frames++;
	return true;
}

#endif
