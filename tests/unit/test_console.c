/* Host test of cmdline.c: the line editor fed byte by byte with its echo checked, word splitting, exact dispatch. */
#include "kernel.h"
#include "test.h"

static char echoed[8192];
static size_t echoed_len;

static void echo(const char *s)
{
	size_t n = strlen(s);
	if (echoed_len + n < sizeof(echoed)) {
		memcpy(echoed + echoed_len, s, n + 1);
		echoed_len += n;
	}
}

static void echo_clear(void)
{
	echoed[0] = '\0';
	echoed_len = 0;
}

/* Feed n bytes; results[] gets each non-zero result and lines[] the text at that moment. */
struct fed {
	int nres;
	int res[16];
	char lines[16][CONSOLE_LINE_MAX];
};

static struct fed feed(struct lineedit *le, const char *s, size_t n)
{
	struct fed f;
	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < n; i++) {
		int r = lineedit_feed(le, (unsigned char)s[i], echo);
		if (r && f.nres < 16) {
			f.res[f.nres] = r;
			if (r > 0)
				snprintf(f.lines[f.nres], CONSOLE_LINE_MAX, "%s", le->buf);
			f.nres++;
		}
	}
	return f;
}
#define FEED(le, s) feed(le, s, sizeof(s) - 1)

static void line_endings(void)
{
	struct lineedit le = {0};
	lineedit_reset(&le);
	echo_clear();
	struct fed f = FEED(&le, "help\r\n");
	CHECK_EQ(f.nres, 1);                    /* CRLF is one line */
	CHECK_EQ(f.res[0], 1);
	CHECK_STR(f.lines[0], "help");
	CHECK_STR(echoed, "help\r\n");

	/* LF alone ends a line too; the CR's pending LF swallow does not outlive the next byte. */
	echo_clear();
	f = FEED(&le, "ab\ncd\r\n\nx\r");
	CHECK_EQ(f.nres, 4);
	CHECK_STR(f.lines[0], "ab");
	CHECK_STR(f.lines[1], "cd");
	CHECK_STR(f.lines[2], "");              /* the second LF after CRLF is a real (empty) line */
	CHECK_STR(f.lines[3], "x");
	CHECK_STR(echoed, "ab\r\ncd\r\n\r\nx\r\n");

	/* CR CR is two lines; LF CR is two lines (only CR LF pairs). */
	f = FEED(&le, "\r\r\n\r");
	CHECK_EQ(f.nres, 3);
	CHECK_EQ(f.res[0] + f.res[1] + f.res[2], 3);
	CHECK_STR(f.lines[0], "");
	f = FEED(&le, "a\r" "b\n");
	CHECK_EQ(f.nres, 2);
	CHECK_STR(f.lines[0], "a");
	CHECK_STR(f.lines[1], "b");

	/* The caller resets after a line (as console.c does): the LF of the CRLF is still swallowed. */
	f = FEED(&le, "mem\r");
	CHECK_EQ(f.nres, 1);
	lineedit_reset(&le);
	echo_clear();
	f = FEED(&le, "\n");
	CHECK_EQ(f.nres, 0);
	CHECK_STR(echoed, "");
	/* Without a reset the next line starts clean anyway. */
	f = FEED(&le, "one\rtwo\r");
	CHECK_STR(f.lines[0], "one");
	CHECK_STR(f.lines[1], "two");
}

static void editing(void)
{
	struct lineedit le = {0};
	lineedit_reset(&le);

	/* Backspace and DEL at an empty line: nothing happens, nothing echoed. */
	echo_clear();
	struct fed f = FEED(&le, "\b\x7f\b");
	CHECK_EQ(f.nres, 0);
	CHECK_EQ(le.len, 0);
	CHECK_STR(echoed, "");

	echo_clear();
	f = FEED(&le, "abc\b\x7f" "d\r");
	CHECK_STR(f.lines[0], "ad");
	CHECK_STR(echoed, "abc\b \b\b \bd\r\n");
	/* More erasures than characters stop at the start. */
	echo_clear();
	f = FEED(&le, "xy\b\b\b\bz\r");
	CHECK_STR(f.lines[0], "z");
	CHECK_STR(echoed, "xy\b \b\b \bz\r\n");

	/* Ctrl-U: one "\b \b" per character, then a fresh line. */
	echo_clear();
	f = FEED(&le, "junk\x15");
	CHECK_EQ(f.nres, 0);
	CHECK_EQ(le.len, 0);
	CHECK_STR(echoed, "junk\b \b\b \b\b \b\b \b");
	echo_clear();
	f = FEED(&le, "\x15ok\r");                       /* Ctrl-U on an empty line echoes nothing */
	CHECK_STR(f.lines[0], "ok");
	CHECK_STR(echoed, "ok\r\n");

	/* Ctrl-C abandons the line. */
	echo_clear();
	f = FEED(&le, "half\x03");
	CHECK_EQ(f.nres, 0);
	CHECK_EQ(le.len, 0);
	CHECK_STR(echoed, "half^C\r\n");
	f = FEED(&le, "go\r");
	CHECK_STR(f.lines[0], "go");

	/* Other controls (tab, ESC, NUL, bell) and bytes with the high bit are dropped silently. */
	echo_clear();
	f = FEED(&le, "\t\x1b[A\x00\x07\x80\xc3\xa9\xffz~ \r");
	CHECK_EQ(f.nres, 1);
	CHECK_STR(f.lines[0], "[Az~ ");
	CHECK_STR(echoed, "[Az~ \r\n");
	/* Out-of-range ints (EOF, wide values) too. */
	CHECK_EQ(lineedit_feed(&le, -1, echo), 0);
	CHECK_EQ(lineedit_feed(&le, 0x141, echo), 0);
	CHECK_EQ(le.len, 0);

	/* A NULL echo is allowed everywhere. */
	CHECK_EQ(lineedit_feed(&le, 'q', NULL), 0);
	CHECK_EQ(lineedit_feed(&le, '\b', NULL), 0);
	CHECK_EQ(lineedit_feed(&le, 'r', NULL), 0);
	CHECK_EQ(lineedit_feed(&le, 0x15, NULL), 0);
	CHECK_EQ(lineedit_feed(&le, 0x03, NULL), 0);
	CHECK_EQ(lineedit_feed(&le, 's', NULL), 0);
	CHECK_EQ(lineedit_feed(&le, '\n', NULL), 1);
	CHECK_STR(le.buf, "s");
}

static void overflow(void)
{
	struct lineedit le = {0};
	lineedit_reset(&le);
	char want[4 * CONSOLE_LINE_MAX];

	/* Exactly CONSOLE_LINE_MAX - 1 characters fit. */
	echo_clear();
	for (int i = 0; i < CONSOLE_LINE_MAX - 1; i++)
		CHECK_EQ(lineedit_feed(&le, 'a' + i % 26, echo), 0);
	CHECK(!le.overflow);
	CHECK_EQ(lineedit_feed(&le, '\r', echo), 1);
	CHECK_EQ(strlen(le.buf), CONSOLE_LINE_MAX - 1);
	CHECK_EQ(le.buf[CONSOLE_LINE_MAX - 2], 'a' + (CONSOLE_LINE_MAX - 2) % 26);
	CHECK_EQ(echoed_len, CONSOLE_LINE_MAX + 1);

	/* One more: stored and echoed up to the limit, the rest neither, -1 at the end, then clean. */
	echo_clear();
	for (int i = 0; i < 3 * CONSOLE_LINE_MAX; i++)
		CHECK_EQ(lineedit_feed(&le, 'x', echo), 0);
	CHECK(le.overflow);
	CHECK_EQ(le.len, CONSOLE_LINE_MAX - 1);
	CHECK_EQ(lineedit_feed(&le, '\b', echo), 0);     /* editing a lost line does nothing */
	CHECK_EQ(le.len, CONSOLE_LINE_MAX - 1);
	memset(want, 'x', CONSOLE_LINE_MAX - 1);
	strcpy(want + CONSOLE_LINE_MAX - 1, "\r\n");
	CHECK_EQ(lineedit_feed(&le, '\r', echo), -1);
	CHECK_STR(echoed, want);
	CHECK_EQ(le.len, 0);
	CHECK(!le.overflow);
	struct fed f = FEED(&le, "\nup\r");             /* LF of that CRLF swallowed */
	CHECK_EQ(f.nres, 1);
	CHECK_STR(f.lines[0], "up");

	/* Ctrl-U rescues an overlong line: it erases what was shown and starts over. */
	for (int i = 0; i < CONSOLE_LINE_MAX + 5; i++)
		lineedit_feed(&le, 'y', NULL);
	CHECK(le.overflow);
	echo_clear();
	CHECK_EQ(lineedit_feed(&le, 0x15, echo), 0);
	CHECK_EQ(echoed_len, 3 * (CONSOLE_LINE_MAX - 1));
	CHECK(!le.overflow);
	f = FEED(&le, "ok\n");
	CHECK_EQ(f.res[0], 1);
	CHECK_STR(f.lines[0], "ok");

	/* Ctrl-C does too. */
	for (int i = 0; i < CONSOLE_LINE_MAX + 5; i++)
		lineedit_feed(&le, 'z', NULL);
	echo_clear();
	CHECK_EQ(lineedit_feed(&le, 0x03, echo), 0);
	CHECK_STR(echoed, "^C\r\n");
	CHECK(!le.overflow);
	f = FEED(&le, "\n");                            /* an LF right after: an empty line */
	CHECK_EQ(f.res[0], 1);
	CHECK_STR(f.lines[0], "");
}

static void split(void)
{
	char *argv[CONSOLE_ARGS_MAX];
	char l1[] = "  mem \t one\ttwo  ";
	CHECK_EQ(console_split(l1, argv, CONSOLE_ARGS_MAX), 3);
	CHECK_STR(argv[0], "mem");
	CHECK_STR(argv[1], "one");
	CHECK_STR(argv[2], "two");

	char l2[] = "";
	CHECK_EQ(console_split(l2, argv, CONSOLE_ARGS_MAX), 0);
	char l3[] = " \t  \t";
	CHECK_EQ(console_split(l3, argv, CONSOLE_ARGS_MAX), 0);
	char l4[] = "single";
	CHECK_EQ(console_split(l4, argv, CONSOLE_ARGS_MAX), 1);
	CHECK_STR(argv[0], "single");
	CHECK(argv[0] == l4);                   /* in place, no copies */

	/* More words than max: the first max, each properly ended; the rest ignored. */
	char l5[] = "a bb ccc dddd e f g h i j";
	argv[3] = NULL;
	CHECK_EQ(console_split(l5, argv, 3), 3);
	CHECK_STR(argv[0], "a");
	CHECK_STR(argv[1], "bb");
	CHECK_STR(argv[2], "ccc");
	CHECK(argv[3] == NULL);                 /* never written past max */
	char l6[] = "1 2 3 4 5 6 7 8 9 10";
	CHECK_EQ(console_split(l6, argv, CONSOLE_ARGS_MAX), CONSOLE_ARGS_MAX);
	CHECK_STR(argv[CONSOLE_ARGS_MAX - 1], "8");
	char l7[] = "x y";
	CHECK_EQ(console_split(l7, argv, 0), 0);
}

static int calls_a, calls_b, last_argc;
static char last_arg[32];
static void fn_a(int argc, char **argv)
{
	calls_a++;
	last_argc = argc;
	snprintf(last_arg, sizeof(last_arg), "%s", argv[argc - 1]);
}
static void fn_b(int argc, char **argv)
{
	(void)argc, (void)argv;
	calls_b++;
}
static const struct console_cmd cmds[] = {
	{ "mem", "memory", fn_a },
	{ "memx", "not mem", fn_b },
	{ "help", "list", fn_b },
	{ 0, 0, 0 },
};

static int run(const char *text)
{
	char line[CONSOLE_LINE_MAX];
	char *argv[CONSOLE_ARGS_MAX];
	snprintf(line, sizeof(line), "%s", text);
	return console_dispatch(cmds, console_split(line, argv, CONSOLE_ARGS_MAX), argv);
}

static void dispatch(void)
{
	CHECK_EQ(run("mem a b"), 0);
	CHECK_EQ(calls_a, 1);
	CHECK_EQ(last_argc, 3);
	CHECK_STR(last_arg, "b");
	CHECK_EQ(run("  memx "), 0);                     /* exact match picks memx, not mem */
	CHECK_EQ(calls_b, 1);
	CHECK_EQ(calls_a, 1);
	CHECK_EQ(run("mem"), 0);
	CHECK_EQ(calls_a, 2);
	CHECK_EQ(last_argc, 1);
	CHECK_EQ(run("me"), -1);                         /* prefixes are not commands */
	CHECK_EQ(run("memory"), -1);
	CHECK_EQ(run("HELP"), -1);                       /* case matters */
	CHECK_EQ(run(""), 0);                            /* empty line: nothing run */
	CHECK_EQ(run(" \t "), 0);
	CHECK_EQ(calls_a + calls_b, 3);
	static const struct console_cmd none[] = { { 0, 0, 0 } };
	char *argv[] = { "mem" };
	CHECK_EQ(console_dispatch(none, 1, argv), -1);
}

TEST_MAIN("test_console: proves line editing byte by byte (CRLF/LF/CR endings, backspace, Ctrl-U, Ctrl-C, "
	  "dropped controls and high bytes, overflow) with its exact echo, in-place splitting and exact dispatch",
	  line_endings(); editing(); overflow(); split(); dispatch())
