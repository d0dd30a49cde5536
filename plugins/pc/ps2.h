/*
 * The two PS/2 devices behind the i8042 (ps2kbd.c, ps2mouse.c) and what
 * the controller (i8042.c) needs of them. Each device answers commands in
 * a small reply queue that goes out before its data queue (a device
 * answers a command before it sends more of what it had buffered, the way
 * libps2 expects); both queues are bounded: a byte, key sequence or mouse
 * packet that does not fit is dropped whole, the queue never grows.
 *
 * Every byte a device queues carries a stamp from the controller's
 * counter, so the controller hands the two devices' bytes to the guest in
 * the order they were produced. All of it is plain data (no pointers):
 * the controller saves it as it is and checks it on restore.
 */
#ifndef HV_PLUGINS_PC_PS2_H
#define HV_PLUGINS_PC_PS2_H

#include <stdint.h>

#include <hv/input.h>

#define PS2_QLEN 128u
#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe

struct ps2q {
	uint8_t byte[PS2_QLEN];
	uint16_t tag[PS2_QLEN]; /* device queues: the stamp; the controller's: the port */
	uint8_t head, n;
};

static inline unsigned ps2q_room(const struct ps2q *q)
{
	return PS2_QLEN - q->n;
}

static inline void ps2q_put(struct ps2q *q, uint8_t b, uint16_t tag)
{
	unsigned i = (q->head + q->n) % PS2_QLEN;

	if (q->n >= PS2_QLEN)
		return;
	q->byte[i] = b, q->tag[i] = tag;
	q->n++;
}

static inline uint8_t ps2q_get(struct ps2q *q)
{
	uint8_t b = q->byte[q->head];

	q->head = (uint8_t)((q->head + 1) % PS2_QLEN);
	q->n--;
	return b;
}

static inline int ps2q_ok(const struct ps2q *q)
{
	return q->head < PS2_QLEN && q->n <= PS2_QLEN;
}

/* What both devices share: their queues and the command in progress. */
struct ps2dev {
	struct ps2q reply, data;
	uint8_t last;    /* the last byte handed to the controller (0xfe resends it) */
	uint8_t pending; /* a command waiting for its argument byte, or 0 */
};

/* Queue a reply byte; the stamp comes from *seq. */
static inline void ps2_reply(struct ps2dev *d, uint8_t b, uint16_t *seq)
{
	ps2q_put(&d->reply, b, (*seq)++);
}

/* The stamp of the device's next byte: 0 when it has none. */
static inline int ps2_peek(const struct ps2dev *d, uint16_t *stamp)
{
	const struct ps2q *q = d->reply.n ? &d->reply : &d->data;

	if (!q->n)
		return 0;
	*stamp = q->tag[q->head];
	return 1;
}

static inline uint8_t ps2_take(struct ps2dev *d)
{
	d->last = ps2q_get(d->reply.n ? &d->reply : &d->data);
	return d->last;
}

/* ---- the keyboard (ps2kbd.c) ---- */
struct ps2kbd {
	struct ps2dev d;
	uint8_t set;      /* scancode set 1, 2 or 3 */
	uint8_t scanning; /* 0xf4 / 0xf5 */
	uint8_t leds, typematic;
};

void ps2kbd_reset(struct ps2kbd *k);
/* A byte the host wrote to the keyboard (port 0x60). */
void ps2kbd_write(struct ps2kbd *k, uint8_t v, uint16_t *seq);
/* An evdev key going down (value 1), repeating (2) or up (0). */
void ps2kbd_key(struct ps2kbd *k, unsigned code, int value, uint16_t *seq);
int ps2kbd_valid(const struct ps2kbd *k);
/* The 8042's set 2 -> set 1 translation of one byte (no break prefix). */
uint8_t ps2_xlate(uint8_t b);

/* ---- the mouse (ps2mouse.c) ---- */
struct ps2mouse {
	struct ps2dev d;
	uint8_t rate, res, scale21, enabled, remote, wrap, id;
	uint8_t knock[3]; /* the last sample rates set, newest last */
	uint8_t buttons;  /* bit 0 left, 1 right, 2 middle: packet order */
	int32_t dx, dy, dz; /* motion not yet sent (remote mode, splits) */
};

void ps2mouse_reset(struct ps2mouse *m);
/* A byte the host sent the mouse (0xd4): 1 if it turned data reporting
 * on or off (m->enabled says which), else 0. */
int ps2mouse_write(struct ps2mouse *m, uint8_t v, uint16_t *seq);
/* One batch of relative motion, wheel and button events. */
void ps2mouse_events(struct ps2mouse *m, const struct hv_input_event *ev,
		     unsigned n, uint16_t *seq);
int ps2mouse_valid(const struct ps2mouse *m);

#endif
