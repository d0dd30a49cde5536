/*
 * libFuzzer over the VGA's register interface (plugins/display/vga.c, with
 * edid.c and the real text half vgatext.c): the input's first byte picks
 * a configuration (vram and max_width x max_height), the rest is 4-byte
 * records in any order: VBE port writes and reads (index 0x1ce, data
 * 0x1cf/0x1d0, 8- and 16-bit), BAR2 accesses anywhere in its 4 KiB
 * (EDID, the VGA port mirror, DISPI, the QEMU extension, the holes) of
 * the sizes and alignments the core delivers, guest writes to the
 * framebuffer (dirty pages), refreshes with the deferred publishes run,
 * and save/restore with a byte of the stream changed.
 *
 * vga.c is included here so that after every record the harness can check
 * the invariant the device promises: while DISPI is on its mode lies
 * wholly inside vram. The host table stands in for the core: every
 * published surface must be the text half's buffer or lie inside the
 * framebuffer (its last byte is read, so ASan sees an overrun: vram is a
 * heap block of exactly the BAR's size), every damaged rectangle lies in
 * the current surface.
 */
#include "../../plugins/display/vga.c"

#include <stdio.h>

#define MAX_PIO 8
#define STATE_MAX 65536

struct cfg { int64_t vram, w, h; };
static const struct cfg cfgs[4] = {
	{ 1 << 20, 512, 512 }, { 4 << 20, 1024, 768 },
	{ 16 << 20, 1600, 1200 }, { 1 << 20, 320, 200 },
};
static const struct cfg *cfg;
static uint8_t *vram, window[128 << 10];
static uint64_t now, *dirty_log;
static struct { uint64_t base, len; const struct hv_region_ops *ops; void *opaque; } pio[MAX_PIO];
static int npio;
static struct hv_pci_bar bar2;
static const struct hv_display_cbs *dcbs;
static void *dopaque;
static struct hv_surface cur;
static hv_cb defer_cb;
static void *defer_opaque;
static uint8_t state[STATE_MAX];
static size_t state_len, state_pos;

static void f_log(struct hv_ctx *c, int l, const char *f, va_list ap) {}
static const char *f_cfg_str(struct hv_ctx *c, const char *k)
{
	return !strcmp(k, "font") ? "/usr/share/consolefonts/Lat15-VGA16.psf.gz" : NULL;
}
static int64_t f_cfg_int(struct hv_ctx *c, const char *k)
{
	if (!strcmp(k, "vram")) return cfg->vram;
	if (!strcmp(k, "max_width")) return cfg->w;
	if (!strcmp(k, "max_height")) return cfg->h;
	return 0;
}
static int f_region_add(struct hv_ctx *c, int space, uint64_t base, uint64_t len,
			const struct hv_region_ops *ops, void *opaque, struct hv_region **out)
{
	if (space != HV_SPACE_PIO || npio == MAX_PIO)
		abort();
	pio[npio].base = base, pio[npio].len = len;
	pio[npio].ops = ops, pio[npio++].opaque = opaque;
	return 0;
}
static int f_window(struct hv_ctx *c, int mode, void **ram)
{
	if (ram)
		*ram = window;
	return 0;
}
static int f_vga_dirty(struct hv_ctx *c, uint64_t *bm, size_t n)
{
	memset(bm, 0xff, n); /* over-reporting is allowed */
	return 0;
}
static uint64_t f_now(struct hv_ctx *c) { return now; }
static int f_pci_register(struct hv_ctx *c, const struct hv_pci_info *i, size_t is,
			  size_t bs, struct hv_pci_dev **out)
{
	if (i->bar[0].size != (uint64_t)cfg->vram || !(i->bar[0].flags & HV_PCI_BAR_RAM))
		abort();
	bar2 = i->bar[2];
	vram = malloc(i->bar[0].size);
	dirty_log = calloc(1, i->bar[0].size / 4096 / 8);
	*out = (struct hv_pci_dev *)&bar2;
	return 0;
}
static void *f_bar_ram(struct hv_ctx *c, struct hv_pci_dev *d, unsigned bar)
{
	return bar ? NULL : vram;
}
static int f_bar_dirty(struct hv_ctx *c, struct hv_pci_dev *d, unsigned bar, uint64_t *bm,
		       size_t n)
{
	if (bar || n % 8 || n > (size_t)cfg->vram / 4096 / 8)
		abort();
	memcpy(bm, dirty_log, n);
	memset(dirty_log, 0, n);
	return 0;
}
static int f_disp_register(struct hv_ctx *c, const struct hv_display_cbs *cbs, size_t n,
			   void *opaque, struct hv_display **out)
{
	dcbs = cbs, dopaque = opaque;
	*out = (struct hv_display *)&cur;
	return 0;
}
static int f_disp_attach(struct hv_ctx *c, struct hv_display *d, const char *key) { return 0; }
static uint32_t bpp_of(uint32_t format)
{
	switch (format) {
	case HV_PIXEL_XRGB8888: return 4;
	case HV_PIXEL_RGB888: return 3;
	case HV_PIXEL_RGB565: case HV_PIXEL_XRGB1555: return 2;
	case HV_PIXEL_C8: return 1;
	default: abort();
	}
}
static int f_surface(struct hv_ctx *c, struct hv_display *d, const struct hv_surface *s)
{
	const uint8_t *p = s->pixels;
	uint64_t last;

	if (!s->width || !s->height || s->width > HV_DISPLAY_MAX_WIDTH ||
	    s->height > HV_DISPLAY_MAX_HEIGHT || !p || s->stride < s->width * bpp_of(s->format))
		abort();
	last = (uint64_t)(s->height - 1) * s->stride + (uint64_t)s->width * bpp_of(s->format);
	if (p >= vram && p < vram + cfg->vram) {
		if ((uint64_t)(p - vram) + last > (uint64_t)cfg->vram)
			abort(); /* a surface reaching past BAR0 */
		if (s->format == HV_PIXEL_C8 && !s->palette)
			abort();
	}
	(void)*(volatile const uint8_t *)(p + last - 1);
	cur = *s;
	return 0;
}
static void f_damage(struct hv_ctx *c, struct hv_display *d, uint32_t x, uint32_t y,
		     uint32_t w, uint32_t h)
{
	if (!w || !h || (uint64_t)x + w > cur.width || (uint64_t)y + h > cur.height)
		abort();
}
static int f_defer(struct hv_ctx *c, hv_cb cb, void *opaque)
{
	if (defer_cb && defer_cb != cb)
		abort();
	if (defer_cb)
		abort(); /* vga.c promises one deferral at a time */
	defer_cb = cb, defer_opaque = opaque;
	return 0;
}
static int f_state_write(struct hv_state *st, const void *buf, size_t len)
{
	if (len > STATE_MAX - state_len)
		return -ENOSPC;
	memcpy(state + state_len, buf, len);
	state_len += len;
	return 0;
}
static int f_state_read(struct hv_state *st, void *buf, size_t len)
{
	if (len > state_len - state_pos)
		return -EINVAL;
	memcpy(buf, state + state_pos, len);
	state_pos += len;
	return 0;
}

static const struct hv_host host = {
	.size = sizeof(struct hv_host), .abi_major = HV_ABI_MAJOR, .abi_minor = HV_ABI_MINOR,
	.log_write = f_log, .config_get_str = f_cfg_str, .config_get_int = f_cfg_int,
	.region_add = f_region_add, .vga_window_set = f_window, .vga_dirty_get = f_vga_dirty,
	.clock_now = f_now, .pci_register = f_pci_register, .pci_bar_ram_get = f_bar_ram,
	.pci_bar_dirty_get = f_bar_dirty, .display_register = f_disp_register,
	.display_attach = f_disp_attach, .display_surface = f_surface,
	.display_damage = f_damage, .loop_defer = f_defer,
	.state_write = f_state_write, .state_read = f_state_read,
};

/* One instance at a time, created again when the input asks for another
 * configuration (the font parse makes creating slow), reset per input. */
static struct vga *v;
static struct hv_ctx ctx = { .host = &host, .name = "vga" };
static int cur_cfg = -1;

static struct vga *instance(int i)
{
	if (i == cur_cfg)
		return v;
	if (v) {
		vga_destroy(&ctx);
		free(v), free(vram), free(dirty_log);
	}
	cfg = &cfgs[i], cur_cfg = i, npio = 0;
	ctx.state = v = calloc(1, sizeof(struct vga));
	if (vga_create(&ctx))
		abort();
	return v;
}

static void run_defers(struct hv_ctx *c)
{
	hv_cb cb = defer_cb;

	defer_cb = NULL;
	if (cb)
		cb(c, defer_opaque);
}

/* what the device promises whatever the guest wrote */
static void invariant(void)
{
	const struct dispi_mode *m = &v->mode;

	if (!dispi_on(v))
		return;
	if (!m->w || !m->h || m->w > v->max_w || m->h > v->max_h ||
	    m->stride < m->w * bytes_pp(m->bpp) ||
	    m->offset + (uint64_t)(m->h - 1) * m->stride + (uint64_t)m->w * bytes_pp(m->bpp) >
		    v->vram_size)
		abort();
}

static void pio_access(struct hv_ctx *c, uint16_t port, unsigned size, int write, uint16_t val)
{
	for (int i = 0; i < npio; i++) {
		if (port < pio[i].base || port + size > pio[i].base + pio[i].len)
			continue;
		if (write)
			pio[i].ops->write(c, pio[i].opaque, port - pio[i].base, size, val);
		else
			(void)pio[i].ops->read(c, pio[i].opaque, port - pio[i].base, size);
	}
}

static void save_restore(struct hv_ctx *c, const uint8_t *r)
{
	state_len = state_pos = 0;
	if (vga_save(c, NULL))
		return;
	if (state_len && r[1] & 1)
		state[(r[2] | r[3] << 8) % state_len] ^= r[3] | 1;
	(void)vga_restore(c, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_ctx *c = &ctx;
	uint64_t pages;

	instance(size ? data[0] & 3 : 0);
	pages = (uint64_t)cfg->vram / 4096;
	vga_reset(c);
	run_defers(c);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		const uint8_t *r = data + i;
		uint16_t val = (uint16_t)(r[2] | r[3] << 8);
		unsigned sz = 1u << (r[0] >> 3 & 3); /* 1, 2, 4, 8 */
		uint32_t off = ((uint32_t)(r[0] >> 5) << 9 | (uint32_t)r[1] << 1) & 0xfff;

		switch (r[0] & 7) {
		case 0: /* VBE index or data write, 8 or 16 bits */
			pio_access(c, (uint16_t)(0x1ce + r[1] % 3), r[0] & 8 ? 1 : 2, 1, val);
			break;
		case 1:
			pio_access(c, (uint16_t)(0x1ce + r[1] % 3), r[0] & 8 ? 1 : 2, 0, 0);
			break;
		case 2: /* BAR2 write, as the core delivers: 1-4 bytes, aligned */
		case 3:
			sz = sz > 4 ? 4 : sz;
			off &= ~(sz - 1);
			if ((r[0] & 7) == 2)
				bar2.ops->write(c, bar2.opaque, off, sz, (uint64_t)val * 0x10001u);
			else
				(void)bar2.ops->read(c, bar2.opaque, off, sz);
			break;
		case 4: { /* the guest writes the framebuffer */
			uint64_t p = (r[1] | (uint64_t)r[2] << 8) % pages;

			vram[p * 4096 + r[3] * 16] = r[3];
			dirty_log[p / 64] |= 1ull << (p % 64);
			break;
		}
		case 5:
			now += (uint64_t)r[1] * 10000000ull;
			run_defers(c);
			dcbs->refresh(c, dopaque);
			break;
		case 6: /* legacy VGA ports directly (the DAC feeds the palette) */
			pio_access(c, (uint16_t)(0x3c0 + r[1] % 0x20), 1, !(r[0] & 8), r[2]);
			break;
		case 7:
			save_restore(c, r);
			break;
		}
		invariant();
	}
	run_defers(c);
	dcbs->refresh(c, dopaque);
	invariant();
	if (getenv("FUZZ_VGA_TRACE")) /* to see what a seed reaches */
		fprintf(stderr, "enable %#x mode %ux%ux%u stride %u offset %llu surface %ux%u\n",
			v->r[DISPI_ENABLE], v->mode.w, v->mode.h, v->mode.bpp, v->mode.stride,
			(unsigned long long)v->mode.offset, cur.width, cur.height);
	return 0;
}
