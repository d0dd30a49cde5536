/*
 * The x86 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB,
 * displacement and immediates into a struct emu_insn. It reads only the
 * bytes it is given and never more than 15: the fuzzer runs it alone.
 */
#include <string.h>

#include "emu.h"

enum {
	D_M = 0x1,      /* ModRM follows */
	D_I8 = 0x2,     /* imm8 */
	D_IZ = 0x4,     /* imm16/32 by operand size */
	D_IV = 0x8,     /* imm16/32/64 by operand size (MOV r, imm) */
	D_I16 = 0x10,   /* imm16 */
	D_FAR = 0x20,   /* ptr16:16/32 */
	D_MOFFS = 0x40, /* moffs by address size */
	D_GRP3 = 0x80,  /* F6/F7: imm only for /0 and /1 */
	D_INV64 = 0x100,/* invalid in 64-bit mode */
	D_D64 = 0x200,  /* 64-bit operand by default in 64-bit mode */
	D_F64 = 0x400,  /* always 64-bit operand in 64-bit mode (near jumps) */
	D_UD = 0x800,   /* undefined */
};

#define M D_M
#define I8 D_I8
#define IZ D_IZ

static const uint16_t map1[256] = {
	/* 00 */ M, M, M, M, I8, IZ, D_INV64, D_INV64,
	/* 08 */ M, M, M, M, I8, IZ, D_INV64, 0,
	/* 10 */ M, M, M, M, I8, IZ, D_INV64, D_INV64,
	/* 18 */ M, M, M, M, I8, IZ, D_INV64, D_INV64,
	/* 20 */ M, M, M, M, I8, IZ, 0, D_INV64,
	/* 28 */ M, M, M, M, I8, IZ, 0, D_INV64,
	/* 30 */ M, M, M, M, I8, IZ, 0, D_INV64,
	/* 38 */ M, M, M, M, I8, IZ, 0, D_INV64,
	/* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 50 */ D_D64, D_D64, D_D64, D_D64, D_D64, D_D64, D_D64, D_D64,
	/* 58 */ D_D64, D_D64, D_D64, D_D64, D_D64, D_D64, D_D64, D_D64,
	/* 60 */ D_INV64, D_INV64, M | D_INV64, M, 0, 0, 0, 0,
	/* 68 */ IZ | D_D64, M | IZ, I8 | D_D64, M | I8, 0, 0, 0, 0,
	/* 70 */ I8 | D_F64, I8 | D_F64, I8 | D_F64, I8 | D_F64,
	/* 74 */ I8 | D_F64, I8 | D_F64, I8 | D_F64, I8 | D_F64,
	/* 78 */ I8 | D_F64, I8 | D_F64, I8 | D_F64, I8 | D_F64,
	/* 7c */ I8 | D_F64, I8 | D_F64, I8 | D_F64, I8 | D_F64,
	/* 80 */ M | I8, M | IZ, M | I8 | D_INV64, M | I8, M, M, M, M,
	/* 88 */ M, M, M, M, M, M, M, M | D_D64,
	/* 90 */ 0, 0, 0, 0, 0, 0, 0, 0,
	/* 98 */ 0, 0, D_FAR | D_INV64, 0, D_D64, D_D64, 0, 0,
	/* a0 */ D_MOFFS, D_MOFFS, D_MOFFS, D_MOFFS, 0, 0, 0, 0,
	/* a8 */ I8, IZ, 0, 0, 0, 0, 0, 0,
	/* b0 */ I8, I8, I8, I8, I8, I8, I8, I8,
	/* b8 */ D_IV, D_IV, D_IV, D_IV, D_IV, D_IV, D_IV, D_IV,
	/* c0 */ M | I8, M | I8, D_I16 | D_F64, D_F64, M | D_INV64, M | D_INV64, M | I8, M | IZ,
	/* c8 */ D_I16 | I8 | D_D64, D_D64, D_I16, 0, 0, I8, D_INV64, 0,
	/* d0 */ M, M, M, M, I8 | D_INV64, I8 | D_INV64, D_INV64, 0,
	/* d8 */ M, M, M, M, M, M, M, M,
	/* e0 */ I8 | D_F64, I8 | D_F64, I8 | D_F64, I8 | D_F64, I8, I8, I8, I8,
	/* e8 */ IZ | D_F64, IZ | D_F64, D_FAR | D_INV64, I8 | D_F64, 0, 0, 0, 0,
	/* f0 */ 0, 0, 0, 0, 0, 0, M | D_GRP3, M | D_GRP3,
	/* f8 */ 0, 0, 0, 0, 0, 0, M, M,
};

/* The 0F map: which opcodes have no ModRM, and which take an imm8. */
static uint16_t map2_flags(uint8_t b)
{
	switch (b) {
	case 0x04: case 0x0a: case 0x0c: case 0x0f:
	case 0x24: case 0x25: case 0x26: case 0x27:
	case 0x36: case 0x39: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
	case 0x3f: case 0x7a: case 0x7b: case 0xff:
		return D_UD;
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b:
	case 0x0e: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34:
	case 0x35: case 0x37: case 0x77: case 0xa2: case 0xaa:
		return 0;
	case 0xa0: case 0xa1: case 0xa8: case 0xa9:
		return D_D64;
	case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac:
	case 0xba: case 0xc2: case 0xc4: case 0xc5: case 0xc6:
		return M | I8;
	}
	if (b >= 0x80 && b <= 0x8f)
		return IZ | D_F64;
	if (b >= 0xc8 && b <= 0xcf)
		return 0;
	return M;
}

#undef M
#undef I8
#undef IZ

struct rd {
	const uint8_t *p;
	unsigned n, avail;
	unsigned max; /* 15, or 10 on a 286 */
	int err;      /* 1: ran out of bytes, 2: longer than max */
};

static uint64_t get(struct rd *r, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	if (r->n + size > r->max) {
		r->err = 2;
		return 0;
	}
	if (r->n + size > r->avail) {
		r->err = 1;
		return 0;
	}
	for (i = 0; i < size; i++)
		v |= (uint64_t)r->p[r->n + i] << (8 * i);
	r->n += size;
	return v;
}

static int64_t sx(uint64_t v, unsigned size)
{
	unsigned sh = 64 - 8 * size;

	return (int64_t)(v << sh) >> sh;
}

static void decode_modrm16(struct emu_insn *in, struct rd *r)
{
	static const uint8_t b16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
	static const uint8_t i16[8] = { 6, 7, 6, 7, 0xff, 0xff, 0xff, 0xff };

	in->base = b16[in->rm & 7];
	in->index = i16[in->rm & 7];
	if (in->mod == 0 && (in->rm & 7) == 6) {
		in->base = 0xff;
		in->disp = sx(get(r, 2), 2);
	} else if (in->mod == 1) {
		in->disp = sx(get(r, 1), 1);
	} else if (in->mod == 2) {
		in->disp = sx(get(r, 2), 2);
	}
	/* BP-based forms default to SS */
	if (!in->segovr && in->base == 5)
		in->seg = X86_SS;
}

static void decode_modrm32(struct emu_insn *in, struct rd *r, int mode64)
{
	unsigned rm = in->rm & 7;

	in->index = 0xff;
	in->base = in->rm;
	if (rm == 4) {
		uint8_t sib = (uint8_t)get(r, 1);
		unsigned idx = ((sib >> 3) & 7) | ((in->rex & 2) << 2);

		in->scale = sib >> 6;
		in->index = idx == 4 ? 0xff : idx;
		in->base = (sib & 7) | ((in->rex & 1) << 3);
		if ((sib & 7) == 5 && in->mod == 0) {
			in->base = 0xff;
			in->disp = sx(get(r, 4), 4);
		}
	} else if (rm == 5 && in->mod == 0) {
		in->base = 0xff;
		in->disp = sx(get(r, 4), 4);
		in->riprel = mode64;
	}
	if (in->mod == 1)
		in->disp = sx(get(r, 1), 1);
	else if (in->mod == 2)
		in->disp = sx(get(r, 4), 4);
	if (!in->segovr && (in->base == 4 || in->base == 5))
		in->seg = X86_SS;
}

static void prefixes(struct emu_insn *in, struct rd *r, int mode)
{
	while (!r->err) {
		uint8_t b;

		if (r->n >= r->max || r->n >= r->avail) {
			r->err = r->n >= r->max ? 2 : 1;
			return;
		}
		b = r->p[r->n];
		switch (b) {
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			in->segovr = 1;
			in->seg = (b >> 3) & 3; /* ES CS SS DS */
			break;
		case 0x64: case 0x65:
			in->segovr = 1;
			in->seg = b - 0x64 + X86_FS;
			break;
		case 0x66: in->pfx66 = 1; break;
		case 0x67: in->asize = 1; break; /* resolved by the caller */
		case 0xf0: in->lock = 1; break;
		case 0xf2: case 0xf3: in->rep = b; break;
		default:
			if (mode != 64 || (b & 0xf0) != 0x40)
				return;
			/* REX: kept only if the opcode follows directly */
			in->rex = b;
			r->n++;
			continue;
		}
		in->rex = 0;
		r->n++;
	}
}

static void sizes(struct emu_insn *in, int mode, uint16_t f)
{
	int a67 = in->asize;

	if (mode == 64) {
		in->asize = a67 ? 4 : 8;
		if (in->rex & 8)
			in->osize = 8;
		else if (f & D_F64)
			in->osize = 8;
		else if (in->pfx66)
			in->osize = 2;
		else
			in->osize = (f & D_D64) ? 8 : 4;
		return;
	}
	in->asize = (mode == 32) ^ a67 ? 4 : 2;
	in->osize = (mode == 32) ^ in->pfx66 ? 4 : 2;
}

static void decode_imm(struct emu_insn *in, struct rd *r, uint16_t f, int map)
{
	unsigned z = in->osize == 2 ? 2 : 4;

	if ((f & D_GRP3) && (in->reg & 7) > 1)
		return;
	if ((f & D_GRP3) && in->op == 0xf6)
		f = D_I8;
	else if (f & D_GRP3)
		f = D_IZ;
	if (f & D_I16) {
		in->imm = get(r, 2);
		if (f & D_I8)
			in->imm2 = get(r, 1);
		return;
	}
	if (f & D_I8)
		in->imm = (uint64_t)sx(get(r, 1), 1);
	if (f & D_IZ)
		in->imm = (uint64_t)sx(get(r, z), z);
	if (f & D_IV) {
		in->imm = get(r, in->osize);
	}
	if (f & D_FAR) {
		in->imm = get(r, z);
		in->imm2 = get(r, 2);
	}
	if (f & D_MOFFS)
		in->imm = get(r, in->asize);
}

static void decode_modrm(struct emu_insn *in, struct rd *r, int mode)
{
	uint8_t m = (uint8_t)get(r, 1);

	in->has_modrm = 1;
	in->mod = m >> 6;
	in->reg = ((m >> 3) & 7) | ((in->rex & 4) << 1);
	in->rm = (m & 7) | ((in->rex & 1) << 3);
	in->base = in->index = 0xff;
	if (in->mod == 3 || r->err)
		return;
	if (in->asize == 2)
		decode_modrm16(in, r);
	else
		decode_modrm32(in, r, mode == 64);
}

static uint16_t opcode(struct emu_insn *in, struct rd *r, int *map)
{
	uint8_t b = (uint8_t)get(r, 1);

	*map = 0;
	if (b != 0x0f) {
		in->op = b;
		return map1[b];
	}
	b = (uint8_t)get(r, 1);
	if (b == 0x38 || b == 0x3a) {
		*map = b == 0x38 ? 2 : 3;
		in->op = (uint16_t)(*map << 8 | (uint8_t)get(r, 1));
		return *map == 3 ? (D_M | D_I8) : D_M;
	}
	*map = 1;
	in->op = 0x100 | b;
	return map2_flags(b);
}

int emu_decode(struct emu_insn *in, const uint8_t *buf, unsigned avail,
	       int mode)
{
	struct rd r = { .p = buf, .n = 0, .avail = avail, .max = 15 };
	uint16_t f = 0;
	int map;

	if (mode & EMU_DEC_286) {
		r.max = 10;
		mode &= ~EMU_DEC_286;
	}
	memset(in, 0, sizeof(*in));
	in->seg = X86_DS;
	in->base = in->index = 0xff;
	prefixes(in, &r, mode);
	if (r.err)
		goto out;
	f = opcode(in, &r, &map);
	if (r.err)
		goto out;
	if (mode == 64 && map == 0 && (f & D_INV64))
		f = D_UD;
	/* C4/C5 are LES/LDS outside 64-bit mode (VEX is not offered) */
	sizes(in, mode, f);
	if (f & D_M)
		decode_modrm(in, &r, mode);
	if (!r.err)
		decode_imm(in, &r, f, map);
out:
	in->len = (uint8_t)r.n;
	if (r.err == 1)
		return -2;
	if (r.err == 2)
		return -3;
	return (f & D_UD) ? -1 : 0;
}
