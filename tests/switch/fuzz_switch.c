/*
 * libFuzzer over the switch's forwarding decision (plugins/switch/fwd.c,
 * the code switch.so runs): random port sets (VLANs, links), random
 * frames from random ports with sources from a small address space (so
 * learning, moving and the limits all happen), ports changed and removed
 * and the clock advanced in between. After every step it checks what
 * fwd.h promises: never back out of the ingress port, never to a port
 * that is down or unused or of another VLAN, the table within its limits
 * and its counts consistent.
 *
 * Input: byte 0 selects the limits; then records of
 *   op (1 byte): 0-3 a frame, 4 a port change, 5 a port removal,
 *   6 time passes, 7 an aging sweep
 * with their operands read as needed from the following bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/switch/fwd.h"

#define NPORTS 12

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void check_table(const struct fwd *f)
{
	uint32_t sum = 0, live = 0;

	for (unsigned p = 0; p < FWD_PORTS; p++) {
		if (f->port[p].macs > f->max_port)
			abort();
		sum += f->port[p].macs;
	}
	for (uint32_t i = 0; i <= f->mask; i++)
		live += f->tab[i].key != 0;
	if (sum != f->count || live != f->count || f->count > f->max_total)
		abort();
}

static void check_dec(const struct fwd *f, unsigned inp, const struct fwd_dec *d)
{
	const struct fwd_port *ip = &f->port[inp];

	if (ip->vlan && d->vid != ip->vlan)
		abort();
	for (int i = 0; i < d->n; i++) {
		const struct fwd_port *o = &f->port[d->out[i]];

		if (d->out[i] == inp || !o->used || !o->up)
			abort();
		if (o->vlan && o->vlan != d->vid)
			abort();
		for (int j = 0; j < i; j++)
			if (d->out[j] == d->out[i])
				abort();
	}
}

static void one_frame(struct fwd *f, struct in *in, uint64_t now)
{
	static struct fwd_dec d;
	uint8_t eth[64] = { 0 };
	unsigned port = take(in) % NPORTS, flags = take(in);
	size_t len = 10 + take(in) % 54;

	/* addresses from 8 values: collisions, moves, multicast */
	eth[0] = (uint8_t)(flags & 0x1 ? 0xff : 0x52);
	eth[5] = (uint8_t)(take(in) & 7);
	eth[6] = (uint8_t)(flags & 0x2 ? 0x01 : 0x52);
	eth[11] = (uint8_t)(take(in) & 7);
	if (flags & 0x4) {
		eth[12] = 0x81;
		eth[14] = (uint8_t)(take(in) & 0x0f);
		eth[15] = (uint8_t)take(in);
	}
	if (flags & 0x8) { /* a random source: the flood case */
		eth[7] = (uint8_t)take(in);
		eth[8] = (uint8_t)take(in);
	}
	if (fwd_decide(f, port, eth, len, now, &d) == 0)
		check_dec(f, port, &d);
	else if (d.n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct fwd f;
	uint64_t now = 1;
	unsigned lim = take(&in);

	if (fwd_init(&f, 16 + (lim & 0x30), 1 + (lim & 7), 1000, 0x1234))
		abort();
	for (unsigned p = 0; p < NPORTS; p++)
		fwd_port_set(&f, p, (uint16_t)(p < 4 ? 0 : p < 8 ? 10 : 20), 1);
	while (in.n) {
		unsigned op = take(&in) & 7, p;

		switch (op) {
		case 4:
			p = take(&in) % NPORTS;
			fwd_port_set(&f, p, (uint16_t)(take(&in) % 4 * 10), take(&in) & 1);
			break;
		case 5:
			fwd_port_del(&f, take(&in) % NPORTS);
			break;
		case 6:
			now += take(&in) * 10;
			break;
		case 7:
			fwd_age(&f, now);
			break;
		default:
			one_frame(&f, &in, now);
		}
		check_table(&f);
	}
	fwd_fini(&f);
	return 0;
}
