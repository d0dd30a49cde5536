/*
 * A PS/2 keyboard (MF2, id 0xab 0x83): the host commands Linux's atkbd
 * and firmware send, and evdev KEY_* codes turned into scancodes of the
 * set the host chose (2 by default). Set 2 is the table; set 1 is set 2
 * run through the 8042's translation (the keyboard's own set 1 is that
 * mapping, Pause and PrintScreen included); set 3 has its own codes for
 * the keys that differ from set 2 and no 0xe0 prefixes. Keys without a
 * code in the current set are dropped.
 */
#include <string.h>

#include "ps2.h"

#define E0 0x100u /* a set 2 code sent behind an 0xe0 prefix */

/* evdev KEY_* -> set 2 make code */
static const uint16_t set2[256] = {
	[1] = 0x76, /* ESC */
	[2] = 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46, 0x45, /* 1..0 */
	[12] = 0x4e, 0x55, 0x66, 0x0d, /* - = BACKSPACE TAB */
	[16] = 0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d, /* Q..P */
	[26] = 0x54, 0x5b, 0x5a, 0x14, /* [ ] ENTER LEFTCTRL */
	[30] = 0x1c, 0x1b, 0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, /* A..L */
	[39] = 0x4c, 0x52, 0x0e, 0x12, 0x5d, /* ; ' ` LEFTSHIFT \ */
	[44] = 0x1a, 0x22, 0x21, 0x2a, 0x32, 0x31, 0x3a, /* Z..M */
	[51] = 0x41, 0x49, 0x4a, 0x59, 0x7c, 0x11, 0x29, 0x58, /* , . / RSHIFT KP* LALT SPACE CAPS */
	[59] = 0x05, 0x06, 0x04, 0x0c, 0x03, 0x0b, 0x83, 0x0a, 0x01, 0x09, /* F1..F10 */
	[69] = 0x77, 0x7e, /* NUMLOCK SCROLLLOCK */
	[71] = 0x6c, 0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69, 0x72, 0x7a, 0x70, 0x71,
	[86] = 0x61, 0x78, 0x07, 0x51, /* 102ND F11 F12 RO */
	[92] = 0x64, 0x13, 0x67, /* HENKAN KATAKANAHIRAGANA MUHENKAN */
	[96] = E0 | 0x5a, E0 | 0x14, E0 | 0x4a, /* KPENTER RIGHTCTRL KPSLASH */
	[100] = E0 | 0x11, /* RIGHTALT */
	[102] = E0 | 0x6c, E0 | 0x75, E0 | 0x7d, E0 | 0x6b, E0 | 0x74, /* HOME UP PGUP LEFT RIGHT */
	[107] = E0 | 0x69, E0 | 0x72, E0 | 0x7a, E0 | 0x70, E0 | 0x71, /* END DOWN PGDN INS DEL */
	[113] = E0 | 0x23, E0 | 0x21, E0 | 0x32, E0 | 0x37, 0x0f, /* MUTE VOL- VOL+ POWER KP= */
	[124] = 0x6a, E0 | 0x1f, E0 | 0x27, E0 | 0x2f, E0 | 0x28, /* YEN LMETA RMETA COMPOSE STOP */
	[140] = E0 | 0x2b, [142] = E0 | 0x3f, E0 | 0x5e, /* CALC SLEEP WAKEUP */
	[155] = E0 | 0x48, E0 | 0x18, E0 | 0x40, E0 | 0x38, E0 | 0x30, /* MAIL BOOKMARKS COMPUTER BACK FWD */
	[163] = E0 | 0x4d, E0 | 0x34, E0 | 0x15, E0 | 0x3b, /* NEXT PLAYPAUSE PREV STOPCD */
	[172] = E0 | 0x3a, E0 | 0x20, /* HOMEPAGE REFRESH */
	[183] = 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x5f, /* F13..F24 */
	[217] = E0 | 0x10, [226] = E0 | 0x50, /* SEARCH MEDIA */
};

/* Set 3 codes of the keys whose code is not their set 2 one; every other
 * key without an 0xe0 prefix in set 2 has the same code in set 3. */
static const uint8_t set3_own[256] = {
	[1] = 0x08, [29] = 0x11, [43] = 0x5c, [55] = 0x7e, [56] = 0x19, [58] = 0x14,
	[59] = 0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, /* F1..F10 */
	[69] = 0x76, 0x5f, [74] = 0x84, [78] = 0x7c, [86] = 0x13, 0x56, 0x5e,
	[96] = 0x79, 0x58, 0x77, 0x57, 0x39, /* KPENTER RCTRL KPSLASH SYSRQ RALT */
	[102] = 0x6e, 0x63, 0x6f, 0x61, 0x6a, 0x65, 0x60, 0x6d, 0x67, 0x64,
	[119] = 0x62, [125] = 0x8b, 0x8c, 0x8d, /* PAUSE LMETA RMETA COMPOSE */
};

/*
 * The 8042's translation of set 2 bytes to set 1, fixed in its firmware:
 * the low half maps every set 2 code to the set 1 code of the same key,
 * the high half passes bytes through but F7 (0x83) and Alt+SysRq (0x84).
 * That is why a translated keyboard identifies as 0xab 0x41.
 */
static const uint8_t xlate[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_xlate(uint8_t b)
{
	if (b < 0x80)
		return xlate[b];
	return b == 0x83 ? 0x41 : b == 0x84 ? 0x54 : b;
}

#define KEY_SYSRQ 99
#define KEY_PAUSE 119
#define SEQ_MAX 8

/* The set 2 bytes of one key event: their count (0: no code). */
static unsigned seq_set2(unsigned code, int down, uint8_t *out)
{
	static const uint8_t pause[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	static const uint8_t prt_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
	static const uint8_t prt_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
	unsigned n = 0, c;

	if (code == KEY_PAUSE) { /* make only: its break is in the sequence */
		if (!down)
			return 0;
		memcpy(out, pause, sizeof(pause));
		return sizeof(pause);
	}
	if (code == KEY_SYSRQ) {
		memcpy(out, down ? prt_make : prt_break, down ? sizeof(prt_make) : sizeof(prt_break));
		return down ? sizeof(prt_make) : sizeof(prt_break);
	}
	if (code >= 256 || !(c = set2[code]))
		return 0;
	if (c & E0)
		out[n++] = 0xe0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = (uint8_t)c;
	return n;
}

/* Set 1: the set 2 sequence as the 8042 would translate it. */
static unsigned seq_set1(unsigned code, int down, uint8_t *out)
{
	uint8_t s2[SEQ_MAX];
	unsigned n = seq_set2(code, down, s2), m = 0, brk = 0;

	for (unsigned i = 0; i < n; i++) {
		if (s2[i] == 0xf0) {
			brk = 0x80;
			continue;
		}
		out[m++] = (uint8_t)(ps2_xlate(s2[i]) | brk);
		brk = 0;
	}
	return m;
}

static unsigned seq_set3(unsigned code, int down, uint8_t *out)
{
	unsigned n = 0, c = code < 256 ? set3_own[code] : 0;

	if (!c && code < 256 && !(set2[code] & E0))
		c = set2[code];
	if (!c)
		return 0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = (uint8_t)c;
	return n;
}

void ps2kbd_key(struct ps2kbd *k, unsigned code, int value, uint16_t *seq)
{
	uint8_t b[SEQ_MAX];
	unsigned n;

	if (!k->scanning)
		return;
	if (k->set == 1)
		n = seq_set1(code, value != 0, b);
	else if (k->set == 3)
		n = seq_set3(code, value != 0, b);
	else
		n = seq_set2(code, value != 0, b);
	if (n > ps2q_room(&k->d.data))
		return; /* the keyboard's buffer is full: the key is lost whole */
	for (unsigned i = 0; i < n; i++)
		ps2q_put(&k->d.data, b[i], (*seq)++);
}

/* Power-on defaults (0xf6 and 0xff restore them; 0xf5 too, scanning off). */
static void defaults(struct ps2kbd *k)
{
	k->set = 2;
	k->typematic = 0x2b; /* 10.9 cps, 500 ms */
	k->scanning = 1;
}

void ps2kbd_reset(struct ps2kbd *k)
{
	memset(k, 0, sizeof(*k));
	defaults(k);
}

/* The argument byte of 0xed, 0xf0, 0xf3 (or a set 3 key-type command). */
static void argument(struct ps2kbd *k, uint8_t cmd, uint8_t v, uint16_t *seq)
{
	switch (cmd) {
	case 0xed: k->leds = v & 7; break;
	case 0xf3: k->typematic = v & 0x7f; break;
	case 0xf0:
		if (v > 3) {
			ps2_reply(&k->d, PS2_RESEND, seq);
			return;
		}
		ps2_reply(&k->d, PS2_ACK, seq);
		if (!v)
			ps2_reply(&k->d, k->set, seq);
		else
			k->set = v;
		return;
	}
	ps2_reply(&k->d, PS2_ACK, seq);
}

static int takes_argument(uint8_t c)
{
	return c == 0xed || c == 0xf0 || c == 0xf3 || (c >= 0xfb && c <= 0xfd);
}

void ps2kbd_write(struct ps2kbd *k, uint8_t v, uint16_t *seq)
{
	uint8_t p = k->d.pending;

	/* An argument, unless the host gave up on it and sent a command. */
	if (p && v < 0xed) {
		k->d.pending = 0;
		argument(k, p, v, seq);
		return;
	}
	k->d.pending = 0;
	k->d.reply.n = 0; /* a new command cancels the replies of the last */
	switch (v) {
	case 0xee: ps2_reply(&k->d, 0xee, seq); return; /* echo */
	case 0xf2: /* identify: an MF2 keyboard */
		ps2_reply(&k->d, PS2_ACK, seq);
		ps2_reply(&k->d, 0xab, seq);
		ps2_reply(&k->d, 0x83, seq);
		return;
	case 0xf4: /* enable: the buffer is cleared, scanning starts */
		k->d.data.n = 0;
		k->scanning = 1;
		break;
	case 0xf5: defaults(k); k->scanning = 0; break;
	case 0xf6: defaults(k); break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: break; /* set 3 key types */
	case 0xfe: ps2_reply(&k->d, k->d.last, seq); return;
	case 0xff: /* reset: ACK, then the self-test passed */
		k->d.data.n = 0;
		defaults(k);
		ps2_reply(&k->d, PS2_ACK, seq);
		ps2_reply(&k->d, 0xaa, seq);
		return;
	default:
		if (!takes_argument(v)) {
			ps2_reply(&k->d, PS2_RESEND, seq); /* not a command */
			return;
		}
		k->d.pending = v;
	}
	ps2_reply(&k->d, PS2_ACK, seq);
}

int ps2kbd_valid(const struct ps2kbd *k)
{
	return ps2q_ok(&k->d.reply) && ps2q_ok(&k->d.data) && k->set >= 1 &&
	       k->set <= 3 && (!k->d.pending || takes_argument(k->d.pending));
}
