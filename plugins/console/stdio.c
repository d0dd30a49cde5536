/*
 * The terminal hv runs in as a console. On a tty it goes raw (the guest
 * sees every key, Ctrl-C included) and Ctrl-A x quits, Ctrl-A Ctrl-A sends
 * a Ctrl-A; the terminal is restored on exit. Input the device cannot take
 * yet waits here, with stdin unwatched, until input_ready.
 */
#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <hv/hv.h>

#define ESCAPE 0x01 /* Ctrl-A */

struct con {
	struct termios saved;
	int raw;
	int escape_seen;
	struct hv_watch *watch;
	uint8_t pending[256];
	size_t npending, pos;
};

static void deliver(struct hv_ctx *ctx, struct con *c);

static void on_input(struct hv_ctx *ctx, void *opaque, unsigned events)
{
	struct con *c = opaque;
	uint8_t buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) { /* EOF: no more input */
			hv_fd_unwatch(ctx, c->watch);
			c->watch = NULL;
		}
		return;
	}
	c->npending = c->pos = 0;
	for (ssize_t i = 0; i < n; i++) {
		uint8_t b = buf[i];

		if (c->raw && c->escape_seen) {
			c->escape_seen = 0;
			if (b == 'x' || b == 'X') {
				hv_vm_request(ctx, HV_VM_QUIT, 0);
				return;
			}
			if (b != ESCAPE)
				continue;
		} else if (c->raw && b == ESCAPE) {
			c->escape_seen = 1;
			continue;
		}
		c->pending[c->npending++] = b;
	}
	deliver(ctx, c);
}

static void deliver(struct hv_ctx *ctx, struct con *c)
{
	size_t n = hv_console_input(ctx, c->pending + c->pos, c->npending - c->pos);

	c->pos += n;
	if (c->pos < c->npending && c->watch) {
		/* the device is full: stop reading until it says otherwise */
		hv_fd_unwatch(ctx, c->watch);
		c->watch = NULL;
	}
}

static void stdio_input_ready(struct hv_ctx *ctx)
{
	struct con *c = HV_STATE(ctx, struct con);

	if (c->pos < c->npending)
		deliver(ctx, c);
	if (c->pos >= c->npending && !c->watch &&
	    hv_fd_watch(ctx, STDIN_FILENO, HV_FD_IN, on_input, c, &c->watch))
		hv_error(ctx, "cannot watch stdin again: typed input is lost");
}

static int stdio_create(struct hv_ctx *ctx)
{
	struct con *c = HV_STATE(ctx, struct con);
	int rc;

	if (hv_config_get_int(ctx, "input")) {
		if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &c->saved)) {
			struct termios t = c->saved;

			cfmakeraw(&t);
			t.c_oflag |= OPOST | ONLCR; /* keep output readable */
			if (!tcsetattr(STDIN_FILENO, TCSANOW, &t))
				c->raw = 1;
		}
		rc = hv_fd_watch(ctx, STDIN_FILENO, HV_FD_IN, on_input, c, &c->watch);
		if (rc && rc != -EPERM) { /* EPERM: stdin is a regular file */
			hv_error(ctx, "cannot watch stdin: %s", strerror(-rc));
			/* destroy is not called after a failed create */
			if (c->raw)
				tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
			c->raw = 0;
			return rc;
		}
	}
	return 0;
}

static void stdio_destroy(struct hv_ctx *ctx)
{
	struct con *c = HV_STATE(ctx, struct con);

	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
}

static size_t stdio_write(struct hv_ctx *ctx, const void *buf, size_t len)
{
	const char *b = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, b + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a closed stdout drops output, never the guest */
		done += n;
	}
	return len;
}

static const struct hv_console_ops ops = {
	.create = stdio_create,
	.destroy = stdio_destroy,
	.write = stdio_write,
	.input_ready = stdio_input_ready,
};

static const struct hv_config_key keys[] = {
	HV_KEY_FLAG("input", "on", "read stdin (raw mode on a terminal; Ctrl-A x quits)"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(stdio, console, &ops,
		 .version = "1.0",
		 .description = "hv's own terminal: stdout and stdin",
		 .instance_size = sizeof(struct con),
		 .keys = keys);
