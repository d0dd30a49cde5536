/*
 * pci-testdev: a PCI function for testing interrupt delivery and BAR
 * decoding from inside a guest (in the spirit of QEMU's "edu"). No DMA.
 *
 *   BAR0  4 KiB memory, 32-bit: the register file below
 *   BAR1  the MSI-X table and PBA (the core's), `msix_vectors` entries
 *   BAR2  64-bit prefetchable memory (BARs 2-3), `bar2_size` bytes: the
 *         register file again, repeated every 4 KiB, so a guest can prove
 *         the BAR decodes wherever it put it (above 4 GiB too)
 *   BAR4  with `ram_bar` (a size): device RAM the guest reads and writes
 *         without exits (HV_PCI_BAR_RAM); reset puts RAM_SIG at offset 8
 *   INTA#, MSI with `msi_vectors` vectors, MSI-X
 *
 * Registers (32-bit, offsets in BAR0):
 *   0x00 ID        read-only TESTDEV_ID
 *   0x04 SCRATCH   read/write
 *   0x08 STATUS    read-only: bit 0 set by each doorbell until acked
 *   0x0c ACK       write 1s to clear STATUS bits; INTx drops with the last
 *   0x10 DOORBELL  write N: raise the interrupt — MSI-X entry N or MSI
 *                  vector N when the guest enabled either, else INTx
 *                  (level, held until ACK)
 *   0x14 COUNT     read-only: doorbells so far
 *   0x18 RESULT    read-only: what the last doorbell did (RESULT_*)
 *   0x1c RAMIDX    read/write: a 32-bit word index into the RAM BAR
 *   0x20 RAMWORD   read-only: that word, as the device sees it (its host
 *                  pointer); ~0 past the end or without a RAM BAR
 *   0x24 DIRTY     read-only: the RAM BAR's pages 0-31 written since the
 *                  last read (read-and-clear), ~0 on error
 */
#include <errno.h>

#include <hv/hv.h>

#define TESTDEV_ID 0x7e57de00u
#define REG_ID 0x00
#define REG_SCRATCH 0x04
#define REG_STATUS 0x08
#define REG_ACK 0x0c
#define REG_DOORBELL 0x10
#define REG_COUNT 0x14
#define REG_RESULT 0x18
#define REG_RAMIDX 0x1c
#define REG_RAMWORD 0x20
#define REG_DIRTY 0x24
#define RAM_SIG 0x52414d21u /* "!MAR" */
#define RESULT_INTX 1u
#define RESULT_MSI 2u  /* sent, or left pending by a masked MSI-X entry */
#define RESULT_NOBM 3u /* MSI enabled but bus mastering off: nothing sent */
#define STATE_VERSION 1

struct testdev {
	struct hv_pci_dev *dev;
	uint32_t scratch, status, count, result;
	uint32_t *ram; /* the RAM BAR, NULL without */
	uint64_t ram_size;
	uint32_t ramidx;
};

static uint32_t dirty_read(struct hv_ctx *ctx, struct testdev *t)
{
	uint64_t map[1024];
	size_t bytes = (t->ram_size / 4096 + 63) / 64 * 8;

	if (!t->ram || bytes > sizeof(map) ||
	    hv_pci_bar_dirty_get(ctx, t->dev, 4, map, bytes))
		return ~0u;
	return (uint32_t)map[0];
}

static uint64_t reg_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct testdev *t = opaque;

	switch (off & 0xffc) {
	case REG_ID: return TESTDEV_ID;
	case REG_SCRATCH: return t->scratch;
	case REG_STATUS: return t->status;
	case REG_COUNT: return t->count;
	case REG_RESULT: return t->result;
	case REG_RAMIDX: return t->ramidx;
	case REG_RAMWORD:
		return t->ram && t->ramidx < t->ram_size / 4 ?
		       __atomic_load_n(&t->ram[t->ramidx], __ATOMIC_RELAXED) : ~0u;
	case REG_DIRTY: return dirty_read(ctx, t);
	default: return 0;
	}
}

static void doorbell(struct hv_ctx *ctx, struct testdev *t, uint32_t vector)
{
	int rc = hv_pci_msi_send(ctx, t->dev, vector);

	t->count++;
	t->status |= 1;
	if (rc == -ENOENT) {
		t->result = RESULT_INTX;
		hv_pci_intx_set(ctx, t->dev, 1);
	} else {
		t->result = rc ? RESULT_NOBM : RESULT_MSI;
	}
}

static void reg_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct testdev *t = opaque;

	switch (off & 0xffc) {
	case REG_SCRATCH:
		t->scratch = (uint32_t)val;
		break;
	case REG_ACK:
		t->status &= ~(uint32_t)val;
		if (!t->status)
			hv_pci_intx_set(ctx, t->dev, 0);
		break;
	case REG_DOORBELL:
		doorbell(ctx, t, (uint32_t)val);
		break;
	case REG_RAMIDX:
		t->ramidx = (uint32_t)val;
		break;
	}
}

static const struct hv_region_ops regs = {
	.min_access = 4, .max_access = 4, .read = reg_read, .write = reg_write,
};

static int testdev_create(struct hv_ctx *ctx)
{
	struct testdev *t = HV_STATE(ctx, struct testdev);
	struct hv_pci_bar bars[6] = {
		[0] = { .size = 4096, .flags = HV_PCI_BAR_MEM32, .ops = &regs, .opaque = t },
		[2] = { .size = (uint64_t)hv_config_get_int(ctx, "bar2_size"),
			.flags = HV_PCI_BAR_MEM64 | HV_PCI_BAR_PREFETCH,
			.ops = &regs, .opaque = t },
	};
	struct hv_pci_info info = {
		.vendor = 0x1234, .device = 0x7e57, .class_code = 0xff0000,
		.revision = 1, .irq_pin = 1,
		.msi_vectors = (uint16_t)hv_config_get_int(ctx, "msi_vectors"),
		.msix_vectors = (uint16_t)hv_config_get_int(ctx, "msix_vectors"),
		.msix_bar = 1,
		.bar = bars,
	};

	int rc;

	t->ram_size = (uint64_t)hv_config_get_int(ctx, "ram_bar");
	/* the core would refuse these too, but only we know which key it was */
	if (info.msi_vectors & (info.msi_vectors - 1)) {
		hv_error(ctx, "msi_vectors = %u: an MSI vector count is 0, 1, 2, 4, 8, 16 or 32",
			 info.msi_vectors);
		return -EINVAL;
	}
	if (t->ram_size & (t->ram_size - 1)) {
		hv_error(ctx, "ram_bar = %llu: a power of two from 4K, or 0 for none",
			 (unsigned long long)t->ram_size);
		return -EINVAL;
	}
	if (t->ram_size)
		bars[4] = (struct hv_pci_bar){ .size = t->ram_size,
						   .flags = HV_PCI_BAR_MEM32 | HV_PCI_BAR_RAM };
	if ((rc = hv_pci_register(ctx, &info, &t->dev)))
		return rc;
	if (t->ram_size && !(t->ram = hv_pci_bar_ram_get(ctx, t->dev, 4))) {
		hv_error(ctx, "ram_bar: the core gave no memory for BAR4");
		return -ENOSYS;
	}
	return 0;
}

static void testdev_reset(struct hv_ctx *ctx)
{
	struct testdev *t = HV_STATE(ctx, struct testdev);

	t->scratch = t->status = t->count = t->result = t->ramidx = 0;
	if (t->ram)
		t->ram[2] = RAM_SIG;
	hv_pci_intx_set(ctx, t->dev, 0);
}

static int testdev_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct testdev *t = HV_STATE(ctx, struct testdev);
	uint32_t r[5] = { STATE_VERSION, t->scratch, t->status, t->count, t->result };

	return hv_state_write(ctx, st, r, sizeof(r));
}

static int testdev_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct testdev *t = HV_STATE(ctx, struct testdev);
	uint32_t r[5];
	int rc;

	if ((rc = hv_state_read(ctx, st, r, sizeof(r))) || r[0] != STATE_VERSION)
		return rc ? rc : -EINVAL;
	t->scratch = r[1], t->status = r[2], t->count = r[3], t->result = r[4];
	return 0;
}

static const struct hv_device_ops ops = {
	.create = testdev_create,
	.reset = testdev_reset,
	.save = testdev_save,
	.restore = testdev_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("msi_vectors", "1", 0, 32, "MSI vectors: 0 (no MSI capability), 1, 2, 4 ... 32"),
	HV_KEY_NUM("msix_vectors", "4", 0, 2048, "MSI-X table entries (0: no MSI-X)"),
	HV_KEY_SZ("bar2_size", "4K", 16, 1ll << 40, "the 64-bit BAR's size, a power of two"),
	HV_KEY_SZ("ram_bar", "0", 0, 1ll << 30, "BAR4 as device RAM of this size (a power of two from 4K; 0: none)"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(pci-testdev, device, &ops,
		 .version = "1.0",
		 .description = "PCI test function: doorbell raising INTx, MSI or MSI-X; no DMA",
		 .instance_size = sizeof(struct testdev),
		 .keys = keys);
