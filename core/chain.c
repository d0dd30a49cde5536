/*
 * Differencing chains owned by the core: each layer is its own disk
 * instance. A format's backing op names its parent (path resolved the
 * format's way, the identity it expects); the core opens the parent
 * read-only as another disk (probing it, or the format the child names),
 * checks identity, size and sector size, refuses loops and chains deeper
 * than HV_DISK_MAX_CHAIN, and links it. A parent already open in the same
 * VM (the same file, by device and inode) is shared, reference-counted.
 *
 * A layer reads what it does not hold through hv_disk_backing_submit().
 * The sub-request never runs inside the caller: it is queued to the main
 * loop, submitted there under the parent's own lock, and its completion
 * is queued again and delivered under the child's lock. So no thread ever
 * holds two domain locks, whichever devices the children belong to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

/* One read of a parent on behalf of a child layer. */
struct bk_req {
	struct loop_call call;
	struct hv_disk_req *req;
	struct hv_disk *parent;
	struct instance *child;
	int status;
};

static const struct hv_disk_ops *ops_of(const struct hv_disk *d)
{
	return &d->inst->plugin->ops.disk;
}

static void bk_deliver(void *opaque)
{
	struct bk_req *bk = opaque;
	struct hv_disk_req *req = bk->req;

	req->core[DISK_RQ_BACKING] = NULL;
	inst_lock(bk->child);
	req->done(&bk->child->ctx, req, bk->status);
	inst_unlock(bk->child);
	free(bk);
}

static void bk_submit(void *opaque)
{
	struct bk_req *bk = opaque;
	struct hv_disk *p = bk->parent;
	int r;

	inst_lock(p->inst);
	r = disk_submit_as(p, &p->inst->ctx, bk->req, bk);
	inst_unlock(p->inst);
	if (r) {
		bk->status = r;
		bk_deliver(bk);
	}
}

int chain_backing_submit(struct hv_ctx *ctx, struct hv_disk_req *req)
{
	struct instance *in = inst_of(ctx);
	struct hv_disk *d, *p;
	struct bk_req *bk;
	int r;

	if (in->plugin->desc.kind != HV_KIND_DISK || !(d = in->link) ||
	    !(p = d->backing))
		return -ENXIO;
	/* req->size: stamped by hv_disk_backing_submit(), covers what we read */
	if (req->size < sizeof(struct hv_disk_req) || req->op != HV_DISK_READ ||
	    !req->done)
		return -EINVAL;
	/* the parent's info does not change while it is linked */
	if ((r = disk_req_check(p, req)))
		return r;
	bk = calloc(1, sizeof(*bk));
	if (!bk)
		return -ENOMEM;
	bk->req = req;
	bk->parent = p;
	bk->child = in;
	bk->call.fn = bk_submit;
	bk->call.opaque = bk;
	loop_call_queue(p->loop, &bk->call);
	return 0;
}

int chain_complete(struct hv_disk *d, struct hv_disk_req *req, int status)
{
	struct bk_req *bk = req->core[DISK_RQ_BACKING];

	if (!bk)
		return 0;
	d->inflight--;
	inst_io_end(d->inst);
	bk->status = status;
	bk->call.fn = bk_deliver;
	loop_call_queue(d->loop, &bk->call);
	return 1;
}

/* Ops at open time: a top layer attached by a device runs under the
 * device's lock, which disk_open's caller already holds; a parent layer
 * has its own. */
static void layer_lock(struct hv_disk *d)
{
	if (!d->inst->owner)
		inst_lock(d->inst);
}

static void layer_unlock(struct hv_disk *d)
{
	if (!d->inst->owner)
		inst_unlock(d->inst);
}

/* The parent d's format names, or 0 with b->path empty. */
static int ask_backing(struct hv_disk *d, struct hv_disk_backing *b)
{
	int r;

	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	if (!ops_of(d)->backing)
		return 0;
	layer_lock(d);
	r = ops_of(d)->backing(&d->inst->ctx, b);
	layer_unlock(d);
	b->path[sizeof(b->path) - 1] = 0;
	b->format[sizeof(b->format) - 1] = 0;
	b->id_name[sizeof(b->id_name) - 1] = 0;
	return r;
}

/* Is p the image child's format expects below it? */
static int check_parent(struct hv_disk *child, struct hv_disk *p,
			const struct hv_disk_backing *b, const char *who)
{
	struct hv_disk_ident id;
	int r = -EOPNOTSUPP;

	if (p->info.size != child->info.size) {
		err("%s: %s: parent %s has a different virtual size (%llu, "
		    "not %llu)",
		    who, child->path, p->path, (unsigned long long)p->info.size,
		    (unsigned long long)child->info.size);
		return -EINVAL;
	}
	if (p->info.logical_sector != child->info.logical_sector) {
		err("%s: %s: parent %s has a different logical sector size "
		    "(%u, not %u)",
		    who, child->path, p->path, p->info.logical_sector,
		    child->info.logical_sector);
		return -EINVAL;
	}
	memset(&id, 0, sizeof(id));
	id.size = sizeof(id);
	if (ops_of(p)->identity) {
		layer_lock(p);
		r = ops_of(p)->identity(&p->inst->ctx, &id);
		layer_unlock(p);
	}
	if (r) {
		err("%s: %s: parent %s (%s) cannot tell its identity: %s", who,
		    child->path, p->path, p->inst->plugin->desc.name,
		    strerror(-r));
		return r;
	}
	if (memcmp(id.id, b->id, 16) && (!(b->flags & HV_DISK_BACKING_ALT) ||
					 memcmp(id.id, b->id_alt, 16))) {
		err("%s: %s: parent %s was modified since this image was made, "
		    "or is another image (its %s differs from the one this "
		    "image records)",
		    who, child->path, p->path,
		    b->id_name[0] ? b->id_name : "identity");
		return -EINVAL;
	}
	return 0;
}

/* A layer open in d's VM for the same file, to share. */
static struct hv_disk *find_shared(const struct hv_disk *d,
				   const struct stat *st)
{
	struct stat o;

	for (struct hv_disk *x = disk_first(); x; x = x->next)
		if (x->is_backing && x->vm == d->vm && x->loop == d->loop &&
		    x->real && stat(x->real, &o) == 0 &&
		    o.st_dev == st->st_dev && o.st_ino == st->st_ino)
			return x;
	return NULL;
}

/* Open the file b names as a read-only layer (not yet linked). */
static struct hv_disk *open_layer(struct hv_disk *child,
				  const struct plugin_set *set,
				  const struct hv_disk_backing *b,
				  const char *who)
{
	const struct plugin *p = disk_pick_plugin(
		set, b->path, b->format[0] ? b->format : NULL, who);

	if (!p)
		return NULL;
	/* no owner: its own lock domain, whichever children share it; no
	 * section: it is not a [disk] of the config */
	return disk_open(child->inst->env, child->loop, set, child->vm, NULL,
			 b->path, p, HV_DISK_OPEN_RDONLY | DISK_OPEN_LAYER,
			 NULL, who);
}

/* Is real one of the layers linked so far, from top down? */
static int in_chain(struct hv_disk *top, const char *real)
{
	for (struct hv_disk *x = top; x; x = x->backing)
		if (x->real && !strcmp(x->real, real))
			return 1;
	return 0;
}

static int link_one(struct hv_disk *top, struct hv_disk *cur,
		    const struct plugin_set *set, int depth, const char *who,
		    struct hv_disk **out)
{
	struct hv_disk_backing b;
	struct hv_disk *p;
	struct stat st;
	char *real;
	int r;

	*out = NULL;
	if ((r = ask_backing(cur, &b)))
		return r; /* the format said why */
	if (!b.path[0])
		return 0;
	if (depth + 1 >= HV_DISK_MAX_CHAIN) {
		err("%s: %s: parent chain deeper than %d", who, cur->path,
		    HV_DISK_MAX_CHAIN);
		return -ELOOP;
	}
	real = realpath(b.path, NULL);
	if (real && in_chain(top, real)) {
		err("%s: %s: parent chain loops back to %s", who, cur->path,
		    b.path);
		free(real);
		return -ELOOP;
	}
	p = real && stat(real, &st) == 0 ? find_shared(cur, &st) : NULL;
	free(real);
	if (p) {
		/* its own chain was checked when it was opened; joined to
		 * ours it must still be short and loop-free */
		for (struct hv_disk *x = p; x; x = x->backing)
			if (x->real && in_chain(top, x->real)) {
				err("%s: %s: parent chain loops back to %s",
				    who, cur->path, x->path);
				return -ELOOP;
			}
		if (depth + 1 + p->depth >= HV_DISK_MAX_CHAIN) {
			err("%s: %s: parent chain deeper than %d", who,
			    cur->path, HV_DISK_MAX_CHAIN);
			return -ELOOP;
		}
		if ((r = check_parent(cur, p, &b, who)))
			return r;
		p->refs++;
		cur->backing = p;
		return 0;
	}
	p = open_layer(cur, set, &b, who);
	if (!p)
		return -EINVAL; /* disk_open said why */
	p->is_backing = 1;
	p->refs = 1;
	cur->backing = p; /* closing cur now closes p too */
	if ((r = check_parent(cur, p, &b, who)))
		return r;
	*out = p;
	return 0;
}

int chain_link(struct hv_disk *d, const struct plugin_set *set, const char *who)
{
	struct hv_disk *cur = d, *next;
	int depth = 0, r;

	/* iteratively, top down: each new layer was opened unlinked */
	while ((r = link_one(d, cur, set, depth, who, &next)) == 0 && next) {
		cur = next;
		depth++;
	}
	if (r)
		return r;
	/* depths bottom up: what the next child sharing a layer checks */
	depth = 0;
	for (struct hv_disk *x = d; x; x = x->backing)
		depth++;
	for (struct hv_disk *x = d; x; x = x->backing)
		x->depth = --depth;
	return 0;
}

void chain_unlink(struct hv_disk *d)
{
	struct hv_disk *p = d->backing;

	d->backing = NULL;
	if (p && --p->refs == 0)
		disk_close(p);
}

int disk_reopen(struct hv_disk *d, unsigned flags)
{
	const struct hv_disk_ops *ops = ops_of(d);
	struct instance *in = d->inst;
	unsigned old = d->flags;
	int r;

	if (!(flags & HV_DISK_OPEN_RDONLY) && d->refs > 1)
		return -EBUSY;
	disk_drain(d);
	inst_lock(in);
	if (in->created)
		ops->close(&in->ctx);
	in->created = 0;
	if (in->plugin->desc.instance_size)
		memset(in->ctx.state, 0, in->plugin->desc.instance_size);
	r = ops->open(&in->ctx, d->path, flags);
	if (r && ops->open(&in->ctx, d->path, old) == 0)
		flags = old; /* back as it was; the caller hears r */
	else if (r)
		goto out; /* neither: the layer is closed, I/O fails */
	in->created = 1;
	d->flags = flags;
	(ops->info)(&in->ctx, &d->info);
	if (flags & HV_DISK_OPEN_RDONLY)
		d->info.flags |= HV_DISK_F_READONLY;
	if (d->info.logical_sector != 512 && d->info.logical_sector != 4096)
		d->info.logical_sector = 512;
out:
	inst_unlock(in);
	return r;
}
