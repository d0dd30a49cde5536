/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio spec 5.8; PCI 1af4:1052, Linux virtio_input): a
 * tablet, a keyboard or a mouse (`type =`) on the SDK's virtio transport.
 *
 * The config space answers the driver's select/subsel with the device's
 * name, serial, ids, properties, event bits and the tablet's axis ranges.
 * Events from the VM's input sink go to the eventq, one 8-byte
 * virtio_input_event per buffer, each batch followed by a SYN_REPORT.
 * Reports wait in a bounded ring while the driver has no buffers posted;
 * a report that does not fit pushes out the oldest whole reports, and a
 * report is only delivered when buffers for all of it are there, so the
 * driver never sees part of one. The statusq carries LED changes from
 * the driver: taken and logged at debug level.
 *
 * Errors: an eventq buffer shorter than an event is a driver bug; every
 * buffer popped for that report goes back unwritten and the device enters
 * NEEDS_RESET (the transport also refuses malformed chains that way).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hv/hv.h>
#include <hv/input.h>
#include <hv/virtio.h>

#define VIRTIO_ID_INPUT 18

/* config selects (spec 5.8.4) */
#define CFG_UNSET 0x00
#define CFG_ID_NAME 0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS 0x11
#define CFG_ABS_INFO 0x12

/* evdev */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BUS_VIRTUAL 0x06

#define QSIZE 64
#define RING 256                      /* events waiting for buffers */
#define REPORT_MAX (HV_INPUT_BATCH_MAX + 1) /* a batch and its SYN_REPORT */
#define STATE_VERSION 1

enum { T_TABLET, T_KEYBOARD, T_MOUSE };

struct vin_config {
	uint8_t select, subsel, size, reserved[5];
	union {
		char string[128];
		uint8_t bitmap[128];
		struct { uint32_t min, max, fuzz, flat, res; } abs;
		struct { uint16_t bustype, vendor, product, version; } ids;
	} u;
} __attribute__((packed));

struct vin_event {
	uint16_t type, code;
	uint32_t value;
};

/* What the guest can see and the reports in flight: saved as it is. */
struct vin_state {
	uint8_t type, live, select, subsel;
	uint16_t head, n;
	struct vin_event ring[RING];
};

struct vin {
	struct vin_state s;
	struct hv_ctx *ctx;
	struct hv_virtio *vio;
	struct hv_input *in;
	struct vin_config cfg;
	char serial[64];
	struct hv_virtq_elem elem[REPORT_MAX];
	struct iovec iov[REPORT_MAX][4];
	struct hv_virtq_elem status_elem;
	struct iovec status_iov[4];
};

static const char *const names[] = { "hv virtio tablet", "hv virtio keyboard",
				     "hv virtio mouse" };

/* ---- config space ---- */

static void bit_set(struct vin_config *c, unsigned bit)
{
	c->u.bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (c->size < bit / 8 + 1)
		c->size = (uint8_t)(bit / 8 + 1);
}

static void ev_bits(struct vin *v, unsigned ev)
{
	struct vin_config *c = &v->cfg;
	int t = v->s.type;

	if (ev == EV_KEY && t == T_KEYBOARD)
		for (unsigned k = 1; k < 256; k++)
			bit_set(c, k);
	else if (ev == EV_KEY)
		for (unsigned k = BTN_LEFT; k <= BTN_MIDDLE; k++)
			bit_set(c, k);
	else if (ev == EV_REL && t == T_MOUSE)
		bit_set(c, HV_REL_X), bit_set(c, HV_REL_Y), bit_set(c, HV_REL_WHEEL);
	else if (ev == EV_REL && t == T_TABLET)
		bit_set(c, HV_REL_WHEEL);
	else if (ev == EV_ABS && t == T_TABLET)
		bit_set(c, HV_ABS_X), bit_set(c, HV_ABS_Y);
	else if (ev == EV_LED && t == T_KEYBOARD)
		bit_set(c, 0), bit_set(c, 1), bit_set(c, 2); /* num, caps, scroll */
	else if (ev == EV_REP && t == T_KEYBOARD)
		bit_set(c, 0); /* non-empty: the driver sets EV_REP */
}

/* Fill size and the union for the driver's select/subsel. */
static void config_select(struct vin *v)
{
	struct vin_config *c = &v->cfg;
	const char *str = NULL;

	c->select = v->s.select, c->subsel = v->s.subsel, c->size = 0;
	memset(&c->u, 0, sizeof(c->u));
	switch (c->select) {
	case CFG_ID_NAME: str = c->subsel ? NULL : names[v->s.type]; break;
	case CFG_ID_SERIAL: str = c->subsel ? NULL : v->serial; break;
	case CFG_ID_DEVIDS:
		if (c->subsel)
			break;
		c->u.ids.bustype = htole16(BUS_VIRTUAL);
		c->u.ids.vendor = htole16(HV_VIRTIO_PCI_VENDOR);
		c->u.ids.product = htole16((uint16_t)(0x100 + v->s.type));
		c->u.ids.version = htole16(1);
		c->size = sizeof(c->u.ids);
		break;
	case CFG_EV_BITS: ev_bits(v, c->subsel); break;
	case CFG_ABS_INFO:
		if (v->s.type != T_TABLET || c->subsel > HV_ABS_Y)
			break;
		c->u.abs.max = htole32(HV_INPUT_ABS_MAX);
		c->size = sizeof(c->u.abs);
		break;
	}
	if (str) {
		snprintf(c->u.string, sizeof(c->u.string), "%s", str);
		c->size = (uint8_t)strlen(c->u.string);
	}
}

static void vin_config_write(struct hv_ctx *ctx, void *opaque, unsigned off,
			     unsigned size, uint32_t value)
{
	struct vin *v = opaque;

	for (unsigned i = 0; i < size; i++, value >>= 8) {
		if (off + i == 0)
			v->s.select = (uint8_t)value;
		else if (off + i == 1)
			v->s.subsel = (uint8_t)value;
	}
	if (off < 2)
		config_select(v);
}

/* ---- events ---- */

/* Does the device's type report this event? (codes are checked so the
 * driver never gets one its bits did not announce) */
static int takes(const struct vin *v, const struct hv_input_event *e)
{
	int btn = e->type == HV_INPUT_KEY && e->code >= BTN_LEFT && e->code <= BTN_MIDDLE;

	switch (v->s.type) {
	case T_KEYBOARD: return e->type == HV_INPUT_KEY && e->code >= 1 && e->code < 256;
	case T_MOUSE:
		return btn || (e->type == HV_INPUT_REL &&
			       (e->code == HV_REL_X || e->code == HV_REL_Y ||
				e->code == HV_REL_WHEEL));
	default:
		return btn || (e->type == HV_INPUT_REL && e->code == HV_REL_WHEEL) ||
		       (e->type == HV_INPUT_ABS && e->code <= HV_ABS_Y);
	}
}

static struct vin_event *ring_at(struct vin *v, unsigned i)
{
	return &v->s.ring[(v->s.head + i) % RING];
}

/* Events in the oldest report (up to and with its SYN_REPORT). */
static unsigned report_len(struct vin *v)
{
	for (unsigned i = 0; i < v->s.n; i++)
		if (ring_at(v, i)->type == htole16(EV_SYN))
			return i + 1;
	return v->s.n;
}

static void ring_drop(struct vin *v, unsigned n)
{
	v->s.head = (uint16_t)((v->s.head + n) % RING);
	v->s.n = (uint16_t)(v->s.n - n);
}

static void ring_put(struct vin *v, uint16_t type, uint16_t code, int32_t value)
{
	struct vin_event *e = ring_at(v, v->s.n++);

	e->type = htole16(type), e->code = htole16(code), e->value = htole32((uint32_t)value);
}

/* Every popped element of a report back unwritten, the device broken. */
static void report_fail(struct vin *v, struct hv_virtq *vq, unsigned got)
{
	for (unsigned i = 0; i < got; i++)
		hv_virtq_push(vq, &v->elem[i], 0);
	hv_virtq_flush(vq);
	hv_virtio_needs_reset(v->vio, "virtio-input: an eventq buffer shorter than an event");
	v->s.n = 0;
}

/* Deliver whole reports while the driver has buffers for them. */
static void deliver(struct vin *v)
{
	struct hv_virtq *vq = hv_virtio_queue(v->vio, 0);
	int pushed = 0;

	while (v->s.live && v->s.n && hv_virtq_enabled(vq)) {
		unsigned len = report_len(v), got = 0;

		while (got < len && hv_virtq_pop(vq, &v->elem[got]) == 1) {
			if (v->elem[got++].in_len < sizeof(struct vin_event)) {
				report_fail(v, vq, got);
				return;
			}
		}
		if (got < len) { /* not enough buffers yet: wait for the driver */
			while (got)
				hv_virtq_unpop(vq, &v->elem[--got]);
			break;
		}
		for (unsigned i = 0; i < len; i++) {
			hv_iov_from_buf(v->elem[i].in, v->elem[i].in_num, 0, ring_at(v, i),
					sizeof(struct vin_event));
			hv_virtq_push(vq, &v->elem[i], sizeof(struct vin_event));
		}
		ring_drop(v, len);
		pushed = 1;
	}
	if (pushed)
		hv_virtq_flush(vq);
}

static void vin_event(struct hv_ctx *ctx, void *opaque,
		      const struct hv_input_event *ev, unsigned n)
{
	struct vin *v = opaque;
	unsigned want = 1;

	if (!v->s.live)
		return;
	for (unsigned i = 0; i < n && i < HV_INPUT_BATCH_MAX; i++)
		want += takes(v, &ev[i]);
	if (want == 1)
		return;
	while (RING - (unsigned)v->s.n < want) /* the oldest reports make room */
		ring_drop(v, report_len(v));
	for (unsigned i = 0; i < n && i < HV_INPUT_BATCH_MAX; i++) {
		int32_t val = ev[i].value;

		if (!takes(v, &ev[i]))
			continue;
		if (ev[i].type == HV_INPUT_ABS)
			val = val < 0 ? 0 : val > HV_INPUT_ABS_MAX ? HV_INPUT_ABS_MAX : val;
		ring_put(v, ev[i].type, ev[i].code, val);
	}
	ring_put(v, EV_SYN, 0, 0);
	deliver(v);
}

static const struct hv_input_cbs cbs = { .event = vin_event };

/* The driver's LED changes: nothing to light on the host. */
static void status_run(struct vin *v, struct hv_virtq *vq)
{
	struct hv_virtq_elem *e = &v->status_elem;
	struct vin_event ev;

	while (hv_virtq_pop(vq, e) == 1) {
		if (hv_iov_to_buf(e->out, e->out_num, 0, &ev, sizeof(ev)) == sizeof(ev))
			hv_debug(v->ctx, "statusq: type %u code %u value %u", le16toh(ev.type),
				 le16toh(ev.code), le32toh(ev.value));
		hv_virtq_push(vq, e, 0);
	}
	hv_virtq_flush(vq);
}

static void vin_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	struct vin *v = opaque;

	if (hv_virtq_index(vq) == 0)
		deliver(v);
	else
		status_run(v, vq);
}

static void set_live(struct vin *v, int on)
{
	v->s.live = (uint8_t)on;
	if (!on)
		v->s.head = v->s.n = 0;
	if (v->in)
		hv_input_active(v->ctx, v->in, on);
}

static void vin_vreset(struct hv_ctx *ctx, void *opaque)
{
	set_live(opaque, 0);
}

static void vin_driver_ok(struct hv_ctx *ctx, void *opaque)
{
	set_live(opaque, 1);
}

static const struct hv_virtio_ops vops = {
	.notify = vin_notify,
	.reset = vin_vreset,
	.config_write = vin_config_write,
	.driver_ok = vin_driver_ok,
};

/* ---- the device ---- */

static int type_of(const char *s)
{
	return !strcmp(s, "keyboard") ? T_KEYBOARD : !strcmp(s, "mouse") ? T_MOUSE : T_TABLET;
}

static const unsigned type_caps[] = { HV_INPUT_CAP_ABS, HV_INPUT_CAP_KEY, HV_INPUT_CAP_REL };

static int vin_create(struct hv_ctx *ctx)
{
	struct vin *v = HV_STATE(ctx, struct vin);
	int rc;

	v->ctx = ctx;
	v->s.type = (uint8_t)type_of(hv_config_get_str(ctx, "type"));
	snprintf(v->serial, sizeof(v->serial), "hv-%s", ctx->name);
	for (unsigned i = 0; i < REPORT_MAX; i++)
		hv_virtq_elem_init(&v->elem[i], v->iov[i], 4);
	hv_virtq_elem_init(&v->status_elem, v->status_iov, 4);
	config_select(v);
	struct hv_virtio_info info = {
		.device_type = VIRTIO_ID_INPUT, .num_queues = 2, .queue_size_max = QSIZE,
		.class_code = 0x098000, /* input device, other */
		.flags = HV_VIRTIO_NOTIFY_MAIN, .config = &v->cfg,
		.config_size = sizeof(v->cfg), .ops = &vops, .opaque = v,
	};
	if ((rc = hv_virtio_pci_create(ctx, &info, &v->vio)))
		return rc;
	rc = hv_input_register(ctx, type_caps[v->s.type], &cbs, sizeof(cbs), v, &v->in);
	if (rc == -ENOSYS) {
		hv_warn(ctx, "this hv has no input routing: the %s gets no events",
			names[v->s.type] + 3);
		v->in = NULL;
		rc = 0;
	} else if (rc) {
		hv_error(ctx, "input: %s", strerror(-rc));
		hv_virtio_destroy(v->vio);
	}
	return rc;
}

static void vin_destroy(struct hv_ctx *ctx)
{
	hv_virtio_destroy(HV_STATE(ctx, struct vin)->vio);
}

static void vin_reset(struct hv_ctx *ctx)
{
	struct vin *v = HV_STATE(ctx, struct vin);

	hv_virtio_reset(v->vio);
	set_live(v, 0);
	v->s.select = v->s.subsel = 0;
	config_select(v);
}

static int vin_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vin *v = HV_STATE(ctx, struct vin);
	uint32_t ver = STATE_VERSION;
	int rc;

	if ((rc = hv_state_write(ctx, st, &ver, sizeof(ver))) ||
	    (rc = hv_state_write(ctx, st, &v->s, sizeof(v->s))))
		return rc;
	return hv_virtio_save(v->vio, st);
}

static int vin_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vin *v = HV_STATE(ctx, struct vin);
	struct vin_state s;
	uint32_t ver;
	int rc;

	if ((rc = hv_state_read(ctx, st, &ver, sizeof(ver))) ||
	    (rc = hv_state_read(ctx, st, &s, sizeof(s))))
		return rc;
	if (ver != STATE_VERSION || s.type != v->s.type || s.head >= RING || s.n > RING)
		return -EINVAL;
	v->s = s;
	config_select(v);
	if ((rc = hv_virtio_restore(v->vio, st)))
		return rc;
	if (v->in)
		hv_input_active(ctx, v->in, v->s.live);
	hv_virtio_kick(v->vio);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = vin_create,
	.destroy = vin_destroy,
	.reset = vin_reset,
	.save = vin_save,
	.restore = vin_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_CHOICE("type", "tablet", "tablet|keyboard|mouse",
		      "tablet: absolute pointer; keyboard; mouse: relative pointer"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(virtio-input, device, &ops,
		 .version = "1.0",
		 .description = "virtio 1.x input device (PCI 1af4:1052): tablet, keyboard or mouse",
		 .instance_size = sizeof(struct vin),
		 .keys = keys);
