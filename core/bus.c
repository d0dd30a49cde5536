/*
 * The buses keep their regions sorted by base. Dispatch finds the region
 * and takes a reference on it under the read lock, and calls the device
 * after dropping the lock, so a device may move, add or remove regions
 * (PCI BARs) from inside an access, and another thread may remove the
 * region a vCPU is in: the region is freed by whoever drops the last
 * reference (docs/hotplug.md has the why and the cost).
 */
#include "bus.h"

#include <errno.h>
#include <sched.h>
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

static void region_put(struct bus_region *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

/* Off every list already; callers hold the write lock. */
static void retire(struct bus *b, struct bus_region *r)
{
	atomic_store(&r->dead, 1);
	r->dead_next = b->dead;
	b->dead = r;
}

/* No vCPU runs when the bus goes: every reference left is the bus's. */
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

int bus_busy(struct bus *b, uint64_t base, uint64_t len)
{
	int busy;

	pthread_rwlock_rdlock(&b->lock);
	busy = bus_find(b, base, len) != NULL;
	pthread_rwlock_unlock(&b->lock);
	return busy;
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
	atomic_init(&r->refs, 1);
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
	if (atomic_load(&r->dead)) {
		rc = -EINVAL; /* retired: a destroy op must not bring it back */
	} else if (!range_free(b, base, r->len, r)) {
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

/* Callers hold the write lock. */
static void unlink_dead(struct bus *b, struct bus_region *r)
{
	for (struct bus_region **pp = &b->dead; *pp; pp = &(*pp)->dead_next) {
		if (*pp == r) {
			*pp = r->dead_next;
			return;
		}
	}
}

void bus_del(struct bus *b, struct bus_region *r)
{
	pthread_rwlock_wrlock(&b->lock);
	if (atomic_load(&r->dead))
		unlink_dead(b, r); /* retired: a destroy op removing it */
	else if (r->parked)
		unlink_parked(b, r);
	else
		unlink_region(b, r);
	atomic_store(&r->dead, 1);
	pthread_rwlock_unlock(&b->lock);
	region_put(r); /* the bus's reference */
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
	atomic_init(&r->refs, 1);
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
	if (!r->parked && !atomic_load(&r->dead)) {
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
	if (atomic_load(&r->dead)) {
		rc = -EINVAL;
	} else if (!range_free(b, base, r->len, r)) {
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

/* Callers hold the write lock. */
static void retire_owned(struct bus *b, struct instance *owner)
{
	for (struct bus_region **pp = &b->parked; *pp;) {
		struct bus_region *r = *pp;
		if (r->owner == owner) {
			*pp = r->parked_next;
			r->parked = 0;
			retire(b, r);
		} else {
			pp = &r->parked_next;
		}
	}
	for (int i = 0; i < b->n;) {
		struct bus_region *r = b->r[i];
		if (r->owner == owner) {
			unlink_region(b, r);
			retire(b, r);
		} else {
			i++;
		}
	}
}

static int owner_busy(struct bus *b, struct instance *owner)
{
	int busy = 0;

	pthread_rwlock_rdlock(&b->lock);
	for (struct bus_region *r = b->dead; r && !busy; r = r->dead_next)
		busy = r->owner == owner && atomic_load(&r->refs) > 1;
	pthread_rwlock_unlock(&b->lock);
	return busy;
}

void bus_retire_owner(struct bus *b, struct instance *owner)
{
	pthread_rwlock_wrlock(&b->lock);
	retire_owned(b, owner);
	pthread_rwlock_unlock(&b->lock);
	/* a vCPU in one of them is in a callback that needs the owner's lock,
	 * which the caller does not hold: this ends in a callback's time. The
	 * lock is not held while waiting: the callback may itself remove. */
	while (owner_busy(b, owner))
		sched_yield();
}

void bus_del_owner(struct bus *b, struct instance *owner)
{
	struct bus_region *mine = NULL;

	pthread_rwlock_wrlock(&b->lock);
	retire_owned(b, owner);
	for (struct bus_region **pp = &b->dead; *pp;) {
		struct bus_region *r = *pp;
		if (r->owner == owner) {
			*pp = r->dead_next;
			r->dead_next = mine;
			mine = r;
		} else {
			pp = &r->dead_next;
		}
	}
	pthread_rwlock_unlock(&b->lock);
	while (mine) {
		struct bus_region *r = mine;
		mine = r->dead_next;
		region_put(r);
	}
}

/* A region removed since the dispatch found it reads all-ones and drops
 * writes; the check is under the owner's lock, which removal by the owner
 * holds too. */
static uint64_t call(const struct bus_region *r, uint64_t off, unsigned size,
		     int write, uint64_t val)
{
	struct instance *in = r->owner;
	struct hv_ctx *ctx = in ? &in->ctx : NULL;
	uint64_t ret = ~0ull;

	if (in)
		inst_lock(in);
	if (!atomic_load(&r->dead)) {
		if (write)
			r->ops->write(ctx, r->opaque, off, size, val);
		else
			ret = r->ops->read(ctx, r->opaque, off, size);
	}
	if (in)
		inst_unlock(in);
	return ret;
}

static void dispatch(const struct bus_region *r, uint64_t off, unsigned size,
		     int write, uint64_t *val)
{
	unsigned min = r->ops->min_access ? r->ops->min_access : 1;
	unsigned max = r->ops->max_access ? r->ops->max_access : 8;
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;

	if (size < min || (!(r->ops->flags & HV_REGION_UNALIGNED) &&
			   off % (size < min ? min : (size > max ? max : size)))) {
		if (!write)
			*val = mask;
		return;
	}
	if (size <= max) {
		if (write)
			call(r, off, size, 1, *val & mask);
		else
			*val = call(r, off, size, 0, 0) & mask;
		return;
	}
	/* wider than the device takes: little-endian pieces of max bytes */
	uint64_t acc = 0, pm = max >= 8 ? ~0ull : (1ull << (max * 8)) - 1;
	for (unsigned done = 0; done < size; done += max) {
		if (write)
			call(r, off + done, max, 1, (*val >> (done * 8)) & pm);
		else
			acc |= (call(r, off + done, max, 0, 0) & pm) << (done * 8);
	}
	if (!write)
		*val = acc;
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
	struct bus_region *r;
	uint64_t off;
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
				*val = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
			return -ENOENT;
		}
		atomic_store_explicit(&b->hint, i, memory_order_relaxed);
	}
	r = b->r[i];
	off = addr - r->base; /* base moves under the write lock */
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&b->lock);
	dispatch(r, off, size, write, val);
	region_put(r);
	return 0;
}
