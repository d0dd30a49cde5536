/*
 * libFuzzer over plugins/vnic (virtio-net) on libhv-virtio, a hostile
 * driver and a hostile wire at once: two queue pairs and the control
 * queue in fake guest RAM (tests/virtio/fakehost.h), descriptors, offers
 * and pokes from the input, frames from the "backend" of any length,
 * header and split, with or without the port taking headers; driver
 * resets, link flips, deferred tx rounds. The fake core aborts on
 * anything the real one would have to refuse from a device: a frame sent
 * that is shorter than an Ethernet header or longer than HV_NET_FRAME_MAX,
 * iovecs outside guest RAM (but the device's own 12-byte header copy), a
 * port description out of range, a push marking more written than the
 * buffers hold, a mapping left behind; ASan catches any
 * byte touched outside RAM or the instance.
 *
 *   make fuzz-vnic; build/fuzz/fuzz_vnic -runs=N CORPUS
 */
#include "../virtio/fakehost.h"

#include <hv/net.h>

#define QS 16
#define NQ 5 /* rx0 tx0 rx1 tx1 ctrl */
#define QBASE(q) (0x400u * (q))
#define DEFER_MAX 8

static const struct hv_device_ops *ops;
static const struct hv_net_cbs *rx_cbs;
static void *rx_opaque;
static uint32_t port_off;
static int link_on;
static uint64_t now_ns;
static struct { hv_cb cb; void *opaque; } defer[DEFER_MAX];
static int ndefer;
static uint8_t wire[HV_NET_FRAME_MAX + 64];

static const char *v_cfg_str(struct hv_ctx *ctx, const char *key)
{
	if (!strcmp(key, "net"))
		return "sw";
	if (!strcmp(key, "mac"))
		return "52:54:00:12:34:56";
	return NULL;
}

static int64_t v_cfg_int(struct hv_ctx *ctx, const char *key)
{
	if (!strcmp(key, "queues"))
		return 2;
	if (!strcmp(key, "queue_size"))
		return QS;
	if (!strcmp(key, "mtu"))
		return 1500;
	if (!strcmp(key, "link"))
		return link_on;
	if (!strcmp(key, "offloads"))
		return 1;
	return 0;
}

static struct hv_net *v_net_attach(struct hv_ctx *ctx, const char *key,
				   const struct hv_net_cbs *cbs, size_t cbs_size,
				   void *opaque)
{
	rx_cbs = cbs, rx_opaque = opaque;
	return (struct hv_net *)&fk;
}

static int v_net_send(struct hv_ctx *ctx, struct hv_net *n,
		      const struct iovec *iov, int iovcnt)
{
	uint64_t total = 0;
	volatile uint8_t sum = 0;

	for (int i = 0; i < iovcnt; i++) {
		uint8_t *p = iov[i].iov_base;

		/* the frame straight from guest RAM, behind the device's own
		 * checked copy of the header */
		if (i == 0 && port_off ? iov[i].iov_len != HV_NET_HDR_LEN :
		    !(p >= fk.ram && p + iov[i].iov_len <= fk.ram + RAM_SIZE))
			abort();
		for (size_t j = 0; j < iov[i].iov_len; j++)
			sum += p[j];
		total += iov[i].iov_len;
	}
	if (total < (port_off ? HV_NET_HDR_LEN : 0) + 14 || total > HV_NET_FRAME_MAX)
		abort();
	return 0;
}

static void v_net_rx_ready(struct hv_ctx *ctx, struct hv_net *n)
{
}

static int v_net_configure(struct hv_ctx *ctx, struct hv_net *n,
			   const struct hv_net_port *p)
{
	if (p->size != sizeof(*p) || p->vlan > 4094 || (p->offloads & ~HV_NET_OFF_ALL))
		abort();
	port_off = p->offloads;
	return 0;
}

static uint64_t v_clock(struct hv_ctx *ctx)
{
	return now_ns += 1000;
}

static int v_defer(struct hv_ctx *ctx, hv_cb cb, void *opaque)
{
	if (ndefer == DEFER_MAX)
		return -ENOMEM;
	defer[ndefer].cb = cb, defer[ndefer++].opaque = opaque;
	return 0;
}

static void defer_run(void)
{
	int n = ndefer;

	ndefer = 0;
	for (int i = 0; i < n; i++)
		defer[i].cb(&fake_ctx, defer[i].opaque);
}

/* A push may mark written no more than the chain's buffers hold. */
static void v_dma_unmap(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t written)
{
	if (written > dma->len)
		abort();
	f_dma_unmap(ctx, dma, written);
}

static struct hv_host vnic_host;

static void host_init(void)
{
	vnic_host = fake_host;
	vnic_host.config_get_str = v_cfg_str;
	vnic_host.config_get_int = v_cfg_int;
	vnic_host.net_attach = v_net_attach;
	vnic_host.net_send = v_net_send;
	vnic_host.net_rx_ready = v_net_rx_ready;
	vnic_host.net_configure = v_net_configure;
	vnic_host.clock_now = v_clock;
	vnic_host.loop_defer = v_defer;
	vnic_host.dma_unmap = v_dma_unmap;
	fake_ctx.host = &vnic_host;
}

static void driver_setup(uint32_t feat_lo, int event_idx)
{
	bar_wr(0x14, 1, 0);
	bar_wr(0x14, 1, 3);
	bar_wr(0x08, 4, 0);
	bar_wr(0x0c, 4, feat_lo | (event_idx ? 1u << 29 : 0));
	bar_wr(0x08, 4, 1);
	bar_wr(0x0c, 4, 1);
	bar_wr(0x14, 1, 0xb);
	for (unsigned q = 0; q < NQ; q++) {
		bar_wr(0x16, 2, q);
		bar_wr(0x18, 2, QS);
		bar_wr(0x20, 4, QBASE(q));
		bar_wr(0x24, 4, 0);
		bar_wr(0x28, 4, QBASE(q) + 0x100);
		bar_wr(0x2c, 4, 0);
		bar_wr(0x30, 4, QBASE(q) + 0x200);
		bar_wr(0x34, 4, 0);
		bar_wr(0x1c, 2, 1);
	}
	bar_wr(0x14, 1, 0xf);
}

/* A frame from the wire: len bytes (a header first when the port takes
 * one, its flags and GSO type from the input), in up to three pieces. */
static void wire_frame(uint8_t a, uint16_t b, uint32_t v)
{
	size_t len = v % (HV_NET_FRAME_MAX + 32), cut1, cut2;
	struct iovec iov[3];

	memset(wire, 0x5a, len);
	if (port_off && len >= HV_NET_HDR_LEN) {
		struct hv_net_hdr h = { .flags = a & 3, .gso_type = (uint8_t)(b >> 8),
					.gso_size = b, .csum_start = 14, .csum_offset = a };
		memcpy(wire, &h, sizeof(h));
	}
	cut1 = len ? (size_t)(b & 0xff) % (len + 1) : 0;
	cut2 = cut1 + (len - cut1 ? (size_t)(v >> 24) % (len - cut1 + 1) : 0);
	iov[0] = (struct iovec){ wire, cut1 };
	iov[1] = (struct iovec){ wire + cut1, cut2 - cut1 };
	iov[2] = (struct iovec){ wire + cut2, len - cut2 };
	rx_cbs->receive(&fake_ctx, rx_opaque, iov, 3);
}

static void command(const uint8_t *c)
{
	uint8_t a = c[1];
	uint16_t b = (uint16_t)(c[2] | c[3] << 8);
	uint32_t v = (uint32_t)c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
	unsigned q = (a >> 4) % NQ, base = QBASE(q);
	uint16_t *avail = (uint16_t *)(fk.ram + base + 0x100);
	uint8_t *d;

	switch (c[0] % 12) {
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
	case 4: wire_frame(a, b, v); break;
	case 5: driver_setup(v, a & 1); break;
	case 6: bar_wr(a % 0x40, 1u << (b % 3), v); break;
	case 7: fk.msix_enabled = a & 1; break;
	case 8: /* a machine reset */
		ops->reset(&fake_ctx);
		driver_setup(v, a & 1);
		break;
	case 9: defer_run(); break;
	case 10: /* the user flips the link at run time */
		link_on = a & 1;
		if (ops->config_changed(&fake_ctx, "link"))
			abort();
		break;
	case 11: (void)bar_rd(0x2000 + a % 12, 1); break; /* device config */
	}
}

const struct hv_plugin_desc *hv_plugin_entry(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hv_plugin_desc *desc;

	if (size < 4)
		return 0;
	desc = hv_plugin_entry();
	ops = desc->ops;
	memset(&fk, 0, sizeof(fk));
	host_init();
	ndefer = 0, port_off = 0, link_on = 1;
	fk.quiet = 1;
	fk.ram = calloc(1, RAM_SIZE);
	fake_ctx.state = calloc(1, desc->instance_size);
	if (ops->create(&fake_ctx))
		abort();
	ops->reset(&fake_ctx);
	driver_setup((uint32_t)data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24, 0);
	for (size_t off = 4; off + 8 <= size; off += 8)
		command(data + off);
	defer_run();
	ops->reset(&fake_ctx);
	if (fk.live_maps) /* every element and ring unmapped */
		abort();
	ops->destroy(&fake_ctx);
	free(fake_ctx.state);
	free(fk.ram);
	return 0;
}
