/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch's instance (plugins/switch): ports, the forwarding
 * table and the cross-process link. Everything runs on the main thread
 * under the switch's own domain lock (HV_PLUGIN_OWN_DOMAIN): posts from
 * NICs, the uplink backend (it joined this domain) and the socket
 * watches alike, so nothing here takes a lock of its own.
 */
#ifndef HV_SWITCH_H
#define HV_SWITCH_H

#include <sys/types.h>

#include <hv/hv.h>
#include <hv/out.h>

#include "fwd.h"

enum sw_type { SW_PRIVATE = 0, SW_INTERNAL, SW_EXTERNAL };
enum sw_kind { PORT_FREE = 0, PORT_NIC, PORT_UPLINK, PORT_LINK };
enum sw_role { ROLE_ALONE = 0, ROLE_HUB, ROLE_CLIENT, ROLE_LOST };
/* bridge = (adapter.c); the order of its choices */
enum sw_bridge { SW_BRIDGE_AUTO = 0, SW_BRIDGE_WIFI, SW_BRIDGE_PLAIN };

struct sw_port {
	uint8_t kind;        /* enum sw_kind */
	uint8_t hello;       /* PORT_LINK: the peer's hello was accepted */
	uint16_t mtu;        /* PORT_NIC: 0 until its hv_net_port came */
	uint8_t mac[6];      /* PORT_NIC: the NIC's own address, or zero */
	struct hv_peer *peer; /* PORT_NIC */
	int fd;              /* PORT_LINK */
	struct hv_watch *w;  /* PORT_LINK */
	uint64_t rx, tx, drop;
	char name[40];       /* the NIC's section, "uplink" or "link N" */
};

struct sw_stats {
	uint64_t runt, oversize, bad_hdr, queue_full, sock_full, refused;
	uint64_t warned_ns; /* the last rate-limited warning */
};

struct sw {
	struct hv_ctx *ctx;
	int type;            /* enum sw_type */
	struct fwd fwd;
	struct sw_port port[FWD_PORTS];
	struct hv_peer *last_from; /* a one-entry cache of peer -> port */
	int last_port;
	struct hv_net *uplink;
	int uplink_port;
	int bridge;          /* adapter =: SW_BRIDGE_WIFI or _PLAIN, once attached */
	int wireless;        /* adapter =: what sysfs said */
	struct hv_timer *age_timer;
	struct sw_stats st;
	/* the cross-process link (socket = PATH) */
	const char *path;
	int role;            /* enum sw_role */
	int lfd;             /* the hub's listening socket, or -1 */
	struct hv_watch *lw;
	dev_t bound_dev;     /* what the hub bound, to unlink only that */
	ino_t bound_ino;
	int link_port;       /* the client's port towards the hub, or -1 */
	uint32_t joins;      /* elections won or joined: tests watch it */
	struct hv_timer *retry;
	uint8_t *rxbuf;      /* HV_NET_FRAME_MAX + 1: one socket message */
	uint8_t *scratch;    /* HV_NET_FRAME_MAX: a scattered uplink frame */
};

/* switch.c */
int sw_port_new(struct sw *s, int kind, const char *name);
void sw_port_free(struct sw *s, int p);
void sw_input(struct sw *s, int in, const uint8_t *buf, size_t len);
int sw_uplink_attach(struct sw *s);
void sw_warn_drop(struct sw *s, const char *what, const char *port);

/* adapter.c: adapter = IF, bridge = auto|wifi|plain */
int sw_adapter_check(struct hv_ctx *ctx, int type);
struct hv_net *sw_adapter_attach(struct sw *s, const struct hv_net_cbs *cbs);
const char *sw_bridge_name(int bridge);

/* status.c: hv ctl SOCK status SECTION [json] */
void sw_status(struct hv_ctx *ctx, struct hv_out *o, unsigned flags);

/* link.c: socket = PATH */
int sw_link_start(struct sw *s);
void sw_link_stop(struct sw *s);
int sw_link_send(struct sw *s, int p, const struct iovec *iov, int iovcnt);

#endif
