/*
 * The legacy VGA half of the display device (vgatext.h): the registers at
 * 0x3b4-0x3df and text mode rendered from the 0xb8000 window.
 *
 * The window is plain device memory (HV_VGA_RAM): text mode's odd/even
 * addressing leaves character and attribute bytes interleaved in CPU
 * order, which is exactly what a plain RAM window shows. Planar graphics
 * modes are not emulated; guest writes to plane 2 (font loading) are not
 * either: the font comes from a PSF file at create.
 */
#include "vgatext.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define TEXT_MAX_COLS 132
#define TEXT_MAX_ROWS 60
#define PIX_MAX_W (TEXT_MAX_COLS * 9)
#define PIX_MAX_H 1200
#define BLINK_NS 266666667ull /* cursor phase: 16 frames at 60 Hz */
#define WIN_PAGES 32

#define DEFAULT_FONT "/usr/share/consolefonts/Lat15-VGA16.psf.gz"

/* Code page 437 as VGA text mode shows it: the graphic forms of 0x01-0x1f
 * and 0x7f; 0x00 is blank. */
static const uint16_t cp437[256] = {
	0x0000, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,
	0x25d8, 0x25cb, 0x25d9, 0x2642, 0x2640, 0x266a, 0x266b, 0x263c,
	0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7, 0x25ac, 0x21a8,
	0x2191, 0x2193, 0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc,
	/* 0x20-0x7e: ASCII, filled in by cp437_code() */
	[0x7f] = 0x2302,
	0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7,
	0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5,
	0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
	0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192,
	0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba,
	0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
	0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510,
	0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
	0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567,
	0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
	0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
	0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4,
	0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229,
	0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248,
	0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static uint32_t cp437_code(unsigned c)
{
	return c >= 0x20 && c < 0x7f ? c : cp437[c];
}

/* ---- the font: a PSF file's glyphs placed at their CP437 codes ---- */

struct psf {
	const uint8_t *buf;
	size_t len;
	uint32_t nglyphs, height, bytes; /* glyph size in bytes */
	const uint8_t *glyphs, *table, *end;
	int v2;
	uint16_t map[256]; /* glyph + 1 for each CP437 code; 0: none */
};

#define PSF1_MAGIC 0x0436
#define PSF2_MAGIC 0x864ab572u

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The glyph table's header: the glyphs are 8 dots wide (VGA's 9th column
 * is made by the attribute controller, not the font). */
static const char *psf_header(struct psf *f)
{
	const uint8_t *b = f->buf;
	uint32_t off, width = 8;
	int table;

	if (f->len >= 4 && (b[0] | b[1] << 8) == PSF1_MAGIC) {
		f->nglyphs = b[2] & 1 ? 512 : 256;
		f->height = f->bytes = b[3];
		off = 4;
		table = b[2] & 2;
	} else if (f->len >= 32 && le32(b) == PSF2_MAGIC) {
		f->v2 = 1;
		off = le32(b + 8);
		f->nglyphs = le32(b + 16);
		f->bytes = le32(b + 20);
		f->height = le32(b + 24);
		width = le32(b + 28);
		if (off < 32 || off > f->len || f->nglyphs > 65536 ||
		    f->bytes != f->height)
			return "corrupt PSF2 header";
		table = le32(b + 12) & 1;
	} else {
		return "not a PSF font";
	}
	if (width > 8)
		return "glyphs wider than 8 dots";
	if (f->height == 0 || f->height > 32)
		return "glyph height not 1-32";
	if ((uint64_t)off + (uint64_t)f->nglyphs * f->bytes > f->len)
		return "truncated glyph data";
	f->glyphs = b + off;
	f->end = b + f->len;
	f->table = table ? f->glyphs + (size_t)f->nglyphs * f->bytes : NULL;
	return NULL;
}

static void psf_map(struct psf *f, uint32_t glyph, uint32_t u)
{
	for (unsigned c = 0; c < 256; c++)
		if (!f->map[c] && cp437_code(c) == u && (c || !u))
			f->map[c] = (uint16_t)(glyph + 1);
}

/* One UTF-8 sequence at *p (PSF2 tables), or -1. */
static int32_t utf8_next(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p;
	int n = *s < 0x80 ? 0 : *s >= 0xf0 ? 3 : *s >= 0xe0 ? 2 : *s >= 0xc0 ? 1 : -1;
	int32_t u = n ? *s & (0x3f >> n) : *s;

	if (n < 0 || end - s <= n)
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		u = u << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return u;
}

/* The unicode table: for each glyph the code points it draws, then
 * sequences (ignored: a VGA cell shows one glyph), then a terminator. */
static const char *psf_table(struct psf *f)
{
	const uint8_t *p = f->table;

	for (uint32_t g = 0; g < f->nglyphs; g++) {
		int seq = 0;

		for (;;) {
			int32_t u;

			if (f->v2 ? p >= f->end : f->end - p < 2)
				return "truncated unicode table";
			if (f->v2 && (*p == 0xff || *p == 0xfe)) {
				seq |= *p == 0xfe;
				if (*p++ == 0xff)
					break;
				continue;
			}
			if (!f->v2) {
				u = p[0] | p[1] << 8;
				p += 2;
				if (u == 0xffff)
					break;
				seq |= u == 0xfffe;
			} else if ((u = utf8_next(&p, f->end)) < 0) {
				return "bad UTF-8 in unicode table";
			}
			if (!seq && u != 0xfffe)
				psf_map(f, g, (uint32_t)u);
		}
	}
	return NULL;
}

/* A box for code points the font lacks, so that they show. */
static void glyph_box(uint8_t *dst, uint32_t height)
{
	for (uint32_t y = 1; y + 1 < height; y++)
		dst[y] = y == 1 || y + 2 == height ? 0x7e : 0x42;
}

static const char *font_parse(struct psf *f, uint8_t *font)
{
	const char *why = psf_header(f);

	if (!why && f->table)
		why = psf_table(f);
	if (why)
		return why;
	memset(font, 0, VGATEXT_FONT_BYTES);
	for (unsigned c = 0; c < 256; c++) {
		uint32_t g = f->map[c] ? f->map[c] - 1u : f->table ? UINT32_MAX : c;

		if (c == 0 && f->table)
			continue; /* blank */
		if (g < f->nglyphs)
			memcpy(font + c * 32, f->glyphs + (size_t)g * f->bytes, f->height);
		else
			glyph_box(font + c * 32, f->height);
	}
	return NULL;
}

#define FONT_FILE_MAX (1u << 20)

/* gzopen reads plain files too, so an uncompressed .psf works as well. */
static int font_load(struct hv_ctx *ctx, struct vgatext *t, const char *path)
{
	struct psf f = { 0 };
	uint8_t *buf = malloc(FONT_FILE_MAX);
	gzFile gz = buf ? gzopen(path, "rb") : NULL;
	const char *why = NULL;
	int n = -1;

	if (gz) {
		n = gzread(gz, buf, FONT_FILE_MAX);
		if (n == FONT_FILE_MAX)
			why = "larger than 1 MiB";
		gzclose(gz);
	}
	if (n < 0 && !why)
		why = buf ? "cannot read it (missing, or corrupt gzip)" : "out of memory";
	if (!why) {
		f.buf = buf;
		f.len = (size_t)n;
		why = font_parse(&f, t->font);
	}
	free(buf);
	if (why) {
		hv_error(ctx, "font = %s: %s", path, why);
		return -EINVAL;
	}
	return 0;
}

struct geom {
	uint32_t cols, rows, cw, ch; /* cells, dots per cell */
	uint32_t xs, ys;             /* pixel doubling: 40 columns, double scan */
	uint32_t base, start, pitch; /* window offset, start cell, cells per row */
};

static void geom_get(const struct vgatext *t, struct geom *g);
static void geom_size(const struct geom *g, uint32_t *w, uint32_t *h);

/* ---- registers ---- */

/* Mode 3 as a BIOS leaves it (the standard VGA register tables). */
static const uint8_t seq_mode3[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t gc_mode3[9] = { 0x00, 0x00, 0x00, 0x00, 0x00,
				     0x10, 0x0e, 0x00, 0xff };
static const uint8_t crtc_mode3[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0e,
	0x0f, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96,
	0xb9, 0xa3, 0xff,
};
static const uint8_t attr_mode3[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

/* The EGA palette the 64 DAC entries a BIOS loads for mode 3 hold:
 * entry i is rgbRGB with the low bits worth 2/3 and the high 1/3. */
static void dac_reset(struct vgatext *t)
{
	memset(t->dac, 0, sizeof(t->dac));
	for (unsigned i = 0; i < 64; i++) {
		t->dac[i][0] = (uint8_t)((i >> 2 & 1) * 0x2a + (i >> 5 & 1) * 0x15);
		t->dac[i][1] = (uint8_t)((i >> 1 & 1) * 0x2a + (i >> 4 & 1) * 0x15);
		t->dac[i][2] = (uint8_t)((i & 1) * 0x2a + (i >> 3 & 1) * 0x15);
	}
}

void vgatext_reset(struct hv_ctx *ctx, struct vgatext *t)
{
	struct geom g;

	t->misc = 0x67;
	t->seq_idx = t->gc_idx = t->crtc_idx = 0;
	t->attr_idx = 0x20; /* palette address source set: display on */
	t->attr_flip = 0;
	memset(t->seq, 0, sizeof(t->seq));
	memset(t->gc, 0, sizeof(t->gc));
	memset(t->crtc, 0, sizeof(t->crtc));
	memset(t->attr, 0, sizeof(t->attr));
	memcpy(t->seq, seq_mode3, sizeof(seq_mode3));
	memcpy(t->gc, gc_mode3, sizeof(gc_mode3));
	memcpy(t->crtc, crtc_mode3, sizeof(crtc_mode3));
	memcpy(t->attr, attr_mode3, sizeof(attr_mode3));
	dac_reset(t);
	t->dac_state = 0;
	t->dac_widx = t->dac_ridx = t->dac_sub = 0;
	t->pel_mask = 0xff;
	t->st1 = 0;
	if (t->vram)
		memset(t->vram, 0, 0x20000);
	t->shadow_valid = 0;
	t->cursor_drawn = 0;
	t->republish = 1;
	geom_get(t, &g);
	geom_size(&g, &t->pix_w, &t->pix_h);
}

/* The CRTC answers at 0x3d4/5 in colour mode (misc bit 0) and at
 * 0x3b4/5 in mono mode; the other pair, like input status 1, is dead. */
static int crtc_port(const struct vgatext *t, uint16_t port)
{
	uint16_t base = t->misc & 1 ? 0x3d0 : 0x3b0;

	return (port & 0xfff0) == base ? port & 0xf : -1;
}

static uint8_t status1(struct vgatext *t)
{
	/* Alternate display enable (bit 0) and vertical retrace (bit 3) on
	 * every read so that wait-for-retrace loops in both directions end. */
	t->st1 ^= 0x09;
	t->attr_flip = 0;
	return t->st1;
}

static uint8_t attr_read(const struct vgatext *t)
{
	return t->attr[t->attr_idx & 0x1f];
}

static uint8_t dac_read(struct vgatext *t)
{
	uint8_t v = t->dac[t->dac_ridx][t->dac_sub];

	if (++t->dac_sub == 3) {
		t->dac_sub = 0;
		t->dac_ridx++;
	}
	return v;
}

uint64_t vgatext_port_read(struct hv_ctx *ctx, struct vgatext *t,
			   uint16_t port)
{
	int c = crtc_port(t, port);

	if (c == 4)
		return t->crtc_idx;
	if (c == 5)
		return t->crtc[t->crtc_idx & 0x1f];
	if (c == 0xa)
		return status1(t);
	switch (port) {
	case 0x3c0: return t->attr_idx;
	case 0x3c1: return attr_read(t);
	case 0x3c2: return 0x10; /* switch sense: a colour monitor */
	case 0x3c4: return t->seq_idx;
	case 0x3c5: return t->seq[t->seq_idx & 7];
	case 0x3c6: return t->pel_mask;
	case 0x3c7: return t->dac_state;
	case 0x3c8: return t->dac_widx;
	case 0x3c9: return dac_read(t);
	case 0x3ca: return 0; /* feature control */
	case 0x3cc: return t->misc;
	case 0x3ce: return t->gc_idx;
	case 0x3cf: return t->gc[t->gc_idx & 0xf];
	}
	return 0xff;
}

static void attr_write(struct vgatext *t, uint8_t val)
{
	if (!t->attr_flip) {
		if ((t->attr_idx ^ val) & 0x20)
			t->shadow_valid = 0; /* display on or off */
		t->attr_idx = val & 0x3f;
	} else if ((t->attr_idx & 0x1f) < 0x15) {
		t->attr[t->attr_idx & 0x1f] = val;
		t->shadow_valid = 0;
	}
	t->attr_flip ^= 1;
}

static void dac_write(struct vgatext *t, uint8_t val)
{
	t->dac[t->dac_widx][t->dac_sub] = val & 0x3f;
	if (++t->dac_sub == 3) {
		t->dac_sub = 0;
		t->dac_widx++;
	}
	t->shadow_valid = 0;
}

static void crtc_write(struct vgatext *t, uint8_t val)
{
	unsigned i = t->crtc_idx & 0x1f;

	/* CR11 bit 7 protects the horizontal and vertical timing registers
	 * 0-7, except CR07's line compare bit 4. */
	if (t->crtc[0x11] & 0x80 && i <= 7) {
		if (i != 7)
			return;
		val = (uint8_t)((t->crtc[7] & ~0x10) | (val & 0x10));
	}
	t->crtc[i] = val;
	/* the cursor registers only move or reshape the cursor cell */
	if (i < 0x0a || i > 0x0f || i == 0x0c || i == 0x0d)
		t->shadow_valid = 0;
}

void vgatext_port_write(struct hv_ctx *ctx, struct vgatext *t, uint16_t port,
			uint8_t val)
{
	int c = crtc_port(t, port);

	if (c == 4) {
		t->crtc_idx = val & 0x3f;
		return;
	}
	if (c == 5) {
		crtc_write(t, val);
		return;
	}
	if (c == 0xa) /* feature control */
		return;
	switch (port) {
	case 0x3c0: attr_write(t, val); break;
	case 0x3c2: t->misc = val; t->shadow_valid = 0; break;
	case 0x3c4: t->seq_idx = val & 7; break;
	case 0x3c5:
		t->seq[t->seq_idx & 7] = val;
		t->shadow_valid = 0;
		break;
	case 0x3c6: t->pel_mask = val; t->shadow_valid = 0; break;
	case 0x3c7:
		t->dac_ridx = val;
		t->dac_sub = 0;
		t->dac_state = 0x03; /* the DAC is in read mode */
		break;
	case 0x3c8:
		t->dac_widx = val;
		t->dac_sub = 0;
		t->dac_state = 0x00;
		break;
	case 0x3c9: dac_write(t, val); break;
	case 0x3ce: t->gc_idx = val & 0xf; break;
	case 0x3cf:
		t->gc[t->gc_idx & 0xf] = val;
		t->shadow_valid = 0;
		break;
	}
}

/* ---- text mode geometry and rendering ---- */

static void geom_get(const struct vgatext *t, struct geom *g)
{
	static const uint32_t bases[4] = { 0, 0, 0x10000, 0x18000 };
	uint32_t vde = t->crtc[0x12] | (t->crtc[7] & 2) << 7 | (t->crtc[7] & 0x40) << 3;

	g->cw = t->seq[1] & 1 ? 8 : 9;
	g->xs = t->seq[1] & 8 ? 2 : 1;
	g->ch = (t->crtc[9] & 0x1f) + 1u;
	g->ys = t->crtc[9] & 0x80 ? 2 : 1;
	g->cols = t->crtc[1] + 1u;
	g->rows = (vde + 1) / (g->ch * g->ys);
	if (g->cols > TEXT_MAX_COLS)
		g->cols = TEXT_MAX_COLS;
	if (g->cols * g->cw * g->xs > PIX_MAX_W)
		g->cols = PIX_MAX_W / (g->cw * g->xs);
	if (g->rows > TEXT_MAX_ROWS)
		g->rows = TEXT_MAX_ROWS;
	if (g->rows * g->ch * g->ys > PIX_MAX_H)
		g->rows = PIX_MAX_H / (g->ch * g->ys);
	if (!g->rows)
		g->rows = 1;
	g->base = bases[t->gc[6] >> 2 & 3];
	g->start = (uint32_t)t->crtc[0x0c] << 8 | t->crtc[0x0d];
	g->pitch = t->crtc[0x13] * 2u;
}

static uint32_t dac_rgb(const struct vgatext *t, uint8_t idx)
{
	const uint8_t *e = t->dac[idx & t->pel_mask];

	return (uint32_t)(e[0] << 2 | e[0] >> 4) << 16 |
	       (uint32_t)(e[1] << 2 | e[1] >> 4) << 8 | (e[2] << 2 | e[2] >> 4);
}

/* An attribute colour (0-15) through the palette registers, colour
 * select and the DAC. */
static uint32_t colour(const struct vgatext *t, unsigned c)
{
	uint8_t p = t->attr[c & 0xf], sel = t->attr[0x14];

	if (t->attr[0x10] & 0x80)
		p = (uint8_t)((p & 0x0f) | (sel & 3) << 4);
	return dac_rgb(t, (uint8_t)((p & 0x3f) | (sel & 0x0c) << 4));
}

struct cell {
	uint8_t ch, at;
	int cursor;
};

static void cell_draw(struct vgatext *t, const struct geom *g, uint32_t col,
		      uint32_t row, const struct cell *c)
{
	const uint8_t *glyph = t->font + c->ch * 32;
	unsigned fgi = c->at & 0xf, bgi = c->at >> 4;
	int blink_on = !(t->blink_tick & 2); /* half the cursor's rate */
	uint32_t fg, bg, cs = t->crtc[0x0a] & 0x1f, ce = t->crtc[0x0b] & 0x1f;
	int dot9 = g->cw == 9 && (t->attr[0x10] & 4) && c->ch >= 0xc0 && c->ch <= 0xdf;

	if (t->attr[0x10] & 8) { /* blink instead of bright background */
		bgi &= 7;
		if (c->at & 0x80 && !blink_on)
			fgi = bgi;
	}
	fg = colour(t, fgi);
	bg = colour(t, bgi);
	for (uint32_t y = 0; y < g->ch; y++) {
		uint32_t bits = glyph[y] << 1 | (dot9 ? glyph[y] & 1 : 0);

		if (y == (t->crtc[0x14] & 0x1fu) && (c->at & 0x77) == 0x01)
			bits = 0x1ff; /* underline */
		if (c->cursor && y >= cs && y <= ce)
			bits = 0x1ff;
		for (uint32_t ys = 0; ys < g->ys; ys++) {
			uint32_t *p = t->pix + ((row * g->ch + y) * g->ys + ys) * t->pix_w +
				      col * g->cw * g->xs;

			for (uint32_t x = 0; x < g->cw; x++) {
				uint32_t v = bits >> (8 - x) & 1 ? fg : bg;

				for (uint32_t xs = 0; xs < g->xs; xs++)
					*p++ = v;
			}
		}
	}
}

static void geom_size(const struct geom *g, uint32_t *w, uint32_t *h)
{
	*w = g->cols * g->cw * g->xs;
	*h = g->rows * g->ch * g->ys;
}

/* Publish the surface when the pixel geometry changed (or reset asked). */
static int geom_apply(struct hv_ctx *ctx, struct vgatext *t,
		      struct hv_display *d, const struct geom *g)
{
	struct hv_surface s;
	uint32_t w, h;

	geom_size(g, &w, &h);
	if (w == t->pix_w && h == t->pix_h && !t->republish)
		return 0;
	t->pix_w = w;
	t->pix_h = h;
	t->republish = 0;
	vgatext_surface(t, &s);
	if (d)
		hv_display_surface(ctx, d, &s);
	return 1;
}

/* The cell the cursor is drawn in, +1; 0 when none shows now. */
static uint32_t cursor_cell(const struct vgatext *t, const struct geom *g)
{
	uint32_t pos = (uint32_t)t->crtc[0x0e] << 8 | t->crtc[0x0f], rel;

	if (t->crtc[0x0a] & 0x20 || (t->blink_tick & 1))
		return 0;
	rel = (pos - g->start) & 0xffff;
	if (!g->pitch || rel / g->pitch >= g->rows || rel % g->pitch >= g->cols)
		return 0;
	return (rel / g->pitch) * TEXT_MAX_COLS + rel % g->pitch + 1;
}

static int display_off(const struct vgatext *t)
{
	return !(t->attr_idx & 0x20) || (t->seq[1] & 0x20);
}

/* Screen off (attribute palette address source clear, or SR01's screen
 * off bit): black, once. */
static void blank(struct hv_ctx *ctx, struct vgatext *t, struct hv_display *d,
		  int full)
{
	if (!full && t->shadow_valid == 2)
		return;
	memset(t->pix, 0, (size_t)t->pix_w * t->pix_h * 4);
	if (d)
		hv_display_damage(ctx, d, 0, 0, t->pix_w, t->pix_h);
	t->shadow_valid = 2;
}

/* Render every cell that differs from the shadow, is the cursor's (old
 * or new), or blinks and changed phase; damage the rows' spans. */
static void cells_render(struct hv_ctx *ctx, struct vgatext *t,
			 struct hv_display *d, const struct geom *g,
			 int full, int blink_changed, uint32_t cur)
{
	int blinks = (t->attr[0x10] & 8) && blink_changed;

	for (uint32_t r = 0; r < g->rows; r++) {
		uint32_t lo = UINT32_MAX, hi = 0;

		for (uint32_t c = 0; c < g->cols; c++) {
			uint32_t addr = g->base + (((g->start + r * g->pitch + c) * 2) & 0x7fff);
			uint32_t si = r * TEXT_MAX_COLS + c;
			struct cell cl = { t->vram[addr], t->vram[addr + 1], cur == si + 1 };
			uint16_t v = (uint16_t)(cl.ch | cl.at << 8);

			if (!full && v == t->shadow[si] && !(blinks && cl.at & 0x80) &&
			    cur != si + 1 && t->cursor_drawn != si + 1)
				continue;
			t->shadow[si] = v;
			cell_draw(t, g, c, r, &cl);
			lo = c < lo ? c : lo;
			hi = c;
		}
		if (lo <= hi && d)
			hv_display_damage(ctx, d, lo * g->cw * g->xs, r * g->ch * g->ys,
					  (hi - lo + 1) * g->cw * g->xs, g->ch * g->ys);
	}
}

void vgatext_refresh(struct hv_ctx *ctx, struct vgatext *t,
		     struct hv_display *d, int full)
{
	uint64_t dirty = 0;
	uint32_t tick = (uint32_t)(hv_clock_now(ctx) / BLINK_NS), cur;
	int blink_changed = tick != t->blink_tick;
	struct geom g;

	if (!t->pix || !t->vram)
		return;
	if (hv_vga_dirty_get(ctx, &dirty, sizeof(dirty)) < 0)
		dirty = ~0ull; /* no log: look at everything */
	geom_get(t, &g);
	dirty &= 0xffull << (g.base >> 12); /* the 32 KiB text mode reads */
	if (geom_apply(ctx, t, d, &g))
		full = 1;
	if (display_off(t)) {
		blank(ctx, t, d, full);
		return;
	}
	if (t->shadow_valid != 1)
		full = 1;
	t->blink_tick = tick;
	cur = cursor_cell(t, &g);
	if (!full && !dirty && !blink_changed && cur == t->cursor_drawn)
		return;
	cells_render(ctx, t, d, &g, full, blink_changed, cur);
	t->cursor_drawn = cur;
	t->shadow_valid = 1;
}

void vgatext_surface(const struct vgatext *t, struct hv_surface *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->format = HV_PIXEL_XRGB8888;
	s->width = t->pix_w;
	s->height = t->pix_h;
	s->stride = t->pix_w * 4;
	s->pixels = t->pix;
}

/* ---- life cycle ---- */

static uint64_t pio_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct vgatext *t = opaque;
	uint16_t port = (uint16_t)(0x3b0 + off);
	uint64_t v = vgatext_port_read(ctx, t, port);

	if (size == 2)
		v |= vgatext_port_read(ctx, t, (uint16_t)(port + 1)) << 8;
	return v;
}

/* A 16-bit out to an index port writes index and data at once. */
static void pio_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct vgatext *t = opaque;
	uint16_t port = (uint16_t)(0x3b0 + off);

	vgatext_port_write(ctx, t, port, (uint8_t)val);
	if (size == 2)
		vgatext_port_write(ctx, t, (uint16_t)(port + 1), (uint8_t)(val >> 8));
}

static const struct hv_region_ops pio_ops = {
	.min_access = 1, .max_access = 2, .read = pio_read, .write = pio_write,
};

int vgatext_create(struct hv_ctx *ctx, struct vgatext *t)
{
	const char *font = hv_config_get_str(ctx, "font");
	void *ram = NULL;
	int rc;

	if ((rc = font_load(ctx, t, font ? font : DEFAULT_FONT)))
		return rc;
	t->pix = calloc((size_t)PIX_MAX_W * PIX_MAX_H, 4);
	if (!t->pix) {
		hv_error(ctx, "vga: out of memory for the text screen");
		return -ENOMEM;
	}
	rc = hv_region_add(ctx, HV_SPACE_PIO, 0x3b0, 0x30, &pio_ops, t, NULL);
	if (rc) {
		hv_error(ctx, "vga: ports 0x3b0-0x3df are taken (%d)", rc);
		goto out_free;
	}
	if ((rc = hv_vga_window_set(ctx, HV_VGA_RAM, &ram))) {
		hv_error(ctx, "vga: cannot claim the VGA window 0xa0000 (%d)", rc);
		goto out_free;
	}
	t->vram = ram;
	vgatext_reset(ctx, t);
	return 0;
out_free:
	free(t->pix);
	t->pix = NULL;
	return rc;
}

void vgatext_destroy(struct hv_ctx *ctx, struct vgatext *t)
{
	free(t->pix);
	t->pix = NULL;
}

/* ---- snapshots: the registers (the window is device memory the core
 * saves with the VM's memory) ---- */

#define VGATEXT_STATE_VERSION 1u

struct vgatext_regs {
	uint32_t version;
	uint8_t misc, seq_idx, gc_idx, crtc_idx, attr_idx, attr_flip;
	uint8_t dac_state, dac_widx, dac_ridx, dac_sub, pel_mask, st1;
	uint8_t seq[8], gc[16], crtc[32], attr[32];
	uint8_t dac[256][3];
};

int vgatext_save(struct hv_ctx *ctx, struct vgatext *t, struct hv_state *st)
{
	struct vgatext_regs r = {
		.version = VGATEXT_STATE_VERSION, .misc = t->misc,
		.seq_idx = t->seq_idx, .gc_idx = t->gc_idx,
		.crtc_idx = t->crtc_idx, .attr_idx = t->attr_idx,
		.attr_flip = t->attr_flip, .dac_state = t->dac_state,
		.dac_widx = t->dac_widx, .dac_ridx = t->dac_ridx,
		.dac_sub = t->dac_sub, .pel_mask = t->pel_mask, .st1 = t->st1,
	};

	memcpy(r.seq, t->seq, sizeof(r.seq));
	memcpy(r.gc, t->gc, sizeof(r.gc));
	memcpy(r.crtc, t->crtc, sizeof(r.crtc));
	memcpy(r.attr, t->attr, sizeof(r.attr));
	memcpy(r.dac, t->dac, sizeof(r.dac));
	return hv_state_write(ctx, st, &r, sizeof(r));
}

int vgatext_restore(struct hv_ctx *ctx, struct vgatext *t, struct hv_state *st)
{
	struct vgatext_regs r;
	int rc = hv_state_read(ctx, st, &r, sizeof(r));

	if (rc)
		return rc;
	if (r.version != VGATEXT_STATE_VERSION || r.dac_sub > 2)
		return -EINVAL;
	t->misc = r.misc;
	t->seq_idx = r.seq_idx & 7;
	t->gc_idx = r.gc_idx & 0xf;
	t->crtc_idx = r.crtc_idx & 0x3f;
	t->attr_idx = r.attr_idx & 0x3f;
	t->attr_flip = r.attr_flip & 1;
	t->dac_state = r.dac_state;
	t->dac_widx = r.dac_widx;
	t->dac_ridx = r.dac_ridx;
	t->dac_sub = r.dac_sub;
	t->pel_mask = r.pel_mask;
	t->st1 = r.st1;
	memcpy(t->seq, r.seq, sizeof(r.seq));
	memcpy(t->gc, r.gc, sizeof(r.gc));
	memcpy(t->crtc, r.crtc, sizeof(r.crtc));
	memcpy(t->attr, r.attr, sizeof(r.attr));
	for (unsigned i = 0; i < 256; i++)
		for (unsigned j = 0; j < 3; j++)
			t->dac[i][j] = r.dac[i][j] & 0x3f;
	t->shadow_valid = 0;
	return 0;
}
