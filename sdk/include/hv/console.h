/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: console frontend plugins (stdio, log file, unix socket; later
 * graphical frontends such as VNC).
 *
 * A frontend is attached to one device (a UART names it with console=) and
 * runs under that device's domain lock, on the main thread; write may also
 * run on a vCPU thread, inside the device's region access. Typed input goes
 * to the device through hv_console_input(); when that takes less than it
 * was given, the frontend waits for its input_ready op.
 *
 * v2.4: a graphical frontend is attached to a display device instead
 * (hv_display_attach, hv/display.h) and has surface_changed and update;
 * write and input_ready stay unused there. Its keyboard and pointer go
 * to the VM through hv_input_send() (hv/input.h).
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "hv/host.h"

struct hv_console_ops {
	/* ---- v2.0 ---- */
	/* Called when the device attaches the backend, in a VM that runs (hv
	 * check attaches it without calling create). 0, or -errno after one
	 * hv_error() line; a failed create releases what it took itself:
	 * destroy is called only after a create that returned 0. */
	int (*create)(struct hv_ctx *ctx);
	void (*destroy)(struct hv_ctx *ctx);
	/* Output of the guest. Must not block: buffer or drop. Returns the
	 * bytes taken. */
	size_t (*write)(struct hv_ctx *ctx, const void *buf, size_t len);
	/* The device can take input again. */
	void (*input_ready)(struct hv_ctx *ctx);
	/* ---- v2.4: graphical frontends (hv/display.h) ---- */
	/* The watched display shows a new surface (also right after the
	 * frontend is attached, and after a restore): s (the core's copy)
	 * stays valid until the next call or destroy. */
	void (*surface_changed)(struct hv_ctx *ctx, const struct hv_surface *s);
	/* That rectangle of the current surface changed (clipped to it). */
	void (*update)(struct hv_ctx *ctx, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h);
	/* Judge the configuration beyond what the key table says (a listen
	 * address that is not loopback), in hv check and before create;
	 * touches nothing outside the instance (binds no socket). 0, or
	 * -errno after one hv_error() line. May be NULL. */
	int (*check)(struct hv_ctx *ctx);
};

#endif
