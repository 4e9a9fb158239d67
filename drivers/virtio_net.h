/* virtio-net driver: one RX/TX queue pair per core, polled, batched, interrupts off for good. */
#ifndef POLLUX_VIRTIO_NET_H
#define POLLUX_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "nic.h"

#define VNET_BUF_SIZE 2048      /* one frame plus the 12-byte header, per descriptor */
#define VNET_TX_REF_MIN 256     /* TX pieces this long are sent in place, shorter ones copied */
#define VNET_TX_MAX_REFS 8      /* pieces sent in place per frame; a longer chain is copied whole */

struct vnet_qstats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_csum_ok;            /* frames whose L4 checksum the device vouched for */
	uint64_t tx_zero_copy;          /* frames sent with at least one piece in place */
	uint64_t tx_csum_offload;       /* frames whose L4 checksum the device completes */
	uint64_t rx_drop_bad;           /* runt or oversized frame from the device */
	uint64_t tx_drop_full;          /* TX ring full */
	uint64_t tx_drop_big;           /* frame larger than a buffer */
	/* The device's side, as the rings show it (virtio-net has no counters of its own in QEMU). */
	uint64_t notifies, notifies_saved;      /* doorbells rung / not needed */
	uint64_t bad_used;              /* used entries naming a buffer the device did not own, or
					 * reporting more bytes than posted */
};

/* Find and set up the first virtio-net device with up to want_pairs queue pairs (boot core,
 * before secondaries start). When the device offers RSS, it hashes with rss_key (40 bytes, the
 * Toeplitz key also used by software steering) and entry i of its indirection table is pair
 * i % pairs. Returns the number of pairs, or a negative error (logged). */
int vnet_attach(uint32_t want_pairs, const uint8_t *rss_key);
/* Pair q's buffers come from core q's arena and its RX buffers are posted by vnet_attach. On the
 * core that owns pair q, before its loop: tx_done(ref) is called on this core when the device
 * has read a frame sent in place. */
int vnet_queue_start(uint32_t q, void (*tx_done)(void *ref));
/* Poll pair q's RX ring: call deliver(frame, len, buf, flags: NIC_RX_*) for up to max frames; the
 * frame stays the driver's until vnet_rx_release(q, buf). Returns the number delivered. */
int vnet_rx(uint32_t q, void (*deliver)(void *frame, uint32_t len, void *buf, unsigned flags), int max);
void vnet_rx_release(uint32_t q, void *buf);
/*
 * Queue one frame of n pieces for transmission on pair q. Leading pieces are copied into the
 * slot's buffer behind the virtio header; from the first piece of VNET_TX_REF_MIN bytes on, the
 * pieces are sent in place when ref is not NULL (the caller keeps them unchanged until
 * tx_done(ref)). With ref NULL, or more than VNET_TX_MAX_REFS pieces, all is copied. o asks for
 * offloads (NULL: none; ignored unless vnet_csum_offload()). Returns 1 when pieces went in place
 * (tx_done(ref) follows), 0 when all was copied, -1 when the ring is full or the frame too long
 * (counted); tx_done is called only after a 1.
 */
int vnet_tx(uint32_t q, const struct nic_frag *f, unsigned n, const struct nic_txo *o, void *ref);
/* End of a loop iteration: post refilled RX buffers, reap TX, ring each doorbell at most once. */
void vnet_flush(uint32_t q);
const uint8_t *vnet_mac(void);
uint32_t vnet_pairs(void);
bool vnet_rss(void);                    /* the device spreads flows over the pairs (RSS) */
bool vnet_csum_offload(void);           /* the device completes TX checksums */
/* Pair q's counters, read from any core: each field is read once, possibly mid-update. */
void vnet_stats(uint32_t q, struct vnet_qstats *out);
bool vnet_present(void);

#endif
