/*
 * libFuzzer over plugins/virtio-blk on libhv-virtio: the request parser
 * (types, headers, sectors, discard/write-zeroes segments, GET_ID) and its
 * slots, with a fake disk (fakehost.h) that aborts on any request the core
 * would refuse (past the end, misaligned, iovecs outside RAM or not
 * covering the length) and completes requests in the order the input
 * says. Commands as in fuzz_virtq.c, 8 bytes each, two queues.
 */
#include "fakehost.h"

#define QS 16

static struct hv_plugin_desc const *desc;
static const struct hv_device_ops *ops;

static void driver_setup(uint32_t feat_lo, int event_idx)
{
	bar_wr(0x14, 1, 0);
	bar_wr(0x14, 1, 3);
	bar_wr(0x08, 4, 0);
	bar_wr(0x0c, 4, feat_lo | (1u << 28) | (event_idx ? 1u << 29 : 0));
	bar_wr(0x08, 4, 1);
	bar_wr(0x0c, 4, 1);
	bar_wr(0x14, 1, 0xb);
	for (unsigned q = 0; q < 2; q++) {
		bar_wr(0x16, 2, q);
		bar_wr(0x18, 2, QS);
		bar_wr(0x20, 4, 0x4000 * q);
		bar_wr(0x24, 4, 0);
		bar_wr(0x28, 4, 0x4000 * q + 0x1000);
		bar_wr(0x2c, 4, 0);
		bar_wr(0x30, 4, 0x4000 * q + 0x2000);
		bar_wr(0x34, 4, 0);
		bar_wr(0x1c, 2, 1);
	}
	bar_wr(0x14, 1, 0xf);
}

static void command(const uint8_t *c)
{
	uint8_t a = c[1];
	uint16_t b = (uint16_t)(c[2] | c[3] << 8);
	uint32_t v = (uint32_t)c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
	unsigned q = a >> 7, base = 0x4000 * q;
	uint16_t *avail = (uint16_t *)(fk.ram + base + 0x1000);
	uint8_t *d;

	switch (c[0] % 10) {
	case 0: bar_wr(0x3000 + 4 * q, 2, q); break; /* notify */
	case 1: /* a descriptor: index, addr b*16 (+ past RAM), len, flags, next */
		d = fk.ram + base + 16 * (a % QS);
		uint64_t addr = (uint64_t)b * 16 % RAM_SIZE + ((v >> 31) ? RAM_SIZE - 32 : 0);
		uint32_t len = v & 0x3fff, fl = (v >> 14) & 7, next = (v >> 17) & 0xf;
		memcpy(d, &addr, 8), memcpy(d + 8, &len, 4);
		memcpy(d + 12, &fl, 2), memcpy(d + 14, &next, 2);
		break;
	case 2: /* offer head a */
		avail[2 + avail[1] % QS] = a & (QS - 1);
		avail[1]++;
		break;
	case 3: memcpy(fk.ram + (b * 4u) % (RAM_SIZE - 4), &v, 4); break; /* poke */
	case 4: pend_complete(a, (b & 3) == 3 ? -EIO : 0); break;
	case 5: driver_setup(v, a & 1); break;
	case 6: bar_wr(a % 0x40, 1u << (b % 3), v); break;
	case 7: fk.msix_enabled = a & 1; break;
	case 8: /* a machine reset: the core drains, then resets */
		while (npend)
			pend_complete(0, 0);
		ops->reset(&fake_ctx);
		driver_setup(v, a & 1);
		break;
	case 9: (void)bar_rd(0x1000, 1); break;
	}
}

const struct hv_plugin_desc *hv_plugin_entry(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	desc = hv_plugin_entry();
	ops = desc->ops;
	memset(&fk, 0, sizeof(fk));
	npend = 0;
	fk.quiet = 1;
	fk.ram = calloc(1, RAM_SIZE);
	fake_ctx.state = calloc(1, desc->instance_size);
	if (ops->create(&fake_ctx))
		abort();
	ops->reset(&fake_ctx);
	driver_setup(data[0] & 0x7fff, data[0] & 0x80);
	for (size_t off = 1; off + 8 <= size; off += 8)
		command(data + off);
	while (npend)
		pend_complete(0, 0);
	ops->reset(&fake_ctx);
	if (fk.live_maps) /* every element and ring unmapped */
		abort();
	ops->destroy(&fake_ctx);
	free(fake_ctx.state);
	free(fk.ram);
	return 0;
}
