/*
 * The legacy VGA half of plugins/display/vga.c: the registers at
 * 0x3c0-0x3df (attribute controller, misc output, sequencer, graphics
 * controller, CRTC, DAC, input status) and text mode in the 0xb8000 window,
 * rendered into a pixel buffer of its own with the font in plane 2.
 *
 * vga.c owns the PCI function, the Bochs DISPI interface and the display;
 * it embeds a struct vgatext in its instance and calls these from its own
 * ops and region handlers (domain lock held, as for every device op).
 * While DISPI is disabled, the display shows what vgatext renders.
 */
#ifndef HV_PLUGINS_DISPLAY_VGATEXT_H
#define HV_PLUGINS_DISPLAY_VGATEXT_H

#include <stdint.h>

#include <hv/hv.h>

#define VGATEXT_FONT_BYTES (256 * 32) /* 256 glyphs, 32 scan lines each */

struct vgatext {
	uint8_t misc, seq_idx, gc_idx, crtc_idx, attr_idx, attr_flip;
	uint8_t seq[8], gc[16], crtc[32], attr[32];
	uint8_t dac[256][3], dac_state, dac_widx, dac_ridx, dac_sub, pel_mask;
	uint8_t st1; /* input status 1: retrace bits toggled on each read */
	uint8_t *vram;         /* the 128 KiB window (hv_vga_window_set) */
	uint8_t font[VGATEXT_FONT_BYTES]; /* plane 2 as text mode reads it */
	uint32_t *pix;         /* rendered text screen, XRGB8888 */
	uint32_t pix_w, pix_h; /* its geometry */
	uint16_t shadow[132 * 60]; /* char+attr last rendered, for damage */
	uint32_t blink_tick;
	int shadow_valid; /* 0: redraw all, 1: shadow current, 2: blanked */
	uint32_t cursor_drawn; /* shadow index + 1 of the cell showing it */
	int republish;         /* publish the surface at the next refresh */
};

/* From create: claim the VGA window (as RAM) and the 0x3c0-0x3df ports,
 * load the font named by the device's `font` key. 0, or -errno after one
 * hv_error line. */
int vgatext_create(struct hv_ctx *ctx, struct vgatext *t);
void vgatext_destroy(struct hv_ctx *ctx, struct vgatext *t);
/* Power-on state: 80x25 colour text, mode 3, as a BIOS leaves it. */
void vgatext_reset(struct hv_ctx *ctx, struct vgatext *t);
/* A legacy port access (port 0x3c0-0x3df), from the PIO region or the
 * bochs MMIO mirror at BAR2 + 0x400 (port - 0x3c0 + 0x400). */
uint64_t vgatext_port_read(struct hv_ctx *ctx, struct vgatext *t,
			   uint16_t port);
void vgatext_port_write(struct hv_ctx *ctx, struct vgatext *t, uint16_t port,
			uint8_t val);
/* Render text mode if anything changed; when the geometry changed publish
 * the text surface on d, then report damage. full != 0 redraws all. */
void vgatext_refresh(struct hv_ctx *ctx, struct vgatext *t,
		     struct hv_display *d, int full);
/* The text surface (for vga.c to publish when DISPI is turned off). */
void vgatext_surface(const struct vgatext *t, struct hv_surface *s);
int vgatext_save(struct hv_ctx *ctx, struct vgatext *t, struct hv_state *st);
int vgatext_restore(struct hv_ctx *ctx, struct vgatext *t, struct hv_state *st);

#endif
