/* Minimal host unit-test harness: CHECK counts, a failing check prints where and why. */
#ifndef POLLUX_TEST_H
#define POLLUX_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed, test_checks;
static int test_skipped __attribute__((unused));        /* TEST_SKIP, read by TEST_MAIN */

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failed++; \
	fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) do { unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
	test_checks++; if (_a != _b) { test_failed++; fprintf(stderr, "  FAIL %s:%d: %s == %s (0x%llx != 0x%llx)\n", \
	__FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); test_checks++; if (strcmp(_a, _b)) { test_failed++; \
	fprintf(stderr, "  FAIL %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a, _b); } } while (0)

/* A part this machine cannot run, named by what it lacks: "SKIP what: this machine lacks
 * capability". tests/run.sh shows and counts each; in CI a SKIP line without "this machine lacks"
 * is a failure. */
#define TEST_SKIP(what, capability) do { test_skipped++; \
	printf("  SKIP %s: this machine lacks %s\n", (what), (capability)); } while (0)

/* Each test binary prints what it proves first, then one result line the runner counts. */
#define TEST_MAIN(proves, body) int main(void) { printf("%s\n", proves); body; \
	printf("%s: %d checks, %d failed, %d skipped\n", test_failed ? "FAIL" : "ok", test_checks, test_failed, \
	       test_skipped); \
	return test_failed ? 1 : 0; }

#endif
