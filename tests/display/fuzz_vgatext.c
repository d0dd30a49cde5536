/*
 * libFuzzer over the legacy VGA half (plugins/display/vgatext.c): the input
 * is either a font file (first byte odd: the rest is written to a file the
 * `font` key names, then create parses it) or a sequence of 4-byte records
 * against one instance reset before each run: port writes and reads at
 * 0x3b0-0x3df, writes anywhere in the 128 KiB window, and refreshes at a
 * clock the input advances. The host table below stands in for the core
 * with what the SDK promises and checks what it is given: every surface
 * fits its limits, every damaged rectangle lies inside the surface.
 * ASan sees any access outside the pixel buffer, the window or the font.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hv/hv.h>

#include "../../plugins/display/vgatext.h"

#define WIN (128u << 10)

static uint8_t *window;
static const struct hv_region_ops *pio;
static void *pio_opaque;
static uint64_t now, dirty_bits;
static struct hv_surface cur;
static const char *font_path = "/usr/share/consolefonts/Lat15-VGA16.psf.gz";
static struct vgatext vt;
static struct hv_display *disp = (struct hv_display *)&cur;

static void f_log(struct hv_ctx *c, int l, const char *f, va_list ap) {}
static const char *f_cfg_str(struct hv_ctx *c, const char *k)
{
	return !strcmp(k, "font") ? font_path : NULL;
}
static int f_region_add(struct hv_ctx *c, int space, uint64_t base, uint64_t len,
			const struct hv_region_ops *ops, void *opaque, struct hv_region **out)
{
	if (space != HV_SPACE_PIO || base < 0x3b0 || base + len > 0x3e0)
		abort(); /* only the VGA's ports */
	pio = ops, pio_opaque = opaque;
	return 0;
}
static int f_window(struct hv_ctx *c, int mode, void **ram)
{
	if (ram)
		*ram = window;
	return 0;
}
static int f_dirty(struct hv_ctx *c, uint64_t *bm, size_t n)
{
	if (n < 8 || n % 8)
		abort();
	memset(bm, 0, n);
	bm[0] = dirty_bits;
	dirty_bits = 0;
	return 0;
}
static uint64_t f_now(struct hv_ctx *c) { return now; }
static int f_surface(struct hv_ctx *c, struct hv_display *d, const struct hv_surface *s)
{
	if (s->format != HV_PIXEL_XRGB8888 || !s->width || !s->height ||
	    s->width > HV_DISPLAY_MAX_WIDTH || s->height > HV_DISPLAY_MAX_HEIGHT ||
	    s->stride < s->width * 4 || !s->pixels)
		abort();
	cur = *s;
	/* the whole surface must be readable: ASan checks */
	volatile uint8_t x = ((uint8_t *)s->pixels)[(size_t)s->height * s->stride - 1];
	(void)x;
	return 0;
}
static void f_damage(struct hv_ctx *c, struct hv_display *d, uint32_t x, uint32_t y,
		     uint32_t w, uint32_t h)
{
	if (!w || !h || x + w > cur.width || y + h > cur.height)
		abort();
}
static int f_state(struct hv_state *st, void *buf, size_t len) { return -EINVAL; }

static const struct hv_host host = {
	.size = sizeof(struct hv_host), .abi_major = HV_ABI_MAJOR, .abi_minor = HV_ABI_MINOR,
	.log_write = f_log, .config_get_str = f_cfg_str, .region_add = f_region_add,
	.vga_window_set = f_window, .vga_dirty_get = f_dirty, .clock_now = f_now,
	.display_surface = f_surface, .display_damage = f_damage,
	.state_read = f_state,
};
static struct hv_ctx ctx = { .host = &host, .name = "vga" };

static void publish(void)
{
	struct hv_surface s;

	vgatext_surface(&vt, &s);
	f_surface(&ctx, disp, &s);
}

static void font_case(const uint8_t *data, size_t size)
{
	static struct vgatext t;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fuzz-vgatext-font.%d", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	font_path = path;
	if (!vgatext_create(&ctx, &t))
		vgatext_destroy(&ctx, &t);
	font_path = "/usr/share/consolefonts/Lat15-VGA16.psf.gz";
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!window) {
		window = calloc(1, WIN);
		if (vgatext_create(&ctx, &vt))
			abort();
	}
	if (size && data[0] & 1) {
		font_case(data + 1, size - 1);
		return 0;
	}
	vgatext_reset(&ctx, &vt);
	publish();
	for (size_t i = 1; i + 4 <= size; i += 4) {
		const uint8_t *r = data + i;
		uint32_t off = ((uint32_t)(r[0] >> 2 & 1) << 16 | r[1] << 8 | r[2]) % WIN;

		switch (r[0] & 3) {
		case 0: pio->write(&ctx, pio_opaque, r[1] % 0x30, r[0] & 4 ? 2 : 1,
				   r[2] | r[3] << 8); break;
		case 1: (void)pio->read(&ctx, pio_opaque, r[1] % 0x30, r[0] & 4 ? 2 : 1); break;
		case 2: window[off] = r[3]; dirty_bits |= 1ull << (off >> 12); break;
		case 3:
			now += (uint64_t)r[3] * 50000000ull;
			vgatext_refresh(&ctx, &vt, disp, r[1] & 1);
			break;
		}
	}
	vgatext_refresh(&ctx, &vt, disp, 0);
	now += 300000000ull;
	vgatext_refresh(&ctx, &vt, disp, 1);
	return 0;
}
