/*
 * libFuzzer over the VNC frontend's HTTP request reader (what a browser,
 * or anyone, sends to the listening port first): never reads past len,
 * and a FILE path is always a clean name under the web root.
 */
#include <stdlib.h>
#include <string.h>

#include "vnc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	char path[VNC_HTTP_PATH_MAX];
	/* a copy of exactly len bytes: ASan sees any read past them */
	char *buf = malloc(len ? len : 1);
	enum vnc_http_kind k;

	if (!buf)
		return 0;
	memcpy(buf, data, len);
	k = vnc_http_parse(buf, len, path);
	if (k == VNC_HTTP_FILE || k == VNC_HTTP_UPGRADE) {
		if (path[0] != '/' || strstr(path, "..") ||
		    strstr(path, "//") || strlen(path) >= VNC_HTTP_PATH_MAX)
			abort();
		(void)vnc_http_type(path);
	}
	free(buf);
	return 0;
}
