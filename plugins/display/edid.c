/*
 * EDID 1.4 for the VGA's virtual monitor (VESA E-EDID Release A rev. 2).
 * Timings are CVT reduced blanking (VESA CVT 1.1): constant horizontal
 * blanking, so a detailed timing for any size can be computed rather than
 * looked up.
 */
#include "edid.h"

#include <string.h>

/* CVT-RB constants: horizontal blanking, sync and front porch (pixels),
 * the minimum vertical blanking time (us), vertical front and least back
 * porch (lines) */
#define RB_HBLANK 160u
#define RB_HSYNC 32u
#define RB_HFRONT 48u
#define RB_VBLANK_US 460u
#define RB_VFRONT 3u
#define RB_VBACK_MIN 6u
#define DTD_MAX 4095u          /* 12-bit active fields */
#define DTD_CLOCK_MAX 65535u   /* 16-bit, in 10 kHz */
#define DTD_CLOCK_MIN 10000000u /* Hz */
#define DPI 96u                /* what the physical size is made from */

struct timing {
	uint32_t w, h, hblank, vblank, vsync, clock10k; /* clock in 10 kHz */
};

/* the vertical sync width CVT ties to the aspect ratio */
static uint32_t cvt_vsync(uint32_t w, uint32_t h)
{
	if (w * 3 == h * 4)
		return 4;
	if (w * 9 == h * 16)
		return 5;
	if (w * 10 == h * 16)
		return 6;
	if (w * 4 == h * 5 || w * 9 == h * 15)
		return 7;
	return 10;
}

/* CVT-RB at `hz`; the pixel clock rounded down to CVT's 0.25 MHz step */
static void cvt_rb(struct timing *t, uint32_t w, uint32_t h, uint32_t hz)
{
	uint64_t frame_us = 1000000u / hz, vbi, total_v, clock_hz;

	t->w = w, t->h = h;
	t->hblank = RB_HBLANK;
	t->vsync = cvt_vsync(w, h);
	/* lines in the blanking time: 460 us over the estimated line period */
	vbi = RB_VBLANK_US * (uint64_t)h / (frame_us - RB_VBLANK_US) + 1;
	if (vbi < RB_VFRONT + t->vsync + RB_VBACK_MIN)
		vbi = RB_VFRONT + t->vsync + RB_VBACK_MIN;
	t->vblank = (uint32_t)vbi;
	total_v = h + vbi;
	clock_hz = (uint64_t)hz * total_v * (w + RB_HBLANK);
	/* a detailed timing under 10 MHz reads as invalid data: small modes
	 * get a longer horizontal back porch instead */
	if (clock_hz < DTD_CLOCK_MIN) {
		uint64_t total_h = (DTD_CLOCK_MIN / (hz * total_v) + 8) & ~7ull;

		t->hblank = (uint32_t)(total_h - w);
		clock_hz = (uint64_t)hz * total_v * total_h;
	}
	clock_hz -= clock_hz % 250000;
	t->clock10k = (uint32_t)(clock_hz / 10000);
}

/* The largest mode a detailed timing can describe, at the highest
 * refresh from 60 Hz down that keeps its clock within 655.35 MHz. */
static void preferred(struct timing *t, uint32_t w, uint32_t h)
{
	uint32_t hz;

	w = w > DTD_MAX ? DTD_MAX & ~7u : w;
	h = h > DTD_MAX ? DTD_MAX : h;
	for (hz = 60; hz > 24; hz--) {
		cvt_rb(t, w, h, hz);
		if (t->clock10k <= DTD_CLOCK_MAX)
			return;
	}
	t->clock10k = DTD_CLOCK_MAX;
}

/* The image size in mm for a w x h panel: 96 dpi, scaled so that both
 * sides lie within 10 cm .. 255 cm (what the basic block's cm bytes hold
 * and what a parser believes of a monitor) */
static void image_mm(uint32_t w, uint32_t h, uint32_t *hmm, uint32_t *vmm)
{
	uint64_t x = w * 254u / (DPI * 10u), y = h * 254u / (DPI * 10u);
	uint64_t big = x > y ? x : y, small = x < y ? x : y;

	if (big > 2550)
		x = x * 2550 / big, y = y * 2550 / big;
	else if (small < 100 && small)
		x = x * 100 / small, y = y * 100 / small;
	*hmm = (uint32_t)(x > 2550 ? 2550 : x);
	*vmm = (uint32_t)(y > 2550 ? 2550 : y);
}

/* hmm x vmm: the monitor's image size, the same for every timing */
static void dtd(uint8_t *p, const struct timing *t, uint32_t hmm, uint32_t vmm)
{
	uint32_t vfront = RB_VFRONT;

	p[0] = t->clock10k & 0xff, p[1] = t->clock10k >> 8;
	p[2] = t->w & 0xff, p[3] = t->hblank & 0xff;
	p[4] = (uint8_t)((t->w >> 8) << 4 | t->hblank >> 8);
	p[5] = t->h & 0xff, p[6] = t->vblank & 0xff;
	p[7] = (uint8_t)((t->h >> 8) << 4 | t->vblank >> 8);
	p[8] = RB_HFRONT, p[9] = RB_HSYNC;
	p[10] = (uint8_t)(vfront << 4 | t->vsync);
	p[11] = 0; /* every porch and sync fits its low bits */
	p[12] = hmm & 0xff, p[13] = vmm & 0xff;
	p[14] = (uint8_t)((hmm >> 8) << 4 | vmm >> 8);
	p[15] = p[16] = 0;
	/* digital separate sync; CVT-RB: hsync positive, vsync negative */
	p[17] = 0x18 | 0x02;
}

/* display descriptor header: tag 0xfc name, 0xfd range limits */
static uint8_t *descriptor(uint8_t *p, uint8_t tag)
{
	memset(p, 0, 18);
	p[3] = tag;
	return p + 5;
}

static void name(uint8_t *p, const char *s)
{
	uint8_t *d = descriptor(p, 0xfc);
	size_t n = strlen(s);

	memset(d, ' ', 13);
	memcpy(d, s, n);
	d[n] = '\n';
}

static void range_limits(uint8_t *p, const struct timing *pref)
{
	uint8_t *d = descriptor(p, 0xfd);
	uint32_t total_h = pref->w + pref->hblank, total_v = pref->h + pref->vblank;
	uint32_t hz = pref->clock10k * 10000u / (total_h * total_v);
	uint32_t khz = pref->clock10k * 10u / total_h;
	uint32_t clock = (pref->clock10k + 999) / 1000; /* 10 MHz units, up */

	/* standard timings read as DMT ones, which blank more than CVT-RB:
	 * DMT 1920x1200@60 needs 193.25 MHz */
	clock = clock < 25 ? 25 : clock;

	d[0] = (uint8_t)(hz < 50 ? hz : 50);  /* min vertical, Hz */
	d[1] = 75;                             /* max vertical */
	d[2] = (uint8_t)(khz < 30 ? khz : 30); /* min horizontal, kHz */
	d[3] = (uint8_t)(khz + 1 > 255 ? 255 : (khz + 1 < 80 ? 80 : khz + 1));
	d[4] = (uint8_t)(clock > 255 ? 255 : clock);
	d[5] = 0x01; /* range limits only: no GTF or CVT formula offered */
	d[6] = '\n';
	memset(d + 7, ' ', 6);
}

/* Standard timings: common modes, largest first, that fit max_w x max_h;
 * aspect code 0 16:10, 1 4:3, 2 5:4, 3 16:9. 640x480, 800x600 and
 * 1024x768 go in the established timings instead. */
static const struct { uint16_t w, h; uint8_t aspect; } std_modes[] = {
	{ 1920, 1200, 0 }, { 1920, 1080, 3 }, { 1680, 1050, 0 },
	{ 1600, 1200, 1 }, { 1600, 900, 3 },  { 1440, 900, 0 },
	{ 1400, 1050, 1 }, { 1280, 1024, 2 }, { 1280, 960, 1 },
	{ 1280, 800, 0 },  { 1152, 864, 1 },  { 1280, 720, 3 },
};

static void standard_timings(uint8_t *p, uint32_t max_w, uint32_t max_h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 8; i++)
		p[2 * i] = p[2 * i + 1] = 0x01; /* unused */
	for (unsigned i = 0; i < sizeof(std_modes) / sizeof(std_modes[0]) && n < 8; i++) {
		if (std_modes[i].w > max_w || std_modes[i].h > max_h)
			continue;
		p[2 * n] = (uint8_t)(std_modes[i].w / 8 - 31);
		p[2 * n + 1] = (uint8_t)(std_modes[i].aspect << 6 | (60 - 60));
		n++;
	}
}

static void established(uint8_t *p, uint32_t max_w, uint32_t max_h)
{
	p[0] = p[1] = p[2] = 0;
	if (max_w >= 640 && max_h >= 480)
		p[0] |= 0x20; /* 640x480@60 */
	if (max_w >= 800 && max_h >= 600)
		p[0] |= 0x01; /* 800x600@60 */
	if (max_w >= 1024 && max_h >= 768)
		p[1] |= 0x08; /* 1024x768@60 */
}

/* sRGB primaries and D65 white, 10-bit binary fractions (x * 1024) */
static void chromaticity(uint8_t *p)
{
	static const uint16_t c[8] = { 655, 338, 307, 614, 154, 61, 320, 337 };

	p[0] = (uint8_t)((c[0] & 3) << 6 | (c[1] & 3) << 4 | (c[2] & 3) << 2 | (c[3] & 3));
	p[1] = (uint8_t)((c[4] & 3) << 6 | (c[5] & 3) << 4 | (c[6] & 3) << 2 | (c[7] & 3));
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(c[i] >> 2);
}

void edid_build(uint8_t e[EDID_BYTES], uint32_t max_w, uint32_t max_h)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	/* "HVM": three 5-bit letters, 'A' = 1, big endian */
	const uint16_t mfg = ('H' - 64) << 10 | ('V' - 64) << 5 | ('M' - 64);
	struct timing pref, xga;
	uint32_t hmm, vmm;
	uint8_t sum = 0;

	memset(e, 0, EDID_BYTES);
	memcpy(e, header, 8);
	e[8] = mfg >> 8, e[9] = mfg & 0xff;
	e[10] = 0x11, e[11] = 0x11; /* product code, after the PCI device id */
	e[16] = 0xff;               /* week 0xff: the year is a model year */
	e[17] = 2026 - 1990;
	e[18] = 1, e[19] = 4;       /* EDID 1.4 */
	e[20] = 0x80 | 0x20;        /* digital input, 8 bits per colour */
	preferred(&pref, max_w, max_h);
	image_mm(pref.w, pref.h, &hmm, &vmm);
	e[21] = (uint8_t)(hmm / 10), e[22] = (uint8_t)(vmm / 10); /* cm */
	e[23] = 120;                /* gamma 2.2: (2.2 - 1) * 100 */
	/* RGB 4:4:4, sRGB default colour space, the preferred timing is
	 * native; no DPMS (nothing to power down) */
	e[24] = 0x04 | 0x02;
	chromaticity(e + 25);
	established(e + 35, max_w, max_h);
	standard_timings(e + 38, max_w, max_h);
	dtd(e + 54, &pref, hmm, vmm);
	if (max_w > 1024 && max_h > 768) {
		cvt_rb(&xga, 1024, 768, 60);
		dtd(e + 72, &xga, hmm, vmm);
	} else {
		descriptor(e + 72, 0x10); /* dummy descriptor */
	}
	range_limits(e + 90, &pref);
	name(e + 108, "hv VGA");
	e[126] = 0; /* no extension blocks */
	for (int i = 0; i < EDID_BYTES - 1; i++)
		sum += e[i];
	e[127] = (uint8_t)-sum;
}
