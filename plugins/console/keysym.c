/*
 * X keysyms (what a VNC client sends) to evdev key codes (what hv's input
 * devices take), for a US keyboard layout. The guest turns codes back
 * into characters with its own keymap, so a symbol maps to the key that
 * types it on a US keyboard and says whether shift must be down.
 */
#include <linux/input-event-codes.h>

#include "vnc.h"

/* Printable ASCII from ' ' (0x20) to '~' (0x7e): the key and shift, rows
 * in ASCII order (kept out of clang-format's reflow). */
/* clang-format off */
#define K(c) { c, 0 }
#define S(c) { c, 1 }
static const struct vnc_key ascii[0x7f - 0x20] = {
	K(KEY_SPACE), S(KEY_1), S(KEY_APOSTROPHE), S(KEY_3), S(KEY_4),
	S(KEY_5), S(KEY_7), K(KEY_APOSTROPHE), S(KEY_9), S(KEY_0),
	S(KEY_8), S(KEY_EQUAL), K(KEY_COMMA), K(KEY_MINUS), K(KEY_DOT),
	K(KEY_SLASH), /* '0'..'9' */
	K(KEY_0), K(KEY_1), K(KEY_2), K(KEY_3), K(KEY_4), K(KEY_5), K(KEY_6),
	K(KEY_7), K(KEY_8), K(KEY_9),
	S(KEY_SEMICOLON), K(KEY_SEMICOLON), S(KEY_COMMA), K(KEY_EQUAL),
	S(KEY_DOT), S(KEY_SLASH), S(KEY_2), /* 'A'..'Z' */
	S(KEY_A), S(KEY_B), S(KEY_C), S(KEY_D), S(KEY_E), S(KEY_F), S(KEY_G),
	S(KEY_H), S(KEY_I), S(KEY_J), S(KEY_K), S(KEY_L), S(KEY_M), S(KEY_N),
	S(KEY_O), S(KEY_P), S(KEY_Q), S(KEY_R), S(KEY_S), S(KEY_T), S(KEY_U),
	S(KEY_V), S(KEY_W), S(KEY_X), S(KEY_Y), S(KEY_Z),
	K(KEY_LEFTBRACE), K(KEY_BACKSLASH), K(KEY_RIGHTBRACE), S(KEY_6),
	S(KEY_MINUS), K(KEY_GRAVE), /* 'a'..'z' */
	K(KEY_A), K(KEY_B), K(KEY_C), K(KEY_D), K(KEY_E), K(KEY_F), K(KEY_G),
	K(KEY_H), K(KEY_I), K(KEY_J), K(KEY_K), K(KEY_L), K(KEY_M), K(KEY_N),
	K(KEY_O), K(KEY_P), K(KEY_Q), K(KEY_R), K(KEY_S), K(KEY_T), K(KEY_U),
	K(KEY_V), K(KEY_W), K(KEY_X), K(KEY_Y), K(KEY_Z),
	S(KEY_LEFTBRACE), S(KEY_BACKSLASH), S(KEY_RIGHTBRACE), S(KEY_GRAVE),
};
/* clang-format on */

/* Function and keypad keysyms, 0xff00..0xffff (X11's keysymdef.h). */
static const struct {
	uint16_t sym;
	uint16_t code;
} special[] = {
	{0xff08, KEY_BACKSPACE},  {0xff09, KEY_TAB},
	{0xff0d, KEY_ENTER},	  {0xff13, KEY_PAUSE},
	{0xff14, KEY_SCROLLLOCK}, {0xff15, KEY_SYSRQ},
	{0xff1b, KEY_ESC},	  {0xff50, KEY_HOME},
	{0xff51, KEY_LEFT},	  {0xff52, KEY_UP},
	{0xff53, KEY_RIGHT},	  {0xff54, KEY_DOWN},
	{0xff55, KEY_PAGEUP},	  {0xff56, KEY_PAGEDOWN},
	{0xff57, KEY_END},	  {0xff61, KEY_SYSRQ},
	{0xff63, KEY_INSERT},	  {0xff67, KEY_COMPOSE},
	{0xff7f, KEY_NUMLOCK},	  {0xff8d, KEY_KPENTER},
	{0xff95, KEY_KP7},	  {0xff96, KEY_KP4},
	{0xff97, KEY_KP8},	  {0xff98, KEY_KP6},
	{0xff99, KEY_KP2},	  {0xff9a, KEY_KP9},
	{0xff9b, KEY_KP3},	  {0xff9c, KEY_KP1},
	{0xff9d, KEY_KP5},	  {0xff9e, KEY_KP0},
	{0xff9f, KEY_KPDOT},	  {0xffaa, KEY_KPASTERISK},
	{0xffab, KEY_KPPLUS},	  {0xffad, KEY_KPMINUS},
	{0xffae, KEY_KPDOT},	  {0xffaf, KEY_KPSLASH},
	{0xffb0, KEY_KP0},	  {0xffb1, KEY_KP1},
	{0xffb2, KEY_KP2},	  {0xffb3, KEY_KP3},
	{0xffb4, KEY_KP4},	  {0xffb5, KEY_KP5},
	{0xffb6, KEY_KP6},	  {0xffb7, KEY_KP7},
	{0xffb8, KEY_KP8},	  {0xffb9, KEY_KP9},
	{0xffbd, KEY_KPEQUAL},	  {0xffbe, KEY_F1},
	{0xffbf, KEY_F2},	  {0xffc0, KEY_F3},
	{0xffc1, KEY_F4},	  {0xffc2, KEY_F5},
	{0xffc3, KEY_F6},	  {0xffc4, KEY_F7},
	{0xffc5, KEY_F8},	  {0xffc6, KEY_F9},
	{0xffc7, KEY_F10},	  {0xffc8, KEY_F11},
	{0xffc9, KEY_F12},	  {0xffe1, KEY_LEFTSHIFT},
	{0xffe2, KEY_RIGHTSHIFT}, {0xffe3, KEY_LEFTCTRL},
	{0xffe4, KEY_RIGHTCTRL},  {0xffe5, KEY_CAPSLOCK},
	{0xffe7, KEY_LEFTMETA},	  {0xffe8, KEY_RIGHTMETA},
	{0xffe9, KEY_LEFTALT},	  {0xffea, KEY_RIGHTALT},
	{0xffeb, KEY_LEFTMETA},	  {0xffec, KEY_RIGHTMETA},
	{0xffff, KEY_DELETE},
};

struct vnc_key vnc_keysym(uint32_t sym)
{
	struct vnc_key none = {0, 0};

	if (sym >= 0x20 && sym <= 0x7e)
		return ascii[sym - 0x20];
	if (sym == 0xfe03) /* ISO_Level3_Shift: AltGr */
		return (struct vnc_key){KEY_RIGHTALT, 0};
	if (sym == 0xfe20) /* ISO_Left_Tab: shift-tab */
		return (struct vnc_key){KEY_TAB, 1};
	for (unsigned i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (special[i].sym == sym)
			return (struct vnc_key){special[i].code, 0};
	return none;
}
