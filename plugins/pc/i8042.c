/*
 * The PC's i8042 keyboard controller at ports 0x60/0x64 with a PS/2
 * keyboard on its first port and a PS/2 mouse on the second (ps2kbd.c,
 * ps2mouse.c): the controller commands firmware and Linux's i8042 driver
 * use, the command byte's interrupt enables, port disables and set 2 ->
 * set 1 translation, and the reset line (command 0xfe, or an output port
 * write with bit 0 clear, resets the VM).
 *
 * One output buffer: when the guest has read it, the controller refills
 * it with its own replies first, then the oldest byte either device has
 * for a port that is not disabled. IRQ1 is raised while it holds a
 * keyboard or controller byte and IRQ12 while it holds a mouse byte
 * (status AUXB), each if the command byte enables it; the line drops when
 * the byte is read, so every byte is one edge.
 *
 * Input: the keyboard is an input sink (HV_INPUT_CAP_KEY) active from
 * reset, the mouse one (HV_INPUT_CAP_REL) active while it streams. Both
 * run under this device's lock, as the port accesses do.
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

#include "ps2.h"

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08   /* A2: the last write was to 0x64 */
#define ST_UNLOCK 0x10
#define ST_AUXB 0x20  /* the output buffer holds a mouse byte */

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

#define PORT_KBD 0 /* the controller queue's tags: which port a byte is for */
#define PORT_AUX 1
#define IRQ_KBD 1
#define IRQ_AUX 12
#define STATE_VERSION 2

/* Everything the guest can see: saved as it is. */
struct kbc_state {
	uint8_t status, ctr, pending, outport;
	uint8_t obuf;     /* the output buffer (valid with ST_OBF) */
	uint8_t xlate_f0; /* translation saw a set 2 break prefix */
	uint8_t irq_kbd, irq_aux;
	uint16_t seq;     /* stamps the devices' bytes in order */
	struct ps2q ctl;  /* the controller's own replies, tagged with their port */
	struct ps2kbd kbd;
	struct ps2mouse mouse;
};

struct kbc {
	struct kbc_state s;
	struct hv_ctx *ctx;
	struct hv_input *kbd_in, *mouse_in;
};

static void irq_update(struct kbc *k, int force)
{
	struct kbc_state *s = &k->s;
	int obf = s->status & ST_OBF, aux = s->status & ST_AUXB;
	uint8_t kl = obf && !aux && (s->ctr & CTR_KBDINT);
	uint8_t al = obf && aux && (s->ctr & CTR_AUXINT);

	if (force || kl != s->irq_kbd)
		hv_irq_set(k->ctx, IRQ_KBD, kl);
	if (force || al != s->irq_aux)
		hv_irq_set(k->ctx, IRQ_AUX, al);
	s->irq_kbd = kl, s->irq_aux = al;
}

/* The port of the next device byte to deliver, or -1. */
static int next_port(const struct kbc_state *s)
{
	uint16_t tk, ta;
	int k = !(s->ctr & CTR_KBDDIS) && ps2_peek(&s->kbd.d, &tk);
	int a = !(s->ctr & CTR_AUXDIS) && ps2_peek(&s->mouse.d, &ta);

	if (k && a)
		return (int16_t)(uint16_t)(tk - ta) <= 0 ? PORT_KBD : PORT_AUX;
	return k ? PORT_KBD : a ? PORT_AUX : -1;
}

/* A keyboard byte through the 8042's translation: 0 if it is swallowed
 * (a break prefix, folded into the next byte). */
static int translate(struct kbc_state *s, uint8_t *b)
{
	if (!(s->ctr & CTR_XLATE))
		return 1;
	if (*b == 0xf0) {
		s->xlate_f0 = 1;
		return 0;
	}
	*b = (uint8_t)(ps2_xlate(*b) | (s->xlate_f0 ? 0x80 : 0));
	s->xlate_f0 = 0;
	return 1;
}

/* Fill an empty output buffer, then set the interrupt lines. */
static void refill(struct kbc *k)
{
	struct kbc_state *s = &k->s;

	while (!(s->status & ST_OBF)) {
		int port;
		uint8_t b;

		if (s->ctl.n) {
			port = s->ctl.tag[s->ctl.head];
			b = ps2q_get(&s->ctl);
		} else if ((port = next_port(s)) == PORT_KBD) {
			b = ps2_take(&s->kbd.d);
			if (!translate(s, &b))
				continue;
		} else if (port == PORT_AUX) {
			b = ps2_take(&s->mouse.d);
		} else {
			break;
		}
		s->obuf = b;
		s->status = (uint8_t)((s->status & ~ST_AUXB) | ST_OBF | (port == PORT_AUX ? ST_AUXB : 0));
	}
	irq_update(k, 0);
}

static void ctl_reply(struct kbc *k, uint8_t b, int port)
{
	ps2q_put(&k->s.ctl, b, (uint16_t)port);
}

static uint64_t status_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			    unsigned size)
{
	return ((struct kbc *)opaque)->s.status;
}

static uint64_t data_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct kbc *k = opaque;
	uint8_t v = k->s.obuf; /* an empty buffer reads its last byte again */

	k->s.status &= (uint8_t)~(ST_OBF | ST_AUXB);
	irq_update(k, 0); /* the line drops, so the next byte is an edge */
	refill(k);
	return v;
}

static void reset_line(struct hv_ctx *ctx)
{
	hv_info(ctx, "the guest pulsed the reset line");
	hv_vm_request(ctx, HV_VM_RESET, 0);
}

static void ctr_write(struct kbc *k, uint8_t v)
{
	k->s.ctr = v;
	k->s.status = (uint8_t)((k->s.status & ~ST_SYS) | (v & CTR_SYS ? ST_SYS : 0));
}

static void command(struct hv_ctx *ctx, void *opaque, uint64_t off,
		    unsigned size, uint64_t val)
{
	struct kbc *k = opaque;
	struct kbc_state *s = &k->s;
	uint8_t c = (uint8_t)val;

	s->status |= ST_CMD;
	s->pending = 0;
	switch (c) {
	case 0x20: ctl_reply(k, s->ctr, PORT_KBD); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		s->pending = c; break;
	case 0xa7: s->ctr |= CTR_AUXDIS; break;
	case 0xa8: s->ctr &= (uint8_t)~CTR_AUXDIS; break;
	case 0xad: s->ctr |= CTR_KBDDIS; break;
	case 0xae: s->ctr &= (uint8_t)~CTR_KBDDIS; break;
	case 0xaa: s->status |= ST_SYS; ctl_reply(k, 0x55, PORT_KBD); break; /* self-test */
	case 0xa9: case 0xab: ctl_reply(k, 0x00, PORT_KBD); break; /* port tests */
	case 0xc0: case 0xe0: ctl_reply(k, 0x00, PORT_KBD); break; /* input port, test inputs */
	case 0xd0: ctl_reply(k, s->outport, PORT_KBD); break;
	case 0xfe: reset_line(ctx); break;
	default:
		if (c >= 0xf0 && !(c & 1)) /* pulse output bits: bit 0 is reset */
			reset_line(ctx);
	}
	refill(k);
}

static void data(struct hv_ctx *ctx, void *opaque, uint64_t off,
		 unsigned size, uint64_t val)
{
	struct kbc *k = opaque;
	struct kbc_state *s = &k->s;
	uint8_t p = s->pending, v = (uint8_t)val;

	s->status &= (uint8_t)~ST_CMD;
	s->pending = 0;
	switch (p) {
	case 0x60: ctr_write(k, v); break;
	case 0xd1:
		s->outport = v;
		if (!(v & 1))
			reset_line(ctx);
		break;
	case 0xd2: ctl_reply(k, v, PORT_KBD); break; /* as if the keyboard sent it */
	case 0xd3: ctl_reply(k, v, PORT_AUX); break; /* as if the mouse sent it */
	case 0xd4:
		if (ps2mouse_write(&s->mouse, v, &s->seq) && k->mouse_in)
			hv_input_active(ctx, k->mouse_in, s->mouse.enabled);
		break;
	default: ps2kbd_write(&s->kbd, v, &s->seq);
	}
	refill(k);
}

static void kbd_event(struct hv_ctx *ctx, void *opaque,
		      const struct hv_input_event *ev, unsigned n)
{
	struct kbc *k = opaque;

	for (unsigned i = 0; i < n; i++)
		if (ev[i].type == HV_INPUT_KEY)
			ps2kbd_key(&k->s.kbd, ev[i].code, ev[i].value, &k->s.seq);
	refill(k);
}

static void mouse_event(struct hv_ctx *ctx, void *opaque,
			const struct hv_input_event *ev, unsigned n)
{
	struct kbc *k = opaque;

	ps2mouse_events(&k->s.mouse, ev, n, &k->s.seq);
	refill(k);
}

static const struct hv_input_cbs kbd_cbs = { .event = kbd_event };
static const struct hv_input_cbs mouse_cbs = { .event = mouse_event };

static const struct hv_region_ops data_ops = {
	.min_access = 1, .max_access = 1, .read = data_read, .write = data,
};

static const struct hv_region_ops cmd_ops = {
	.min_access = 1, .max_access = 1, .read = status_read, .write = command,
};

static int sinks_register(struct kbc *k)
{
	int rc = hv_input_register(k->ctx, HV_INPUT_CAP_KEY, &kbd_cbs, sizeof(kbd_cbs), k,
				   &k->kbd_in);

	if (!rc)
		rc = hv_input_register(k->ctx, HV_INPUT_CAP_REL, &mouse_cbs, sizeof(mouse_cbs),
				       k, &k->mouse_in);
	if (rc == -ENOSYS) { /* a core without input: the devices still answer */
		k->kbd_in = k->mouse_in = NULL;
		return 0;
	}
	if (rc)
		hv_error(k->ctx, "input: %s", strerror(-rc));
	return rc;
}

static int kbc_create(struct hv_ctx *ctx)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);
	int rc = hv_region_add(ctx, HV_SPACE_PIO, 0x60, 1, &data_ops, k, NULL);

	k->ctx = ctx;
	if (!rc)
		rc = hv_region_add(ctx, HV_SPACE_PIO, 0x64, 1, &cmd_ops, k, NULL);
	if (rc) {
		hv_error(ctx, "ports 0x60/0x64: %s",
			 rc == -EBUSY ? "already taken by another device" : strerror(-rc));
		return rc;
	}
	return sinks_register(k);
}

static void kbc_reset(struct hv_ctx *ctx)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);
	struct kbc_state *s = &k->s;

	memset(s, 0, sizeof(*s));
	s->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	s->status = ST_UNLOCK;
	s->outport = 0x01;
	ps2kbd_reset(&s->kbd);
	ps2mouse_reset(&s->mouse);
	irq_update(k, 1);
	if (k->kbd_in)
		hv_input_active(ctx, k->kbd_in, 1);
	if (k->mouse_in)
		hv_input_active(ctx, k->mouse_in, 0);
}

static int kbc_save(struct hv_ctx *ctx, struct hv_state *st)
{
	uint32_t ver = STATE_VERSION;
	int rc = hv_state_write(ctx, st, &ver, 4);

	return rc ? rc : hv_state_write(ctx, st, &HV_STATE(ctx, struct kbc)->s,
					sizeof(struct kbc_state));
}

static int state_valid(const struct kbc_state *s)
{
	return ps2q_ok(&s->ctl) && ps2kbd_valid(&s->kbd) && ps2mouse_valid(&s->mouse);
}

static int kbc_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct kbc *k = HV_STATE(ctx, struct kbc);
	struct kbc_state s;
	uint32_t ver;
	int rc;

	if ((rc = hv_state_read(ctx, st, &ver, 4)) || ver != STATE_VERSION)
		return rc ? rc : -EINVAL;
	if ((rc = hv_state_read(ctx, st, &s, sizeof(s))))
		return rc;
	if (!state_valid(&s))
		return -EINVAL;
	k->s = s;
	irq_update(k, 1);
	if (k->mouse_in)
		hv_input_active(ctx, k->mouse_in, s.mouse.enabled);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = kbc_create,
	.reset = kbc_reset,
	.save = kbc_save,
	.restore = kbc_restore,
};

HV_PLUGIN_DEFINE(i8042, device, &ops,
		 .version = "2.0",
		 .description = "PC keyboard controller with a PS/2 keyboard and mouse",
		 .instance_size = sizeof(struct kbc));
