/*
 * The control protocol's framing and dispatch (ctlproto.h). Nothing here
 * allocates: a connection's partial line lives in its struct ctl_in, the
 * words point into the line, and a reply is built in the caller's buffer
 * (a body is its handler's; it is only freed here when the handler fails).
 */
#include "ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line ends at buf[len]; a '\r' before the '\n' goes with it. */
static int deliver(struct ctl_in *in, size_t len, ctl_line_fn fn, void *opaque)
{
	if (len && in->buf[len - 1] == '\r')
		len--;
	in->buf[len] = 0;
	return fn(opaque, in->buf, len);
}

int ctl_in_feed(struct ctl_in *in, const char *data, size_t n, ctl_line_fn fn,
		void *opaque)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		int rc = 0;

		if (in->skipping) {
			/* the rest of an over-long line: dropped, already answered */
			in->skipping = !nl;
		} else if (in->len + take > CTL_LINE_MAX) {
			in->len = 0;
			in->skipping = !nl;
			rc = fn(opaque, NULL, 0);
		} else {
			memcpy(in->buf + in->len, data, take);
			in->len += take;
			if (nl) {
				size_t len = in->len;

				in->len = 0;
				rc = deliver(in, len, fn, opaque);
			}
		}
		if (rc)
			return rc;
		if (!nl)
			break;
		data = nl + 1;
		n -= take + 1;
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int has_control(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 && !is_space(line[i]))
			return 1;
		else if (line[i] == 0x7f)
			return 1;
	return 0;
}

int ctl_split(char *line, size_t len, char **argv, int max)
{
	int argc = 0;

	if (has_control(line, len))
		return -EINVAL;
	for (char *p = line; *p;) {
		while (is_space(*p))
			*p++ = 0;
		if (!*p)
			break;
		if (argc == max)
			return -E2BIG;
		argv[argc++] = p;
		while (*p && !is_space(*p))
			p++;
	}
	return argc;
}

static const struct ctl_cmd *find(const struct ctl_cmd *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* A line whose command takes the rest of the line (ctl_cmd.rest): its
 * name and, when there is any, the text after the blanks following it;
 * the count, or 0 for any other line (ctl_split cuts it then). */
static int rest_split(const struct ctl_cmd *table, char *line, size_t len,
		      char **argv)
{
	char *p = line, *name;
	const struct ctl_cmd *c;

	if (has_control(line, len))
		return 0; /* ctl_split says so */
	while (is_space(*p))
		p++;
	for (name = p; *p && !is_space(*p); p++)
		;
	if (!*name)
		return 0;
	for (c = table; c->name; c++)
		if (strlen(c->name) == (size_t)(p - name) &&
		    !memcmp(c->name, name, (size_t)(p - name)))
			break;
	if (!c->name || !c->rest)
		return 0;
	argv[0] = name;
	if (!*p)
		return 1;
	*p++ = 0;
	while (is_space(*p))
		p++;
	if (!*p)
		return 1;
	argv[1] = p;
	return 2;
}

/* The handler's answer, or why the line never reached one, in text. */
static int run(const struct ctl_cmd *table, void *opaque, char *line,
	       size_t len, char *text, size_t n, struct ctl_body *body)
{
	char *argv[CTL_MAX_WORDS + 1];
	const struct ctl_cmd *c;
	int argc = rest_split(table, line, len, argv);

	if (!argc)
		argc = ctl_split(line, len, argv, CTL_MAX_WORDS);

	if (argc == -EINVAL)
		return snprintf(text, n, "the line holds a control character"),
		       -EINVAL;
	if (argc < 0)
		return snprintf(text, n, "more than %d words", CTL_MAX_WORDS),
		       -E2BIG;
	argv[argc] = NULL;
	if (!argc) /* only blanks: ctl_dispatch answers none, but be sure */
		return snprintf(text, n, "no command"), -EINVAL;
	if (!(c = find(table, argv[0])))
		return snprintf(text, n, "unknown command '%.64s' (try help)",
				argv[0]),
		       -ENOENT;
	if (argc - 1 < c->min_args || argc - 1 > c->max_args)
		return snprintf(text, n, "usage: %s", c->usage), -EINVAL;
	if (c->fn)
		return c->fn(opaque, argc, argv, text, n);
	if (!body || !c->body_fn)
		return snprintf(text, n, "%s answers with a body this connection cannot take",
				c->name),
		       -EOPNOTSUPP;
	return c->body_fn(opaque, argc, argv, body, text, n);
}

int ctl_dispatch(const struct ctl_cmd *table, void *opaque, char *line,
		 size_t len, char *reply, size_t n)
{
	return ctl_dispatch_body(table, opaque, line, len, reply, n, NULL);
}

int ctl_dispatch_body(const struct ctl_cmd *table, void *opaque, char *line,
		      size_t len, char *reply, size_t n, struct ctl_body *body)
{
	char text[CTL_REPLY_MAX];
	int rc;

	if (body)
		*body = (struct ctl_body){ NULL, 0 };
	reply[0] = 0;
	text[0] = 0;
	if (!line) {
		snprintf(reply, n, "error: line longer than %d bytes",
			 CTL_LINE_MAX);
		return -E2BIG;
	}
	if (strspn(line, " \t") == len) /* blank: no command, no reply */
		return 0;
	rc = run(table, opaque, line, len, text, sizeof(text), body);
	if (rc) {
		if (body) { /* a handler that failed half-way */
			free(body->buf);
			*body = (struct ctl_body){ NULL, 0 };
		}
		snprintf(reply, n, "error: %s", *text ? text : strerror(-rc));
	} else if (body && body->buf)
		snprintf(reply, n, "ok+ %zu", body->len);
	else
		snprintf(reply, n, "ok%s%s", *text ? " " : "", text);
	return rc;
}
