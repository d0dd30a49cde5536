/* SPDX-License-Identifier: MIT */
/*
 * One switch across hv processes: `socket = PATH`, a SOCK_SEQPACKET unix
 * socket carrying one frame (offload header + Ethernet) per message, so
 * message boundaries are the kernel's and a frame is never half-read.
 *
 * The first process binds PATH and is the hub: each connection is a trunk
 * port of its switch. Any later process connects and its switch gets one
 * trunk port towards the hub. Processes form a star, so there is no loop
 * and no spanning tree. Each side's first message is a hello (magic,
 * version, switch type); two processes that disagree on the type refuse.
 *
 * Who is hub is decided under flock(PATH.lock): connect; a refused
 * connect means a stale file from a hub that died, which only then is
 * unlinked and bound again. Holding the lock, no other process can bind
 * between our failed connect and our unlink, so two processes never both
 * become hubs. When the hub goes away each client says so in one line
 * and runs the same election: one becomes the hub (and attaches the
 * uplink: only the hub has one), the others connect to it.
 *
 * Sockets are non-blocking and watched by the main loop; a full socket
 * drops the frame (counted), never stalls the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "switch.h"

#define HELLO_MAGIC 0x48565357u /* "HVSW" */
#define HELLO_VERSION 1
#define HELLO_WAIT_MS 2000      /* create waits this long for the hub's */
#define RECV_BUDGET 64          /* messages per wake-up, for fairness */
#define SOCK_BUF (4 << 20)
#define RETRY_NS 1000000000ull

struct hello {
	uint32_t magic;
	uint16_t version;
	uint8_t type;  /* enum sw_type */
	uint8_t flags; /* 1: sent by the hub */
	uint32_t pid;
};

static const char *const type_names[] = { "private", "internal", "external" };

static void link_ready(struct hv_ctx *ctx, void *opaque, unsigned events);
static int join(struct sw *s, int wait);

static struct sockaddr_un addr_of(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return a;
}

static void tune(int fd)
{
	int sz = SOCK_BUF;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static int send_hello(struct sw *s, int fd)
{
	struct hello h = { .magic = HELLO_MAGIC, .version = HELLO_VERSION,
			   .type = (uint8_t)s->type,
			   .flags = s->role == ROLE_HUB,
			   .pid = (uint32_t)getpid() };

	return send(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	       (ssize_t)sizeof(h) ? 0 : -errno;
}

/* A port for connected socket fd, watched. */
static int link_add(struct sw *s, int fd, const char *name)
{
	int p = sw_port_new(s, PORT_LINK, name), rc;

	if (p < 0)
		return p;
	s->port[p].fd = fd;
	rc = hv_fd_watch(s->ctx, fd, HV_FD_IN, link_ready, &s->port[p],
			 &s->port[p].w);
	if (rc) {
		sw_port_free(s, p);
		return rc;
	}
	return p;
}

static void link_close(struct sw *s, int p)
{
	struct sw_port *sp = &s->port[p];

	if (sp->w)
		hv_fd_unwatch(s->ctx, sp->w);
	if (sp->fd >= 0)
		close(sp->fd);
	sw_port_free(s, p);
}

static void retry_tick(struct hv_ctx *ctx, void *opaque)
{
	struct sw *s = opaque;

	if (s->role == ROLE_LOST && !join(s, 0)) {
		hv_warn(ctx, "the switch at %s is back: %s", s->path,
			s->role == ROLE_HUB ? "this process is its hub now" :
			"rejoined it");
		hv_timer_arm(ctx, s->retry, 0, 0);
	}
}

/* The hub went away: one line, then the election again. */
static void hub_gone(struct sw *s)
{
	int rc;

	s->link_port = -1;
	s->role = ROLE_LOST;
	rc = join(s, 0);
	if (!rc && s->role == ROLE_HUB)
		rc = sw_uplink_attach(s);
	if (!rc) {
		hv_warn(s->ctx, "the switch at %s went away; %s", s->path,
			s->role == ROLE_HUB ? "this process is its hub now" :
			"rejoined it through the new hub");
		return;
	}
	s->role = ROLE_LOST;
	hv_warn(s->ctx, "the switch at %s went away; retrying every second (%s)",
		s->path, strerror(-rc));
	if (s->retry || !hv_timer_new(s->ctx, retry_tick, s, &s->retry))
		hv_timer_arm(s->ctx, s->retry, RETRY_NS, RETRY_NS);
}

static void link_lost(struct sw *s, int p)
{
	int was_hub_link = p == s->link_port;

	link_close(s, p);
	if (was_hub_link)
		hub_gone(s);
}

/* The peer's hello: 0 when it may join, -EPROTO after a line. */
static int hello_check(struct sw *s, int p, const void *msg, ssize_t n)
{
	struct hello h;

	if (n != (ssize_t)sizeof(h)) {
		hv_warn(s->ctx, "%s: not an hv switch (first message of %zd bytes)",
			s->path, n);
		return -EPROTO;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.magic != HELLO_MAGIC || h.version != HELLO_VERSION) {
		hv_warn(s->ctx, "%s: not an hv switch of this version", s->path);
		return -EPROTO;
	}
	if (h.type != s->type) {
		if (s->role == ROLE_HUB) {
			send_hello(s, s->port[p].fd); /* the other side says why */
			hv_warn(s->ctx, "process %u asked to join with type = %s: this one is type = %s, refused",
				h.pid, h.type < 3 ? type_names[h.type] : "?",
				type_names[s->type]);
		} else {
			hv_error(s->ctx, "the switch at %s is type = %s, this one says type = %s: not joining",
				 s->path, h.type < 3 ? type_names[h.type] : "?",
				 type_names[s->type]);
		}
		return -EPROTO;
	}
	if (s->role == ROLE_HUB && send_hello(s, s->port[p].fd))
		return -EPROTO;
	s->port[p].hello = 1;
	fwd_port_set(&s->fwd, (unsigned)p, 0, 1);
	return 0;
}

static void link_ready(struct hv_ctx *ctx, void *opaque, unsigned events)
{
	struct sw *s = HV_STATE(ctx, struct sw);
	int p = (int)((struct sw_port *)opaque - s->port);

	for (int budget = RECV_BUDGET; budget--;) {
		ssize_t n = recv(s->port[p].fd, s->rxbuf, HV_NET_FRAME_MAX + 1,
				 MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			goto out_lost;
		if (!s->port[p].hello) {
			if (hello_check(s, p, s->rxbuf, n))
				goto out_lost;
			continue;
		}
		if (n > (ssize_t)HV_NET_FRAME_MAX) {
			s->st.oversize++;
			sw_warn_drop(s, "an oversized frame", s->port[p].name);
			continue;
		}
		sw_input(s, p, s->rxbuf, (size_t)n);
	}
	return;
out_lost:
	link_lost(s, p);
}

int sw_link_send(struct sw *s, int p, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = (size_t)iovcnt };

	if (!s->port[p].hello)
		return -ENOTCONN;
	if (sendmsg(s->port[p].fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	if (errno == EAGAIN || errno == ENOBUFS) {
		s->st.sock_full++;
		return -EAGAIN;
	}
	return -errno; /* a dead peer: its watch reports the hang-up */
}

static void hub_accept(struct hv_ctx *ctx, void *opaque, unsigned events)
{
	struct sw *s = opaque;
	char name[40];
	int fd;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		tune(fd);
		snprintf(name, sizeof(name), "the socket link %d", fd);
		if (link_add(s, fd, name) < 0) {
			s->st.refused++;
			close(fd);
		}
	}
}

/* The client's hello reply, waited for in create so that a type mismatch
 * stops hv before the guest starts. A slow hub (still building its VM)
 * is checked later by link_ready instead. */
static int hello_wait(struct sw *s, int p)
{
	struct pollfd pf = { .fd = s->port[p].fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, HELLO_WAIT_MS) <= 0)
		return 0;
	n = recv(pf.fd, s->rxbuf, HV_NET_FRAME_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		hv_error(s->ctx, "the switch at %s closed the connection", s->path);
		return -ECONNRESET;
	}
	return hello_check(s, p, s->rxbuf, n);
}

static int try_connect(struct sw *s, int wait)
{
	struct sockaddr_un a = addr_of(s->path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int p, rc;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	tune(fd);
	s->role = ROLE_CLIENT;
	if ((rc = send_hello(s, fd))) {
		close(fd);
		return rc;
	}
	p = link_add(s, fd, "the hub's socket link");
	if (p < 0) {
		close(fd);
		return p;
	}
	s->link_port = p;
	rc = wait ? hello_wait(s, p) : 0;
	if (rc) {
		link_close(s, p);
		s->link_port = -1;
	}
	return rc;
}

static int bind_hub(struct sw *s)
{
	struct sockaddr_un a = addr_of(s->path);
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    stat(s->path, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = hv_fd_watch(s->ctx, fd, HV_FD_IN, hub_accept, s, &s->lw);
	if (rc) {
		close(fd);
		unlink(s->path);
		return rc;
	}
	s->lfd = fd;
	s->bound_dev = st.st_dev;
	s->bound_ino = st.st_ino;
	s->role = ROLE_HUB;
	return 0;
}

/* Connect to the hub, or become it. wait: create's synchronous hello. */
static int elect(struct sw *s, int wait)
{
	int rc = try_connect(s, wait);

	if (rc == 0 || rc == -EPROTO || rc == -ECONNRESET)
		return rc;
	if (rc == -ECONNREFUSED)
		unlink(s->path); /* a dead hub's file: the lock keeps this safe */
	else if (rc != -ENOENT)
		return rc;
	return bind_hub(s);
}

static int join(struct sw *s, int wait)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int lfd, rc;

	snprintf(lock, sizeof(lock), "%s.lock", s->path);
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_EX)) {
		rc = -errno;
		goto out_close;
	}
	rc = elect(s, wait);
	s->joins += rc == 0;
	flock(lfd, LOCK_UN);
out_close:
	close(lfd);
	return rc;
}

int sw_link_start(struct sw *s)
{
	int rc = join(s, 1);

	if (rc && rc != -EPROTO && rc != -ECONNRESET)
		hv_error(s->ctx, "socket = %s: %s", s->path, strerror(-rc));
	return rc;
}

/* The hub's clean exit: unlink PATH if it is still the socket we bound
 * (a takeover may have replaced it), under the same lock as the election. */
static void hub_unlink(struct sw *s)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct stat st;
	int lfd;

	snprintf(lock, sizeof(lock), "%s.lock", s->path);
	lfd = open(lock, O_RDWR | O_CLOEXEC);
	if (lfd >= 0)
		flock(lfd, LOCK_EX);
	if (!stat(s->path, &st) && st.st_dev == s->bound_dev &&
	    st.st_ino == s->bound_ino)
		unlink(s->path);
	if (lfd >= 0)
		close(lfd);
}

void sw_link_stop(struct sw *s)
{
	for (int p = 0; p < FWD_PORTS; p++)
		if (s->port[p].kind == PORT_LINK)
			link_close(s, p);
	if (s->lfd >= 0) {
		hv_fd_unwatch(s->ctx, s->lw);
		close(s->lfd);
		hub_unlink(s);
		s->lfd = -1;
	}
	if (s->retry)
		hv_timer_free(s->ctx, s->retry);
	s->retry = NULL;
	s->role = ROLE_ALONE;
}
