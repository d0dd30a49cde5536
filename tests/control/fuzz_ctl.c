/*
 * libFuzzer over the control protocol (core/ctlproto.c): arbitrary bytes,
 * fed in chunks whose sizes the input picks, cut into lines, words and
 * commands. The handlers check what the parser promises them — a word
 * count within the row's bounds, words that are non-empty and hold no
 * blank or control byte, all inside the line — and every reply is one
 * line that starts "ok" or "error: ", or "ok+ LEN" for a command with a
 * body (`blob`, whose body is as long as its first word) and LEN its
 * length. A broken promise aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

struct fuzz {
	const struct ctl_cmd *table;
	char *line;
	size_t len;
	int lines;
};

static struct fuzz *cur;

static int words_ok(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (!l || argv[i] < cur->line || argv[i] + l > cur->line + cur->len)
			return 0;
		for (size_t j = 0; j < l; j++)
			if ((unsigned char)argv[i][j] <= 0x20 || argv[i][j] == 0x7f)
				return 0;
	}
	return argv[argc] == NULL;
}

static int handler(void *opaque, int argc, char **argv, char *reply, size_t n)
{
	const struct ctl_cmd *c = opaque;

	for (; c->name && strcmp(c->name, argv[0]); c++)
		;
	if (!c->name || argc - 1 < c->min_args || argc - 1 > c->max_args ||
	    !words_ok(argc, argv))
		abort();
	/* a reply as long as the buffer: truncated, never overrun */
	memset(reply, 'r', n - 1);
	reply[n - 1] = 0;
	return argc & 1 ? 0 : -22;
}

/* A body of strlen(argv[1]) bytes, or an error for an even word count
 * (after allocating: the dispatcher frees a failed handler's body). */
static int blob(void *opaque, int argc, char **argv, struct ctl_body *body,
		char *reply, size_t n)
{
	if (!words_ok(argc, argv))
		abort();
	body->len = argc > 1 ? strlen(argv[1]) : 0;
	body->buf = malloc(body->len + 1);
	if (!body->buf)
		return -12;
	memset(body->buf, 'b', body->len);
	if (!(argc & 1))
		return snprintf(reply, n, "blob refused"), -22;
	return 0;
}

static const struct ctl_cmd table[] = {
	{ "set", 3, 3, handler, "set SECTION KEY VALUE", NULL },
	{ "get", 2, 2, handler, "get SECTION KEY", NULL },
	{ "info", 0, 0, handler, "info", NULL },
	{ "many", 0, CTL_MAX_WORDS - 1, handler, "many [WORD...]", NULL },
	{ "blob", 0, 3, NULL, "blob [WORD...]", blob },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

static int on_line(void *opaque, char *line, size_t len)
{
	char reply[CTL_REPLY_MAX];
	struct ctl_body body;
	unsigned long long bl;
	size_t rl;

	cur->line = line;
	cur->len = len;
	cur->lines++;
	if (line && (len > CTL_LINE_MAX || line[len] != 0))
		abort();
	ctl_dispatch_body(cur->table, (void *)cur->table, line, len, reply,
			  sizeof(reply), (cur->lines & 1) ? &body : NULL);
	rl = strlen(reply);
	if (rl >= sizeof(reply) || memchr(reply, '\n', rl) ||
	    (rl && strncmp(reply, "ok", 2) && strncmp(reply, "error: ", 7)))
		abort();
	if (cur->lines & 1) { /* with a body: "ok+ LEN" exactly when one came */
		if (!strncmp(reply, "ok+ ", 4) != (body.buf != NULL) ||
		    (body.buf && (sscanf(reply, "ok+ %llu", &bl) != 1 || bl != body.len)))
			abort();
		free(body.buf);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_in in; /* 4 KiB: not on the fuzzer's stack */
	struct fuzz f = { .table = table };
	size_t chunk;

	if (!size)
		return 0;
	memset(&in, 0, sizeof(in));
	cur = &f;
	chunk = (size_t)data[0] * 37 + 1; /* 1 .. 9436 bytes a read */
	data++;
	size--;
	while (size) {
		size_t n = size < chunk ? size : chunk;

		ctl_in_feed(&in, (const char *)data, n, on_line, NULL);
		if (in.len > CTL_LINE_MAX)
			abort();
		data += n;
		size -= n;
	}
	return 0;
}
