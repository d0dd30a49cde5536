/* The event loop: timers, deferred calls from other threads, fd watches
 * removed from inside their own callbacks. */
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>

#include "loop.h"
#include "unit.h"

static int fired;
static void count(void *o) { fired++; }

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void timers(void)
{
	struct loop *l = loop_new();
	struct loop_timer *once, *periodic;
	uint64_t t0 = now_ms();

	fired = 0;
	CHECK(loop_timer_new(l, count, NULL, &once) == 0);
	CHECK(loop_timer_new(l, count, NULL, &periodic) == 0);
	loop_timer_arm(once, 5000000, 0);          /* 5 ms, once */
	loop_timer_arm(periodic, 2000000, 2000000); /* every 2 ms */
	while (fired < 6 && now_ms() - t0 < 2000)
		loop_once(l, 100);
	CHECK(fired >= 6);
	loop_timer_arm(periodic, 0, 0); /* disarm */
	int before = fired;
	uint64_t t1 = now_ms();
	while (now_ms() - t1 < 30)
		loop_once(l, 10);
	CHECK(fired == before);
	loop_timer_free(once);
	loop_timer_free(periodic);
	loop_free(l);
}

struct ctx {
	struct loop *l;
	int n;
};

static void add_one(void *o) { ((struct ctx *)o)->n++; }

static void *producer(void *o)
{
	struct ctx *c = o;
	for (int i = 0; i < 1000; i++)
		loop_defer(c->l, add_one, c);
	return NULL;
}

static void defer_from_threads(void)
{
	struct ctx c = { .l = loop_new() };
	pthread_t t[2];
	uint64_t t0 = now_ms();

	pthread_create(&t[0], NULL, producer, &c);
	pthread_create(&t[1], NULL, producer, &c);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	while (c.n < 2000 && now_ms() - t0 < 2000)
		loop_once(c.l, 50);
	CHECK(c.n == 2000); /* on the loop thread, none lost */
	loop_free(c.l);
}

struct selfw {
	struct loop *l;
	struct loop_watch *w;
	int fd, calls;
};

static void unwatch_self(void *o, unsigned ev)
{
	struct selfw *s = o;
	s->calls++;
	loop_unwatch(s->l, s->w);
}

static void unwatch_inside_callback(void)
{
	struct selfw s = { .l = loop_new() };
	uint64_t one = 1;

	s.fd = eventfd(0, EFD_NONBLOCK);
	CHECK(loop_watch(s.l, s.fd, 0x1, unwatch_self, &s, &s.w) == 0);
	CHECK(write(s.fd, &one, 8) == 8);
	loop_once(s.l, 100);
	loop_once(s.l, 20); /* still readable, but no longer watched */
	CHECK(s.calls == 1);
	close(s.fd);
	loop_free(s.l);
}

static void stop_from_thread(void)
{
	struct loop *l = loop_new();
	uint64_t t0 = now_ms();

	loop_stop(l);
	CHECK(loop_run(l) == 0);
	CHECK(now_ms() - t0 < 1000);
	loop_free(l);
}

int main(void)
{
	TEST(timers);
	TEST(defer_from_threads);
	TEST(unwatch_inside_callback);
	TEST(stop_from_thread);
	return 0;
}
