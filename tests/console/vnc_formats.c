/*
 * The VNC frontend's conversion of the surface formats it does not show
 * in place (RGB565, XRGB1555, RGB888, C8) into its XRGB8888 shadow,
 * against values worked out by hand from the formats' definitions
 * (hv/display.h, DRM's fourcc layouts). Prints one line per case.
 */
#include "../../plugins/console/vnc.c"

static int fails;

static void expect(const char *name, uint32_t got, uint32_t want)
{
	printf("%s vnc-format-%s%s", got == want ? "ok" : "not ok", name,
	       got == want ? "\n" : "");
	if (got != want) {
		printf(" - got %06x, want %06x\n", got, want);
		fails++;
	}
}

int main(void)
{
	static const uint32_t pal[256] = {[7] = 0x123456, [255] = 0xff00ff01};
	struct hv_surface s = {.palette = pal};
	uint8_t b[3];

	s.format = HV_PIXEL_RGB565;
	expect("565-red", to_xrgb(&s, (uint8_t[]){0x00, 0xf8}), 0xff0000);
	expect("565-green", to_xrgb(&s, (uint8_t[]){0xe0, 0x07}), 0x00ff00);
	expect("565-blue", to_xrgb(&s, (uint8_t[]){0x1f, 0x00}), 0x0000ff);
	expect("565-white", to_xrgb(&s, (uint8_t[]){0xff, 0xff}), 0xffffff);
	s.format = HV_PIXEL_XRGB1555;
	expect("1555-red", to_xrgb(&s, (uint8_t[]){0x00, 0x7c}), 0xff0000);
	expect("1555-green", to_xrgb(&s, (uint8_t[]){0xe0, 0x03}), 0x00ff00);
	expect("1555-x-ignored", to_xrgb(&s, (uint8_t[]){0x1f, 0x80}),
	       0x0000ff);
	s.format = HV_PIXEL_RGB888;
	b[0] = 0x01, b[1] = 0x02, b[2] = 0x03; /* B, G, R in memory */
	expect("888-bytes", to_xrgb(&s, b), 0x030201);
	s.format = HV_PIXEL_C8;
	expect("c8-palette", to_xrgb(&s, (uint8_t[]){7}), 0x123456);
	expect("c8-x-ignored", to_xrgb(&s, (uint8_t[]){255}), 0x00ff01);
	s.palette = NULL;
	expect("c8-no-palette-black", to_xrgb(&s, (uint8_t[]){7}), 0);

	/* a rectangle of a 16-bit surface with padding in its stride */
	{
		uint16_t px[3][8] = {{0}};
		uint32_t shadow[3 * 5] = {0};
		struct vnc v = {.shadow = shadow, .fb_w = 5, .fb_h = 3};

		px[1][2] = 0xf800;
		px[2][4] = 0x001f;
		v.s = (struct hv_surface){.format = HV_PIXEL_RGB565,
					  .width = 5,
					  .height = 3,
					  .stride = 16,
					  .pixels = px};
		convert(&v, 2, 1, 3, 2);
		expect("rect-red", shadow[1 * 5 + 2], 0xff0000);
		expect("rect-blue", shadow[2 * 5 + 4], 0x0000ff);
		expect("rect-outside-untouched", shadow[0], 0);
	}
	return fails ? 1 : 0;
}
