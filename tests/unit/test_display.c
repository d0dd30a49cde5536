/*
 * The core's side of SDK 2.4 displays and input (core/display.c, input.c):
 * surface validation, damage clipping and merging, refresh interval
 * selection, pixel conversion; and, in a VM built from an INI string with
 * the test_display and test_view fixtures, a rejected surface keeping the
 * old one, frontends told of surfaces and damage on refresh, the refresh
 * timer following the frontends' intervals, and input routing (keyboard
 * last active else first registered, ABS turned into REL scaled to the
 * display, buttons with the pointer, nothing delivered inside the send,
 * no sink -> -ENODEV), the per-sink queue's bound and order.
 */
#include <errno.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "display.h"
#include "log.h"
#include "loop.h"
#include "services.h"
#include "vmharness.h"

#define HEAD "[vm]\nkernel = /bin/sh\nmachine = none\n"

/* ---- pure helpers ---- */

static void surface_validation(void)
{
	static uint32_t px[64 * 64], pal[256];
	struct hv_surface ok = { sizeof(ok), HV_PIXEL_XRGB8888, 64, 64, 256, 0,
				 px, NULL };
	struct hv_surface s;
	const char *why;

	CHECK(!display_surface_check(&ok, &why));
	s = (struct hv_surface){ .format = 0 }; /* blank: anything else ignored */
	CHECK(!display_surface_check(&s, &why));
	s = ok, s.format = 9;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	CHECK_CONTAINS(why, "format");
	s = ok, s.width = 0;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	s = ok, s.height = HV_DISPLAY_MAX_HEIGHT + 1;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	s = ok, s.width = HV_DISPLAY_MAX_WIDTH, s.stride = HV_DISPLAY_MAX_WIDTH * 4;
	CHECK(!display_surface_check(&s, &why)); /* the limit itself is fine */
	s = ok, s.stride = 255;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	CHECK_CONTAINS(why, "stride");
	s = ok, s.format = HV_PIXEL_RGB888, s.stride = 192;
	CHECK(!display_surface_check(&s, &why));
	s.stride = 191;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	s = ok, s.pixels = NULL;
	CHECK(display_surface_check(&s, &why) == -EINVAL);
	s = ok, s.format = HV_PIXEL_C8;
	CHECK(display_surface_check(&s, &why) == -EINVAL); /* no palette */
	s.palette = pal;
	CHECK(!display_surface_check(&s, &why));
}

static int has(const struct display_damage *dm, uint32_t x, uint32_t y,
	       uint32_t w, uint32_t h)
{
	for (int i = 0; i < dm->n; i++)
		if (dm->r[i].x == x && dm->r[i].y == y && dm->r[i].w == w &&
		    dm->r[i].h == h)
			return 1;
	return 0;
}

static void damage_clip_merge(void)
{
	struct display_damage dm = { .n = 0 };

	display_damage_add(&dm, 640, 480, 640, 0, 10, 10); /* right of it */
	display_damage_add(&dm, 640, 480, 0, 480, 10, 10); /* below */
	display_damage_add(&dm, 640, 480, 5, 5, 0, 10);    /* empty */
	CHECK(dm.n == 0);
	display_damage_add(&dm, 640, 480, 630, 470, 0xffffffffu, 0xffffffffu);
	CHECK(dm.n == 1 && has(&dm, 630, 470, 10, 10)); /* clipped, no wrap */
	display_damage_add(&dm, 640, 480, 620, 470, 10, 10); /* touches: merged */
	CHECK(dm.n == 1 && has(&dm, 620, 470, 20, 10));
	display_damage_add(&dm, 640, 480, 625, 472, 2, 2); /* inside */
	CHECK(dm.n == 1 && has(&dm, 620, 470, 20, 10));
	display_damage_add(&dm, 640, 480, 0, 0, 10, 10);
	display_damage_add(&dm, 640, 480, 100, 0, 10, 10);
	display_damage_add(&dm, 640, 480, 200, 0, 10, 10);
	CHECK(dm.n == 4); /* apart: kept apart */
	display_damage_add(&dm, 640, 480, 5, 5, 100, 2); /* bridges two */
	CHECK(dm.n == 3 && has(&dm, 0, 0, 110, 10));
	display_damage_add(&dm, 640, 480, 300, 300, 1, 1);
	CHECK(dm.n == 4);
	display_damage_add(&dm, 640, 480, 400, 100, 1, 1); /* many: the union */
	CHECK(dm.n == 1 && has(&dm, 0, 0, 640, 480));
}

static void refresh_interval(void)
{
	uint64_t none[2] = { 0, 0 }, some[3] = { 50000000, 0, 20000000 };
	uint64_t fast[2] = { 1000, 40000000 };

	CHECK(display_period(none, 2) == 0);
	CHECK(display_period(none, 0) == 0);
	CHECK(display_period(some, 3) == 20000000);
	CHECK(display_period(fast, 2) == 1000000000ull / HV_DISPLAY_HZ_MAX);
}

static void pixel_formats(void)
{
	uint16_t p16[2] = { 0xf800, 0x07e0 }, p15[2] = { 0x7c00, 0x001f };
	uint8_t p24[6] = { 0x11, 0x22, 0x33, 0xff, 0x00, 0x80 }, p8[2] = { 0, 7 };
	uint32_t p32[2] = { 0x00123456, 0xff0000ff }, pal[256] = { 0 };
	struct hv_surface s = { .width = 2, .height = 1, .stride = 8 };
	uint8_t rgb[6];

	s.format = HV_PIXEL_XRGB8888, s.pixels = p32;
	display_line_rgb(&s, 0, rgb);
	CHECK(!memcmp(rgb, "\x12\x34\x56\x00\x00\xff", 6));
	s.format = HV_PIXEL_RGB565, s.pixels = p16;
	display_line_rgb(&s, 0, rgb);
	CHECK(!memcmp(rgb, "\xff\x00\x00\x00\xff\x00", 6));
	s.format = HV_PIXEL_XRGB1555, s.pixels = p15;
	display_line_rgb(&s, 0, rgb);
	CHECK(!memcmp(rgb, "\xff\x00\x00\x00\x00\xff", 6));
	s.format = HV_PIXEL_RGB888, s.pixels = p24;
	display_line_rgb(&s, 0, rgb);
	CHECK(!memcmp(rgb, "\x33\x22\x11\x80\x00\xff", 6));
	pal[7] = 0x00abcdef;
	s.format = HV_PIXEL_C8, s.pixels = p8, s.palette = pal;
	display_line_rgb(&s, 0, rgb);
	CHECK(!memcmp(rgb, "\x00\x00\x00\xab\xcd\xef", 6));
}

/* ---- in a VM ---- */

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "test_display", "test_view", NULL };

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	harness_build(h, ini, &accel_kvm);
	return unit_capture_end();
}

/* What a test sink saw. */
struct rec {
	struct instance *dev;
	int calls, bad_lock;
	unsigned n[INPUT_QUEUE_MAX + 8];
	struct hv_input_event ev[INPUT_QUEUE_MAX + 8][HV_INPUT_BATCH_MAX];
};

static void rec_event(struct hv_ctx *ctx, void *opaque,
		      const struct hv_input_event *ev, unsigned n)
{
	struct rec *r = opaque;

	if (inst_of(ctx) != r->dev || !core_host.domain_held(ctx))
		r->bad_lock++;
	if (r->calls < INPUT_QUEUE_MAX + 8) {
		r->n[r->calls] = n;
		memcpy(r->ev[r->calls], ev, n * sizeof(*ev));
	}
	r->calls++;
}

static const struct hv_input_cbs rec_cbs = { .event = rec_event };

static struct hv_input *sink(struct harness *h, const char *dev, unsigned caps,
			     struct rec *r)
{
	struct hv_input *s = NULL;

	r->dev = find(h, dev);
	if (!r->dev)
		return NULL;
	inst_lock(r->dev);
	CHECK(!core_host.input_register(&r->dev->ctx, caps, &rec_cbs,
					sizeof(rec_cbs), r, &s));
	inst_unlock(r->dev);
	return s;
}

static void set_active(struct hv_input *s, struct rec *r, int on)
{
	core_host.input_active(&r->dev->ctx, s, on);
}

static void run(struct harness *h, int *calls, int want)
{
	time_t end = time(NULL) + 5;

	while (*calls < want && time(NULL) < end)
		loop_once(h->vm.loop, 10);
}

static struct hv_input_event E(int t, int c, int v)
{
	return (struct hv_input_event){ (uint16_t)t, (uint16_t)c, v };
}

#define HOSTS HEAD "[device disp]\nplugin = test_display\n" \
	"[device a]\nplugin = test_display\ndisplay = off\n" \
	"[device b]\nplugin = test_display\ndisplay = off\n" \
	"[device c]\nplugin = test_display\ndisplay = off\n"

static void keyboard_routing(void)
{
	struct harness h;
	static struct rec ra, rb;
	struct hv_input *a, *b;
	struct hv_input_event k[2] = { E(HV_INPUT_KEY, 30, 1), E(HV_INPUT_KEY, 30, 0) };

	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	vm_up(&h, HOSTS);
	CHECK(h.ok);
	CHECK(input_send(&h.vm, NULL, k, 2) == -ENODEV); /* no sink at all */
	a = sink(&h, "a", HV_INPUT_CAP_KEY, &ra);
	b = sink(&h, "b", HV_INPUT_CAP_KEY, &rb);
	CHECK(a && b);
	CHECK(input_send(&h.vm, NULL, k, 2) == 0);
	CHECK(ra.calls == 0); /* queued, never inside the send */
	run(&h, &ra.calls, 1);
	CHECK(ra.calls == 1 && rb.calls == 0); /* none active: the first */
	CHECK(ra.n[0] == 2 && ra.ev[0][0].code == 30 && ra.ev[0][1].value == 0);
	set_active(b, &rb, 1);
	CHECK(input_send(&h.vm, NULL, k, 2) == 0);
	run(&h, &rb.calls, 1);
	CHECK(rb.calls == 1 && ra.calls == 1);
	set_active(a, &ra, 1); /* both: the one registered last */
	CHECK(input_send(&h.vm, NULL, k, 2) == 0);
	run(&h, &rb.calls, 2);
	CHECK(rb.calls == 2 && ra.calls == 1);
	set_active(b, &rb, 0);
	CHECK(input_send(&h.vm, NULL, k, 2) == 0);
	run(&h, &ra.calls, 2);
	CHECK(ra.calls == 2 && rb.calls == 2);
	CHECK(!ra.bad_lock && !rb.bad_lock);
	vm_down(&h);
}

static void pointer_routing(void)
{
	struct harness h;
	static struct rec rm, rt, rk;
	struct hv_input *m, *t, *kb;
	struct hv_input_event corner[3] = { E(HV_INPUT_ABS, HV_ABS_X, HV_INPUT_ABS_MAX),
					    E(HV_INPUT_ABS, HV_ABS_Y, HV_INPUT_ABS_MAX),
					    E(HV_INPUT_KEY, 0x110, 1) };
	struct hv_input_event mid[2] = { E(HV_INPUT_ABS, HV_ABS_X, HV_INPUT_ABS_MAX / 2),
					 E(HV_INPUT_ABS, HV_ABS_Y, 0) };
	struct hv_input_event mixed[3] = { E(HV_INPUT_KEY, 30, 1),
					   E(HV_INPUT_REL, HV_REL_X, 5),
					   E(HV_INPUT_REL, HV_REL_WHEEL, -1) };

	memset(&rm, 0, sizeof(rm));
	memset(&rt, 0, sizeof(rt));
	memset(&rk, 0, sizeof(rk));
	vm_up(&h, HOSTS);
	CHECK(h.ok);
	m = sink(&h, "a", HV_INPUT_CAP_REL, &rm);
	t = sink(&h, "b", HV_INPUT_CAP_ABS, &rt);
	kb = sink(&h, "c", HV_INPUT_CAP_KEY, &rk);
	CHECK(m && t && kb);
	/* an inactive mouse takes nothing relative */
	CHECK(input_send(&h.vm, NULL, corner, 3) == -ENODEV);
	set_active(m, &rm, 1);
	/* the tablet is not active: the mouse moves across disp's 640x480
	 * (from 0,0: a failed send above moved nothing) */
	CHECK(input_send(&h.vm, NULL, corner, 3) == 0);
	run(&h, &rm.calls, 1);
	CHECK(rm.calls == 1 && rm.n[0] == 3);
	CHECK(rm.ev[0][0].type == HV_INPUT_REL && rm.ev[0][0].code == HV_REL_X &&
	      rm.ev[0][0].value == 639);
	CHECK(rm.ev[0][1].code == HV_REL_Y && rm.ev[0][1].value == 479);
	CHECK(rm.ev[0][2].type == HV_INPUT_KEY && rm.ev[0][2].code == 0x110);
	CHECK(input_send(&h.vm, NULL, mid, 2) == 0);
	run(&h, &rm.calls, 2);
	CHECK(rm.n[1] == 2 && rm.ev[1][0].value == 319 - 639 &&
	      rm.ev[1][1].value == -479);
	/* once active, the tablet gets positions as they are */
	set_active(t, &rt, 1);
	CHECK(input_send(&h.vm, NULL, corner, 3) == 0);
	run(&h, &rt.calls, 1);
	CHECK(rt.calls == 1 && rt.n[0] == 3 && rt.ev[0][0].type == HV_INPUT_ABS &&
	      rt.ev[0][1].value == HV_INPUT_ABS_MAX && rt.ev[0][2].code == 0x110);
	CHECK(rm.calls == 2);
	/* keys and relative motion of one batch: each to its sink */
	CHECK(input_send(&h.vm, NULL, mixed, 3) == 0);
	run(&h, &rm.calls, 3);
	run(&h, &rk.calls, 1);
	CHECK(rk.calls == 1 && rk.n[0] == 1 && rk.ev[0][0].code == 30);
	CHECK(rm.calls == 3 && rm.n[2] == 2 && rm.ev[2][1].code == HV_REL_WHEEL);
	CHECK(!rm.bad_lock && !rt.bad_lock && !rk.bad_lock);
	vm_down(&h);
}

static void bad_batches(void)
{
	struct harness h;
	static struct rec r;
	struct hv_input_event ev[HV_INPUT_BATCH_MAX + 1];

	memset(&r, 0, sizeof(r));
	for (unsigned i = 0; i <= HV_INPUT_BATCH_MAX; i++)
		ev[i] = E(HV_INPUT_KEY, 30, i & 1);
	vm_up(&h, HOSTS);
	CHECK(sink(&h, "a", HV_INPUT_CAP_KEY, &r));
	CHECK(input_send(&h.vm, NULL, ev, 0) == -EINVAL);
	CHECK(input_send(&h.vm, NULL, ev, HV_INPUT_BATCH_MAX + 1) == -EINVAL);
	CHECK(input_send(&h.vm, NULL, ev, HV_INPUT_BATCH_MAX) == 0);
	ev[3].type = 7;
	CHECK(input_send(&h.vm, NULL, ev, 4) == -EINVAL);
	inst_lock(r.dev);
	CHECK(core_host.input_register(&r.dev->ctx, 0x8, &rec_cbs,
				       sizeof(rec_cbs), &r, &(struct hv_input *){ 0 }) == -EINVAL);
	CHECK(core_host.input_register(&r.dev->ctx, 0, &rec_cbs,
				       sizeof(rec_cbs), &r, &(struct hv_input *){ 0 }) == -EINVAL);
	inst_unlock(r.dev);
	vm_down(&h);
}

static void queue_bound(void)
{
	struct harness h;
	static struct rec r;
	struct hv_input_event ev = E(HV_INPUT_KEY, 30, 1);
	int ok = 1;

	memset(&r, 0, sizeof(r));
	vm_up(&h, HOSTS);
	CHECK(sink(&h, "a", HV_INPUT_CAP_KEY, &r));
	for (int i = 0; i < INPUT_QUEUE_MAX; i++) {
		ev.value = i;
		ok &= input_send(&h.vm, NULL, &ev, 1) == 0;
	}
	CHECK(ok);
	CHECK(input_queued(&h.vm, "a") == INPUT_QUEUE_MAX);
	CHECK(input_send(&h.vm, NULL, &ev, 1) == -EAGAIN);
	run(&h, &r.calls, INPUT_QUEUE_MAX);
	CHECK(r.calls == INPUT_QUEUE_MAX && input_queued(&h.vm, "a") == 0);
	for (int i = 0; i < INPUT_QUEUE_MAX && ok; i++)
		ok = r.n[i] == 1 && r.ev[i][0].value == i; /* in order */
	CHECK(ok);
	CHECK(input_send(&h.vm, NULL, &ev, 1) == 0); /* room again */
	vm_down(&h);
}

static struct hv_display *disp_of(struct harness *h, const char *name)
{
	return display_find(&h->vm, name);
}

static void surfaces_and_frontends(void)
{
	struct harness h;
	static uint32_t px[32 * 16];
	struct hv_surface bad = { sizeof(bad), HV_PIXEL_XRGB8888, 32, 16, 64, 0,
				  px, NULL };
	struct hv_display *d, *d1;
	struct instance *dev;
	uint32_t w, hh;
	const char *log;

	log_level = HV_LOG_INFO;
	vm_up(&h, HEAD "[device disp]\nplugin = test_display\nheads = 2\n"
		       "console = v\n[console v]\nplugin = test_view\n"
		       "interval_ms = 0\n");
	CHECK(h.ok);
	d = disp_of(&h, NULL);
	d1 = disp_of(&h, "disp.1");
	CHECK(d && d1 && d == disp_of(&h, "disp") && d1 != d);
	CHECK(!disp_of(&h, "disp.2"));
	dev = find(&h, "disp");
	/* a rejected surface leaves the old one */
	inst_lock(dev);
	CHECK(core_host.display_surface(&dev->ctx, d, &bad) == -EINVAL);
	inst_unlock(dev);
	display_size(d, &w, &hh);
	CHECK(w == 640 && hh == 480);
	/* damage reaches the frontend at the refresh, clipped */
	unit_capture_begin();
	inst_lock(dev);
	core_host.display_damage(&dev->ctx, d, 600, 470, 100, 100);
	core_host.display_damage(&dev->ctx, d1, 0, 0, 8, 8); /* another display */
	inst_unlock(dev);
	display_begin(d);
	display_end(d);
	log = unit_capture_end();
	CHECK_CONTAINS(log, "v: update: 600 470 40 10 (n 1)");
	CHECK(!strstr(log, "(n 2)"));
	vm_down(&h);
}

static void refresh_timer(void)
{
	struct harness h;
	time_t end;
	int seen = 0;

	log_level = HV_LOG_INFO;
	vm_up(&h, HEAD "[device disp]\nplugin = test_display\nconsole = v\n"
		       "[console v]\nplugin = test_view\ninterval_ms = 10\n"
		       "log_updates = off\n");
	CHECK(h.ok);
	end = time(NULL) + 5;
	while (!seen && time(NULL) < end) {
		unit_capture_begin();
		loop_once(h.vm.loop, 10);
		seen = !!strstr(unit_capture_end(), "disp: refresh: first");
	}
	CHECK(seen); /* the frontend's interval started the timer */
	vm_down(&h);
}

int main(void)
{
	TEST(surface_validation);
	TEST(damage_clip_merge);
	TEST(refresh_interval);
	TEST(pixel_formats);
	TEST(keyboard_routing);
	TEST(pointer_routing);
	TEST(bad_batches);
	TEST(queue_bound);
	TEST(surfaces_and_frontends);
	TEST(refresh_timer);
	return unit_failed_total ? 1 : 0;
}
