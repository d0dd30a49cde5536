/*
 * libFuzzer target over the instruction decoder (and one step of the
 * interpreter): the first byte picks the mode, the rest is code. The
 * decoder must never read past its input or the 15-byte limit; the step
 * must never touch host memory outside the guest's 1 MiB.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"

#define RAM (1u << 20)

static uint8_t *ram;

static uint8_t *f_page(void *o, uint64_t gpa, int *rom)
{
	*rom = 0;
	return gpa < RAM ? ram + (gpa & ~0xfffull) : NULL;
}

static int f_io(void *o, uint64_t a, unsigned s, int w, uint64_t *v)
{
	return -ENOENT;
}

static int f_pio(void *o, uint16_t p, unsigned s, int w, uint64_t *v)
{
	return -ENOENT;
}

static uint64_t f_clock(void *o)
{
	return 0;
}

static const struct emu_host host = {
	.page = f_page, .mmio = f_io, .pio = f_pio, .clock_ns = f_clock,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int modes[4] = { 16, 32, 64, 16 | EMU_DEC_286 };
	static struct emu_cpu cpu;
	struct emu_insn in;
	uint8_t *copy;
	unsigned avail;

	if (size < 1)
		return 0;
	avail = size - 1 > 32 ? 32 : (unsigned)(size - 1);
	/* an exact-size heap copy: ASan catches any read past the input */
	copy = malloc(avail ? avail : 1);
	memcpy(copy, data + 1, avail);
	emu_decode(&in, copy, avail, modes[data[0] & 3]);
	free(copy);

	/* one real-mode step of the same bytes at 0x1000 */
	if (!ram)
		ram = calloc(1, RAM);
	emu_cpu_init(&cpu, &host);
	cpu.quiet = 1;
	cpu.stop_on_exc = 1;
	memset(ram, 0, 0x3000);
	memcpy(ram + 0x1000, data + 1, avail);
	{
		struct x86_state st;

		emu_get_state(&cpu, &st);
		st.seg[X86_CS].sel = 0;
		st.seg[X86_CS].base = 0;
		st.rip = 0x1000;
		st.gpr[X86_RSP] = 0x2000;
		st.gpr[X86_RCX] = data[0] >> 2; /* small REP counts */
		st.idt.limit = 0x3ff;
		emu_set_state(&cpu, &st);
	}
	emu_run(&cpu, 1);
	emu_cpu_free(&cpu);
	return 0;
}
