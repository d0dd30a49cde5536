/*
 * Integer arithmetic with x86 flag semantics: the ALU group, shifts and
 * rotates, multiply/divide, BCD adjust, bit scans. Results are returned;
 * flags go to cpu->lf (lazy) or straight to cpu->flags.
 */
#include "alu.h"

uint64_t emu_alu(struct emu_cpu *cpu, int op, unsigned size, uint64_t a,
		 uint64_t b)
{
	return alu_inline(cpu, op, size, a, b);
}

static int parity8(uint64_t r)
{
	return !__builtin_parity((unsigned)(r & 0xff));
}

/* Set OSZAPC from explicit values; the other bits stay. Without AF
 * lazily (shifts, multiplies): the next ADD or CMP usually replaces them
 * all before anything reads one. */
void emu_flags_szp(struct emu_cpu *cpu, unsigned size, uint64_t r, int cf,
		   int of, int af)
{
	uint64_t f = 0;

	if (!af) {
		lf_set(cpu, LF_SZP, size, 0, 0, r);
		cpu->lf.c = (uint8_t)((cf ? 1 : 0) | (of ? 2 : 0));
		return;
	}

	r &= size_mask(size);
	f |= cf ? FL_CF : 0;
	f |= of ? FL_OF : 0;
	f |= af ? FL_AF : 0;
	f |= r == 0 ? FL_ZF : 0;
	f |= (r & sign_bit(size)) ? FL_SF : 0;
	f |= parity8(r) ? FL_PF : 0;
	emu_set_flags(cpu, f, FL_ARITH);
}

static uint64_t rotate(struct emu_cpu *cpu, int op, unsigned size,
		       uint64_t v, unsigned cnt)
{
	unsigned bits = 8 * size, n;
	uint64_t m = size_mask(size), r, sb = sign_bit(size);
	uint64_t f = emu_get_flags(cpu), cf = f & FL_CF, of;

	switch (op) {
	case 0: /* ROL */
		n = cnt % bits;
		r = n ? ((v << n) | (v >> (bits - n))) & m : v;
		cf = r & 1;
		of = !!(r & sb) ^ cf;
		break;
	case 1: /* ROR */
		n = cnt % bits;
		r = n ? ((v >> n) | (v << (bits - n))) & m : v;
		cf = !!(r & sb);
		of = !!((r ^ (r << 1)) & sb);
		break;
	case 2: /* RCL */
		n = cnt % (bits + 1);
		r = v;
		while (n--) {
			uint64_t out = !!(r & sb);

			r = ((r << 1) | cf) & m;
			cf = out;
		}
		of = !!(r & sb) ^ cf;
		break;
	default: /* RCR */
		n = cnt % (bits + 1);
		r = v;
		while (n--) {
			uint64_t out = r & 1;

			r = (r >> 1) | (cf ? sb : 0);
			cf = out;
		}
		of = !!((r ^ (r << 1)) & sb);
		break;
	}
	f &= ~(uint64_t)(FL_CF | FL_OF);
	f |= (cf ? FL_CF : 0) | (of ? FL_OF : 0);
	emu_set_flags(cpu, f, FL_CF | FL_OF);
	return r;
}

static uint64_t shift(struct emu_cpu *cpu, int op, unsigned size, uint64_t v,
		      unsigned cnt)
{
	unsigned bits = 8 * size;
	uint64_t m = size_mask(size), r, sb = sign_bit(size);
	int cf, of;

	switch (op) {
	case 4: case 6: /* SHL/SAL */
		r = cnt >= 64 ? 0 : (v << cnt) & m;
		cf = cnt <= bits ? !!((v << (cnt - 1)) & sb) : 0;
		of = !!(r & sb) ^ cf;
		break;
	case 5: /* SHR */
		r = cnt >= 64 ? 0 : v >> cnt;
		cf = cnt <= bits ? !!((v >> (cnt - 1)) & 1) : 0;
		/* the 286 shifts bit by bit: OF comes from the last step */
		of = cpu->model286 && cnt > 1 ? 0 : !!(v & sb);
		break;
	default: { /* SAR */
		int64_t s = sext(v, size);

		r = (uint64_t)(s >> (cnt >= 64 ? 63 : cnt)) & m;
		cf = (int)((s >> (cnt - 1 >= 64 ? 63 : cnt - 1)) & 1);
		of = 0;
		break;
	}
	}
	emu_flags_szp(cpu, size, r, cf, of, 0);
	return r;
}

/* Group 2: op is the ModRM reg field. cnt is already masked. */
uint64_t emu_shift(struct emu_cpu *cpu, int op, unsigned size, uint64_t v,
		   unsigned cnt)
{
	v &= size_mask(size);
	if (cnt == 0)
		return v;
	if (op < 4)
		return rotate(cpu, op, size, v, cnt);
	return shift(cpu, op, size, v, cnt);
}

/* SHLD/SHRD: cnt already masked to 5 (6) bits. */
uint64_t emu_shxd(struct emu_cpu *cpu, int left, unsigned size, uint64_t d,
		  uint64_t s, unsigned cnt)
{
	unsigned bits = 8 * size;
	uint64_t m = size_mask(size), r, sb = sign_bit(size);
	int cf;

	d &= m;
	s &= m;
	if (cnt == 0)
		return d;
	if (size == 2 && cnt > 16) {
		/* undefined; do what a 386 does: treat as a 32-bit shift */
		uint64_t w = left ? (d << 16 | s) : (s << 16 | d);
		uint64_t x = left ? (w << cnt) >> 16 : w >> cnt;

		r = x & m;
		cf = left ? !!((w << (cnt - 1)) & 0x80000000u) :
			    !!((w >> (cnt - 1)) & 1);
	} else if (left) {
		r = ((d << cnt) | (cnt == bits ? s : s >> (bits - cnt))) & m;
		if (cnt == 64)
			r = s;
		cf = !!((d << (cnt - 1)) & sb);
	} else {
		r = ((d >> cnt) | (cnt == bits ? s : s << (bits - cnt))) & m;
		if (cnt == 64)
			r = s;
		cf = !!((d >> (cnt - 1)) & 1);
	}
	emu_flags_szp(cpu, size, r, cf, !!((r ^ d) & sb), 0);
	return r;
}

/* MUL/IMUL of rAX by v: F6/F7 /4 and /5. */
void emu_mul(struct emu_cpu *cpu, int sgn, unsigned size, uint64_t v)
{
	uint64_t a = reg_get(cpu, X86_RAX, size), lo, hi;
	int ovf;

	if (size == 8) {
		if (sgn) {
			__int128 p = (__int128)(int64_t)a * (int64_t)v;

			lo = (uint64_t)p;
			hi = (uint64_t)(p >> 64);
			ovf = (__int128)(int64_t)lo != p;
		} else {
			unsigned __int128 p = (unsigned __int128)a * v;

			lo = (uint64_t)p;
			hi = (uint64_t)(p >> 64);
			ovf = hi != 0;
		}
	} else {
		unsigned bits = 8 * size;
		uint64_t m = size_mask(size);

		if (sgn) {
			int64_t p = sext(a, size) * sext(v, size);

			lo = (uint64_t)p & m;
			hi = ((uint64_t)p >> bits) & m;
			ovf = sext((uint64_t)p, size) != p;
		} else {
			uint64_t p = (a & m) * (v & m);

			lo = p & m;
			hi = p >> bits;
			ovf = hi != 0;
		}
	}
	if (size == 1) {
		reg_set(cpu, X86_RAX, 2, (hi << 8) | lo);
	} else {
		reg_set(cpu, X86_RAX, size, lo);
		reg_set(cpu, X86_RDX, size, hi);
	}
	/* SF/ZF/PF from the low half as Intel CPUs leave them */
	emu_flags_szp(cpu, size, lo, ovf, ovf, 0);
}

/* IMUL r, r/m(, imm): the truncated product */
uint64_t emu_imul2(struct emu_cpu *cpu, unsigned size, uint64_t a,
		   uint64_t b)
{
	int64_t sa = sext(a, size), sb = sext(b, size);
	__int128 p = (__int128)sa * sb;
	uint64_t r = (uint64_t)p & size_mask(size);

	emu_flags_szp(cpu, size, r, sext(r, size) != p, sext(r, size) != p, 0);
	return r;
}

/* DIV/IDIV: 0, or -1 for #DE */
int emu_div(struct emu_cpu *cpu, int sgn, unsigned size, uint64_t v)
{
	unsigned bits = 8 * size;
	uint64_t m = size_mask(size), q, r;
	unsigned __int128 n;

	v &= m;
	if (v == 0)
		return -1;
	if (size == 1)
		n = reg_get(cpu, X86_RAX, 2);
	else
		n = ((unsigned __int128)reg_get(cpu, X86_RDX, size) << bits) |
		    reg_get(cpu, X86_RAX, size);
	if (!sgn) {
		unsigned __int128 qq = n / v;

		if (qq > m)
			return -1;
		q = (uint64_t)qq;
		r = (uint64_t)(n % v);
	} else {
		__int128 sn, sq, sr, sd = sext(v, size);

		/* sign-extend the 2*bits dividend */
		sn = (__int128)(n << (128 - 2 * bits)) >> (128 - 2 * bits);
		if (sd == -1 && sn == -((__int128)1 << (2 * bits - 1)))
			return -1;
		sq = sn / sd;
		sr = sn % sd;
		if (sq > (__int128)(m >> 1) || sq < -(__int128)(m >> 1) - 1)
			return -1;
		q = (uint64_t)sq & m;
		r = (uint64_t)sr & m;
	}
	if (size == 1) {
		reg_set(cpu, X86_RAX, 2, (r << 8) | q);
	} else {
		reg_set(cpu, X86_RAX, size, q);
		reg_set(cpu, X86_RDX, size, r);
	}
	return 0;
}
