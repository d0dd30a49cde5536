/*
 * Displays and input (SDK 2.4, hv/display.h and hv/input.h): the core's
 * side. display.c keeps each VM's displays, their surfaces, damage and
 * refresh timers and the frontends watching them; input.c routes and
 * queues input batches to the VM's sinks. Both are main-thread only,
 * except hv_input_active(), which a device may call from a vCPU thread.
 */
#ifndef HV_CORE_DISPLAY_H
#define HV_CORE_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <hv/hv.h>
#include <hv/display.h>
#include <hv/input.h>

struct instance;
struct vm;

/* Damage rectangles a display keeps between refreshes: more are merged
 * into their union. */
#define DISPLAY_DAMAGE_MAX 4
/* Batches waiting for one input sink: more are refused with -EAGAIN. */
#define INPUT_QUEUE_MAX 256

struct display_rect {
	uint32_t x, y, w, h;
};

/* Damage bookkeeping, apart from the display so tests take it alone. */
struct display_damage {
	struct display_rect r[DISPLAY_DAMAGE_MAX];
	int n;
};

/* Add (x, y, w, h) clipped to width x height: merged with a rectangle it
 * overlaps or touches, else kept apart; when DISPLAY_DAMAGE_MAX are kept
 * already, everything becomes one union. */
void display_damage_add(struct display_damage *dm, uint32_t width,
			uint32_t height, uint32_t x, uint32_t y, uint32_t w,
			uint32_t h);
/* 0 when s may be published, else -EINVAL with *why set to one phrase. */
int display_surface_check(const struct hv_surface *s, const char **why);
/* Bytes per pixel of a format, 0 when unknown (or blank). */
unsigned display_bpp(uint32_t format);
/* The period the display's timer runs at for frontends asking for
 * these intervals (0 entries: not asking): the shortest non-zero one,
 * at least 1/HV_DISPLAY_HZ_MAX s; 0 when none asks. */
uint64_t display_period(const uint64_t *intervals, int n);
/* One line of a surface as R, G, B bytes (3 * s->width into rgb). */
void display_line_rgb(const struct hv_surface *s, uint32_t y, uint8_t *rgb);

/* The services behind the hv_host members. */
int svc_display_register(struct hv_ctx *ctx, const struct hv_display_cbs *cbs,
			 size_t cbs_size, void *opaque,
			 struct hv_display **out);
int svc_display_attach(struct hv_ctx *ctx, struct hv_display *d,
		       const char *key);
int svc_display_surface(struct hv_ctx *ctx, struct hv_display *d,
			const struct hv_surface *s);
void svc_display_damage(struct hv_ctx *ctx, struct hv_display *d, uint32_t x,
			uint32_t y, uint32_t w, uint32_t h);
void svc_display_interval(struct hv_ctx *ctx, uint64_t interval_ns);
void svc_display_refresh_now(struct hv_ctx *ctx);
int svc_input_register(struct hv_ctx *ctx, unsigned caps,
		       const struct hv_input_cbs *cbs, size_t cbs_size,
		       void *opaque, struct hv_input **out);
void svc_input_active(struct hv_ctx *ctx, struct hv_input *in, int on);
int svc_input_send(struct hv_ctx *ctx, const struct hv_input_event *ev,
		   unsigned n);

/* The display a frontend instance watches, or NULL. */
struct hv_display *display_of_frontend(struct instance *con);
/* The VM's display called name (NULL: its first), or NULL. */
struct hv_display *display_find(struct vm *vm, const char *name);
const char *display_name(const struct hv_display *d);
struct hv_display *display_next(struct hv_display *d);
/* Its surface's size now (0 x 0 when blank). Main thread. */
void display_size(struct hv_display *d, uint32_t *w, uint32_t *h);
/* Take d's device's lock and refresh it (so the picture is current, also
 * while the VM is paused: a refresh only reads memory): the surface, valid
 * until display_end() drops the lock. */
const struct hv_surface *display_begin(struct hv_display *d);
void display_end(struct hv_display *d);
/* Refresh d (its device's lock taken here) and write its surface as an
 * RGB PNG to path: 0, or -errno with why (n bytes) saying what failed. */
int display_screenshot(struct hv_display *d, const char *path, char *why,
		       size_t n);
/* Route a batch as hv_input_send() does, scaling absolute positions to
 * display via (NULL: the VM's first). */
int input_send(struct vm *vm, struct hv_display *via,
	       const struct hv_input_event *ev, unsigned n);
/* Batches queued for in's sinks (tests). */
int input_queued(struct vm *vm, const char *section);

/* An instance is going (services_release): its displays, the views it
 * had of others' displays, and its input sinks. Lock held. */
void display_release(struct instance *in);
void input_release(struct instance *in);

#endif
