/* Shared scaffolding of the host tests that run a driver or net.c: a fork-per-case runner, the
 * kernel's console captured in klog, and allocation stubs. Include after test.h, with
 * _DEFAULT_SOURCE defined first (fork, pipe). */
#ifndef POLLUX_HARNESS_H
#define POLLUX_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"

#define HZ 1000000ull           /* the host counter (arch_counter_hz): 1 tick = 1 us */

/* ---- harness.c: kprintf and kputs append here; always NUL-terminated ---- */
#define KLOG_SIZE (1u << 20)
extern char klog[KLOG_SIZE];
extern size_t klen;
void klog_clear(void);
/* Does the captured log contain s? */
bool klog_has(const char *s);

/* ---- harness.c: mem_alloc and mem_alloc_early ---- */
/* Every allocation is zeroed host memory aligned to at least 64 bytes (physical = virtual, as in
 * the kernel). When set, alloc_hook sees each one with the arena it came from (mem_alloc_early:
 * core 0). */
extern void (*alloc_hook)(void *p, uint64_t size, uint32_t core);
/* What mem_arena_bytes says each core's arena holds (64 MiB unless a test sets it). */
extern uint64_t harness_arena_bytes;

/* Called in a failing case's child after its log is printed: a device model's own report. */
extern void (*harness_fail_report)(const char *name);

/* Runs fn in a child process, so the code under test starts fresh, and prints the case's name with
 * its check count. The child's checks and failures are added to this process's (a crash counts as
 * one failure). Returns true when the case passed. Inline because test.h's counters are static. */
static inline bool harness_run(const char *name, void (*fn)(void))
{
	int p[2];
	if (pipe(p)) {
		test_failed++;
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		test_failed = test_checks = 0;
		fn();
		if (test_failed) {
			fprintf(stderr, "  [%s] log:\n%s\n", name, klog);
			if (harness_fail_report)
				harness_fail_report(name);
			fprintf(stderr, "  [%s] %d of %d checks failed\n", name, test_failed, test_checks);
		}
		int r[2] = { test_checks, test_failed };
		if (write(p[1], r, sizeof(r)) != sizeof(r))
			_exit(2);
		fflush(stdout);         /* _exit flushes nothing: a child's lines would be lost in a pipe */
		fflush(stderr);
		_exit(test_failed ? 1 : 0);
	}
	close(p[1]);
	int r[2] = { 0, 0 }, st = 0;
	bool got = read(p[0], r, sizeof(r)) == sizeof(r);
	close(p[0]);
	waitpid(pid, &st, 0);
	bool ok = got && WIFEXITED(st) && WEXITSTATUS(st) == 0 && r[1] == 0;
	test_checks += got ? r[0] : 1;
	test_failed += ok ? 0 : (got && r[1] ? r[1] : 1);
	if (got)
		printf("  %-44s %s (%d checks)\n", name, ok ? "ok" : "FAILED", r[0]);
	else if (WIFSIGNALED(st))
		printf("  %-44s CRASHED (signal %d)\n", name, WTERMSIG(st));
	else
		printf("  %-44s CRASHED\n", name);
	return ok;
}

/* The poll hooks registered (cpu_poll_register), in order: nothing runs them but a test. */
struct cpu;
extern void (*harness_polls[])(struct cpu *c, uint64_t now);
extern int harness_npolls;

/* The RSS key net.c drew at net_init (random_bytes' RSS-sized draw), for a device model's checks. */
extern uint8_t harness_rss_key[40];
/* What random_info() and random_short() report (bits = RANDOM_WANT_BITS unless a test lowers it). */
extern struct random_info harness_random;

#endif
