/*
 * The network services: a NIC device's link to its backend (attached in
 * its domain) or to a switch (an own-domain instance reached by posts).
 */
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "instcfg.h"
#include "plugin.h"
#include "post.h"
#include "vm.h"

struct hv_net {
	struct instance *dev, *be;
	const struct hv_net_cbs *cbs; /* &own */
	struct hv_net_cbs own; /* the plugin's, as far as both know them */
	void *opaque;
	struct hv_peer *port; /* be has its own domain: frames are posted */
	struct hv_net *next;  /* in dev->ports when port is set */
};

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

/* A frame the switch posted to this port: the NIC's lock is held. */
static void net_port_rx(void *arg, const void *msg, size_t len)
{
	struct hv_net *n = arg;
	struct iovec iov = { (void *)msg, len };

	if (n->cbs && n->cbs->receive)
		n->cbs->receive(&n->dev->ctx, n->opaque, &iov, 1);
}

/* The NIC's end of a switch port; freed with the NIC's links below. */
static struct hv_net *net_port_open(struct instance *dev, struct instance *sw,
				    const struct hv_net_cbs *cbs, size_t cbs_size,
				    void *opaque)
{
	struct hv_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	*n = (struct hv_net){ .dev = dev, .be = sw, .opaque = opaque };
	if (cbs)
		COPY_CBS(n->own, cbs, cbs_size);
	n->cbs = &n->own;
	n->port = post_port_open(dev, sw, net_port_rx, n);
	if (!n->port) {
		free(n);
		return NULL;
	}
	n->next = dev->ports;
	dev->ports = n;
	return n;
}

struct hv_net *svc_net_attach(struct hv_ctx *ctx, const char *key,
				     const struct hv_net_cbs *cbs, size_t cbs_size,
				     void *opaque)
{
	struct instance *dev = inst_of(ctx), *be;
	struct hv_net *n;
	int e;

	be = net_shared(dev, key);
	if (be)
		return net_port_open(dev, be, cbs, cbs_size, opaque);
	be = backend_attach(dev, key, "net", &e);
	if (!be)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	*n = (struct hv_net){ .dev = dev, .be = be, .opaque = opaque };
	if (cbs)
		COPY_CBS(n->own, cbs, cbs_size);
	n->cbs = &n->own;
	be->link = n;
	return n;
}

int svc_net_send(struct hv_ctx *ctx, struct hv_net *n,
			const struct iovec *iov, int iovcnt)
{
	const struct hv_net_ops *ops;

	if (n && n->port)
		return post_sendv(n->port, HV_POST_NET_FRAME, iov, iovcnt);
	if (!n || !n->be->created)
		return -ENOTCONN;
	ops = &n->be->plugin->ops.net;
	return ops->send ? ops->send(&n->be->ctx, iov, iovcnt) : -ENOSYS;
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

int svc_net_deliver(struct hv_ctx *ctx, const struct iovec *iov,
			   int iovcnt)
{
	struct hv_net *n = inst_of(ctx)->link;

	if (!n || !n->cbs || !n->cbs->receive)
		return 0; /* no NIC: the frame is dropped like on a cut cable */
	return n->cbs->receive(&n->dev->ctx, n->opaque, iov, iovcnt);
}

void net_release(struct instance *in)
{
	while (in->ports) {
		struct hv_net *n = in->ports;
		in->ports = n->next;
		free(n);
	}
}
