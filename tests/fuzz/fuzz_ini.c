/*
 * libFuzzer target over the INI loader and [vm] validation: any bytes give
 * either a config or one error message, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct plugin_set none;
	static int quiet;
	struct config c;
	char *text = malloc(size + 1);

	if (!quiet) { /* messages are expected: keep the fuzzer's output readable */
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
		quiet = 1;
	}
	memcpy(text, data, size);
	text[size] = 0;
	if (!config_load_string(&c, "fuzz.ini", text))
		config_validate(&c, &none);
	config_free(&c);
	free(text);
	return 0;
}
