/*
 * A plugin instance: one INI section brought to life. The struct hv_ctx the
 * plugin sees is the first member, so the core gets back to the instance
 * from any ctx a plugin hands it.
 */
#ifndef HV_CORE_INSTANCE_H
#define HV_CORE_INSTANCE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include <hv/hv.h>

#include "mem.h"

struct vm;
struct plugin;
struct cfg_section;
struct plugin_set;
struct loop;
struct instance;

/* What an instance's creator (the VM, `hv img`, a test or fuzzer) hands
 * instance_new(): the host table its plugin sees, and the release hooks of
 * the subsystems that attach things to instances there (any may be NULL),
 * so instance_free() names none of them. */
struct inst_env {
	const struct hv_host *host;
	void (*gone)(struct instance *in);    /* before destroy, unlocked */
	void (*release)(struct instance *in); /* after destroy, lock held */
	void (*forget)(struct instance *in);  /* last, unlocked */
};

struct instance {
	struct hv_ctx ctx; /* first: the plugin's handle */
	struct vm *vm;     /* NULL outside a VM (hv img) */
	struct loop *loop; /* the main thread's event loop */
	const struct plugin *plugin;
	const struct cfg_section *sec;
	const struct plugin_set *plugins;
	struct instance *owner;  /* a backend's device */
	const struct inst_env *env; /* its creator's host table and hooks */
	pthread_mutex_t own_lock;
	pthread_mutex_t *lock;   /* own_lock, or the owner's */
	int created;
	struct instance *next;   /* in vm->instances */
	void *link;              /* core's per-kind attachment (chr, disk, net) */
	/* set by whoever set link and must free it before the plugin's
	 * destroy (disk_release); called first by instance_free */
	void (*unlink)(struct instance *in);
	struct hv_watch *watches; /* released at instance_free */
	struct hv_timer *timers;
	struct deferred_call *defers; /* hv_loop_defer calls not run yet */
	int warned_state;        /* save/restore misuse said once */
	struct hv_pci_dev *pci;  /* set by hv_pci_register() */
	struct hv_net *ports;    /* its NICs' ends of own-domain switches */
	struct hv_dma *dmas;     /* live DMA mappings (core/dma.c), domain lock */
	unsigned dma_gen;        /* bumped when the core force-unmaps them */
	unsigned dma_refs[MEM_MAX_REGIONS]; /* live iovecs per memory region */
	/* hot-plug (hotplug.c) */
	char *attach_key;        /* a backend: the device key that attached it */
	/* a backend hv_net_attach_plugin made: the section it synthesized
	 * (sec points at it), freed with the instance */
	struct cfg_section *own_sec;
	struct hot_override *overrides; /* a device: keys re-pointed at run time */
	/* a device: disk requests and file I/Os of its domain in flight,
	 * counted so reset and teardown can wait for them (inst_drain) */
	atomic_ulong io_inflight;
};

static inline struct instance *inst_of(struct hv_ctx *ctx)
{
	return (struct instance *)ctx;
}

/* Allocate an instance (state zeroed) of plugin p for section sec in env;
 * owner is the device whose domain a backend joins, NULL for devices. */
struct instance *instance_new(const struct inst_env *env, struct vm *vm,
			      struct loop *loop, const struct plugin_set *set,
			      const struct plugin *p,
			      const struct cfg_section *sec,
			      struct instance *owner);
/* Call the plugin's destroy/close (lock held), then release every region
 * and DMA mapping it left, run env's hooks (watches, timers, posts,
 * hot-plug state), and free the instance. */
void instance_free(struct instance *in);
/* Create: for devices, net and console backends, the create op under the
 * domain lock; 0 or -errno (the plugin said why). */
int instance_create(struct instance *in);
/* An error about the instance at start-up, as one line naming its place in
 * the config: "file:line: [section]: what", the line of `key` when the
 * section sets it (key may be NULL), else of the section. Outside a VM
 * (hv img) the line starts with the instance's name instead. */
__attribute__((format(printf, 3, 4)))
void inst_err(struct instance *in, const char *key, const char *fmt, ...);
/* hv_host.log_write for every host table (the VM's, a fuzzer's). */
void inst_log_write(struct hv_ctx *ctx, int level, const char *fmt, va_list ap);
void inst_verr(struct instance *in, const char *key, const char *fmt,
	       va_list ap);
/* The domain locks this thread took through inst_lock(), innermost last:
 * what hv_domain_held() answers from (domains never nest by contract, so
 * a depth above 1 is itself the bug it reports). */
#define INST_HELD_MAX 4
extern _Thread_local pthread_mutex_t *inst_held[INST_HELD_MAX];
extern _Thread_local int inst_depth;

/* The device whose lock domain in is in: where its I/O is counted. */
static inline struct instance *inst_domain(struct instance *in)
{
	return in->owner ? in->owner : in;
}
static inline void inst_io_begin(struct instance *in)
{
	if (in)
		atomic_fetch_add(&inst_domain(in)->io_inflight, 1);
}
static inline void inst_io_end(struct instance *in)
{
	if (in)
		atomic_fetch_sub(&inst_domain(in)->io_inflight, 1);
}
static inline void inst_lock(struct instance *in)
{
	pthread_mutex_lock(in->lock);
	if (inst_depth < INST_HELD_MAX)
		inst_held[inst_depth] = in->lock;
	inst_depth++;
}
static inline void inst_unlock(struct instance *in)
{
	inst_depth--;
	pthread_mutex_unlock(in->lock);
}
/* 1 when this thread holds in's domain lock and no other (hv_domain_held). */
int inst_domain_held(struct instance *in);

#endif
