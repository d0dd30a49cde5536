/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: device plugins (emulated hardware).
 *
 * Every op runs on the main thread with the device's domain lock held.
 * Lifecycle: create -> reset -> (guest runs; pause/resume, save/restore,
 * reset) -> destroy. Only create and destroy are mandatory; a device
 * without save/restore makes the VM refuse snapshots with its name.
 */
#ifndef HV_DEVICE_H
#define HV_DEVICE_H

#include "hv/host.h"

struct hv_device_ops {
	/* ---- v2.0 ---- */
	/* Read the config, claim regions, IRQ lines and backends. vCPUs have
	 * not started. 0, or -errno after hv_error() said why (one line; the
	 * core adds its own only when the plugin said nothing). A failed
	 * create releases what it took itself that the core does not track:
	 * destroy is called only after a create that returned 0. */
	int (*create)(struct hv_ctx *ctx);
	/* Release everything create took that the core does not track
	 * (regions, watches, timers and backends are released by the core). */
	void (*destroy)(struct hv_ctx *ctx);
	/* Power-on state; called after create and on every guest reset, with
	 * all vCPUs stopped and, since 2.0, after every disk request and file
	 * I/O of the device and its backends has completed (their done()
	 * ran): no completion arrives in a device that was reset. */
	void (*reset)(struct hv_ctx *ctx);
	/* Stop starting new backend I/O; the core then waits for in-flight
	 * requests to complete. vCPUs are already paused. */
	void (*pause)(struct hv_ctx *ctx);
	void (*resume)(struct hv_ctx *ctx);
	/* The device's whole guest-visible state as a byte stream it defines
	 * (start it with a version number of your own). Called paused. */
	int (*save)(struct hv_ctx *ctx, struct hv_state *st);
	/* The inverse, into a device that was created (not reset) with the
	 * same config; -EINVAL for a stream it does not understand. */
	int (*restore)(struct hv_ctx *ctx, struct hv_state *st);

	/* hot-plug (both optional: the core calls them only when set) */
	/* A backend section was attached at run time to the config key `key`
	 * (a HV_KEY_SECTION key): hv_config_get_str(ctx, key) names it now; take
	 * it the way create does (hv_disk_attach, hv_chr_attach or
	 * hv_net_attach with this key). Main thread, domain lock held; vCPUs
	 * may be running (the lock keeps region accesses out). 0, or -errno:
	 * the core then releases whatever this attached by key, and the key
	 * names what it named before. */
	int (*backend_attach)(struct hv_ctx *ctx, const char *key);
	/* The backend attached by `key` is about to go. Every request the
	 * device had on it has completed (its done() ran) before this is
	 * called; from now on submit nothing through the handle and forget
	 * it: the core frees it once this returns (after any request started
	 * since also completed). Main thread, domain lock held. A device
	 * without this op keeps its backends until it is destroyed. */
	void (*backend_detach)(struct hv_ctx *ctx, const char *key);
	/* ---- v2.1 and later: new ops here, each minor's block marked; the
	 * core calls one only when the plugin's ops_size covers it ---- */
	/* ---- v2.2 ---- */
	/* A HV_KEY_RUNTIME key of the device's section changed while the VM
	 * runs (`hv ctl SOCK set SECTION KEY VALUE`). The core has validated
	 * the new value with the code that validates the INI (type, range,
	 * choices) and stored it: hv_config_get_*(ctx, key) returns it now.
	 * Main thread, domain lock held; vCPUs may be running. 0 to take it,
	 * or -errno to refuse: the core then restores the old value and the
	 * client gets the error. A device without this op refuses every
	 * run-time change (-ENOTSUP). */
	int (*config_changed)(struct hv_ctx *ctx, const char *key);
};

#endif
