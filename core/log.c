#include "log.h"

#include <stdio.h>
#include <string.h>

int log_level = LOG_WARN;
int log_errors;

static const char *const level_name[] = { "error: ", "warning: ", "", "debug: " };

void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level == LOG_ERR)
		log_errors++;
	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	/* one write per line, so lines of several threads never interleave */
	fprintf(stderr, "hv: %s%s%s\n", prefix ? prefix : "",
		level == LOG_INFO ? "" : level_name[level], line);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}

void log_verr_at(const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	log_errors++;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	fprintf(stderr, "%s\n", line);
}

void log_err_at(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verr_at(fmt, ap);
	va_end(ap);
}
