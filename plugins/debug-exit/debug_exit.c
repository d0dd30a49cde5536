/*
 * The debug-exit port: a guest ends the VM with a status by writing it to
 * an I/O port. mode=raw makes the written value hv's exit status; mode=qemu
 * makes it (value << 1) | 1, as QEMU's isa-debug-exit does, which is what
 * the KVM project's x86 unit tests expect.
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

struct dbgexit {
	int qemu;
};

static uint64_t dx_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			unsigned size)
{
	return ~0ull;
}

static void dx_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		     unsigned size, uint64_t val)
{
	struct dbgexit *d = opaque;
	int status = d->qemu ? (int)(((val << 1) | 1) & 0xff) : (int)(val & 0xff);

	hv_info(ctx, "guest wrote 0x%llx: exit status %d", (unsigned long long)val,
		status);
	hv_vm_request(ctx, HV_VM_POWEROFF, status);
}

static const struct hv_region_ops dx_ops = {
	.min_access = 1,
	.max_access = 4,
	.read = dx_read,
	.write = dx_write,
};

static int dx_create(struct hv_ctx *ctx)
{
	struct dbgexit *d = HV_STATE(ctx, struct dbgexit);
	uint64_t port = (uint64_t)hv_config_get_int(ctx, "port");
	int rc;

	d->qemu = hv_config_get_int(ctx, "mode") == 1;
	rc = hv_region_add(ctx, HV_SPACE_PIO, port, 4, &dx_ops, d, NULL);
	if (rc)
		hv_error(ctx, "port 0x%llx: %s", (unsigned long long)port,
			 rc == -EBUSY ? "already taken by another device" : strerror(-rc));
	return rc;
}

static int dx_save(struct hv_ctx *ctx, struct hv_state *st)
{
	return 0; /* no guest-visible state */
}

static int dx_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	return 0;
}

static const struct hv_device_ops ops = {
	.create = dx_create,
	.save = dx_save,
	.restore = dx_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("port", "0xf4", 0, 0xfffc, "the I/O port"),
	HV_KEY_CHOICE("mode", "raw", "raw|qemu", "raw: status = value; qemu: (value << 1) | 1"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(debug-exit, device, &ops,
		 .version = "1.0",
		 .description = "ends the VM with the status a guest writes to a port",
		 .instance_size = sizeof(struct dbgexit),
		 .keys = keys);
