/*
 * A PS/2 mouse: the standard three-button protocol and the IntelliMouse
 * wheel (the sample-rate knock 200, 100, 80 makes it id 3, with a fourth
 * packet byte). Stream and remote mode, wrap mode, 1:1 and 2:1 scaling.
 *
 * Motion arrives as evdev relative deltas (pixels, taken as counts: the
 * resolution only reads back). A packet carries 9-bit signed deltas, so a
 * big move is split over several packets, at most SPLIT_MAX per batch;
 * what is left after that is reported as overflow and dropped, so one
 * absurd delta cannot fill the queue. Y and the wheel point the other way
 * from evdev's (PS/2 Y grows upwards; ImPS/2 z is negative scrolling up).
 */
#include <string.h>

#include "ps2.h"

#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define SPLIT_MAX 8
#define ACC_MAX (1 << 20)

static int32_t clamp(int64_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

static unsigned packet_len(const struct ps2mouse *m)
{
	return m->id == 3 ? 4 : 3;
}

/* 2:1 scaling (stream mode only): small moves damped, big ones doubled. */
static int32_t scaled(const struct ps2mouse *m, int32_t c)
{
	static const int8_t small[6] = { 0, 1, 1, 3, 6, 9 };
	int32_t a = c < 0 ? -c : c;

	if (!m->scale21 || m->remote)
		return c;
	a = a <= 5 ? small[a] : 2 * a;
	return c < 0 ? -a : a;
}

/* One packet of the pending motion into b (its length), taking what it
 * carries off it; `last` reports whatever does not fit as overflow and
 * drops it. */
static unsigned packet_build(struct ps2mouse *m, int last, uint8_t *b)
{
	/* Linux's psmouse reads a zero low byte as no motion, sign bit or
	 * not: -256 is left out of the 9-bit range */
	int32_t cx = clamp(m->dx, -255, 255), cy = clamp(m->dy, -255, 255);
	int32_t cz = clamp(m->dz, -127, 127);
	int32_t sx = scaled(m, cx), sy = scaled(m, cy);

	m->dx -= cx, m->dy -= cy, m->dz -= cz;
	b[0] = (uint8_t)(0x08 | m->buttons | (sx < 0 ? 0x10 : 0) | (sy < 0 ? 0x20 : 0));
	if (sx < -255 || sx > 255 || (last && m->dx))
		b[0] |= 0x40;
	if (sy < -255 || sy > 255 || (last && m->dy))
		b[0] |= 0x80;
	b[1] = (uint8_t)clamp(sx, -255, 255);
	b[2] = (uint8_t)clamp(sy, -255, 255);
	b[3] = (uint8_t)cz;
	if (last)
		m->dx = m->dy = m->dz = 0;
	return packet_len(m);
}

static void packet(struct ps2mouse *m, int last, uint16_t *seq)
{
	uint8_t b[4];
	unsigned n = packet_build(m, last, b);

	if (n > ps2q_room(&m->d.data))
		return; /* the host is not reading: the packet is lost whole */
	for (unsigned i = 0; i < n; i++)
		ps2q_put(&m->d.data, b[i], (*seq)++);
}

static void button(struct ps2mouse *m, unsigned code, int down)
{
	uint8_t bit = code == BTN_LEFT ? 1 : code == BTN_RIGHT ? 2 : code == BTN_MIDDLE ? 4 : 0;

	m->buttons = (uint8_t)(down ? m->buttons | bit : m->buttons & ~bit);
}

void ps2mouse_events(struct ps2mouse *m, const struct hv_input_event *ev,
		     unsigned n, uint16_t *seq)
{
	uint8_t before = m->buttons;

	for (unsigned i = 0; i < n; i++) {
		if (ev[i].type == HV_INPUT_KEY)
			button(m, ev[i].code, ev[i].value);
		else if (ev[i].type == HV_INPUT_REL && ev[i].code == HV_REL_X)
			m->dx = clamp((int64_t)m->dx + ev[i].value, -ACC_MAX, ACC_MAX);
		else if (ev[i].type == HV_INPUT_REL && ev[i].code == HV_REL_Y)
			m->dy = clamp((int64_t)m->dy - ev[i].value, -ACC_MAX, ACC_MAX);
		else if (ev[i].type == HV_INPUT_REL && ev[i].code == HV_REL_WHEEL && m->id == 3)
			m->dz = clamp((int64_t)m->dz - ev[i].value, -ACC_MAX, ACC_MAX);
	}
	if (m->remote)
		return; /* kept for 0xeb */
	if (!m->enabled || m->wrap) {
		m->dx = m->dy = m->dz = 0; /* not reporting: motion is lost */
		return;
	}
	if (m->buttons != before && !m->dx && !m->dy && !m->dz)
		packet(m, 1, seq);
	for (int i = 1; (m->dx || m->dy || m->dz) && i <= SPLIT_MAX; i++)
		packet(m, i == SPLIT_MAX, seq);
}

static void defaults(struct ps2mouse *m)
{
	m->rate = 100;
	m->res = 2; /* 4 counts/mm */
	m->scale21 = m->enabled = m->remote = 0;
	m->dx = m->dy = m->dz = 0;
}

void ps2mouse_reset(struct ps2mouse *m)
{
	memset(m, 0, sizeof(*m));
	defaults(m);
}

static int rate_ok(uint8_t r)
{
	return r == 10 || r == 20 || r == 40 || r == 60 || r == 80 || r == 100 || r == 200;
}

static void argument(struct ps2mouse *m, uint8_t cmd, uint8_t v, uint16_t *seq)
{
	if (cmd == 0xe8 ? v > 3 : !rate_ok(v)) {
		ps2_reply(&m->d, PS2_RESEND, seq);
		return;
	}
	ps2_reply(&m->d, PS2_ACK, seq);
	if (cmd == 0xe8) {
		m->res = v;
		return;
	}
	m->rate = v;
	memmove(m->knock, m->knock + 1, 2);
	m->knock[2] = v;
	if (m->knock[0] == 200 && m->knock[1] == 100 && m->knock[2] == 80)
		m->id = 3; /* IntelliMouse: a wheel */
}

static void status(struct ps2mouse *m, uint16_t *seq)
{
	uint8_t b = (uint8_t)(m->remote << 6 | m->enabled << 5 | m->scale21 << 4);

	/* the status byte orders the buttons left, middle, right */
	b |= (uint8_t)((m->buttons & 1) << 2 | (m->buttons & 4) >> 1 | (m->buttons & 2) >> 1);
	ps2_reply(&m->d, b, seq);
	ps2_reply(&m->d, m->res, seq);
	ps2_reply(&m->d, m->rate, seq);
}

/* A command byte (the argument ones wait in d.pending): 1 if reporting
 * was turned on or off. */
static int command(struct ps2mouse *m, uint8_t v, uint16_t *seq)
{
	uint8_t was = m->enabled;

	switch (v) {
	case 0xe6: m->scale21 = 0; break;
	case 0xe7: m->scale21 = 1; break;
	case 0xe8: case 0xf3: m->d.pending = v; break;
	case 0xe9: ps2_reply(&m->d, PS2_ACK, seq); status(m, seq); return 0;
	case 0xea: m->remote = 0; m->dx = m->dy = m->dz = 0; break;
	case 0xeb: { /* read data: a packet of what moved, as the reply */
		uint8_t b[4];
		unsigned n = packet_build(m, 1, b);

		ps2_reply(&m->d, PS2_ACK, seq);
		for (unsigned i = 0; i < n; i++)
			ps2_reply(&m->d, b[i], seq);
		return 0;
	}
	case 0xec: m->wrap = 0; break;
	case 0xee: m->wrap = 1; break;
	case 0xf0: m->remote = 1; break;
	case 0xf2:
		ps2_reply(&m->d, PS2_ACK, seq);
		ps2_reply(&m->d, m->id, seq);
		return 0;
	case 0xf4: m->enabled = 1; break;
	case 0xf5: m->enabled = 0; break;
	case 0xf6: defaults(m); break;
	case 0xfe: ps2_reply(&m->d, m->d.last, seq); return 0;
	case 0xff:
		defaults(m);
		m->id = 0, m->wrap = 0, m->buttons = 0;
		m->d.data.n = 0;
		ps2_reply(&m->d, PS2_ACK, seq);
		ps2_reply(&m->d, 0xaa, seq);
		ps2_reply(&m->d, 0x00, seq);
		return was;
	default:
		ps2_reply(&m->d, PS2_RESEND, seq);
		return 0;
	}
	ps2_reply(&m->d, PS2_ACK, seq);
	return m->enabled != was;
}

int ps2mouse_write(struct ps2mouse *m, uint8_t v, uint16_t *seq)
{
	uint8_t p = m->d.pending;

	m->d.pending = 0;
	if (p && v < 0xe6) { /* 0xe8's and 0xf3's argument (rates up to 200) */
		argument(m, p, v, seq);
		return 0;
	}
	if (m->wrap && v != 0xec && v != 0xff) {
		ps2_reply(&m->d, v, seq); /* wrap mode echoes */
		return 0;
	}
	m->d.reply.n = 0;
	if (v == 0xf4 || v == 0xf5)
		m->d.data.n = 0; /* enabling and disabling clear the buffer */
	return command(m, v, seq);
}

int ps2mouse_valid(const struct ps2mouse *m)
{
	return ps2q_ok(&m->d.reply) && ps2q_ok(&m->d.data) && (m->id == 0 || m->id == 3) &&
	       m->res <= 3 && (!m->d.pending || m->d.pending == 0xe8 || m->d.pending == 0xf3) &&
	       m->buttons <= 7 && m->dx >= -ACC_MAX && m->dx <= ACC_MAX &&
	       m->dy >= -ACC_MAX && m->dy <= ACC_MAX && m->dz >= -ACC_MAX && m->dz <= ACC_MAX;
}
