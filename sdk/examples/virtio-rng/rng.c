/*
 * virtio-rng (virtio 1.x entropy device, PCI 1af4:1044; Linux virtio_rng):
 * a third-party virtio device on the SDK's transport, in a page. Every
 * writable buffer the driver offers on queue 0 is filled from getrandom().
 */
#include <sys/random.h>

#include <hv/hv.h>
#include <hv/virtio.h>

struct rng {
	struct hv_virtio *vio;
	struct hv_virtq_elem elem;
	struct iovec iov[16];
};

static void rng_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	struct rng *r = opaque;

	while (hv_virtq_pop(vq, &r->elem) == 1) {
		uint64_t n = 0;

		for (int i = 0; i < r->elem.in_num; i++) {
			ssize_t got = getrandom(r->elem.in[i].iov_base,
						r->elem.in[i].iov_len, GRND_NONBLOCK);
			if (got <= 0)
				break;
			n += (uint64_t)got;
		}
		hv_virtq_push(vq, &r->elem, (uint32_t)n);
	}
	hv_virtq_flush(vq);
}

static const struct hv_virtio_ops rng_vops = { .notify = rng_notify };

static int rng_create(struct hv_ctx *ctx)
{
	struct rng *r = HV_STATE(ctx, struct rng);
	struct hv_virtio_info info = {
		.device_type = 4, .num_queues = 1, .queue_size_max = 64,
		.class_code = 0xff0000, .ops = &rng_vops, .opaque = r,
	};

	hv_virtq_elem_init(&r->elem, r->iov, 16);
	return hv_virtio_pci_create(ctx, &info, &r->vio);
}

static void rng_destroy(struct hv_ctx *ctx)
{
	hv_virtio_destroy(HV_STATE(ctx, struct rng)->vio);
}

static void rng_reset(struct hv_ctx *ctx)
{
	hv_virtio_reset(HV_STATE(ctx, struct rng)->vio);
}

static const struct hv_device_ops rng_ops = {
	.create = rng_create, .destroy = rng_destroy, .reset = rng_reset,
};

static const struct hv_config_key rng_keys[] = { HV_KEYS_END };

HV_PLUGIN_DEFINE(virtio-rng, device, &rng_ops,
		 .version = "1.0",
		 .description = "virtio 1.x entropy device (example)",
		 .instance_size = sizeof(struct rng),
		 .keys = rng_keys);
