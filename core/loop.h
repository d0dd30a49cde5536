/*
 * The main thread's event loop: epoll over fds, timerfd-backed timers and
 * a thread-safe deferred-call queue woken by an eventfd. Everything but
 * loop_defer() must be called on the loop's own thread (or before it runs).
 * Callbacks here take no locks: services.c wraps plugin callbacks with the
 * instance's domain lock.
 */
#ifndef HV_CORE_LOOP_H
#define HV_CORE_LOOP_H

#include <stdint.h>

struct loop;
struct loop_watch;
struct loop_timer;

typedef void (*loop_fd_fn)(void *opaque, unsigned events); /* HV_FD_* bits */
typedef void (*loop_fn)(void *opaque);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* Run until loop_stop(); returns 0 or -errno. */
int loop_run(struct loop *l);
/* Run what is ready now, waiting at most timeout_ms (-1: forever). */
int loop_once(struct loop *l, int timeout_ms);
void loop_stop(struct loop *l); /* any thread */

int loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn,
	       void *opaque, struct loop_watch **out);
int loop_watch_modify(struct loop *l, struct loop_watch *w, unsigned events);
void loop_unwatch(struct loop *l, struct loop_watch *w);

int loop_timer_new(struct loop *l, loop_fn fn, void *opaque,
		   struct loop_timer **out);
/* delay_ns 0 disarms; period_ns 0: one-shot. */
void loop_timer_arm(struct loop_timer *t, uint64_t delay_ns,
		    uint64_t period_ns);
void loop_timer_free(struct loop_timer *t);

/* Queue fn(opaque) to run on the loop thread; safe from any thread. */
int loop_defer(struct loop *l, loop_fn fn, void *opaque);

/* The same without a malloc: the caller owns the node and queues it at
 * most once until its fn starts (fn may queue it again). */
struct loop_call {
	loop_fn fn;
	void *opaque;
	struct loop_call *next;
};
void loop_call_queue(struct loop *l, struct loop_call *c);

#endif
