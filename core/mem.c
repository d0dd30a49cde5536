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

static int overlaps(const struct mem_map *m, uint64_t gpa, uint64_t size)
{
	for (int i = 0; i < m->n; i++)
		if (gpa < m->r[i].gpa + m->r[i].size && m->r[i].gpa < gpa + size)
			return 1;
	return 0;
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
		mem_log_free(m, i);
		munmap(m->r[i].hva, m->r[i].size);
		close(m->r[i].fd);
	}
	m->n = 0;
	m->ram_bytes = 0;
}

const struct mem_region *mem_find(const struct mem_map *m, uint64_t gpa)
{
	for (int i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *mem_ptr(struct mem_map *m, uint64_t gpa, uint64_t len, unsigned flags)
{
	const struct mem_region *r = mem_find(m, gpa);
	uint64_t off;

	if (!r || !len)
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
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
		uint64_t off = gpa - r->gpa, chunk = r->size - off;

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

/* ---- dirty logging (the minimal form of branch sdk-devmem's) ---- */
void mem_mark_dirty(struct mem_map *m, uint64_t gpa, uint64_t len)
{
	if (!len || !__atomic_load_n(&m->logging, __ATOMIC_ACQUIRE))
		return;
	if (gpa + len < gpa)
		len = -gpa;
	for (int i = 0; i < m->n; i++) {
		struct mem_region *r = &m->r[i];
		uint64_t *d = __atomic_load_n(&r->dirty, __ATOMIC_ACQUIRE);
		uint64_t a = r->gpa, lo, hi;

		if (!d || gpa >= a + r->size || a >= gpa + len)
			continue;
		lo = (gpa > a ? gpa - a : 0) / MEM_PAGE;
		hi = ((gpa + len < a + r->size ? gpa + len : a + r->size) - a - 1) /
		     MEM_PAGE;
		for (uint64_t p = lo; p <= hi; p++)
			__atomic_fetch_or(&d[p / 64], 1ull << (p % 64),
					  __ATOMIC_SEQ_CST);
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
	r->dirty = calloc(1, mem_log_bytes(r->size));
	if (!r->dirty)
		return -ENOMEM;
	__atomic_fetch_add(&m->logging, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void mem_log_free(struct mem_map *m, int i)
{
	if (i < 0 || i >= m->n || !m->r[i].dirty)
		return;
	free(m->r[i].dirty);
	m->r[i].dirty = NULL;
	__atomic_fetch_sub(&m->logging, 1, __ATOMIC_SEQ_CST);
}

int mem_log_take(struct mem_map *m, int i, uint64_t *bitmap,
		 size_t bitmap_bytes, int clear)
{
	uint64_t *d;
	size_t have;

	if (i < 0 || i >= m->n || bitmap_bytes % 8)
		return -EINVAL;
	if (!(d = m->r[i].dirty))
		return -ENOENT;
	have = mem_log_bytes(m->r[i].size) / 8;
	for (size_t w = 0; w < bitmap_bytes / 8; w++) {
		if (w >= have)
			bitmap[w] = 0;
		else if (clear)
			bitmap[w] = __atomic_exchange_n(&d[w], 0, __ATOMIC_SEQ_CST);
		else
			bitmap[w] = __atomic_load_n(&d[w], __ATOMIC_SEQ_CST);
	}
	return 0;
}

unsigned mem_dma_busy(const struct mem_map *m, uint64_t gpa, uint64_t len)
{
	unsigned n = 0;

	for (int i = 0; i < m->n; i++)
		if (gpa < m->r[i].gpa + m->r[i].size && m->r[i].gpa < gpa + len)
			n += atomic_load(&m->r[i].dma_maps);
	return n;
}
