/*
 * A console on a unix socket: one client at a time attaches (socat, nc -U)
 * and detaches at will. Output while nobody listens, or faster than the
 * client reads, waits in a ring buffer and reaches the next reader; only
 * when the ring overflows is the oldest output dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <hv/hv.h>

struct sock {
	int listen_fd, client_fd;
	struct hv_watch *lw, *cw;
	uint8_t *ring;
	size_t cap, head, len; /* bytes [head, head+len) mod cap */
	char path[108];
	uint8_t in[256];
	size_t in_len, in_pos;
};

static void ring_put(struct sock *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->ring[(s->head + s->len) % s->cap] = b[i];
		if (s->len < s->cap)
			s->len++;
		else
			s->head = (s->head + 1) % s->cap; /* drop the oldest */
	}
}

static void client_gone(struct hv_ctx *ctx, struct sock *s)
{
	if (s->cw)
		hv_fd_unwatch(ctx, s->cw);
	close(s->client_fd);
	s->client_fd = -1;
	s->cw = NULL;
	s->in_len = s->in_pos = 0;
}

static void client_events(struct hv_ctx *ctx, void *opaque, unsigned ev);

static void rewatch(struct hv_ctx *ctx, struct sock *s)
{
	unsigned ev = (s->in_pos < s->in_len ? 0 : HV_FD_IN) | (s->len ? HV_FD_OUT : 0);

	if (s->cw)
		hv_fd_unwatch(ctx, s->cw);
	s->cw = NULL;
	if (ev && hv_fd_watch(ctx, s->client_fd, ev, client_events, s, &s->cw))
		hv_error(ctx, "cannot watch the client connection: it is ignored");
}

/* Drain the ring to the client as far as it takes it. */
static int flush(struct sock *s)
{
	while (s->len) {
		size_t chunk = s->cap - s->head < s->len ? s->cap - s->head : s->len;
		ssize_t n = send(s->client_fd, s->ring + s->head, chunk,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		s->head = (s->head + n) % s->cap;
		s->len -= n;
	}
	return 0;
}

static void push_input(struct hv_ctx *ctx, struct sock *s)
{
	s->in_pos += hv_console_input(ctx, s->in + s->in_pos, s->in_len - s->in_pos);
	if (s->in_pos >= s->in_len)
		s->in_len = s->in_pos = 0;
}

static void client_events(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct sock *s = opaque;

	if (ev & HV_FD_IN) {
		ssize_t n = recv(s->client_fd, s->in, sizeof(s->in), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			client_gone(ctx, s);
			return;
		}
		if (n > 0) {
			s->in_len = n;
			s->in_pos = 0;
			push_input(ctx, s);
		}
	}
	if ((ev & HV_FD_ERR) || flush(s)) {
		client_gone(ctx, s);
		return;
	}
	rewatch(ctx, s);
}

static void on_accept(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct sock *s = opaque;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (s->client_fd >= 0) { /* one client at a time: the newest wins */
		client_gone(ctx, s);
	}
	s->client_fd = fd;
	if (flush(s)) {
		client_gone(ctx, s);
		return;
	}
	rewatch(ctx, s);
}

/* Only a stale socket is removed to make room: never a file someone put
 * at the path. */
static void unlink_stale(const char *path)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
}

/* On failure everything taken here is given back: destroy is not called. */
static int sock_create(struct hv_ctx *ctx)
{
	struct sock *s = HV_STATE(ctx, struct sock);
	const char *path = hv_config_get_str(ctx, "path");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	s->listen_fd = s->client_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		hv_error(ctx, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	s->cap = (size_t)hv_config_get_int(ctx, "buffer");
	s->ring = malloc(s->cap);
	if (!s->ring)
		return -ENOMEM;
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0) {
		rc = -errno;
		goto out_free;
	}
	unlink_stale(path);
	if (bind(s->listen_fd, (void *)&sa, sizeof(sa))) {
		rc = -errno;
		goto out_close;
	}
	if (listen(s->listen_fd, 4)) {
		rc = -errno;
		goto out_unlink;
	}
	rc = hv_fd_watch(ctx, s->listen_fd, HV_FD_IN, on_accept, s, &s->lw);
	if (rc)
		goto out_unlink;
	return 0;
out_unlink:
	unlink(path);
out_close:
	close(s->listen_fd);
	s->listen_fd = -1;
out_free:
	hv_error(ctx, "%s: %s", path, strerror(-rc));
	free(s->ring);
	s->ring = NULL;
	return rc;
}

static void sock_destroy(struct hv_ctx *ctx)
{
	struct sock *s = HV_STATE(ctx, struct sock);

	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	free(s->ring);
}

static size_t sock_write(struct hv_ctx *ctx, const void *buf, size_t len)
{
	struct sock *s = HV_STATE(ctx, struct sock);
	int was_empty = !s->len;

	ring_put(s, buf, len);
	if (s->client_fd >= 0 && was_empty) {
		if (flush(s))
			client_gone(ctx, s);
		else if (s->len)
			rewatch(ctx, s); /* the client is slow: wait for room */
	}
	return len;
}

static void sock_input_ready(struct hv_ctx *ctx)
{
	struct sock *s = HV_STATE(ctx, struct sock);

	if (s->in_pos < s->in_len)
		push_input(ctx, s);
	if (s->client_fd >= 0)
		rewatch(ctx, s);
}

static const struct hv_console_ops ops = {
	.create = sock_create,
	.destroy = sock_destroy,
	.write = sock_write,
	.input_ready = sock_input_ready,
};

static const struct hv_config_key keys[] = {
	HV_KEY_OUTFILE("path", HV_KEY_REQUIRED, "the unix socket to listen on"),
	HV_KEY_SZ("buffer", "64K", 256, 64 << 20, "output kept for a client that is not attached"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(socket, console, &ops,
		 .version = "1.0",
		 .description = "console on a unix socket; attach and detach at will",
		 .instance_size = sizeof(struct sock),
		 .keys = keys);
