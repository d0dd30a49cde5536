/* Bus registration and dispatch: overlaps, bounds, access sizes, splits. */
#include <errno.h>

#include "bus.h"
#include "unit.h"

static uint64_t last_off, last_val;
static unsigned last_size;
static int nreads, nwrites;

static uint64_t rd(struct hv_ctx *ctx, void *opaque, uint64_t off, unsigned size)
{
	nreads++;
	last_off = off;
	last_size = size;
	return 0x1122334455667788ull >> (8 * (8 - size)) | (uintptr_t)opaque;
}

static void wr(struct hv_ctx *ctx, void *opaque, uint64_t off, unsigned size,
	       uint64_t val)
{
	nwrites++;
	last_off = off;
	last_size = size;
	last_val = val;
}

static const struct hv_region_ops any_ops = { .read = rd, .write = wr };
static const struct hv_region_ops byte_ops = { .min_access = 1, .max_access = 1,
					       .read = rd, .write = wr };

static void overlap_rejected(void)
{
	struct bus b;

	bus_init(&b, "pio", 0x10000);
	CHECK(bus_add(&b, 0x3f8, 8, &any_ops, NULL, NULL, NULL) == 0);
	CHECK(bus_add(&b, 0x3f8, 8, &any_ops, NULL, NULL, NULL) == -EBUSY);
	CHECK(bus_add(&b, 0x3f0, 9, &any_ops, NULL, NULL, NULL) == -EBUSY);
	CHECK(bus_add(&b, 0x3ff, 1, &any_ops, NULL, NULL, NULL) == -EBUSY);
	CHECK(bus_add(&b, 0x3f0, 8, &any_ops, NULL, NULL, NULL) == 0);
	CHECK(bus_add(&b, 0x400, 1, &any_ops, NULL, NULL, NULL) == 0);
	CHECK(bus_add(&b, 0x300, 0x200, &any_ops, NULL, NULL, NULL) == -EBUSY);
	bus_destroy(&b);
}

static void bad_ranges_rejected(void)
{
	struct bus pio, mmio;

	bus_init(&pio, "pio", 0x10000);
	bus_init(&mmio, "mmio", 0);
	CHECK(bus_add(&pio, 0x100, 0, &any_ops, NULL, NULL, NULL) == -EINVAL);
	CHECK(bus_add(&pio, 0xfffc, 8, &any_ops, NULL, NULL, NULL) == -EINVAL);
	CHECK(bus_add(&pio, 0xfffc, 4, &any_ops, NULL, NULL, NULL) == 0);
	CHECK(bus_add(&mmio, ~0ull - 3, 8, &any_ops, NULL, NULL, NULL) == -EINVAL);
	CHECK(bus_add(&mmio, ~0ull - 7, 8, &any_ops, NULL, NULL, NULL) == 0);
	CHECK(bus_add(&mmio, 0x1000, 16, NULL, NULL, NULL, NULL) == -EINVAL);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static void dispatch_relative_offsets(void)
{
	struct bus b;
	uint64_t v = 0;

	bus_init(&b, "mmio", 0);
	bus_add(&b, 0xfec00000, 0x100, &any_ops, NULL, NULL, NULL);
	nwrites = 0;
	v = 0xabcd;
	CHECK(bus_access(&b, 0xfec00010, 4, 1, &v) == 0);
	CHECK(nwrites == 1 && last_off == 0x10 && last_size == 4 && last_val == 0xabcd);
	/* straddling the end: not delivered, reads all-ones */
	CHECK(bus_access(&b, 0xfec000fe, 4, 0, &v) == -ENOENT);
	CHECK(v == 0xffffffff);
	CHECK(bus_access(&b, 0x1000, 2, 0, &v) == -ENOENT && v == 0xffff);
	bus_destroy(&b);
}

static void wide_access_split(void)
{
	struct bus b;
	uint64_t v = 0x04030201;

	bus_init(&b, "pio", 0x10000);
	bus_add(&b, 0x60, 8, &byte_ops, NULL, NULL, NULL);
	nwrites = 0;
	CHECK(bus_access(&b, 0x60, 4, 1, &v) == 0);
	CHECK(nwrites == 4 && last_off == 3 && last_val == 0x04 && last_size == 1);
	nreads = 0;
	CHECK(bus_access(&b, 0x60, 2, 0, &v) == 0);
	CHECK(nreads == 2 && v == 0x1111);
	bus_destroy(&b);
}

/* A misaligned access reads all-ones unless the region asks for any
 * offset (HV_REGION_UNALIGNED: VBE's 16-bit data port at 0x1cf). */
static const struct hv_region_ops word_ops = { .min_access = 1, .max_access = 2,
					       .read = rd, .write = wr };
static const struct hv_region_ops unaligned_ops = { .min_access = 1, .max_access = 2,
						    .flags = HV_REGION_UNALIGNED,
						    .read = rd, .write = wr };

static void unaligned_opt_in(void)
{
	struct bus b;
	uint64_t v = 0x1234;

	bus_init(&b, "pio", 0x10000);
	bus_add(&b, 0x1ce, 3, &unaligned_ops, NULL, NULL, NULL);
	bus_add(&b, 0x2ce, 3, &word_ops, NULL, NULL, NULL);
	nwrites = nreads = 0;
	CHECK(bus_access(&b, 0x1cf, 2, 1, &v) == 0);
	CHECK(nwrites == 1 && last_off == 1 && last_size == 2 && last_val == 0x1234);
	CHECK(bus_access(&b, 0x1cf, 2, 0, &v) == 0 && nreads == 1 && last_off == 1);
	CHECK(bus_access(&b, 0x2cf, 2, 1, &v) == 0 && nwrites == 1);
	CHECK(bus_access(&b, 0x2cf, 2, 0, &v) == 0 && v == 0xffff && nreads == 1);
	/* still wholly inside or nothing */
	CHECK(bus_access(&b, 0x1d0, 2, 0, &v) == -ENOENT);
	bus_destroy(&b);
}

static void move_and_delete(void)
{
	struct bus b;
	struct bus_region *r, *r2;
	uint64_t v;

	bus_init(&b, "mmio", 0);
	CHECK(bus_add(&b, 0xe0000000, 0x1000, &any_ops, NULL, NULL, &r) == 0);
	CHECK(bus_add(&b, 0xe0002000, 0x1000, &any_ops, NULL, NULL, &r2) == 0);
	CHECK(bus_move(&b, r, 0xe0002800) == -EBUSY);
	CHECK(bus_move(&b, r, 0xe0001000) == 0);
	CHECK(bus_access(&b, 0xe0000000, 4, 0, &v) == -ENOENT);
	CHECK(bus_access(&b, 0xe0001004, 4, 0, &v) == 0 && last_off == 4);
	bus_del(&b, r2);
	CHECK(bus_access(&b, 0xe0002000, 4, 0, &v) == -ENOENT);
	CHECK(bus_add(&b, 0xe0002000, 0x1000, &any_ops, NULL, NULL, NULL) == 0);
	bus_destroy(&b);
}

/* Reads answer which region they reached. */
static uint64_t id_rd(struct hv_ctx *ctx, void *opaque, uint64_t off, unsigned size)
{
	last_off = off;
	return (uintptr_t)opaque;
}

static const struct hv_region_ops id_ops = { .read = id_rd, .write = wr };

/* The last-hit hint must never route an access to the wrong region once
 * regions are inserted before it, moved or deleted. */
static void stale_hint(void)
{
	struct bus b;
	struct bus_region *a, *c;
	uint64_t v;

	bus_init(&b, "pio", 0x10000);
	CHECK(bus_add(&b, 0x200, 8, &id_ops, (void *)0xa, NULL, &a) == 0);
	CHECK(bus_add(&b, 0x300, 8, &id_ops, (void *)0xb, NULL, NULL) == 0);
	CHECK(bus_access(&b, 0x300, 1, 0, &v) == 0 && v == 0xb);
	/* insert below: the region at the hinted index is now another one */
	CHECK(bus_add(&b, 0x100, 8, &id_ops, (void *)0xc, NULL, &c) == 0);
	CHECK(bus_access(&b, 0x300, 1, 0, &v) == 0 && v == 0xb);
	CHECK(bus_access(&b, 0x104, 1, 0, &v) == 0 && v == 0xc && last_off == 4);
	/* hinted region moved away, then deleted */
	CHECK(bus_move(&b, c, 0x400) == 0);
	CHECK(bus_access(&b, 0x104, 1, 0, &v) == -ENOENT && v == 0xff);
	CHECK(bus_access(&b, 0x404, 1, 0, &v) == 0 && v == 0xc);
	bus_del(&b, c);
	CHECK(bus_access(&b, 0x404, 1, 0, &v) == -ENOENT);
	/* a hit on the hinted region that runs past its end is no hit */
	CHECK(bus_access(&b, 0x204, 1, 0, &v) == 0 && v == 0xa);
	CHECK(bus_access(&b, 0x206, 4, 0, &v) == -ENOENT && v == 0xffffffff);
	bus_del(&b, a);
	CHECK(bus_access(&b, 0x204, 1, 0, &v) == -ENOENT);
	bus_destroy(&b);
}

int main(void)
{
	TEST(overlap_rejected);
	TEST(bad_ranges_rejected);
	TEST(dispatch_relative_offsets);
	TEST(wide_access_split);
	TEST(unaligned_opt_in);
	TEST(move_and_delete);
	TEST(stale_hint);
	return 0;
}
