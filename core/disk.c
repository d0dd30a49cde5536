/*
 * The block layer: [disk NAME] sections brought to life as instances of a
 * disk-format plugin, attached to one device whose domain lock they share.
 *
 * Requests are checked here (range, alignment, read-only) and counted, so
 * disk_drain_all() can wait for them; completions reach the device under
 * its lock on the main thread, deferred through the loop when a plugin
 * finishes a request from inside its own submit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "config.h"
#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "instcfg.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "vm.h"

#define PROBE_LEN 65536

static struct hv_disk *all_disks;

/* req->core[] while in flight */
#define RQ_DISK	     0
#define RQ_SUBMITTER 1
#define RQ_STATUS    2
/* 3: DISK_RQ_BACKING (disk_int.h) */

const struct plugin *disk_pick_plugin(const struct plugin_set *set,
				      const char *path, const char *format,
				      const char *who)
{
	const struct plugin *p, *best = NULL;
	int best_score = 0;
	struct hv_file *f;
	void *head;
	int64_t n;
	int r;

	if (format && *format) {
		p = plugin_find(set, format);
		if (!p || p->desc.kind != HV_KIND_DISK) {
			err("%s: %s: no disk format plugin named '%s'", who,
			    path, format);
			return NULL;
		}
		return p;
	}
	r = aio_file_open(NULL, path, HV_FILE_RDONLY | HV_FILE_BUFFERED, &f);
	if (r) {
		err("%s: %s: %s", who, path, hv_file_strerror(r));
		return NULL;
	}
	head = calloc(1, PROBE_LEN);
	n = head ? core_file_pread(NULL, f, head, PROBE_LEN, 0) : -ENOMEM;
	if (n >= 0) {
		for (p = set->head; p; p = p->next) {
			if (p->desc.kind != HV_KIND_DISK || !p->ops.disk.probe)
				continue;
			int s = p->ops.disk.probe(head, (size_t)n,
						  f->info.size);
			if (s > best_score) {
				best_score = s;
				best = p;
			}
		}
	}
	free(head);
	aio_file_close(f);
	if (n < 0)
		err("%s: %s: %s", who, path, strerror((int)-n));
	else if (!best)
		err("%s: %s: no disk format plugin recognises this file", who,
		    path);
	return best;
}

struct hv_disk *disk_open(const struct inst_env *env, struct loop *loop,
			  const struct plugin_set *set, struct vm *vm,
			  const struct cfg_section *sec, const char *path,
			  const struct plugin *p, unsigned flags,
			  struct instance *owner, const char *who)
{
	struct hv_disk *d;
	struct instance *in;
	int r;

	if (!p)
		p = disk_pick_plugin(set, path, NULL, who);
	if (!p)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	in = instance_new(env, vm, loop, set, p, sec, owner);
	if (!in) {
		err("%s: %s: cannot create a %s instance", who, path,
		    p->desc.name);
		free(d);
		return NULL;
	}
	in->link = d;
	in->unlink = disk_release;
	d->inst = in;
	d->loop = loop;
	d->vm = vm;
	d->flags = flags & ~DISK_OPEN_LAYER;
	d->path = strdup(path);
	d->real = realpath(path, NULL);
	d->section = strdup(who);
	/* a device attaching its disk already holds the domain lock */
	if (!owner)
		inst_lock(in);
	r = p->ops.disk.open(&in->ctx, path, d->flags);
	if (r == 0) {
		in->created = 1;
		(p->ops.disk.info)(&in->ctx, &d->info);
	}
	if (!owner)
		inst_unlock(in);
	if (r) {
		/* the plugin's open said why, in one hv_error() line */
		in->link = NULL;
		if (owner)
			inst_unlock(owner); /* instance_free takes it */
		instance_free(in);
		if (owner)
			inst_lock(owner);
		free(d->path);
		free(d->section);
		free(d->real);
		free(d);
		return NULL;
	}
	if (flags & HV_DISK_OPEN_RDONLY)
		d->info.flags |= HV_DISK_F_READONLY;
	if (d->info.logical_sector != 512 && d->info.logical_sector != 4096)
		d->info.logical_sector = 512;
	d->next = all_disks;
	all_disks = d;
	if (!(flags & DISK_OPEN_LAYER) && chain_link(d, set, who)) {
		if (owner)
			inst_unlock(owner); /* instance_free takes it */
		disk_close(d);
		if (owner)
			inst_lock(owner);
		return NULL;
	}
	return d;
}

struct hv_disk *disk_first(void)
{
	return all_disks;
}

void disk_drain(struct hv_disk *d)
{
	while (d->inflight)
		loop_once(d->loop, 1000);
}

void disk_release(struct instance *in)
{
	struct hv_disk *d = in->link, **pp;

	if (!d)
		return;
	disk_drain(d);
	chain_unlink(d); /* nothing of d's reads its parent any more */
	for (pp = &all_disks; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	in->link = NULL;
	free(d->path);
	free(d->section);
	free(d->real);
	free(d);
}

void disk_close(struct hv_disk *d)
{
	struct instance *in;

	if (!d)
		return;
	in = d->inst;
	/* instance_free drains (disk_release), then calls the plugin's
	 * close under the lock */
	instance_free(in);
}

int disk_drain_all(struct vm *vm)
{
	for (;;) {
		struct hv_disk *d;
		uint64_t busy = 0;
		struct loop *l = NULL;
		for (d = all_disks; d; d = d->next)
			if (d->vm == vm && d->inflight) {
				busy += d->inflight;
				l = d->loop;
			}
		if (!busy)
			return 0;
		int r = loop_once(l, 1000);
		if (r < 0)
			return r;
	}
}

int disk_req_check(const struct hv_disk *d, const struct hv_disk_req *req)
{
	uint64_t ls = d->info.logical_sector;
	uint64_t total = 0;

	switch (req->op) {
	case HV_DISK_FLUSH:
		return 0;
	case HV_DISK_WRITE:
	case HV_DISK_DISCARD:
	case HV_DISK_WRITE_ZEROES:
		if (d->info.flags & HV_DISK_F_READONLY)
			return -EROFS;
		break;
	case HV_DISK_READ:
		break;
	default:
		return -EINVAL;
	}
	if ((req->offset | req->len) % ls)
		return -EINVAL;
	if (req->offset > d->info.size || req->len > d->info.size - req->offset)
		return -ERANGE;
	if (req->op == HV_DISK_DISCARD)
		return (d->info.flags & HV_DISK_F_DISCARD) ? 0 : -EOPNOTSUPP;
	if (req->op == HV_DISK_WRITE_ZEROES)
		return req->len <= HV_DISK_WRITE_ZEROES_MAX ? 0 : -EINVAL;
	if (req->iovcnt < 0 || (req->iovcnt && !req->iov))
		return -EINVAL;
	for (int i = 0; i < req->iovcnt; i++)
		total += req->iov[i].iov_len;
	return total < req->len ? -EINVAL : 0;
}

/*
 * HV_DISK_WRITE_ZEROES reaches the format as a write from one 1 MiB
 * buffer of zeroes repeated in every iovec: no format needs an op of its
 * own for it. The buffer's pages are real (written once, then read-only):
 * O_DIRECT cannot pin the shared zero page of an untouched mapping.
 * finish() turns the request back into what the device submitted.
 */
#define ZERO_CHUNK (1u << 20)
static void *zero_buf;
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_init(void)
{
	void *p = mmap(NULL, ZERO_CHUNK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	memset(p, 0, ZERO_CHUNK); /* fault in pages of its own */
	mprotect(p, ZERO_CHUNK, PROT_READ);
	zero_buf = p;
}

/* The iovecs are the request's own (a format may hand them on as they
 * are): exactly len bytes, freed by zeroes_restore. */
static int zeroes_to_write(struct hv_disk_req *req)
{
	/* at least one iovec, so zeroes_restore knows even an empty one */
	uint64_t n = req->len ? (req->len + ZERO_CHUNK - 1) / ZERO_CHUNK : 1;
	struct iovec *iov;

	pthread_once(&zero_once, zero_init);
	if (!zero_buf || !(iov = calloc(n, sizeof(*iov))))
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t left = req->len - i * ZERO_CHUNK;

		iov[i] = (struct iovec){ zero_buf, left < ZERO_CHUNK ? left : ZERO_CHUNK };
	}
	req->op = HV_DISK_WRITE;
	req->iov = iov;
	req->iovcnt = (int)n;
	return 0;
}

/* A device never holds a pointer to zero_buf: an iovec at it is ours. */
static void zeroes_restore(struct hv_disk_req *req)
{
	if (req->op != HV_DISK_WRITE || !req->iovcnt || !zero_buf ||
	    req->iov[0].iov_base != zero_buf)
		return;
	free((void *)req->iov);
	req->op = HV_DISK_WRITE_ZEROES;
	req->iov = NULL;
	req->iovcnt = 0;
}

int disk_submit_as(struct hv_disk *d, struct hv_ctx *submitter,
		   struct hv_disk_req *req, void *backing)
{
	int r = disk_req_check(d, req);

	if (r)
		return r;
	if (req->op == HV_DISK_WRITE_ZEROES && (r = zeroes_to_write(req)))
		return r;
	if (!d->inst->created)
		return -EIO; /* a reopen that failed both ways */
	req->core[RQ_DISK] = d;
	req->core[RQ_SUBMITTER] = submitter;
	req->core[DISK_RQ_BACKING] = backing; /* never what a device left */
	d->inflight++;
	inst_io_begin(d->inst);
	d->in_submit++;
	r = d->inst->plugin->ops.disk.submit(&d->inst->ctx, req);
	d->in_submit--;
	if (r) {
		zeroes_restore(req);
		d->inflight--;
		inst_io_end(d->inst);
	}
	return r;
}

int disk_submit(struct hv_disk *d, struct hv_ctx *submitter,
		struct hv_disk_req *req)
{
	return disk_submit_as(d, submitter, req, NULL);
}

static void finish(struct hv_disk *d, struct hv_disk_req *req, int status)
{
	struct hv_ctx *sub = req->core[RQ_SUBMITTER];

	if (chain_complete(d, req, status))
		return; /* a child's read: done() under the child's lock */
	zeroes_restore(req);
	d->inflight--;
	req->done(sub, req, status);
	/* after done(): a drain that sees zero finds the device told */
	inst_io_end(d->inst);
}

static void deferred_done(void *opaque)
{
	struct hv_disk_req *req = opaque;
	struct hv_disk *d = req->core[RQ_DISK];
	int status = (int)(intptr_t)req->core[RQ_STATUS];

	inst_lock(d->inst);
	finish(d, req, status);
	inst_unlock(d->inst);
}

void core_disk_complete(struct hv_ctx *ctx, struct hv_disk_req *req, int status)
{
	struct hv_disk *d = req->core[RQ_DISK];

	if (!d->in_submit) {
		finish(d, req, status);
		return;
	}
	req->core[RQ_STATUS] = (void *)(intptr_t)status;
	if (loop_defer(d->loop, deferred_done, req)) {
		/* cannot defer: better late-reentrant than lost */
		finish(d, req, status);
	}
}

/* ---- the hv_host members devices call ---- */
#define DISK_SERIAL_MAX 20 /* ATA's serial field; SCSI and virtio take it */
static int serial_bad(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > DISK_SERIAL_MAX)
		return 1;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 1;
	return 0;
}

struct hv_disk *core_disk_attach(struct hv_ctx *ctx, const char *key)
{
	struct instance *dev = inst_of(ctx);
	const char *id = inst_config_str(dev, key);
	const struct cfg_section *sec;
	const char *path, *format, *ro, *media, *serial;
	char who[256];
	unsigned flags = 0;
	int b = 0;

	if (!id || !*id)
		return NULL;
	snprintf(who, sizeof(who), "disk %s", id);
	sec = dev->vm ? config_section(dev->vm->cfg, "disk", id) : NULL;
	if (!sec) {
		inst_err(dev, key, "%s = %s: there is no [disk %s] section", key,
			 id, id);
		return NULL;
	}
	path = cfg_get(sec, "path");
	format = cfg_get(sec, "format");
	ro = cfg_get(sec, "readonly");
	if (!path) {
		err("%s: path= is required", who);
		return NULL;
	}
	if (ro && cfg_parse_bool(ro, &b) == 0 && b)
		flags |= HV_DISK_OPEN_RDONLY;
	media = cfg_get(sec, "media");
	if (media && !strcmp(media, "cdrom")) {
		flags |= HV_DISK_OPEN_RDONLY; /* a CD is read-only, always */
		b = 1;
	}
	serial = cfg_get(sec, "serial");
	if (!serial)
		serial = id;
	else if (serial_bad(serial)) {
		log_err_at("%s:%d: [%s]: serial = %s: at most %d printable ASCII characters",
			   dev->vm->cfg->path, cfg_entry(sec, "serial")->line,
			   sec->name, serial, DISK_SERIAL_MAX);
		return NULL;
	}
	if (dev->vm->dry) /* hv check writes nothing, not even a log replay */
		flags |= HV_DISK_OPEN_RDONLY;
	for (struct instance *in = dev->vm->instances; in; in = in->next)
		if (in->sec == sec) {
			inst_err(dev, key, "%s = %s: [disk %s] is already attached to [%s]",
				 key, id, id,
				 in->owner && in->owner->sec ? in->owner->sec->name : "?");
			return NULL;
		}
	const struct plugin *p =
		disk_pick_plugin(dev->plugins, path, format, who);
	if (!p)
		return NULL;
	struct hv_disk *d = disk_open(dev->env, dev->loop, dev->plugins,
				      dev->vm, sec, path, p, flags, dev, who);
	if (d && dev->vm->dry && !b) /* the device sees what a run shows it */
		d->info.flags &= ~HV_DISK_F_READONLY;
	if (d && media && !strcmp(media, "cdrom"))
		d->info.flags |= HV_DISK_F_CDROM;
	if (d) /* the section name may be longer: devices get 20 at most */
		snprintf(d->info.serial, DISK_SERIAL_MAX + 1, "%s", serial);
	if (d && !(d->inst->attach_key = strdup(key))) {
		disk_close(d);
		d = NULL;
	}
	if (d) {
		/* the VM frees it with its other backends */
		d->inst->next = dev->vm->instances;
		dev->vm->instances = d->inst;
	}
	return d;
}

/* As much of the info as the caller's struct holds; the rest zeroed. */
void core_disk_info(struct hv_ctx *ctx, struct hv_disk *d,
		    struct hv_disk_info *info, size_t info_size)
{
	memset(info, 0, info_size);
	memcpy(info, &d->info, info_size < sizeof(d->info) ? info_size : sizeof(d->info));
}

/*
 * hv_disk_map: the chain's map. A range a layer says is its parent's
 * (neither DATA nor ZERO) is asked of the parent, and reads as zeroes when
 * there is none. Parent layers are read-only, so their maps do not change
 * under us: they are read without their lock (a shared parent's domain is
 * not taken from inside a device's).
 */
int core_disk_map(struct hv_ctx *ctx, struct hv_disk *d, uint64_t offset,
		  uint64_t len, uint64_t *pnum, uint32_t *status)
{
	if (offset >= d->info.size || !len)
		return -ERANGE;
	if (len > d->info.size - offset)
		len = d->info.size - offset;
	for (struct hv_disk *l = d; l; l = l->backing) {
		const struct hv_disk_ops *ops = &l->inst->plugin->ops.disk;
		uint64_t n = len;
		uint32_t st = HV_DISK_MAP_DATA;
		int r = 0;

		if (ops->map && l->inst->created)
			r = ops->map(&l->inst->ctx, offset, len, &n, &st);
		if (r)
			return r;
		if (!n || n > len)
			return -EIO; /* a format's map broke its contract */
		len = n;
		if (st & (HV_DISK_MAP_DATA | HV_DISK_MAP_ZERO) || !l->backing) {
			*pnum = len;
			*status = st ? st : HV_DISK_MAP_ZERO;
			return 0;
		}
	}
	return -EIO; /* not reached */
}

/* A request from a plugin: its size (stamped by hv_disk_submit()) must
 * cover every member this core reads. */
int core_disk_submit(struct hv_ctx *ctx, struct hv_disk *d,
		     struct hv_disk_req *req)
{
	if (req->size < sizeof(struct hv_disk_req))
		return -EINVAL;
	return disk_submit(d, ctx, req);
}

/* ---- synchronous use by tools ---- */
struct sync_req {
	struct hv_disk_req req;
	struct iovec iov;
	int done, status;
};

static void sync_done(struct hv_ctx *ctx, struct hv_disk_req *req, int status)
{
	struct sync_req *s = (struct sync_req *)req;

	s->done = 1;
	s->status = status;
}

int disk_rw_sync(struct hv_disk *d, int op, uint64_t off, void *buf,
		 uint64_t len)
{
	struct sync_req s;
	int r;

	memset(&s, 0, sizeof(s));
	s.iov.iov_base = buf;
	s.iov.iov_len = len;
	s.req.op = (uint32_t)op;
	s.req.offset = off;
	s.req.len = len;
	s.req.iov = &s.iov;
	s.req.iovcnt = buf ? 1 : 0;
	s.req.done = sync_done;
	inst_lock(d->inst);
	r = disk_submit(d, &d->inst->ctx, &s.req);
	inst_unlock(d->inst);
	if (r)
		return r;
	while (!s.done)
		loop_once(d->loop, 1000);
	return s.status;
}
