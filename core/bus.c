/*
 * The buses keep their regions sorted by base. Dispatch copies what it
 * needs under the read lock and calls the device after dropping it, so a
 * device may move or add regions (PCI BARs) from inside an access; regions
 * taken off the bus are kept until bus_destroy() for the same reason.
 */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"

int bus_init(struct bus *b, const char *name, uint64_t limit)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->limit = limit;
	return -pthread_rwlock_init(&b->lock, NULL);
}

/* Callers hold the write lock. */
static void bury(struct bus *b, struct bus_region *r)
{
	r->dead_next = b->dead;
	b->dead = r;
}

void bus_destroy(struct bus *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->r[i]);
	free(b->r);
	while (b->dead) {
		struct bus_region *r = b->dead;
		b->dead = r->dead_next;
		free(r);
	}
	while (b->parked) {
		struct bus_region *r = b->parked;
		b->parked = r->parked_next;
		free(r);
	}
	pthread_rwlock_destroy(&b->lock);
	memset(b, 0, sizeof(*b));
}

/* Index of the first region whose end is above addr. */
static int lower_bound(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct bus_region *r = b->r[mid];
		if (r->base + r->len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int range_free(const struct bus *b, uint64_t base, uint64_t len,
		      const struct bus_region *self)
{
	int i = lower_bound(b, base);

	for (; i < b->n && b->r[i]->base <= base + len - 1; i++)
		if (b->r[i] != self)
			return 0;
	return 1;
}

struct bus_region *bus_find(const struct bus *b, uint64_t base, uint64_t len)
{
	int i = lower_bound(b, base);

	return len && i < b->n && b->r[i]->base <= base + len - 1 ? b->r[i] : NULL;
}

static int range_valid(const struct bus *b, uint64_t base, uint64_t len)
{
	if (!len || base + len - 1 < base)
		return 0;
	return !b->limit || base + len <= b->limit;
}

static void insert(struct bus *b, struct bus_region *r)
{
	int at = lower_bound(b, r->base);

	memmove(&b->r[at + 1], &b->r[at], (b->n - at) * sizeof(*b->r));
	b->r[at] = r;
	b->n++;
}

static void unlink_region(struct bus *b, struct bus_region *r)
{
	for (int i = 0; i < b->n; i++) {
		if (b->r[i] != r)
			continue;
		memmove(&b->r[i], &b->r[i + 1], (b->n - i - 1) * sizeof(*b->r));
		b->n--;
		return;
	}
}

int bus_add(struct bus *b, uint64_t base, uint64_t len,
	    const struct hv_region_ops *ops, void *opaque,
	    struct instance *owner, struct bus_region **out)
{
	struct bus_region *r;
	int rc = 0;

	if (!ops || !ops->read || !ops->write || !range_valid(b, base, len))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct bus_region){ .base = base, .len = len, .ops = ops,
				  .opaque = opaque, .owner = owner, .bus = b };
	pthread_rwlock_wrlock(&b->lock);
	if (!range_free(b, base, len, NULL)) {
		rc = -EBUSY;
	} else if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_region **nr = realloc(b->r, cap * sizeof(*nr));
		if (nr) {
			b->r = nr;
			b->cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (!rc)
		insert(b, r);
	pthread_rwlock_unlock(&b->lock);
	if (rc) {
		free(r);
		return rc;
	}
	if (out)
		*out = r;
	return 0;
}

int bus_move(struct bus *b, struct bus_region *r, uint64_t base)
{
	int rc = 0;

	if (!range_valid(b, base, r->len) || r->parked)
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	if (!range_free(b, base, r->len, r)) {
		rc = -EBUSY;
	} else {
		unlink_region(b, r);
		r->base = base;
		insert(b, r);
	}
	pthread_rwlock_unlock(&b->lock);
	return rc;
}

/* Callers hold the write lock. */
static void unlink_parked(struct bus *b, struct bus_region *r)
{
	for (struct bus_region **pp = &b->parked; *pp; pp = &(*pp)->parked_next) {
		if (*pp == r) {
			*pp = r->parked_next;
			r->parked = 0;
			return;
		}
	}
}

void bus_del(struct bus *b, struct bus_region *r)
{
	pthread_rwlock_wrlock(&b->lock);
	if (r->parked)
		unlink_parked(b, r);
	else
		unlink_region(b, r);
	bury(b, r);
	pthread_rwlock_unlock(&b->lock);
}

int bus_add_parked(struct bus *b, uint64_t len, const struct hv_region_ops *ops,
		   void *opaque, struct instance *owner, struct bus_region **out)
{
	struct bus_region *r;

	if (!ops || !ops->read || !ops->write || !len ||
	    (b->limit && len > b->limit))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct bus_region){ .len = len, .ops = ops, .opaque = opaque,
				  .owner = owner, .bus = b, .parked = 1 };
	pthread_rwlock_wrlock(&b->lock);
	r->parked_next = b->parked;
	b->parked = r;
	pthread_rwlock_unlock(&b->lock);
	*out = r;
	return 0;
}

void bus_park(struct bus *b, struct bus_region *r)
{
	pthread_rwlock_wrlock(&b->lock);
	if (!r->parked) {
		unlink_region(b, r);
		r->parked = 1;
		r->parked_next = b->parked;
		b->parked = r;
	}
	pthread_rwlock_unlock(&b->lock);
}

int bus_unpark(struct bus *b, struct bus_region *r, uint64_t base)
{
	int rc = 0;

	if (!range_valid(b, base, r->len))
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	if (!range_free(b, base, r->len, r)) {
		rc = -EBUSY;
	} else if (r->parked && b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_region **nr = realloc(b->r, cap * sizeof(*nr));
		if (nr) {
			b->r = nr;
			b->cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (!rc) {
		if (r->parked)
			unlink_parked(b, r);
		else
			unlink_region(b, r);
		r->base = base;
		insert(b, r);
	}
	pthread_rwlock_unlock(&b->lock);
	return rc;
}

void bus_del_owner(struct bus *b, struct instance *owner)
{
	pthread_rwlock_wrlock(&b->lock);
	for (struct bus_region **pp = &b->parked; *pp;) {
		struct bus_region *r = *pp;
		if (r->owner == owner) {
			*pp = r->parked_next;
			r->parked = 0;
			bury(b, r);
		} else {
			pp = &r->parked_next;
		}
	}
	for (int i = 0; i < b->n;) {
		struct bus_region *r = b->r[i];
		if (r->owner == owner) {
			unlink_region(b, r);
			bury(b, r);
		} else {
			i++;
		}
	}
	pthread_rwlock_unlock(&b->lock);
}

static uint64_t call(const struct bus_region *r, uint64_t off, unsigned size,
		     int write, uint64_t val)
{
	struct instance *in = r->owner;
	struct hv_ctx *ctx = in ? &in->ctx : NULL;
	uint64_t ret = 0;

	if (in)
		inst_lock(in);
	if (write)
		r->ops->write(ctx, r->opaque, off, size, val);
	else
		ret = r->ops->read(ctx, r->opaque, off, size);
	if (in)
		inst_unlock(in);
	return ret;
}

/* Whether region i holds all of [addr, addr + size). Read lock held. */
static int holds(const struct bus *b, int i, uint64_t addr, unsigned size)
{
	const struct bus_region *r;

	if (i >= b->n)
		return 0;
	r = b->r[i];
	return r->base <= addr && addr - r->base < r->len &&
	       size <= r->len - (addr - r->base);
}

int bus_access(struct bus *b, uint64_t addr, unsigned size, int write,
	       uint64_t *val)
{
	struct bus_region copy;
	unsigned min, max;
	uint64_t off, mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	int i;

	pthread_rwlock_rdlock(&b->lock);
	/* a stale hint (regions added or removed since) fails the check:
	 * regions do not overlap, so a region that holds addr is the one */
	i = atomic_load_explicit(&b->hint, memory_order_relaxed);
	if (!holds(b, i, addr, size)) {
		i = lower_bound(b, addr);
		if (!holds(b, i, addr, size)) {
			pthread_rwlock_unlock(&b->lock);
			if (!write)
				*val = mask;
			return -ENOENT;
		}
		atomic_store_explicit(&b->hint, i, memory_order_relaxed);
	}
	copy = *b->r[i];
	pthread_rwlock_unlock(&b->lock);

	off = addr - copy.base;
	min = copy.ops->min_access ? copy.ops->min_access : 1;
	max = copy.ops->max_access ? copy.ops->max_access : 8;
	if (size < min || off % (size < min ? min : (size > max ? max : size))) {
		if (!write)
			*val = mask;
		return 0;
	}
	if (size <= max) {
		if (write)
			call(&copy, off, size, 1, *val & mask);
		else
			*val = call(&copy, off, size, 0, 0) & mask;
		return 0;
	}
	/* wider than the device takes: little-endian pieces of max bytes */
	uint64_t acc = 0, pm = max >= 8 ? ~0ull : (1ull << (max * 8)) - 1;
	for (unsigned done = 0; done < size; done += max) {
		if (write)
			call(&copy, off + done, max, 1, (*val >> (done * 8)) & pm);
		else
			acc |= (call(&copy, off + done, max, 0, 0) & pm) << (done * 8);
	}
	if (!write)
		*val = acc;
	return 0;
}
