/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: the plugin descriptor, the one symbol a plugin exports.
 *
 * A plugin is a shared object built with -fvisibility=hidden whose only
 * exported symbol is hv_plugin_entry(), produced by HV_PLUGIN_DEFINE().
 * Every size and version in the descriptor is stamped by this header at the
 * plugin's compile time, so the core learns which SDK the plugin was built
 * against without anybody having to remember to bump a number.
 *
 * Versioning (see sdk/README.md):
 *   - same HV_ABI_MAJOR loads; another major is refused;
 *   - the plugin's abi_minor is the minor it needs: a core whose minor is
 *     lower refuses it; a newer core loads it and calls only the members
 *     the plugin's stamped sizes say it has.
 */
#ifndef HV_PLUGIN_H
#define HV_PLUGIN_H

#include <stdint.h>

#include "hv/config.h"

struct hv_ctx;
struct hv_out;

#define HV_ABI_MAJOR 2
#define HV_ABI_MINOR 4

/*
 * A plugin that uses nothing newer than some older minor may say so before
 * including any hv header, so that older cores still load it.
 */
#ifndef HV_PLUGIN_NEEDS_MINOR
#define HV_PLUGIN_NEEDS_MINOR HV_ABI_MINOR
#endif

#define HV_EXPORT __attribute__((visibility("default")))

enum hv_plugin_kind {
	HV_KIND_DEVICE = 1,  /* emulated hardware: UART, IDE, SCSI, NIC, display */
	HV_KIND_DISK = 2,    /* disk image format: raw, VHD, VHDX */
	HV_KIND_NET = 3,     /* network backend: TAP, switch port, Wi-Fi bridge */
	HV_KIND_CONSOLE = 4, /* console frontend: stdio, log file, socket, VNC */
};

/*
 * The descriptor. The first block is frozen for every major version: the
 * core reads it before it knows anything else about the plugin. Members
 * only ever grow at the end, each minor's block marked.
 */
struct hv_plugin_desc {
	/* ---- frozen forever ---- */
	uint32_t size;      /* sizeof(struct hv_plugin_desc) in the plugin */
	uint16_t abi_major; /* HV_ABI_MAJOR of the plugin's SDK */
	uint16_t abi_minor; /* the minor the plugin needs */
	uint32_t kind;      /* enum hv_plugin_kind */
	uint32_t reserved0;
	const char *name; /* unique; what `plugin =` in the INI names */
	/* ---- v2.0 ---- */
	const char *version;     /* the plugin's own version, free text */
	const char *description; /* one line for `hv plugins` */
	uint32_t instance_size;  /* per-instance state the core allocates, zeroed */
	uint32_t ops_size;       /* sizeof the kind's ops struct in the plugin */
	uint32_t key_size;       /* sizeof(struct hv_config_key) in the plugin */
	uint32_t ctx_size;       /* sizeof(struct hv_ctx) in the plugin */
	const void *ops;         /* struct hv_{device,disk,net,console}_ops */
	const struct hv_config_key *keys; /* config keys, ends at name == NULL */
	uint32_t flags; /* HV_PLUGIN_* below */
	/* ---- v2.3 ---- */
	/* What `hv ctl SOCK status SECTION` shows of one instance (counters,
	 * tables): the plugin writes it into out with hv_out_printf() (hv/out.h),
	 * as lines for a person (the core prints "[net lan] (switch)" before
	 * them), or with HV_STATUS_JSON as the members of one JSON object,
	 * comma-separated, without braces or a trailing newline (the core
	 * writes {"section":"net lan","plugin":"switch", before them and }
	 * after). Main thread, the instance's domain lock held; must not
	 * block; may be called again with a larger buffer (hv/out.h). May be
	 * NULL (the core then shows only its own facts). */
	void (*status)(struct hv_ctx *ctx, struct hv_out *out, unsigned flags);
	/* ---- v2.4 and later: new members here, each minor's block marked ---- */
};

#define HV_STATUS_JSON 0x1u /* status: one JSON object, not text lines */

/*
 * Net and console backends: each section of this plugin is one instance
 * in a lock domain of its own (a virtual switch, a broker), created by the
 * core at start-up before the devices, not attached to one device. Devices
 * reach it with hv_peer_get() and hv_post(); a NIC whose `net` key names
 * it gets a port: its frames travel as HV_POST_NET_* messages (hv/post.h).
 */
#define HV_PLUGIN_OWN_DOMAIN 0x1u

typedef const struct hv_plugin_desc *(*hv_plugin_entry_fn)(void);
#define HV_PLUGIN_ENTRY_SYMBOL "hv_plugin_entry"

/*
 * HV_PLUGIN_DEFINE(name, kind, ops, ...) with kind one of device, disk,
 * net, console and ops a pointer to the matching const ops struct; the
 * remaining arguments are designated initialisers of the descriptor:
 *
 *   HV_PLUGIN_DEFINE(uart16550, device, &uart_ops,
 *                    .description = "16550A UART",
 *                    .instance_size = sizeof(struct uart),
 *                    .keys = uart_keys);
 *
 * A wrong ops type for the kind is a compile error.
 */
#define HV_PLUGIN_DEFINE(pname, pkind, pops, ...)                              \
	HV_EXPORT const struct hv_plugin_desc *hv_plugin_entry(void);          \
	HV_EXPORT const struct hv_plugin_desc *hv_plugin_entry(void)           \
	{                                                                      \
		static const struct hv_##pkind##_ops *const hv__ops = (pops);  \
		static const struct hv_plugin_desc hv__desc = {                \
			.size = sizeof(struct hv_plugin_desc),                 \
			.abi_major = HV_ABI_MAJOR,                             \
			.abi_minor = HV_PLUGIN_NEEDS_MINOR,                    \
			.kind = HV_KIND_##pkind,                               \
			.name = #pname,                                        \
			.ops_size = sizeof(struct hv_##pkind##_ops),           \
			.key_size = sizeof(struct hv_config_key),              \
			.ctx_size = sizeof(struct hv_ctx),                     \
			.ops = (pops),                                         \
			__VA_ARGS__};                                          \
		(void)hv__ops;                                                 \
		return &hv__desc;                                              \
	}

/* lower-case aliases so HV_KIND_##pkind works with the ops' type names */
#define HV_KIND_device HV_KIND_DEVICE
#define HV_KIND_disk HV_KIND_DISK
#define HV_KIND_net HV_KIND_NET
#define HV_KIND_console HV_KIND_CONSOLE

#endif
