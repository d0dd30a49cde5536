/*
 * The browser view's HTTP: enough of HTTP/1.x to hand noVNC's files to a
 * browser and to tell its WebSocket upgrade (which libvncserver answers)
 * from a file request. Everything here reads bytes a client sent.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vnc.h"

/* The end of the header ("\r\n\r\n", or "\n\n" from a sloppy client). */
static const char *header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return buf + i + 2;
		if (i + 3 < len && !memcmp(buf + i, "\r\n\r\n", 4))
			return buf + i + 4;
	}
	return NULL;
}

/* A header line "Name: ...value..." whose value contains word
 * (case-insensitive), between p and end. */
static int header_has(const char *p, const char *end, const char *name,
		      const char *word)
{
	size_t nl = strlen(name), wl = strlen(word);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			for (const char *q = p + nl + 1; q + wl <= eol; q++)
				if (!strncasecmp(q, word, wl))
					return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static int path_ok(const char *p)
{
	if (p[0] != '/' || strstr(p, "..") || strstr(p, "//"))
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
			return 0;
	return 1;
}

enum vnc_http_kind vnc_http_parse(const char *buf, size_t len,
				  char path[VNC_HTTP_PATH_MAX])
{
	const char *end = header_end(buf, len), *p, *sp;
	size_t n;

	path[0] = 0;
	if (memcmp(buf, "GET ", len < 4 ? len : 4))
		return VNC_HTTP_BAD;
	if (!end)
		return len >= VNC_HTTP_HEADER_MAX ? VNC_HTTP_BAD
						  : VNC_HTTP_MORE;
	p = buf + 4;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || (size_t)(end - sp) < 9 || memcmp(sp, " HTTP/1.", 8))
		return VNC_HTTP_BAD;
	n = strcspn(p, "? ");
	if (p + n > sp)
		n = (size_t)(sp - p);
	if (n == 0 || n >= VNC_HTTP_PATH_MAX)
		return VNC_HTTP_BAD;
	memcpy(path, p, n);
	path[n] = 0;
	if (!path_ok(path)) {
		path[0] = 0;
		return VNC_HTTP_BAD;
	}
	if (header_has(sp, end, "Upgrade", "websocket"))
		return VNC_HTTP_UPGRADE;
	return VNC_HTTP_FILE;
}

const char *vnc_http_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript"}, /* module scripts need it */
		{".css", "text/css"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".json", "application/json"},
		{".oga", "audio/ogg"},
		{".ogg", "audio/ogg"},
		{".mp3", "audio/mpeg"},
	};
	const char *dot = strrchr(path, '.');

	for (unsigned i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}
