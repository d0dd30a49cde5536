/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: cross-domain calls (v2.0).
 *
 * One instance cannot call into another lock domain directly: it would
 * hold its own domain lock while taking the other's, and two instances
 * doing that to each other deadlock. Instead it posts a message; the core
 * copies it into the target's queue and runs the target's listener later,
 * on the main thread, under the target's domain lock. Switch ports, VNC
 * input reaching the keyboard controller, control-plane commands and the
 * memory broker all go this way.
 *
 * Naming the target: hv_peer_get(ctx, key) once (from create), where key
 * is a config key of type section (HV_KEY_SECTION) naming any [device],
 * [net] or [console] section. The handle is owned by the core and stays
 * valid for the VM's life, also after the target is destroyed (posts then
 * fail with -ENODEV); there is nothing to release.
 *
 * The message: (type, bytes). The core copies up to HV_POST_MAX bytes
 * before hv_post() returns, so the sender need not keep anything alive;
 * the listener gets a pointer to the core's copy, valid until it returns.
 * Pointers inside a message are the sender's business: the core never
 * follows or frees them, and a message can be dropped (below), so never
 * pass ownership of memory through one. Types from HV_POST_CORE up are
 * the core's (HV_POST_NET_*); plugins choose their own below it.
 *
 * Ordering: each target has one queue, so messages reach it in the order
 * their hv_post() calls returned 0 — FIFO per (sender, target) pair, and
 * one total order across all senders to that target. Nothing is promised
 * between different targets.
 *
 * Backpressure: each target's queue is a preallocated ring of
 * HV_POST_QUEUE bytes (a message takes its length rounded up to 8, plus
 * 16). A full ring says -EAGAIN and queues nothing: drop (a frame) or try
 * again later (a timer); the ring drains as the main loop runs. No malloc
 * on the path of hv_post().
 *
 * Lifetime: a target that has been destroyed refuses posts with -ENODEV;
 * its pending messages are freed unseen. A message whose sender is
 * destroyed before delivery is dropped (the listener would otherwise meet
 * a `from` naming an instance that is gone). Messages to an instance that
 * has not called hv_post_listen() yet wait in its queue until it does.
 */
#ifndef HV_POST_H
#define HV_POST_H

#include "hv/host.h"

#define HV_POST_MAX (68u * 1024)     /* bytes per message: a GSO frame (2.1: 64 KiB) */
#define HV_POST_QUEUE (1024u * 1024) /* bytes of queue per target (2.1: 256 KiB) */

#define HV_POST_CORE 0x80000000u
/* Between a NIC and a backend of its own domain (a switch port). The
 * switch's listener sees each NIC as a `from` peer: ATTACH first (msg:
 * the NIC's section name, no NUL), then FRAME (an Ethernet frame from the
 * guest) and RX_READY (the NIC has receive buffers again, no bytes). The
 * switch answers with hv_post(ctx, from, HV_POST_NET_FRAME, frame, len):
 * the core hands it to the NIC's hv_net_cbs.receive under the NIC's lock;
 * a NIC with no buffer (-EAGAIN) drops it and later sends RX_READY. */
#define HV_POST_NET_ATTACH (HV_POST_CORE + 1)
#define HV_POST_NET_FRAME (HV_POST_CORE + 2)
#define HV_POST_NET_RX_READY (HV_POST_CORE + 3)
/* v2.2: the NIC's struct hv_net_port (hv/net.h), after ATTACH and after
 * every hv_net_configure(); a switch without HV_NET_OFF_HDR gets it too. */
#define HV_POST_NET_PORT (HV_POST_CORE + 4)

/*
 * The instance the section named by config key `key` became (or will
 * become: a device later in the file). NULL when the key is unset, names
 * no section, or on a core without the service. Main thread (create, or
 * any later main-thread callback); cheap, but call it once.
 */
static inline struct hv_peer *hv_peer_get(struct hv_ctx *ctx, const char *key)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, peer_get))
		return NULL;
	return h->peer_get(ctx, key);
}

/*
 * Receive messages: fn(ctx, opaque, from, type, msg, len) on the main
 * thread under ctx's domain lock; `from` is a peer naming the sender
 * (post replies to it), or NULL for the core itself. Call once, from
 * create; a second call replaces the listener. 0, or -ENOSYS.
 */
HV_MUST_CHECK static inline int hv_post_listen(struct hv_ctx *ctx, hv_post_fn fn,
				 void *opaque)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, post_listen))
		return -ENOSYS;
	return h->post_listen(ctx, fn, opaque);
}

/*
 * Queue (type, iov) for peer's listener. Any thread (vCPU region handlers
 * too), any callback, any lock held: it takes only the target queue's
 * mutex and never runs the listener itself. 0 when queued; -EMSGSIZE over
 * HV_POST_MAX, -EAGAIN when the target's queue is full, -ENODEV when the
 * target is gone, -EINVAL for a NULL peer, -ENOSYS on an older core.
 */
HV_MUST_CHECK static inline int hv_post_sendv(struct hv_ctx *ctx, struct hv_peer *peer,
			   uint32_t type, const struct iovec *iov, int iovcnt)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, post_sendv))
		return -ENOSYS;
	return h->post_sendv(ctx, peer, type, iov, iovcnt);
}

HV_MUST_CHECK static inline int hv_post(struct hv_ctx *ctx, struct hv_peer *peer,
			  uint32_t type, const void *msg, size_t len)
{
	struct iovec iov = { (void *)msg, len };

	return hv_post_sendv(ctx, peer, type, &iov, 1);
}

/*
 * Debugging aid: 1 when the calling thread holds ctx's domain lock and no
 * other domain's, 0 otherwise, -ENOSYS on an older core. For assertions.
 */
static inline int hv_domain_held(struct hv_ctx *ctx)
{
	const struct hv_host *h = ctx->host;

	if (!HV_HOST_HAS(ctx, domain_held))
		return -ENOSYS;
	return h->domain_held(ctx);
}

#endif
