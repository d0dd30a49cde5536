/*
 * Cross-domain calls. Each target has a box: a ring of HV_POST_QUEUE bytes
 * allocated once, records {via, type, len} + payload padded to 8, written
 * whole or not at all, so hv_post() never mallocs and a flooding sender
 * meets -EAGAIN instead of growing memory. The drain is a loop_call node
 * inside the box: queued once per batch, it runs on the main thread,
 * takes the target's domain lock, and delivers at most DRAIN_BUDGET
 * messages before yielding to the rest of the loop.
 */
#include "post.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "instance.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "instcfg.h"
#include "backend.h"
#include "vm.h"

#define DRAIN_BUDGET 64
#define REC_SKIP UINT32_MAX /* len of a record that says "wrap to 0" */

struct post_box {
	pthread_mutex_t mu;
	const struct cfg_section *sec; /* which instance: stable for the VM */
	struct vm *vm;
	struct instance *in; /* bound on the main thread; NULL once dead */
	hv_post_fn fn;
	void *opaque;
	int dead, scheduled;
	uint8_t *ring;
	size_t head, tail, used; /* used counts skipped tail bytes too */
	struct loop_call call;
	struct post_box *next; /* in vm->post_boxes */
};

struct hv_peer {
	struct post_box *from, *to;
	struct hv_peer *reverse; /* to's handle for from: the listener's `from` */
	void (*rx)(void *arg, const void *msg, size_t len); /* NIC port */
	void *rx_arg;
	struct hv_peer *next; /* in vm->post_peers */
};

struct rec {
	struct hv_peer *via; /* NULL: dropped (its sender is gone) */
	uint32_t type;
	uint32_t len;
};

static size_t rec_need(size_t len)
{
	return sizeof(struct rec) + ((len + 7) & ~(size_t)7);
}

/* Room for need bytes at the tail, or NULL. mu held. */
static void *ring_reserve(struct post_box *b, size_t need)
{
	void *p;

	if (!b->used)
		b->head = b->tail = 0;
	if (b->used && b->tail <= b->head) { /* wrapped (or full) */
		if (b->head - b->tail < need)
			return NULL;
	} else if (HV_POST_QUEUE - b->tail < need) {
		if (b->head < need)
			return NULL;
		if (HV_POST_QUEUE - b->tail >= sizeof(struct rec))
			((struct rec *)(b->ring + b->tail))->len = REC_SKIP;
		b->used += HV_POST_QUEUE - b->tail;
		b->tail = 0;
	}
	p = b->ring + b->tail;
	b->tail += need;
	b->used += need;
	return p;
}

/* Step over a wrap marker at pos; the bytes skipped. */
static size_t ring_skip(const struct post_box *b, size_t pos)
{
	size_t left = HV_POST_QUEUE - pos;

	if (left < sizeof(struct rec) ||
	    ((const struct rec *)(b->ring + pos))->len == REC_SKIP)
		return left;
	return 0;
}

/* The oldest record, or NULL. mu held. */
static struct rec *ring_peek(struct post_box *b)
{
	size_t skip;

	if (!b->used)
		return NULL;
	skip = ring_skip(b, b->head);
	if (skip) {
		b->used -= skip;
		b->head = 0;
	}
	return b->used ? (struct rec *)(b->ring + b->head) : NULL;
}

static void ring_pop(struct post_box *b, struct rec *r)
{
	size_t need = rec_need(r->len);

	b->head += need;
	b->used -= need;
	if (!b->used)
		b->head = b->tail = 0;
}

static void box_drain(void *opaque);

static struct post_box *box_of_sec(struct vm *vm, const struct cfg_section *sec)
{
	struct post_box *b;

	for (b = vm->post_boxes; b; b = b->next)
		if (b->sec == sec)
			return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->ring = malloc(HV_POST_QUEUE);
	if (!b->ring) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->mu, NULL);
	b->sec = sec;
	b->vm = vm;
	b->call = (struct loop_call){ .fn = box_drain, .opaque = b };
	b->next = vm->post_boxes;
	vm->post_boxes = b;
	return b;
}

/* The instance's own box, bound to it. Main thread. */
static struct post_box *box_of(struct instance *in)
{
	struct post_box *b;

	if (!in->vm || !in->sec)
		return NULL;
	b = box_of_sec(in->vm, in->sec);
	if (b && !b->dead && !b->in) {
		pthread_mutex_lock(&b->mu);
		b->in = in;
		pthread_mutex_unlock(&b->mu);
	}
	return b;
}

/* A box whose instance came up after it (a device later in the file)
 * finds it here, on the main thread. mu held. */
static struct instance *box_bind(struct post_box *b)
{
	if (b->in || b->dead)
		return b->in;
	for (struct instance *in = b->vm->instances; in; in = in->next)
		if (in->sec == b->sec)
			return b->in = in;
	return NULL;
}

static struct hv_peer *peer_find(struct vm *vm, struct post_box *from,
				 struct post_box *to)
{
	for (struct hv_peer *p = vm->post_peers; p; p = p->next)
		if (p->from == from && p->to == to)
			return p;
	return NULL;
}

static struct hv_peer *peer_one(struct vm *vm, struct post_box *from,
				struct post_box *to)
{
	struct hv_peer *p = peer_find(vm, from, to);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->from = from;
	p->to = to;
	p->next = vm->post_peers;
	vm->post_peers = p;
	return p;
}

/* from's handle for to, with to's handle for from as its reverse. */
static struct hv_peer *peer_pair(struct vm *vm, struct post_box *from,
				 struct post_box *to)
{
	struct hv_peer *p = peer_one(vm, from, to);
	struct hv_peer *r = p ? peer_one(vm, to, from) : NULL;

	if (!r)
		return NULL;
	p->reverse = r;
	r->reverse = p;
	return p;
}

struct hv_peer *svc_peer_get(struct hv_ctx *ctx, const char *key)
{
	struct instance *in = inst_of(ctx);
	const char *id = inst_config_str(in, key);
	const struct hv_config_key *k = plugin_key(in->plugin, key);
	const struct cfg_section *sec = NULL;
	struct post_box *from, *to;

	if (!id || !*id || !in->vm)
		return NULL;
	if (k && k->type == HV_KEY_REF && k->choices)
		sec = config_section(in->vm->cfg, k->choices, id);
	for (int i = 0; !sec && i < in->vm->cfg->n; i++)
		if (!strcmp(in->vm->cfg->s[i].id, id) &&
		    strcmp(in->vm->cfg->s[i].kind, "vm"))
			sec = &in->vm->cfg->s[i];
	if (!sec) {
		inst_err(in, key, "%s = %s: there is no such section", key, id);
		return NULL;
	}
	from = box_of(in);
	to = from ? box_of_sec(in->vm, sec) : NULL;
	return to ? peer_pair(in->vm, from, to) : NULL;
}

int svc_post_listen(struct hv_ctx *ctx, hv_post_fn fn, void *opaque)
{
	struct post_box *b = box_of(inst_of(ctx));

	if (!b)
		return inst_of(ctx)->vm ? -ENOMEM : -ENODEV;
	pthread_mutex_lock(&b->mu);
	b->fn = fn;
	b->opaque = opaque;
	pthread_mutex_unlock(&b->mu);
	return 0;
}

int post_sendv(struct hv_peer *peer, uint32_t type, const struct iovec *iov,
	       int iovcnt)
{
	struct post_box *b;
	size_t len = 0;
	uint8_t *p;
	int rc = 0;

	if (!peer || iovcnt < 0 || (iovcnt && !iov))
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > HV_POST_MAX - len)
			return -EMSGSIZE;
		len += iov[i].iov_len;
	}
	b = peer->to;
	pthread_mutex_lock(&b->mu);
	if (b->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	p = ring_reserve(b, rec_need(len));
	if (!p) {
		rc = -EAGAIN;
		goto out_unlock;
	}
	*(struct rec *)p = (struct rec){ .via = peer, .type = type,
					 .len = (uint32_t)len };
	p += sizeof(struct rec);
	for (int i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	if (!b->scheduled) {
		b->scheduled = 1;
		loop_call_queue(b->vm->loop, &b->call);
	}
out_unlock:
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int svc_postv(struct hv_ctx *ctx, struct hv_peer *peer, uint32_t type,
	      const struct iovec *iov, int iovcnt)
{
	/* a handle is its holder's: posting with another's would forge
	 * `from` (sec, unlike the box's binding, never changes) */
	if (peer && peer->from->sec != inst_of(ctx)->sec)
		return -EPERM;
	return post_sendv(peer, type, iov, iovcnt);
}

int svc_domain_held(struct hv_ctx *ctx)
{
	return inst_domain_held(inst_of(ctx));
}

static void deliver(struct post_box *b, struct instance *in,
		    const struct rec *r)
{
	struct hv_peer *via = r->via;
	const void *msg = r + 1;

	if (r->type == HV_POST_NET_FRAME && via->rx)
		via->rx(via->rx_arg, msg, r->len);
	else if (b->fn)
		b->fn(&in->ctx, b->opaque, via->reverse, r->type, msg, r->len);
}

/* Main thread: up to DRAIN_BUDGET messages under the target's lock. The
 * record stays in the ring (its bytes counted) while its listener runs,
 * so posts from inside the listener, to itself too, never overwrite it. */
static void box_drain(void *opaque)
{
	struct post_box *b = opaque;
	struct instance *in;
	struct rec *r;

	pthread_mutex_lock(&b->mu);
	in = box_bind(b);
	if (!in) {
		b->scheduled = 0; /* not created yet: the next post retries */
		pthread_mutex_unlock(&b->mu);
		return;
	}
	pthread_mutex_unlock(&b->mu);
	inst_lock(in);
	for (int n = 0; n < DRAIN_BUDGET; n++) {
		pthread_mutex_lock(&b->mu);
		r = b->dead ? NULL : ring_peek(b);
		pthread_mutex_unlock(&b->mu);
		if (!r)
			break;
		if (r->via)
			deliver(b, in, r);
		pthread_mutex_lock(&b->mu);
		ring_pop(b, r);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_mutex_lock(&b->mu);
	if (b->used && !b->dead)
		loop_call_queue(b->vm->loop, &b->call); /* the rest, next round */
	else
		b->scheduled = 0;
	pthread_mutex_unlock(&b->mu);
	inst_unlock(in);
}

struct hv_peer *post_port_open(struct instance *nic, struct instance *sw,
			       void (*rx)(void *arg, const void *msg,
					  size_t len),
			       void *arg)
{
	struct post_box *from = box_of(nic), *to = from ? box_of(sw) : NULL;
	struct hv_peer *p = to ? peer_pair(nic->vm, from, to) : NULL;
	struct iovec iov;

	if (!p)
		return NULL;
	p->reverse->rx = rx;
	p->reverse->rx_arg = arg;
	iov = (struct iovec){ (void *)nic->ctx.name, strlen(nic->ctx.name) };
	post_sendv(p, HV_POST_NET_ATTACH, &iov, 1);
	return p;
}

int post_create_shared(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct instance **tail = &vm->instances;

	for (int i = 0; i < c->n; i++) {
		const struct cfg_section *s = &c->s[i];
		struct instance *in;
		int rc, errors = log_errors;

		if (!s->plugin || !(s->plugin->desc.flags & HV_PLUGIN_OWN_DOMAIN) ||
		    (s->plugin->desc.kind != HV_KIND_NET &&
		     s->plugin->desc.kind != HV_KIND_CONSOLE))
			continue;
		in = instance_new(vm->env, vm, vm->loop, vm->plugins, s->plugin,
				  s, NULL);
		if (!in)
			return -ENOMEM;
		while (*tail)
			tail = &(*tail)->next;
		*tail = in;
		rc = backend_check(in); /* hv check too: it creates nothing */
		if (rc)
			return rc;
		if (vm->dry)
			continue;
		rc = instance_create(in);
		if (rc) {
			if (log_errors == errors)
				inst_err(in, NULL, "plugin %s failed to start (%s)",
					 s->plugin->desc.name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Drop the dead box's messages still waiting in b. mu held. */
static void purge_from(struct post_box *b, const struct post_box *dead)
{
	size_t pos = b->head, left = b->used;

	while (left) {
		size_t skip = ring_skip(b, pos);
		struct rec *r;

		if (skip) {
			left -= skip;
			pos = 0;
			continue;
		}
		r = (struct rec *)(b->ring + pos);
		if (r->via && r->via->from == dead)
			r->via = NULL;
		pos += rec_need(r->len);
		left -= rec_need(r->len);
	}
}

void post_instance_gone(struct instance *in)
{
	struct post_box *dead = NULL;

	if (!in->vm || !in->sec)
		return;
	for (struct post_box *b = in->vm->post_boxes; b; b = b->next)
		if (b->sec == in->sec)
			dead = b;
	if (!dead)
		return;
	pthread_mutex_lock(&dead->mu);
	dead->dead = 1;
	dead->in = NULL;
	dead->fn = NULL;
	free(dead->ring); /* its pending messages */
	dead->ring = NULL;
	dead->used = dead->head = dead->tail = 0;
	pthread_mutex_unlock(&dead->mu);
	for (struct post_box *b = in->vm->post_boxes; b; b = b->next) {
		if (b == dead)
			continue;
		pthread_mutex_lock(&b->mu);
		if (!b->dead)
			purge_from(b, dead);
		pthread_mutex_unlock(&b->mu);
	}
}

void post_vm_free(struct vm *vm)
{
	while (vm->post_peers) {
		struct hv_peer *p = vm->post_peers;
		vm->post_peers = p->next;
		free(p);
	}
	while (vm->post_boxes) {
		struct post_box *b = vm->post_boxes;
		vm->post_boxes = b->next;
		pthread_mutex_destroy(&b->mu);
		free(b->ring);
		free(b);
	}
}

long post_queued(struct vm *vm, const struct cfg_section *sec)
{
	long n = -1;

	for (struct post_box *b = vm->post_boxes; b; b = b->next) {
		if (b->sec != sec)
			continue;
		pthread_mutex_lock(&b->mu);
		n = b->dead ? -1 : (long)b->used;
		pthread_mutex_unlock(&b->mu);
	}
	return n;
}
