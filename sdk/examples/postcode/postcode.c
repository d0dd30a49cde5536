/* SPDX-License-Identifier: MIT */
/*
 * Example hv device plugin: a POST-code port. PC firmware and many boot
 * loaders write progress bytes to I/O port 0x80; this device logs each new
 * code and reads back the last one. It shows everything a device needs:
 * a config key table, a PIO region, reset, and save/restore.
 *
 * Build it out of tree against an installed SDK:
 *   cc $(pkg-config --cflags hv-sdk) -shared -o postcode.so postcode.c
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

#define STATE_VERSION 1

struct postcode {
	uint8_t last;
	uint32_t count;
	int quiet;
};

static uint64_t pc_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			unsigned size)
{
	struct postcode *p = opaque;
	return p->last;
}

static void pc_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		     unsigned size, uint64_t val)
{
	struct postcode *p = opaque;

	p->last = (uint8_t)val;
	p->count++;
	if (!p->quiet)
		hv_info(ctx, "POST code 0x%02x", p->last);
}

static const struct hv_region_ops pc_ops = {
	.min_access = 1,
	.max_access = 1,
	.read = pc_read,
	.write = pc_write,
};

static int pc_create(struct hv_ctx *ctx)
{
	struct postcode *p = HV_STATE(ctx, struct postcode);
	uint64_t port = (uint64_t)hv_config_get_int(ctx, "port");
	int rc;

	p->quiet = (int)hv_config_get_int(ctx, "quiet");
	rc = hv_region_add(ctx, HV_SPACE_PIO, port, 1, &pc_ops, p, NULL);
	if (rc)
		hv_error(ctx, "port 0x%llx: %s", (unsigned long long)port,
			 strerror(-rc));
	return rc;
}

static void pc_reset(struct hv_ctx *ctx)
{
	struct postcode *p = HV_STATE(ctx, struct postcode);

	p->last = 0;
	p->count = 0;
}

static int pc_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct postcode *p = HV_STATE(ctx, struct postcode);
	uint32_t v = STATE_VERSION;

	if (hv_state_write(ctx, st, &v, sizeof(v)) ||
	    hv_state_write(ctx, st, &p->last, sizeof(p->last)) ||
	    hv_state_write(ctx, st, &p->count, sizeof(p->count)))
		return -ENOMEM;
	return 0;
}

static int pc_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct postcode *p = HV_STATE(ctx, struct postcode);
	uint32_t v;

	if (hv_state_read(ctx, st, &v, sizeof(v)) || v != STATE_VERSION ||
	    hv_state_read(ctx, st, &p->last, sizeof(p->last)) ||
	    hv_state_read(ctx, st, &p->count, sizeof(p->count)))
		return -EINVAL;
	return 0;
}

static const struct hv_device_ops ops = {
	.create = pc_create,
	.reset = pc_reset,
	.save = pc_save,
	.restore = pc_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("port", "0x80", 0, 0xffff, "the I/O port"),
	HV_KEY_FLAG("quiet", "off", "do not log codes"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(postcode, device, &ops,
		 .version = "1.0",
		 .description = "POST-code port (example plugin)",
		 .instance_size = sizeof(struct postcode),
		 .keys = keys);
