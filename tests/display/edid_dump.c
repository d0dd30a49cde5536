/*
 * edid-dump W H: the 128 bytes plugins/display/edid.c builds for a monitor
 * of max_width W, max_height H, on stdout (tests/display/edid.t feeds them
 * to edid-decode and to its own parser).
 */
#include <stdio.h>
#include <stdlib.h>

#include "edid.h"

int main(int argc, char **argv)
{
	uint8_t e[EDID_BYTES];

	if (argc != 3) {
		fputs("usage: edid-dump WIDTH HEIGHT\n", stderr);
		return 2;
	}
	edid_build(e, (uint32_t)strtoul(argv[1], NULL, 0), (uint32_t)strtoul(argv[2], NULL, 0));
	return fwrite(e, 1, sizeof(e), stdout) == sizeof(e) ? 0 : 1;
}
