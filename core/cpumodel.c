/*
 * CPU models: a table of named CPUID feature bits and of models, and the
 * filter both backends pass their CPUID through (cpumodel.h).
 */
#include <stdio.h>
#include <string.h>

#include "cpumodel.h"

struct feat {
	const char *name;
	uint8_t word, bit;
};

/* Names as QEMU and Linux's /proc/cpuinfo spell them. */
static const struct feat feats[] = {
	{ "fpu", CPUW_1_EDX, 0 }, { "vme", CPUW_1_EDX, 1 },
	{ "de", CPUW_1_EDX, 2 }, { "pse", CPUW_1_EDX, 3 },
	{ "tsc", CPUW_1_EDX, 4 }, { "msr", CPUW_1_EDX, 5 },
	{ "pae", CPUW_1_EDX, 6 }, { "mce", CPUW_1_EDX, 7 },
	{ "cx8", CPUW_1_EDX, 8 }, { "apic", CPUW_1_EDX, 9 },
	{ "sep", CPUW_1_EDX, 11 }, { "mtrr", CPUW_1_EDX, 12 },
	{ "pge", CPUW_1_EDX, 13 }, { "mca", CPUW_1_EDX, 14 },
	{ "cmov", CPUW_1_EDX, 15 }, { "pat", CPUW_1_EDX, 16 },
	{ "pse36", CPUW_1_EDX, 17 }, { "clflush", CPUW_1_EDX, 19 },
	{ "mmx", CPUW_1_EDX, 23 }, { "fxsr", CPUW_1_EDX, 24 },
	{ "sse", CPUW_1_EDX, 25 }, { "sse2", CPUW_1_EDX, 26 },
	{ "ss", CPUW_1_EDX, 27 }, { "ht", CPUW_1_EDX, 28 },
	{ "sse3", CPUW_1_ECX, 0 }, { "pclmulqdq", CPUW_1_ECX, 1 },
	{ "monitor", CPUW_1_ECX, 3 }, { "vmx", CPUW_1_ECX, 5 },
	{ "ssse3", CPUW_1_ECX, 9 }, { "fma", CPUW_1_ECX, 12 },
	{ "cx16", CPUW_1_ECX, 13 }, { "pcid", CPUW_1_ECX, 17 },
	{ "sse4.1", CPUW_1_ECX, 19 }, { "sse4.2", CPUW_1_ECX, 20 },
	{ "x2apic", CPUW_1_ECX, 21 }, { "movbe", CPUW_1_ECX, 22 },
	{ "popcnt", CPUW_1_ECX, 23 }, { "tsc-deadline", CPUW_1_ECX, 24 },
	{ "aes", CPUW_1_ECX, 25 }, { "xsave", CPUW_1_ECX, 26 },
	{ "avx", CPUW_1_ECX, 28 }, { "f16c", CPUW_1_ECX, 29 },
	{ "rdrand", CPUW_1_ECX, 30 }, { "hypervisor", CPUW_1_ECX, 31 },
	{ "fsgsbase", CPUW_7_EBX, 0 }, { "tsc-adjust", CPUW_7_EBX, 1 },
	{ "bmi1", CPUW_7_EBX, 3 }, { "hle", CPUW_7_EBX, 4 },
	{ "avx2", CPUW_7_EBX, 5 }, { "smep", CPUW_7_EBX, 7 },
	{ "bmi2", CPUW_7_EBX, 8 }, { "erms", CPUW_7_EBX, 9 },
	{ "invpcid", CPUW_7_EBX, 10 }, { "rtm", CPUW_7_EBX, 11 },
	{ "avx512f", CPUW_7_EBX, 16 }, { "rdseed", CPUW_7_EBX, 18 },
	{ "adx", CPUW_7_EBX, 19 }, { "smap", CPUW_7_EBX, 20 },
	{ "clflushopt", CPUW_7_EBX, 23 }, { "clwb", CPUW_7_EBX, 24 },
	{ "sha-ni", CPUW_7_EBX, 29 },
	{ "umip", CPUW_7_ECX, 2 }, { "pku", CPUW_7_ECX, 3 },
	{ "la57", CPUW_7_ECX, 16 }, { "rdpid", CPUW_7_ECX, 22 },
	{ "md-clear", CPUW_7_EDX, 10 }, { "spec-ctrl", CPUW_7_EDX, 26 },
	{ "stibp", CPUW_7_EDX, 27 }, { "flush-l1d", CPUW_7_EDX, 28 },
	{ "arch-capabilities", CPUW_7_EDX, 29 }, { "ssbd", CPUW_7_EDX, 31 },
	{ "lahf-lm", CPUW_81_ECX, 0 }, { "svm", CPUW_81_ECX, 2 },
	{ "abm", CPUW_81_ECX, 5 }, { "sse4a", CPUW_81_ECX, 6 },
	{ "3dnowprefetch", CPUW_81_ECX, 8 }, { "xop", CPUW_81_ECX, 11 },
	{ "fma4", CPUW_81_ECX, 16 }, { "topoext", CPUW_81_ECX, 22 },
	{ "syscall", CPUW_81_EDX, 11 }, { "nx", CPUW_81_EDX, 20 },
	{ "mmxext", CPUW_81_EDX, 22 }, { "pdpe1gb", CPUW_81_EDX, 26 },
	{ "rdtscp", CPUW_81_EDX, 27 }, { "lm", CPUW_81_EDX, 29 },
	{ "ibpb", CPUW_88_EBX, 12 }, { "ibrs", CPUW_88_EBX, 14 },
	{ "amd-stibp", CPUW_88_EBX, 15 }, { "amd-ssbd", CPUW_88_EBX, 24 },
	{ "virt-ssbd", CPUW_88_EBX, 25 },
};

#define B(x) (1u << (x))

struct model {
	const char *name, *help;
	uint32_t allow[CPUW_N];
};

static const struct model models[] = {
	{ "host", "everything the backend offers (KVM: KVM_GET_SUPPORTED_CPUID)",
	  { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u } },
	{ "max", "the same as host", { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u } },
	/* QEMU's qemu64: PPRO features, MTRR, CLFLUSH, MCA, PSE36, SSE3,
	 * CX16, LM, SYSCALL, NX, LAHF_LM, ABM, SSE4A (SVM left out) */
	{ "qemu64", "a baseline x86-64 CPU, as QEMU's qemu64",
	  { [CPUW_1_ECX] = B(0) | B(13) | B(31),
	    [CPUW_1_EDX] = B(0) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) |
			   B(8) | B(9) | B(11) | B(12) | B(13) | B(14) |
			   B(15) | B(16) | B(17) | B(19) | B(23) | B(24) |
			   B(25) | B(26),
	    [CPUW_81_ECX] = B(0) | B(5) | B(6),
	    [CPUW_81_EDX] = B(11) | B(20) | B(29) } },
};

static const struct feat *find_feat(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		if (strlen(feats[i].name) == len &&
		    !strncmp(feats[i].name, name, len))
			return &feats[i];
	return NULL;
}

static const struct model *find_model(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strlen(models[i].name) == len &&
		    !strncmp(models[i].name, name, len))
			return &models[i];
	return NULL;
}

int cpumodel_parse(const char *spec, struct cpu_model *m, char *why,
		   size_t n)
{
	const char *p = spec ? spec : "host", *end;
	const struct model *mod;
	size_t len;

	memset(m, 0, sizeof(*m));
	end = strchr(p, ',');
	len = end ? (size_t)(end - p) : strlen(p);
	mod = find_model(p, len);
	if (!mod) {
		snprintf(why, n, "unknown CPU model '%.*s' (known: host, max, qemu64)",
			 (int)len, p);
		return -1;
	}
	snprintf(m->name, sizeof(m->name), "%s", mod->name);
	memcpy(m->allow, mod->allow, sizeof(m->allow));
	while (end) {
		const struct feat *f;
		int plus;

		p = end + 1;
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len < 2 || (*p != '+' && *p != '-')) {
			snprintf(why, n, "'%.*s': a feature is written +name or -name",
				 (int)len, p);
			return -1;
		}
		plus = *p == '+';
		f = find_feat(p + 1, len - 1);
		if (!f) {
			snprintf(why, n, "unknown CPU feature '%.*s'", (int)len - 1,
				 p + 1);
			return -1;
		}
		if (plus) {
			m->add[f->word] |= B(f->bit);
			m->del[f->word] &= ~B(f->bit);
		} else {
			m->del[f->word] |= B(f->bit);
			m->add[f->word] &= ~B(f->bit);
		}
	}
	return 0;
}

/* The register of (leaf, sub) that feature word w lives in, or -1. */
static int word_reg(int w, uint32_t leaf, uint32_t sub)
{
	static const struct { uint32_t leaf, sub; int reg; } at[CPUW_N] = {
		[CPUW_1_ECX] = { 1, 0, 2 },   [CPUW_1_EDX] = { 1, 0, 3 },
		[CPUW_7_EBX] = { 7, 0, 1 },   [CPUW_7_ECX] = { 7, 0, 2 },
		[CPUW_7_EDX] = { 7, 0, 3 },
		[CPUW_81_ECX] = { 0x80000001, 0, 2 },
		[CPUW_81_EDX] = { 0x80000001, 0, 3 },
		[CPUW_88_EBX] = { 0x80000008, 0, 1 },
	};

	if (at[w].leaf != leaf || (leaf == 7 && sub != 0))
		return -1;
	return at[w].reg;
}

void cpumodel_apply(const struct cpu_model *m, uint32_t leaf, uint32_t sub,
		    uint32_t r[4])
{
	for (int w = 0; w < CPUW_N; w++) {
		int reg = word_reg(w, leaf, sub);

		if (reg >= 0)
			r[reg] &= (m->allow[w] | m->add[w]) & ~m->del[w];
	}
}

const char *cpumodel_missing(const struct cpu_model *m,
			     void (*cpuid)(void *opaque, uint32_t leaf,
					   uint32_t sub, uint32_t r[4]),
			     void *opaque)
{
	for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		const struct feat *f = &feats[i];
		static const uint32_t leaf[CPUW_N] = {
			1, 1, 7, 7, 7, 0x80000001, 0x80000001, 0x80000008
		};
		uint32_t r[4];

		if (!(m->add[f->word] & B(f->bit)))
			continue;
		cpuid(opaque, leaf[f->word], 0, r);
		if (!(r[word_reg(f->word, leaf[f->word], 0)] & B(f->bit)))
			return f->name;
	}
	return NULL;
}

int cpumodel_allows(const struct cpu_model *m, unsigned f)
{
	unsigned w = f >> 8, b = f & 31;

	return !!(((m->allow[w] | m->add[w]) & ~m->del[w]) & B(b));
}
