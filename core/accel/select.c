/* The backend rule (select.h) and the facts it is fed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../accel.h"
#include "../log.h"
#include "select.h"

/* accel_emu comes from core/emu/; a build without it still runs KVM */
extern const struct accel_ops accel_emu __attribute__((weak));

static void say(struct accel_choice *c, const struct accel_ops *ops, int level,
		const char *fmt, ...)
{
	va_list ap;

	c->ops = ops;
	c->level = level;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Why KVM cannot run a guest kernel at speed, or NULL when it can. */
static const char *slow_reason(const struct kvm_facts *f, char *buf, size_t n)
{
	if (f->pvm)
		return "/dev/kvm is kvm-pvm, which emulates guest kernel code";
	if (!f->measured || f->mips >= KVM_MIN_MIPS)
		return NULL;
	if (f->mips <= 0)
		return "/dev/kvm did not run a few thousand guest kernel instructions in 2 s";
	snprintf(buf, n, "/dev/kvm runs guest kernel code at %.2f M instructions/s "
		 "(emulated, not hardware KVM)", f->mips);
	return buf;
}

void accel_decide(const char *want, const struct kvm_facts *f,
		  const struct accel_ops *kvm, const struct accel_ops *emu,
		  struct accel_choice *c)
{
	const char *slow;

	memset(c, 0, sizeof(*c));
	if (want && !strcmp(want, "emu")) {
		if (emu)
			c->ops = emu;
		else
			say(c, NULL, LOG_ERR, "accel=emu: not available in this build");
		return;
	}
	if (want && strcmp(want, "kvm") && strcmp(want, "auto")) {
		say(c, NULL, LOG_ERR, "accel=%s: unknown (auto, kvm or emu)", want);
		return;
	}
	slow = f->err ? NULL : slow_reason(f, c->buf, sizeof(c->buf));
	if (want && !strcmp(want, "kvm")) {
		if (f->err)
			say(c, NULL, LOG_ERR, "accel=kvm: %s", f->why);
		else if (slow)
			say(c, kvm, LOG_WARN, "accel=kvm: %s: running on it anyway, "
			    "guest kernels will be very slow", slow);
		else
			c->ops = kvm;
		return;
	}
	if (!f->err && !slow) {
		c->ops = kvm;
	} else if (emu) {
		c->reason = f->err ? f->why : slow;
		say(c, emu, LOG_INFO, "accel=auto: %s: using emu", c->reason);
	} else if (!f->err) {
		say(c, kvm, LOG_WARN, "accel=auto: %s, and this build has no emu backend: "
		    "using KVM anyway", slow);
	} else {
		say(c, NULL, LOG_ERR, "accel=auto: %s, and this build has no emu backend",
		    f->why);
	}
}

void accel_kvm_facts(struct kvm_facts *f, int measure)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int rc;

	memset(f, 0, sizeof(*f));
	if (fd < 0) {
		f->err = -errno;
		f->why = errno == ENOENT ? "/dev/kvm does not exist" :
		 errno == EACCES ? "/dev/kvm is not writable by this user" :
				  "/dev/kvm cannot be opened";
		return;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		f->err = -ENOTSUP;
		f->why = "/dev/kvm speaks an unexpected KVM API version";
		goto out;
	}
	f->pvm = kvm_is_pvm_module();
	if (f->pvm && !measure)
		goto out;
	rc = kvm_time_cpl0(fd, &f->mips);
	if (rc) {
		f->err = rc;
		snprintf(f->buf, sizeof(f->buf), "/dev/kvm cannot run a test VM (%s)",
			 strerror(-rc));
		f->why = f->buf;
		goto out;
	}
	f->measured = 1;
out:
	close(fd);
}

const struct accel_ops *accel_emu_or_null(void)
{
	return &accel_emu ? &accel_emu : NULL;
}

void accel_choose(const char *want, struct accel_choice *c)
{
	struct kvm_facts f = { 0 };

	if (!want || strcmp(want, "emu"))
		accel_kvm_facts(&f, 0);
	accel_decide(want ? want : "auto", &f, &accel_kvm, accel_emu_or_null(), c);
}
