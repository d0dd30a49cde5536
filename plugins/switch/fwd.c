/* SPDX-License-Identifier: MIT */
/*
 * Learning and forwarding (fwd.h). The table is open addressing with
 * linear probing and backward-shift deletion: at least twice as many
 * slots as entries allowed, so a probe always meets an empty slot and
 * stays short. The hash is keyed with a per-switch random seed, so a
 * guest cannot choose source addresses that collide into one long chain.
 */
#include "fwd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_USED (1ull << 63)

static uint64_t key_of(uint16_t vid, const uint8_t *mac)
{
	uint64_t k = KEY_USED | (uint64_t)(vid & 0xfff) << 48;

	for (int i = 0; i < 6; i++)
		k |= (uint64_t)mac[i] << (40 - 8 * i);
	return k;
}

static uint32_t home(const struct fwd *f, uint64_t key)
{
	uint64_t x = key ^ f->seed;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x & f->mask;
}

int fwd_init(struct fwd *f, uint32_t max_total, uint32_t max_port,
	     uint64_t aging_ns, uint64_t seed)
{
	uint32_t slots = 16;

	memset(f, 0, sizeof(*f));
	if (!max_total || max_total > (1u << 24) || !max_port || !aging_ns)
		return -EINVAL;
	while (slots < 2 * max_total)
		slots <<= 1;
	f->tab = calloc(slots, sizeof(*f->tab));
	if (!f->tab)
		return -ENOMEM;
	f->mask = slots - 1;
	f->max_total = max_total;
	f->max_port = max_port;
	f->aging_ns = aging_ns;
	f->seed = seed;
	return 0;
}

void fwd_fini(struct fwd *f)
{
	free(f->tab);
	f->tab = NULL;
}

static int find(const struct fwd *f, uint64_t key)
{
	for (uint32_t i = home(f, key);; i = (i + 1) & f->mask) {
		if (f->tab[i].key == key)
			return (int)i;
		if (!f->tab[i].key)
			return -1;
	}
}

/* Empty slot i, pulling later members of its probe run back into it. */
static void del_at(struct fwd *f, uint32_t i)
{
	struct fwd_entry *t = f->tab;

	f->port[t[i].port].macs--;
	f->count--;
	for (uint32_t j = (i + 1) & f->mask; t[j].key; j = (j + 1) & f->mask) {
		uint32_t h = home(f, t[j].key);
		/* j stays if its home lies cyclically in (i, j] */
		int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);

		if (!stays) {
			t[i] = t[j];
			i = j;
		}
	}
	t[i].key = 0;
}

static int expired(const struct fwd *f, const struct fwd_entry *e,
		   uint64_t now)
{
	return now - e->seen > f->aging_ns;
}

static void learn(struct fwd *f, unsigned in, uint64_t key, uint64_t now)
{
	struct fwd_port *p = &f->port[in];
	int i = find(f, key);
	uint32_t j;

	if (i >= 0) {
		struct fwd_entry *e = &f->tab[i];

		if (e->port == in) {
			e->seen = now;
			return;
		}
		if (p->macs >= f->max_port) {
			f->st.full_port++;
			return;
		}
		if (!expired(f, e, now))
			f->st.moved++;
		f->port[e->port].macs--;
		p->macs++;
		e->port = (uint16_t)in;
		e->seen = now;
		return;
	}
	if (p->macs >= f->max_port) {
		f->st.full_port++;
		return;
	}
	if (f->count >= f->max_total) {
		f->st.full_table++;
		return;
	}
	for (j = home(f, key); f->tab[j].key; j = (j + 1) & f->mask)
		;
	f->tab[j] = (struct fwd_entry){ .key = key, .seen = now,
					.port = (uint16_t)in };
	p->macs++;
	f->count++;
	f->st.learned++;
}

static void flush_port(struct fwd *f, unsigned p)
{
	for (uint32_t i = 0; f->port[p].macs && i <= f->mask;) {
		if (f->tab[i].key && f->tab[i].port == p)
			del_at(f, i); /* i may hold a pulled-back entry now */
		else
			i++;
	}
}

void fwd_port_set(struct fwd *f, unsigned p, uint16_t vlan, int up)
{
	struct fwd_port *fp;

	if (p >= FWD_PORTS)
		return;
	fp = &f->port[p];
	if (fp->used && (fp->vlan != vlan || (fp->up && !up)))
		flush_port(f, p);
	fp->used = 1;
	fp->vlan = vlan & 0xfff;
	fp->up = !!up;
}

void fwd_port_del(struct fwd *f, unsigned p)
{
	if (p >= FWD_PORTS)
		return;
	flush_port(f, p);
	memset(&f->port[p], 0, sizeof(f->port[p]));
}

uint32_t fwd_age(struct fwd *f, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; f->count && i <= f->mask;) {
		if (f->tab[i].key && expired(f, &f->tab[i], now)) {
			del_at(f, i);
			n++;
		} else {
			i++;
		}
	}
	f->st.aged += n;
	return n;
}

int fwd_lookup(struct fwd *f, uint16_t vid, const uint8_t mac[6], uint64_t now)
{
	int i = find(f, key_of(vid, mac));

	if (i < 0 || expired(f, &f->tab[i], now))
		return -1;
	return f->tab[i].port;
}

/* May a frame of VLAN vid leave through port o? */
static int carries(const struct fwd_port *o, uint16_t vid)
{
	return o->used && o->up && (!o->vlan || o->vlan == vid);
}

static int classify(struct fwd *f, unsigned in, const uint8_t *eth, size_t len,
		    struct fwd_dec *d)
{
	const struct fwd_port *p = &f->port[in];
	int tagged = len >= FWD_ETH_MIN + 4 &&
		     (eth[12] << 8 | eth[13]) == FWD_TPID;

	if (len < FWD_ETH_MIN) {
		f->st.runt++;
		return -EINVAL;
	}
	if (!p->used || !p->up) {
		f->st.port_down++;
		return -EINVAL;
	}
	if (eth[6] & 1) {
		f->st.bad_src++;
		return -EINVAL;
	}
	if (p->vlan && tagged) {
		f->st.tagged_on_access++;
		return -EINVAL;
	}
	d->tagged = (uint8_t)tagged;
	d->vid = p->vlan ? p->vlan : tagged ? ((eth[14] << 8 | eth[15]) & 0xfff) : 0;
	return 0;
}

int fwd_decide(struct fwd *f, unsigned in, const uint8_t *eth, size_t len,
	       uint64_t now, struct fwd_dec *d)
{
	int dst = -1;

	d->n = 0;
	d->flood = 0;
	if (in >= FWD_PORTS || classify(f, in, eth, len, d))
		return -EINVAL;
	learn(f, in, key_of(d->vid, eth + 6), now);
	if (!(eth[0] & 1))
		dst = fwd_lookup(f, d->vid, eth, now);
	if (dst >= 0) {
		if (dst != (int)in && carries(&f->port[dst], d->vid))
			d->out[d->n++] = (uint16_t)dst;
		return 0; /* known, but behind the ingress port: filtered */
	}
	d->flood = 1;
	for (unsigned o = 0; o < FWD_PORTS; o++)
		if (o != in && carries(&f->port[o], d->vid))
			d->out[d->n++] = (uint16_t)o;
	return 0;
}

enum fwd_tag fwd_egress(const struct fwd *f, const struct fwd_dec *d,
			unsigned in, unsigned out)
{
	int in_trunk = !f->port[in].vlan, out_trunk = !f->port[out].vlan;

	if (in_trunk == out_trunk)
		return FWD_AS_IS;
	return in_trunk ? FWD_STRIP : FWD_INSERT;
}
