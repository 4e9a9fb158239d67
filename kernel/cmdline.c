/* Console line editing and command dispatch: pure, so the host tests drive it byte by byte. */
#include "kernel.h"

void lineedit_reset(struct lineedit *le)
{
	le->len = 0;
	le->buf[0] = '\0';
	le->overflow = false;
}

static void say(void (*echo)(const char *), const char *s)
{
	if (echo)
		echo(s);
}

int lineedit_feed(struct lineedit *le, int c, void (*echo)(const char *s))
{
	bool was_cr = le->last_cr;
	le->last_cr = (c == '\r');
	if (c == '\n' && was_cr)
		return 0;               /* the LF of a CRLF pair: the line already ended at CR */
	if (c == '\r' || c == '\n') {
		say(echo, "\r\n");
		if (le->overflow) {
			lineedit_reset(le);
			return -1;
		}
		le->buf[le->len] = '\0';
		return 1;
	}
	if (c == 0x08 || c == 0x7f) {   /* backspace, DEL */
		if (le->len > 0 && !le->overflow) {
			le->len--;
			say(echo, "\b \b");
		}
		return 0;
	}
	if (c == 0x15) {                /* Ctrl-U: erase the line */
		for (; le->len > 0; le->len--)
			say(echo, "\b \b");
		le->overflow = false;
		return 0;
	}
	if (c == 0x03) {                /* Ctrl-C: abandon the line */
		say(echo, "^C\r\n");
		lineedit_reset(le);
		return 0;
	}
	if (c < 0x20 || c > 0x7e)
		return 0;               /* other controls, escape sequences, non-ASCII */
	if (le->overflow || le->len + 1 >= CONSOLE_LINE_MAX) {
		le->overflow = true;
		return 0;
	}
	le->buf[le->len++] = (char)c;
	char e[2] = { (char)c, 0 };
	say(echo, e);
	return 0;
}

int console_split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc < max)
			argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int console_dispatch(const struct console_cmd *cmds, int argc, char **argv)
{
	if (argc == 0)
		return 0;
	for (const struct console_cmd *c = cmds; c->name; c++) {
		if (streq(c->name, argv[0])) {
			c->fn(argc, argv);
			return 0;
		}
	}
	return -1;
}
