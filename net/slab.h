/* One core's network memory: blocks in fixed size classes, O(1) to allocate and free, carved
 * from chunks taken from the core's arena as needed, within a budget the machine sets. */
#ifndef POLLUX_SLAB_H
#define POLLUX_SLAB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Classes: 16-byte steps up to 128 bytes, then four per doubling (160, 192, 224, 256, 320, ...),
 * so a block wastes at most a fifth of itself; the largest holds SLAB_MAX bytes. A block carries
 * an 8-byte header (its class) before what the caller gets, which is 8-byte aligned. Freed blocks
 * go on their class's list and are never returned to the arena or merged: every operation costs
 * the same however many blocks exist, and there is no fragmentation of one heap to slow anything
 * down, at the price of memory kept by a class once used (shown by `stats` as free in lists).
 */
#define SLAB_CLASSES 48
#define SLAB_HDR 8u
#define SLAB_MAX (128u * 1024 - SLAB_HDR)

struct slab_class {
	void *free;             /* freed blocks, LIFO */
	uint32_t size;          /* block size, header included */
	uint32_t nfree;         /* blocks on the list */
	uint64_t blocks;        /* blocks ever carved for this class */
};

struct slab {
	/* Returns chunk bytes of fresh memory, 64-byte aligned, or NULL. */
	void *(*grow)(void *ctx, size_t bytes);
	void *ctx;
	uint64_t budget;        /* most bytes of chunks ever taken */
	uint64_t taken;         /* bytes of chunks taken so far */
	uint64_t in_use;        /* bytes of blocks handed out (headers and rounding included) */
	uint64_t high;          /* most in_use ever */
	uint64_t slack;         /* chunk tails under 16 bytes, never used (larger tails become blocks) */
	uint64_t fails;         /* requests refused: budget reached, arena empty, or too big */
	uint64_t bad_frees;     /* frees of a pointer that is not a live block: ignored */
	uint32_t chunk;
	uint8_t *bump, *end;    /* the current chunk's uncarved part */
	struct slab_class cls[SLAB_CLASSES];
};

/* Set s up to take chunks of `chunk` bytes (a multiple of 64, at least SLAB_MAX) from grow(ctx),
 * at most `budget` bytes in all. Takes nothing yet. */
void slab_init(struct slab *s, uint64_t budget, uint32_t chunk, void *(*grow)(void *ctx, size_t bytes), void *ctx);
/* n bytes, 8-byte aligned, uninitialized; NULL when n > SLAB_MAX or the budget or arena is spent
 * and the class's list is empty (counted in fails). */
void *slab_alloc(struct slab *s, size_t n);
/* Give back p from slab_alloc (NULL is ignored; a pointer that is not a live block is counted
 * in bad_frees and left alone). */
void slab_free(struct slab *s, void *p);
/* The class n bytes fall in, or -1 above SLAB_MAX; its block size is s->cls[i].size. */
int slab_class_of(size_t n);
/* Bytes of memory an allocation of n bytes takes (its class's block size); 0 above SLAB_MAX. */
uint32_t slab_block_size(size_t n);
/* Bytes that can still be handed out: free lists plus what the budget has not taken. */
uint64_t slab_avail(const struct slab *s);

#endif
