/*
 * The control socket's transport (ctlsock.h). A reply is written at once
 * with MSG_DONTWAIT; what the socket does not take (a status body of
 * megabytes, a slow reader) waits in the connection's queue, and the
 * connection is not read until the queue is empty, so one client holds at
 * most one batch of replies. A client whose queue would pass
 * CTL_QUEUE_MAX (it pipelines more than it reads) is cut off rather than
 * buffered for without bound.
 */
#include "ctlsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <hv/host.h>

#include "log.h"
#include "loop.h"

#define CTL_QUEUE_MAX (CTL_BODY_MAX + 256 * 1024)

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	struct loop_watch *w;
	struct ctl_in in;
	char *out;      /* replies the socket has not taken yet */
	size_t out_off, out_len, out_cap;
	struct ctl_client *next;
};

struct ctl_server {
	struct loop *loop;
	const struct ctl_cmd *table;
	void *opaque;
	char *path;
	int fd;
	dev_t dev; /* the socket file we bound: unlinked only if still ours */
	ino_t ino;
	struct loop_watch *w;
	struct ctl_client *clients;
	int nclients;
	int held; /* a handler runs the loop: no line may start inside it */
};

/* The listener takes connections unless held or full. */
static void listen_events(struct ctl_server *srv)
{
	loop_watch_modify(srv->loop, srv->w,
			  srv->held || srv->nclients >= CTL_MAX_CLIENTS ?
				  0 : HV_FD_IN);
}

/* Read a client while nothing of its waits to be written. */
static void client_events(struct ctl_client *c)
{
	unsigned ev = c->out_off < c->out_len ? HV_FD_OUT : HV_FD_IN;

	loop_watch_modify(c->srv->loop, c->w, c->srv->held ? 0 : ev);
}

void ctl_server_hold(struct ctl_server *srv, int on)
{
	srv->held = on;
	listen_events(srv);
	for (struct ctl_client *c = srv->clients; c; c = c->next)
		client_events(c);
}

static void client_close(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;

	for (struct ctl_client **pp = &srv->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	loop_unwatch(srv->loop, c->w);
	close(c->fd);
	free(c->out);
	free(c);
	srv->nclients--;
	listen_events(srv); /* it may have stopped at the limit */
}

/* Write what the socket takes now; 0, or -EIO when the peer is gone. */
static int client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t k = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0)
			return -EIO;
		c->out_off += (size_t)k;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return 0;
}

/* Queue bytes behind what waits, then write what the socket takes. */
static int client_send(struct ctl_client *c, const char *data, size_t len)
{
	size_t need = c->out_len - c->out_off + len;

	if (need > CTL_QUEUE_MAX)
		return -EIO;
	if (c->out_off && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		if (!(p = realloc(c->out, cap)))
			return -EIO;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return client_flush(c);
}

static int on_line(void *opaque, char *line, size_t len)
{
	struct ctl_client *c = opaque;
	char reply[CTL_REPLY_MAX + 1];
	struct ctl_body body;
	size_t rl;
	int rc;

	ctl_dispatch_body(c->srv->table, c->srv->opaque, line, len, reply,
			  sizeof(reply) - 1, &body);
	if (!*reply) /* a blank line */
		return 0;
	rl = strlen(reply);
	reply[rl++] = '\n';
	rc = client_send(c, reply, rl);
	if (!rc && body.buf)
		rc = client_send(c, body.buf, body.len);
	free(body.buf);
	client_events(c);
	return rc;
}

static void on_client(void *opaque, unsigned events)
{
	struct ctl_client *c = opaque;
	char buf[4096];
	ssize_t got;

	if (c->srv->held) /* a hang-up while a handler runs the loop */
		return;
	if (c->out_off < c->out_len) { /* a reply waits: write, read later */
		if (client_flush(c))
			client_close(c);
		else
			client_events(c);
		return;
	}
	got = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0 || ctl_in_feed(&c->in, buf, (size_t)got, on_line, c))
		client_close(c);
}

static void on_accept(void *opaque, unsigned events)
{
	struct ctl_server *srv = opaque;
	struct ctl_client *c;
	int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		/* out of fds: wait for a client to go rather than spin */
		if ((errno == EMFILE || errno == ENFILE) && srv->clients)
			loop_watch_modify(srv->loop, srv->w, 0);
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	*c = (struct ctl_client){ .srv = srv, .fd = fd, .next = srv->clients };
	if (loop_watch(srv->loop, fd, HV_FD_IN, on_client, c, &c->w)) {
		close(fd);
		free(c);
		return;
	}
	srv->clients = c;
	srv->nclients++;
	listen_events(srv);
}

/* Whatever is at the path may go only if it is a socket nobody serves. */
static int clear_path(const struct sockaddr_un *sa, const char **why)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : (*why = strerror(errno), -errno);
	if (!S_ISSOCK(st.st_mode))
		return *why = "exists and is not a socket", -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return *why = strerror(errno), -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (!rc)
		return *why = "another VM listens there", -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return *why = strerror(errno), -errno;
	info("control: %s: replacing a stale socket", sa->sun_path);
	return unlink(sa->sun_path) ? (*why = strerror(errno), -errno) : 0;
}

static int bind_socket(struct ctl_server *srv, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t mask;
	int rc;

	if (strlen(srv->path) >= sizeof(sa.sun_path))
		return *why = "too long for a unix socket address", -ENAMETOOLONG;
	strcpy(sa.sun_path, srv->path);
	if ((rc = clear_path(&sa, why)))
		return rc;
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0)
		return *why = strerror(errno), -errno;
	mask = umask(0177); /* 0600 from the start: no window for others */
	rc = bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (rc || stat(srv->path, &st))
		return *why = strerror(errno), -errno;
	srv->dev = st.st_dev; /* from here on ctl_server_close unlinks it */
	srv->ino = st.st_ino;
	return listen(srv->fd, 16) ? (*why = strerror(errno), -errno) : 0;
}

int ctl_server_open(struct loop *loop, const char *path,
		    const struct ctl_cmd *table, void *opaque,
		    struct ctl_server **out, const char **why)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));
	int rc = -ENOMEM;

	*why = "out of memory";
	if (!srv || !(srv->path = strdup(path)))
		goto out_free;
	*srv = (struct ctl_server){ .loop = loop, .table = table,
				    .opaque = opaque, .path = srv->path,
				    .fd = -1 };
	if ((rc = bind_socket(srv, why)))
		goto out_free;
	rc = loop_watch(loop, srv->fd, HV_FD_IN, on_accept, srv, &srv->w);
	if (rc) {
		*why = strerror(-rc);
		goto out_free;
	}
	*out = srv;
	return 0;
out_free:
	ctl_server_close(srv);
	return rc;
}

void ctl_server_close(struct ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	srv->held = 1; /* the listener stays off while the clients go */
	while (srv->clients)
		client_close(srv->clients);
	if (srv->w)
		loop_unwatch(srv->loop, srv->w);
	if (srv->fd >= 0) {
		close(srv->fd);
		/* a later hv may have replaced ours: leave its socket alone */
		if (srv->ino && !stat(srv->path, &st) && st.st_ino == srv->ino &&
		    st.st_dev == srv->dev)
			unlink(srv->path);
	}
	free(srv->path);
	free(srv);
}
