/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: network backend plugins (TAP, switch port, Wi-Fi bridge).
 *
 * A backend is attached to exactly one NIC device and runs under that
 * device's domain lock, on the main thread. Frames for the guest go up
 * through hv_net_deliver(); when that says -EAGAIN the backend stops
 * reading until its rx_ready op is called.
 *
 * A backend whose plugin sets HV_PLUGIN_OWN_DOMAIN (a switch) is instead
 * one instance in its own domain that any number of NICs attach to; it
 * gets no send/rx_ready calls and uses no hv_net_deliver: each NIC is a
 * port that reaches its hv_post listener as HV_POST_NET_* messages, and
 * it answers by posting frames to the port (hv/post.h).
 */
#ifndef HV_NET_H
#define HV_NET_H

#include "hv/host.h"

struct hv_net_ops {
	/* ---- v2.0 ---- */
	/* Called when the device attaches the backend, in a VM that runs (hv
	 * check attaches it without calling create). 0, or -errno after one
	 * hv_error() line; a failed create releases what it took itself:
	 * destroy is called only after a create that returned 0. */
	int (*create)(struct hv_ctx *ctx);
	void (*destroy)(struct hv_ctx *ctx);
	/* A frame from the guest (Ethernet, no FCS): 0, or -errno (dropped). */
	int (*send)(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt);
	/* The device has receive buffers again. */
	void (*rx_ready)(struct hv_ctx *ctx);
};

#endif
