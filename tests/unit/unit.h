/*
 * A small unit-test harness: each CHECK prints nothing when it holds and a
 * "not ok" line when it does not; each TEST prints one "ok NAME" or
 * "not ok NAME" line for the runner to count. stderr can be captured to
 * assert the exact message a failure prints.
 */
#ifndef HV_TESTS_UNIT_H
#define HV_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unit_failed_total, unit_case_failed;
static const char *unit_case;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__,       \
			       __LINE__, #cond);                              \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                           \
	do {                                                                  \
		const char *h_ = (hay), *n_ = (needle);                       \
		if (!h_ || !strstr(h_, n_)) {                                 \
			printf("# %s:%d: expected \"%s\" in \"%s\"\n", __FILE__,   \
			       __LINE__, n_, h_ ? h_ : "(null)");             \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

#define TEST(fn)                                                              \
	do {                                                                  \
		unit_case = #fn;                                              \
		unit_case_failed = 0;                                         \
		fn();                                                         \
		printf("%s %s\n", unit_case_failed ? "not ok" : "ok", #fn);   \
		fflush(stdout);                                               \
		unit_failed_total += unit_case_failed;                        \
	} while (0)

static int unit_saved_fd = -1;
static FILE *unit_cap;

/* Send stderr to a temporary file until unit_capture_end(). */
static inline void unit_capture_begin(void)
{
	fflush(stderr);
	unit_cap = tmpfile();
	unit_saved_fd = dup(2);
	dup2(fileno(unit_cap), 2);
}

/* Restore stderr; returns what was written (static buffer). */
static inline const char *unit_capture_end(void)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	dup2(unit_saved_fd, 2);
	close(unit_saved_fd);
	rewind(unit_cap);
	n = fread(buf, 1, sizeof(buf) - 1, unit_cap);
	buf[n] = 0;
	fclose(unit_cap);
	return buf;
}

static inline const char *unit_build_dir(void)
{
	const char *b = getenv("BUILD");
	return b && *b ? b : "build";
}

#endif
