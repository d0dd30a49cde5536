/*
 * The CPU model of `[vm] cpu = MODEL[,+feat|,-feat]...` (like QEMU's
 * -cpu): which CPUID feature bits the guest sees. A model is a ceiling
 * on what the backend offers (host/max: everything it offers; qemu64:
 * QEMU's qemu64 set), +feat requires a feature (the VM does not start
 * when the backend lacks it), -feat hides one. Both backends filter
 * their CPUID through cpumodel_apply(); what each then refuses is listed
 * in docs of the emu (core/emu/sys.c: cpu_has()) and is KVM's own
 * checking of the guest CPUID on accel=kvm.
 */
#ifndef HV_CORE_CPUMODEL_H
#define HV_CORE_CPUMODEL_H

#include <stddef.h>
#include <stdint.h>

/* Feature words: one CPUID leaf/register each. */
enum {
	CPUW_1_ECX, CPUW_1_EDX, CPUW_7_EBX, CPUW_7_ECX, CPUW_7_EDX,
	CPUW_81_ECX, CPUW_81_EDX, CPUW_88_EBX, CPUW_N
};

struct cpu_model {
	char name[16];
	uint32_t allow[CPUW_N]; /* the model's ceiling */
	uint32_t add[CPUW_N];   /* +feat: required */
	uint32_t del[CPUW_N];   /* -feat: hidden */
};

/* Named feature bits, for guests' instructions checks (emu). */
#define CPUF(w, b) ((w) << 8 | (b))
#define CPUF_POPCNT CPUF(CPUW_1_ECX, 23)
#define CPUF_CX16 CPUF(CPUW_1_ECX, 13)
#define CPUF_SEP CPUF(CPUW_1_EDX, 11)
#define CPUF_NX CPUF(CPUW_81_EDX, 20)
#define CPUF_LM CPUF(CPUW_81_EDX, 29)
#define CPUF_RDTSCP CPUF(CPUW_81_EDX, 27)
#define CPUF_LAHF_LM CPUF(CPUW_81_ECX, 0)

/* Parse spec ("host" when NULL): 0, or -1 with a one-line reason. */
int cpumodel_parse(const char *spec, struct cpu_model *m, char *why,
		   size_t n);
/* Filter one CPUID result of the backend for the model. */
void cpumodel_apply(const struct cpu_model *m, uint32_t leaf, uint32_t sub,
		    uint32_t r[4]);
/* The name of a +feat the backend's unfiltered CPUID (given by cpuid)
 * lacks, or NULL when it has them all. */
const char *cpumodel_missing(const struct cpu_model *m,
			     void (*cpuid)(void *opaque, uint32_t leaf,
					   uint32_t sub, uint32_t r[4]),
			     void *opaque);
/* Whether the model leaves feature f (CPUF_*) visible, given that the
 * backend offers it. */
int cpumodel_allows(const struct cpu_model *m, unsigned f);

#endif
