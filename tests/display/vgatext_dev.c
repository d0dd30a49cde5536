/*
 * A stand-in for plugins/display/vga.c's legacy half while that device is
 * not there: a device that is nothing but struct vgatext (ports, the text
 * window, the text surface), for tests/display/vga-text.t. No PCI, no
 * DISPI: the real device embeds vgatext the same way.
 */
#include <hv/hv.h>

#include "../../plugins/display/vgatext.h"

struct vt_dev {
	struct vgatext t;
	struct hv_display *d;
};

static void vt_refresh(struct hv_ctx *ctx, void *opaque)
{
	struct vt_dev *v = opaque;

	vgatext_refresh(ctx, &v->t, v->d, 0);
}

static const struct hv_display_cbs vt_cbs = { .refresh = vt_refresh };

static int vt_create(struct hv_ctx *ctx)
{
	struct vt_dev *v = HV_STATE(ctx, struct vt_dev);
	struct hv_surface s;
	int rc = vgatext_create(ctx, &v->t);

	if (rc)
		return rc;
	rc = hv_display_register(ctx, &vt_cbs, sizeof(vt_cbs), v, &v->d);
	if (rc == -ENOSYS)
		return 0; /* a core without displays: ports and window only */
	if (!rc)
		rc = hv_display_attach(ctx, v->d, "console");
	if (!rc) {
		vgatext_surface(&v->t, &s);
		rc = hv_display_surface(ctx, v->d, &s);
	}
	if (rc)
		vgatext_destroy(ctx, &v->t);
	return rc;
}

static void vt_destroy(struct hv_ctx *ctx)
{
	vgatext_destroy(ctx, &HV_STATE(ctx, struct vt_dev)->t);
}

static void vt_reset(struct hv_ctx *ctx)
{
	vgatext_reset(ctx, &HV_STATE(ctx, struct vt_dev)->t);
}

static int vt_save(struct hv_ctx *ctx, struct hv_state *st)
{
	return vgatext_save(ctx, &HV_STATE(ctx, struct vt_dev)->t, st);
}

static int vt_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	return vgatext_restore(ctx, &HV_STATE(ctx, struct vt_dev)->t, st);
}

static const struct hv_config_key vt_keys[] = {
	{ .name = "font", .type = HV_KEY_PATH,
	  .def = "/usr/share/consolefonts/Lat15-VGA16.psf.gz",
	  .help = "PSF font (gzip or plain) for text mode" },
	HV_KEY_SECTION("console", "console", 0, "the graphical frontend"),
	HV_KEYS_END
};

static const struct hv_device_ops vt_ops = {
	.create = vt_create, .destroy = vt_destroy, .reset = vt_reset,
	.save = vt_save, .restore = vt_restore,
};

HV_PLUGIN_DEFINE(vgatext-test, device, &vt_ops,
		 .description = "VGA text mode alone (tests/display)",
		 .instance_size = sizeof(struct vt_dev), .keys = vt_keys);
