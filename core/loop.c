/*
 * epoll on the main thread. Each timer is a timerfd (few timers, exact
 * kernel timekeeping, no heap to keep); deferred calls queue under a mutex
 * and wake the loop through an eventfd, which is what makes loop_defer()
 * the one entry point safe from vCPU threads.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <hv/host.h>

struct loop_watch {
	int fd;
	loop_fd_fn fn;
	void *opaque;
	struct loop_watch *next; /* in the dead list once unwatched */
	int dead;
};

struct loop_timer {
	struct loop *l;
	struct loop_watch *w;
	loop_fn fn;
	void *opaque;
};

struct deferred {
	loop_fn fn;
	void *opaque;
	struct deferred *next;
};

struct loop {
	int ep, wake;
	int stop;
	pthread_mutex_t lock;
	struct deferred *head, **tail;
	struct loop_call *calls, **calls_tail; /* caller-owned nodes */
	struct loop_watch *dead; /* freed between dispatch rounds */
	int depth; /* loop_once() nesting: a drain runs the loop from a callback */
	struct loop_watch wake_watch;
};

static unsigned to_epoll(unsigned ev)
{
	return (ev & HV_FD_IN ? EPOLLIN : 0) | (ev & HV_FD_OUT ? EPOLLOUT : 0);
}

static unsigned from_epoll(unsigned ev)
{
	return (ev & EPOLLIN ? HV_FD_IN : 0) | (ev & EPOLLOUT ? HV_FD_OUT : 0) |
	       (ev & (EPOLLERR | EPOLLHUP) ? HV_FD_ERR : 0);
}

static void run_deferred(void *opaque, unsigned events)
{
	struct loop *l = opaque;
	struct deferred *d;
	struct loop_call *c;
	uint64_t v;

	if (read(l->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&l->lock);
	d = l->head;
	l->head = NULL;
	l->tail = &l->head;
	c = l->calls;
	l->calls = NULL;
	l->calls_tail = &l->calls;
	pthread_mutex_unlock(&l->lock);
	while (d) {
		struct deferred *next = d->next;
		d->fn(d->opaque);
		free(d);
		d = next;
	}
	while (c) {
		struct loop_call *next = c->next; /* fn may queue c again */
		c->fn(c->opaque);
		c = next;
	}
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&l->lock, NULL);
	l->tail = &l->head;
	l->calls_tail = &l->calls;
	l->wake_watch = (struct loop_watch){ .fd = l->wake, .fn = run_deferred,
					     .opaque = l };
	ev.data.ptr = &l->wake_watch;
	if (l->ep < 0 || l->wake < 0 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev)) {
		loop_free(l);
		return NULL;
	}
	return l;
}

static void reap(struct loop *l)
{
	while (l->dead) {
		struct loop_watch *w = l->dead;
		l->dead = w->next;
		free(w);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	run_deferred(l, 0);
	reap(l);
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake >= 0)
		close(l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[32];
	int n = epoll_wait(l->ep, ev, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->depth++;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = ev[i].data.ptr;
		if (!w->dead)
			w->fn(w->opaque, from_epoll(ev[i].events));
	}
	/* an outer round may still hold unwatched ones in its ev[] */
	if (--l->depth == 0)
		reap(l);
	return n;
}

int loop_run(struct loop *l)
{
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		int rc = loop_once(l, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void set_stop(void *opaque)
{
	struct loop *l = opaque;
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
}

void loop_stop(struct loop *l)
{
	if (loop_defer(l, set_stop, l))
		set_stop(l);
}

int loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn,
	       void *opaque, struct loop_watch **out)
{
	struct loop_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = to_epoll(events) };

	if (!w)
		return -ENOMEM;
	*w = (struct loop_watch){ .fd = fd, .fn = fn, .opaque = opaque };
	ev.data.ptr = w;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;
		free(w);
		return -e;
	}
	if (out)
		*out = w;
	return 0;
}

int loop_watch_modify(struct loop *l, struct loop_watch *w, unsigned events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = w };

	return epoll_ctl(l->ep, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void loop_unwatch(struct loop *l, struct loop_watch *w)
{
	if (!w)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	/* an event for it may still be in this round's batch */
	w->dead = 1;
	w->next = l->dead;
	l->dead = w;
}

static void timer_fired(void *opaque, unsigned events)
{
	struct loop_timer *t = opaque;
	uint64_t n;

	if (read(t->w->fd, &n, sizeof(n)) == sizeof(n))
		t->fn(t->opaque);
}

int loop_timer_new(struct loop *l, loop_fn fn, void *opaque,
		   struct loop_timer **out)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	int fd, rc;

	if (!t)
		return -ENOMEM;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0) {
		free(t);
		return -errno;
	}
	*t = (struct loop_timer){ .l = l, .fn = fn, .opaque = opaque };
	rc = loop_watch(l, fd, HV_FD_IN, timer_fired, t, &t->w);
	if (rc) {
		close(fd);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static struct timespec ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000ull,
				  .tv_nsec = ns % 1000000000ull };
}

void loop_timer_arm(struct loop_timer *t, uint64_t delay_ns, uint64_t period_ns)
{
	struct itimerspec its = { .it_value = ts(delay_ns),
				  .it_interval = ts(period_ns) };

	timerfd_settime(t->w->fd, 0, &its, NULL);
}

void loop_timer_free(struct loop_timer *t)
{
	int fd;

	if (!t)
		return;
	fd = t->w->fd;
	loop_unwatch(t->l, t->w);
	close(fd);
	free(t);
}

int loop_defer(struct loop *l, loop_fn fn, void *opaque)
{
	struct deferred *d = malloc(sizeof(*d));
	uint64_t one = 1;

	if (!d)
		return -ENOMEM;
	*d = (struct deferred){ .fn = fn, .opaque = opaque };
	pthread_mutex_lock(&l->lock);
	*l->tail = d;
	l->tail = &d->next;
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

void loop_call_queue(struct loop *l, struct loop_call *c)
{
	uint64_t one = 1;

	c->next = NULL;
	pthread_mutex_lock(&l->lock);
	*l->calls_tail = c;
	l->calls_tail = &c->next;
	pthread_mutex_unlock(&l->lock);
	/* a full eventfd counter still wakes the loop */
	if (write(l->wake, &one, sizeof(one)) < 0)
		return;
}
