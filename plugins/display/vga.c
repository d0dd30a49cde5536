/*
 * vga: the standard VGA of QEMU ("-vga std"), which Linux's bochs DRM
 * driver binds to: PCI 1234:1111, class 0x030000, subsystem 1af4:1100.
 *
 *   BAR0  the linear framebuffer: `vram` bytes of device memory
 *         (HV_PCI_BAR_RAM), written by the guest without exits
 *   BAR2  4 KiB of registers:
 *         0x000-0x3ff  EDID (edid.c), zeros past its 128 bytes
 *         0x400-0x41f  the VGA ports 0x3c0-0x3df (vgatext.c), byte-wise
 *         0x500-0x517  the Bochs DISPI registers, 16 bits each at index*2
 *         0x600-0x607  QEMU's extension: size (8), byte order (little
 *                      endian only: 0x1e1e1e1e)
 *   ports 0x1ce (DISPI index) and 0x1cf (data), 0x1d0 another data port
 *         as on QEMU for non-x86 firmware
 *
 * DISPI programming model (the Bochs VBE extension): while ENABLE has
 * ENABLED set the monitor shows XRES x YRES at BPP from the framebuffer,
 * lines VIRT_WIDTH pixels apart, starting at (X_OFFSET, Y_OFFSET); while
 * it is clear, what the legacy text half renders. A mode is checked when
 * it is enabled and on every change while it is (QEMU's vbe_fixup_regs
 * clamps the same things):
 *   - BPP other than 8, 15, 16, 24, 32 reads back 8;
 *   - XRES and VIRT_WIDTH are aligned down to 8 pixels, VIRT_WIDTH grown
 *     to XRES (back to XRES when its lines would not fit YRES in vram);
 *   - VIRT_HEIGHT reads back the lines vram holds at that line length;
 *   - X_OFFSET and Y_OFFSET are clamped so the visible rectangle lies in
 *     the virtual one, hence in vram;
 *   - XRES or YRES 0 (after alignment), above max_width/max_height, or a
 *     frame larger than vram is refused: ENABLED reads back clear and the
 *     text screen stays (or comes back).
 * So whatever the guest writes, the surface lies inside BAR0.
 *
 * Enabling without NOCLEARMEM clears the visible frame (as QEMU does, not
 * all of vram); 8BIT_DAC is kept but the DAC (vgatext.c) holds 6 bits a
 * component, which the 8 bpp palette scales to 8. BANK is stored (masked to vram) but the
 * banked window is not implemented: 0xa0000 stays the text half's.
 *
 * Device memory is not part of snapshots today (core/devmem.c saves no RAM
 * BAR): a restore keeps the registers and text state, and the framebuffer
 * holds whatever it held.
 */
#include <stdlib.h>
#include <string.h>

#include <hv/hv.h>

#include "edid.h"
#include "vgatext.h"

enum {
	DISPI_ID, DISPI_XRES, DISPI_YRES, DISPI_BPP, DISPI_ENABLE, DISPI_BANK,
	DISPI_VIRT_WIDTH, DISPI_VIRT_HEIGHT, DISPI_X_OFFSET, DISPI_Y_OFFSET,
	DISPI_VIDEO_MEMORY_64K, DISPI_NREGS
};

#define DISPI_ID0 0xb0c0u
#define DISPI_ID5 0xb0c5u
#define DISPI_ENABLED 0x01u
#define DISPI_GETCAPS 0x02u
#define DISPI_8BIT_DAC 0x20u
#define DISPI_LFB_ENABLED 0x40u
#define DISPI_NOCLEARMEM 0x80u
#define DISPI_ENABLE_BITS 0xe3u

#define BAR2_SIZE 4096u
#define MMIO_EDID 0x000u
#define MMIO_VGA 0x400u
#define MMIO_DISPI 0x500u
#define MMIO_QEXT 0x600u
#define QEXT_SIZE 8u
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu
#define VBE_PORT 0x1ce
#define PAGE 4096u
#define STATE_VERSION 1

/* What the monitor shows while DISPI is on: always inside vram. */
struct dispi_mode {
	uint32_t w, h, bpp, stride;
	uint64_t offset;
};

struct vga {
	struct vgatext text; /* the legacy half (vgatext.c) */
	struct hv_pci_dev *pci;
	struct hv_display *disp; /* NULL on a core without displays */
	uint8_t *vram;
	uint64_t vram_size;
	uint32_t max_w, max_h;
	uint16_t idx;
	uint16_t r[DISPI_NREGS];
	struct dispi_mode mode; /* valid while r[DISPI_ENABLE] has ENABLED */
	int republish;          /* publish before the next damage, all of it */
	int defer_pending;      /* a publish is queued on the main thread */
	uint64_t *dirty;        /* BAR0's dirty log, one bit a page */
	size_t dirty_bytes;
	uint32_t palette[256];
	uint8_t edid[EDID_BYTES];
};

static int dispi_on(const struct vga *v)
{
	return v->r[DISPI_ENABLE] & DISPI_ENABLED;
}

static uint32_t bytes_pp(uint32_t bpp)
{
	return (bpp + 7) / 8; /* 15 bpp takes 2 bytes */
}

/* Clamp the registers into a mode that fits (see the top of the file);
 * -EINVAL for one that is refused. Only while enabled, as QEMU. */
static int dispi_fixup(struct vga *v)
{
	uint16_t *r = v->r;
	uint32_t b, line;
	uint64_t maxy;

	switch (r[DISPI_BPP]) {
	case 8: case 15: case 16: case 24: case 32: break;
	default: r[DISPI_BPP] = 8;
	}
	b = bytes_pp(r[DISPI_BPP]);
	r[DISPI_XRES] &= ~7u;
	if (!r[DISPI_XRES] || !r[DISPI_YRES] || r[DISPI_XRES] > v->max_w ||
	    r[DISPI_YRES] > v->max_h ||
	    (uint64_t)r[DISPI_XRES] * b * r[DISPI_YRES] > v->vram_size)
		return -EINVAL;
	r[DISPI_VIRT_WIDTH] &= ~7u;
	if (r[DISPI_VIRT_WIDTH] < r[DISPI_XRES] ||
	    (uint64_t)r[DISPI_VIRT_WIDTH] * b * r[DISPI_YRES] > v->vram_size)
		r[DISPI_VIRT_WIDTH] = r[DISPI_XRES];
	line = r[DISPI_VIRT_WIDTH] * b;
	maxy = v->vram_size / line;
	r[DISPI_VIRT_HEIGHT] = (uint16_t)(maxy > 0xffff ? 0xffff : maxy);
	if (r[DISPI_X_OFFSET] > r[DISPI_VIRT_WIDTH] - r[DISPI_XRES])
		r[DISPI_X_OFFSET] = r[DISPI_VIRT_WIDTH] - r[DISPI_XRES];
	if (r[DISPI_Y_OFFSET] > r[DISPI_VIRT_HEIGHT] - r[DISPI_YRES])
		r[DISPI_Y_OFFSET] = r[DISPI_VIRT_HEIGHT] - r[DISPI_YRES];
	v->mode = (struct dispi_mode){
		.w = r[DISPI_XRES], .h = r[DISPI_YRES], .bpp = r[DISPI_BPP],
		.stride = line,
		.offset = (uint64_t)r[DISPI_Y_OFFSET] * line + (uint64_t)r[DISPI_X_OFFSET] * b,
	};
	return 0;
}

static void publish(struct hv_ctx *ctx, struct vga *v);

static void publish_deferred(struct hv_ctx *ctx, void *opaque)
{
	struct vga *v = opaque;

	v->defer_pending = 0;
	if (v->republish == 1)
		publish(ctx, v);
}

/* The registers changed the mode: check it now (so reads see the clamped
 * values) and have the main thread publish it. One deferral at a time, so
 * a guest flooding mode switches queues nothing more. */
static void mode_changed(struct hv_ctx *ctx, struct vga *v)
{
	if (dispi_on(v) && dispi_fixup(v))
		v->r[DISPI_ENABLE] &= ~DISPI_ENABLED;
	v->republish = 1;
	if (v->disp && !v->defer_pending && !hv_loop_defer(ctx, publish_deferred, v))
		v->defer_pending = 1;
}

static void dispi_enable(struct hv_ctx *ctx, struct vga *v, uint16_t val)
{
	uint16_t *r = v->r;

	val &= DISPI_ENABLE_BITS;
	if ((val & DISPI_ENABLED) && !dispi_on(v)) {
		/* a fresh mode starts unpanned, its lines XRES wide (QEMU) */
		r[DISPI_VIRT_WIDTH] = r[DISPI_XRES];
		r[DISPI_X_OFFSET] = r[DISPI_Y_OFFSET] = 0;
		r[DISPI_ENABLE] = val;
		if (dispi_fixup(v)) {
			r[DISPI_ENABLE] = val & ~DISPI_ENABLED;
		} else if (!(val & DISPI_NOCLEARMEM)) {
			memset(v->vram, 0, (size_t)v->mode.stride * v->mode.h);
		}
	} else {
		r[DISPI_ENABLE] = val;
	}
	mode_changed(ctx, v);
}

static void dispi_write(struct hv_ctx *ctx, struct vga *v, uint16_t idx,
			uint16_t val)
{
	switch (idx) {
	case DISPI_ID:
		if (val >= DISPI_ID0 && val <= DISPI_ID5)
			v->r[DISPI_ID] = val;
		break;
	case DISPI_ENABLE:
		dispi_enable(ctx, v, val);
		break;
	case DISPI_BANK:
		v->r[DISPI_BANK] = val & (uint16_t)(v->vram_size / 65536 - 1);
		break;
	case DISPI_XRES: case DISPI_YRES: case DISPI_BPP:
	case DISPI_VIRT_WIDTH: case DISPI_VIRT_HEIGHT:
	case DISPI_X_OFFSET: case DISPI_Y_OFFSET:
		v->r[idx] = val;
		if (dispi_on(v))
			mode_changed(ctx, v);
		break;
	default: /* VIDEO_MEMORY_64K and past the end: read-only */
		break;
	}
}

static uint16_t dispi_read(const struct vga *v, uint16_t idx)
{
	if (v->r[DISPI_ENABLE] & DISPI_GETCAPS) {
		switch (idx) {
		case DISPI_XRES: return (uint16_t)v->max_w;
		case DISPI_YRES: return (uint16_t)v->max_h;
		case DISPI_BPP: return 32;
		}
	}
	return idx < DISPI_NREGS ? v->r[idx] : 0;
}

/* ---- BAR2 ---- */

/* One byte of the read-only parts: EDID, DISPI, the extension. */
static uint8_t mmio_byte(const struct vga *v, uint32_t off)
{
	if (off < MMIO_VGA)
		return off < EDID_BYTES ? v->edid[off] : 0;
	if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * DISPI_NREGS)
		return (uint8_t)(dispi_read(v, (uint16_t)((off - MMIO_DISPI) / 2)) >>
				 (off & 1) * 8);
	if (off >= MMIO_QEXT && off < MMIO_QEXT + QEXT_SIZE) {
		uint32_t reg = off < MMIO_QEXT + 4 ? QEXT_SIZE : QEXT_LITTLE_ENDIAN;

		return (uint8_t)(reg >> (off & 3) * 8);
	}
	return 0;
}

static uint64_t mmio_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;

	for (unsigned i = 0; i < size; i++) {
		uint32_t o = (uint32_t)off + i;
		uint8_t b;

		if (o >= MMIO_VGA && o < MMIO_VGA + 0x20)
			b = (uint8_t)vgatext_port_read(ctx, &v->text,
						       (uint16_t)(0x3c0 + o - MMIO_VGA));
		else
			b = mmio_byte(v, o);
		val |= (uint64_t)b << 8 * i;
	}
	return val;
}

static void mmio_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	struct vga *v = opaque;

	if (off >= MMIO_VGA && off < MMIO_VGA + 0x20) {
		for (unsigned i = 0; i < size && off + i < MMIO_VGA + 0x20; i++)
			vgatext_port_write(ctx, &v->text,
					   (uint16_t)(0x3c0 + off + i - MMIO_VGA),
					   (uint8_t)(val >> 8 * i));
		return;
	}
	/* DISPI registers are written whole: 16-bit, or two at once */
	if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * DISPI_NREGS &&
	    !(off & 1) && size >= 2) {
		for (unsigned i = 0; i + 2 <= size; i += 2)
			dispi_write(ctx, v, (uint16_t)((off + i - MMIO_DISPI) / 2),
				    (uint16_t)(val >> 8 * i));
	}
	/* the byte-order register takes only little endian: nothing to do */
}

static const struct hv_region_ops mmio_ops = {
	.min_access = 1, .max_access = 4, .read = mmio_read, .write = mmio_write,
};

/* ---- ports 0x1ce (index), 0x1cf and 0x1d0 (data) ---- */

static uint64_t vbe_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			 unsigned size)
{
	struct vga *v = opaque;

	return off ? dispi_read(v, v->idx) : v->idx;
}

static void vbe_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		      unsigned size, uint64_t val)
{
	struct vga *v = opaque;

	if (!off)
		v->idx = (uint16_t)val;
	else
		dispi_write(ctx, v, v->idx, (uint16_t)val);
}

/* 0x1cf is 16-bit at an odd offset from 0x1ce: unaligned by design */
static const struct hv_region_ops vbe_ops = {
	.min_access = 1, .max_access = 2, .flags = HV_REGION_UNALIGNED,
	.read = vbe_read, .write = vbe_write,
};

/* ---- the display ---- */

static uint32_t dispi_format(uint32_t bpp)
{
	switch (bpp) {
	case 32: return HV_PIXEL_XRGB8888;
	case 24: return HV_PIXEL_RGB888;
	case 16: return HV_PIXEL_RGB565;
	case 15: return HV_PIXEL_XRGB1555;
	default: return HV_PIXEL_C8;
	}
}

static void publish(struct hv_ctx *ctx, struct vga *v)
{
	struct hv_surface s = { .size = sizeof(s) };

	v->republish = 0;
	if (!v->disp)
		return;
	if (dispi_on(v)) {
		s.format = dispi_format(v->mode.bpp);
		s.width = v->mode.w, s.height = v->mode.h;
		s.stride = v->mode.stride;
		s.pixels = v->vram + v->mode.offset;
		s.palette = v->palette;
	} else {
		vgatext_surface(&v->text, &s);
	}
	if (hv_display_surface(ctx, v->disp, &s))
		hv_warn(ctx, "display: surface %ux%u format %u refused",
			s.width, s.height, s.format);
	v->republish = 2; /* published: the next refresh damages it all */
}

/* The 8 bpp palette from the text half's DAC (6 bits a component: the
 * DAC keeps no more, so 8BIT_DAC changes nothing here); 1 when it
 * changed. */
static int palette_update(struct vga *v)
{
	int changed = 0;

	for (int i = 0; i < 256; i++) {
		const uint8_t *c = v->text.dac[i];
		uint32_t p = (uint32_t)(c[0] << 2 | c[0] >> 4) << 16 |
			     (uint32_t)(c[1] << 2 | c[1] >> 4) << 8 |
			     (uint32_t)(c[2] << 2 | c[2] >> 4);

		changed |= v->palette[i] != p;
		v->palette[i] = p;
	}
	return changed;
}

static int page_dirty(const struct vga *v, uint64_t page)
{
	return v->dirty[page / 64] >> (page % 64) & 1;
}

/* Damage the visible lines whose bytes lie on written pages, runs of
 * consecutive lines as one rectangle. */
static void damage_lines(struct hv_ctx *ctx, struct vga *v)
{
	const struct dispi_mode *m = &v->mode;
	uint64_t len = (uint64_t)m->w * bytes_pp(m->bpp);
	uint32_t run = 0;

	for (uint32_t y = 0; y < m->h; y++) {
		uint64_t start = m->offset + (uint64_t)y * m->stride;
		int d = 0;

		for (uint64_t p = start / PAGE; !d && p <= (start + len - 1) / PAGE; p++)
			d = page_dirty(v, p);
		if (d) {
			run++;
			continue;
		}
		if (run)
			hv_display_damage(ctx, v->disp, 0, y - run, m->w, run);
		run = 0;
	}
	if (run)
		hv_display_damage(ctx, v->disp, 0, m->h - run, m->w, run);
}

static void vga_refresh(struct hv_ctx *ctx, void *opaque)
{
	struct vga *v = opaque;
	int full, logged;

	if (v->republish == 1)
		publish(ctx, v);
	full = v->republish == 2;
	v->republish = 0;
	/* read (and so clear) the log in text mode too: stale pages would
	 * otherwise show up as damage after the next mode switch */
	logged = !hv_pci_bar_dirty_get(ctx, v->pci, 0, v->dirty, v->dirty_bytes);
	if (!dispi_on(v)) {
		vgatext_refresh(ctx, &v->text, v->disp, full);
		return;
	}
	if (palette_update(v) && v->mode.bpp == 8)
		full = 1;
	if (full || !logged)
		hv_display_damage(ctx, v->disp, 0, 0, v->mode.w, v->mode.h);
	else
		damage_lines(ctx, v);
}

static const struct hv_display_cbs display_cbs = {
	.refresh = vga_refresh,
};

/* ---- lifecycle ---- */

static int config_read(struct hv_ctx *ctx, struct vga *v)
{
	uint64_t need;

	v->vram_size = (uint64_t)hv_config_get_int(ctx, "vram");
	v->max_w = (uint32_t)hv_config_get_int(ctx, "max_width");
	v->max_h = (uint32_t)hv_config_get_int(ctx, "max_height");
	if (v->vram_size & (v->vram_size - 1)) {
		hv_error(ctx, "vram = %s: a power of two from 1M to 256M",
			 hv_config_get_str(ctx, "vram"));
		return -EINVAL;
	}
	need = (uint64_t)v->max_w * v->max_h * 4;
	if (need > v->vram_size) {
		hv_error(ctx, "max_width x max_height = %ux%u needs %llu bytes at 32 bpp: more than vram = %lluK",
			 v->max_w, v->max_h, (unsigned long long)need,
			 (unsigned long long)v->vram_size >> 10);
		return -EINVAL;
	}
	return 0;
}

static int display_setup(struct hv_ctx *ctx, struct vga *v)
{
	int rc = hv_display_register(ctx, &display_cbs, sizeof(display_cbs), v,
				     &v->disp);

	if (rc == -ENOSYS && !hv_config_get_str(ctx, "console")) {
		v->disp = NULL; /* a core without displays: the device still works */
		return 0;
	}
	if (rc) {
		hv_error(ctx, "cannot register the display: %s", strerror(-rc));
		return rc;
	}
	return hv_display_attach(ctx, v->disp, "console");
}

static int vga_create(struct hv_ctx *ctx)
{
	struct vga *v = HV_STATE(ctx, struct vga);
	struct hv_pci_bar bars[6] = { 0 };
	struct hv_pci_info info = {
		.vendor = 0x1234, .device = 0x1111,
		.subsystem_vendor = 0x1af4, .subsystem = 0x1100,
		.class_code = 0x030000, .revision = 2,
		.bar = bars,
	};
	int rc;

	if ((rc = config_read(ctx, v)))
		return rc;
	bars[0] = (struct hv_pci_bar){ .size = v->vram_size,
		.flags = HV_PCI_BAR_RAM | HV_PCI_BAR_MEM32 | HV_PCI_BAR_PREFETCH };
	bars[2] = (struct hv_pci_bar){ .size = BAR2_SIZE, .flags = HV_PCI_BAR_MEM32,
		.ops = &mmio_ops, .opaque = v };
	v->dirty_bytes = v->vram_size / PAGE / 8;
	if (!(v->dirty = calloc(1, v->dirty_bytes))) {
		hv_error(ctx, "out of memory");
		return -ENOMEM;
	}
	if ((rc = vgatext_create(ctx, &v->text)))
		goto out_free;
	if ((rc = hv_pci_register(ctx, &info, &v->pci)))
		goto out_text;
	if (!(v->vram = hv_pci_bar_ram_get(ctx, v->pci, 0))) {
		hv_error(ctx, "the core gave no memory for the framebuffer (BAR0)");
		rc = -ENOSYS;
		goto out_text;
	}
	rc = hv_region_add(ctx, HV_SPACE_PIO, VBE_PORT, 3, &vbe_ops, v, NULL);
	if (rc) {
		hv_error(ctx, "VBE ports 0x1ce-0x1d0: %s", strerror(-rc));
		goto out_text;
	}
	edid_build(v->edid, v->max_w, v->max_h);
	if ((rc = display_setup(ctx, v)))
		goto out_text;
	return 0;
out_text:
	vgatext_destroy(ctx, &v->text);
out_free:
	free(v->dirty);
	v->dirty = NULL;
	return rc;
}

static void vga_destroy(struct hv_ctx *ctx)
{
	struct vga *v = HV_STATE(ctx, struct vga);

	vgatext_destroy(ctx, &v->text);
	free(v->dirty);
}

static void vga_reset(struct hv_ctx *ctx)
{
	struct vga *v = HV_STATE(ctx, struct vga);

	memset(v->r, 0, sizeof(v->r));
	v->idx = 0;
	v->r[DISPI_ID] = DISPI_ID5;
	v->r[DISPI_BPP] = 8;
	v->r[DISPI_VIDEO_MEMORY_64K] = (uint16_t)(v->vram_size / 65536);
	vgatext_reset(ctx, &v->text);
	v->republish = 1;
	publish(ctx, v);
}

static int vga_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vga *v = HV_STATE(ctx, struct vga);
	uint16_t h[2 + DISPI_NREGS] = { STATE_VERSION, v->idx };
	int rc;

	memcpy(h + 2, v->r, sizeof(v->r));
	if ((rc = hv_state_write(ctx, st, h, sizeof(h))))
		return rc;
	return vgatext_save(ctx, &v->text, st);
}

static int vga_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vga *v = HV_STATE(ctx, struct vga);
	uint16_t h[2 + DISPI_NREGS];
	int rc;

	if ((rc = hv_state_read(ctx, st, h, sizeof(h))))
		return rc;
	if (h[0] != STATE_VERSION)
		return -EINVAL;
	if ((rc = vgatext_restore(ctx, &v->text, st)))
		return rc;
	v->idx = h[1];
	memcpy(v->r, h + 2, sizeof(v->r));
	/* the stream is the guest's: take none of it unchecked */
	v->r[DISPI_VIDEO_MEMORY_64K] = (uint16_t)(v->vram_size / 65536);
	v->r[DISPI_BANK] &= (uint16_t)(v->vram_size / 65536 - 1);
	v->r[DISPI_ENABLE] &= DISPI_ENABLE_BITS;
	if (dispi_on(v) && dispi_fixup(v))
		v->r[DISPI_ENABLE] &= ~DISPI_ENABLED;
	v->republish = 1;
	publish(ctx, v);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = vga_create,
	.destroy = vga_destroy,
	.reset = vga_reset,
	.save = vga_save,
	.restore = vga_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_SZ("vram", "16M", 1 << 20, 256 << 20,
		  "framebuffer (BAR0) size, a power of two from 1M to 256M"),
	HV_KEY_NUM("max_width", "1600", 320, 16384,
		   "widest mode: in the EDID and accepted by DISPI"),
	HV_KEY_NUM("max_height", "1200", 200, 12288,
		   "tallest mode: in the EDID and accepted by DISPI"),
	HV_KEY_SECTION("console", "console", 0,
		       "the graphical frontend showing the display (a [console] section)"),
	{ .name = "font", .type = HV_KEY_PATH,
	  .def = "/usr/share/consolefonts/Lat15-VGA16.psf.gz",
	  .help = "text mode font: a PSF1 or PSF2 file, gzipped or not" },
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(vga, device, &ops,
		 .version = "1.0",
		 .description = "standard VGA (QEMU -vga std, Bochs DISPI): PCI framebuffer, EDID, text mode",
		 .instance_size = sizeof(struct vga),
		 .keys = keys);
