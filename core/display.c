/*
 * Displays (hv/display.h): each VM's list of them, the core's copy of each
 * surface, damage kept between refreshes, the refresh timer and the
 * console frontends watching. A display and its frontends share the
 * display device's lock domain, so everything here runs under that lock
 * on the main thread; the list itself changes only on the main thread.
 *
 * The timer and the deferred refresh are the device's own (hv_timer,
 * hv_loop_defer, reached through the device's ctx->host as the device
 * itself would: this layer sits below services.c and never links to it),
 * so the core's instance teardown cancels them with the device and no
 * callback reaches a freed display.
 */
#include "display.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "instance.h"
#include "instcfg.h"
#include "plugin.h"
#include "services.h"
#include "vm.h"

#define DISPLAYS_PER_DEVICE 16

/* A frontend watching a display: the console instance's link. */
struct display_view {
	struct hv_display *d;
	struct instance *con;
	uint64_t interval_ns; /* what it asked for; 0: none */
	struct display_view *next;
};

struct hv_display {
	struct instance *dev;
	char *name; /* SECTION, SECTION.1, ... */
	struct hv_display_cbs cbs;
	void *opaque;
	struct hv_surface surf; /* the core's copy of the current one */
	struct display_damage dmg;
	struct display_view *views;
	struct hv_timer *timer;
	uint64_t period_ns; /* the timer's now; 0: stopped */
	int now_pending;    /* a deferred refresh is queued */
	struct hv_display *next; /* in vm->displays */
};

/* ---- pure helpers (unit-tested alone) ---- */

unsigned display_bpp(uint32_t format)
{
	switch (format) {
	case HV_PIXEL_XRGB8888: return 4;
	case HV_PIXEL_RGB565:
	case HV_PIXEL_XRGB1555: return 2;
	case HV_PIXEL_RGB888: return 3;
	case HV_PIXEL_C8: return 1;
	default: return 0;
	}
}

int display_surface_check(const struct hv_surface *s, const char **why)
{
	unsigned bpp = display_bpp(s->format);

	*why = NULL;
	if (!s->format)
		return 0; /* blank: the rest is ignored */
	if (!bpp)
		*why = "unknown pixel format";
	else if (!s->width || !s->height || s->width > HV_DISPLAY_MAX_WIDTH ||
		 s->height > HV_DISPLAY_MAX_HEIGHT)
		*why = "size outside 1..16384 x 1..16384";
	else if ((uint64_t)s->stride < (uint64_t)s->width * bpp)
		*why = "stride shorter than a line";
	else if (!s->pixels)
		*why = "no pixels";
	else if (s->format == HV_PIXEL_C8 && !s->palette)
		*why = "C8 without a palette";
	return *why ? -EINVAL : 0;
}

static int touches(const struct display_rect *a, const struct display_rect *b)
{
	return a->x <= b->x + b->w && b->x <= a->x + a->w &&
	       a->y <= b->y + b->h && b->y <= a->y + a->h;
}

static void rect_union(struct display_rect *a, const struct display_rect *b)
{
	uint32_t x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	uint32_t y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;

	a->x = a->x < b->x ? a->x : b->x;
	a->y = a->y < b->y ? a->y : b->y;
	a->w = x1 - a->x;
	a->h = y1 - a->y;
}

/* Merge r into the kept rectangles it touches, then those into each
 * other, so no two kept ones overlap or touch. */
static void damage_merge(struct display_damage *dm, struct display_rect r)
{
	for (int i = 0; i < dm->n;) {
		if (!touches(&dm->r[i], &r)) {
			i++;
			continue;
		}
		rect_union(&r, &dm->r[i]);
		dm->r[i] = dm->r[--dm->n];
		i = 0; /* the grown rectangle may touch one passed already */
	}
	if (dm->n == DISPLAY_DAMAGE_MAX) {
		for (int i = 0; i < dm->n; i++)
			rect_union(&r, &dm->r[i]);
		dm->n = 0;
	}
	dm->r[dm->n++] = r;
}

void display_damage_add(struct display_damage *dm, uint32_t width,
			uint32_t height, uint32_t x, uint32_t y, uint32_t w,
			uint32_t h)
{
	struct display_rect r;

	if (x >= width || y >= height || !w || !h)
		return;
	r = (struct display_rect){ x, y, w > width - x ? width - x : w,
				   h > height - y ? height - y : h };
	damage_merge(dm, r);
}

uint64_t display_period(const uint64_t *intervals, int n)
{
	const uint64_t min = 1000000000ull / HV_DISPLAY_HZ_MAX;
	uint64_t p = 0;

	for (int i = 0; i < n; i++)
		if (intervals[i] && (!p || intervals[i] < p))
			p = intervals[i];
	return p && p < min ? min : p;
}

static inline uint8_t expand5(unsigned v)
{
	return (uint8_t)(v << 3 | v >> 2);
}

static inline uint8_t expand6(unsigned v)
{
	return (uint8_t)(v << 2 | v >> 4);
}

static void xrgb_rgb(uint32_t v, uint8_t *o)
{
	o[0] = (uint8_t)(v >> 16);
	o[1] = (uint8_t)(v >> 8);
	o[2] = (uint8_t)v;
}

/* The surface may change under us (the guest writes it): each pixel is
 * read once, byte-wise, and only inside the line. */
void display_line_rgb(const struct hv_surface *s, uint32_t y, uint8_t *rgb)
{
	const volatile uint8_t *p =
		(const uint8_t *)s->pixels + (size_t)y * s->stride;

	for (uint32_t x = 0; x < s->width; x++, rgb += 3) {
		unsigned v;

		switch (s->format) {
		case HV_PIXEL_XRGB8888:
			xrgb_rgb((uint32_t)p[4 * x] | (uint32_t)p[4 * x + 1] << 8 |
					 (uint32_t)p[4 * x + 2] << 16,
				 rgb);
			break;
		case HV_PIXEL_RGB888:
			xrgb_rgb((uint32_t)p[3 * x] | (uint32_t)p[3 * x + 1] << 8 |
					 (uint32_t)p[3 * x + 2] << 16,
				 rgb);
			break;
		case HV_PIXEL_RGB565:
			v = p[2 * x] | (unsigned)p[2 * x + 1] << 8;
			rgb[0] = expand5(v >> 11 & 31);
			rgb[1] = expand6(v >> 5 & 63);
			rgb[2] = expand5(v & 31);
			break;
		case HV_PIXEL_XRGB1555:
			v = p[2 * x] | (unsigned)p[2 * x + 1] << 8;
			rgb[0] = expand5(v >> 10 & 31);
			rgb[1] = expand5(v >> 5 & 31);
			rgb[2] = expand5(v & 31);
			break;
		case HV_PIXEL_C8:
			xrgb_rgb(s->palette[p[x]], rgb);
			break;
		default:
			rgb[0] = rgb[1] = rgb[2] = 0;
		}
	}
}

/* ---- frontends ---- */

static void views_surface(struct hv_display *d)
{
	for (struct display_view *v = d->views; v; v = v->next)
		if (v->con && v->con->created)
			v->con->plugin->ops.console.surface_changed(&v->con->ctx,
								    &d->surf);
}

/* The damage kept since the last refresh, to every frontend. */
static void damage_flush(struct hv_display *d)
{
	struct display_damage dm = d->dmg;

	d->dmg.n = 0;
	for (int i = 0; i < dm.n; i++)
		for (struct display_view *v = d->views; v; v = v->next)
			if (v->con && v->con->created)
				v->con->plugin->ops.console.update(
					&v->con->ctx, dm.r[i].x, dm.r[i].y,
					dm.r[i].w, dm.r[i].h);
}

/* The device renders, then the frontends hear what changed. Lock held. */
static void display_refresh(struct hv_display *d)
{
	if (d->cbs.refresh)
		d->cbs.refresh(&d->dev->ctx, d->opaque);
	damage_flush(d);
}

static void refresh_tick(struct hv_ctx *ctx, void *opaque)
{
	display_refresh(opaque);
}

static void refresh_deferred(struct hv_ctx *ctx, void *opaque)
{
	struct hv_display *d = opaque;

	d->now_pending = 0;
	display_refresh(d);
}

/* Run the timer at what the frontends ask for now. Lock held. */
static void period_update(struct hv_display *d)
{
	uint64_t iv[32];
	uint64_t p;
	int n = 0;

	for (struct display_view *v = d->views; v && n < 32; v = v->next)
		iv[n++] = v->interval_ns;
	p = display_period(iv, n);
	if (p == d->period_ns || d->dev->vm->dry)
		return;
	if (p && !d->timer &&
	    d->dev->ctx.host->timer_new(&d->dev->ctx, refresh_tick, d, &d->timer))
		return;
	d->period_ns = p;
	if (d->timer)
		d->dev->ctx.host->timer_arm(&d->dev->ctx, d->timer, p, p);
}

/* ---- services ---- */

static int display_name_make(struct instance *dev, struct hv_display *d)
{
	const char *sec = dev->sec ? dev->sec->id : dev->ctx.name;
	int n = 0;

	for (struct hv_display *o = dev->vm->displays; o; o = o->next)
		n += o->dev == dev;
	if (n >= DISPLAYS_PER_DEVICE)
		return -EINVAL;
	if ((n ? asprintf(&d->name, "%s.%d", sec, n) :
		 asprintf(&d->name, "%s", sec)) < 0)
		return -ENOMEM;
	return 0;
}

int svc_display_register(struct hv_ctx *ctx, const struct hv_display_cbs *cbs,
			 size_t cbs_size, void *opaque, struct hv_display **out)
{
	struct instance *dev = inst_of(ctx);
	struct hv_display *d, **tail;
	int rc;

	if (!dev->vm || dev->owner || !out)
		return -EINVAL;
	if (!(d = calloc(1, sizeof(*d))))
		return -ENOMEM;
	if ((rc = display_name_make(dev, d))) {
		free(d);
		return rc;
	}
	d->dev = dev;
	d->opaque = opaque;
	if (cbs)
		COPY_CBS(d->cbs, cbs, cbs_size);
	d->surf.size = sizeof(d->surf);
	for (tail = &dev->vm->displays; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	*out = d;
	return 0;
}

/* A frontend that can watch a display: a console plugin built against
 * SDK 2.4 that fills surface_changed and update. */
static int graphical(const struct plugin *p)
{
	return p->desc.kind == HV_KIND_CONSOLE &&
	       p->desc.ops_size >= offsetof(struct hv_console_ops, update) +
					   sizeof(p->ops.console.update) &&
	       p->ops.console.surface_changed && p->ops.console.update;
}

int svc_display_attach(struct hv_ctx *ctx, struct hv_display *d,
		       const char *key)
{
	struct instance *dev = inst_of(ctx), *con;
	const char *id = inst_config_str(dev, key);
	struct cfg_section *sec;
	struct display_view *v;
	int err;

	if (!d || d->dev != dev)
		return -EINVAL;
	if (!id || !*id)
		return 0;
	sec = config_section(dev->vm->cfg, "console", id);
	if (sec && sec->plugin && !graphical(sec->plugin)) {
		inst_err(dev, key, "%s = %s: plugin %s of [%s] is not a graphical console frontend (it has no SDK 2.4 surface_changed/update ops)",
			 key, id, sec->plugin->desc.name, sec->name);
		return -EINVAL;
	}
	/* listed before the frontend's create runs, which may already ask
	 * for an interval: view_of() binds it to the new instance then */
	if (!(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	*v = (struct display_view){ .d = d, .next = d->views };
	d->views = v;
	con = backend_attach(dev, key, "console", &err);
	if (!con) { /* a failed frontend's release may have unlinked it */
		for (struct display_view **vp = &d->views; *vp; vp = &(*vp)->next)
			if (*vp == v) {
				*vp = v->next;
				break;
			}
		free(v);
		return err;
	}
	v->con = con;
	con->link = v; /* freed with the frontend (instance_free) */
	if (con->created)
		con->plugin->ops.console.surface_changed(&con->ctx, &d->surf);
	return 0;
}

int svc_display_surface(struct hv_ctx *ctx, struct hv_display *d,
			const struct hv_surface *s)
{
	struct hv_surface c = { 0 };
	const char *why;

	if (!d || !s || d->dev != inst_of(ctx))
		return -EINVAL;
	memcpy(&c, s, s->size < sizeof(c) ? s->size : sizeof(c));
	if (display_surface_check(&c, &why))
		return -EINVAL;
	if (!c.format)
		c = (struct hv_surface){ 0 };
	if (c.format != HV_PIXEL_C8)
		c.palette = NULL;
	c.size = sizeof(c);
	c.reserved = 0;
	d->surf = c;
	d->dmg.n = 0; /* a new surface is shown whole */
	views_surface(d);
	return 0;
}

void svc_display_damage(struct hv_ctx *ctx, struct hv_display *d, uint32_t x,
			uint32_t y, uint32_t w, uint32_t h)
{
	if (d && d->dev == inst_of(ctx))
		display_damage_add(&d->dmg, d->surf.width, d->surf.height, x, y,
				   w, h);
}

static struct display_view *view_of(struct instance *con)
{
	if (!con->vm || !con->owner)
		return NULL;
	for (struct hv_display *d = con->vm->displays; d; d = d->next)
		for (struct display_view *v = d->views; v; v = v->next)
			if (v->con == con || (!v->con && d->dev == con->owner)) {
				v->con = con; /* one being attached: it is con */
				return v;
			}
	return NULL;
}

struct hv_display *display_of_frontend(struct instance *con)
{
	struct display_view *v = view_of(con);

	return v ? v->d : NULL;
}

void svc_display_interval(struct hv_ctx *ctx, uint64_t interval_ns)
{
	struct display_view *v = view_of(inst_of(ctx));

	if (!v)
		return;
	v->interval_ns = interval_ns;
	period_update(v->d);
}

void svc_display_refresh_now(struct hv_ctx *ctx)
{
	struct display_view *v = view_of(inst_of(ctx));
	struct hv_display *d = v ? v->d : NULL;

	if (!d || d->now_pending || d->dev->vm->dry)
		return;
	if (!d->dev->ctx.host->loop_defer(&d->dev->ctx, refresh_deferred, d))
		d->now_pending = 1;
}

/* ---- the core's own users: control socket, screenshots ---- */

struct hv_display *display_find(struct vm *vm, const char *name)
{
	for (struct hv_display *d = vm->displays; d; d = d->next)
		if (!name || !strcmp(d->name, name))
			return d;
	return NULL;
}

struct hv_display *display_next(struct hv_display *d)
{
	return d->next;
}

const char *display_name(const struct hv_display *d)
{
	return d->name;
}

void display_size(struct hv_display *d, uint32_t *w, uint32_t *h)
{
	*w = d->surf.width;
	*h = d->surf.height;
}

const struct hv_surface *display_begin(struct hv_display *d)
{
	inst_lock(d->dev);
	display_refresh(d);
	return &d->surf;
}

void display_end(struct hv_display *d)
{
	inst_unlock(d->dev);
}

/* ---- teardown ---- */

static void display_free(struct hv_display *d)
{
	/* the frontends go before their device (vm_destroy, detach); a
	 * view left is one whose frontend outlives it: cut it loose */
	while (d->views) {
		struct display_view *v = d->views;

		d->views = v->next;
		if (v->con)
			v->con->link = NULL;
		free(v);
	}
	free(d->name);
	free(d);
}

void display_release(struct instance *in)
{
	struct hv_display **pp;
	struct display_view *v;

	if (!in->vm)
		return;
	if (in->owner && (v = view_of(in))) {
		struct display_view **vp = &v->d->views;

		while (*vp != v)
			vp = &(*vp)->next;
		*vp = v->next;
		period_update(v->d);
		return; /* instance_free frees v (in->link) */
	}
	for (pp = &in->vm->displays; *pp;) {
		struct hv_display *d = *pp;

		if (d->dev != in) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		display_free(d);
	}
}
