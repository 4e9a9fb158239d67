/* test_console: the console line editor and command dispatch, fed byte by byte. */
#include "test.h"
#include "kernel.h"

static char echoed[1024];

static void echo(const char *s)
{
	strncat(echoed, s, sizeof(echoed) - strlen(echoed) - 1);
}

/* Feed s; return the last non-zero result of lineedit_feed. */
static int feed(struct lineedit *le, const char *s, size_t n)
{
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		int x = lineedit_feed(le, (unsigned char)s[i], echo);
		if (x)
			r = x;
	}
	return r;
}
#define FEED(le, s) feed(le, s, sizeof(s) - 1)

static void editing(void)
{
	struct lineedit le = {0};
	lineedit_reset(&le);
	echoed[0] = 0;
	CHECK_EQ(FEED(&le, "mem\r"), 1);
	CHECK_STR(le.buf, "mem");
	CHECK_STR(echoed, "mem\r\n");
	lineedit_reset(&le);
	/* CRLF is one line: the LF must not produce a second, empty one. */
	CHECK_EQ(FEED(&le, "\n"), 0);
	CHECK_EQ(FEED(&le, "ab\n"), 1);
	CHECK_STR(le.buf, "ab");
	lineedit_reset(&le);
	echoed[0] = 0;
	CHECK_EQ(FEED(&le, "\x7f" "ab\x08" "c\r"), 1);   /* DEL on empty line is ignored */
	CHECK_STR(le.buf, "ac");
	CHECK_STR(echoed, "ab\b \bc\r\n");
	lineedit_reset(&le);
	CHECK_EQ(FEED(&le, "junk\x15" "ok\r"), 1);       /* Ctrl-U erases the line */
	CHECK_STR(le.buf, "ok");
	lineedit_reset(&le);
	echoed[0] = 0;
	CHECK_EQ(FEED(&le, "half\x03"), 0);              /* Ctrl-C abandons it */
	CHECK_EQ(le.len, 0);
	CHECK(strstr(echoed, "^C") != NULL);
	CHECK_EQ(FEED(&le, "\x1b[A\xc3\xa9z\r"), 1);     /* escape and non-ASCII bytes dropped */
	CHECK_STR(le.buf, "[Az");
	lineedit_reset(&le);
	CHECK_EQ(FEED(&le, "\r"), 1);                    /* empty line */
	CHECK_STR(le.buf, "");
	lineedit_reset(&le);
	/* Overlong: not stored past the buffer, reported as -1 at its end, then a clean slate. */
	for (int i = 0; i < 3 * CONSOLE_LINE_MAX; i++)
		CHECK_EQ(lineedit_feed(&le, 'x', NULL), 0);
	CHECK(le.len < CONSOLE_LINE_MAX);
	CHECK_EQ(lineedit_feed(&le, '\r', NULL), -1);
	CHECK_EQ(le.len, 0);
	CHECK_EQ(FEED(&le, "\nup\r"), 1);
	CHECK_STR(le.buf, "up");
}

static int ran_argc;
static char ran_arg[32];
static void fn_a(int argc, char **argv) { ran_argc = argc; strcpy(ran_arg, argv[argc - 1]); }
static const struct console_cmd cmds[] = { { "mem", "", fn_a }, { "memx", "", fn_a }, { 0, 0, 0 } };

static void split_dispatch(void)
{
	char line[] = "  mem \t one  two three four five six seven eight  ";
	char *argv[4];
	int argc = console_split(line, argv, 4);
	CHECK_EQ(argc, 4);
	CHECK_STR(argv[0], "mem");
	CHECK_STR(argv[3], "three");
	char empty[] = " \t ";
	CHECK_EQ(console_split(empty, argv, 4), 0);
	CHECK_EQ(console_dispatch(cmds, 0, argv), 0);
	char l2[] = "mem a b";
	argc = console_split(l2, argv, 4);
	CHECK_EQ(console_dispatch(cmds, argc, argv), 0);
	CHECK_EQ(ran_argc, 3);
	CHECK_STR(ran_arg, "b");
	char l3[] = "me";
	argc = console_split(l3, argv, 4);
	CHECK_EQ(console_dispatch(cmds, argc, argv), -1);   /* prefixes are not commands */
}

TEST_MAIN("test_console: proves line editing (CRLF, erase, Ctrl-U/C, overflow) and exact command dispatch",
	  editing(); split_dispatch())
