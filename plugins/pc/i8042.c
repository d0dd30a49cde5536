/*
 * The PC's i8042 keyboard controller at ports 0x60/0x64, reduced to what a
 * guest without a keyboard needs: the controller commands firmware and
 * kernels use (self-test, command byte, output port), a keyboard that
 * acknowledges commands, and the reset line: command 0xfe, or an output
 * port write with bit 0 clear, resets the VM.
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define STATE_VERSION 1

struct kbc {
	uint8_t status, cmd_byte, pending, outport;
	uint8_t out[4];
	uint8_t nout;
};

static void push(struct kbc *k, uint8_t v)
{
	if (k->nout < sizeof(k->out))
		k->out[k->nout++] = v;
	k->status |= ST_OBF;
}

static uint64_t status_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			    unsigned size)
{
	return ((struct kbc *)opaque)->status;
}

static uint64_t data_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct kbc *k = opaque;
	uint8_t v;

	if (!k->nout)
		return 0;
	v = k->out[0];
	memmove(k->out, k->out + 1, --k->nout);
	if (!k->nout)
		k->status &= ~ST_OBF;
	return v;
}

static void reset_line(struct hv_ctx *ctx)
{
	hv_info(ctx, "the guest pulsed the reset line");
	hv_vm_request(ctx, HV_VM_RESET, 0);
}

static void command(struct hv_ctx *ctx, void *opaque, uint64_t off,
		    unsigned size, uint64_t val)
{
	struct kbc *k = opaque;
	uint8_t c = (uint8_t)val;

	k->status |= ST_CMD;
	switch (c) {
	case 0x20: push(k, k->cmd_byte); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending = c; break;
	case 0xaa: k->status |= ST_SYS; push(k, 0x55); break; /* self-test */
	case 0xab: case 0xa9: push(k, 0x00); break;           /* port tests */
	case 0xd0: push(k, k->outport); break;
	case 0xfe: reset_line(ctx); break;
	default:
		if (c >= 0xf0 && !(c & 1)) /* pulse output bits: bit 0 is reset */
			reset_line(ctx);
	}
}

static void data(struct hv_ctx *ctx, void *opaque, uint64_t off,
		 unsigned size, uint64_t val)
{
	struct kbc *k = opaque;
	uint8_t p = k->pending, v = (uint8_t)val;

	k->status &= ~ST_CMD;
	k->pending = 0;
	switch (p) {
	case 0x60: k->cmd_byte = v; return;
	case 0xd1:
		k->outport = v;
		if (!(v & 1))
			reset_line(ctx);
		return;
	case 0xd2: case 0xd3: push(k, v); return; /* echo as if typed */
	case 0xd4: push(k, 0xfe); return;         /* no mouse: resend */
	}
	push(k, 0xfa); /* the keyboard acknowledges */
	if (v == 0xff)
		push(k, 0xaa); /* ... and passes its self-test */
}

static const struct hv_region_ops data_ops = {
	.min_access = 1, .max_access = 1, .read = data_read, .write = data,
};

static const struct hv_region_ops cmd_ops = {
	.min_access = 1, .max_access = 1, .read = status_read, .write = command,
};

static int kbc_create(struct hv_ctx *ctx)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);
	int rc = hv_region_add(ctx, HV_SPACE_PIO, 0x60, 1, &data_ops, k, NULL);

	if (!rc)
		rc = hv_region_add(ctx, HV_SPACE_PIO, 0x64, 1, &cmd_ops, k, NULL);
	if (rc)
		hv_error(ctx, "ports 0x60/0x64: %s",
			 rc == -EBUSY ? "already taken by another device" : strerror(-rc));
	return rc;
}

static void kbc_reset(struct hv_ctx *ctx)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);

	memset(k, 0, sizeof(*k));
	k->cmd_byte = 0x45; /* IRQ1 on, translation on, system flag */
	k->outport = 0x01;
}

static int kbc_save(struct hv_ctx *ctx, struct hv_state *st)
{
	uint32_t ver = STATE_VERSION;
	int rc = hv_state_write(ctx, st, &ver, 4);

	return rc ? rc : hv_state_write(ctx, st, HV_STATE(ctx, struct kbc), sizeof(struct kbc));
}

static int kbc_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);
	uint32_t ver;
	int rc;

	if ((rc = hv_state_read(ctx, st, &ver, 4)) || ver != STATE_VERSION)
		return rc ? rc : -EINVAL;
	if ((rc = hv_state_read(ctx, st, k, sizeof(*k))))
		return rc;
	if (k->nout > sizeof(k->out))
		k->nout = sizeof(k->out);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = kbc_create,
	.reset = kbc_reset,
	.save = kbc_save,
	.restore = kbc_restore,
};

HV_PLUGIN_DEFINE(i8042, device, &ops,
		 .version = "1.0",
		 .description = "PC keyboard controller: self-test, command byte, reset line",
		 .instance_size = sizeof(struct kbc));
