/*
 * Screenshots: a display's current surface as an 8-bit RGB PNG (libpng).
 * The device is refreshed first and its lock held while the lines are
 * converted and written, so the picture is one refresh's, whatever the
 * format; the guest may still be writing pixels, as it would be for any
 * bus master reading them.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display.h"

/* The PNG of s into f: 0, or -EIO when libpng gave up. */
static int png_out(FILE *f, const struct hv_surface *s, uint8_t *line)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
						  NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 3); /* a fast one: the lock is held */
	png_write_info(png, info);
	for (uint32_t y = 0; y < s->height; y++) {
		display_line_rgb(s, y, line);
		png_write_row(png, line);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int display_screenshot(struct hv_display *d, const char *path, char *why,
		       size_t n)
{
	const struct hv_surface *s;
	uint8_t *line = NULL;
	FILE *f;
	int rc;

	if (!(f = fopen(path, "wbe")))
		return rc = -errno,
		       snprintf(why, n, "%.256s: %s", path, strerror(-rc)), rc;
	s = display_begin(d);
	if (!s->format) {
		rc = -ENODATA;
		snprintf(why, n, "display %s is blank (no signal)",
			 display_name(d));
	} else if (!(line = malloc((size_t)s->width * 3))) {
		rc = -ENOMEM;
		snprintf(why, n, "out of memory");
	} else if ((rc = png_out(f, s, line))) {
		snprintf(why, n, "%.256s: writing the PNG failed", path);
	}
	display_end(d);
	free(line);
	if (fclose(f) && !rc) {
		rc = -errno;
		snprintf(why, n, "%.256s: %s", path, strerror(-rc));
	}
	if (rc)
		unlink(path);
	return rc;
}
