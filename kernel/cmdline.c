/* Console line editing and command dispatch: pure, so the host tests can drive it byte by byte. */
#include "kernel.h"

#define LE_BS   0x08
#define LE_DEL  0x7f
#define LE_CTLC 0x03
#define LE_CTLU 0x15

/* last_cr is kept: callers reset right after a line that ended at CR, and the LF of that CRLF
 * still has to be swallowed. A fresh struct must start zeroed. */
void lineedit_reset(struct lineedit *le)
{
	le->len = 0;
	le->buf[0] = '\0';
	le->overflow = false;
}

static void le_echo(void (*echo)(const char *), const char *s)
{
	if (echo)
		echo(s);
}

static void le_erase(struct lineedit *le, uint32_t n, void (*echo)(const char *))
{
	for (; n > 0 && le->len > 0; n--) {
		le->len--;
		le_echo(echo, "\b \b");
	}
}

int lineedit_feed(struct lineedit *le, int c, void (*echo)(const char *s))
{
	bool after_cr = le->last_cr;
	le->last_cr = c == '\r';
	if (c == '\n' && after_cr)
		return 0;               /* the LF of a CRLF pair: the line already ended at the CR */
	if (c == '\r' || c == '\n') {
		le_echo(echo, "\r\n");
		if (le->overflow) {
			lineedit_reset(le);
			return -1;
		}
		/* The text stays in buf for the caller; len = 0 makes the next byte start a new line
		 * even if the caller does not reset. */
		le->buf[le->len] = '\0';
		le->len = 0;
		return 1;
	}
	switch (c) {
	case LE_BS:
	case LE_DEL:
		/* In an overlong line the visible text is not what will be used: the line is lost
		 * anyway, so editing it would only mislead. */
		if (!le->overflow)
			le_erase(le, 1, echo);
		return 0;
	case LE_CTLU:
		/* Only stored characters were echoed, so erasing those clears the whole line. */
		le_erase(le, le->len, echo);
		le->overflow = false;
		return 0;
	case LE_CTLC:
		le_echo(echo, "^C\r\n");
		lineedit_reset(le);
		return 0;
	}
	/* Other controls, escape sequences and non-ASCII bytes (c may also be negative). */
	if (c < 0x20 || c > 0x7e)
		return 0;
	if (le->overflow || le->len >= CONSOLE_LINE_MAX - 1) {
		le->overflow = true;    /* nothing more stored or echoed until the line ends */
		return 0;
	}
	le->buf[le->len++] = (char)c;
	char s[2] = { (char)c, '\0' };
	le_echo(echo, s);
	return 0;
}

static bool le_space(char c)
{
	return c == ' ' || c == '\t';
}

int console_split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;
	while (*p && argc < max) {
		while (le_space(*p))
			p++;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && !le_space(*p))
			p++;
		/* End the word in place; words past max are left as they are and ignored. */
		if (*p)
			*p++ = '\0';
	}
	return argc;
}

static bool le_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int console_dispatch(const struct console_cmd *cmds, int argc, char **argv)
{
	if (argc <= 0)
		return 0;
	for (const struct console_cmd *c = cmds; c && c->name; c++) {
		if (c->fn && le_streq(c->name, argv[0])) {
			c->fn(argc, argv);
			return 0;
		}
	}
	return -1;
}
