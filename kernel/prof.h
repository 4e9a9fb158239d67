/* The loop's profile (`prof`): counter ticks each core spends in each stage of its loop. */
#ifndef POLLUX_PROF_H
#define POLLUX_PROF_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"

/*
 * The stages of a core's loop iteration. They are named here, below net/ and drivers/, so that
 * both can charge their own without knowing each other (net.c: RX, input, TX post, rings,
 * timers, the doorbell's flush; nic.c: the RX refill and the reap inside that flush and inside a
 * TX post; the service glue: the service).
 * Time is charged to one stage at a time: entering a stage inside another (a service called from
 * the stack's input, a TX post from the service, a reap from a TX post) stops the outer one's
 * clock until it is left, so every tick of an iteration lands in exactly one stage. PROF_OTHER is
 * what no stage claims (the loop's own work between stages).
 */
enum prof_stage {
	PROF_OTHER,
	PROF_RX,        /* nic_rx_burst: the driver's rx_poll, and the refill of RX buffers */
	PROF_INPUT,     /* a frame to its core and through lwIP's input, the service excepted */
	PROF_SVC,       /* the service's callbacks */
	PROF_TX,        /* nic_tx (or a push to the TX owner's ring) from the stack's link output */
	PROF_REAP,      /* TX completions taken back, in-place pieces released */
	PROF_DOORBELL,  /* the driver's flush: the doorbell rung, or saved */
	PROF_RINGS,     /* frames from other cores' rings */
	PROF_TIMERS,    /* lwIP's timers, address and lease sync, fragments, the NIC's slow path */
	PROF_NSTAGES
};

/* One core's profile, written only by that core (in its own struct cpu, its own cache lines). */
struct prof {
	bool on;                        /* this core times its loop (prof_apply sets it) */
	uint8_t cur;                    /* the stage charged now */
	uint32_t seen;                  /* the cpu's prof_req this core applied */
	uint64_t last;                  /* counter at the last switch of stage */
	uint64_t it[PROF_NSTAGES];      /* this iteration's ticks so far */
	/* Since `prof on`: iterations that took in frames and how many; the others (idle polls) and
	 * their ticks; the busy iterations' ticks per stage. */
	uint64_t busy, frames, idle, idle_ticks;
	uint64_t ticks[PROF_NSTAGES];
};

/* Charge the ticks since the last switch to the current stage and make s current; returns the
 * stage left. Only while p->on. */
static inline unsigned prof_switch(struct prof *p, unsigned s)
{
	uint64_t now = arch_counter();
	unsigned old = p->cur;
	p->it[old] += now - p->last;
	p->last = now;
	p->cur = (uint8_t)s;
	return old;
}

/* Enter stage s; returns what prof_leave wants. When profiling is off: one predictable branch. */
static inline unsigned prof_enter(struct prof *p, unsigned s)
{
	return __builtin_expect(p->on, 0) ? prof_switch(p, s) : 0;
}

static inline void prof_leave(struct prof *p, unsigned back)
{
	if (__builtin_expect(p->on, 0))
		prof_switch(p, back);
}

/* prof.c: apply the console's request req (its low bit: on), resetting the counters when on. */
void prof_apply(struct prof *p, uint32_t req);
/* prof.c: the end of a timed iteration that took in frames (0: an idle poll): its ticks into the
 * totals, busy or idle. */
void prof_tally(struct prof *p, uint32_t frames);

/* Top of a loop iteration: take the console's request (req, the cpu's prof_req). The loop then
 * picks its timed path on p->on: prof_start, the work, prof_tally. */
static inline void prof_take(struct prof *p, uint32_t req)
{
	if (__builtin_expect(p->seen != req, 0))
		prof_apply(p, req);
}

static inline void prof_start(struct prof *p)
{
	p->cur = PROF_OTHER;
	p->last = arch_counter();
}

#endif
