/*
 * The bus's per-access cost: ns per bus_access() into a plugin-like region
 * with an owner (so the domain lock is taken), from one thread and from
 * two threads hitting the same region at once. A figure, not a test: run
 * by bench/bus/run.sh against a build's libhvcore.a.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bus.h"
#include "instance.h"

#define N 5000000

static struct bus bus;
static struct instance owner;

static uint64_t rd(struct hv_ctx *ctx, void *opaque, uint64_t off,
		   unsigned size)
{
	return off;
}

static void wr(struct hv_ctx *ctx, void *opaque, uint64_t off, unsigned size,
	       uint64_t val)
{
}

static const struct hv_region_ops ops = { .read = rd, .write = wr };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *hammer(void *arg)
{
	uint64_t v, sum = 0;

	for (int i = 0; i < N; i++) {
		bus_access(&bus, 0x1000 + (i & 7) * 4, 4, 0, &v);
		sum += v;
	}
	return (void *)(uintptr_t)sum;
}

static double run(int threads)
{
	pthread_t th[2];
	uint64_t t0 = now_ns();

	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return (double)(now_ns() - t0) / N;
}

int main(void)
{
	double best1 = 1e9, best2 = 1e9;

	pthread_mutex_init(&owner.own_lock, NULL);
	owner.lock = &owner.own_lock;
	bus_init(&bus, "mmio", 0);
	/* a few neighbours so the lookup is not trivially one element */
	for (int i = 0; i < 15; i++)
		bus_add(&bus, 0x10000 + i * 0x100, 0x100, &ops, NULL, &owner,
			NULL);
	bus_add(&bus, 0x1000, 0x100, &ops, NULL, &owner, NULL);
	for (int rep = 0; rep < 5; rep++) {
		double a = run(1), b = run(2);
		best1 = a < best1 ? a : best1;
		best2 = b < best2 ? b : best2;
	}
	printf("bus_access: %.1f ns/access (1 thread), %.1f ns per thread-access "
	       "wall (2 threads, same region)\n", best1, best2);
	bus_destroy(&bus);
	return 0;
}
