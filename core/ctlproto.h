/*
 * The control socket's line protocol (ctlproto.c), apart from the socket
 * and the VM (control.c) so the fuzzer takes it alone: a byte stream cut
 * into lines, a line cut into words, and a table of commands checked for
 * their word counts before a handler runs.
 *
 * A line is at most CTL_LINE_MAX bytes before its '\n' (a '\r' before the
 * '\n' is dropped). Words are separated by spaces or tabs; a line holding
 * another control byte (NUL included) is refused whole. JSON may come
 * later as a second framing over the same table.
 *
 * A reply is one line, "ok TEXT" or "error: TEXT", at most CTL_REPLY_MAX
 * bytes, except a command with a body (status): its ok reply is the line
 * "ok+ LEN" and then LEN bytes of body (text lines or JSON, at most
 * CTL_BODY_MAX, ending with a '\n'); its errors are error lines as ever.
 */
#ifndef HV_CORE_CTLPROTO_H
#define HV_CORE_CTLPROTO_H

#include <stddef.h>

#define CTL_LINE_MAX 4096
#define CTL_REPLY_MAX (CTL_LINE_MAX + 512)
#define CTL_MAX_WORDS 16
/* a body: a plugin's report (HV_OUT_MAX, hv/out.h) and the core's wrapping */
#define CTL_BODY_MAX (4u * 1024 * 1024 + 64 * 1024)

/* A body reply, malloc'd by its handler, freed by whoever sends it. */
struct ctl_body {
	char *buf;
	size_t len;
};

/* A handler fills reply (n bytes) with the text after "ok " or "error: "
 * and returns 0 (ok) or -errno (error). argv[0] is the command's name. */
typedef int (*ctl_fn)(void *opaque, int argc, char **argv, char *reply,
		      size_t n);

/* A command with a body: 0 with body filled, or -errno with reply (n
 * bytes) holding the error's text. */
typedef int (*ctl_body_fn)(void *opaque, int argc, char **argv,
			   struct ctl_body *body, char *reply, size_t n);

struct ctl_cmd {
	const char *name;
	int min_args, max_args; /* words after the name */
	ctl_fn fn;         /* NULL for a command with a body */
	const char *usage; /* "set SECTION KEY VALUE" */
	ctl_body_fn body_fn;
	/* the words after the name are one argument, the rest of the line
	 * as it came (`type TEXT`: spaces kept, any number of them) */
	int rest;
};

/* Bytes received on one connection and not yet a whole line. */
struct ctl_in {
	char buf[CTL_LINE_MAX + 1];
	size_t len;
	int skipping; /* inside a line that was too long: until its '\n' */
};

/* Called with each whole line (NUL-terminated, '\n' gone, len < CTL_LINE_MAX
 * + 1) or with line NULL once for a line that was longer than CTL_LINE_MAX.
 * A non-zero return stops the feed and is returned by ctl_in_feed. */
typedef int (*ctl_line_fn)(void *opaque, char *line, size_t len);

/* Take n more bytes; whole lines go to fn in order. 0, or fn's return. */
int ctl_in_feed(struct ctl_in *in, const char *data, size_t n, ctl_line_fn fn,
		void *opaque);

/* Cut line into at most max words in place: the count (0 for a blank
 * line), -E2BIG for more words, -EINVAL for a control byte in len bytes. */
int ctl_split(char *line, size_t len, char **argv, int max);

/* Run one line against table (ended by a NULL name): the reply line
 * without its '\n' ("ok ..." or "error: ..."), or "" for a blank line
 * (no reply). 0 for ok or a blank line, else -errno. */
int ctl_dispatch(const struct ctl_cmd *table, void *opaque, char *line,
		 size_t len, char *reply, size_t n);
/* The same, where a command with a body may answer: then reply is
 * "ok+ LEN" and *body the LEN bytes (the caller frees body->buf). body
 * NULL: such a command answers an error line. */
int ctl_dispatch_body(const struct ctl_cmd *table, void *opaque, char *line,
		      size_t len, char *reply, size_t n, struct ctl_body *body);

#endif
