/*
 * The 8259A master/slave pair (ports 20h/A0h, ELCR 4D0h/4D1h) as a PC
 * wires it: slave on master IRQ 2, edge or level per ELCR. Enough of the
 * initialization words, OCW2 EOIs, OCW3 register reads and poll mode for
 * BIOS-less guests and Linux. Called under emu_vm.lock.
 */
#include <string.h>

#include "chipset.h"

void pic_reset(struct pic8259 *p)
{
	uint8_t elcr = p->elcr;

	memset(p, 0, sizeof(*p));
	p->elcr = elcr;
	p->imr = 0xff;
}

/* Highest-priority set bit (IRQ 0 first; no rotation). */
static int prio(uint8_t bits)
{
	return bits ? __builtin_ctz(bits) : -1;
}

static int pic_pending(const struct pic8259 *p)
{
	int irq = prio(p->irr & ~p->imr), in = prio(p->isr);

	if (irq < 0)
		return -1;
	/* an in-service IRQ of higher or equal priority blocks */
	if (in >= 0 && in <= irq && !p->special_mask)
		return -1;
	return irq;
}

static void update_cascade(struct emu_vm *e)
{
	int out = pic_pending(&e->pic[1]) >= 0;

	if (out)
		e->pic[0].irr |= 4;
	else if (!(e->pic[0].elcr & 4))
		e->pic[0].irr &= ~4;
	else
		e->pic[0].irr &= ~4;
}

static void set_line(struct pic8259 *p, unsigned irq, int level)
{
	uint8_t m = (uint8_t)(1u << irq);

	if (p->elcr & m) {
		if (level)
			p->irr |= m;
		else
			p->irr &= ~m;
	} else if (level && !(p->level & m)) {
		p->irr |= m; /* rising edge */
	}
	if (level)
		p->level |= m;
	else
		p->level &= ~m;
}

void pic_set_irq(struct emu_vm *e, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	set_line(&e->pic[irq >> 3], irq & 7, level);
	update_cascade(e);
}

int pic_output(struct emu_vm *e)
{
	update_cascade(e);
	return pic_pending(&e->pic[0]) >= 0;
}

static int ack_one(struct pic8259 *p, int irq)
{
	uint8_t m = (uint8_t)(1u << irq);

	if (!(p->auto_eoi))
		p->isr |= m;
	/* edge-triggered requests are consumed; level ones stay while high */
	if (!(p->elcr & m) || !(p->level & m))
		p->irr &= ~m;
	return p->vbase + irq;
}

int pic_ack(struct emu_vm *e)
{
	int irq = pic_pending(&e->pic[0]), v;

	if (irq < 0)
		return e->pic[0].vbase + 7; /* spurious */
	if (irq == 2) {
		int s = pic_pending(&e->pic[1]);

		ack_one(&e->pic[0], 2);
		v = s < 0 ? e->pic[1].vbase + 7 : ack_one(&e->pic[1], s);
	} else {
		v = ack_one(&e->pic[0], irq);
	}
	update_cascade(e);
	return v;
}

static void write_cmd(struct pic8259 *p, uint8_t v)
{
	if (v & 0x10) { /* ICW1 */
		p->icw_step = 1;
		p->icw4 = v & 1;
		p->imr = 0;
		p->isr = 0;
		p->irr &= p->elcr; /* pending edges are dropped */
		p->rsel = 0;
		p->special_mask = 0;
		p->init = 1;
		return;
	}
	if (v & 0x08) { /* OCW3 */
		if (v & 2)
			p->rsel = v & 1;
		if (v & 0x40)
			p->special_mask = (v >> 5) & 1;
		p->poll = (v >> 2) & 1;
		return;
	}
	/* OCW2 */
	switch (v >> 5) {
	case 1: case 5: /* non-specific EOI */
		if (p->isr)
			p->isr &= ~(1u << prio(p->isr));
		break;
	case 3: case 7: /* specific EOI */
		p->isr &= ~(1u << (v & 7));
		break;
	}
}

static void write_data(struct pic8259 *p, uint8_t v)
{
	switch (p->icw_step) {
	case 1:
		p->vbase = v & 0xf8;
		p->icw_step = 2;
		return;
	case 2:
		p->icw_step = p->icw4 ? 3 : 0;
		return;
	case 3:
		p->auto_eoi = (v >> 1) & 1;
		p->icw_step = 0;
		return;
	}
	p->imr = v;
}

static uint64_t pic_read(struct emu_vm *e, int idx, uint64_t off)
{
	struct pic8259 *p = &e->pic[idx];
	uint64_t r;

	pthread_mutex_lock(&e->lock);
	if (p->poll) {
		int irq = pic_pending(p);

		p->poll = 0;
		r = irq < 0 ? 0 : (0x80 | irq);
		if (irq >= 0)
			ack_one(p, irq);
	} else if (off & 1) {
		r = p->imr;
	} else {
		r = p->rsel ? p->isr : p->irr;
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

static void pic_write(struct emu_vm *e, int idx, uint64_t off, uint64_t v)
{
	struct pic8259 *p = &e->pic[idx];

	pthread_mutex_lock(&e->lock);
	if (off & 1)
		write_data(p, (uint8_t)v);
	else
		write_cmd(p, (uint8_t)v);
	update_cascade(e);
	pthread_mutex_unlock(&e->lock);
	/* an unmask or EOI may let a pending IRQ through */
	if (e->ncpus)
		emu_vcpu_wake(e->cpus[0]);
}

static uint64_t master_read(struct hv_ctx *c, void *o, uint64_t off, unsigned sz)
{
	return pic_read(o, 0, off);
}

static void master_write(struct hv_ctx *c, void *o, uint64_t off, unsigned sz,
			 uint64_t v)
{
	pic_write(o, 0, off, v);
}

static uint64_t slave_read(struct hv_ctx *c, void *o, uint64_t off, unsigned sz)
{
	return pic_read(o, 1, off);
}

static void slave_write(struct hv_ctx *c, void *o, uint64_t off, unsigned sz,
			uint64_t v)
{
	pic_write(o, 1, off, v);
}

const struct hv_region_ops pic_master_ops = {
	.min_access = 1, .max_access = 1, .read = master_read, .write = master_write,
};

const struct hv_region_ops pic_slave_ops = {
	.min_access = 1, .max_access = 1, .read = slave_read, .write = slave_write,
};

static uint64_t elcr_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct emu_vm *e = opaque;

	return e->pic[off & 1].elcr;
}

static void elcr_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t v)
{
	struct emu_vm *e = opaque;

	pthread_mutex_lock(&e->lock);
	/* IRQ 0, 1, 2, 8 and 13 are always edge-triggered */
	e->pic[off & 1].elcr = (uint8_t)v & ((off & 1) ? 0xde : 0xf8);
	pthread_mutex_unlock(&e->lock);
}

const struct hv_region_ops elcr_ops = {
	.min_access = 1, .max_access = 1, .read = elcr_read, .write = elcr_write,
};
