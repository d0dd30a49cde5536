/*
 * A fake core for libhv-virtio alone (the fuzzer): guest RAM is one
 * malloc'd block at gpa 0 of exactly RAM_SIZE bytes, so ASan catches any
 * access the library lets through outside it; PCI registration keeps the
 * BAR ops and config-space callbacks for the fuzzer to call; hv_dma maps
 * ranges inside RAM with the core's rules (order, -EFAULT, -ENOSPC). Only
 * the services libhv-virtio uses are set.
 */
#ifndef HV_TESTS_FAKEHOST_H
#define HV_TESTS_FAKEHOST_H

#include <stdio.h>
#include <stdlib.h>

#include <hv/hv.h>
#include <hv/virtio.h>

#define RAM_SIZE (64u << 10)

static struct hv_ctx fake_ctx_ref;

struct fake {
	uint8_t *ram;
	struct hv_pci_info pci;
	struct hv_pci_bar bar[6];
	int msix_enabled, intx, msis, live_maps;
	int quiet;
};

static struct fake fk;

static int in_ram(uint64_t gpa, uint64_t len)
{
	return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static void f_log(struct hv_ctx *ctx, int level, const char *fmt, va_list ap)
{
	if (!fk.quiet) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

static int f_mem_read(struct hv_ctx *ctx, uint64_t gpa, void *buf, size_t len)
{
	if (!in_ram(gpa, len))
		return -EFAULT;
	memcpy(buf, fk.ram + gpa, len);
	return 0;
}

static int f_mem_write(struct hv_ctx *ctx, uint64_t gpa, const void *buf, size_t len)
{
	if (!in_ram(gpa, len))
		return -EFAULT;
	memcpy(fk.ram + gpa, buf, len);
	return 0;
}

static void *f_mem_map(struct hv_ctx *ctx, uint64_t gpa, size_t len, unsigned flags)
{
	return in_ram(gpa, len) && len ? fk.ram + gpa : NULL;
}

static int f_pci_register(struct hv_ctx *ctx, const struct hv_pci_info *info,
			  size_t info_size, size_t bar_size, struct hv_pci_dev **out)
{
	fk.pci = *info;
	memcpy(fk.bar, info->bar, sizeof(fk.bar));
	*out = (struct hv_pci_dev *)&fk;
	return 0;
}

static void f_intx(struct hv_ctx *ctx, struct hv_pci_dev *d, int level)
{
	fk.intx = level;
}

static int f_msi(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned vector)
{
	if (!fk.msix_enabled)
		return -ENOENT;
	if (vector >= fk.pci.msix_vectors)
		return -EINVAL;
	fk.msis++;
	return 0;
}

static int f_dma_add(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa,
		     uint64_t len, unsigned flags)
{
	/* core[0]: 1 once a writable range is in */
	if (!flags || (flags & ~HV_DMA_BIDIRECTIONAL) || dma->size != sizeof(*dma))
		return -EINVAL;
	if (!(flags & HV_DMA_FROM_DEVICE) && dma->core[0])
		return -EINVAL;
	if (!in_ram(gpa, len))
		return -EFAULT;
	if (!len)
		return 0;
	if (dma->iovcnt == dma->max_iov)
		return -ENOSPC;
	if (!dma->iovcnt && !dma->core[1])
		fk.live_maps++, dma->core[1] = &fk;
	if (flags & HV_DMA_FROM_DEVICE)
		dma->core[0] = &fk;
	dma->iov[dma->iovcnt++] = (struct iovec){ fk.ram + gpa, len };
	dma->len += len;
	return 1;
}

static void f_dma_unmap(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t written)
{
	if (dma->core[1])
		fk.live_maps--;
	dma->iovcnt = 0, dma->len = 0;
	dma->core[0] = dma->core[1] = NULL;
}

/* ---- a disk for virtio-blk (fuzz_blk.c): requests wait in pend[] ---- */
#define DISK_SIZE (1u << 20)
#define PEND_MAX 256

static struct hv_disk_req *pend[PEND_MAX];
static int npend;

static const char *f_cfg_str(struct hv_ctx *ctx, const char *key)
{
	return !strcmp(key, "disk") ? "vd" : NULL;
}

static int64_t f_cfg_int(struct hv_ctx *ctx, const char *key)
{
	return !strcmp(key, "queues") ? 2 : !strcmp(key, "queue_size") ? 16 : 0;
}

static struct hv_disk *f_disk_attach(struct hv_ctx *ctx, const char *key)
{
	return (struct hv_disk *)&fk;
}

static void f_disk_info(struct hv_ctx *ctx, struct hv_disk *d,
			struct hv_disk_info *info, size_t size)
{
	struct hv_disk_info di = { .size = DISK_SIZE, .logical_sector = 512,
				   .physical_sector = 4096, .flags = HV_DISK_F_DISCARD,
				   .serial = "FUZZ-SERIAL" };

	memcpy(info, &di, size < sizeof(di) ? size : sizeof(di));
}

/* The core's checks, as aborts: the device must never send these. */
static int f_disk_submit(struct hv_ctx *ctx, struct hv_disk *d, struct hv_disk_req *req)
{
	uint64_t covered = 0;

	if (req->op == HV_DISK_READ || req->op == HV_DISK_WRITE ||
	    req->op == HV_DISK_DISCARD || req->op == HV_DISK_WRITE_ZEROES) {
		if (req->offset > DISK_SIZE || req->len > DISK_SIZE - req->offset ||
		    req->offset % 512 || req->len % 512)
			abort();
	}
	if (req->op == HV_DISK_READ || req->op == HV_DISK_WRITE) {
		for (int i = 0; i < req->iovcnt; i++) {
			uint8_t *p = req->iov[i].iov_base;

			if (p < fk.ram || p + req->iov[i].iov_len > fk.ram + RAM_SIZE)
				abort();
			covered += req->iov[i].iov_len;
		}
		if (covered != req->len)
			abort();
	}
	if (npend == PEND_MAX)
		abort(); /* more in flight than the device's slots */
	pend[npend++] = req;
	return 0;
}

static struct hv_disk_req *pend_take(unsigned k)
{
	struct hv_disk_req *r;

	if (!npend)
		return NULL;
	k %= (unsigned)npend;
	r = pend[k];
	pend[k] = pend[--npend];
	return r;
}

/* Finish request k as the core would: read or write guest RAM, done(). */
static void pend_complete(unsigned k, int status)
{
	struct hv_disk_req *r = pend_take(k);

	if (!r)
		return;
	for (int i = 0; i < r->iovcnt && r->op == HV_DISK_READ; i++)
		memset(r->iov[i].iov_base, 0x3c, r->iov[i].iov_len);
	for (int i = 0; i < r->iovcnt && r->op == HV_DISK_WRITE; i++) {
		volatile uint8_t sum = 0;

		for (size_t j = 0; j < r->iov[i].iov_len; j++)
			sum += ((uint8_t *)r->iov[i].iov_base)[j];
	}
	r->done(&fake_ctx_ref, r, status);
}

static void f_vm_info(struct hv_ctx *ctx, struct hv_vm_info *info, size_t size)
{
	memset(info, 0, size);
}

static const struct hv_host fake_host = {
	.size = sizeof(struct hv_host), .abi_major = HV_ABI_MAJOR, .abi_minor = HV_ABI_MINOR,
	.log_write = f_log, .mem_read = f_mem_read, .mem_write = f_mem_write,
	.mem_map = f_mem_map, .pci_register = f_pci_register, .pci_intx_set = f_intx,
	.pci_msi_send = f_msi, .dma_add = f_dma_add, .dma_unmap = f_dma_unmap,
	.config_get_str = f_cfg_str, .config_get_int = f_cfg_int,
	.disk_attach = f_disk_attach, .disk_info_get = f_disk_info,
	.disk_submit = f_disk_submit, .vm_info_get = f_vm_info,
};

#define fake_ctx fake_ctx_ref
static struct hv_ctx fake_ctx_ref = { .host = &fake_host, .name = "fuzz" };

static uint64_t bar_rd(uint64_t off, unsigned size)
{
	return fk.bar[4].ops->read(&fake_ctx, fk.bar[4].opaque, off, size);
}

static void bar_wr(uint64_t off, unsigned size, uint64_t v)
{
	fk.bar[4].ops->write(&fake_ctx, fk.bar[4].opaque, off, size, v);
}

#endif
