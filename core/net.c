/*
 * The network services: a NIC device's link to its backend (attached in
 * its domain) or to a switch (an own-domain instance reached by posts),
 * and the offload contract of SDK 2.2 at each crossing between the two.
 *
 * Each party either speaks bare Ethernet or puts a struct hv_net_hdr in
 * front of every frame (hv/net.h). At each crossing (NIC -> backend in
 * svc_net_send, backend -> NIC in svc_net_deliver, NIC -> switch through
 * a post, switch -> NIC in net_port_rx) the core compares what the
 * sender sends with what the receiver takes: equal ends pass the iovecs
 * through untouched; a header is put in front (a zero one, in an extra
 * iovec) or stepped over (the iovecs re-pointed); and what the receiver
 * does not take is done here in software (netoff.c) into a scratch
 * buffer the link allocates once, on the first frame that needs it.
 *
 * Every crossing of one link runs under the NIC's domain lock (a
 * backend is in that domain; the post listener of a port is the NIC's),
 * so a link's scratch needs no lock of its own; the two directions have
 * one each because a backend may deliver from inside its send op.
 */
#include "net.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "config.h"
#include "instcfg.h"
#include "log.h"
#include "netoff.h"
#include "plugin.h"
#include "post.h"
#include "vm.h"

#define NET_IOV_STACK 64 /* iovecs re-pointed in place; more are copied */
#define NET_WARN_NS 1000000000ull /* one drop warning a second per link */

enum { NET_TX, NET_RX };

struct hv_net {
	struct instance *dev, *be;
	const struct hv_net_cbs *cbs; /* &own */
	struct hv_net_cbs own; /* the plugin's, as far as both know them */
	void *opaque;
	struct hv_peer *port; /* be has its own domain: frames are posted */
	struct hv_net *next;  /* in dev->ports when port is set */
	struct hv_net_port cfg; /* the NIC's, from its last hv_net_configure */
	int cfg_unsent;         /* the switch's queue was full: post it again */
	uint8_t *scratch[2];    /* NET_TX, NET_RX: HV_NET_FRAME_MAX each */
	unsigned long dropped;
	uint64_t warned_ns;
	uint32_t be_offloads; /* the backend's, fixed when the link is made */
};

/* Where a crossing's frames go, once adapted. */
typedef int (*net_out_fn)(struct hv_net *n, const struct iovec *iov,
			  int iovcnt);

static const struct hv_net_hdr zero_hdr;

static uint32_t off_norm(uint32_t o)
{
	o &= HV_NET_OFF_ALL;
	return o ? o | HV_NET_OFF_HDR : 0;
}

/* What the NIC takes; it sends headers exactly when it takes them. */
static uint32_t nic_off(const struct hv_net *n)
{
	return off_norm(n->cfg.offloads);
}

/* What the backend or switch takes (0 for a 2.0/2.1 plugin: plugin.c
 * copied its ops at the size it was built with). */
static uint32_t be_off(const struct hv_net *n)
{
	return n->be_offloads;
}

static void net_drop(struct hv_net *n, const char *why)
{
	struct timespec ts;
	uint64_t now;

	n->dropped++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (n->warned_ns && now - n->warned_ns < NET_WARN_NS)
		return;
	n->warned_ns = now;
	warn("[%s]: %s: frame dropped (%lu so far)",
	     n->dev->sec ? n->dev->sec->name : n->dev->ctx.name, why, n->dropped);
}

static uint8_t *net_scratch(struct hv_net *n, int dir)
{
	if (!n->scratch[dir])
		n->scratch[dir] = malloc(HV_NET_FRAME_MAX);
	return n->scratch[dir];
}

/* The frame [s->base, end) in one buffer: too many iovecs to re-point. */
static int net_linear(struct hv_net *n, int dir, const struct netoff_src *s,
		      struct iovec *v)
{
	uint8_t *buf = net_scratch(n, dir);

	if (!buf)
		return -ENOMEM;
	if (s->len > HV_NET_FRAME_MAX)
		return -EMSGSIZE;
	netoff_copy(s, 0, buf, s->len);
	*v = (struct iovec){ buf, s->len };
	return 0;
}

/* A bare frame to a receiver that takes headers: a zero one in front. */
static int net_hdr_add(struct hv_net *n, int dir, const struct iovec *iov,
		       int iovcnt, net_out_fn out)
{
	struct iovec v[NET_IOV_STACK];
	struct netoff_src s = { iov, iovcnt, 0, 0 };
	int rc;

	v[0] = (struct iovec){ (void *)&zero_hdr, HV_NET_HDR_LEN };
	if (iovcnt < NET_IOV_STACK) {
		memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
		return out(n, v, iovcnt + 1);
	}
	s.len = netoff_iov_len(iov, iovcnt);
	rc = net_linear(n, dir, &s, &v[1]);
	return rc ? rc : out(n, v, 2);
}

/* A frame whose header asks nothing, to a bare receiver: step over it. */
static int net_hdr_strip(struct hv_net *n, int dir, const struct netoff_src *s,
			 net_out_fn out)
{
	struct iovec v[NET_IOV_STACK];
	size_t skip = HV_NET_HDR_LEN;
	int i = 0, k = 0, rc;

	while (i < s->iovcnt && s->iov[i].iov_len <= skip)
		skip -= s->iov[i++].iov_len;
	if (s->iovcnt - i > NET_IOV_STACK) {
		rc = net_linear(n, dir, s, &v[0]);
		return rc ? rc : out(n, v, 1);
	}
	for (; i < s->iovcnt; i++, skip = 0)
		v[k++] = (struct iovec){ (uint8_t *)s->iov[i].iov_base + skip,
					 s->iov[i].iov_len - skip };
	return out(n, v, k);
}

struct net_seg {
	struct hv_net *n;
	net_out_fn out;
	int hdr, sent;
};

static int net_seg_emit(void *opaque, const uint8_t *frame, size_t len)
{
	struct net_seg *c = opaque;
	struct iovec v[2] = { { (void *)&zero_hdr, HV_NET_HDR_LEN },
			      { (void *)frame, len } };
	int rc = c->hdr ? c->out(c->n, v, 2) : c->out(c->n, v + 1, 1);

	if (!rc)
		c->sent++;
	return rc;
}

/* A GSO frame the receiver cannot take, cut in segments. Once one went
 * out, a refusal (a full queue) drops the rest and is not reported: a
 * sender retrying the frame would repeat what was delivered. */
static int net_segment(struct hv_net *n, int dir, const struct netoff_src *s,
		       const struct hv_net_hdr *h, const struct netoff_frame *f,
		       uint32_t dst, net_out_fn out)
{
	struct net_seg c = { n, out, !!(dst & HV_NET_OFF_HDR), 0 };
	uint8_t *buf = net_scratch(n, dir);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = netoff_segment(s, h, f, buf, net_seg_emit, &c);
	if (rc < 0 && c.sent) {
		n->dropped++;
		return 0;
	}
	return rc < 0 ? rc : 0;
}

/* A partial checksum the receiver does not take, finished. */
static int net_finish(struct hv_net *n, int dir, const struct netoff_src *s,
		      const struct hv_net_hdr *h, const struct netoff_frame *f,
		      uint32_t dst, net_out_fn out)
{
	uint8_t *buf = net_scratch(n, dir);
	struct iovec v[2] = { { (void *)&zero_hdr, HV_NET_HDR_LEN },
			      { buf, f->len } };

	if (!buf)
		return -ENOMEM;
	netoff_finish(s, h, f, buf);
	return dst & HV_NET_OFF_HDR ? out(n, v, 2) : out(n, v + 1, 1);
}

/* A frame with a header, to a receiver taking dst. */
static int net_hdr_take(struct hv_net *n, int dir, uint32_t dst,
			const struct iovec *iov, int iovcnt, net_out_fn out)
{
	size_t total = netoff_iov_len(iov, iovcnt);
	struct netoff_src s = { iov, iovcnt, HV_NET_HDR_LEN, 0 };
	struct netoff_frame f;
	struct hv_net_hdr h;
	uint32_t need;

	if (total < HV_NET_HDR_LEN + 14) {
		net_drop(n, "a runt frame");
		return -EINVAL;
	}
	s.len = total - HV_NET_HDR_LEN;
	netoff_hdr_get(&s, &h);
	if ((h.flags || h.gso_type) &&
	    (netoff_parse(&s, &f) || netoff_check(&h, &f))) {
		net_drop(n, "a malformed offload header");
		return -EINVAL;
	}
	need = netoff_needs(&h);
	if (!(need & ~dst))
		return dst & HV_NET_OFF_HDR ? out(n, iov, iovcnt)
					    : net_hdr_strip(n, dir, &s, out);
	if (h.gso_type != HV_NET_GSO_NONE)
		return net_segment(n, dir, &s, &h, &f, dst, out);
	return net_finish(n, dir, &s, &h, &f, dst, out);
}

/* One crossing: from a party that sends headers (src_hdr) or not, to one
 * that takes dst. Bare to bare is today's path, untouched. */
static int net_cross(struct hv_net *n, int dir, int src_hdr, uint32_t dst,
		     const struct iovec *iov, int iovcnt, net_out_fn out)
{
	if (!src_hdr && !(dst & HV_NET_OFF_HDR))
		return out(n, iov, iovcnt);
	if (!src_hdr)
		return net_hdr_add(n, dir, iov, iovcnt, out);
	return net_hdr_take(n, dir, dst, iov, iovcnt, out);
}

static int out_post(struct hv_net *n, const struct iovec *iov, int iovcnt)
{
	return post_sendv(n->port, HV_POST_NET_FRAME, iov, iovcnt);
}

static int out_backend(struct hv_net *n, const struct iovec *iov, int iovcnt)
{
	return n->be->plugin->ops.net.send(&n->be->ctx, iov, iovcnt);
}

static int out_nic(struct hv_net *n, const struct iovec *iov, int iovcnt)
{
	return n->cbs->receive(&n->dev->ctx, n->opaque, iov, iovcnt);
}

/* The NIC's port, to the switch (a post) or its backend (port_changed). */
static void net_port_tell(struct hv_net *n)
{
	const struct hv_net_ops *ops = &n->be->plugin->ops.net;
	struct iovec iov = { &n->cfg, sizeof(n->cfg) };

	if (n->port) {
		n->cfg_unsent = post_sendv(n->port, HV_POST_NET_PORT, &iov, 1) != 0;
		return;
	}
	if (n->be->created && ops->port_changed)
		ops->port_changed(&n->be->ctx, &n->cfg);
}

/* Until the NIC configures: no offloads, link up (a 2.1 NIC never does). */
static void net_init(struct hv_net *n, struct instance *dev,
		     struct instance *be, const struct hv_net_cbs *cbs,
		     size_t cbs_size, void *opaque)
{
	*n = (struct hv_net){ .dev = dev, .be = be, .opaque = opaque };
	if (cbs)
		COPY_CBS(n->own, cbs, cbs_size);
	n->cbs = &n->own;
	n->cfg = (struct hv_net_port){ .size = sizeof(n->cfg), .link_up = 1 };
	/* a backend whose keys decide (a tap with vnet_hdr = off) says so per
	 * instance; created by now, except in hv check */
	n->be_offloads = be->plugin->ops.net.offloads;
	if (be->plugin->ops.net.offloads_get && be->created)
		n->be_offloads = be->plugin->ops.net.offloads_get(&be->ctx);
	n->be_offloads = off_norm(n->be_offloads);
}

static void net_free(struct hv_net *n)
{
	free(n->scratch[NET_TX]);
	free(n->scratch[NET_RX]);
	free(n);
}

/* The own-domain [net] instance (a switch) dev's key names, or NULL. */
static struct instance *net_shared(struct instance *dev, const char *key)
{
	const char *id = inst_config_str(dev, key);
	const struct cfg_section *sec;

	if (!id || !*id || !dev->vm)
		return NULL;
	sec = config_section(dev->vm->cfg, "net", id);
	if (!sec || !sec->plugin ||
	    !(sec->plugin->desc.flags & HV_PLUGIN_OWN_DOMAIN))
		return NULL;
	for (struct instance *in = dev->vm->instances; in; in = in->next)
		if (in->sec == sec)
			return in;
	return NULL;
}

/* A frame the switch posted to this port: the NIC's lock is held. A NIC
 * without a buffer drops it and sends RX_READY later. */
static void net_port_rx(void *arg, const void *msg, size_t len)
{
	struct hv_net *n = arg;
	struct iovec iov = { (void *)msg, len };

	if (n->cbs && n->cbs->receive)
		net_cross(n, NET_RX, be_off(n) != 0, nic_off(n), &iov, 1, out_nic);
}

/* The NIC's end of a switch port; freed with the NIC's links below. The
 * switch hears ATTACH, then the port as it is until the NIC configures. */
static struct hv_net *net_port_open(struct instance *dev, struct instance *sw,
				    const struct hv_net_cbs *cbs, size_t cbs_size,
				    void *opaque)
{
	struct hv_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	net_init(n, dev, sw, cbs, cbs_size, opaque);
	n->port = post_port_open(dev, sw, net_port_rx, n);
	if (!n->port) {
		free(n);
		return NULL;
	}
	net_port_tell(n);
	n->next = dev->ports;
	dev->ports = n;
	return n;
}

/* The backend instance goes: its link (and scratch) with it. */
static void net_unlink(struct instance *be)
{
	net_free(be->link);
	be->link = NULL;
	be->unlink = NULL;
}

/* The link of a new backend in dev's domain. */
static struct hv_net *net_link(struct instance *dev, struct instance *be,
			       const struct hv_net_cbs *cbs, size_t cbs_size,
			       void *opaque)
{
	struct hv_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	net_init(n, dev, be, cbs, cbs_size, opaque);
	be->link = n;
	be->unlink = net_unlink;
	return n;
}

struct hv_net *svc_net_attach(struct hv_ctx *ctx, const char *key,
			      const struct hv_net_cbs *cbs, size_t cbs_size,
			      void *opaque)
{
	struct instance *dev = inst_of(ctx), *be;
	int e;

	be = net_shared(dev, key);
	if (be)
		return net_port_open(dev, be, cbs, cbs_size, opaque);
	be = backend_attach(dev, key, "net", &e);
	if (!be)
		return NULL;
	return net_link(dev, be, cbs, cbs_size, opaque);
}

struct hv_net *svc_net_attach_plugin(struct hv_ctx *ctx, const char *name,
				     const char *plugin, const char *const *kv,
				     const struct hv_net_cbs *cbs,
				     size_t cbs_size, void *opaque)
{
	struct instance *dev = inst_of(ctx), *be;
	struct hv_net *n;
	int e;

	be = backend_attach_plugin(dev, name, plugin, kv, &e);
	if (!be) {
		errno = -e;
		return NULL;
	}
	n = net_link(dev, be, cbs, cbs_size, opaque);
	if (!n)
		errno = ENOMEM;
	return n;
}

int svc_net_send(struct hv_ctx *ctx, struct hv_net *n,
		 const struct iovec *iov, int iovcnt)
{
	if (n && n->port) {
		if (n->cfg_unsent)
			net_port_tell(n);
		return net_cross(n, NET_TX, nic_off(n) != 0, be_off(n), iov,
				 iovcnt, out_post);
	}
	if (!n || !n->be->created)
		return -ENOTCONN;
	if (!n->be->plugin->ops.net.send)
		return -ENOSYS;
	return net_cross(n, NET_TX, nic_off(n) != 0, be_off(n), iov, iovcnt,
			 out_backend);
}

void svc_net_rx_ready(struct hv_ctx *ctx, struct hv_net *n)
{
	const struct hv_net_ops *ops;

	if (n && n->port) {
		post_sendv(n->port, HV_POST_NET_RX_READY, NULL, 0);
		return;
	}
	if (!n || !n->be->created)
		return;
	ops = &n->be->plugin->ops.net;
	if (ops->rx_ready)
		ops->rx_ready(&n->be->ctx);
}

int svc_net_deliver(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	struct hv_net *n = inst_of(ctx)->link;

	if (!n || !n->cbs || !n->cbs->receive)
		return 0; /* no NIC: the frame is dropped like on a cut cable */
	return net_cross(n, NET_RX, be_off(n) != 0, nic_off(n), iov, iovcnt,
			 out_nic);
}

int svc_net_configure(struct hv_ctx *ctx, struct hv_net *n,
		      const struct hv_net_port *port)
{
	struct hv_net_port p = { 0 };

	if (!n || !port || port->size < offsetof(struct hv_net_port, reserved))
		return -EINVAL;
	memcpy(&p, port, port->size < sizeof(p) ? port->size : sizeof(p));
	if (p.vlan > 4094)
		return -EINVAL;
	p.size = sizeof(p);
	p.offloads = off_norm(p.offloads);
	p.reserved = 0;
	n->cfg = p;
	net_port_tell(n);
	return 0;
}

unsigned long net_dropped(const struct hv_net *n)
{
	return n ? n->dropped : 0;
}

void net_release(struct instance *in)
{
	while (in->ports) {
		struct hv_net *n = in->ports;
		in->ports = n->next;
		net_free(n);
	}
}
