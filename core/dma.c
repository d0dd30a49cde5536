/*
 * hv_dma: the device keeps the storage (struct hv_dma and its iovecs, in
 * its preallocated request slot), the core keeps the bookkeeping inside
 * it. Nothing here allocates, so mapping costs a region lookup per range.
 *
 * An iovec's guest address is found again at unmap from its host address:
 * a region's host mapping never moves while it has live DMA mappings, so
 * the reverse lookup is exact and the hv_dma needs no per-iovec storage.
 *
 * The hv_dma is plugin memory, so a buggy device can overwrite it while
 * mapped (a reset op that zeroes its state). The core therefore also keeps
 * its own tally per instance and region (the region table cannot change
 * while any mapping is live, so indices are stable), and a generation
 * that dma_release bumps: whatever the hv_dma structs say afterwards, the
 * region counts come back to zero and a stale hv_dma is never unlinked.
 */
#include "dma.h"

#include <errno.h>

#include "instance.h"
#include "log.h"
#include "mem.h"
#include "vm.h"

struct dma_core {
	struct instance *owner; /* NULL: not mapped */
	struct hv_dma *next, *prev;
	int wfirst; /* 1 + index of the first writable iovec; 0: none yet */
	unsigned gen; /* owner->dma_gen when linked */
};

_Static_assert(sizeof(struct dma_core) <= sizeof(((struct hv_dma *)0)->core),
	       "struct dma_core must fit in hv_dma.core");

static struct dma_core *core_of(struct hv_dma *dma)
{
	return (struct dma_core *)dma->core;
}

/* The plugin's struct must be at least what this core reads and writes. */
static int dma_sane(const struct hv_dma *dma)
{
	return dma->size >= offsetof(struct hv_dma, core) + sizeof(dma->core) &&
	       dma->max_iov >= 0 && dma->iovcnt >= 0 &&
	       dma->iovcnt <= dma->max_iov && (dma->iov || !dma->max_iov);
}

/* Iovecs [gpa, gpa+len) needs, or -EFAULT unless every byte is RAM (or
 * ROM, when the device only reads). */
static int count_iov(const struct mem_map *m, uint64_t gpa, uint64_t len,
		     int write)
{
	int n = 0;

	while (len) {
		const struct mem_region *r = mem_find(m, gpa);
		uint64_t chunk;

		/* only RAM, and ROM for reading: not device memory (a RAM BAR),
		 * which mem_write does not reach either */
		if (!r || (r->kind != MEM_RAM && (write || r->kind != MEM_ROM)))
			return -EFAULT;
		chunk = r->size - (gpa - r->gpa);
		n++;
		if (chunk >= len)
			break;
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

static void fill_iov(struct instance *in, uint64_t gpa, uint64_t len,
		     struct iovec *iov)
{
	struct mem_map *m = &in->vm->mem;

	while (len) {
		struct mem_region *r = (struct mem_region *)mem_find(m, gpa);
		uint64_t off = gpa - r->gpa, chunk = r->size - off;

		if (chunk > len)
			chunk = len;
		atomic_fetch_add(&r->dma_maps, 1);
		in->dma_refs[r - m->r]++;
		*iov++ = (struct iovec){ r->hva + off, chunk };
		gpa += chunk;
		len -= chunk;
	}
}

static void dma_link(struct instance *in, struct hv_dma *dma)
{
	struct dma_core *c = core_of(dma);

	c->owner = in;
	c->gen = in->dma_gen;
	c->prev = NULL;
	c->next = in->dmas;
	if (in->dmas)
		core_of(in->dmas)->prev = dma;
	in->dmas = dma;
}

static void dma_unlink(struct hv_dma *dma)
{
	struct dma_core *c = core_of(dma);

	if (c->prev)
		core_of(c->prev)->next = c->next;
	else
		c->owner->dmas = c->next;
	if (c->next)
		core_of(c->next)->prev = c->prev;
}

int dma_svc_add(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa,
		uint64_t len, unsigned flags)
{
	struct instance *in = inst_of(ctx);
	struct dma_core *c = core_of(dma);
	int write = !!(flags & HV_DMA_FROM_DEVICE), n;

	if (!dma_sane(dma) || !flags || flags & ~HV_DMA_BIDIRECTIONAL)
		return -EINVAL;
	if (c->owner && c->gen != c->owner->dma_gen) { /* force-unmapped */
		*c = (struct dma_core){ 0 };
		dma->iovcnt = 0;
		dma->len = 0;
	}
	if ((!write && c->wfirst) || (c->owner && c->owner != in))
		return -EINVAL;
	if (!len)
		return 0;
	if (!in->vm || gpa + len - 1 < gpa || dma->len + len < dma->len)
		return -EFAULT;
	n = count_iov(&in->vm->mem, gpa, len, write);
	if (n < 0)
		return n;
	if (n > dma->max_iov - dma->iovcnt)
		return -ENOSPC;
	fill_iov(in, gpa, len, dma->iov + dma->iovcnt);
	if (!c->owner)
		dma_link(in, dma);
	if (write && !c->wfirst)
		c->wfirst = dma->iovcnt + 1;
	dma->iovcnt += n;
	dma->len += len;
	return n;
}

/* The RAM or ROM region whose host mapping holds all of iov, or NULL
 * (only those are ever mapped, and their host ranges never overlap). */
static struct mem_region *region_of(struct mem_map *m, const struct iovec *iov)
{
	uintptr_t p = (uintptr_t)iov->iov_base;

	for (int i = 0; i < m->n; i++) {
		struct mem_region *r = &m->r[i];
		uintptr_t base = (uintptr_t)r->hva;

		if ((r->kind == MEM_RAM || r->kind == MEM_ROM) &&
		    p >= base && p - base < r->size &&
		    iov->iov_len <= r->size - (p - base))
			return r;
	}
	return NULL;
}

/* Dirty and invalidate the first `written` writable bytes, drop the region
 * counts, and leave dma empty. */
static void dma_end(struct hv_dma *dma, uint64_t written)
{
	struct dma_core *c = core_of(dma);
	struct instance *in = c->owner;
	struct mem_map *m = &in->vm->mem;
	int bad = 0;

	for (int i = 0; i < dma->iovcnt; i++) {
		struct mem_region *r = region_of(m, &dma->iov[i]);
		uint64_t gpa, n;

		if (!r) { /* the device overwrote its iovecs */
			bad++;
			continue;
		}
		gpa = r->gpa + ((uint8_t *)dma->iov[i].iov_base - r->hva);
		n = dma->iov[i].iov_len < written ? dma->iov[i].iov_len : written;
		if (c->wfirst && i >= c->wfirst - 1 && n) {
			mem_mark_dirty(m, gpa, n);
			if (m->write_hook)
				m->write_hook(m->hook_opaque, gpa, n);
			written -= n;
		}
		if (in->dma_refs[r - m->r]) { /* else the device swapped iovecs */
			in->dma_refs[r - m->r]--;
			atomic_fetch_sub(&r->dma_maps, 1);
		}
	}
	if (bad)
		warn("%s: %d DMA iovec(s) changed while mapped: their memory "
		     "stays pinned until reset", in->ctx.name, bad);
	dma_unlink(dma);
	*c = (struct dma_core){ 0 };
	dma->iovcnt = 0;
	dma->len = 0;
}

void dma_svc_unmap(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t written)
{
	struct instance *in = inst_of(ctx);
	struct dma_core *c = core_of(dma);

	if (!dma_sane(dma) || !c->owner || c->gen != c->owner->dma_gen) {
		*c = (struct dma_core){ 0 };
		dma->iovcnt = 0; /* never mapped (or force-unmapped): empty */
		dma->len = 0;
		return;
	}
	if (c->owner != in) {
		warn("%s: hv_dma_unmap of a mapping [%s] holds: ignored",
		     in->ctx.name, c->owner->ctx.name);
		return;
	}
	dma_end(dma, written);
}

/* What the hv_dma structs no longer account for: the whole region is
 * taken as written, the safe side for snapshots and decoded code. */
static unsigned drop_tally(struct instance *in)
{
	struct mem_map *m = &in->vm->mem;
	unsigned lost = 0;

	for (int i = 0; i < m->n && i < MEM_MAX_REGIONS; i++) {
		struct mem_region *r = &m->r[i];

		if (!in->dma_refs[i])
			continue;
		lost += in->dma_refs[i];
		atomic_fetch_sub(&r->dma_maps, in->dma_refs[i]);
		in->dma_refs[i] = 0;
		if (r->kind != MEM_RAM)
			continue;
		mem_mark_dirty(m, r->gpa, r->size);
		if (m->write_hook)
			m->write_hook(m->hook_opaque, r->gpa, r->size);
	}
	return lost;
}

void dma_release(struct instance *in, const char *when)
{
	unsigned n = 0, lost;

	while (in->dmas) {
		struct dma_core *c = core_of(in->dmas);

		if (c->owner != in || c->gen != in->dma_gen) {
			in->dmas = NULL; /* overwritten: the tally cleans up */
			n++;
			break;
		}
		dma_end(in->dmas, UINT64_MAX);
		n++;
	}
	in->dma_gen++;
	lost = drop_tally(in);
	if (n)
		warn("%s: %u DMA mapping(s) still live at %s: unmapped, all "
		     "writable pages marked written", in->ctx.name, n, when);
	if (lost)
		warn("%s: %u DMA iovec(s) overwritten while mapped: their "
		     "memory regions marked written", in->ctx.name, lost);
}
