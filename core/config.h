/*
 * The VM's INI file, read with libinih: one [vm] section, then one section
 * per instance, named "KIND NAME" with KIND one of device, disk, net,
 * console ([device com1], [disk root]). A line may hold up to 65,536
 * characters (a kernel command line of any length Linux takes); parsing
 * is linear in the file's size. Errors are one line, "file:line: message",
 * printed by the function that found them, at the line they are about.
 */
#ifndef HV_CORE_CONFIG_H
#define HV_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <hv/config.h>

struct plugin;

struct cfg_entry {
	char *key, *value;
	int line;
};

struct cfg_section {
	char *name;  /* as written: "device com1" */
	char *kind;  /* "vm", "device", "disk", "net", "console" */
	char *id;    /* "com1"; "vm" for [vm] */
	int line;
	struct cfg_entry *e;
	int n;
	const struct plugin *plugin; /* resolved by config_resolve() */
	int implicit; /* enum cfg_implicit: not written in the file */
};

/* Why a section exists that the file does not hold. */
enum cfg_implicit {
	CFG_WRITTEN = 0,
	CFG_IMPLICIT_PC = 1,     /* machine = pc adds it (core/pc/implicit.c) */
	CFG_IMPLICIT_ATTACH = 2, /* hv_net_attach_plugin made it (backend.c):
				    owned by its instance, not by the config */
};

struct config {
	char *path;
	struct cfg_section *s;
	int n;
};

/* Parse; 0 or -1 after printing the error. */
int config_load(struct config *c, const char *path);
/* Parse from memory (tests, fuzzing); path is used in messages. */
int config_load_string(struct config *c, const char *path, const char *text);
void config_free(struct config *c);
/* Free what one section holds (its entries and names), not s itself. */
void cfg_section_free(struct cfg_section *s);
struct cfg_section *config_section(const struct config *c, const char *kind,
				   const char *id);
const struct cfg_entry *cfg_entry(const struct cfg_section *s,
				  const char *key);
const char *cfg_get(const struct cfg_section *s, const char *key);

/* Check one value against a key description: 0, or -1 with *why set. */
int cfg_value_check(const struct hv_config_key *k, const char *value,
		    int64_t *num, const char **why);
/* Whether key name `name` is key `k` (an exact name, or an HV_KEY_INDEXED
 * pattern): 1 it is (the numbers in idx when not NULL), 0 it is not, -1 it
 * matches the pattern but a number is out of range (why says which). */
int cfg_key_match(const struct hv_config_key *k, const char *name,
		  uint32_t idx[2], char *why, size_t n);
/* Parse helpers; 0 or -1. */
int cfg_parse_int(const char *s, int64_t *out);
int cfg_parse_size(const char *s, uint64_t *out);
int cfg_parse_bool(const char *s, int *out);

/* The keys of the [vm] section, validated like a plugin's. */
extern const struct hv_config_key vm_keys[];
/* Keys every section of a kind has besides its plugin's (plugin=, path=). */
const struct hv_config_key *cfg_common_keys(const char *kind);

#endif
