/* What fuzz_vnet_rx and fuzz_ena_rx share (tests/fuzz/nic_fuzz.c): the fuzzer's bytes, the network
 * layer's side of drivers/nic.c (buffers held and returned, each exactly once; frames sent in
 * place) and the device's recovery after every input. The kernel's services are the unit tests'
 * (tests/unit/host/harness.c). */
#ifndef POLLUX_FUZZ_NIC_FUZZ_H
#define POLLUX_FUZZ_NIC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FZ_HZ 1000000ull                /* host counter: 1 tick = 1 us (harness.h's HZ) */

#include "fz_in.h"

/* Supplied by each target: memory the device may reach (every allocation), one step of the
 * device's own time (ms), and a frame from the wire (returns the queue pair it went to, or -1). */
void fz_dma_add(const void *p, uint64_t len);
void fz_device_step(uint32_t ms);
int fz_wire(const uint8_t *f, uint32_t len);

/* The device found by pci_scan attached with pairs queue pairs, RSS over all of them, started,
 * every queue started (core 0 plays every queue's core). */
void fz_start(uint32_t pairs);
/* An Ethernet/IPv4/TCP frame to mac with a correct checksum, its ports and length from seed. */
uint32_t fz_frame(uint8_t *f, const uint8_t mac[6], uint32_t seed);

/* nic_tx of a frame made from seed on queue q, its payload sent in place under a reference whose
 * tx_done must come exactly once (checked). Returns nic_tx's answer. */
int fz_send(uint32_t q, uint32_t seed);
/* nic_rx_burst(q, up to max): each frame checked (inside its buffer, never a buffer the network
 * layer still holds) and held, or returned at once when keep is false. Returns how many. */
int fz_burst(uint32_t q, int max, bool keep);
/* Return the k buffers of queue q held longest. */
void fz_return(uint32_t q, uint32_t k);
/* Return every held buffer. */
void fz_return_all(void);
/* Bad values the NIC layer and the driver counted on queue q: rx_drop_bad plus every driver
 * counter named bad_*. */
uint64_t fz_counted(uint32_t q);
/* End of an input: every buffer back, the device reset through nic_slow_poll, and a frame from
 * the wire delivered whole afterwards; abort() when it is not. */
void fz_recover(uint32_t npairs);
/* Device resets nic.c began during this input (its "resetting the device" lines). */
uint64_t fz_resets_begun(void);
/* A record of this input's steps, printed by fz_fail (and by fz_recover with FUZZ_TRACE set).
 * fz_input_start empties it and the captured log. */
void fz_input_start(void);
void fz_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print why, then abort (the fuzzer's crash). */
void fz_fail(const char *why, unsigned long long a, unsigned long long b) __attribute__((noreturn));

#endif
