/*
 * Counted, rate-limited drops for network backends: a hostile guest or
 * wire may send a bad frame per microsecond, so every drop is counted but
 * at most one warning a second reaches the log, carrying the count.
 */
#ifndef HV_PLUGINS_NETDROP_H
#define HV_PLUGINS_NETDROP_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <hv/hv.h>

struct net_drops {
	uint64_t count;     /* every frame dropped since create */
	uint64_t warned_ns; /* CLOCK_MONOTONIC of the last warning */
};

/* Count one event; 1 when a warning about it is due (none for a second). */
static inline int net_warn_due(struct net_drops *d)
{
	struct timespec ts;
	uint64_t now;

	d->count++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (d->warned_ns && now - d->warned_ns < 1000000000u)
		return 0;
	d->warned_ns = now;
	return 1;
}

__attribute__((format(printf, 3, 4))) static inline void
net_drop(struct hv_ctx *ctx, struct net_drops *d, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (!net_warn_due(d))
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	hv_warn(ctx, "%s: dropped (%llu dropped so far)", why,
		(unsigned long long)d->count);
}

#endif
