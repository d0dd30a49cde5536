/*
 * The decoded-instruction cache (cache.c): decodes keyed by the linear
 * address of the instruction, validated on each hit against the bytes in
 * guest memory, so stores by any vCPU or DMA can never run stale code.
 * Internal to core/emu/.
 */
#ifndef HV_EMU_CACHE_H
#define HV_EMU_CACHE_H

#include "emu.h"

void emu_cache_init(struct emu_cpu *cpu);
void emu_cache_free(struct emu_cpu *cpu);
/* 1 when cpu->in was filled from the cache for code at lin */
int emu_cache_lookup(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     unsigned avail, int mode);
void emu_cache_store(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     int mode);
/* 1 when the guest-physical page holds cached decodes */
int emu_code_page(struct emu_cpu *cpu, uint64_t gpa);
void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, uint64_t len);

#endif
