/* SPDX-License-Identifier: MIT */
/*
 * Transport state for snapshots: a versioned stream inside the device's
 * own. Layout (version 1, little-endian, fixed size per queue):
 *   u32 magic "VIO1", u32 num_queues, u64 dev_features, u64 drv_features,
 *   u32 dfselect, u32 gfselect, u16 config_vector, u16 queue_select,
 *   u8 status, u8 config_gen, u8 isr, u8 broken,
 *   per queue: u64 desc, avail, used, u16 size, vector, last_avail,
 *   used_idx, u8 enabled, 7 bytes zero.
 */
#include "virtio_int.h"

#define STATE_MAGIC 0x314f4956u /* "VIO1" */

struct vio_head {
	uint32_t magic, num_queues;
	uint64_t dev_features, drv_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_select;
	uint8_t status, config_gen, isr, broken;
};

struct vq_rec {
	uint64_t desc, avail, used;
	uint16_t size, vector, last_avail, used_idx;
	uint8_t enabled, pad[7];
};

int hv_virtio_save(struct hv_virtio *vio, struct hv_state *st)
{
	struct vio_head h = {
		.magic = STATE_MAGIC, .num_queues = vio->info.num_queues,
		.dev_features = vio->dev_features, .drv_features = vio->drv_features,
		.dfselect = vio->dfselect, .gfselect = vio->gfselect,
		.config_vector = vio->config_vector, .queue_select = vio->queue_select,
		.status = vio->status, .config_gen = vio->config_gen,
		.isr = vio->isr, .broken = vio->broken,
	};
	int rc;

	if (vio->inflight || vio->reset_pending)
		return -EBUSY;
	if ((rc = hv_state_write(vio->ctx, st, &h, sizeof(h))))
		return rc;
	for (unsigned i = 0; i < vio->info.num_queues; i++) {
		struct hv_virtq *vq = &vio->vq[i];
		struct vq_rec r = {
			.desc = vq->desc_gpa, .avail = vq->avail_gpa, .used = vq->used_gpa,
			.size = vq->size, .vector = vq->vector,
			.last_avail = vq->last_avail, .used_idx = vq->used_idx,
			.enabled = vq->enabled,
		};

		if ((rc = hv_state_write(vio->ctx, st, &r, sizeof(r))))
			return rc;
	}
	return 0;
}

static int queue_restore(struct hv_virtq *vq, const struct vq_rec *r)
{
	vq_clear(vq);
	vq->desc_gpa = r->desc, vq->avail_gpa = r->avail, vq->used_gpa = r->used;
	vq->size = r->size, vq->vector = r->vector;
	if (!r->enabled)
		return 0;
	if (vq_map(vq))
		return -EINVAL;
	vq->last_avail = r->last_avail;
	vq->used_idx = vq->published = r->used_idx;
	return 0;
}

int hv_virtio_restore(struct hv_virtio *vio, struct hv_state *st)
{
	struct vio_head h;
	struct vq_rec r;
	int rc;

	if ((rc = hv_state_read(vio->ctx, st, &h, sizeof(h))))
		return rc;
	if (h.magic != STATE_MAGIC || h.num_queues != vio->info.num_queues ||
	    h.dev_features != vio->dev_features)
		return -EINVAL;
	vio->broken = 0;
	for (unsigned i = 0; i < vio->info.num_queues; i++) {
		if ((rc = hv_state_read(vio->ctx, st, &r, sizeof(r))))
			return rc;
		if ((rc = queue_restore(&vio->vq[i], &r)))
			return rc;
	}
	vio->drv_features = h.drv_features;
	vio->dfselect = h.dfselect, vio->gfselect = h.gfselect;
	vio->config_vector = h.config_vector, vio->queue_select = h.queue_select;
	vio->status = h.status, vio->config_gen = h.config_gen;
	vio->isr = h.isr, vio->broken = h.broken;
	vio->inflight = 0, vio->reset_pending = 0;
	hv_pci_intx_set(vio->ctx, vio->pci, vio->isr != 0);
	return 0;
}
