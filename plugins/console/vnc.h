/*
 * The VNC frontend's pieces apart from its server: the X keysym table and
 * the HTTP request reader for the browser view. Pure functions of their
 * arguments (the fuzz targets call them directly).
 */
#ifndef HV_PLUGINS_VNC_H
#define HV_PLUGINS_VNC_H

#include <stddef.h>
#include <stdint.h>

/* An X keysym on a US layout: the evdev KEY_* code, and whether the
 * symbol needs shift held ('A', '!'). 0 for a keysym with no key. */
struct vnc_key {
	uint16_t code;
	uint8_t shift;
};
struct vnc_key vnc_keysym(uint32_t keysym);

/* What a browser asked for. */
enum vnc_http_kind {
	VNC_HTTP_MORE = 0, /* the header is not complete yet */
	VNC_HTTP_BAD,	   /* not a request we serve: 400 */
	VNC_HTTP_FILE,	   /* GET of a file: path is set ("/vnc.html") */
	VNC_HTTP_UPGRADE,  /* a WebSocket upgrade: the VNC server takes it */
};
#define VNC_HTTP_HEADER_MAX 4096u
#define VNC_HTTP_PATH_MAX   256u

/* Read a request header of len bytes (not NUL-terminated). For FILE,
 * path gets the request's path without its query, checked to be a
 * relative name under the web root (letters, digits, "._-/", no "..",
 * no "//"); "/" is returned as is. */
enum vnc_http_kind vnc_http_parse(const char *buf, size_t len,
				  char path[VNC_HTTP_PATH_MAX]);
/* The Content-Type for a file name. */
const char *vnc_http_type(const char *path);

#endif
