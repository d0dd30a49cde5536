/*
 * The network services behind hv_net_* (hv/host.h, hv/net.h): a NIC's
 * link to a backend of its domain or to a switch port (posts), and the
 * offload adaptation between the two ends (netoff.h).
 */
#ifndef HV_CORE_NET_H
#define HV_CORE_NET_H

#include <sys/uio.h>

#include <hv/hv.h>

struct instance;

struct hv_net *svc_net_attach(struct hv_ctx *ctx, const char *key,
			      const struct hv_net_cbs *cbs, size_t cbs_size,
			      void *opaque);
/* hv_net_attach_plugin (v2.3): backend.c's backend_attach_plugin, linked
 * like an attached section; NULL with errno set. */
struct hv_net *svc_net_attach_plugin(struct hv_ctx *ctx, const char *name,
				     const char *plugin, const char *const *kv,
				     const struct hv_net_cbs *cbs,
				     size_t cbs_size, void *opaque);
int svc_net_send(struct hv_ctx *ctx, struct hv_net *n, const struct iovec *iov,
		 int iovcnt);
void svc_net_rx_ready(struct hv_ctx *ctx, struct hv_net *n);
int svc_net_deliver(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt);
/* hv_net_configure(): keep the NIC's port, tell the switch or backend. */
int svc_net_configure(struct hv_ctx *ctx, struct hv_net *n,
		      const struct hv_net_port *port);
/* Frames of this link the core dropped (malformed headers, segments
 * refused midway). */
unsigned long net_dropped(const struct hv_net *n);
/* Free the NIC's ends of switch ports. Its lock held. */
void net_release(struct instance *in);

#endif
