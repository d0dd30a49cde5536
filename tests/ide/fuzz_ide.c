/*
 * libFuzzer over the IDE plugin's guest-facing paths: the input is a
 * sequence of register accesses (command blocks, device control, the bus
 * master, PCI config), guest-memory writes (PRD tables, CDB data) and
 * "run the main loop" steps that complete queued disk I/O, against an ATA
 * disk and an ATAPI CD of 1 MiB each. The plugin's sources are compiled in;
 * the host table below stands in for the core with the guarantees the SDK
 * states (whole-range memory checks, hv_dma maps only RAM, disk requests
 * complete later, never inside submit), so that ASan sees any access the
 * plugin makes outside them.
 */
#include <stdlib.h>
#include <string.h>

#include <hv/hv.h>

#define RAM_SIZE (1u << 20)
#define DISK_SIZE (1u << 20)
#define MAX_Q 8

static uint8_t ram[RAM_SIZE];
static uint8_t disk_ata[DISK_SIZE], disk_cd[DISK_SIZE];
struct hv_disk { uint8_t *data; uint32_t flags; };
static struct hv_disk disks[2] = { { disk_ata, 0 }, { disk_cd, HV_DISK_F_CDROM | HV_DISK_F_READONLY } };
static struct { uint64_t base; const struct hv_region_ops *ops; void *opaque; } regions[4];
static int nregions;
static struct hv_pci_info pci;
static struct hv_pci_bar bm_bar;
static uint16_t pci_cmd;
static struct { struct hv_disk *d; struct hv_disk_req *req; } q[MAX_Q];
static int nq;

static void f_log(struct hv_ctx *c, int l, const char *f, va_list ap) {}
static const char *f_cfg_str(struct hv_ctx *c, const char *k)
{
	if (!strcmp(k, "primary_master")) return "d0";
	if (!strcmp(k, "secondary_master")) return "cd";
	return NULL;
}
static int f_mem_read(struct hv_ctx *c, uint64_t gpa, void *buf, size_t len)
{
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa) return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}
static int f_region_add(struct hv_ctx *c, int space, uint64_t base, uint64_t len,
			const struct hv_region_ops *ops, void *opaque, struct hv_region **out)
{
	if (nregions == 4) return -EBUSY;
	regions[nregions].base = base, regions[nregions].ops = ops;
	regions[nregions++].opaque = opaque;
	return 0;
}
static int f_irq_set(struct hv_ctx *c, unsigned line, int level) { return 0; }
static struct hv_disk *f_disk_attach(struct hv_ctx *c, const char *key)
{
	return !strcmp(key, "primary_master") ? &disks[0] : !strcmp(key, "secondary_master") ? &disks[1] : NULL;
}
static void f_disk_info(struct hv_ctx *c, struct hv_disk *d, struct hv_disk_info *i, size_t n)
{
	struct hv_disk_info in = { .size = DISK_SIZE, .logical_sector = d->flags ? 2048 : 512,
				   .physical_sector = d->flags ? 2048 : 4096, .flags = d->flags };
	strcpy(in.serial, "FUZZ");
	memcpy(i, &in, n < sizeof(in) ? n : sizeof(in));
}
static int f_disk_submit(struct hv_ctx *c, struct hv_disk *d, struct hv_disk_req *r)
{
	uint64_t n = 0;
	if (r->offset > DISK_SIZE || r->len > DISK_SIZE - r->offset) return -EINVAL;
	if ((d->flags & HV_DISK_F_READONLY) && r->op != HV_DISK_READ) return -EROFS;
	for (int i = 0; i < r->iovcnt; i++) n += r->iov[i].iov_len;
	if ((r->op == HV_DISK_READ || r->op == HV_DISK_WRITE) && n < r->len) abort();
	if (nq == MAX_Q) abort(); /* the plugin has one request per channel */
	q[nq].d = d, q[nq++].req = r;
	return 0;
}
static void run_queue(struct hv_ctx *c)
{
	while (nq) {
		struct hv_disk_req *r = q[0].req;
		uint8_t *p = q[0].d->data + r->offset;
		memmove(q, q + 1, sizeof(q[0]) * --nq);
		for (int i = 0; i < r->iovcnt && (r->op == HV_DISK_READ || r->op == HV_DISK_WRITE); i++) {
			if (r->op == HV_DISK_READ) memcpy(r->iov[i].iov_base, p, r->iov[i].iov_len);
			else memcpy(p, r->iov[i].iov_base, r->iov[i].iov_len);
			p += r->iov[i].iov_len;
		}
		r->done(c, r, 0);
	}
}
static void *f_buf_alloc(struct hv_ctx *c, size_t len) { return aligned_alloc(4096, len); }
static void f_buf_free(struct hv_ctx *c, void *b) { free(b); }
static int f_pci_register(struct hv_ctx *c, const struct hv_pci_info *i, size_t is, size_t bs,
			  struct hv_pci_dev **out)
{
	pci = *i;
	bm_bar = i->bar[4];
	*out = (struct hv_pci_dev *)&pci;
	return 0;
}
static uint16_t f_pci_cmd(struct hv_ctx *c, struct hv_pci_dev *d) { return pci_cmd; }
static int f_dma_add(struct hv_ctx *c, struct hv_dma *dma, uint64_t gpa, uint64_t len, unsigned fl)
{
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa) return -EFAULT;
	if (!len) return 0;
	if (dma->iovcnt == dma->max_iov) return -ENOSPC;
	dma->iov[dma->iovcnt].iov_base = ram + gpa;
	dma->iov[dma->iovcnt++].iov_len = len;
	dma->len += len;
	return 1;
}
static void f_dma_unmap(struct hv_ctx *c, struct hv_dma *dma, uint64_t w) { dma->iovcnt = 0, dma->len = 0; }

static const struct hv_host host = {
	.size = sizeof(struct hv_host), .abi_major = HV_ABI_MAJOR, .abi_minor = HV_ABI_MINOR,
	.log_write = f_log, .config_get_str = f_cfg_str, .mem_read = f_mem_read,
	.region_add = f_region_add, .irq_set = f_irq_set, .disk_attach = f_disk_attach,
	.disk_info_get = f_disk_info, .disk_submit = f_disk_submit, .buf_alloc = f_buf_alloc,
	.buf_free = f_buf_free, .pci_register = f_pci_register, .pci_command_get = f_pci_cmd,
	.dma_add = f_dma_add, .dma_unmap = f_dma_unmap,
};

const struct hv_plugin_desc *hv_plugin_entry(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hv_plugin_desc *desc = hv_plugin_entry();
	const struct hv_device_ops *ops = desc->ops;
	void *state = calloc(1, desc->instance_size);
	struct hv_ctx ctx = { .host = &host, .state = state, .name = "fuzz" };

	nregions = 0, nq = 0, pci_cmd = 5;
	memset(ram, 0, sizeof(ram));
	if (ops->create(&ctx)) abort();
	ops->reset(&ctx);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		const uint8_t *b = data + i;
		unsigned sz = 1u << (b[1] >> 6 & 3); /* 1, 2, 4 (8 -> 4) */
		uint32_t v = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[3] << 24;
		sz = sz > 4 ? 4 : sz;
		switch (b[0] & 7) {
		case 0: case 1: { /* a command block (regions 0, 2) or control (1, 3) */
			int r = (b[1] >> 4 & 3);
			unsigned off = r & 1 ? 0 : b[1] & 7;
			unsigned s = r & 1 ? 1 : (off ? 1 : sz);
			if (b[0] & 1) regions[r].ops->read(&ctx, regions[r].opaque, off, s);
			else regions[r].ops->write(&ctx, regions[r].opaque, off, s, v);
			break;
		}
		case 2: bm_bar.ops->write(&ctx, bm_bar.opaque, b[1] & 15 & ~(sz - 1), sz, v); break;
		case 3: bm_bar.ops->read(&ctx, bm_bar.opaque, b[1] & 15, 1); break;
		case 4: pci.cfg_write(&ctx, pci.opaque, 0x40 + (b[1] & 0x1f & ~(sz - 1)), sz, v); break;
		case 5: run_queue(&ctx); break;
		case 6: { /* 2 bytes of guest memory: PRD tables, buffers */
			uint32_t a = ((uint32_t)b[1] << 12 | (uint32_t)b[2] << 4) % (RAM_SIZE - 2);
			ram[a] = b[3], ram[a + 1] = b[1];
			break;
		}
		case 7: pci_cmd ^= HV_PCI_CMD_MASTER; break;
		}
	}
	run_queue(&ctx);
	ops->destroy(&ctx);
	free(state);
	return 0;
}
