/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: network backend plugins (TAP, switch port, Wi-Fi bridge).
 *
 * A backend is attached to exactly one NIC device and runs under that
 * device's domain lock, on the main thread. Frames for the guest go up
 * through hv_net_deliver(); when that says -EAGAIN the backend stops
 * reading until its rx_ready op is called.
 *
 * A backend whose plugin sets HV_PLUGIN_OWN_DOMAIN (a switch) is instead
 * one instance in its own domain that any number of NICs attach to; it
 * gets no send/rx_ready calls and uses no hv_net_deliver: each NIC is a
 * port that reaches its hv_post listener as HV_POST_NET_* messages, and
 * it answers by posting frames to the port (hv/post.h).
 *
 * A switch's uplink (the tap of an internal switch, the host NIC of an
 * external one) is an ordinary backend the switch attaches to itself with
 * hv_net_attach(), as a device would; it then runs in the switch's domain.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include "hv/host.h"

/*
 * ---- v2.2: offloads ----
 *
 * A frame may travel with an offload header in front of it: virtio's
 * struct virtio_net_hdr_v1 (virtio 1.x 5.1.6), 12 bytes, little-endian,
 * so a virtio-net device and a TAP with IFF_VNET_HDR pass it through
 * untouched. Who sends and receives headers, and which offloads they
 * take, each party says once:
 *   - a NIC device, for the frames it takes (rx), through
 *     hv_net_configure() (below) after hv_net_attach(); a NIC whose
 *     port says offloads != 0 also sends every frame with a header
 *     (a zero one when it asks nothing), one that says 0 sends bare;
 *   - a backend, for the frames its send op takes, in hv_net_ops.offloads
 *     (the frames it hands to hv_net_deliver() then carry a header too);
 *   - a switch (HV_PLUGIN_OWN_DOMAIN) in its hv_net_ops.offloads: with
 *     HV_NET_OFF_HDR every HV_POST_NET_FRAME to and from it carries one.
 * A party without HV_NET_OFF_HDR (any 2.0 plugin) sends and receives bare
 * Ethernet frames. Between two parties the core adds, completes or strips
 * the header: what the receiver does not take is done in software before
 * it sees the frame (a partial checksum is finished, a GSO frame is cut
 * into gso_size segments with their IP/TCP headers and checksums fixed),
 * so a frame never reaches a party with a wrong checksum or a size it did
 * not ask for. A malformed header (unknown flags or GSO type, a GSO type
 * the frame's headers do not match or an IP fragment, gso_size 0, ECN
 * without TSO, csum_start/offset past the frame or an odd csum_offset,
 * hdr_len beyond it) drops the frame with a counted, rate-limited
 * warning; the sender's send gets -EINVAL. A GSO frame cut for a
 * receiver that refuses a segment midway loses the rest (TCP resends)
 * and the send still says 0. What the core produces itself carries a
 * zero header to a party taking headers.
 */
struct hv_net_hdr {
	uint8_t flags;        /* HV_NET_HDR_F_* */
	uint8_t gso_type;     /* HV_NET_GSO_*, optionally | HV_NET_GSO_ECN */
	uint16_t hdr_len;     /* Ethernet + IP + L4 header bytes (a hint) */
	uint16_t gso_size;    /* bytes of L4 payload per segment */
	uint16_t csum_start;  /* from the frame's first byte */
	uint16_t csum_offset; /* from csum_start: where the sum is stored */
	uint16_t num_buffers; /* virtio's mergeable-buffer count; ignored */
};
#define HV_NET_HDR_LEN 12u
#define HV_NET_HDR_F_NEEDS_CSUM 0x1 /* sum [csum_start, end) still to do */
#define HV_NET_HDR_F_DATA_VALID 0x2 /* checksums already checked */
#define HV_NET_GSO_NONE 0
#define HV_NET_GSO_TCPV4 1
#define HV_NET_GSO_UDP 3 /* UFO: IPv4 fragmentation */
#define HV_NET_GSO_TCPV6 4
#define HV_NET_GSO_UDP_L4 5 /* USO */
#define HV_NET_GSO_ECN 0x80 /* the TCP stream sets CWR: keep it on segment 1 */

/* What a party takes in frames sent to it. HV_NET_OFF_HDR is implied by
 * any other bit. */
#define HV_NET_OFF_HDR 0x01u
#define HV_NET_OFF_CSUM 0x02u /* NEEDS_CSUM frames */
#define HV_NET_OFF_TSO4 0x04u /* HV_NET_GSO_TCPV4 */
#define HV_NET_OFF_TSO6 0x08u /* HV_NET_GSO_TCPV6 */
#define HV_NET_OFF_ECN 0x10u  /* HV_NET_GSO_ECN on a TSO frame */
#define HV_NET_OFF_UFO 0x20u  /* HV_NET_GSO_UDP */
#define HV_NET_OFF_USO 0x40u  /* HV_NET_GSO_UDP_L4 */
#define HV_NET_OFF_ALL 0x7fu

/* The largest frame with its header: a 64 KiB GSO frame, Ethernet and a
 * VLAN tag. Every party must take frames up to this size. */
#define HV_NET_FRAME_MAX (HV_NET_HDR_LEN + 14u + 4u + 65535u)

/*
 * A NIC's port, as the NIC describes it (v2.2). The core keeps a copy;
 * a switch gets it as an HV_POST_NET_PORT message (hv/post.h), a backend
 * in its port_changed op.
 */
struct hv_net_port {
	uint32_t size;     /* sizeof in the plugin: hv_net_configure stamps it */
	uint32_t offloads; /* HV_NET_OFF_* the NIC takes in frames for it */
	uint8_t mac[6];    /* the NIC's own address */
	uint16_t vlan;     /* 0: untagged, no filter; 1-4094: an access port */
	uint16_t mtu;      /* the guest's MTU; 0 means 1500 */
	uint16_t link_up;  /* 0: carrier off: nothing is forwarded either way */
	uint32_t reserved;
};

/*
 * Describe the NIC's port: call after hv_net_attach() and again whenever
 * the guest renegotiates offloads or the link changes. Any thread of the
 * NIC's (its lock held). 0, -EINVAL (NULL n, a vlan over 4094), -ENOSYS
 * on a core before 2.2 (frames are then bare both ways). Until the first
 * call the port is offloads 0, link up, MAC, VLAN and MTU 0; a switch
 * hears that right after ATTACH, then each configured port (a full
 * queue is retried on the NIC's next frame).
 */
static inline int hv_net_configure(struct hv_ctx *ctx, struct hv_net *n,
				   const struct hv_net_port *port)
{
	struct hv_net_port p = *port;

	if (!HV_HOST_HAS(ctx, net_configure))
		return -ENOSYS;
	p.size = sizeof(p);
	return ctx->host->net_configure(ctx, n, &p);
}

struct hv_net_ops {
	/* ---- v2.0 ---- */
	/* Called when the device attaches the backend, in a VM that runs (hv
	 * check attaches it without calling create). 0, or -errno after one
	 * hv_error() line; a failed create releases what it took itself:
	 * destroy is called only after a create that returned 0. */
	int (*create)(struct hv_ctx *ctx);
	void (*destroy)(struct hv_ctx *ctx);
	/* A frame from the guest (Ethernet, no FCS): 0, or -errno (dropped). */
	int (*send)(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt);
	/* The device has receive buffers again. */
	void (*rx_ready)(struct hv_ctx *ctx);
	/* ---- v2.2 ---- */
	/* HV_NET_OFF_* the send op takes (a switch: its posts); 0 means bare
	 * Ethernet frames both ways. */
	uint32_t offloads;
	uint32_t reserved;
	/* The attached NIC called hv_net_configure(); may be NULL. */
	void (*port_changed)(struct hv_ctx *ctx, const struct hv_net_port *p);
	/* What the key table cannot say (keys that go together: a switch's
	 * type and uplink): 0, or -EINVAL after one hv_error() line. Runs in
	 * hv check and before create, touches nothing outside the instance
	 * (no socket, no file); may be NULL. */
	int (*check)(struct hv_ctx *ctx);
	/* Per instance, when the keys decide (a tap's vnet_hdr): replaces
	 * .offloads for this instance. Asked once, after create, on the main
	 * thread; may be NULL. */
	uint32_t (*offloads_get)(struct hv_ctx *ctx);
};

#endif
