/* The decoded-instruction cache; see cache.h. */
#include "cache.h"

void emu_cache_init(struct emu_cpu *cpu)
{
}

void emu_cache_free(struct emu_cpu *cpu)
{
}

int emu_cache_lookup(struct emu_cpu *cpu, uint64_t lin, const uint8_t *host,
		     int mode)
{
	return 0;
}

void emu_cache_store(struct emu_cpu *cpu, uint64_t lin, int mode)
{
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
	emu_code_written(cpu, gpa, len);
}
