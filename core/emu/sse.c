/* SSE/SSE2 (not yet). */
#include "emu_int.h"

int emu_exec_sse(struct emu_cpu *cpu)
{
	return -1;
}

void emu_fxsave(struct emu_cpu *cpu, uint64_t lin)
{
}

void emu_fxrstor(struct emu_cpu *cpu, uint64_t lin)
{
}
