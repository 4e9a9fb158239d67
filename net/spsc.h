/* Single-producer single-consumer rings of fixed-size frame slots, between two cores, lock-free.
 * The producer owns head, the consumer owns tail; each sits on its own cache line, so the only
 * sharing is the slot data and one index read per batch. */
#ifndef POLLUX_SPSC_H
#define POLLUX_SPSC_H

#include <stdbool.h>
#include <stdint.h>

#define SPSC_SLOT_BYTES 1536    /* a full Ethernet frame plus room for alignment */

struct spsc_slot {
	uint32_t len;
	uint32_t flags;                 /* the producer's word for the consumer */
	uint16_t csum_start, csum_offset;       /* TX offloads of a frame the consumer sends */
	uint8_t data[SPSC_SLOT_BYTES] __attribute__((aligned(64)));    /* on its own cache lines */
};

struct spsc {
	volatile uint32_t head __attribute__((aligned(64)));   /* next slot to fill, producer only */
	uint32_t head_cache_tail;                               /* producer's last view of tail */
	volatile uint32_t tail __attribute__((aligned(64)));   /* next slot to read, consumer only */
	uint32_t size __attribute__((aligned(64)));            /* power of two */
	uint64_t drops;                                         /* producer: ring full */
	struct spsc_slot *slots;
};

/* Set up r over mem (size slots of struct spsc_slot). size must be a power of two. */
void spsc_init(struct spsc *r, struct spsc_slot *mem, uint32_t size);
/* Producer: the next free slot to fill, or NULL (a drop counted) when the ring is full; nothing is
 * visible to the consumer until spsc_commit(). */
struct spsc_slot *spsc_reserve(struct spsc *r);
/* Producer: publish the slot spsc_reserve() returned, after filling len, flags and data. */
void spsc_commit(struct spsc *r);
/* Producer: reserve, copy a frame in, commit. Returns false (a drop counted) when full or too long. */
bool spsc_push(struct spsc *r, const void *frame, uint32_t len, uint32_t flags);
/* Consumer: the oldest frame, or NULL when empty; spsc_pop() releases it after use. */
struct spsc_slot *spsc_peek(struct spsc *r);
void spsc_pop(struct spsc *r);

#endif
