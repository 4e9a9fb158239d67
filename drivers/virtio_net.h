/* virtio-net driver: one RX/TX queue pair per core, polled, batched, interrupts off for good. */
#ifndef POLLUX_VIRTIO_NET_H
#define POLLUX_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

#define VNET_BUF_SIZE 2048      /* one frame plus the 12-byte header, per descriptor */

struct vnet_qstats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_drop_bad;           /* runt or oversized frame from the device */
	uint64_t tx_drop_full;          /* TX ring full */
	uint64_t tx_drop_big;           /* frame larger than a buffer */
	uint64_t notifies, notifies_saved;
	uint64_t bad_used;              /* the device returned an id it did not own */
};

/* Find and set up the first virtio-net device with up to want_pairs queue pairs (boot core,
 * before secondaries start). Returns the number of pairs, or a negative error (logged). */
int vnet_attach(uint32_t want_pairs);
/* Per core, on the core that owns pair q: allocate and post RX buffers from its arena. */
int vnet_queue_start(uint32_t q, uint32_t core);
/* Poll pair q's RX ring: call deliver(frame, len, buf) for up to max frames; the frame stays
 * the driver's until vnet_rx_release(q, buf). Returns the number delivered. */
int vnet_rx(uint32_t q, void (*deliver)(void *frame, uint32_t len, void *buf), int max);
void vnet_rx_release(uint32_t q, void *buf);
/* Queue one frame for transmission on pair q (copied). 0, or -1 when full (counted). */
int vnet_tx(uint32_t q, const void *frame, uint32_t len);
/* End of a loop iteration: post refilled RX buffers, reap TX, ring each doorbell at most once. */
void vnet_flush(uint32_t q);
const uint8_t *vnet_mac(void);
uint32_t vnet_pairs(void);
const struct vnet_qstats *vnet_stats(uint32_t q);
bool vnet_present(void);

#endif
