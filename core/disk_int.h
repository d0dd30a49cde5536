/*
 * Private to the block layer (disk.c, aio.c, img.c): the file engine's and
 * the block layer's internal handles. Everything here runs on the main
 * thread unless a comment says otherwise.
 */
#ifndef HV_CORE_DISK_INT_H
#define HV_CORE_DISK_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include <hv/hv.h>

struct inst_env;
struct loop;
struct vm;
struct instance;
struct plugin;
struct plugin_set;
struct cfg_section;

/* ---- aio.c ---- */
struct hv_file {
	int fd;		/* O_DIRECT when info.direct, else == bfd */
	int bfd;	/* buffered: sync helpers, pool fallback */
	unsigned align; /* O_DIRECT alignment of offset, length and memory */
	struct hv_file_info info;
	struct instance *inst; /* whose lock completions take */
	char *path;
	int engine; /* holds a reference on the I/O engine */
	/* the opener's reference plus one per request in flight: a file
	 * closed with requests in flight goes when the last one completes */
	_Atomic unsigned refs;
};

/* Open/close without an instance (probing, hv img's own reads). */
int aio_file_open(struct instance *inst, const char *path, unsigned flags,
		  struct hv_file **out);
void aio_file_close(struct hv_file *f);
/* In-flight file I/Os of every file (drain, tests). */
uint64_t aio_inflight(void);
/* Requests sent down each path so far (tests). */
void aio_stats(uint64_t *n_aio, uint64_t *n_pool);

/* ---- disk.c ---- */
struct hv_disk {
	struct instance *inst; /* the format plugin's instance */
	struct loop *loop;
	struct vm *vm;
	struct hv_disk_info info;
	uint64_t inflight;
	int in_submit;
	unsigned flags; /* HV_DISK_OPEN_* */
	char *path;
	char *section;	      /* "disk NAME" or the path for hv img */
	struct hv_disk *next; /* all open disks, for disk_drain_all */
	/* chains (chain.c) */
	struct hv_disk *backing; /* the parent layer the core linked, or NULL */
	int refs;		 /* a parent layer: children linking it */
	int is_backing;		 /* opened by the core as someone's parent */
	int depth;		 /* layers below this one */
	char *real;		 /* realpath, for loops and sharing */
};

/* disk_open flag (never reaches a plugin): a parent layer chain.c links
 * itself, so disk_open does not link its chain. */
#define DISK_OPEN_LAYER 0x80000000u

/* Pick the plugin for path: format= if given, else the best probe score.
 * NULL after printing why. */
const struct plugin *disk_pick_plugin(const struct plugin_set *set,
				      const char *path, const char *format,
				      const char *who);
/* Open path with plugin p (NULL: probe). sec may be NULL (hv img). NULL
 * after printing one line naming who and the file. With an owner (a device
 * attaching its disk) the caller holds the owner's domain lock. */
struct hv_disk *disk_open(const struct inst_env *env, struct loop *loop,
			  const struct plugin_set *set, struct vm *vm,
			  const struct cfg_section *sec, const char *path,
			  const struct plugin *p, unsigned flags,
			  struct instance *owner, const char *who);
void disk_close(struct hv_disk *d);
/* Submit on behalf of submitter (whose ctx done() receives). */
int disk_submit(struct hv_disk *d, struct hv_ctx *submitter,
		struct hv_disk_req *req);
/* The same for chain.c: backing is its record of a child's read of d,
 * kept in req->core[DISK_RQ_BACKING] (NULL for every other request). */
#define DISK_RQ_BACKING 3
int disk_submit_as(struct hv_disk *d, struct hv_ctx *submitter,
		   struct hv_disk_req *req, void *backing);
/* Synchronous helper for tools: runs the loop until the request is done.
 * Call without holding the disk's lock. Returns status. */
int disk_rw_sync(struct hv_disk *d, int op, uint64_t off, void *buf,
		 uint64_t len);
/* Wait (running the loop) until d has nothing in flight. */
void disk_drain(struct hv_disk *d);
/* Range, alignment and read-only checks of a request against d. */
int disk_req_check(const struct hv_disk *d, const struct hv_disk_req *req);
/* Every open disk (chain.c looks for a parent to share). */
struct hv_disk *disk_first(void);

/* ---- chain.c: differencing chains the core owns ---- */
/* Ask d's format for its parent, open and link the whole chain below d
 * (sharing parent layers already open in the same VM). 0, or -errno after
 * one line naming who, the child and the problem; the caller closes d. */
int chain_link(struct hv_disk *d, const struct plugin_set *set,
	       const char *who);
/* Drop d's link to its parent (closing the parent with its last child). */
void chain_unlink(struct hv_disk *d);
/* Close and reopen one layer with flags (HV_DISK_OPEN_RDONLY or 0), its
 * link kept: what `hv img commit` does to write into a parent. Nothing may
 * be in flight; -EBUSY for a read-write reopen of a layer two children
 * share. On failure the layer is reopened as it was. Main thread, no
 * lock held. */
int disk_reopen(struct hv_disk *d, unsigned flags);
/* The hv_host member: a layer's read of its parent. */
int chain_backing_submit(struct hv_ctx *ctx, struct hv_disk_req *req);
/* A request submitted by chain_backing_submit is done on d: finish it
 * under the child's lock later. 1 when it was one (handled), else 0. */
int chain_complete(struct hv_disk *d, struct hv_disk_req *req, int status);

#endif
