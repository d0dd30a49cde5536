/*
 * Key names and US-layout characters: one table, each row a key with its
 * QEMU monitor name, evdev code and the characters it types without and
 * with shift, so `sendkey` and `type` can never disagree.
 */
#include "keymap.h"

#include <errno.h>
#include <limits.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key_row {
	const char *name;
	uint16_t code;
	char plain, shifted; /* US layout; 0: types nothing */
};

static const struct key_row keys[] = {
	{ "a", KEY_A, 'a', 'A' }, { "b", KEY_B, 'b', 'B' },
	{ "c", KEY_C, 'c', 'C' }, { "d", KEY_D, 'd', 'D' },
	{ "e", KEY_E, 'e', 'E' }, { "f", KEY_F, 'f', 'F' },
	{ "g", KEY_G, 'g', 'G' }, { "h", KEY_H, 'h', 'H' },
	{ "i", KEY_I, 'i', 'I' }, { "j", KEY_J, 'j', 'J' },
	{ "k", KEY_K, 'k', 'K' }, { "l", KEY_L, 'l', 'L' },
	{ "m", KEY_M, 'm', 'M' }, { "n", KEY_N, 'n', 'N' },
	{ "o", KEY_O, 'o', 'O' }, { "p", KEY_P, 'p', 'P' },
	{ "q", KEY_Q, 'q', 'Q' }, { "r", KEY_R, 'r', 'R' },
	{ "s", KEY_S, 's', 'S' }, { "t", KEY_T, 't', 'T' },
	{ "u", KEY_U, 'u', 'U' }, { "v", KEY_V, 'v', 'V' },
	{ "w", KEY_W, 'w', 'W' }, { "x", KEY_X, 'x', 'X' },
	{ "y", KEY_Y, 'y', 'Y' }, { "z", KEY_Z, 'z', 'Z' },
	{ "1", KEY_1, '1', '!' }, { "2", KEY_2, '2', '@' },
	{ "3", KEY_3, '3', '#' }, { "4", KEY_4, '4', '$' },
	{ "5", KEY_5, '5', '%' }, { "6", KEY_6, '6', '^' },
	{ "7", KEY_7, '7', '&' }, { "8", KEY_8, '8', '*' },
	{ "9", KEY_9, '9', '(' }, { "0", KEY_0, '0', ')' },
	{ "minus", KEY_MINUS, '-', '_' }, { "equal", KEY_EQUAL, '=', '+' },
	{ "bracket_left", KEY_LEFTBRACE, '[', '{' },
	{ "bracket_right", KEY_RIGHTBRACE, ']', '}' },
	{ "backslash", KEY_BACKSLASH, '\\', '|' },
	{ "semicolon", KEY_SEMICOLON, ';', ':' },
	{ "apostrophe", KEY_APOSTROPHE, '\'', '"' },
	{ "grave_accent", KEY_GRAVE, '`', '~' },
	{ "comma", KEY_COMMA, ',', '<' }, { "dot", KEY_DOT, '.', '>' },
	{ "slash", KEY_SLASH, '/', '?' },
	{ "spc", KEY_SPACE, ' ', 0 }, { "tab", KEY_TAB, '\t', 0 },
	{ "ret", KEY_ENTER, '\n', 0 }, { "esc", KEY_ESC, 0, 0 },
	{ "backspace", KEY_BACKSPACE, 0, 0 },
	{ "shift", KEY_LEFTSHIFT, 0, 0 }, { "shift_r", KEY_RIGHTSHIFT, 0, 0 },
	{ "ctrl", KEY_LEFTCTRL, 0, 0 }, { "ctrl_r", KEY_RIGHTCTRL, 0, 0 },
	{ "alt", KEY_LEFTALT, 0, 0 }, { "alt_r", KEY_RIGHTALT, 0, 0 },
	{ "altgr", KEY_RIGHTALT, 0, 0 }, { "meta_l", KEY_LEFTMETA, 0, 0 },
	{ "meta_r", KEY_RIGHTMETA, 0, 0 }, { "menu", KEY_COMPOSE, 0, 0 },
	{ "caps_lock", KEY_CAPSLOCK, 0, 0 }, { "num_lock", KEY_NUMLOCK, 0, 0 },
	{ "scroll_lock", KEY_SCROLLLOCK, 0, 0 },
	{ "f1", KEY_F1, 0, 0 }, { "f2", KEY_F2, 0, 0 }, { "f3", KEY_F3, 0, 0 },
	{ "f4", KEY_F4, 0, 0 }, { "f5", KEY_F5, 0, 0 }, { "f6", KEY_F6, 0, 0 },
	{ "f7", KEY_F7, 0, 0 }, { "f8", KEY_F8, 0, 0 }, { "f9", KEY_F9, 0, 0 },
	{ "f10", KEY_F10, 0, 0 }, { "f11", KEY_F11, 0, 0 },
	{ "f12", KEY_F12, 0, 0 },
	{ "insert", KEY_INSERT, 0, 0 }, { "delete", KEY_DELETE, 0, 0 },
	{ "home", KEY_HOME, 0, 0 }, { "end", KEY_END, 0, 0 },
	{ "pgup", KEY_PAGEUP, 0, 0 }, { "pgdn", KEY_PAGEDOWN, 0, 0 },
	{ "up", KEY_UP, 0, 0 }, { "down", KEY_DOWN, 0, 0 },
	{ "left", KEY_LEFT, 0, 0 }, { "right", KEY_RIGHT, 0, 0 },
	{ "print", KEY_SYSRQ, 0, 0 }, { "sysrq", KEY_SYSRQ, 0, 0 },
	{ "pause", KEY_PAUSE, 0, 0 }, { "less", KEY_102ND, 0, 0 },
	{ "asterisk", KEY_KPASTERISK, 0, 0 },
	{ "kp_0", KEY_KP0, 0, 0 }, { "kp_1", KEY_KP1, 0, 0 },
	{ "kp_2", KEY_KP2, 0, 0 }, { "kp_3", KEY_KP3, 0, 0 },
	{ "kp_4", KEY_KP4, 0, 0 }, { "kp_5", KEY_KP5, 0, 0 },
	{ "kp_6", KEY_KP6, 0, 0 }, { "kp_7", KEY_KP7, 0, 0 },
	{ "kp_8", KEY_KP8, 0, 0 }, { "kp_9", KEY_KP9, 0, 0 },
	{ "kp_add", KEY_KPPLUS, 0, 0 }, { "kp_subtract", KEY_KPMINUS, 0, 0 },
	{ "kp_multiply", KEY_KPASTERISK, 0, 0 },
	{ "kp_divide", KEY_KPSLASH, 0, 0 }, { "kp_enter", KEY_KPENTER, 0, 0 },
	{ "kp_decimal", KEY_KPDOT, 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int keymap_code(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && !memcmp(keys[i].name, name, len))
			return keys[i].code;
	return -1;
}

static struct hv_input_event key_ev(uint16_t code, int down)
{
	return (struct hv_input_event){ HV_INPUT_KEY, code, down };
}

int keymap_combo(const char *spec, struct hv_input_event *ev, char *why,
		 size_t n)
{
	uint16_t codes[KEYS_MAX];
	int nk = 0;

	for (const char *p = spec;; p++) {
		const char *end = strchr(p, '-');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int code = keymap_code(p, len);

		if (code < 0)
			return snprintf(why, n, "unknown key '%.*s' (QEMU names: a, ret, spc, ctrl, f1, ...; joined by '-')",
					(int)(len > 32 ? 32 : len), p),
			       -EINVAL;
		if (nk == KEYS_MAX)
			return snprintf(why, n, "more than %d keys at once", KEYS_MAX),
			       -EINVAL;
		codes[nk++] = (uint16_t)code;
		if (!end)
			break;
		p = end;
	}
	for (int i = 0; i < nk; i++) {
		ev[i] = key_ev(codes[i], 1);
		ev[2 * nk - 1 - i] = key_ev(codes[i], 0);
	}
	return 2 * nk;
}

int keymap_char(unsigned char c, struct hv_input_event *ev)
{
	for (size_t i = 0; c && i < NKEYS; i++) {
		int shift = keys[i].shifted == (char)c;
		int k = 0;

		if (keys[i].plain != (char)c && !shift)
			continue;
		if (shift)
			ev[k++] = key_ev(KEY_LEFTSHIFT, 1);
		ev[k++] = key_ev(keys[i].code, 1);
		ev[k++] = key_ev(keys[i].code, 0);
		if (shift)
			ev[k++] = key_ev(KEY_LEFTSHIFT, 0);
		return k;
	}
	return -EINVAL;
}

int keymap_text_check(const char *text, char *why, size_t n)
{
	struct hv_input_event ev[4];

	for (const char *p = text; *p; p++)
		if (keymap_char((unsigned char)*p, ev) < 0)
			return snprintf(why, n, "character 0x%02x at %zu is not on a US keyboard",
					(unsigned char)*p, (size_t)(p - text)),
			       -EINVAL;
	return 0;
}

/* A whole decimal number within lo..hi, or -EINVAL. */
static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int mouse_parse(int argc, char **argv, struct mouse_cmd *m, char *why,
		size_t n)
{
	long b = -1, lim;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[0], "abs") && strcmp(argv[0], "rel")))
		return snprintf(why, n, "usage: mouse abs X Y [BUTTONS] | mouse rel DX DY [BUTTONS]"),
		       -EINVAL;
	m->abs = !strcmp(argv[0], "abs");
	lim = m->abs ? (long)HV_DISPLAY_MAX_WIDTH - 1 : 65535;
	if (number(argv[1], m->abs ? 0 : -lim, lim, &m->x) ||
	    number(argv[2], m->abs ? 0 : -lim, lim, &m->y))
		return snprintf(why, n, "mouse %s: %s must be whole numbers in %ld..%ld",
				argv[0], m->abs ? "X and Y" : "DX and DY",
				m->abs ? 0 : -lim, lim),
		       -EINVAL;
	if (argc == 4 && number(argv[3], 0, 7, &b))
		return snprintf(why, n, "mouse: BUTTONS is a mask 0..7 (1 left, 2 middle, 4 right)"),
		       -EINVAL;
	m->buttons = (int)b;
	return 0;
}

int mouse_batch(const struct mouse_cmd *m, long ax, long ay, int old_buttons,
		struct hv_input_event *ev)
{
	static const uint16_t btn[3] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT };
	int type = m->abs ? HV_INPUT_ABS : HV_INPUT_REL, k = 0;

	if (m->abs || ax)
		ev[k++] = (struct hv_input_event){ type, HV_REL_X, (int32_t)ax };
	if (m->abs || ay)
		ev[k++] = (struct hv_input_event){ type, HV_REL_Y, (int32_t)ay };
	for (int i = 0; m->buttons >= 0 && i < 3; i++)
		if ((m->buttons ^ old_buttons) >> i & 1)
			ev[k++] = key_ev(btn[i], m->buttons >> i & 1);
	return k;
}
