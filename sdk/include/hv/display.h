/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: displays (v2.4). A display device (a VGA, a bochs-display)
 * publishes what its monitor shows as a *surface*; console frontends (VNC,
 * a recorder) watch it; the core takes screenshots of it.
 *
 * The device side:
 *   - hv_display_register() once from create: the display is named after
 *     the device's section ("vga"); a device may register several (heads).
 *   - hv_display_attach() for each frontend the device's config names
 *     (keys of type section, kind "console": `console = vnc`, and the
 *     device may offer more keys such as an indexed `console#`). The
 *     frontend joins the device's lock domain, like a UART's console.
 *   - hv_display_surface() on every mode change (and once from create, so
 *     a viewer shows something from the first moment of boot);
 *     hv_display_damage() for each changed rectangle of the current one.
 *   - The core calls the device's refresh callback when someone wants the
 *     picture to be current: periodically while a frontend asks for
 *     updates (hv_display_interval), and before a screenshot. There the
 *     device reads its dirty log (hv/devmem.h), renders what needs
 *     rendering (text mode) and reports damage. Between refreshes it need
 *     not report anything.
 *
 * Pixels: the surface's memory belongs to the device (a RAM BAR, or a
 * buffer it renders text mode into) and must stay valid and unmoved until
 * the device publishes another surface or is destroyed. The guest may be
 * writing it at any moment: read it as a racing bus master would.
 *
 * Threads and locks: every call here, and every frontend op below, runs on
 * the main thread with the display device's domain lock held (frontends
 * live in that domain). Frontends reach input devices, which are other
 * domains, through hv_input_send() (hv/input.h), which queues.
 */
#ifndef HV_DISPLAY_H
#define HV_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "hv/host.h"

/* Pixel formats: names say the order of a 32- or 16-bit little-endian
 * word from its most significant bits, as DRM's fourcc codes do
 * (XRGB8888: bytes B, G, R, X in memory). */
enum hv_pixel_format {
	HV_PIXEL_XRGB8888 = 1, /* 32 bpp */
	HV_PIXEL_RGB565 = 2,   /* 16 bpp */
	HV_PIXEL_XRGB1555 = 3, /* 15 bpp in 16 bits */
	HV_PIXEL_RGB888 = 4,   /* 24 bpp: bytes B, G, R */
	HV_PIXEL_C8 = 5,       /* 8 bpp through the palette */
};

#define HV_DISPLAY_MAX_WIDTH 16384u
#define HV_DISPLAY_MAX_HEIGHT 16384u

struct hv_surface {
	uint32_t size;   /* sizeof in the plugin: the wrappers stamp it */
	uint32_t format; /* enum hv_pixel_format; 0: blank (no signal) */
	uint32_t width, height; /* pixels; 0 x 0 when blank */
	uint32_t stride; /* bytes from one line to the next, >= width * bpp */
	uint32_t reserved;
	void *pixels;    /* height * stride bytes; NULL when blank */
	const uint32_t *palette; /* HV_PIXEL_C8: 256 XRGB8888 entries */
};

struct hv_display;

struct hv_display_cbs {
	/* ---- v2.4 ---- */
	/* Make the surface current: read the dirty log, render, report
	 * damage with hv_display_damage(). Main thread, domain lock held. */
	void (*refresh)(struct hv_ctx *ctx, void *opaque);
};

/* Register a display for this device (from create). 0, -EINVAL,
 * -ENOMEM, -ENOSYS (core without displays). The display lives until the
 * device is destroyed; there is nothing to release. */
static inline int hv_display_register(struct hv_ctx *ctx,
				      const struct hv_display_cbs *cbs,
				      size_t cbs_size, void *opaque,
				      struct hv_display **out)
{
	if (!HV_HOST_HAS(ctx, display_register))
		return -ENOSYS;
	return ctx->host->display_register(ctx, cbs, cbs_size, opaque, out);
}

/* Attach the console frontend the section config key `key` names as a
 * watcher of d (from create). 0 when the key is unset (nothing to
 * attach), -ENOENT/-EBUSY/-EINVAL after one hv_error line (no such
 * section, already attached, a frontend without display ops), -ENOSYS. */
static inline int hv_display_attach(struct hv_ctx *ctx, struct hv_display *d,
				    const char *key)
{
	if (!HV_HOST_HAS(ctx, display_attach))
		return -ENOSYS;
	return ctx->host->display_attach(ctx, d, key);
}

/* Publish a new surface (mode change, blanking): frontends get
 * surface_changed with the core's copy of *s. -EINVAL for a format,
 * size or stride out of range (the display keeps the old surface). */
static inline int hv_display_surface(struct hv_ctx *ctx, struct hv_display *d,
				     const struct hv_surface *s)
{
	struct hv_surface c = *s;

	if (!HV_HOST_HAS(ctx, display_surface))
		return -ENOSYS;
	c.size = sizeof(c);
	return ctx->host->display_surface(ctx, d, &c);
}

/* Pixels of the current surface in the rectangle changed; the core clips
 * it to the surface and may merge rectangles before frontends see them. */
static inline void hv_display_damage(struct hv_ctx *ctx, struct hv_display *d,
				     uint32_t x, uint32_t y, uint32_t w,
				     uint32_t h)
{
	if (HV_HOST_HAS(ctx, display_damage))
		ctx->host->display_damage(ctx, d, x, y, w, h);
}

/* ---- frontends (console plugins): hv_console_ops v2.4 members ----
 * surface_changed(ctx, s): the display shows a new surface (also right
 * after the frontend was attached, and after a restore); s stays valid
 * until the next surface_changed or the frontend's destroy.
 * update(ctx, x, y, w, h): that rectangle of the current surface changed.
 * Both under the display device's domain lock, on the main thread. */

/* The frontend wants refreshes every interval_ns (0: none; it has no
 * viewers). The core refreshes each display at the shortest interval
 * its frontends ask for, at most HV_DISPLAY_HZ_MAX times a second. Call
 * from the frontend's own callbacks. */
#define HV_DISPLAY_HZ_MAX 60u
static inline void hv_display_interval(struct hv_ctx *ctx, uint64_t interval_ns)
{
	if (HV_HOST_HAS(ctx, display_interval))
		ctx->host->display_interval(ctx, interval_ns);
}

/* A frontend asks for a refresh now (a viewer wants a full update):
 * refresh runs later on the main thread, never inside this call. */
static inline void hv_display_refresh_now(struct hv_ctx *ctx)
{
	if (HV_HOST_HAS(ctx, display_refresh_now))
		ctx->host->display_refresh_now(ctx);
}

#endif
