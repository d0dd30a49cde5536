/* SPDX-License-Identifier: MIT */
/*
 * The virtio 1.x modern PCI transport (spec 4.1): the vendor capabilities
 * in config space, BAR4's common config / ISR / device config / notify
 * registers, MSI-X and INTx, features and the device_status machine.
 *
 * Register writes arrive on vCPU threads and completions on the main
 * thread, all under the device's domain lock (hv/virtio.h): no locking.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio_int.h"

#define CAP_COMMON 0x60
#define CAP_NOTIFY 0x70
#define CAP_ISR 0x84
#define CAP_DEVICE 0x94
#define CAP_PCICFG 0xa4
#define CAP_END 0xb8
#define PCICFG_DATA (CAP_PCICFG + 16)

#define ISR_QUEUE 0x1u
#define ISR_CONFIG 0x2u

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* ---- interrupts ---- */

/* The core answers a vector past the table with -EINVAL only while the
 * guest has MSI-X enabled (-ENOENT otherwise): the cheapest way to ask. */
static int msix_on(struct hv_virtio *vio)
{
	return hv_pci_msi_send(vio->ctx, vio->pci, 0xffff) != -ENOENT;
}

static void vio_irq(struct hv_virtio *vio, uint16_t vector, uint8_t isr)
{
	if (vector != HV_VIRTIO_NO_VECTOR) {
		/* sent, left pending by a mask, or dropped without bus master */
		if (hv_pci_msi_send(vio->ctx, vio->pci, vector) != -ENOENT)
			return;
	} else if (msix_on(vio)) {
		return; /* MSI-X on and no vector: the driver wants none */
	}
	vio->isr |= isr;
	hv_pci_intx_set(vio->ctx, vio->pci, 1);
}

void vio_queue_irq(struct hv_virtq *vq)
{
	vio_irq(vq->vio, vq->vector, ISR_QUEUE);
}

static void config_irq(struct hv_virtio *vio)
{
	if (vio->status & HV_VIRTIO_S_DRIVER_OK)
		vio_irq(vio, vio->config_vector, ISR_CONFIG);
}

void vio_fault(struct hv_virtio *vio, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!vio->broken)
		hv_warn(vio->ctx, "virtio: %s: device needs reset", msg);
	vio->broken = 1;
	vio->status |= HV_VIRTIO_S_NEEDS_RESET;
	config_irq(vio);
}

void hv_virtio_needs_reset(struct hv_virtio *vio, const char *why)
{
	vio_fault(vio, "%s", why);
}

/* ---- resets ---- */

static void regs_clear(struct hv_virtio *vio)
{
	for (unsigned i = 0; i < vio->info.num_queues; i++)
		vq_clear(&vio->vq[i]);
	vio->drv_features = 0;
	vio->dfselect = vio->gfselect = 0;
	vio->config_vector = HV_VIRTIO_NO_VECTOR;
	vio->queue_select = 0;
	vio->isr = 0;
	vio->broken = 0;
	vio->pcicfg_bar = 0, vio->pcicfg_off = vio->pcicfg_len = 0;
	hv_pci_intx_set(vio->ctx, vio->pci, 0);
}

/* device_status = 0: it reads back 0 once no element is in flight. */
static void driver_reset(struct hv_virtio *vio)
{
	if (vio->info.ops->reset)
		vio->info.ops->reset(vio->ctx, vio->info.opaque);
	regs_clear(vio);
	if (vio->inflight)
		vio->reset_pending = 1;
	else
		vio->status = 0;
}

void vio_elem_done(struct hv_virtio *vio)
{
	if (vio->inflight && !--vio->inflight && vio->reset_pending) {
		vio->reset_pending = 0;
		vio->status = 0;
	}
}

void hv_virtio_reset(struct hv_virtio *vio)
{
	if (vio->info.ops->reset)
		vio->info.ops->reset(vio->ctx, vio->info.opaque);
	regs_clear(vio);
	/* the core drained our I/O: whatever is still counted is lost */
	vio->inflight = 0;
	vio->reset_pending = 0;
	vio->status = 0;
	vio->config_gen = 0;
}

/* Run notify on every enabled queue (and with irq, interrupt each). */
static void kick(struct hv_virtio *vio, int irq)
{
	if (!(vio->status & HV_VIRTIO_S_DRIVER_OK) || vio->broken)
		return;
	for (unsigned i = 0; i < vio->info.num_queues; i++) {
		struct hv_virtq *vq = &vio->vq[i];

		if (!vq->enabled)
			continue;
		vio->info.ops->notify(vio->ctx, vio->info.opaque, vq);
		if (irq)
			vio_queue_irq(vq);
	}
}

/* ---- device_status ---- */

static int features_acceptable(struct hv_virtio *vio)
{
	uint64_t f = vio->drv_features;

	if (f & ~vio->dev_features) {
		hv_warn(vio->ctx, "virtio: the driver accepted features %#llx it was not offered",
			(unsigned long long)(f & ~vio->dev_features));
		return 0;
	}
	if (!(f & HV_VIRTIO_BIT(HV_VIRTIO_F_VERSION_1))) {
		hv_warn(vio->ctx, "virtio: a legacy driver (no VIRTIO_F_VERSION_1): refused");
		return 0;
	}
	return !vio->info.ops->features_ok ||
	       !vio->info.ops->features_ok(vio->ctx, vio->info.opaque, f);
}

static void status_write(struct hv_virtio *vio, uint8_t val)
{
	uint8_t was = vio->status;

	if (!val) {
		driver_reset(vio);
		return;
	}
	if (vio->reset_pending)
		return;
	if ((val & HV_VIRTIO_S_FEATURES_OK) && !(was & HV_VIRTIO_S_FEATURES_OK) &&
	    !features_acceptable(vio))
		val &= (uint8_t)~HV_VIRTIO_S_FEATURES_OK;
	/* NEEDS_RESET is the device's: the driver cannot clear it */
	vio->status = val | (was & HV_VIRTIO_S_NEEDS_RESET);
	if ((val & HV_VIRTIO_S_DRIVER_OK) && !(was & HV_VIRTIO_S_DRIVER_OK)) {
		if (vio->info.ops->driver_ok)
			vio->info.ops->driver_ok(vio->ctx, vio->info.opaque);
		/* buffers the driver queued before DRIVER_OK waited for this */
		kick(vio, 0);
	}
}

/* ---- common configuration ---- */

static struct hv_virtq *selected(struct hv_virtio *vio)
{
	return vio->queue_select < vio->info.num_queues ?
	       &vio->vq[vio->queue_select] : NULL;
}

/* The common config structure as the driver would read it now. */
static void common_image(struct hv_virtio *vio, uint8_t img[VIO_COMMON_LEN])
{
	struct hv_virtq *vq = selected(vio);

	memset(img, 0, VIO_COMMON_LEN);
	put32(img + 0x00, vio->dfselect);
	put32(img + 0x04, vio->dfselect < 2 ?
			  (uint32_t)(vio->dev_features >> (32 * vio->dfselect)) : 0);
	put32(img + 0x08, vio->gfselect);
	put32(img + 0x0c, vio->gfselect < 2 ?
			  (uint32_t)(vio->drv_features >> (32 * vio->gfselect)) : 0);
	put16(img + 0x10, vio->config_vector);
	put16(img + 0x12, vio->info.num_queues);
	img[0x14] = vio->status;
	img[0x15] = vio->config_gen;
	put16(img + 0x16, vio->queue_select);
	if (!vq)
		return;
	put16(img + 0x18, vq->size);
	put16(img + 0x1a, vq->vector);
	put16(img + 0x1c, vq->enabled);
	put16(img + 0x1e, vq->index); /* queue_notify_off */
	put64(img + 0x20, vq->desc_gpa);
	put64(img + 0x28, vq->avail_gpa);
	put64(img + 0x30, vq->used_gpa);
}

static uint16_t vector_check(struct hv_virtio *vio, uint16_t v)
{
	return v < vio->nvec ? v : HV_VIRTIO_NO_VECTOR;
}

static void queue_field(struct hv_virtio *vio, unsigned field, const uint8_t *img)
{
	struct hv_virtq *vq = selected(vio);
	uint16_t v16;

	if (!vq)
		return;
	memcpy(&v16, img + field, 2);
	if (field == 0x1a) {
		vq->vector = vector_check(vio, v16);
		return;
	}
	if (vq->enabled)
		return; /* a live queue's rings do not move */
	switch (field) {
	case 0x18:
		vq->size = v16;
		break;
	case 0x1c:
		if (v16 == 1 && !vio->broken)
			vq_map(vq);
		break;
	case 0x20: memcpy(&vq->desc_gpa, img + 0x20, 8); break;
	case 0x28: memcpy(&vq->avail_gpa, img + 0x28, 8); break;
	case 0x30: memcpy(&vq->used_gpa, img + 0x30, 8); break;
	}
}

static void common_field(struct hv_virtio *vio, unsigned field, const uint8_t *img)
{
	uint32_t v32;
	uint16_t v16;

	memcpy(&v32, img + field, 4);
	memcpy(&v16, img + field, 2);
	switch (field) {
	case 0x00: vio->dfselect = v32; break;
	case 0x08: vio->gfselect = v32; break;
	case 0x0c:
		if (vio->gfselect < 2 && !(vio->status & HV_VIRTIO_S_FEATURES_OK)) {
			unsigned sh = 32 * vio->gfselect;

			vio->drv_features &= ~(0xffffffffull << sh);
			vio->drv_features |= (uint64_t)v32 << sh;
		}
		break;
	case 0x10: vio->config_vector = vector_check(vio, v16); break;
	case 0x14: status_write(vio, img[0x14]); break;
	case 0x16: vio->queue_select = v16; break;
	default: queue_field(vio, field, img);
	}
}

static const uint8_t common_fields[] = { 0x00, 0x08, 0x0c, 0x10, 0x14, 0x16, 0x18,
					 0x1a, 0x1c, 0x20, 0x28, 0x30 };
static const uint8_t common_width[] = { 4, 4, 4, 2, 1, 2, 2, 2, 2, 8, 8, 8 };

/* Merge the written bytes into the image, then apply every writable
 * field they touch (a 64-bit address takes effect half by half). */
static void common_write(struct hv_virtio *vio, unsigned off, unsigned size,
			 uint64_t val)
{
	uint8_t img[VIO_COMMON_LEN];

	if (off + size > VIO_COMMON_LEN)
		return;
	common_image(vio, img);
	memcpy(img + off, &val, size);
	if (vio->reset_pending && !(off <= 0x14 && off + size > 0x14))
		return;
	for (unsigned i = 0; i < sizeof(common_fields); i++) {
		unsigned f = common_fields[i], w = common_width[i];

		if (off < f + w && f < off + size)
			common_field(vio, f, img);
	}
}

/* ---- BAR4 ---- */

static uint64_t bar_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct hv_virtio *vio = opaque;
	uint64_t v = 0;
	uint8_t img[VIO_COMMON_LEN];

	if (off + size <= VIO_COMMON_LEN) {
		common_image(vio, img);
		memcpy(&v, img + off, size);
	} else if (off >= VIO_ISR && off < VIO_ISR + 4) {
		v = off == VIO_ISR ? vio->isr : 0;
		if (off == VIO_ISR) {
			vio->isr = 0; /* read-to-clear, and the line drops */
			hv_pci_intx_set(ctx, vio->pci, 0);
		}
	} else if (off >= VIO_DEVCFG && off - VIO_DEVCFG + size <= vio->info.config_size) {
		memcpy(&v, (uint8_t *)vio->info.config + (off - VIO_DEVCFG), size);
	}
	return v;
}

/*
 * HV_VIRTIO_NOTIFY_MAIN: the vCPU only marks the queue and, once per
 * round, wakes the main thread through kick_fd. Both sides run under the
 * domain lock, so the flags need nothing more.
 */
/* Wake kick_run once per round: 0, or -1 without the eventfd. */
static int kick_arm(struct hv_virtio *vio)
{
	uint64_t one = 1;

	if (!vio->kick_w)
		return -1;
	if (vio->kick_armed)
		return 0;
	/* a failure needs 2^64 - 1 writes unread: cannot happen */
	if (write(vio->kick_fd, &one, sizeof(one)) != sizeof(one))
		return -1;
	vio->kick_armed = 1;
	return 0;
}

static void kick_later(struct hv_virtio *vio, struct hv_virtq *vq)
{
	vq->kicked = 1;
	if (kick_arm(vio)) {
		vq->kicked = 0;
		vio->info.ops->notify(vio->ctx, vio->info.opaque, vq);
	}
}

static void kick_run(struct hv_ctx *ctx, void *opaque, unsigned events)
{
	struct hv_virtio *vio = opaque;
	uint64_t n;

	/* EAGAIN (nothing written since the last read) changes nothing */
	ssize_t r = read(vio->kick_fd, &n, sizeof(n));

	(void)r;
	vio->kick_armed = 0;
	for (unsigned i = 0; i < vio->info.num_queues; i++) {
		struct hv_virtq *vq = &vio->vq[i];

		if (!vq->kicked)
			continue;
		vq->kicked = 0;
		/* what the register write checked may have changed since */
		if (vq->enabled && !vio->broken && !vio->reset_pending &&
		    (vio->status & HV_VIRTIO_S_DRIVER_OK))
			vio->info.ops->notify(ctx, vio->info.opaque, vq);
	}
}

/* A host without fd watches (a test's fake core) notifies inline. */
static int kick_setup(struct hv_virtio *vio)
{
	int rc;

	vio->kick_fd = -1;
	if (!(vio->info.flags & HV_VIRTIO_NOTIFY_MAIN) || !vio->ctx->host->fd_watch)
		return 0;
	if ((vio->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	rc = hv_fd_watch(vio->ctx, vio->kick_fd, HV_FD_IN, kick_run, vio, &vio->kick_w);
	if (rc) {
		close(vio->kick_fd);
		vio->kick_fd = -1;
		vio->kick_w = NULL;
	}
	return rc;
}

static void kick_teardown(struct hv_virtio *vio)
{
	if (vio->kick_w)
		hv_fd_unwatch(vio->ctx, vio->kick_w);
	if (vio->kick_fd >= 0)
		close(vio->kick_fd);
	vio->kick_w = NULL;
	vio->kick_fd = -1;
}

static void bar_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct hv_virtio *vio = opaque;
	uint64_t q;

	if (off < VIO_COMMON_LEN) {
		common_write(vio, (unsigned)off, size, val);
	} else if (off >= VIO_DEVCFG && off - VIO_DEVCFG + size <= vio->info.config_size) {
		if (vio->info.ops->config_write && !vio->reset_pending)
			vio->info.ops->config_write(ctx, vio->info.opaque,
						    (unsigned)(off - VIO_DEVCFG), size,
						    (uint32_t)val);
	} else if (off >= VIO_NOTIFY && (q = (off - VIO_NOTIFY) / VIO_NOTIFY_MULT) <
						vio->info.num_queues) {
		struct hv_virtq *vq = &vio->vq[q];

		if (!vq->enabled || vio->broken || vio->reset_pending ||
		    !(vio->status & HV_VIRTIO_S_DRIVER_OK))
			return;
		if (vio->kick_w) {
			kick_later(vio, vq);
			return;
		}
		vio->info.ops->notify(ctx, vio->info.opaque, vq);
	}
}

static const struct hv_region_ops bar_ops = {
	.min_access = 1, .max_access = 4, .read = bar_read, .write = bar_write,
};

/* ---- config space: our capabilities from 0x60 ---- */

static void cap(uint8_t *c, unsigned at, unsigned next, unsigned len,
		unsigned type, uint32_t off, uint32_t length)
{
	uint8_t *p = c + (at - HV_PCI_CFG_DEVICE);

	p[0] = 0x09; /* vendor-specific */
	p[1] = (uint8_t)next;
	p[2] = (uint8_t)len;
	p[3] = (uint8_t)type;
	p[4] = type == 5 ? 0 : VIO_BAR;
	put32(p + 8, off);
	put32(p + 12, length);
}

static void caps_build(struct hv_virtio *vio)
{
	uint8_t *c = vio->cfg;
	int dev = vio->info.config_size > 0;

	cap(c, CAP_COMMON, CAP_NOTIFY, 16, 1, VIO_COMMON, VIO_COMMON_LEN);
	cap(c, CAP_NOTIFY, CAP_ISR, 20, 2, VIO_NOTIFY,
	    VIO_NOTIFY_MULT * vio->info.num_queues);
	put32(c + (CAP_NOTIFY + 16 - HV_PCI_CFG_DEVICE), VIO_NOTIFY_MULT);
	cap(c, CAP_ISR, dev ? CAP_DEVICE : CAP_PCICFG, 16, 3, VIO_ISR, 4);
	if (dev)
		cap(c, CAP_DEVICE, CAP_PCICFG, 16, 4, VIO_DEVCFG, vio->info.config_size);
	cap(c, CAP_PCICFG, 0, 20, 5, 0, 0);
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: an access to BAR4 through config
 * space at the bar/offset/length the driver wrote into the capability. */
static int window(struct hv_virtio *vio, unsigned reg, unsigned size)
{
	return reg == PCICFG_DATA && vio->pcicfg_bar == VIO_BAR &&
	       size == vio->pcicfg_len && (size == 1 || size == 2 || size == 4) &&
	       vio->pcicfg_off < VIO_BAR_SIZE && vio->pcicfg_off % size == 0;
}

static uint32_t cfg_read(struct hv_ctx *ctx, void *opaque, unsigned reg,
			 unsigned size)
{
	struct hv_virtio *vio = opaque;
	uint8_t *p = vio->cfg + (reg - HV_PCI_CFG_DEVICE);
	uint32_t v = 0;

	if (window(vio, reg, size))
		return (uint32_t)bar_read(ctx, vio, vio->pcicfg_off, size);
	if (reg + size > CAP_END)
		return 0;
	put32(vio->cfg + (CAP_PCICFG + 4 - HV_PCI_CFG_DEVICE), 0);
	vio->cfg[CAP_PCICFG + 4 - HV_PCI_CFG_DEVICE] = vio->pcicfg_bar;
	put32(vio->cfg + (CAP_PCICFG + 8 - HV_PCI_CFG_DEVICE), vio->pcicfg_off);
	put32(vio->cfg + (CAP_PCICFG + 12 - HV_PCI_CFG_DEVICE), vio->pcicfg_len);
	memcpy(&v, p, size);
	return v;
}

static void cfg_write(struct hv_ctx *ctx, void *opaque, unsigned reg,
		      unsigned size, uint32_t value)
{
	struct hv_virtio *vio = opaque;
	uint8_t b[4];

	if (window(vio, reg, size)) {
		bar_write(ctx, vio, vio->pcicfg_off, size, value);
		return;
	}
	memcpy(b, &value, 4);
	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;

		if (r == CAP_PCICFG + 4)
			vio->pcicfg_bar = b[i];
		else if (r >= CAP_PCICFG + 8 && r < CAP_PCICFG + 12)
			((uint8_t *)&vio->pcicfg_off)[r - CAP_PCICFG - 8] = b[i];
		else if (r >= CAP_PCICFG + 12 && r < CAP_PCICFG + 16)
			((uint8_t *)&vio->pcicfg_len)[r - CAP_PCICFG - 12] = b[i];
	}
}

/* ---- creation ---- */

static int info_check(struct hv_ctx *ctx, const struct hv_virtio_info *in)
{
	const char *why = NULL;
	unsigned qs = in->queue_size_max;

	if (!in->ops || !in->ops->notify)
		why = "no ops or no notify op";
	else if (!in->num_queues || in->num_queues > VIO_MAX_QUEUES)
		why = "num_queues must be 1 to 1024";
	else if (!qs || (qs & (qs - 1)) || qs > HV_VIRTQ_MAX_SIZE)
		why = "queue_size_max must be a power of two up to 32768";
	else if (in->config_size > 4096 || (in->config_size && !in->config))
		why = "config must be at most 4096 bytes, and given";
	if (why)
		hv_error(ctx, "virtio: %s", why);
	return why ? -EINVAL : 0;
}

int hv_virtio_pci_create(struct hv_ctx *ctx, const struct hv_virtio_info *info,
			 struct hv_virtio **out)
{
	struct hv_virtio *vio;
	int rc;

	if ((rc = info_check(ctx, info)))
		return rc;
	if (!(vio = calloc(1, sizeof(*vio))) ||
	    !(vio->vq = calloc(info->num_queues, sizeof(*vio->vq)))) {
		rc = -ENOMEM;
		goto out_free;
	}
	vio->ctx = ctx;
	vio->info = *info;
	vio->nvec = (uint16_t)(info->num_queues + 1);
	vio->dev_features = info->features | HV_VIRTIO_BIT(HV_VIRTIO_F_VERSION_1);
	if (!(info->flags & HV_VIRTIO_NO_INDIRECT))
		vio->dev_features |= HV_VIRTIO_BIT(HV_VIRTIO_F_INDIRECT_DESC);
	if (!(info->flags & HV_VIRTIO_NO_EVENT_IDX))
		vio->dev_features |= HV_VIRTIO_BIT(HV_VIRTIO_F_RING_EVENT_IDX);
	vio->dev_features &= ~(HV_VIRTIO_BIT(HV_VIRTIO_F_ACCESS_PLATFORM) |
			       HV_VIRTIO_BIT(HV_VIRTIO_F_RING_PACKED));
	for (unsigned i = 0; i < info->num_queues; i++) {
		vio->vq[i].vio = vio;
		vio->vq[i].index = (uint16_t)i;
	}
	caps_build(vio);
	struct hv_pci_bar bars[6] = {
		[VIO_BAR] = { .size = VIO_BAR_SIZE,
			      .flags = HV_PCI_BAR_MEM64 | HV_PCI_BAR_PREFETCH,
			      .ops = &bar_ops, .opaque = vio },
	};
	struct hv_pci_info pi = {
		.vendor = HV_VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(HV_VIRTIO_PCI_DEVICE_BASE + info->device_type),
		.subsystem_vendor = HV_VIRTIO_PCI_VENDOR,
		.subsystem = info->subsystem ? info->subsystem : 0x1100,
		.class_code = info->class_code,
		.revision = 1,
		.irq_pin = 1,
		.msix_vectors = vio->nvec,
		.msix_bar = 1,
		.cap_next = CAP_COMMON,
		.bar = bars,
		.cfg_read = cfg_read,
		.cfg_write = cfg_write,
		.opaque = vio,
	};
	if ((rc = kick_setup(vio)))
		goto out_free;
	if ((rc = hv_pci_register(ctx, &pi, &vio->pci)))
		goto out_kick;
	regs_clear(vio);
	*out = vio;
	return 0;
out_kick:
	kick_teardown(vio);
out_free:
	if (vio)
		free(vio->vq);
	free(vio);
	return rc;
}

void hv_virtio_destroy(struct hv_virtio *vio)
{
	if (!vio)
		return;
	kick_teardown(vio);
	for (unsigned i = 0; i < vio->info.num_queues; i++)
		vq_unmap(&vio->vq[i]);
	free(vio->vq);
	free(vio);
}

/* ---- the device's view ---- */

struct hv_virtq *hv_virtio_queue(struct hv_virtio *vio, unsigned n)
{
	return n < vio->info.num_queues ? &vio->vq[n] : NULL;
}

uint64_t hv_virtio_features(const struct hv_virtio *vio)
{
	return vio->drv_features;
}

uint8_t hv_virtio_status(const struct hv_virtio *vio)
{
	return vio->status;
}

void hv_virtio_config_changed(struct hv_virtio *vio)
{
	vio->config_gen++;
	config_irq(vio);
}

void hv_virtio_kick(struct hv_virtio *vio)
{
	kick(vio, 1);
}
