/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: a text sink for what a plugin reports (v2.3: the status op of
 * struct hv_plugin_desc, `hv ctl SOCK status SECTION`).
 *
 * The core hands the plugin a buffer; hv_out_printf() appends to it with
 * vsnprintf semantics. A report longer than the buffer is not cut in the
 * middle of a line silently: `len` keeps counting past `cap`, and the
 * core calls the op again with a buffer of at least len + 1 bytes (up to
 * HV_OUT_MAX), so the op must write the same thing each time it is asked
 * within one call (no counters reset, no state changed).
 */
#ifndef HV_OUT_H
#define HV_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define HV_OUT_MAX (4u * 1024 * 1024) /* bytes of one report, at most */

struct hv_out {
	char *buf;  /* cap bytes, always NUL-terminated when cap > 0 */
	size_t cap;
	size_t len; /* bytes the report needs so far (may exceed cap - 1) */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void hv_out_printf(struct hv_out *o, const char *fmt, ...)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A JSON string's body: s with ", \ and control characters escaped. */
static inline void hv_out_json_str(struct hv_out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			hv_out_printf(o, "\\%c", c);
		else if (c < 0x20)
			hv_out_printf(o, "\\u%04x", c);
		else
			hv_out_printf(o, "%c", c);
	}
}

#endif
