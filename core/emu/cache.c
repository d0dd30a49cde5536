/*
 * The decoded-instruction cache: direct-mapped on the instruction's
 * linear address and decode mode, and validated on every hit against the
 * instruction's bytes in guest memory (at most 15, usually 2-5). That
 * check replaces invalidation: code changed by this vCPU, another vCPU
 * or a device's DMA simply misses, so self-modifying code and SMP need no
 * write tracking, and a stale entry can never execute.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define CACHE_SIZE 16384

struct centry {
	uint64_t lin;
	int mode;
	uint64_t b[2], m[2]; /* the instruction's bytes and their mask */
	struct emu_insn in;
};

void emu_cache_init(struct emu_cpu *cpu)
{
	struct centry *c = calloc(CACHE_SIZE, sizeof(*c));
	int i;

	if (c)
		for (i = 0; i < CACHE_SIZE; i++)
			c[i].lin = ~0ull;
	cpu->cache = c;
}

void emu_cache_free(struct emu_cpu *cpu)
{
	free(cpu->cache);
	cpu->cache = NULL;
}

static struct centry *slot(struct emu_cpu *cpu, uint64_t lin)
{
	struct centry *c = cpu->cache;

	return &c[(lin ^ (lin >> 14)) & (CACHE_SIZE - 1)];
}

int emu_cache_lookup(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     unsigned avail, int mode)
{
	struct centry *e;

	if (!cpu->cache)
		return 0;
	e = slot(cpu, lin);
	if (e->lin != lin || e->mode != mode || e->in.len > avail)
		return 0;
	if (avail >= 16) {
		uint64_t w[2];

		memcpy(w, host, 16);
		if (((w[0] ^ e->b[0]) & e->m[0]) | ((w[1] ^ e->b[1]) & e->m[1]))
			return 0;
	} else if (memcmp(e->b, host, e->in.len)) {
		return 0;
	}
	cpu->in = e->in;
	return 1;
}

void emu_cache_store(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     int mode)
{
	struct centry *e;

	if (!cpu->cache)
		return;
	e = slot(cpu, lin);
	e->lin = lin;
	e->mode = mode;
	memset(e->b, 0, sizeof(e->b));
	memcpy(e->b, host, cpu->in.len);
	e->m[0] = cpu->in.len >= 8 ? ~0ull : (1ull << (8 * cpu->in.len)) - 1;
	e->m[1] = cpu->in.len <= 8 ? 0 : cpu->in.len >= 16 ? ~0ull :
		  (1ull << (8 * (cpu->in.len - 8))) - 1;
	e->in = cpu->in;
}

int emu_code_page(struct emu_cpu *cpu, uint64_t gpa)
{
	return 0;
}

void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, uint64_t len)
{
}

void emu_mem_written(struct emu_cpu *cpu, uint64_t gpa, uint64_t len)
{
	/* nothing to drop: cached decodes re-check their bytes */
}
