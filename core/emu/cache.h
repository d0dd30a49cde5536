/*
 * The decoded-instruction cache (cache.c): decodes keyed by the linear
 * address of the instruction, validated on each hit against the bytes in
 * guest memory, so stores by any vCPU or DMA can never run stale code.
 * Internal to core/emu/.
 */
#ifndef HV_EMU_CACHE_H
#define HV_EMU_CACHE_H

#include "emu.h"

#include <string.h>

#define CACHE_SIZE 16384

struct centry {
	uint64_t lin;
	int mode;
	uint64_t b[2], m[2]; /* the instruction's bytes and their mask */
	struct emu_insn in;
};

static inline struct centry *emu_cache_slot(struct emu_cpu *cpu, uint64_t lin)
{
	struct centry *c = cpu->cache;

	return &c[(lin ^ (lin >> 14)) & (CACHE_SIZE - 1)];
}

/* 1 when cpu->in was filled from the cache for code at lin */
static inline int emu_cache_lookup(struct emu_cpu *cpu, uint64_t lin,
				   const uint8_t *host, unsigned avail, int mode)
{
	struct centry *e;

	if (!cpu->cache)
		return 0;
	e = emu_cache_slot(cpu, lin);
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

void emu_cache_init(struct emu_cpu *cpu);
void emu_cache_free(struct emu_cpu *cpu);
void emu_cache_store(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     int mode);
/* 1 when the guest-physical page holds cached decodes */
int emu_code_page(struct emu_cpu *cpu, uint64_t gpa);
void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, uint64_t len);

#endif
