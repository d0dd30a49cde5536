/*
 * The instance pieces every layer may use (instance.h): which domain locks
 * this thread holds, and errors that name the instance's config line.
 * Apart from instance.c, which creates and frees instances and so reaches
 * every subsystem an instance holds: the bus, the disk layer and the file
 * engine use only these.
 */
#include "instance.h"

#include <stdio.h>

#include "config.h"
#include "log.h"
#include "vm.h"

_Thread_local pthread_mutex_t *inst_held[INST_HELD_MAX];
_Thread_local int inst_depth;

int inst_domain_held(struct instance *in)
{
	return inst_depth == 1 && inst_held[0] == in->lock;
}

void inst_verr(struct instance *in, const char *key, const char *fmt,
	       va_list ap)
{
	const struct cfg_section *s = in->sec;
	const struct cfg_entry *e = s && key ? cfg_entry(s, key) : NULL;
	char what[768];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (!s || !in->vm) {
		err("%s: %s", in->ctx.name, what);
		return;
	}
	log_err_at("%s:%d: [%s]: %s%s", in->vm->cfg->path, e ? e->line : s->line,
		   s->name, what,
		   s->implicit == CFG_IMPLICIT_PC ? " (a device machine = pc adds)" : "");
}

void inst_err(struct instance *in, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inst_verr(in, key, fmt, ap);
	va_end(ap);
}

/* hv_host.log_write: a plugin's errors name its section, the way the
 * config's own errors do; other levels are prefixed with the instance. */
void inst_log_write(struct hv_ctx *ctx, int level, const char *fmt, va_list ap)
{
	char prefix[96];

	if (level == HV_LOG_ERROR) {
		inst_verr(inst_of(ctx), NULL, fmt, ap);
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s: ", ctx->name);
	log_vmsg(level, prefix, fmt, ap);
}
