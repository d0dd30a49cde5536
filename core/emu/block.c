/*
 * Straight-line blocks: up to BLK_MAX decoded instructions that have fast
 * handlers (fast.c), ended by a branch, by any other instruction (run as
 * the block's last), or by the page's end. A block is looked up by the
 * linear address of its first instruction and checked against all of its
 * code bytes in guest memory before each run, as the per-instruction
 * cache is, so code changed by any vCPU or DMA never runs stale; a store
 * of the block itself into its own page ends it after that store.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#define BLK_MAX 16
#define BLK_BYTES 96
#define BLK_SLOTS 2048

struct blk {
	uint64_t lin;
	int mode;
	uint8_t n, nbytes;
	uint8_t bytes[BLK_BYTES];
	struct emu_insn in[BLK_MAX];
};

void emu_block_init(struct emu_cpu *cpu)
{
	struct blk *b = calloc(BLK_SLOTS, sizeof(*b));

	if (b)
		for (unsigned i = 0; i < BLK_SLOTS; i++)
			b[i].lin = ~0ull;
	cpu->blocks = b;
	cpu->blk_page = ~0ull;
}

void emu_block_free(struct emu_cpu *cpu)
{
	free(cpu->blocks);
	cpu->blocks = NULL;
}

static int build(struct blk *b, uint64_t lin, const uint8_t *p, int mode)
{
	unsigned off = 0, avail = 4096 - (lin & 0xfff), n = 0;

	while (n < BLK_MAX && off < avail) {
		struct emu_insn *in = &b->in[n];
		unsigned left = avail - off;

		if (emu_decode(in, p + off, left < 15 ? left : 15, mode))
			break; /* step() raises the fault, or fetches across */
		if (off + in->len > BLK_BYTES)
			break;
		/* SYSCALL/SYSRET single-step on the TF they end with: step() */
		if (in->op == 0x105 || in->op == 0x107)
			break;
		in->fast = emu_fast_pick(in, mode);
		off += in->len;
		n++;
		/* a branch, or an instruction that may change anything */
		if (!in->fast || (in->op >= 0x70 && in->op <= 0x7f) ||
		    (in->op >= 0x180 && in->op <= 0x18f))
			break;
	}
	if (!n) {
		b->lin = ~0ull;
		return 0;
	}
	b->n = (uint8_t)n;
	b->nbytes = (uint8_t)off;
	memcpy(b->bytes, p, off);
	b->lin = lin;
	b->mode = mode;
	return 1;
}

/* The block's bytes against guest memory: words while inside the page */
static int same_bytes(const struct blk *b, const uint8_t *p, uint64_t lin)
{
	unsigned n = b->nbytes, i;
	uint64_t x = 0, y;

	if ((lin & 0xfff) + ((n + 7u) & ~7u) > 4096)
		return !memcmp(b->bytes, p, n);
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&y, p + i, 8);
		memcpy(&x, b->bytes + i, 8);
		if (x != y)
			return 0;
	}
	if (i < n) {
		uint64_t m = (1ull << (8 * (n - i))) - 1;

		memcpy(&y, p + i, 8);
		memcpy(&x, b->bytes + i, 8);
		if ((x ^ y) & m)
			return 0;
	}
	return 1;
}

unsigned emu_block_run(struct emu_cpu *cpu, const struct fetch_ctx *f,
		       uint64_t lin, const uint8_t *p, uint64_t budget,
		       int *dirty)
{
	struct blk *b = cpu->blocks;
	uint64_t rip = cpu->rip, ipm = f->ip_mask;
	const struct emu_insn *in, *end;

	if (!b)
		return 0;
	b += (lin ^ (lin >> 11)) & (BLK_SLOTS - 1);
	if (b->lin != lin || b->mode != f->mode || !same_bytes(b, p, lin))
		if (!build(b, lin, p, f->mode))
			return 0;
	if (b->n > budget || rip + b->nbytes > f->rip_max)
		return 0;
	cpu->blk_page = lin & ~0xfffull;
	cpu->blk_stop = 0;
	for (in = b->in, end = in + b->n; in < end; in++) {
		uint64_t next = (rip + in->len) & ipm;

		cpu->rip = rip; /* where a fault is reported */
		cpu->next_rip = next;
		if (in->has_modrm && in->mod != 3)
			cpu->ea = ea_of(cpu, in);
		if (!in->fast) {
			cpu->in = *in;
			emu_exec(cpu);
			cpu->rip = cpu->next_rip;
			cpu->icount++;
			if (cpu->shadow && !--cpu->shadow)
				cpu->shadow_ss = 0;
			cpu->exc_first = -1;
			cpu->blk_page = ~0ull;
			*dirty = 1;
			return (unsigned)(in - b->in) + 1;
		}
		in->fast(cpu, in);
		cpu->icount++;
		rip = cpu->next_rip;
		if (cpu->blk_stop) {
			in++;
			break;
		}
	}
	cpu->rip = rip;
	cpu->blk_page = ~0ull;
	return (unsigned)(in - b->in);
}
