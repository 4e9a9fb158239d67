/* The loop's profile: the `prof` command, each core's reset and tally (prof.h has the clock). */
#include <string.h>

#include "kernel.h"

/* Column names, in enum prof_stage's order; the table prints PROF_OTHER last. */
static const char *const stage_name[PROF_NSTAGES] = {
	[PROF_OTHER] = "other", [PROF_RX] = "rx", [PROF_INPUT] = "input", [PROF_SVC] = "svc",
	[PROF_TX] = "tx", [PROF_REAP] = "reap", [PROF_DOORBELL] = "bell", [PROF_RINGS] = "rings",
	[PROF_TIMERS] = "timers",
};

void prof_apply(struct prof *p, uint32_t req)
{
	p->seen = req;
	p->on = req & 1;
	if (!p->on)
		return;
	p->busy = p->frames = p->idle = p->idle_ticks = 0;
	for (unsigned s = 0; s < PROF_NSTAGES; s++)
		p->ticks[s] = p->it[s] = 0;
}

void prof_tally(struct prof *p, uint32_t frames)
{
	prof_switch(p, PROF_OTHER);     /* the last stage's ticks */
	uint64_t sum = 0;
	for (unsigned s = 0; s < PROF_NSTAGES; s++) {
		sum += p->it[s];
		if (frames)
			p->ticks[s] += p->it[s];
		p->it[s] = 0;
	}
	if (frames) {
		p->busy++;
		p->frames += frames;
	} else {
		p->idle++;
		p->idle_ticks += sum;
	}
}

/* ticks over n, in nanoseconds with one decimal ("-" when n is 0). */
static void per(struct kbuf *b, uint64_t ticks, uint64_t n)
{
	if (!n) {
		kbprintf(b, " %9s", "-");
		return;
	}
	uint64_t t = ticks_to_ns(ticks) * 10 / n;
	kbprintf(b, " %7llu.%llu", (unsigned long long)(t / 10), (unsigned long long)(t % 10));
}

static void row(struct kbuf *b, const struct prof *p)
{
	uint64_t sum = 0;
	kbprintf(b, " %10llu %9llu %9llu", (unsigned long long)p->frames, (unsigned long long)p->busy,
		 (unsigned long long)p->idle);
	per(b, p->idle_ticks, p->idle);
	for (unsigned k = 1; k <= PROF_NSTAGES; k++) {
		unsigned s = k % PROF_NSTAGES;  /* PROF_OTHER last */
		kbprintf(b, " %12llu", (unsigned long long)p->ticks[s]);
		per(b, p->ticks[s], p->frames);
		sum += p->ticks[s];
	}
	per(b, sum, p->frames);
	kbprintf(b, "\n");
}

void prof_print(uint32_t n)
{
	static char out[(POLLUX_MAX_CORES + 4) * 400];
	struct kbuf b = { out, sizeof(out), 0 };
	uint64_t hz = arch_counter_hz();
	uint32_t on = 0;                /* as asked: a core applies it at its next iteration */
	for (uint32_t i = 0; i < n; i++)
		on += cpus[i].prof_req & 1;
	uint64_t tenths = hz ? 10000000000ull / hz : 0;
	kbprintf(&b, "prof: %s, counter %llu Hz (%llu.%llu ns a tick)%s\n", on == n ? "on" : on ? "partly on" : "off",
		 (unsigned long long)hz, (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10),
		 hz < 200000000 ? "; coarse: a stage shorter than a tick is charged a whole tick or none, by chance, "
				  "so only averages over many frames mean something" : "");
	kbprintf(&b, "prof: ticks per stage in iterations that took in frames, and ns per frame (_ns); idle polls "
		 "apart (idle_ns: per poll)\n");
	kbprintf(&b, "%-4s %10s %9s %9s %9s", "core", "frames", "busy", "idle", "idle_ns");
	for (unsigned k = 1; k <= PROF_NSTAGES; k++) {
		char ns[16];
		ksnprintf(ns, sizeof(ns), "%s_ns", stage_name[k % PROF_NSTAGES]);
		kbprintf(&b, " %12s %9s", stage_name[k % PROF_NSTAGES], ns);
	}
	kbprintf(&b, " %9s\n", "frame_ns");
	struct prof all = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		const struct prof *p = &cpus[i].prof;
		kbprintf(&b, "%-4u", i);
		row(&b, p);
		all.frames += p->frames, all.busy += p->busy, all.idle += p->idle, all.idle_ticks += p->idle_ticks;
		for (unsigned s = 0; s < PROF_NSTAGES; s++)
			all.ticks[s] += p->ticks[s];
	}
	kbprintf(&b, "%-4s", "all");
	row(&b, &all);
	kputs(out);
}

void prof_cmd(uint32_t n, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "on") && strcmp(argv[1], "off")) {
		kprintf("usage: prof [on|off]\n");
		return;
	}
	if (argc > 1) {
		uint32_t on = !strcmp(argv[1], "on");
		for (uint32_t i = 0; i < n; i++)
			cpus[i].prof_req = ((cpus[i].prof_req + 2) & ~1u) | on;
		if (on) {       /* the counters are reset by each core, later: nothing to print yet */
			kprintf("prof: every core resets its counters and times its loop from its next iteration\n");
			return;
		}
	}
	prof_print(n);          /* after `prof off`, the last figures (they no longer move) */
}
