/*
 * The I/O APIC at FEC00000h: 24 redirection entries, edge and level
 * (remote IRR, cleared by the LAPIC's EOI broadcast), physical and
 * logical destinations. Under emu_vm.lock.
 */
#include <string.h>

#include "chipset.h"

#define RED_MASK (1ull << 16)
#define RED_LEVEL (1ull << 15)
#define RED_RIRR (1ull << 14)

void ioapic_reset(struct ioapic *io)
{
	int i;

	memset(io, 0, sizeof(*io));
	for (i = 0; i < 24; i++)
		io->redir[i] = RED_MASK;
}

static void fire(struct emu_vm *e, int pin)
{
	struct ioapic *io = &e->ioapic;
	uint64_t r = io->redir[pin];

	if (r & RED_MASK)
		return;
	if (r & RED_LEVEL) {
		if (r & RED_RIRR)
			return;
		io->redir[pin] |= RED_RIRR;
	}
	lapic_deliver(e, (uint32_t)(r >> 56), (r >> 11) & 1, (r >> 8) & 7,
		      r & 0xff, !!(r & RED_LEVEL), 0, NULL, 0);
}

void ioapic_set_irq(struct emu_vm *e, unsigned gsi, int level)
{
	struct ioapic *io = &e->ioapic;
	uint32_t m = 1u << gsi;
	int was;

	if (gsi >= 24)
		return;
	was = !!(io->level & m);
	if (level)
		io->level |= m;
	else
		io->level &= ~m;
	if (io->redir[gsi] & RED_LEVEL) {
		if (level)
			fire(e, (int)gsi);
	} else if (level && !was) {
		fire(e, (int)gsi);
	}
}

void ioapic_eoi(struct emu_vm *e, int vector)
{
	struct ioapic *io = &e->ioapic;
	int i;

	for (i = 0; i < 24; i++) {
		if ((io->redir[i] & 0xff) != (uint64_t)vector ||
		    !(io->redir[i] & RED_RIRR))
			continue;
		io->redir[i] &= ~RED_RIRR;
		if ((io->redir[i] & RED_LEVEL) && (io->level & (1u << i)))
			fire(e, i);
	}
}

static uint32_t reg_read(struct ioapic *io)
{
	uint32_t s = io->sel;

	if (s == 0)
		return io->id;
	if (s == 1)
		return 0x170011; /* 24 entries, version 11h */
	if (s == 2)
		return io->id;
	if (s >= 0x10 && s < 0x10 + 48) {
		uint64_t r = io->redir[(s - 0x10) / 2];

		return (s & 1) ? (uint32_t)(r >> 32) : (uint32_t)r;
	}
	return 0;
}

static void reg_write(struct emu_vm *e, uint32_t v)
{
	struct ioapic *io = &e->ioapic;
	uint32_t s = io->sel;
	uint64_t *r;
	int pin;

	if (s == 0) {
		io->id = v & 0x0f000000u;
		return;
	}
	if (s < 0x10 || s >= 0x10 + 48)
		return;
	pin = (int)(s - 0x10) / 2;
	r = &io->redir[pin];
	if (s & 1)
		*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
	else /* delivery status and remote IRR are read-only */
		*r = (*r & (0xffffffff00000000ull | RED_RIRR | (1ull << 12))) |
		     (v & ~(uint32_t)(RED_RIRR | (1u << 12)));
	if (!(*r & RED_MASK) && (*r & RED_LEVEL) && (io->level & (1u << pin)))
		fire(e, pin);
}

static uint64_t io_read(struct hv_ctx *c, void *o, uint64_t off, unsigned sz)
{
	struct emu_vm *e = o;
	uint64_t r = 0;

	pthread_mutex_lock(&e->lock);
	if (off == 0)
		r = e->ioapic.sel;
	else if (off == 0x10)
		r = reg_read(&e->ioapic);
	pthread_mutex_unlock(&e->lock);
	return r;
}

static void io_write(struct hv_ctx *c, void *o, uint64_t off, unsigned sz,
		     uint64_t v)
{
	struct emu_vm *e = o;

	pthread_mutex_lock(&e->lock);
	if (off == 0)
		e->ioapic.sel = (uint32_t)v & 0xff;
	else if (off == 0x10)
		reg_write(e, (uint32_t)v);
	else if (off == 0x40) /* EOI register (version 20h style) */
		ioapic_eoi(e, (int)(v & 0xff));
	pthread_mutex_unlock(&e->lock);
}

const struct hv_region_ops ioapic_ops = {
	.min_access = 4, .max_access = 4, .read = io_read, .write = io_write,
};
