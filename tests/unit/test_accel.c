/*
 * The backend rule (core/accel/select.c) on faked facts: what accel=auto,
 * kvm and emu choose for a missing /dev/kvm, kvm-pvm, a slow and a fast
 * measured KVM, and a build without the interpreter; and the one line each
 * choice explains itself with.
 */
#include "accel.h"
#include "accel/select.h"
#include "log.h"
#include "unit.h"

static const struct accel_ops fake_kvm = { .name = "kvm" };
static const struct accel_ops fake_emu = { .name = "emu" };

static const struct kvm_facts no_dev = { .err = -2, .why = "/dev/kvm does not exist" };
static const struct kvm_facts pvm = { .pvm = 1 };
static const struct kvm_facts slow = { .measured = 1, .mips = 0.3 };
static const struct kvm_facts stuck = { .measured = 1, .mips = 0 };
static const struct kvm_facts fast = { .measured = 1, .mips = 900 };

static struct accel_choice pick(const char *want, const struct kvm_facts *f, int with_emu)
{
	struct accel_choice c;

	accel_decide(want, f, &fake_kvm, with_emu ? &fake_emu : NULL, &c);
	return c;
}

static void auto_takes_fast_kvm(void)
{
	struct accel_choice c = pick("auto", &fast, 1);

	CHECK(c.ops == &fake_kvm);
	CHECK(!*c.why && !c.reason);
}

static void auto_falls_back_without_dev(void)
{
	struct accel_choice c = pick("auto", &no_dev, 1);

	CHECK(c.ops == &fake_emu);
	CHECK(c.level == LOG_INFO);
	CHECK(!strcmp(c.why, "accel=auto: /dev/kvm does not exist: using emu"));
	CHECK(c.reason && !strcmp(c.reason, "/dev/kvm does not exist"));
}

static void auto_falls_back_on_pvm(void)
{
	struct accel_choice c = pick("auto", &pvm, 1);

	CHECK(c.ops == &fake_emu);
	CHECK(!strcmp(c.why, "accel=auto: /dev/kvm is kvm-pvm, which emulates "
			     "guest kernel code: using emu"));
}

static void auto_falls_back_on_slow_measure(void)
{
	struct accel_choice c = pick("auto", &slow, 1);

	CHECK(c.ops == &fake_emu);
	CHECK_CONTAINS(c.why, "0.30 M instructions/s");
	CHECK_CONTAINS(c.why, ": using emu");
	c = pick("auto", &stuck, 1);
	CHECK(c.ops == &fake_emu);
	CHECK_CONTAINS(c.why, "did not run");
	/* at the threshold KVM counts as real */
	c = pick("auto", &(struct kvm_facts){ .measured = 1, .mips = KVM_MIN_MIPS }, 1);
	CHECK(c.ops == &fake_kvm);
}

static void kvm_runs_anyway_with_warning(void)
{
	struct accel_choice c = pick("kvm", &pvm, 1);

	CHECK(c.ops == &fake_kvm);
	CHECK(c.level == LOG_WARN);
	CHECK_CONTAINS(c.why, "accel=kvm: /dev/kvm is kvm-pvm");
	CHECK_CONTAINS(c.why, "running on it anyway");
	CHECK(!c.reason);
	c = pick("kvm", &fast, 1);
	CHECK(c.ops == &fake_kvm && !*c.why);
}

static void kvm_without_dev_is_an_error(void)
{
	struct accel_choice c = pick("kvm", &no_dev, 1);

	CHECK(!c.ops);
	CHECK(c.level == LOG_ERR);
	CHECK(!strcmp(c.why, "accel=kvm: /dev/kvm does not exist"));
}

static void emu_is_emu(void)
{
	struct accel_choice c = pick("emu", &fast, 1);

	CHECK(c.ops == &fake_emu && !*c.why);
	c = pick("emu", &fast, 0);
	CHECK(!c.ops);
	CHECK(!strcmp(c.why, "accel=emu: not available in this build"));
}

static void build_without_emu(void)
{
	struct accel_choice c = pick("auto", &pvm, 0);

	CHECK(c.ops == &fake_kvm);
	CHECK(c.level == LOG_WARN);
	CHECK_CONTAINS(c.why, "no emu backend: using KVM anyway");
	c = pick("auto", &no_dev, 0);
	CHECK(!c.ops);
	CHECK(!strcmp(c.why, "accel=auto: /dev/kvm does not exist, and this build "
			     "has no emu backend"));
}

static void unknown_name(void)
{
	struct accel_choice c = pick("tcg", &fast, 1);

	CHECK(!c.ops);
	CHECK(!strcmp(c.why, "accel=tcg: unknown (auto, kvm or emu)"));
}

/* The real facts of this host: whatever they are, they are consistent. */
static void host_facts_consistent(void)
{
	struct kvm_facts f;
	struct accel_choice c;

	accel_kvm_facts(&f, 1);
	CHECK(f.err ? f.why != NULL : f.measured);
	CHECK(!f.measured || f.mips >= 0);
	accel_choose("auto", &c);
	CHECK(c.ops != NULL);
	printf("# host: %s%s\n", f.err ? f.why : f.pvm ? "kvm-pvm" : "kvm",
	       *c.why ? "" : ", auto takes it");
}

int main(void)
{
	TEST(auto_takes_fast_kvm);
	TEST(auto_falls_back_without_dev);
	TEST(auto_falls_back_on_pvm);
	TEST(auto_falls_back_on_slow_measure);
	TEST(kvm_runs_anyway_with_warning);
	TEST(kvm_without_dev_is_an_error);
	TEST(emu_is_emu);
	TEST(build_without_emu);
	TEST(unknown_name);
	TEST(host_facts_consistent);
	return unit_failed_total != 0;
}
