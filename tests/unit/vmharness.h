/*
 * A VM built from an INI string for device-level unit tests: plugins (the
 * build's, and fixtures by name) loaded, the config validated, the VM
 * initialised and its devices created — what `hv run` does short of the
 * accelerator and the vCPUs. The test drives it through vm_pio/vm_mmio,
 * the loop and the core's functions.
 */
#ifndef HV_TESTS_VMHARNESS_H
#define HV_TESTS_VMHARNESS_H

#include "config.h"
#include "instance.h"
#include "plugin.h"
#include "unit.h"
#include "vm.h"

struct harness {
	struct config cfg;
	struct plugin_set set;
	struct vm vm;
	int ok;
};

/* build/plugins/ (all of them when all_plugins), then each fixture named
 * in the NULL-terminated list (build/fixtures/NAME.so). */
static inline void harness_load(struct harness *h, int all_plugins,
				const char *const *fixtures)
{
	char path[512];

	memset(h, 0, sizeof(*h));
	if (all_plugins) {
		snprintf(path, sizeof(path), "%s/plugins", unit_build_dir());
		plugin_load_path(&h->set, path);
	}
	for (; fixtures && *fixtures; fixtures++) {
		snprintf(path, sizeof(path), "%s/fixtures/%s.so", unit_build_dir(),
			 *fixtures);
		plugin_load_file(&h->set, path);
	}
}

/* Parse, validate, vm_init with accel, create the devices: h->ok says
 * whether all of it worked. */
static inline void harness_build(struct harness *h, const char *ini,
				 const struct accel_ops *accel)
{
	if (!config_load_string(&h->cfg, "t.ini", ini) &&
	    !config_validate(&h->cfg, &h->set) &&
	    !vm_init(&h->vm, &h->cfg, &h->set, accel))
		h->ok = vm_create_devices(&h->vm) == 0;
}

static inline void vm_down(struct harness *h)
{
	if (h->vm.loop)
		vm_destroy(&h->vm);
	config_free(&h->cfg);
	plugin_set_free(&h->set);
}

static inline struct instance *find(struct harness *h, const char *name)
{
	for (struct instance *in = h->vm.instances; in; in = in->next)
		if (!strcmp(in->ctx.name, name))
			return in;
	return NULL;
}

#endif
