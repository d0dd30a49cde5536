/*
 * libFuzzer over libhv-virtio: the transport's registers and the split
 * ring walker, driven from the input against fake guest RAM (fakehost.h).
 * Guest RAM starts zeroed (desc at 0, avail at 0x1000, used at 0x2000,
 * buffers anywhere); after two header bytes (queue size, features) each
 * 8-byte command is one driver or device action: write a descriptor,
 * offer a head (or jump avail idx), poke RAM, notify, push or unpop a held
 * element (out of order), a register write, a driver reset, MSI-X on/off.
 * The device is a sink that touches every byte of every element's iovecs
 * (ASan: they must lie in RAM) and holds up to HELD elements.
 *
 *   make fuzz-virtio; build/fuzz/fuzz_virtq -runs=N CORPUS
 */
#include "fakehost.h"

#define HELD 8
#define QMAX 64

struct sink {
	struct hv_virtio *vio;
	struct hv_virtq_elem e[HELD];
	struct iovec iov[HELD][16];
	int busy[HELD];
	uint8_t cfg[8];
};

static struct sink sk;

static void touch(struct hv_virtq_elem *e)
{
	volatile uint8_t sum = 0;

	for (int i = 0; i < e->out_num; i++)
		for (size_t j = 0; j < e->out[i].iov_len; j++)
			sum += ((uint8_t *)e->out[i].iov_base)[j];
	for (int i = 0; i < e->in_num; i++)
		memset(e->in[i].iov_base, 0xa5, e->in[i].iov_len);
	if (e->out_len + e->in_len > 2 * (uint64_t)RAM_SIZE * QMAX)
		abort();
}

static void sink_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	for (int i = 0; i < HELD; i++) {
		if (sk.busy[i])
			continue;
		if (hv_virtq_pop(vq, &sk.e[i]) != 1)
			break;
		touch(&sk.e[i]);
		sk.busy[i] = 1;
	}
	hv_virtq_flush(vq);
}

static void sink_reset(struct hv_ctx *ctx, void *opaque)
{
	/* elements "in backend I/O" stay held: pushed later, stale */
}

static const struct hv_virtio_ops sink_ops = {
	.notify = sink_notify, .reset = sink_reset,
};

static void driver_setup(unsigned qsize, uint32_t feat_lo, int event_idx)
{
	bar_wr(0x14, 1, 0);
	bar_wr(0x14, 1, 3);
	bar_wr(0x08, 4, 0);
	bar_wr(0x0c, 4, feat_lo | (1u << 28) | (event_idx ? 1u << 29 : 0));
	bar_wr(0x08, 4, 1);
	bar_wr(0x0c, 4, 1);
	bar_wr(0x14, 1, 0xb);
	bar_wr(0x16, 2, 0);
	bar_wr(0x18, 2, qsize);
	bar_wr(0x20, 4, 0);
	bar_wr(0x24, 4, 0);
	bar_wr(0x28, 4, 0x1000);
	bar_wr(0x2c, 4, 0);
	bar_wr(0x30, 4, 0x2000);
	bar_wr(0x34, 4, 0);
	bar_wr(0x1c, 2, 1);
	bar_wr(0x14, 1, 0xf);
}

static void release(struct hv_virtq *vq, unsigned i, int unpop)
{
	if (!sk.busy[i % HELD])
		return;
	sk.busy[i % HELD] = 0;
	if (unpop)
		hv_virtq_unpop(vq, &sk.e[i % HELD]);
	else
		hv_virtq_push(vq, &sk.e[i % HELD], (uint32_t)sk.e[i % HELD].in_len);
}

/* One 8-byte command: op, a (u8), b (le16), v (le32). */
static void command(const uint8_t *c, unsigned qsize)
{
	struct hv_virtq *vq = hv_virtio_queue(sk.vio, 0);
	uint8_t a = c[1];
	uint16_t b = (uint16_t)(c[2] | c[3] << 8);
	uint32_t v = (uint32_t)c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
	uint16_t *avail = (uint16_t *)(fk.ram + 0x1000);
	uint8_t *d;

	switch (c[0] % 12) {
	case 0: bar_wr(0x3000, 2, 0); break; /* notify */
	case 1: /* a descriptor: index a, addr b*16 (+ v's top bits: past RAM), len, flags */
		d = fk.ram + 16 * (a % QMAX);
		uint64_t addr = (uint64_t)b * 16 + ((v >> 31) ? RAM_SIZE - 64 : 0);
		uint32_t len = v & 0x3fff, fl = (v >> 14) & 7, next = (v >> 17) & 0x7f;
		memcpy(d, &addr, 8), memcpy(d + 8, &len, 4);
		memcpy(d + 12, &fl, 2), memcpy(d + 14, &next, 2);
		break;
	case 2: /* offer head a (avail ring, idx + 1, or + b when v & 1) */
		avail[2 + avail[1] % qsize] = a;
		avail[1] += (v & 1) ? b : 1;
		break;
	case 3: memcpy(fk.ram + (b * 4u) % (RAM_SIZE - 4), &v, 4); break; /* poke */
	case 4: release(vq, a, 0); hv_virtq_flush(vq); break;
	case 5: release(vq, a, b & 1); break;
	case 6: bar_wr(a % 0x40, 1u << (b % 3), v); break; /* common cfg */
	case 7: (void)bar_rd(0x1000, 1); break; /* ISR */
	case 8: driver_setup(qsize, v, a & 1); break; /* driver reset */
	case 9: fk.msix_enabled = a & 1; bar_wr(0x1a, 2, b % 4); break;
	case 10: (void)bar_rd(a % 0x40, 1u << (b % 3)); break;
	case 11: avail[2 + qsize] = b; break; /* used_event */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_virtio_info info = {
		.device_type = 42, .num_queues = 1, .queue_size_max = QMAX,
		.class_code = 0xff0000, .config = sk.cfg, .config_size = sizeof(sk.cfg),
		.ops = &sink_ops, .opaque = &sk,
	};
	unsigned qsize;

	if (size < 2)
		return 0;
	memset(&fk, 0, sizeof(fk));
	memset(&sk, 0, sizeof(sk));
	fk.quiet = 1;
	fk.ram = calloc(1, RAM_SIZE);
	qsize = 1u << (data[0] % 7); /* 1 .. 64 */
	if (hv_virtio_pci_create(&fake_ctx, &info, &sk.vio))
		abort();
	for (int i = 0; i < HELD; i++)
		hv_virtq_elem_init(&sk.e[i], sk.iov[i], 16);
	driver_setup(qsize, data[1] & 0x0f, data[1] & 0x10);
	for (size_t off = 2; off + 8 <= size; off += 8)
		command(data + off, qsize);
	bar_wr(0x3000, 2, 0);
	for (int i = 0; i < HELD; i++)
		release(hv_virtio_queue(sk.vio, 0), (unsigned)i, 0);
	hv_virtio_reset(sk.vio);
	if (fk.live_maps) /* every element and ring unmapped */
		abort();
	hv_virtio_destroy(sk.vio);
	free(fk.ram);
	return 0;
}
