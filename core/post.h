/*
 * Cross-domain calls (hv_post, hv/post.h): one bounded message queue per
 * target instance, drained on the main loop under the target's domain
 * lock. Queues and peer handles belong to the VM and live until
 * post_vm_free(); a destroyed instance's queue is marked dead and its
 * ring freed at once.
 *
 * Locks: each queue has a mutex that is a leaf: hv_post() takes only it
 * (so any thread with any domain lock may post), and the drain takes it
 * only briefly inside the target's domain lock, never across a listener.
 * Everything but hv_post() runs on the main thread.
 */
#ifndef HV_CORE_POST_H
#define HV_CORE_POST_H

#include <stddef.h>
#include <sys/uio.h>

#include <hv/hv.h>

struct instance;
struct vm;
struct cfg_section;

/* The services behind hv_peer_get/hv_post_listen/hv_postv/hv_domain_held. */
struct hv_peer *svc_peer_get(struct hv_ctx *ctx, const char *key);
int svc_post_listen(struct hv_ctx *ctx, hv_post_fn fn, void *opaque);
int svc_postv(struct hv_ctx *ctx, struct hv_peer *peer, uint32_t type,
	      const struct iovec *iov, int iovcnt);
int svc_domain_held(struct hv_ctx *ctx);

/* Queue on the core's behalf (no sender check): a NIC's frames. */
int post_sendv(struct hv_peer *peer, uint32_t type, const struct iovec *iov,
	       int iovcnt);
/* A port between NIC device nic and the own-domain backend sw: the NIC's
 * handle to sw, after queueing HV_POST_NET_ATTACH. sw's HV_POST_NET_FRAME
 * replies reach rx(arg, frame, len) under the NIC's lock instead of its
 * listener. NULL on -ENOMEM. */
struct hv_peer *post_port_open(struct instance *nic, struct instance *sw,
			       void (*rx)(void *arg, const void *msg,
					  size_t len),
			       void *arg);
/* Create every section whose plugin has HV_PLUGIN_OWN_DOMAIN (not created
 * under vm->dry, like other backends); 0 or -errno after one line. */
int post_create_shared(struct vm *vm);
/* The instance is going: its queue refuses posts and frees what it held,
 * and its messages still queued elsewhere are dropped. */
void post_instance_gone(struct instance *in);
void post_vm_free(struct vm *vm);
/* Tests: bytes queued for the section's instance, -1 when it has no
 * queue or the queue is dead. */
long post_queued(struct vm *vm, const struct cfg_section *sec);

#endif
