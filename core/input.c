/*
 * Input (hv/input.h): each VM's sinks in registration order, the routing
 * of a batch to them, and one bounded queue per sink, drained by a
 * deferred call of the sink's device (hv_loop_defer, through the device's
 * ctx->host: no link to services.c, which sits above) so its event
 * callback runs under its own domain lock, never inside
 * hv_input_send(), and a device's teardown cancels it.
 *
 * Everything runs on the main thread but hv_input_active(), which a device
 * calls from its region accesses too: the flag is atomic and nothing else
 * reads or writes sink state off the main thread, so no lock is needed.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "display.h"
#include "instance.h"
#include "services.h"
#include "vm.h"

#define DRAIN_BUDGET 64 /* batches per run before the loop's other work */
#define FALLBACK_W 1024 /* what ABS scales to with no surface to go by */
#define FALLBACK_H 768

struct input_batch {
	unsigned n;
	struct hv_input_event ev[HV_INPUT_BATCH_MAX];
};

struct hv_input {
	struct instance *dev;
	unsigned caps;
	struct hv_input_cbs cbs;
	void *opaque;
	atomic_int active;
	struct input_batch *q; /* INPUT_QUEUE_MAX, a ring */
	unsigned head, count;
	int scheduled; /* a drain is queued */
	struct hv_input *next; /* in vm->inputs: implicit devices' first, then
				  registration order */
};

int svc_input_register(struct hv_ctx *ctx, unsigned caps,
		       const struct hv_input_cbs *cbs, size_t cbs_size,
		       void *opaque, struct hv_input **out)
{
	const unsigned all = HV_INPUT_CAP_KEY | HV_INPUT_CAP_REL | HV_INPUT_CAP_ABS;
	struct instance *dev = inst_of(ctx);
	struct hv_input *in, **tail;

	if (!dev->vm || !out || !caps || caps & ~all || !cbs)
		return -EINVAL;
	if (!(in = calloc(1, sizeof(*in))))
		return -ENOMEM;
	if (!(in->q = calloc(INPUT_QUEUE_MAX, sizeof(*in->q)))) {
		free(in);
		return -ENOMEM;
	}
	in->dev = dev;
	in->caps = caps;
	in->opaque = opaque;
	COPY_CBS(in->cbs, cbs, cbs_size);
	if (!in->cbs.event) {
		free(in->q);
		free(in);
		return -EINVAL;
	}
	/* The platform's own devices (machine = pc's i8042) count as
	 * registered before every device the file configures, so a sink the
	 * user added (a tablet, a test device) wins the "last registered
	 * active" rule whatever order the devices were created in. */
	tail = &dev->vm->inputs;
	if (!(dev->sec && dev->sec->implicit))
		while (*tail)
			tail = &(*tail)->next;
	else
		while (*tail && (*tail)->dev->sec && (*tail)->dev->sec->implicit)
			tail = &(*tail)->next;
	in->next = *tail;
	*tail = in;
	*out = in;
	return 0;
}

void svc_input_active(struct hv_ctx *ctx, struct hv_input *in, int on)
{
	if (in && in->dev == inst_of(ctx))
		atomic_store(&in->active, !!on);
}

/* ---- routing ---- */

/* Pointer buttons (BTN_MISC..BTN_GEAR_UP) travel with the pointer; every
 * other key code is the keyboard's. */
static int is_button(const struct hv_input_event *e)
{
	return e->type == HV_INPUT_KEY && e->code >= 0x100 && e->code < 0x160;
}

/* The last registered active sink with cap, else (first) the first
 * registered one with it. */
static struct hv_input *sink_for(struct vm *vm, unsigned cap, int first)
{
	struct hv_input *pick = NULL, *firstone = NULL;

	for (struct hv_input *in = vm->inputs; in; in = in->next) {
		if (!(in->caps & cap))
			continue;
		if (!firstone)
			firstone = in;
		if (atomic_load(&in->active))
			pick = in;
	}
	return pick ? pick : first ? firstone : NULL;
}

static int32_t abs_to_px(int32_t v, uint32_t size)
{
	if (v < 0)
		v = 0;
	if (v > HV_INPUT_ABS_MAX)
		v = HV_INPUT_ABS_MAX;
	return (int32_t)(((int64_t)v * (size - 1) + HV_INPUT_ABS_MAX / 2) /
			 HV_INPUT_ABS_MAX);
}

/* A pointer batch made relative for a mouse: each ABS axis becomes the
 * motion from where the VM's pointer was, in pixels of the surface. */
static void abs_to_rel(struct vm *vm, struct hv_display *via,
		       struct input_batch *b)
{
	uint32_t w = 0, h = 0;
	int32_t nx = vm->ptr_x, ny = vm->ptr_y;
	struct input_batch o = { 0 };

	if (via)
		display_size(via, &w, &h);
	if (!w || !h) {
		w = FALLBACK_W;
		h = FALLBACK_H;
	}
	for (unsigned i = 0; i < b->n; i++) {
		const struct hv_input_event *e = &b->ev[i];

		if (e->type != HV_INPUT_ABS)
			o.ev[o.n++] = *e;
		else if (e->code == HV_ABS_X)
			nx = abs_to_px(e->value, w);
		else if (e->code == HV_ABS_Y)
			ny = abs_to_px(e->value, h);
	}
	/* motion first, as a mouse reports it with its buttons */
	if (ny != vm->ptr_y && o.n < HV_INPUT_BATCH_MAX) {
		memmove(&o.ev[1], &o.ev[0], o.n++ * sizeof(o.ev[0]));
		o.ev[0] = (struct hv_input_event){ HV_INPUT_REL, HV_REL_Y,
						   ny - vm->ptr_y };
	}
	if (nx != vm->ptr_x && o.n < HV_INPUT_BATCH_MAX) {
		memmove(&o.ev[1], &o.ev[0], o.n++ * sizeof(o.ev[0]));
		o.ev[0] = (struct hv_input_event){ HV_INPUT_REL, HV_REL_X,
						   nx - vm->ptr_x };
	}
	*b = o;
	vm->ptr_x = nx;
	vm->ptr_y = ny;
}

/* Remember where the pointer is (in pixels), whichever sink gets it. */
static void abs_track(struct vm *vm, struct hv_display *via,
		      const struct input_batch *b)
{
	uint32_t w = 0, h = 0;

	if (via)
		display_size(via, &w, &h);
	if (!w || !h) {
		w = FALLBACK_W;
		h = FALLBACK_H;
	}
	for (unsigned i = 0; i < b->n; i++) {
		if (b->ev[i].type != HV_INPUT_ABS)
			continue;
		if (b->ev[i].code == HV_ABS_X)
			vm->ptr_x = abs_to_px(b->ev[i].value, w);
		else if (b->ev[i].code == HV_ABS_Y)
			vm->ptr_y = abs_to_px(b->ev[i].value, h);
	}
}

/* Keep only the events the sink took (a tablet without REL loses the
 * wheel, say). */
static void filter_caps(struct input_batch *b, unsigned caps)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->n; i++) {
		const struct hv_input_event *e = &b->ev[i];
		int ok = e->type == HV_INPUT_KEY ? 1 :
			 e->type == HV_INPUT_REL ? !!(caps & HV_INPUT_CAP_REL) :
						   !!(caps & HV_INPUT_CAP_ABS);
		if (ok)
			b->ev[n++] = *e;
	}
	b->n = n;
}

/* The pointer part's sink, its events made fit for it. */
static struct hv_input *route_pointer(struct vm *vm, struct hv_display *via,
				      struct input_batch *b)
{
	int has_abs = 0, has_rel = 0;
	struct hv_input *abs, *rel;

	for (unsigned i = 0; i < b->n; i++) {
		has_abs |= b->ev[i].type == HV_INPUT_ABS;
		has_rel |= b->ev[i].type == HV_INPUT_REL;
	}
	abs = sink_for(vm, HV_INPUT_CAP_ABS, 0);
	rel = sink_for(vm, HV_INPUT_CAP_REL, 0);
	if (has_abs && !abs && rel)
		abs_to_rel(vm, via, b);
	else if (has_abs)
		abs_track(vm, via, b);
	if ((has_abs || !has_rel) && abs)
		rel = NULL;
	else
		abs = NULL;
	if (abs)
		filter_caps(b, abs->caps);
	return abs ? abs : rel;
}

/* ---- queues ---- */

static void drain(struct hv_ctx *ctx, void *opaque)
{
	struct hv_input *in = opaque;

	in->scheduled = 0;
	for (int i = 0; i < DRAIN_BUDGET && in->count; i++) {
		struct input_batch b = in->q[in->head];

		in->head = (in->head + 1) % INPUT_QUEUE_MAX;
		in->count--;
		in->cbs.event(&in->dev->ctx, in->opaque, b.ev, b.n);
	}
	if (in->count && !in->dev->ctx.host->loop_defer(&in->dev->ctx, drain, in))
		in->scheduled = 1;
}

static int enqueue(struct hv_input *in, const struct input_batch *b)
{
	if (!b->n)
		return 0;
	in->q[(in->head + in->count) % INPUT_QUEUE_MAX] = *b;
	in->count++;
	if (!in->scheduled && !in->dev->ctx.host->loop_defer(&in->dev->ctx, drain, in))
		in->scheduled = 1;
	return 0;
}

static int batch_check(const struct hv_input_event *ev, unsigned n)
{
	if (!ev || !n || n > HV_INPUT_BATCH_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (ev[i].type < HV_INPUT_KEY || ev[i].type > HV_INPUT_ABS)
			return -EINVAL;
	return 0;
}

int input_send(struct vm *vm, struct hv_display *via,
	       const struct hv_input_event *ev, unsigned n)
{
	struct input_batch kb = { 0 }, pb = { 0 };
	struct hv_input *ks, *ps;
	int32_t ox = vm->ptr_x, oy = vm->ptr_y;

	if (batch_check(ev, n))
		return -EINVAL;
	if (!via)
		via = vm->displays;
	for (unsigned i = 0; i < n; i++) {
		if (ev[i].type == HV_INPUT_KEY && !is_button(&ev[i]))
			kb.ev[kb.n++] = ev[i];
		else
			pb.ev[pb.n++] = ev[i];
	}
	ks = kb.n ? sink_for(vm, HV_INPUT_CAP_KEY, 1) : NULL;
	ps = pb.n ? route_pointer(vm, via, &pb) : NULL;
	if (!ks && !ps) {
		vm->ptr_x = ox; /* nothing moved */
		vm->ptr_y = oy;
		return -ENODEV;
	}
	/* all of the batch or none of it: a key without its release, or a
	 * button without the motion, would be worse than nothing */
	if ((ks && ks->count == INPUT_QUEUE_MAX) ||
	    (ps && ps->count == INPUT_QUEUE_MAX)) {
		vm->ptr_x = ox;
		vm->ptr_y = oy;
		return -EAGAIN;
	}
	if (ks && ks == ps) { /* one sink takes both: still one batch */
		for (unsigned i = 0; i < pb.n && kb.n < HV_INPUT_BATCH_MAX; i++)
			kb.ev[kb.n++] = pb.ev[i];
		ps = NULL;
	}
	if (ks)
		enqueue(ks, &kb);
	if (ps)
		enqueue(ps, &pb);
	return 0;
}

int svc_input_send(struct hv_ctx *ctx, const struct hv_input_event *ev,
		   unsigned n)
{
	struct instance *in = inst_of(ctx);

	if (!in->vm)
		return -EINVAL;
	return input_send(in->vm, display_of_frontend(in), ev, n);
}

int input_queued(struct vm *vm, const char *section)
{
	int n = 0;

	for (struct hv_input *in = vm->inputs; in; in = in->next)
		if (in->dev->sec && !strcmp(in->dev->sec->id, section))
			n += (int)in->count;
	return n;
}

void input_release(struct instance *dev)
{
	struct hv_input **pp;

	if (!dev->vm)
		return;
	for (pp = &dev->vm->inputs; *pp;) {
		struct hv_input *in = *pp;

		if (in->dev != dev) {
			pp = &in->next;
			continue;
		}
		*pp = in->next; /* its queued drain goes with dev's defers */
		free(in->q);
		free(in);
	}
}
