/* Core messages: one line each, on stderr, prefixed "hv: ". */
#ifndef HV_CORE_LOG_H
#define HV_CORE_LOG_H

#include <stdarg.h>

enum { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level; /* messages above this level are dropped */

__attribute__((format(printf, 2, 3))) void log_msg(int level,
						   const char *fmt, ...);
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap);

#define err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define dbg(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
