/*
 * The 8254 PIT (ports 40h-43h) at 1.193182 MHz, counting from the guest
 * clock, and port 61h: bit 0 gates channel 2, bit 5 reads its OUT (what
 * Linux's TSC calibration polls). Channel 0's output edges go to IRQ 0
 * (PIC) and GSI 2 (I/O APIC, the usual override). Under emu_vm.lock.
 */
#include <string.h>

#include "chipset.h"
#include "vm.h"

#define PIT_HZ 1193182ull

static uint64_t ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000ull);
}

static uint64_t ns_of(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * 1000000000ull + PIT_HZ - 1) / PIT_HZ);
}

static uint32_t period(const struct pit_chan *c)
{
	return c->reload ? c->reload : 0x10000;
}

void pit_reset(struct pit8254 *p, uint64_t now)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 3; i++) {
		p->ch[i].gate = i != 2;
		p->ch[i].start_ns = now;
		p->ch[i].rw = 3;
	}
}

/* Elapsed input clocks since counting started (0 while not armed). */
static uint64_t elapsed(const struct pit_chan *c, uint64_t now)
{
	if (!c->armed || now < c->start_ns)
		return 0;
	return ticks(now - c->start_ns);
}

static uint16_t count_now(const struct pit_chan *c, uint64_t now)
{
	uint64_t t = elapsed(c, now), p = period(c);

	switch (c->mode) {
	case 2: case 3:
		if (c->mode == 3)
			return (uint16_t)((p - (2 * t) % p) & 0xfffe);
		return (uint16_t)(p - t % p);
	default: /* 0, 1, 4, 5: count down once, then wrap */
		return (uint16_t)(p - t);
	}
}

static int out_now(const struct pit_chan *c, uint64_t now)
{
	uint64_t t = elapsed(c, now), p = period(c);

	if (!c->armed)
		return c->mode != 0;
	switch (c->mode) {
	case 0: return t >= p;
	case 2: return t % p != p - 1;
	case 3: return (t % p) < (p + 1) / 2;
	default: return t != p;
	}
}

static void arm(struct pit8254 *pit, int i, uint64_t now)
{
	struct pit_chan *c = &pit->ch[i];

	c->armed = c->gate || i != 2;
	c->start_ns = now;
	c->next_irq = 0;
	if (i == 0 && c->armed)
		c->next_irq = now + ns_of(period(c));
}

uint64_t pit_poll(struct emu_vm *e, uint64_t now)
{
	struct pit_chan *c = &e->pit.ch[0];

	if (!c->next_irq || now < c->next_irq)
		return c->next_irq;
	pic_set_irq(e, 0, 1);
	pic_set_irq(e, 0, 0);
	ioapic_set_irq(e, 2, 1);
	ioapic_set_irq(e, 2, 0);
	if (c->mode == 2 || c->mode == 3) {
		/* periodic: skip missed periods rather than storm */
		uint64_t pns = ns_of(period(c));

		c->next_irq += pns;
		if (c->next_irq <= now)
			c->next_irq = now + pns;
	} else {
		c->next_irq = 0;
	}
	return c->next_irq;
}

static void control(struct pit8254 *pit, uint8_t v, uint64_t now)
{
	int i = v >> 6;
	struct pit_chan *c;

	if (i == 3) { /* read-back: latch counts of the selected channels */
		for (i = 0; i < 3; i++)
			if ((v & (2 << i)) && !(v & 0x20)) {
				pit->ch[i].latch = count_now(&pit->ch[i], now);
				pit->ch[i].latched = 2;
			}
		return;
	}
	c = &pit->ch[i];
	if (((v >> 4) & 3) == 0) {
		if (!c->latched) {
			c->latch = count_now(c, now);
			c->latched = c->rw == 3 ? 2 : 1;
		}
		return;
	}
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = v & 1;
	c->lsb_next_read = c->lsb_next_write = 1;
	c->latched = 0;
	c->armed = 0;
	c->next_irq = 0;
}

static void write_count(struct pit8254 *pit, int i, uint8_t v, uint64_t now)
{
	struct pit_chan *c = &pit->ch[i];

	switch (c->rw) {
	case 1: c->reload = v; break;
	case 2: c->reload = (uint16_t)(v << 8); break;
	default:
		if (c->lsb_next_write) {
			c->wlow = v;
			c->lsb_next_write = 0;
			return;
		}
		c->reload = (uint16_t)(c->wlow | v << 8);
		c->lsb_next_write = 1;
	}
	arm(pit, i, now);
}

static uint8_t read_count(struct pit8254 *pit, int i, uint64_t now)
{
	struct pit_chan *c = &pit->ch[i];
	uint16_t v = c->latched ? c->latch : count_now(c, now);
	int lsb;

	switch (c->rw) {
	case 1: lsb = 1; c->latched = 0; break;
	case 2: lsb = 0; c->latched = 0; break;
	default:
		lsb = c->lsb_next_read;
		c->lsb_next_read ^= 1;
		if (c->latched)
			c->latched--;
	}
	return lsb ? (uint8_t)v : (uint8_t)(v >> 8);
}

static uint64_t now_of(struct emu_vm *e);
static uint64_t pit_read(struct hv_ctx *ctx, void *o, uint64_t off, unsigned sz)
{
	struct emu_vm *e = o;
	uint64_t r = 0xff;

	pthread_mutex_lock(&e->lock);
	if (off < 3)
		r = read_count(&e->pit, (int)off, now_of(e));
	pthread_mutex_unlock(&e->lock);
	return r;
}

static void pit_write(struct hv_ctx *ctx, void *o, uint64_t off, unsigned sz,
		      uint64_t v)
{
	struct emu_vm *e = o;

	pthread_mutex_lock(&e->lock);
	if (off == 3)
		control(&e->pit, (uint8_t)v, now_of(e));
	else
		write_count(&e->pit, (int)off, (uint8_t)v, now_of(e));
	pthread_mutex_unlock(&e->lock);
	if (e->ncpus)
		emu_vcpu_wake(e->cpus[0]); /* re-evaluate the HLT deadline */
}

const struct hv_region_ops pit_ops = {
	.min_access = 1, .max_access = 1, .read = pit_read, .write = pit_write,
};

static uint64_t p61_read(struct hv_ctx *ctx, void *o, uint64_t off, unsigned sz)
{
	struct emu_vm *e = o;
	uint64_t now, r;

	pthread_mutex_lock(&e->lock);
	now = now_of(e);
	r = e->pit.port61 & 0x0f;
	if (out_now(&e->pit.ch[2], now))
		r |= 0x20;
	/* refresh request toggles every 15 us */
	if ((now / 15000) & 1)
		r |= 0x10;
	pthread_mutex_unlock(&e->lock);
	return r;
}

static void p61_write(struct hv_ctx *ctx, void *o, uint64_t off, unsigned sz,
		      uint64_t v)
{
	struct emu_vm *e = o;
	struct pit_chan *c = &e->pit.ch[2];
	int gate = v & 1;

	pthread_mutex_lock(&e->lock);
	if (gate && !c->gate) {
		c->gate = 1;
		arm(&e->pit, 2, now_of(e)); /* a rising gate (re)starts it */
	} else if (!gate) {
		c->gate = 0;
	}
	e->pit.port61 = (uint8_t)v & 0x0f;
	pthread_mutex_unlock(&e->lock);
}

const struct hv_region_ops port61_ops = {
	.min_access = 1, .max_access = 1, .read = p61_read, .write = p61_write,
};

static uint64_t now_of(struct emu_vm *e)
{
	return vm_clock_ns(e->vm);
}
