/*
 * PIO and MMIO buses. Registration rejects empty, overflowing and
 * overlapping ranges; dispatch finds the region, checks the access lies
 * wholly inside it and within its access sizes, takes the owner's domain
 * lock and calls it with a region-relative offset.
 */
#ifndef HV_CORE_BUS_H
#define HV_CORE_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <hv/host.h>

struct instance;

struct bus_region {
	uint64_t base, len;
	const struct hv_region_ops *ops;
	void *opaque;
	struct instance *owner; /* NULL: core-internal, no lock taken */
	struct bus *bus;
	/* one for the bus while registered (decoding or parked), one per
	 * dispatch in progress: the last one frees the region */
	atomic_uint refs;
	atomic_int dead; /* removed: a dispatch that holds it calls nothing */
	struct bus_region *dead_next; /* retired by bus_retire_owner() */
	struct bus_region *parked_next;
	int parked; /* registered but decoding nothing (a disabled PCI BAR) */
};

struct bus {
	const char *name; /* "pio" or "mmio" */
	pthread_rwlock_t lock;
	struct bus_region **r; /* sorted by base */
	int n, cap;
	uint64_t limit; /* 0x10000 for PIO */
	/* retired, awaiting bus_del_owner(): only while an instance is freed */
	struct bus_region *dead;
	struct bus_region *parked; /* regions off the bus that may come back */
	/* index of the last region an access hit: a guest driver hammers one
	 * device, and the check is cheaper than the search (bench/exit) */
	atomic_int hint;
};

int bus_init(struct bus *b, const char *name, uint64_t limit);
void bus_destroy(struct bus *b);
/* 0, -EINVAL (empty or overflowing), -EBUSY (overlap), -ENOMEM */
int bus_add(struct bus *b, uint64_t base, uint64_t len,
	    const struct hv_region_ops *ops, void *opaque,
	    struct instance *owner, struct bus_region **out);
int bus_move(struct bus *b, struct bus_region *r, uint64_t base);
/* Take r off the bus. Any thread, even a vCPU inside r's own callback: r
 * is freed when the last dispatch holding it returns, and a dispatch that
 * reaches the owner's domain lock after removal calls nothing. So with the
 * owner's domain lock held (every plugin callback) no callback of r runs
 * or starts once this returns, but the caller's own. r is gone after. */
void bus_del(struct bus *b, struct bus_region *r);
/* PCI BARs: a region registered parked (decoding no addresses), taken off
 * the bus and put back at a new base without being freed, so a guest that
 * toggles decoding forever costs no memory. unpark: 0, -EINVAL, -EBUSY. */
int bus_add_parked(struct bus *b, uint64_t len, const struct hv_region_ops *ops,
		   void *opaque, struct instance *owner, struct bus_region **out);
void bus_park(struct bus *b, struct bus_region *r);
int bus_unpark(struct bus *b, struct bus_region *r, uint64_t base);
/* The first region decoding any of [base, base+len), or NULL: who is in
 * the way when bus_add said -EBUSY. */
struct bus_region *bus_find(const struct bus *b, uint64_t base, uint64_t len);
/* Instance teardown, without the owner's domain lock: take every region
 * the instance owns off the bus and wait until no vCPU is inside one (a
 * dispatch already in flight finds them dead and calls nothing); they stay
 * allocated, so a destroy op may still hv_region_del() them. Then
 * bus_del_owner() frees them with any the instance still has. */
void bus_retire_owner(struct bus *b, struct instance *owner);
/* Whether any region decodes part of [base, base+len): like bus_find, but
 * safe against concurrent changes (device memory placement). */
int bus_busy(struct bus *b, uint64_t base, uint64_t len);
/* Remove (and free) every region an instance owns. */
void bus_del_owner(struct bus *b, struct instance *owner);
/* An access: 0 when a region took it; -ENOENT when none did (reads are
 * then all-ones). size is 1, 2, 4 or 8. */
int bus_access(struct bus *b, uint64_t addr, unsigned size, int write,
	       uint64_t *val);

#endif
