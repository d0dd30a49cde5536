/* x87 FPU (not yet): every x87 opcode raises #UD (or #NM per CR0). */
#include "emu_int.h"

void emu_fpu_reset(struct emu_cpu *cpu)
{
	cpu->fpu.fcw = 0x37f;
	cpu->fpu.fsw = 0;
	cpu->fpu.ftw = 0xffff;
	cpu->fpu.top = 0;
}

int emu_exec_fpu(struct emu_cpu *cpu)
{
	if (cpu->cr0 & 0xc) /* EM or TS */
		emu_raise(cpu, EXC_NM, 0, 0);
	return -1;
}
