/* SPDX-License-Identifier: MIT */
/*
 * exitbench: the device end of bench/exit. Its data port and MMIO page do
 * the least a device can (keep the last value written, read it back), so a
 * guest looping on them measures what the core adds to each access: the
 * KVM exit, bus lookup, domain lock and region op dispatch.
 *
 * Control ports time the loops: reading port + 4 gives the guest the
 * number of round trips per loop (key `loops`), port + 8 how many rounds
 * of both loops to do (key `rounds`: many short windows, so that the best
 * one escapes the load of a shared machine); a write of phase k (1, 2, 3)
 * to port + 4 takes hv_clock_now() as a loop begins or ends. After each
 * round the device logs one line that bench/exit/run.sh parses and
 * bench/exit/bare.c prints the same way:
 *   exitbench: loops=N pio_ns=T mmio_ns=T
 * Each round trip is two exits (a write then a read).
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

#define PHASES 3

struct exitbench {
	uint64_t pio_val;
	uint64_t mmio_val;
	uint32_t loops;
	uint32_t rounds;
	uint64_t t[PHASES + 1];
};

static uint64_t data_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	return ((struct exitbench *)opaque)->pio_val;
}

static void data_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	((struct exitbench *)opaque)->pio_val = val;
}

static uint64_t mmio_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	return ((struct exitbench *)opaque)->mmio_val;
}

static void mmio_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	((struct exitbench *)opaque)->mmio_val = val;
}

static uint64_t ctl_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct exitbench *b = opaque;

	return off ? b->rounds : b->loops;
}

static void ctl_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct exitbench *b = opaque;

	if (off || val < 1 || val > PHASES) {
		hv_warn(ctx, "control port: phase %llu, want 1..%d",
			(unsigned long long)val, PHASES);
		return;
	}
	b->t[val] = hv_clock_now(ctx);
	if (val == PHASES)
		hv_info(ctx, "exitbench: loops=%u pio_ns=%llu mmio_ns=%llu",
			b->loops, (unsigned long long)(b->t[2] - b->t[1]),
			(unsigned long long)(b->t[3] - b->t[2]));
}

static const struct hv_region_ops data_ops = {
	.min_access = 1,
	.max_access = 4,
	.read = data_read,
	.write = data_write,
};

static const struct hv_region_ops mmio_ops = {
	.min_access = 1,
	.max_access = 8,
	.read = mmio_read,
	.write = mmio_write,
};

static const struct hv_region_ops ctl_ops = {
	.min_access = 4,
	.max_access = 4,
	.read = ctl_read,
	.write = ctl_write,
};

static int eb_add(struct hv_ctx *ctx, int space, uint64_t base, uint64_t len,
		  const struct hv_region_ops *ops, struct exitbench *b)
{
	int rc = hv_region_add(ctx, space, base, len, ops, b, NULL);

	if (rc)
		hv_error(ctx, "%s 0x%llx: %s",
			 space == HV_SPACE_PIO ? "port" : "MMIO",
			 (unsigned long long)base,
			 rc == -EBUSY ? "already taken by another device"
				      : strerror(-rc));
	return rc;
}

static int eb_create(struct hv_ctx *ctx)
{
	struct exitbench *b = HV_STATE(ctx, struct exitbench);
	uint64_t port = (uint64_t)hv_config_get_int(ctx, "port");
	int rc;

	b->loops = (uint32_t)hv_config_get_int(ctx, "loops");
	b->rounds = (uint32_t)hv_config_get_int(ctx, "rounds");
	rc = eb_add(ctx, HV_SPACE_PIO, port, 4, &data_ops, b);
	if (!rc)
		rc = eb_add(ctx, HV_SPACE_PIO, port + 4, 8, &ctl_ops, b);
	if (!rc)
		rc = eb_add(ctx, HV_SPACE_MMIO,
			    (uint64_t)hv_config_get_int(ctx, "mmio"), 0x1000,
			    &mmio_ops, b);
	return rc;
}

static void eb_destroy(struct hv_ctx *ctx)
{
	/* regions are the core's to release */
}

static const struct hv_device_ops ops = {
	.create = eb_create,
	.destroy = eb_destroy,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("port", "0x4e0", 0, 0xfff4,
		   "data port; the control ports are port + 4 and + 8"),
	HV_KEY_NUM("mmio", "0xd0000000", 0x100000, 0xfffff000ll,
		   "guest-physical base of the MMIO page"),
	HV_KEY_NUM("loops", "4096", 1, 0x7fffffff,
		   "round trips per loop (each is a write and a read)"),
	HV_KEY_NUM("rounds", "1", 1, 0x7fffffff,
		   "rounds of the PIO loop then the MMIO loop"),
	HV_KEYS_END};

HV_PLUGIN_DEFINE(
	exitbench, device, &ops, .version = "1.0",
	.description =
		"bench/exit: a PIO port and an MMIO page that do nothing",
	.instance_size = sizeof(struct exitbench), .keys = keys);
