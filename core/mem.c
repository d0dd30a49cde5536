/*
 * Guest RAM lives in memfds mapped MAP_SHARED: a snapshot can write the
 * memory out (or share it copy-on-write with a fork) and dynamic memory can
 * punch holes in it, without the guest's view changing.
 */
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int mem_overlaps(const struct mem_map *m, uint64_t gpa, uint64_t len,
		 int except)
{
	for (int i = 0; i < m->n; i++) {
		uint64_t sz = __atomic_load_n(&m->r[i].size, __ATOMIC_ACQUIRE);

		if (i != except && sz && gpa < m->r[i].gpa + sz &&
		    m->r[i].gpa < gpa + len)
			return 1;
	}
	return 0;
}

static int overlaps(const struct mem_map *m, uint64_t gpa, uint64_t size)
{
	return mem_overlaps(m, gpa, size, -1);
}

/* Regions move in the array as others are added: a live DMA mapping (and
 * a vCPU thread counting it) must never see that. */
static int dma_live(const struct mem_map *m)
{
	for (int i = 0; i < m->n; i++)
		if (atomic_load(&m->r[i].dma_maps))
			return 1;
	return 0;
}

static struct mem_region *add(struct mem_map *m, const char *name,
			      uint64_t gpa, uint64_t size, int kind)
{
	struct mem_region *r;
	int fd;
	void *p;

	if (!size || gpa + size < gpa || (gpa | size) & (MEM_PAGE - 1) ||
	    m->n == MEM_MAX_REGIONS || overlaps(m, gpa, size)) {
		errno = EINVAL;
		return NULL;
	}
	if (dma_live(m)) {
		errno = EBUSY;
		return NULL;
	}
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	madvise(p, size, MADV_DONTDUMP);
	/* keep regions sorted by address: lookups walk them in order */
	int at = m->n;
	while (at > 0 && m->r[at - 1].gpa > gpa) {
		m->r[at] = m->r[at - 1];
		at--;
	}
	r = &m->r[at];
	memset(r, 0, sizeof(*r));
	r->gpa = gpa;
	r->size = size;
	r->len = size;
	r->hva = p;
	r->fd = fd;
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", name);
	m->n++;
	for (int i = 0; i < m->n; i++)
		m->r[i].slot = i;
	if (kind == MEM_RAM)
		m->ram_bytes += size;
	return r;
}

int mem_add_ram(struct mem_map *m, const char *name, uint64_t gpa,
		uint64_t size)
{
	return add(m, name, gpa, size, MEM_RAM) ? 0 : -errno;
}

int mem_add_rom(struct mem_map *m, const char *name, uint64_t gpa,
		const void *data, uint64_t size)
{
	uint64_t rounded = (size + MEM_PAGE - 1) & ~(MEM_PAGE - 1);
	struct mem_region *r = add(m, name, gpa, rounded, MEM_ROM);

	if (!r)
		return -errno;
	memcpy(r->hva, data, size);
	return 0;
}

void mem_destroy(struct mem_map *m)
{
	for (int i = 0; i < m->n; i++) {
		if (!(m->r[i].flags & MEM_F_ALIAS)) {
			munmap(m->r[i].hva, m->r[i].len);
			close(m->r[i].fd);
		}
		free(m->r[i].dirty_mem);
	}
	m->n = 0;
	m->ram_bytes = 0;
	m->logging = 0;
}

/* ---- placeable entries ---- */

static struct mem_region *append(struct mem_map *m, const char *name)
{
	struct mem_region *r;

	if (m->n == MEM_MAX_REGIONS)
		return NULL;
	r = &m->r[m->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->slot = (unsigned)m->n;
	r->flags = MEM_F_FIXED;
	return r;
}

int mem_add_dev(struct mem_map *m, const char *name, uint64_t len)
{
	struct mem_region *r = append(m, name);
	void *p;
	int fd;

	if (!r)
		return -ENOSPC;
	if (!len || len & (MEM_PAGE - 1))
		return -EINVAL;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len))
		goto out_close;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out_close;
	madvise(p, len, MADV_DONTDUMP);
	r->hva = p;
	r->fd = fd;
	r->len = len;
	r->kind = MEM_DEV;
	/* publish the entry only when it is whole: readers walk up to n */
	__atomic_store_n(&m->n, m->n + 1, __ATOMIC_RELEASE);
	return m->n - 1;
out_close:
	close(fd);
	return -ENOMEM;
}

int mem_add_alias(struct mem_map *m, const char *name, int of, uint64_t off,
		  uint64_t len, int kind)
{
	struct mem_region *r;
	const struct mem_region *o;

	if (of < 0 || of >= m->n)
		return -EINVAL;
	o = &m->r[of];
	if (!len || (off | len) & (MEM_PAGE - 1) || off > o->len ||
	    len > o->len - off)
		return -EINVAL;
	if (!(r = append(m, name)))
		return -ENOSPC;
	r->hva = o->hva + off;
	r->fd = o->fd;
	r->fd_offset = o->fd_offset + off;
	r->len = len;
	r->kind = kind;
	r->flags |= MEM_F_ALIAS;
	__atomic_store_n(&m->n, m->n + 1, __ATOMIC_RELEASE);
	return m->n - 1;
}

int mem_split(struct mem_map *m, int i, uint64_t gpa)
{
	struct mem_region *r;
	uint64_t off;
	int hi;

	if (i < 0 || i >= m->n)
		return -EINVAL;
	r = &m->r[i];
	off = gpa - r->gpa;
	if (r->kind != MEM_RAM || gpa <= r->gpa || off >= r->size ||
	    off & (MEM_PAGE - 1))
		return -EINVAL;
	hi = mem_add_alias(m, r->name, i, off, r->size - off, MEM_RAM);
	if (hi < 0)
		return hi;
	m->r[hi].gpa = gpa;
	m->r[hi].size = r->size - off;
	r->size = off;
	/* an alias maps nothing of its own: its len is just what it covers */
	if (r->flags & MEM_F_ALIAS)
		r->len = off;
	return hi;
}

int mem_place(struct mem_map *m, int i, uint64_t gpa)
{
	struct mem_region *r;

	if (i < 0 || i >= m->n || !(m->r[i].flags & MEM_F_FIXED))
		return -EINVAL;
	r = &m->r[i];
	if (gpa & (MEM_PAGE - 1) || gpa + r->len < gpa)
		return -EINVAL;
	if (mem_overlaps(m, gpa, r->len, i))
		return -EBUSY;
	__atomic_store_n(&r->size, 0, __ATOMIC_RELEASE);
	r->gpa = gpa;
	__atomic_store_n(&r->size, r->len, __ATOMIC_RELEASE);
	return 0;
}

void mem_unplace(struct mem_map *m, int i)
{
	if (i >= 0 && i < m->n && (m->r[i].flags & MEM_F_FIXED))
		__atomic_store_n(&m->r[i].size, 0, __ATOMIC_RELEASE);
}

/* ---- dirty logging ---- */

static void set_bits(uint64_t *d, uint64_t first, uint64_t last)
{
	for (uint64_t p = first; p <= last; p++) {
		uint64_t bit = 1ull << (p % 64);

		/* look first: a page written over and over stays one load */
		if (!(__atomic_load_n(&d[p / 64], __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(&d[p / 64], bit, __ATOMIC_SEQ_CST);
	}
}

void mem_mark_dirty(struct mem_map *m, uint64_t gpa, uint64_t len)
{
	if (!len || !__atomic_load_n(&m->logging, __ATOMIC_ACQUIRE))
		return;
	if (gpa + len < gpa)
		len = -gpa;
	for (int i = 0; i < __atomic_load_n(&m->n, __ATOMIC_ACQUIRE); i++) {
		struct mem_region *r = &m->r[i];
		uint64_t *d = __atomic_load_n(&r->dirty, __ATOMIC_ACQUIRE);
		uint64_t sz = __atomic_load_n(&r->size, __ATOMIC_ACQUIRE);
		uint64_t a = r->gpa, lo, hi;

		if (!d || !sz || gpa >= a + sz || a >= gpa + len)
			continue;
		lo = gpa > a ? gpa - a : 0;
		hi = (gpa + len < a + sz ? gpa + len : a + sz) - a - 1;
		if (hi >= r->len) /* a move in between: stay inside the bitmap */
			continue;
		set_bits(d, lo / MEM_PAGE, hi / MEM_PAGE);
	}
}

int mem_log_alloc(struct mem_map *m, int i)
{
	struct mem_region *r;

	if (i < 0 || i >= m->n)
		return -EINVAL;
	r = &m->r[i];
	if (r->dirty)
		return 0;
	if (!r->dirty_mem && !(r->dirty_mem = calloc(1, mem_log_bytes(r->len))))
		return -ENOMEM;
	memset(r->dirty_mem, 0, mem_log_bytes(r->len));
	__atomic_store_n(&r->dirty, r->dirty_mem, __ATOMIC_RELEASE);
	__atomic_fetch_add(&m->logging, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void mem_log_free(struct mem_map *m, int i)
{
	if (i < 0 || i >= m->n || !m->r[i].dirty)
		return;
	__atomic_store_n(&m->r[i].dirty, NULL, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&m->logging, 1, __ATOMIC_SEQ_CST);
}

int mem_log_take(struct mem_map *m, int i, uint64_t *bitmap,
		 size_t bitmap_bytes, int clear)
{
	uint64_t *d;
	size_t words, have;

	if (i < 0 || i >= m->n || bitmap_bytes % 8)
		return -EINVAL;
	if (!(d = __atomic_load_n(&m->r[i].dirty, __ATOMIC_ACQUIRE)))
		return -ENOENT;
	words = bitmap_bytes / 8;
	have = mem_log_bytes(m->r[i].len) / 8;
	for (size_t w = 0; w < words; w++) {
		if (w >= have)
			bitmap[w] = 0;
		else if (clear)
			bitmap[w] = __atomic_exchange_n(&d[w], 0, __ATOMIC_SEQ_CST);
		else
			bitmap[w] = __atomic_load_n(&d[w], __ATOMIC_SEQ_CST);
	}
	return 0;
}

const struct mem_region *mem_find(const struct mem_map *m, uint64_t gpa)
{
	int n = __atomic_load_n(&m->n, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		const struct mem_region *r = &m->r[i];
		uint64_t sz = __atomic_load_n(&r->size, __ATOMIC_ACQUIRE);

		if (sz && gpa >= r->gpa && gpa - r->gpa < sz)
			return r;
	}
	return NULL;
}

void *mem_ptr(struct mem_map *m, uint64_t gpa, uint64_t len, unsigned flags)
{
	const struct mem_region *r = mem_find(m, gpa);
	uint64_t off, sz;

	if (!r || !len)
		return NULL;
	/* gpa read once, then the size: a move in between leaves an offset
	 * that fails the check or still lies inside the entry's memory */
	off = gpa - __atomic_load_n(&r->gpa, __ATOMIC_ACQUIRE);
	sz = __atomic_load_n(&r->size, __ATOMIC_ACQUIRE);
	if (off >= sz || len > sz - off) /* sz: moved meanwhile? */
		return NULL;
	if (flags & MEM_WRITE) {
		if (r->kind != MEM_RAM)
			return NULL;
		mem_mark_dirty(m, gpa, len);
		if (m->write_hook)
			m->write_hook(m->hook_opaque, gpa, len);
	}
	return r->hva + off;
}

/* Check the whole range first, so a failing copy changes nothing. */
static int range_ok(const struct mem_map *m, uint64_t gpa, uint64_t len,
		    int write, int rom_ok)
{
	while (len) {
		const struct mem_region *r = mem_find(m, gpa);
		uint64_t chunk;

		if (!r || (write && r->kind != MEM_RAM && !rom_ok))
			return 0;
		chunk = r->size - (gpa - r->gpa);
		if (chunk >= len)
			return 1;
		len -= chunk;
		gpa += chunk;
	}
	return 1;
}

static int copy(struct mem_map *m, uint64_t gpa, void *buf, uint64_t len,
		int write, int rom_ok)
{
	uint8_t *b = buf;

	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	if (!range_ok(m, gpa, len, write, rom_ok))
		return -EFAULT;
	while (len) {
		const struct mem_region *r = mem_find(m, gpa);
		uint64_t off, chunk, sz;

		uint64_t base;

		/* a device region moved since range_ok: stop inside its memory.
		 * Its gpa is read once: a move between two reads would give an
		 * offset checked against one place and used at another. */
		if (!r)
			return -EFAULT;
		sz = __atomic_load_n(&r->size, __ATOMIC_ACQUIRE);
		base = __atomic_load_n(&r->gpa, __ATOMIC_ACQUIRE);
		if (sz > r->len || gpa < base || gpa - base >= sz)
			return -EFAULT;
		off = gpa - base;
		chunk = sz - off;
		if (chunk > len)
			chunk = len;
		if (write)
			memcpy(r->hva + off, b, chunk);
		else
			memcpy(b, r->hva + off, chunk);
		if (write)
			mem_mark_dirty(m, gpa, chunk);
		if (write && m->write_hook)
			m->write_hook(m->hook_opaque, gpa, chunk);
		b += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int mem_read(struct mem_map *m, uint64_t gpa, void *buf, uint64_t len)
{
	return copy(m, gpa, buf, len, 0, 0);
}

int mem_write(struct mem_map *m, uint64_t gpa, const void *buf, uint64_t len)
{
	return copy(m, gpa, (void *)buf, len, 1, 0);
}

int mem_load(struct mem_map *m, uint64_t gpa, const void *buf, uint64_t len)
{
	return copy(m, gpa, (void *)buf, len, 1, 1);
}

/* Live DMA mappings into [gpa, gpa+len) of placed entries. */
unsigned mem_dma_busy(const struct mem_map *m, uint64_t gpa, uint64_t len)
{
	unsigned n = 0;

	for (int i = 0; i < m->n; i++)
		if (gpa < m->r[i].gpa + m->r[i].size && m->r[i].gpa < gpa + len)
			n += atomic_load(&m->r[i].dma_maps);
	return n;
}
