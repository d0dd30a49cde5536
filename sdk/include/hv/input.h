/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: input (v2.4). Keyboard and pointer events flow from console
 * frontends (a VNC viewer, the control socket's `input` command) through
 * the core to the VM's input devices (the i8042's PS/2 keyboard and mouse,
 * a virtio tablet).
 *
 * Events are Linux evdev's: a key is a KEY_* code of
 * <linux/input-event-codes.h> (KEY_A 30, KEY_ENTER 28; mouse buttons
 * BTN_LEFT 0x110, BTN_RIGHT 0x111, BTN_MIDDLE 0x112), a stable ABI every
 * input device model can translate (PS/2 to its scancode sets, virtio-input
 * passes them as they are). A batch of events is one report: the device
 * sees all of a batch at once, as evdev's SYN_REPORT groups them.
 *
 * Routing, per VM:
 *   - HV_INPUT_KEY events go to the keyboard sink registered last among
 *     those the guest's driver enabled (hv_input_active), else to the one
 *     registered first (a PS/2 keyboard listens from power-on). The
 *     platform's own devices (machine = pc's i8042) count as registered
 *     before any device the INI configures.
 *   - HV_INPUT_ABS events (with BTN_* keys in the same batch) go to an
 *     active absolute sink (a tablet); with none, the core turns them into
 *     HV_INPUT_REL motion for the active relative sink (a PS/2 mouse),
 *     scaled to the display the frontend watches.
 *   - HV_INPUT_REL events go to the active relative sink.
 *   - With no sink for an event, it is dropped.
 * Delivery is queued (hv/post.h): the device's event callback runs later
 * on the main thread under the device's own domain lock, never inside
 * hv_input_send(); batches reach a device in the order they were sent.
 */
#ifndef HV_INPUT_H
#define HV_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "hv/host.h"

enum hv_input_type {
	HV_INPUT_KEY = 1, /* code: KEY_* or BTN_*; value 1 down, 0 up, 2 repeat */
	HV_INPUT_REL = 2, /* code: HV_REL_*; value: a signed delta */
	HV_INPUT_ABS = 3, /* code: HV_ABS_X/Y; value 0..HV_INPUT_ABS_MAX */
};

/* evdev's REL_X, REL_Y, REL_WHEEL, ABS_X, ABS_Y */
#define HV_REL_X 0x00
#define HV_REL_Y 0x01
#define HV_REL_WHEEL 0x08
#define HV_ABS_X 0x00
#define HV_ABS_Y 0x01
/* An absolute position is a fraction of the surface: 0 is the left (top)
 * edge, HV_INPUT_ABS_MAX the right (bottom) one. */
#define HV_INPUT_ABS_MAX 0x7fff

#define HV_INPUT_BATCH_MAX 32u /* events per hv_input_send() */

struct hv_input_event {
	uint16_t type; /* enum hv_input_type */
	uint16_t code;
	int32_t value;
};

/* What a sink takes (hv_input_register's caps) */
#define HV_INPUT_CAP_KEY 0x1u /* keyboard keys */
#define HV_INPUT_CAP_REL 0x2u /* relative pointer and its buttons */
#define HV_INPUT_CAP_ABS 0x4u /* absolute pointer and its buttons */

struct hv_input;

struct hv_input_cbs {
	/* ---- v2.4 ---- */
	/* One batch (n >= 1 events, only of the kinds the sink took). Main
	 * thread, the device's domain lock held. */
	void (*event)(struct hv_ctx *ctx, void *opaque,
		      const struct hv_input_event *ev, unsigned n);
};

/* A device offers an input sink (from create). 0, -EINVAL, -ENOMEM,
 * -ENOSYS. It lives until the device is destroyed. */
static inline int hv_input_register(struct hv_ctx *ctx, unsigned caps,
				    const struct hv_input_cbs *cbs,
				    size_t cbs_size, void *opaque,
				    struct hv_input **out)
{
	if (!HV_HOST_HAS(ctx, input_register))
		return -ENOSYS;
	return ctx->host->input_register(ctx, caps, cbs, cbs_size, opaque, out);
}

/* The guest's driver enabled (on = 1) or disabled the sink: a PS/2 mouse
 * told to stream, a virtio-input device the driver set up. Resets leave
 * sinks as their device's reset puts them. Any callback of the device. */
static inline void hv_input_active(struct hv_ctx *ctx, struct hv_input *in,
				   int on)
{
	if (HV_HOST_HAS(ctx, input_active))
		ctx->host->input_active(ctx, in, on);
}

/* Send a batch from a frontend (or any instance): 0, -EINVAL (n is 0 or
 * over HV_INPUT_BATCH_MAX, an unknown type), -ENODEV (no sink takes any of
 * it: dropped), -EAGAIN (the device's queue is full: dropped), -ENOSYS.
 * Any main-thread callback. */
static inline int hv_input_send(struct hv_ctx *ctx,
				const struct hv_input_event *ev, unsigned n)
{
	if (!HV_HOST_HAS(ctx, input_send))
		return -ENOSYS;
	return ctx->host->input_send(ctx, ev, n);
}

#endif
