/*
 * Hot-plug readiness: backends attached to and detached from a running
 * device, and the wait for a device's in-flight I/O that reset, detach
 * and teardown do first (docs/hotplug.md). The core's own callers, the
 * control socket (control.c, for run-time key values) and the unit tests
 * drive these. Everything here runs on the main thread without any domain
 * lock held; the waits run the main loop, so completions keep arriving
 * while they wait.
 */
#ifndef HV_CORE_HOTPLUG_H
#define HV_CORE_HOTPLUG_H

struct instance;
struct vm;

#define HOTPLUG_DRAIN_MS 10000 /* vm->drain_ms when the config says nothing */

/* Run the loop until no disk request or file I/O of dev's lock domain is
 * in flight (every done() has run), at most timeout_ms: 0, or -ETIMEDOUT
 * after one error line naming the device and the count. */
int inst_drain(struct instance *dev, int timeout_ms);
/* inst_drain() every device of the VM: 0, or the first error. */
int vm_drain_devices(struct vm *vm);

/* Attach the [kind id] section (kind from the REF key's table entry) to
 * dev's key: hv_config_get_str(key) names it from now on and the device's
 * backend_attach op takes it. 0; -EOPNOTSUPP (no such op), -EINVAL (key is
 * not a section key), -EBUSY (a backend is attached by key), -ENOENT (no
 * such section), or the op's -errno (what it attached is released). Each
 * refusal says why in one line. */
int hotplug_attach(struct instance *dev, const char *key, const char *id);
/* Detach the backend dev attached by key: its I/O drained, the device's
 * backend_detach op told, then the backend freed. 0; -ENOENT (nothing
 * attached by key), -EOPNOTSUPP (no op: the device cannot let it go),
 * -ETIMEDOUT (I/O still in flight; nothing was changed). */
int hotplug_detach(struct instance *dev, const char *key);

/* The value a run-time attach or `hv ctl set` gave key, else NULL
 * (config lookups). */
const char *hotplug_override(const struct instance *in, const char *key);
/* Give key a run-time value (copied) that config lookups see first, or
 * drop it so the section's value (or the default) shows again: the store
 * control.c's `set` writes. 0 or -ENOMEM (nothing changed). */
int hotplug_override_set(struct instance *in, const char *key, const char *val);
void hotplug_override_del(struct instance *in, const char *key);
/* instance_free: what hot-plug kept for the instance. */
void hotplug_forget(struct instance *in);

#endif
