/*
 * Conformance of the interpreter against hardware-captured single-step
 * vectors (SingleStepTests 80286, real mode, MOO format, gzip'ed).
 *
 *   emu-conformance [DIR [OPCODE-FILE...]]   (DIR: tests/data/x86-vectors/80286-real)
 *
 * Every test: load the initial registers and RAM into a 16 MiB flat
 * machine, run one instruction (an exception it raises is delivered
 * through the IVT, as the vectors captured it), compare registers and the
 * final RAM. Flags the metadata marks undefined for an opcode are masked,
 * also in the FLAGS image an exception pushed. One line per opcode file:
 * "ok conformance-XX (n/n)" or "not ok conformance-XX - k/n failed (first:
 * NAME)"; opcodes listed in tests/emu/conformance-known.txt are reported
 * as "ok ... # SKIP known: reason" with their measured rate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "emu/emu.h"
#include "json.h"

#define RAM_SIZE (16u << 20)

static uint8_t *ram;

static uint8_t *t_page(void *o, uint64_t gpa, int *rom)
{
	*rom = 0;
	return gpa < RAM_SIZE ? ram + (gpa & ~0xfffull) : NULL;
}

static int t_mmio(void *o, uint64_t gpa, unsigned size, int w, uint64_t *v)
{
	return -ENOENT;
}

static int t_pio(void *o, uint16_t port, unsigned size, int w, uint64_t *v)
{
	return -ENOENT; /* nothing on the bus: reads float to all-ones */
}

static uint64_t t_clock(void *o)
{
	return 0;
}

static const struct emu_host host = {
	.page = t_page, .mmio = t_mmio, .pio = t_pio, .clock_ns = t_clock,
};

/* ---- MOO ---- */
struct buf {
	const uint8_t *p;
	size_t n;
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Next chunk in [*o, end): 0, or -1 at the end or on a malformed chunk. */
static int chunk(struct buf b, size_t *o, size_t end, char id[5],
		 size_t *data, size_t *len)
{
	if (*o + 8 > end)
		return -1;
	memcpy(id, b.p + *o, 4);
	id[4] = 0;
	*len = le32(b.p + *o + 4);
	*data = *o + 8;
	if (*data + *len > end)
		return -1;
	*o = *data + *len;
	return 0;
}

struct regs {
	uint16_t mask, v[14];
};

struct ramv {
	uint32_t addr;
	uint8_t val;
};

struct test {
	char name[128];
	struct regs init, fina;
	struct ramv *iram, *fram;
	uint32_t niram, nfram;
	int has_excp;
	uint32_t excp_flags;
};

enum { AX, BX, CX, DX, CS, SS, DS, ES, SP, BP, SI, DI, IP, FL };

static void parse_regs(struct buf b, size_t d, size_t len, struct regs *r)
{
	size_t o = d + 2;
	int i;

	r->mask = b.p[d] | b.p[d + 1] << 8;
	for (i = 0; i < 14; i++) {
		if (!(r->mask >> i & 1))
			continue;
		if (o + 2 > d + len)
			break;
		r->v[i] = b.p[o] | b.p[o + 1] << 8;
		o += 2;
	}
}

static struct ramv *parse_ram(struct buf b, size_t d, size_t len, uint32_t *n)
{
	uint32_t c = le32(b.p + d), i;
	struct ramv *v;

	if (4 + (uint64_t)c * 5 > len)
		c = 0;
	v = calloc(c ? c : 1, sizeof(*v));
	for (i = 0; i < c; i++) {
		v[i].addr = le32(b.p + d + 4 + 5 * i);
		v[i].val = b.p[d + 8 + 5 * i];
	}
	*n = c;
	return v;
}

static void parse_state(struct buf b, size_t d, size_t len, struct regs *r,
			struct ramv **ram_out, uint32_t *n)
{
	size_t o = d, cd, cl;
	char id[5];

	while (!chunk(b, &o, d + len, id, &cd, &cl)) {
		if (!strcmp(id, "REGS"))
			parse_regs(b, cd, cl, r);
		else if (!strcmp(id, "RAM "))
			*ram_out = parse_ram(b, cd, cl, n);
	}
}

static void parse_test(struct buf b, size_t d, size_t len, struct test *t)
{
	size_t o = d + 4, cd, cl;
	char id[5];

	memset(t, 0, sizeof(*t));
	while (!chunk(b, &o, d + len, id, &cd, &cl)) {
		if (!strcmp(id, "NAME")) {
			size_t n = le32(b.p + cd);

			if (n > sizeof(t->name) - 1)
				n = sizeof(t->name) - 1;
			if (n > cl - 4)
				n = cl - 4;
			memcpy(t->name, b.p + cd + 4, n);
		} else if (!strcmp(id, "INIT")) {
			parse_state(b, cd, cl, &t->init, &t->iram, &t->niram);
		} else if (!strcmp(id, "FINA")) {
			parse_state(b, cd, cl, &t->fina, &t->fram, &t->nfram);
		} else if (!strcmp(id, "EXCP") && cl >= 5) {
			t->has_excp = 1;
			t->excp_flags = le32(b.p + cd + 1);
		}
	}
}

/* ---- running one test ---- */
static void seg_real(struct x86_seg *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->present = 1;
}

static void load(struct emu_cpu *cpu, const struct test *t)
{
	static const int sregs[4] = { X86_CS, X86_SS, X86_DS, X86_ES };
	static const int gprs[8] = { X86_RAX, X86_RBX, X86_RCX, X86_RDX,
				     X86_RSP, X86_RBP, X86_RSI, X86_RDI };
	static const int gidx[8] = { AX, BX, CX, DX, SP, BP, SI, DI };
	struct x86_state st;
	uint32_t i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < 8; i++)
		st.gpr[gprs[i]] = t->init.v[gidx[i]];
	for (i = 0; i < 4; i++)
		seg_real(&st.seg[sregs[i]], t->init.v[CS + i], i == 0);
	seg_real(&st.seg[X86_FS], 0, 0);
	seg_real(&st.seg[X86_GS], 0, 0);
	st.seg[X86_LDTR].limit = st.seg[X86_TR].limit = 0xffff;
	st.seg[X86_LDTR].present = st.seg[X86_TR].present = 1;
	st.seg[X86_LDTR].type = 2;
	st.seg[X86_TR].type = 3;
	st.rip = t->init.v[IP];
	st.rflags = t->init.v[FL];
	st.idt.limit = 0x3ff;
	st.gdt.limit = 0xffff;
	st.cr0 = 0;
	emu_set_state(cpu, &st);
	for (i = 0; i < t->niram; i++)
		if (t->iram[i].addr < RAM_SIZE)
			ram[t->iram[i].addr] = t->iram[i].val;
}

static uint16_t reg_now(struct emu_cpu *cpu, int i)
{
	switch (i) {
	case AX: return (uint16_t)cpu->gpr[X86_RAX];
	case BX: return (uint16_t)cpu->gpr[X86_RBX];
	case CX: return (uint16_t)cpu->gpr[X86_RCX];
	case DX: return (uint16_t)cpu->gpr[X86_RDX];
	case CS: return cpu->seg[X86_CS].sel;
	case SS: return cpu->seg[X86_SS].sel;
	case DS: return cpu->seg[X86_DS].sel;
	case ES: return cpu->seg[X86_ES].sel;
	case SP: return (uint16_t)cpu->gpr[X86_RSP];
	case BP: return (uint16_t)cpu->gpr[X86_RBP];
	case SI: return (uint16_t)cpu->gpr[X86_RSI];
	case DI: return (uint16_t)cpu->gpr[X86_RDI];
	case IP: return (uint16_t)cpu->rip;
	default: return (uint16_t)emu_get_flags(cpu);
	}
}

static const char *rname[14] = { "ax", "bx", "cx", "dx", "cs", "ss", "ds",
				 "es", "sp", "bp", "si", "di", "ip", "flags" };

/* 0 if the state matches; else writes what differed into why. */
static int check(struct emu_cpu *cpu, const struct test *t, uint16_t fmask,
		 char *why, size_t wl)
{
	uint32_t i, fl_lo = ~0u, fl_hi = ~0u;
	int r;

	for (r = 0; r < 14; r++) {
		uint16_t want = (t->fina.mask >> r & 1) ? t->fina.v[r] : t->init.v[r];
		uint16_t got = reg_now(cpu, r);
		uint16_t m = r == FL ? fmask : 0xffff;

		if ((want & m) != (got & m)) {
			snprintf(why, wl, "%s=%04x want %04x", rname[r], got, want);
			return -1;
		}
	}
	/* The EXCP chunk's flags address is off by one when SP is odd; the
	 * pushed FLAGS sit at SS:SP+4 of the final state. */
	if (t->has_excp) {
		uint16_t ss = (t->fina.mask >> SS & 1) ? t->fina.v[SS] : t->init.v[SS];
		uint16_t sp = (t->fina.mask >> SP & 1) ? t->fina.v[SP] : t->init.v[SP];

		fl_lo = ((uint32_t)ss << 4) + (uint16_t)(sp + 4);
		fl_hi = ((uint32_t)ss << 4) + (uint16_t)(sp + 5);
	}
	for (i = 0; i < t->nfram; i++) {
		uint32_t a = t->fram[i].addr;
		uint8_t m = 0xff, got = a < RAM_SIZE ? ram[a] : 0xff;

		if (t->has_excp && a == fl_lo)
			m = fmask & 0xff;
		else if (t->has_excp && a == fl_hi)
			m = fmask >> 8;
		if ((got & m) != (t->fram[i].val & m)) {
			snprintf(why, wl, "[%05x]=%02x want %02x", a, got,
				 t->fram[i].val);
			return -1;
		}
	}
	return 0;
}

static void cleanup(const struct test *t)
{
	uint32_t i;

	for (i = 0; i < t->niram; i++)
		if (t->iram[i].addr < RAM_SIZE)
			ram[t->iram[i].addr] = 0;
	for (i = 0; i < t->nfram; i++)
		if (t->fram[i].addr < RAM_SIZE)
			ram[t->fram[i].addr] = 0;
	free(t->iram);
	free(t->fram);
}

static int read_gz(const char *path, struct buf *b)
{
	gzFile f = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	uint8_t *p;
	int r;

	if (!f)
		return -1;
	p = malloc(cap);
	while ((r = gzread(f, p + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap)
			p = realloc(p, cap *= 2);
	}
	gzclose(f);
	if (r < 0) {
		free(p);
		return -1;
	}
	b->p = p;
	b->n = n;
	return 0;
}

/* ---- metadata: status and undefined-flag mask per opcode[.reg] ---- */
static struct json *meta;

static const struct json *meta_entry(const char *op)
{
	char key[8];
	const struct json *e;
	const char *dot = strchr(op, '.');

	snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - op) : 2, op);
	e = json_get(json_get(meta, "opcodes"), key);
	if (dot && e)
		e = json_get(json_get(e, "reg"), dot + 1);
	return e;
}

struct known {
	char op[8];
	char why[200];
};

static struct known known[64];
static int nknown;

static void load_known(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nknown < 64) {
		char *sp;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		memcpy(known[nknown].op, line, strnlen(line, sizeof(known[0].op) - 1));
		memcpy(known[nknown].why, sp + 1, strnlen(sp + 1, sizeof(known[0].why) - 1));
		nknown++;
	}
	fclose(f);
}

static const char *known_why(const char *op)
{
	int i;

	for (i = 0; i < nknown; i++)
		if (!strcmp(known[i].op, op))
			return known[i].why;
	return NULL;
}

static unsigned long tot_pass, tot_run, doc_pass, doc_run;
static int failures;

static void run_file(struct emu_cpu *cpu, const char *dir, const char *op,
		     int verbose)
{
	char path[512], first[256] = "", why[128];

	memset(why, 0, sizeof(why));
	const struct json *m = meta_entry(op);
	const char *status = json_str(json_get(m, "status"), "normal");
	uint16_t fmask = (uint16_t)json_num(json_get(m, "flags-mask"), 0xffff);
	unsigned long pass = 0, run = 0;
	size_t o = 0, d, len;
	struct buf b;
	char id[5];
	const char *kw, *only = getenv("EMU_ONLY");

	snprintf(path, sizeof(path), "%s/%s.MOO.gz", dir, op);
	if (read_gz(path, &b)) {
		printf("not ok conformance-%s - cannot read %s\n", op, path);
		failures++;
		return;
	}
	while (!chunk(b, &o, b.n, id, &d, &len)) {
		struct test t;

		if (strcmp(id, "TEST"))
			continue;
		parse_test(b, d, len, &t);
		if (only && strcmp(only, t.name)) {
			cleanup(&t);
			continue;
		}
		load(cpu, &t);
		/* the vectors stop on the HLT placed after the instruction (and
		 * in every handler): run until it, REP batches included */
		for (int k = 0; k < 64 && !cpu->halted; k++) {
			if (only)
				fprintf(stderr, "  %04x:%04llx ax=%04llx cx=%04llx sp=%04llx\n",
					cpu->seg[X86_CS].sel, (unsigned long long)cpu->rip,
					(unsigned long long)cpu->gpr[0] & 0xffff,
					(unsigned long long)cpu->gpr[1] & 0xffff,
					(unsigned long long)cpu->gpr[4] & 0xffff);
			emu_run(cpu, 1);
		}
		run++;
		if (!check(cpu, &t, fmask, why, sizeof(why))) {
			pass++;
		} else {
			if (!first[0])
				snprintf(first, sizeof(first), "%.120s: %.120s", t.name, why);
			if (verbose)
				fprintf(stderr, "FAIL %s: %s\n", t.name, why);
		}
		cleanup(&t);
	}
	free((void *)b.p);
	tot_pass += pass;
	tot_run += run;
	if (!strcmp(status, "undefined")) {
		printf("ok conformance-%s # SKIP undefined opcode on the 286 (%lu/%lu)\n",
		       op, pass, run);
		return;
	}
	doc_pass += pass;
	doc_run += run;
	kw = known_why(op);
	if (pass == run && run)
		printf("ok conformance-%s (%lu/%lu)\n", op, pass, run);
	else if (kw)
		printf("ok conformance-%s # SKIP known: %s (%lu/%lu passed)\n",
		       op, kw, pass, run);
	else {
		printf("not ok conformance-%s - %lu/%lu failed (first: %s)\n", op,
		       run - pass, run, first);
		failures++;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	static struct emu_cpu cpu;
	const char *dir = argc > 1 ? argv[1] : "tests/data/x86-vectors/80286-real";
	const char *kf = getenv("EMU_KNOWN") ? getenv("EMU_KNOWN") :
			 "tests/emu/conformance-known.txt";
	char path[512], *ops[400];
	int nops = 0, i, verbose = getenv("EMU_VERBOSE") != NULL;

	ram = calloc(1, RAM_SIZE);
	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	meta = json_load(path);
	if (!meta)
		fprintf(stderr, "conformance: no %s: no undefined-flag masks\n", path);
	load_known(kf);
	if (argc > 2) {
		for (i = 2; i < argc && nops < 400; i++)
			ops[nops++] = strdup(argv[i]);
	} else {
		char cmd[600];
		FILE *ls;

		snprintf(cmd, sizeof(cmd), "ls '%s' 2>/dev/null", dir);
		ls = popen(cmd, "r");
		while (ls && fgets(path, sizeof(path), ls) && nops < 400) {
			char *e = strstr(path, ".MOO.gz");

			if (!e)
				continue;
			*e = 0;
			ops[nops++] = strdup(path);
		}
		if (ls)
			pclose(ls);
		qsort(ops, (size_t)nops, sizeof(ops[0]), cmp_str);
	}
	emu_cpu_init(&cpu, &host);
	cpu.model286 = 1;
	cpu.stop_on_exc = 1;
	cpu.quiet = 1;
	for (i = 0; i < nops; i++) {
		run_file(&cpu, dir, ops[i], verbose);
		free(ops[i]);
	}
	printf("# conformance: %lu/%lu passed (%.4f%%); documented opcodes "
	       "%lu/%lu (%.4f%%)\n", tot_pass, tot_run,
	       tot_run ? 100.0 * tot_pass / tot_run : 0.0, doc_pass, doc_run,
	       doc_run ? 100.0 * doc_pass / doc_run : 0.0);
	emu_cpu_free(&cpu);
	json_free(meta);
	free(ram);
	return failures ? 1 : 0;
}
