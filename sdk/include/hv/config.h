/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: configuration keys a plugin publishes.
 *
 * Each plugin lists the keys its INI section may hold. The core validates
 * every value against this table before any plugin code runs, rejects keys
 * the table does not name, and prints the effective configuration in
 * `hv check`. A plugin therefore reads values that are already known to be
 * well-formed and in range (hv_config_* in hv/host.h).
 */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include <stdint.h>

enum hv_key_type {
	HV_KEY_STRING = 1, /* any text */
	HV_KEY_INT = 2,    /* integer, decimal or 0x-hex, within [min, max] */
	HV_KEY_BOOL = 3,   /* on/off, yes/no, true/false, 1/0 */
	HV_KEY_SIZE = 4,   /* bytes with optional K/M/G/T suffix (powers of 2) */
	HV_KEY_ENUM = 5,   /* one of the '|'-separated words in choices */
	HV_KEY_PATH = 6,   /* a file that must exist when the VM starts */
	HV_KEY_REF = 7,    /* the name of another section (a disk, a console) */
	HV_KEY_NEWPATH = 8 /* a file path that need not exist yet */
};

#define HV_KEY_REQUIRED 0x1u /* no default: the section must set it */
/*
 * v2.1: an indexed key. Its name is a pattern in which each '#' (at most
 * two) stands for a decimal number written without leading zeroes:
 * "target#" is target0, target1 ...; "target#.lun#" is target0.lun1 ...
 * A section may hold any number of keys the pattern matches, each
 * validated by type like any key. The core checks every number against
 * index_min/index_max (a one-line error naming file:line, the key and the
 * range) before the plugin runs; hv_config_each() (hv/host.h) lists the
 * keys a section holds. Not combinable with HV_KEY_REQUIRED; a default
 * is never applied.
 */
#define HV_KEY_INDEXED 0x2u
/*
 * v2.2: may change while the VM runs (`hv ctl SOCK set SECTION KEY VALUE`).
 * The core validates the new value as it validates the INI, stores it and
 * calls the device's config_changed (hv/device.h), which may refuse it;
 * a key without this flag is refused with one error line naming it.
 */
#define HV_KEY_RUNTIME 0x4u

struct hv_config_key {
	const char *name;
	uint32_t type;    /* enum hv_key_type */
	uint32_t flags;   /* HV_KEY_* flags */
	const char *def;  /* default value as text, NULL for none */
	const char *help; /* one line for `hv plugins --keys` */
	const char *choices; /* ENUM: "stdio|file|socket"; REF: the kind */
	int64_t min, max;    /* HV_KEY_INT; both 0 means unbounded */
	/* ---- v2.1 ---- */
	/* HV_KEY_INDEXED: the range of the first and second '#', inclusive;
	 * min and max both 0 means 0 .. INT32_MAX */
	int32_t index_min[2], index_max[2];
};

#define HV_KEYS_END { .name = NULL }

/* Table rows, so that plugins need not spell every member. */
#define HV_KEY_STR(n, d, h) { .name = (n), .type = HV_KEY_STRING, .def = (d), .help = (h) }
#define HV_KEY_NUM(n, d, lo, hi, h) \
	{ .name = (n), .type = HV_KEY_INT, .def = (d), .min = (lo), .max = (hi), .help = (h) }
#define HV_KEY_SZ(n, d, lo, hi, h) \
	{ .name = (n), .type = HV_KEY_SIZE, .def = (d), .min = (lo), .max = (hi), .help = (h) }
#define HV_KEY_FLAG(n, d, h) { .name = (n), .type = HV_KEY_BOOL, .def = (d), .help = (h) }
#define HV_KEY_CHOICE(n, d, c, h) \
	{ .name = (n), .type = HV_KEY_ENUM, .def = (d), .choices = (c), .help = (h) }
#define HV_KEY_FILE(n, fl, h) { .name = (n), .type = HV_KEY_PATH, .flags = (fl), .help = (h) }
#define HV_KEY_OUTFILE(n, fl, h) { .name = (n), .type = HV_KEY_NEWPATH, .flags = (fl), .help = (h) }
/* A reference to another section of the given kind ("console", "disk"). */
#define HV_KEY_SECTION(n, kind, fl, h) \
	{ .name = (n), .type = HV_KEY_REF, .flags = (fl), .choices = (kind), .help = (h) }
/* v2.1: indexed references, "target#" (one range) or "target#.lun#". */
#define HV_KEY_SECTION_AT(n, kind, h, lo0, hi0) \
	{ .name = (n), .type = HV_KEY_REF, .flags = HV_KEY_INDEXED, .choices = (kind), \
	  .help = (h), .index_min = { (lo0), 0 }, .index_max = { (hi0), 0 } }
#define HV_KEY_SECTION_AT2(n, kind, h, lo0, hi0, lo1, hi1) \
	{ .name = (n), .type = HV_KEY_REF, .flags = HV_KEY_INDEXED, .choices = (kind), \
	  .help = (h), .index_min = { (lo0), (lo1) }, .index_max = { (hi0), (hi1) } }

#endif
