/*
 * The monitor the VGA reports (plugins/display/vga.c, BAR2 + 0x000): one
 * 128-byte EDID 1.4 base block, no extensions.
 */
#ifndef HV_PLUGINS_DISPLAY_EDID_H
#define HV_PLUGINS_DISPLAY_EDID_H

#include <stdint.h>

#define EDID_BYTES 128

/* Fill edid for a monitor whose largest mode is max_w x max_h (320..16384
 * by 200..12288): the preferred detailed timing is that mode (clipped to
 * what a detailed timing can encode, 4095 x 4095), a second one 1024x768
 * when that is smaller, standard and established timings for the common
 * modes that fit, range limits and a name. The checksum makes the bytes
 * sum to 0 mod 256. */
void edid_build(uint8_t edid[EDID_BYTES], uint32_t max_w, uint32_t max_h);

#endif
