/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: network backend plugins (TAP, switch port, Wi-Fi bridge).
 *
 * A backend is attached to exactly one NIC device and runs under that
 * device's domain lock, on the main thread. Frames for the guest go up
 * through hv_net_deliver(); when that says -EAGAIN the backend stops
 * reading until its rx_ready op is called.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include "hv/host.h"

struct hv_net_ops {
	/* ---- v1.0 ---- */
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
