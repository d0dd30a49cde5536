/*
 * Core messages: one line each, on stderr, prefixed "hv: ", except the
 * lines about a place in the config, which start "file:line: " instead.
 * log_errors counts every error line, so a caller can tell whether the
 * code it called already said why it failed and add no second line.
 */
#ifndef HV_CORE_LOG_H
#define HV_CORE_LOG_H

#include <stdarg.h>

enum { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level; /* messages above this level are dropped */
extern int log_errors; /* error lines printed so far */

__attribute__((format(printf, 2, 3))) void log_msg(int level,
						   const char *fmt, ...);
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap);
/* An error line printed as it is: "file:line: [section]: what". */
__attribute__((format(printf, 1, 2))) void log_err_at(const char *fmt, ...);
void log_verr_at(const char *fmt, va_list ap);

#define err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define dbg(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
