/*
 * Choosing the vCPU backend: accel=auto takes KVM only when it can really
 * run the guest, accel=kvm runs it anyway (with a warning when it is slow),
 * accel=emu is hv's interpreter. One rule, used by `hv run`, `hv accel`
 * and every script that needs to know (they call `hv accel`).
 */
#ifndef HV_CORE_ACCEL_SELECT_H
#define HV_CORE_ACCEL_SELECT_H

#include <stdio.h>

struct accel_ops;

/* Below this rate of CPL0 instructions per microsecond, KVM is emulating. */
#define KVM_MIN_MIPS 10.0

/* What is known of /dev/kvm. */
struct kvm_facts {
	int err;           /* -errno when it cannot be opened or used */
	const char *why;   /* with err: why */
	int pvm;           /* /dev/kvm is kvm-pvm (module check) */
	int measured;      /* mips holds a measurement */
	double mips;       /* CPL0 instructions per us (0: the probe timed out) */
	char buf[96];      /* room for why */
};

/* A choice and the one line that explains it. */
struct accel_choice {
	const struct accel_ops *ops; /* NULL: nothing can run the VM */
	int level;                   /* LOG_* of the explanation */
	char why[192];               /* the whole line; "" when nothing to say */
	const char *reason;          /* why auto fell back, or NULL */
	char buf[128];               /* room for reason */
};

/* The rule, on known facts: no I/O, so tests can feed it any facts. */
void accel_decide(const char *want, const struct kvm_facts *f,
		  const struct accel_ops *kvm, const struct accel_ops *emu,
		  struct accel_choice *c);

/* Find the facts: open /dev/kvm; with measure (or without the module fast
 * path) time CPL0 code in a throwaway VM. */
void accel_kvm_facts(struct kvm_facts *f, int measure);

/* accel_kvm_facts then accel_decide, with this build's backends. */
void accel_choose(const char *want, struct accel_choice *c);

/* core/emu's backend, or NULL in a build without it */
const struct accel_ops *accel_emu_or_null(void);

/* from kvm_probe.c */
int kvm_is_pvm_module(void);
int kvm_time_cpl0(int kvm, double *mips);

#endif
