/*
 * The plugin loader. Plugins are found on a search path (the INI's
 * plugin_path, then $HV_PLUGIN_PATH, then the install directory), opened
 * with dlopen(RTLD_NOW | RTLD_LOCAL) and checked before any guest code
 * runs. Every refusal is one line naming the file and the reason.
 */
#ifndef HV_CORE_PLUGIN_H
#define HV_CORE_PLUGIN_H

#include <hv/hv.h>

struct plugin {
	char *path;
	void *dl;
	struct hv_plugin_desc desc; /* min(size) copied into zeroes */
	union {
		struct hv_device_ops device;
		struct hv_disk_ops disk;
		struct hv_net_ops net;
		struct hv_console_ops console;
	} ops;                      /* min(ops_size) copied into zeroes */
	struct hv_config_key *keys; /* normalised to this core's layout */
	int nkeys;
	struct plugin *next;
};

struct plugin_set {
	struct plugin *head;
	int count;
};

const char *plugin_kind_name(int kind);
int plugin_kind_from_name(const char *s);
/* Load one file: 0, or -1 after printing "path: reason". */
int plugin_load_file(struct plugin_set *set, const char *path);
/* Load every *.so in each directory of a ':'-separated list; 0 or -1. */
int plugin_load_path(struct plugin_set *set, const char *dirs);
/* The default search path: extra (may be NULL), $HV_PLUGIN_PATH, the
 * directory beside the hv binary's build, the install directory. */
char *plugin_default_path(const char *extra);
const struct plugin *plugin_find(const struct plugin_set *set,
				 const char *name);
const struct hv_config_key *plugin_key(const struct plugin *p,
				       const char *name);
void plugin_set_free(struct plugin_set *set);

#endif
