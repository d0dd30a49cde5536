/*
 * Cross-domain calls (hv_post): two post-dev devices and a post-hub (a net
 * backend with its own domain) built from an INI string, posting through
 * their PIO registers the way a guest's accesses would, from the main
 * thread and from vCPU-like threads; the main loop delivers.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "services.h"
#include "post.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#include "../fixtures/post_fixture.h"

#define INI "[vm]\nkernel = /bin/sh\nmachine = none\n" \
	"[net hub]\nplugin = post-hub\n" \
	"[device a]\nplugin = post-dev\nport = 0x100\npeer = b\n" \
	"[device b]\nplugin = post-dev\nport = 0x120\npeer = a\n" \
	"[device c]\nplugin = post-dev\nport = 0x140\nhub = hub\nnet = hub\n" \
	"[device d]\nplugin = post-dev\nport = 0x160\nnet = hub\n"

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "post_dev", "post_hub", "post_con", NULL };
	char path[512];

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	snprintf(path, sizeof(path), "%s/plugins/uart16550.so", unit_build_dir());
	plugin_load_file(&h->set, path);
	harness_build(h, ini, &accel_kvm);
	return unit_capture_end();
}

static struct pf_state *st(struct harness *h, const char *name)
{
	struct instance *in = find(h, name);
	return in ? in->ctx.state : NULL;
}

static void wr(struct harness *h, uint16_t port, uint32_t v)
{
	uint64_t x = v;
	vm_pio(&h->vm, port, 4, 1, &x);
}

static int32_t rc_of(struct harness *h, uint16_t base)
{
	uint64_t x = 0;
	vm_pio(&h->vm, base + PF_REG_RC, 4, 0, &x);
	return (int32_t)x;
}

/* Run the loop until *counter reaches want (or 5 s pass). */
static void run_until(struct harness *h, volatile unsigned long *counter,
		      unsigned long want)
{
	time_t end = time(NULL) + 5;

	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want &&
	       time(NULL) < end)
		loop_once(h->vm.loop, 10);
}

static int clean(const struct pf_state *s)
{
	return s && !s->bad_lock && !s->bad_thread && !s->bad_order;
}

static void fifo_per_pair(void)
{
	struct harness h;
	struct pf_state *a, *b;
	int refused = 0;

	vm_up(&h, INI);
	CHECK(h.ok);
	a = st(&h, "a");
	b = st(&h, "b");
	if (!a || !b)
		return vm_down(&h);
	for (uint32_t i = 1; i <= 2000; i++) {
		wr(&h, 0x100 + PF_REG_SEQ, i);
		refused += rc_of(&h, 0x100) != 0;
	}
	CHECK(refused == 0);
	CHECK(b->got == 0); /* never synchronously inside hv_post */
	run_until(&h, &b->got, 2000);
	CHECK(b->got == 2000 && b->last_seq[0] == 2000);
	CHECK(b->nsenders == 1 && clean(b) && a->got == 0);
	vm_down(&h);
}

struct writer {
	struct harness *h;
	uint16_t base;
	uint32_t n;
	unsigned long eagain;
};

/* A vCPU: guest writes to the device's register, retrying when full. */
static void *vcpu_writer(void *opaque)
{
	struct writer *w = opaque;
	struct timespec nap = { 0, 100000 };

	for (uint32_t i = 1; i <= w->n; i++) {
		wr(w->h, w->base + PF_REG_SEQ, i);
		if (rc_of(w->h, w->base) == -EAGAIN) {
			w->eagain++;
			nanosleep(&nap, NULL);
			i--;
		}
	}
	return NULL;
}

static void post_from_vcpu_threads(void)
{
	struct harness h;
	struct pf_state *a, *b;
	struct writer wa = { &h, 0x100, 20000, 0 }, wb = { &h, 0x120, 20000, 0 };
	pthread_t ta, tb;
	unsigned long sum;
	time_t end;

	vm_up(&h, INI);
	CHECK(h.ok);
	a = st(&h, "a");
	b = st(&h, "b");
	if (!a || !b)
		return vm_down(&h);
	/* 64-byte messages: 20000 of them overflow a queue, so -EAGAIN and
	 * the drain are both exercised while both threads post */
	wr(&h, 0x100 + PF_REG_SIZE, 64);
	wr(&h, 0x120 + PF_REG_SIZE, 64);
	pthread_create(&ta, NULL, vcpu_writer, &wa);
	pthread_create(&tb, NULL, vcpu_writer, &wb);
	end = time(NULL) + 20;
	do {
		loop_once(h.vm.loop, 10);
		sum = __atomic_load_n(&a->got, __ATOMIC_ACQUIRE) +
		      __atomic_load_n(&b->got, __ATOMIC_ACQUIRE);
	} while (sum < 40000 && time(NULL) < end);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(a->got == 20000 && b->got == 20000);
	CHECK(a->last_seq[0] == 20000 && b->last_seq[0] == 20000);
	CHECK(clean(a) && clean(b)); /* main thread, own lock only, in order */
	printf("# -EAGAIN seen: %lu and %lu\n", wa.eagain, wb.eagain);
	vm_down(&h);
}

static void queue_full_then_drains(void)
{
	struct harness h;
	struct pf_state *b;
	int sent = 0;

	vm_up(&h, INI);
	b = st(&h, "b");
	if (!b)
		return vm_down(&h);
	wr(&h, 0x100 + PF_REG_SIZE, HV_POST_MAX + 1);
	wr(&h, 0x100 + PF_REG_SEQ, 1);
	CHECK(rc_of(&h, 0x100) == -EMSGSIZE);
	wr(&h, 0x100 + PF_REG_SIZE, 60000);
	for (uint32_t i = 1; i <= HV_POST_QUEUE / 60000 + 2; i++) {
		wr(&h, 0x100 + PF_REG_SEQ, (uint32_t)sent + 1);
		if (rc_of(&h, 0x100))
			break;
		sent++;
	}
	CHECK(rc_of(&h, 0x100) == -EAGAIN);
	CHECK(sent == (int)(HV_POST_QUEUE / (60000 + 16))); /* bounded */
	CHECK(post_queued(&h.vm, find(&h, "b")->sec) > 4 * 60000);
	run_until(&h, &b->got, (unsigned long)sent);
	CHECK(b->got == (unsigned long)sent && clean(b));
	CHECK(post_queued(&h.vm, find(&h, "b")->sec) == 0);
	wr(&h, 0x100 + PF_REG_SEQ, (uint32_t)sent + 1);
	CHECK(rc_of(&h, 0x100) == 0);
	run_until(&h, &b->got, (unsigned long)sent + 1);
	CHECK(b->got == (unsigned long)sent + 1 && clean(b));
	vm_down(&h);
}

static void unlink_free(struct harness *h, struct instance *in)
{
	for (struct instance **p = &h->vm.instances; *p; p = &(*p)->next) {
		if (*p == in) {
			*p = in->next;
			break;
		}
	}
	instance_free(in);
}

static void target_destroyed(void)
{
	struct harness h;
	struct instance *b;
	const struct cfg_section *bsec;

	vm_up(&h, INI);
	b = find(&h, "b");
	if (!b)
		return vm_down(&h);
	bsec = b->sec;
	wr(&h, 0x100 + PF_REG_SIZE, 1000);
	for (uint32_t i = 1; i <= 3; i++)
		wr(&h, 0x100 + PF_REG_SEQ, i);
	CHECK(post_queued(&h.vm, b->sec) == 3 * 1016);
	unlink_free(&h, b); /* hot-unplug: its 3 pending messages go too */
	CHECK(post_queued(&h.vm, bsec) == -1); /* dead, ring freed */
	wr(&h, 0x100 + PF_REG_SEQ, 4);
	CHECK(rc_of(&h, 0x100) == -ENODEV);
	loop_once(h.vm.loop, 10); /* its queued drain finds it dead */
	vm_down(&h);
}

static int deferred_ran;

static void count_deferred(struct hv_ctx *ctx, void *opaque)
{
	deferred_ran++;
}

/* hv_loop_defer calls of an instance freed before the loop ran them are
 * cancelled (under ASan: no call into, nor lock of, the freed instance);
 * those of a live one still run. */
static void defer_cancelled_by_free(void)
{
	struct harness h;
	struct instance *a, *b;

	vm_up(&h, INI);
	a = find(&h, "a");
	b = find(&h, "b");
	if (!a || !b)
		return vm_down(&h);
	deferred_ran = 0;
	CHECK(core_host.loop_defer(&a->ctx, count_deferred, NULL) == 0);
	CHECK(core_host.loop_defer(&b->ctx, count_deferred, NULL) == 0);
	CHECK(core_host.loop_defer(&b->ctx, count_deferred, NULL) == 0);
	unlink_free(&h, b);
	for (int i = 0; i < 5; i++)
		loop_once(h.vm.loop, 1);
	CHECK(deferred_ran == 1);
	vm_down(&h);
}

static void sender_destroyed(void)
{
	struct harness h;
	struct pf_state *b;

	vm_up(&h, INI);
	b = st(&h, "b");
	if (!b)
		return vm_down(&h);
	for (uint32_t i = 1; i <= 3; i++)
		wr(&h, 0x100 + PF_REG_SEQ, i);
	unlink_free(&h, find(&h, "a"));
	for (int i = 0; i < 5; i++)
		loop_once(h.vm.loop, 10);
	CHECK(b->got == 0); /* dropped with its sender */
	CHECK(post_queued(&h.vm, find(&h, "b")->sec) == 0);
	vm_down(&h);
}

static void ping_pong_both_ways(void)
{
	struct harness h;
	struct pf_state *a, *b;
	unsigned long want = 2 * 1001;
	volatile unsigned long total = 0;
	time_t end;

	vm_up(&h, INI);
	a = st(&h, "a");
	b = st(&h, "b");
	if (!a || !b)
		return vm_down(&h);
	wr(&h, 0x100 + PF_REG_PING, 1000); /* a -> b -> a ... 1001 deliveries */
	wr(&h, 0x120 + PF_REG_PING, 1000); /* and b -> a -> b at the same time */
	end = time(NULL) + 5;
	while ((total = a->pings + b->pings) < want && time(NULL) < end)
		loop_once(h.vm.loop, 10);
	CHECK(total == want);
	CHECK(a->pings == 1001 && b->pings == 1001);
	CHECK(clean(a) && clean(b) && a->last_rc == 0 && b->last_rc == 0);
	vm_down(&h);
}

static void switch_ports(void)
{
	struct harness h;
	struct pf_state *hub, *c, *d;
	struct instance *hin;

	vm_up(&h, INI);
	CHECK(h.ok);
	hin = find(&h, "hub");
	hub = st(&h, "hub");
	c = st(&h, "c");
	d = st(&h, "d");
	if (!hub || !c || !d)
		return vm_down(&h);
	CHECK(hin->owner == NULL && hin->lock == &hin->own_lock);
	CHECK(find(&h, "c")->lock != hin->lock);
	run_until(&h, &hub->attached, 2);
	CHECK(hub->attached == 2 && hub->nports == 2);
	for (uint32_t i = 0; i < 100; i++)
		wr(&h, 0x140 + PF_REG_FRAME, 60 + i);
	CHECK(rc_of(&h, 0x140) == 0);
	run_until(&h, &d->frames, 100);
	CHECK(d->frames == 100 && c->frames == 0); /* flooded to the other port */
	wr(&h, 0x160 + PF_REG_FRAME, 1514);
	run_until(&h, &c->frames, 1);
	CHECK(c->frames == 1 && d->frames == 100);
	CHECK(clean(hub) && clean(c) && clean(d) && hub->dropped == 0);
	/* c also posts plain messages to the hub through its `hub` key */
	wr(&h, 0x140 + PF_REG_SEQ, 1);
	run_until(&h, &hub->got, hub->got + 1);
	CHECK(hub->nsenders >= 1 && clean(hub));
	vm_down(&h);
}

static void domain_held_tells(void)
{
	struct harness h;
	struct instance *a, *b;

	vm_up(&h, INI);
	a = find(&h, "a");
	b = find(&h, "b");
	if (!a || !b)
		return vm_down(&h);
	CHECK(hv_domain_held(&a->ctx) == 0);
	inst_lock(a);
	CHECK(hv_domain_held(&a->ctx) == 1 && hv_domain_held(&b->ctx) == 0);
	inst_lock(b); /* two domains at once is what the check reports */
	CHECK(hv_domain_held(&b->ctx) == 0);
	inst_unlock(b);
	inst_unlock(a);
	vm_down(&h);
}

/* A console with its own domain is not one device's backend: one line. */
static void own_domain_console_not_attached(void)
{
	struct harness h;
	const char *out;

	out = vm_up(&h, "[vm]\nkernel = /bin/sh\nmachine = none\n"
		    "[console con]\nplugin = post-con\n"
		    "[device com1]\nplugin = uart16550\nconsole = con\n");
	CHECK(!h.ok);
	CHECK_CONTAINS(out, "t.ini:8: [device com1]: console = con: plugin post-con of [console con] has a lock domain of its own");
	CHECK(find(&h, "con") && find(&h, "con")->created); /* it runs alone */
	vm_down(&h);
}

int main(void)
{
	TEST(fifo_per_pair);
	TEST(post_from_vcpu_threads);
	TEST(queue_full_then_drains);
	TEST(target_destroyed);
	TEST(sender_destroyed);
	TEST(ping_pong_both_ways);
	TEST(switch_ports);
	TEST(domain_held_tells);
	TEST(own_domain_console_not_attached);
	TEST(defer_cancelled_by_free);
	return unit_failed_total ? 1 : 0;
}
