/* SPDX-License-Identifier: MIT */
/*
 * virtio-net: a virtio 1.x network device (PCI 1af4:1041, Linux
 * virtio_net) on the SDK's virtio transport, its frames going to whatever
 * its `net` key names (a switch port or a backend: this file never knows
 * which).
 *
 * Queues: rx0, tx0, rx1, tx1 ... and, with queues > 1, the control queue
 * last (MQ's VQ_PAIRS_SET, RX mode and MAC table acks, GUEST_OFFLOADS).
 * Every notify runs on the main thread (HV_VIRTIO_NOTIFY_MAIN), where the
 * backends and posts run too, so the device has one thread in practice.
 *
 * TX: a chain is the 12-byte virtio_net_hdr_v1 and the frame. The header
 * is copied and checked (GSO types and checksum requests the guest did not
 * negotiate, runts, oversized frames are dropped and counted); the frame
 * goes to hv_net_send() straight from the mapped guest buffers behind the
 * checked copy of the header, so the core never re-reads a header the
 * guest could change meanwhile. The chain is pushed with length 0.
 *
 * RX: a frame (with its hv_net_hdr when the port takes headers, else bare
 * with a zero header made here) is copied into rx chains popped on
 * demand: one chain without MRG_RXBUF (a frame that does not fit it is
 * dropped, the buffer kept), as many as needed with it (num_buffers set).
 * No chain is held between frames: when the guest has too few, the popped
 * ones are unpopped and the backend hears -EAGAIN; the guest's next rx
 * notify calls hv_net_rx_ready(). So reset and save have nothing to drain.
 *
 * Offloads (offloads = on and a 2.2 core): the guest's GUEST_* features
 * become the port's HV_NET_OFF_* through hv_net_configure() at DRIVER_OK
 * (and at CTRL_GUEST_OFFLOADS); the core completes in software whatever the
 * guest does not take and whatever the far end does not take from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hv/hv.h>
#include <hv/net.h>
#include <hv/virtio.h>

/* feature bits (spec 5.1.3) */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_CTRL_GUEST_OFFLOADS 2
#define F_MTU 3
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_GUEST_ECN 9
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_HOST_ECN 13
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define F_CTRL_VQ 17
#define F_CTRL_RX 18
#define F_MQ 22
#define BIT(b) HV_VIRTIO_BIT(b)

#define S_LINK_UP 1

/* control queue (spec 5.1.6.5) */
#define CTRL_RX 0
#define CTRL_MAC 1
#define CTRL_MQ 4
#define CTRL_GUEST_OFFLOADS 5
#define CTRL_MAC_TABLE_SET 0
#define CTRL_MQ_VQ_PAIRS_SET 0
#define CTRL_GUEST_OFFLOADS_SET 0
#define CTRL_OK 0
#define CTRL_ERR 1

#define HDR HV_NET_HDR_LEN
#define ETH_MIN 14u
#define ETH_MAX (14u + 4u + 65535u) /* a GSO frame with a VLAN tag */
#define TX_IOV 80                  /* Linux: MAX_SKB_FRAGS + 2, region splits */
#define RX_IOV 32                  /* big-packet chains: MAX_SKB_FRAGS + 2 */
#define MRG_MAX 128                /* rx buffers one frame may take */
#define CTRL_IOV 8
#define WARN_NS 1000000000ull      /* at most one drop warning a second */
#define STATE_VERSION 1

/* struct virtio_net_config (spec 5.1.4), up to mtu */
struct net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

enum drop { D_RUNT, D_BIG, D_HDR, D_LINK, D_NOFIT, D_RX_RUNT, D_RX_HDR, D_N };
static const char *const drop_why[D_N] = {
	"tx runt", "tx oversized", "tx header the guest did not negotiate",
	"tx with link down", "rx frame larger than the guest's buffers",
	"rx runt or oversized", "rx header the guest did not negotiate",
};

struct rxq {
	struct hv_virtq_elem elem[MRG_MAX];
	struct iovec iov[MRG_MAX][RX_IOV];
	int starved; /* a frame found too few buffers: rx_ready on the next */
};

struct txq {
	struct hv_virtq_elem elem;
	struct iovec iov[TX_IOV];
	struct iovec send[TX_IOV + 1];
	struct hv_net_hdr hdr;
	int deferred; /* a tx_again is queued */
};

struct vnic {
	struct hv_ctx *ctx;
	struct hv_virtio *vio;
	struct hv_net *net;
	struct net_config cfg;
	unsigned npairs, active, qsize, mtu, vlan;
	int link, can_hdr; /* can_hdr: offloads = on on a 2.2 core */
	int live, hdr;     /* hdr: frames to and from the port carry one */
	int paused;        /* pause op: no frame in or out until resume */
	uint64_t feat, guest_off; /* negotiated; GUEST_* in force (CTRL) */
	struct rxq *rx;
	struct txq *tx;
	struct hv_virtq_elem ctrl;
	struct iovec ctrl_iov[CTRL_IOV];
	uint64_t drops[D_N], last_warn;
	uint64_t rx_frames, tx_frames;
};

/* Count a dropped frame; say so at most once a second (a hostile guest or
 * wire must not flood the log). */
static void drop(struct vnic *n, enum drop d)
{
	uint64_t now = hv_clock_now(n->ctx);

	n->drops[d]++;
	if (n->last_warn && now - n->last_warn < WARN_NS)
		return;
	n->last_warn = now ? now : 1;
	hv_warn(n->ctx, "dropped %llu frame(s) so far: %s",
		(unsigned long long)n->drops[d], drop_why[d]);
}

static uint64_t iov_len(const struct iovec *iov, int n)
{
	uint64_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* Copy len bytes from src (from byte soff) into dst (from byte doff). */
static void iov_copy(const struct iovec *dst, int dn, size_t doff,
		     const struct iovec *src, int sn, size_t soff, size_t len)
{
	int di = 0, si = 0;

	while (di < dn && doff >= dst[di].iov_len)
		doff -= dst[di++].iov_len;
	while (si < sn && soff >= src[si].iov_len)
		soff -= src[si++].iov_len;
	while (len && di < dn && si < sn) {
		size_t a = dst[di].iov_len - doff, b = src[si].iov_len - soff;
		size_t k = a < b ? a : b;

		k = k < len ? k : len;
		memcpy((uint8_t *)dst[di].iov_base + doff,
		       (const uint8_t *)src[si].iov_base + soff, k);
		len -= k, doff += k, soff += k;
		if (doff == dst[di].iov_len)
			di++, doff = 0;
		if (soff == src[si].iov_len)
			si++, soff = 0;
	}
}

/* ---- the port ---- */

/* HV_NET_OFF_* the guest takes in frames for it. */
static uint32_t rx_offloads(uint64_t g)
{
	uint32_t o = 0;

	if (g & BIT(F_GUEST_CSUM))
		o |= HV_NET_OFF_CSUM;
	if (g & BIT(F_GUEST_TSO4))
		o |= HV_NET_OFF_TSO4;
	if (g & BIT(F_GUEST_TSO6))
		o |= HV_NET_OFF_TSO6;
	if (g & BIT(F_GUEST_ECN))
		o |= HV_NET_OFF_ECN;
	return o;
}

/* Tell the core (and through it a switch) what the port is now. */
static void port_configure(struct vnic *n)
{
	struct hv_net_port p = {
		.vlan = (uint16_t)n->vlan, .mtu = (uint16_t)n->mtu,
		.link_up = (uint16_t)n->link,
	};
	int rc;

	memcpy(p.mac, n->cfg.mac, 6);
	if (n->can_hdr)
		p.offloads = HV_NET_OFF_HDR | (n->live ? rx_offloads(n->guest_off) : 0);
	rc = hv_net_configure(n->ctx, n->net, &p);
	n->hdr = !rc && p.offloads;
	if (rc && rc != -ENOSYS)
		hv_warn(n->ctx, "the port refused its description (%s): frames go bare",
			strerror(-rc));
}

/* ---- rx ---- */

/* Which rx queue: one flow stays on one queue (IPv4/IPv6 addresses and
 * the next 4 bytes, the ports of TCP and UDP). */
static unsigned rx_pick(struct vnic *n, const struct iovec *iov, int iovcnt,
			size_t off)
{
	uint8_t b[14 + 40 + 4];
	size_t got, from = 0, len = 0;
	uint32_t h = 0;

	if (n->active < 2)
		return 0;
	got = hv_iov_to_buf(iov, iovcnt, off, b, sizeof(b));
	if (got >= 34 && b[12] == 0x08 && b[13] == 0x00)
		from = 26, len = 8 + ((b[14] & 0xf) == 5 && got >= 38 ? 4 : 0);
	else if (got >= 54 && b[12] == 0x86 && b[13] == 0xdd)
		from = 22, len = 32 + (got >= 58 ? 4 : 0);
	for (size_t i = from; i < from + len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h % n->active;
}

static int rx_hdr_ok(struct vnic *n, struct hv_net_hdr *h)
{
	uint8_t gso = h->gso_type & (uint8_t)~HV_NET_GSO_ECN;
	uint32_t off = rx_offloads(n->guest_off);

	if (!(off & HV_NET_OFF_CSUM))
		h->flags &= (uint8_t)~HV_NET_HDR_F_DATA_VALID;
	if ((h->flags & HV_NET_HDR_F_NEEDS_CSUM) && !(off & HV_NET_OFF_CSUM))
		return 0;
	if ((h->gso_type & HV_NET_GSO_ECN) && !(off & HV_NET_OFF_ECN))
		return 0;
	return gso == HV_NET_GSO_NONE ||
	       (gso == HV_NET_GSO_TCPV4 && (off & HV_NET_OFF_TSO4)) ||
	       (gso == HV_NET_GSO_TCPV6 && (off & HV_NET_OFF_TSO6));
}

/* Give back the first k popped chains, the last popped first. */
static void rx_unpop(struct hv_virtq *vq, struct rxq *q, int k)
{
	while (k--)
		hv_virtq_unpop(vq, &q->elem[k]);
}

/* Pop chains until `need` bytes fit: their count, 0 when the frame was
 * dropped (buffers kept), -EAGAIN when the guest has too few. */
static int rx_take(struct vnic *n, struct hv_virtq *vq, struct rxq *q,
		   uint64_t need)
{
	int max = hv_virtio_has(n->vio, F_MRG_RXBUF) ? MRG_MAX : 1;
	uint64_t have = 0;
	int k = 0, rc;

	while (have < need) {
		if (k == max) {
			rx_unpop(vq, q, k);
			drop(n, D_NOFIT);
			return 0;
		}
		rc = hv_virtq_pop(vq, &q->elem[k]);
		if (rc != 1) {
			rx_unpop(vq, q, k);
			if (rc < 0)
				return 0; /* broken queue: the transport said why */
			q->starved = 1;
			return -EAGAIN;
		}
		/* spec 5.1.6.3.1: every rx buffer is writable and holds at
		 * least the header */
		if (q->elem[k].in_len < HDR || q->elem[k].out_num) {
			for (int i = 0; i <= k; i++)
				hv_virtq_push(vq, &q->elem[i], 0);
			hv_virtq_flush(vq);
			hv_virtio_needs_reset(n->vio, "virtio-net: an rx buffer that is readable or shorter than the header");
			return 0;
		}
		have += q->elem[k++].in_len;
	}
	return k;
}

/* A frame for the guest: 0 (delivered or dropped), or -EAGAIN. */
static int nic_receive(struct hv_ctx *ctx, void *opaque,
		       const struct iovec *iov, int iovcnt)
{
	struct vnic *n = opaque;
	struct hv_net_hdr h = { 0 };
	uint64_t total = iov_len(iov, iovcnt), flen, at;
	size_t off = n->hdr ? HDR : 0;
	struct hv_virtq *vq;
	struct rxq *q;
	unsigned qi;
	int k;

	if (!n->live || !n->link)
		return 0; /* no driver or no carrier: lost, as on a wire */
	if (n->paused)
		return -EAGAIN; /* resume calls rx_ready */
	if (total < off + ETH_MIN || total - off > ETH_MAX) {
		drop(n, D_RX_RUNT);
		return 0;
	}
	if (n->hdr)
		hv_iov_to_buf(iov, iovcnt, 0, &h, HDR);
	if (!rx_hdr_ok(n, &h)) {
		drop(n, D_RX_HDR);
		return 0;
	}
	flen = total - off;
	qi = rx_pick(n, iov, iovcnt, off);
	vq = hv_virtio_queue(n->vio, 2 * qi);
	q = &n->rx[qi];
	if ((k = rx_take(n, vq, q, HDR + flen)) <= 0)
		return k;
	h.num_buffers = (uint16_t)k;
	at = 0;
	for (int i = 0; i < k; i++) {
		struct hv_virtq_elem *e = &q->elem[i];
		uint64_t room = e->in_len, w = 0;

		if (!i) {
			hv_iov_from_buf(e->in, e->in_num, 0, &h, HDR);
			w = HDR;
		}
		room = room - w < flen - at ? room - w : flen - at;
		iov_copy(e->in, e->in_num, w, iov, iovcnt, off + at, room);
		at += room;
		hv_virtq_push(vq, e, (uint32_t)(w + room));
	}
	hv_virtq_flush(vq);
	n->rx_frames++;
	return 0;
}

static const struct hv_net_cbs net_cbs = { .receive = nic_receive };

/* ---- tx ---- */

static int tx_hdr_ok(struct vnic *n, const struct hv_net_hdr *h, uint64_t flen)
{
	uint8_t gso = h->gso_type & (uint8_t)~HV_NET_GSO_ECN;

	if (h->flags & HV_NET_HDR_F_NEEDS_CSUM) {
		if (!hv_virtio_has(n->vio, F_CSUM) ||
		    (uint64_t)h->csum_start + h->csum_offset + 2 > flen)
			return 0;
	}
	if ((h->gso_type & HV_NET_GSO_ECN) && !hv_virtio_has(n->vio, F_HOST_ECN))
		return 0;
	if (gso == HV_NET_GSO_NONE)
		return flen <= n->mtu + 18u;
	if (!h->gso_size || !(h->flags & HV_NET_HDR_F_NEEDS_CSUM))
		return 0;
	return (gso == HV_NET_GSO_TCPV4 && hv_virtio_has(n->vio, F_HOST_TSO4)) ||
	       (gso == HV_NET_GSO_TCPV6 && hv_virtio_has(n->vio, F_HOST_TSO6));
}

/* One chain from the guest: checked, then sent (or dropped). */
static void tx_one(struct vnic *n, struct txq *t)
{
	struct hv_virtq_elem *e = &t->elem;
	uint64_t flen;
	int k, rc;

	if (!n->link) {
		drop(n, D_LINK);
		return;
	}
	if (e->out_len < HDR + ETH_MIN) {
		drop(n, D_RUNT);
		return;
	}
	flen = e->out_len - HDR;
	if (flen > ETH_MAX) {
		drop(n, D_BIG);
		return;
	}
	hv_iov_to_buf(e->out, e->out_num, 0, &t->hdr, HDR);
	/* a port without headers cannot finish a checksum or cut a GSO frame */
	if (!tx_hdr_ok(n, &t->hdr, flen) ||
	    (!n->hdr && (t->hdr.flags & HV_NET_HDR_F_NEEDS_CSUM || t->hdr.gso_type))) {
		drop(n, (t->hdr.gso_type || t->hdr.flags) ? D_HDR : D_BIG);
		return;
	}
	t->hdr.num_buffers = 0;
	t->send[0] = (struct iovec){ &t->hdr, HDR };
	k = hv_iov_slice(e->out, e->out_num, HDR, flen, t->send + 1, TX_IOV);
	if (k < 0) {
		drop(n, D_BIG);
		return;
	}
	rc = n->hdr ? hv_net_send(n->ctx, n->net, t->send, k + 1)
		    : hv_net_send(n->ctx, n->net, t->send + 1, k);
	if (!rc)
		n->tx_frames++;
}

static void tx_again(struct hv_ctx *ctx, void *opaque);

/* Send what queue vq holds, at most a queue's worth per call: a guest that
 * keeps refilling cannot hold the main loop; the rest goes on next round. */
static void tx_run(struct vnic *n, struct hv_virtq *vq)
{
	struct txq *t = &n->tx[hv_virtq_index(vq) / 2];
	unsigned budget = hv_virtq_size(vq);
	int rc = 0;

	while (budget-- && (rc = hv_virtq_pop(vq, &t->elem)) == 1) {
		tx_one(n, t);
		hv_virtq_push(vq, &t->elem, 0);
	}
	hv_virtq_flush(vq);
	if (rc == 1 && !t->deferred && !hv_loop_defer(n->ctx, tx_again, t))
		t->deferred = 1;
}

/* ---- control queue ---- */

static uint8_t ctrl_cmd(struct vnic *n, const uint8_t *c,
			const struct hv_virtq_elem *e)
{
	uint16_t pairs;
	uint64_t off, allowed;

	switch (c[0]) {
	case CTRL_RX: /* promisc, allmulti ...: the port sees every frame */
		return hv_virtio_has(n->vio, F_CTRL_RX) && c[1] <= 5 ? CTRL_OK : CTRL_ERR;
	case CTRL_MAC: /* filters are the guest's own business here */
		return c[1] == CTRL_MAC_TABLE_SET ? CTRL_OK : CTRL_ERR;
	case CTRL_MQ:
		if (c[1] != CTRL_MQ_VQ_PAIRS_SET || !hv_virtio_has(n->vio, F_MQ) ||
		    hv_iov_to_buf(e->out, e->out_num, 2, &pairs, 2) != 2 ||
		    pairs < 1 || pairs > n->npairs)
			return CTRL_ERR;
		n->active = pairs;
		return CTRL_OK;
	case CTRL_GUEST_OFFLOADS:
		allowed = n->feat & (BIT(F_GUEST_CSUM) | BIT(F_GUEST_TSO4) |
				     BIT(F_GUEST_TSO6) | BIT(F_GUEST_ECN));
		if (c[1] != CTRL_GUEST_OFFLOADS_SET ||
		    !hv_virtio_has(n->vio, F_CTRL_GUEST_OFFLOADS) ||
		    hv_iov_to_buf(e->out, e->out_num, 2, &off, 8) != 8 ||
		    (off & ~allowed))
			return CTRL_ERR;
		n->guest_off = off;
		port_configure(n);
		return CTRL_OK;
	}
	return CTRL_ERR;
}

static void ctrl_run(struct vnic *n, struct hv_virtq *vq)
{
	struct hv_virtq_elem *e = &n->ctrl;
	uint8_t c[2], ack;

	while (hv_virtq_pop(vq, e) == 1) {
		if (!e->in_len || hv_iov_to_buf(e->out, e->out_num, 0, c, 2) != 2) {
			hv_virtq_push(vq, e, 0);
			hv_virtio_needs_reset(n->vio, "virtio-net: a control command without class, command or ack");
			break;
		}
		ack = ctrl_cmd(n, c, e);
		hv_iov_from_buf(e->in, e->in_num, e->in_len - 1, &ack, 1);
		hv_virtq_push(vq, e, (uint32_t)e->in_len);
	}
	hv_virtq_flush(vq);
}

/* ---- transport callbacks ---- */

static void vnic_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	struct vnic *n = opaque;
	unsigned i = hv_virtq_index(vq);

	if (n->paused)
		return; /* resume kicks every queue */
	if (i == 2 * n->npairs)
		ctrl_run(n, vq);
	else if (i & 1)
		tx_run(n, vq);
	else if (n->rx[i / 2].starved) {
		n->rx[i / 2].starved = 0;
		hv_net_rx_ready(ctx, n->net);
	}
}

static void tx_again(struct hv_ctx *ctx, void *opaque)
{
	struct txq *t = opaque;
	struct vnic *n = HV_STATE(ctx, struct vnic);

	t->deferred = 0;
	if (n->live && !n->paused)
		tx_run(n, hv_virtio_queue(n->vio, 2 * (unsigned)(t - n->tx) + 1));
}

/* Dependencies the spec makes the driver honour (5.1.3.1): each bit
 * needs one of the bits of its mask. */
static int vnic_features_ok(struct hv_ctx *ctx, void *opaque, uint64_t f)
{
	static const struct { unsigned bit; uint64_t needs; } dep[] = {
		{ F_GUEST_TSO4, BIT(F_GUEST_CSUM) }, { F_GUEST_TSO6, BIT(F_GUEST_CSUM) },
		{ F_GUEST_ECN, BIT(F_GUEST_TSO4) | BIT(F_GUEST_TSO6) },
		{ F_HOST_TSO4, BIT(F_CSUM) }, { F_HOST_TSO6, BIT(F_CSUM) },
		{ F_HOST_ECN, BIT(F_HOST_TSO4) | BIT(F_HOST_TSO6) },
		{ F_CTRL_RX, BIT(F_CTRL_VQ) }, { F_MQ, BIT(F_CTRL_VQ) },
		{ F_CTRL_GUEST_OFFLOADS, BIT(F_CTRL_VQ) },
	};

	for (size_t i = 0; i < sizeof(dep) / sizeof(dep[0]); i++)
		if ((f & BIT(dep[i].bit)) && !(f & dep[i].needs))
			return -EINVAL;
	return 0;
}

/* The backend hears of the new buffers on the main thread, where
 * backends run (driver_ok comes on a vCPU thread). */
static void rx_kick(struct hv_ctx *ctx, void *opaque)
{
	struct vnic *n = opaque;

	if (n->live)
		hv_net_rx_ready(ctx, n->net);
}

static void vnic_driver_ok(struct hv_ctx *ctx, void *opaque)
{
	struct vnic *n = opaque;

	n->feat = hv_virtio_features(n->vio);
	n->guest_off = n->feat & (BIT(F_GUEST_CSUM) | BIT(F_GUEST_TSO4) |
				  BIT(F_GUEST_TSO6) | BIT(F_GUEST_ECN));
	n->active = 1; /* spec 5.1.6.5.5: until VQ_PAIRS_SET */
	n->live = 1;
	port_configure(n);
	if (hv_loop_defer(ctx, rx_kick, n))
		hv_net_rx_ready(ctx, n->net);
}

/* The driver reset the device: nothing is held, only forget the driver. */
static void vnic_vreset(struct hv_ctx *ctx, void *opaque)
{
	struct vnic *n = opaque;

	n->live = 0;
	n->feat = n->guest_off = 0;
	n->active = 1;
	for (unsigned i = 0; i < n->npairs; i++)
		n->rx[i].starved = 0;
	port_configure(n);
}

static const struct hv_virtio_ops vops = {
	.notify = vnic_notify,
	.reset = vnic_vreset,
	.features_ok = vnic_features_ok,
	.driver_ok = vnic_driver_ok,
};

/* ---- config ---- */

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* The MAC from the key, else 52:54:00 and 3 bytes of an FNV-1a hash of
 * the VM's name and the section's: stable across runs, different for
 * each NIC of each VM. */
static int mac_get(struct vnic *n)
{
	const char *s = hv_config_get_str(n->ctx, "mac");
	struct hv_vm_info vm = { 0 };
	uint8_t *m = n->cfg.mac;
	uint32_t h = 2166136261u;
	const char *p;

	if (s && *s) {
		if (mac_parse(s, m)) {
			hv_error(n->ctx, "mac = %s: not six colon-separated hex bytes", s);
			return -EINVAL;
		}
		if (m[0] & 1) {
			hv_error(n->ctx, "mac = %s: a multicast address (the first byte is odd)", s);
			return -EINVAL;
		}
		if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
			hv_error(n->ctx, "mac = %s: the zero address", s);
			return -EINVAL;
		}
		return 0;
	}
	(void)hv_vm_info_get(n->ctx, &vm);
	vm.name[sizeof(vm.name) - 1] = 0;
	for (p = vm.name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = n->ctx->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	m[0] = 0x52, m[1] = 0x54, m[2] = 0x00;
	m[3] = (uint8_t)(h >> 16), m[4] = (uint8_t)(h >> 8), m[5] = (uint8_t)h;
	return 0;
}

static uint64_t features(struct vnic *n)
{
	uint64_t f = BIT(F_MAC) | BIT(F_STATUS) | BIT(F_MTU) | BIT(F_MRG_RXBUF);

	if (n->can_hdr)
		f |= BIT(F_CSUM) | BIT(F_GUEST_CSUM) | BIT(F_HOST_TSO4) |
		     BIT(F_HOST_TSO6) | BIT(F_HOST_ECN) | BIT(F_GUEST_TSO4) |
		     BIT(F_GUEST_TSO6) | BIT(F_GUEST_ECN);
	if (n->npairs > 1) {
		f |= BIT(F_CTRL_VQ) | BIT(F_CTRL_RX) | BIT(F_MQ);
		if (n->can_hdr)
			f |= BIT(F_CTRL_GUEST_OFFLOADS);
	}
	return f;
}

static void queues_init(struct vnic *n)
{
	for (unsigned i = 0; i < n->npairs; i++) {
		for (int k = 0; k < MRG_MAX; k++)
			hv_virtq_elem_init(&n->rx[i].elem[k], n->rx[i].iov[k], RX_IOV);
		hv_virtq_elem_init(&n->tx[i].elem, n->tx[i].iov, TX_IOV);
		n->rx[i].starved = 0;
	}
	hv_virtq_elem_init(&n->ctrl, n->ctrl_iov, CTRL_IOV);
}

static int vnic_create(struct hv_ctx *ctx)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);
	struct hv_virtio_info info = { 0 };
	int rc;

	n->ctx = ctx;
	n->qsize = (unsigned)hv_config_get_int(ctx, "queue_size");
	if (n->qsize & (n->qsize - 1)) {
		hv_error(ctx, "queue_size = %u: a power of two from 1 to 32768", n->qsize);
		return -EINVAL;
	}
	n->npairs = (unsigned)hv_config_get_int(ctx, "queues");
	n->mtu = (unsigned)hv_config_get_int(ctx, "mtu");
	n->vlan = (unsigned)hv_config_get_int(ctx, "vlan");
	n->link = (int)hv_config_get_int(ctx, "link");
	n->can_hdr = hv_config_get_int(ctx, "offloads") && HV_HOST_HAS(ctx, net_configure);
	n->active = 1;
	if ((rc = mac_get(n)))
		return rc;
	n->cfg.status = n->link ? S_LINK_UP : 0;
	n->cfg.max_virtqueue_pairs = (uint16_t)n->npairs;
	n->cfg.mtu = (uint16_t)n->mtu;
	n->rx = calloc(n->npairs, sizeof(*n->rx));
	n->tx = calloc(n->npairs, sizeof(*n->tx));
	if (!n->rx || !n->tx) {
		rc = -ENOMEM;
		goto out_free;
	}
	queues_init(n);
	if (!(n->net = hv_net_attach(ctx, "net", &net_cbs, n))) {
		rc = -ENODEV; /* the core said why, naming the key */
		goto out_free;
	}
	info = (struct hv_virtio_info){
		.device_type = HV_VIRTIO_ID_NET,
		.num_queues = (uint16_t)(2 * n->npairs + (n->npairs > 1)),
		.queue_size_max = (uint16_t)n->qsize, .class_code = 0x020000,
		.flags = HV_VIRTIO_NOTIFY_MAIN, .features = features(n),
		.config = &n->cfg, .config_size = sizeof(n->cfg),
		.ops = &vops, .opaque = n,
	};
	if ((rc = hv_virtio_pci_create(ctx, &info, &n->vio)))
		goto out_free;
	port_configure(n);
	return 0;
out_free:
	free(n->tx);
	free(n->rx);
	return rc;
}

static void vnic_destroy(struct hv_ctx *ctx)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);

	hv_virtio_destroy(n->vio);
	free(n->tx);
	free(n->rx);
}

static void vnic_reset(struct hv_ctx *ctx)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);

	hv_virtio_reset(n->vio); /* calls vnic_vreset */
	queues_init(n);
	n->paused = 0;
}

static void vnic_pause(struct hv_ctx *ctx)
{
	HV_STATE(ctx, struct vnic)->paused = 1;
}

/* No notify or rx_ready is lost across a pause: every queue is run again. */
static void vnic_resume(struct hv_ctx *ctx)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);

	n->paused = 0;
	hv_virtio_kick(n->vio);
	if (n->live)
		hv_net_rx_ready(ctx, n->net);
}

/* link = on|off while the VM runs (hv ctl SOCK set nic0 link off). */
static int vnic_config_changed(struct hv_ctx *ctx, const char *key)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);
	int link;

	if (strcmp(key, "link"))
		return -EOPNOTSUPP;
	link = (int)hv_config_get_int(ctx, "link");
	if (link == n->link)
		return 0;
	n->link = link;
	n->cfg.status = link ? S_LINK_UP : 0;
	hv_virtio_config_changed(n->vio);
	port_configure(n);
	if (link && n->live)
		hv_net_rx_ready(ctx, n->net);
	return 0;
}

/* The device's own state after the transport's: what the driver set up
 * beyond the transport (active pairs, offloads) and the run-time link. */
struct vnic_state {
	uint32_t version, active, link, live;
	uint64_t feat, guest_off;
};

static int vnic_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);
	struct vnic_state s = {
		.version = STATE_VERSION, .active = n->active, .link = (uint32_t)n->link,
		.live = (uint32_t)n->live, .feat = n->feat, .guest_off = n->guest_off,
	};
	int rc;

	if ((rc = hv_virtio_save(n->vio, st)))
		return rc;
	return hv_state_write(ctx, st, &s, sizeof(s));
}

static int vnic_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vnic *n = HV_STATE(ctx, struct vnic);
	struct vnic_state s;
	int rc;

	queues_init(n);
	if ((rc = hv_virtio_restore(n->vio, st)) ||
	    (rc = hv_state_read(ctx, st, &s, sizeof(s))))
		return rc;
	if (s.version != STATE_VERSION || !s.active || s.active > n->npairs)
		return -EINVAL;
	n->active = s.active, n->link = !!s.link, n->live = !!s.live;
	n->feat = s.feat, n->guest_off = s.guest_off;
	n->cfg.status = n->link ? S_LINK_UP : 0;
	port_configure(n);
	hv_virtio_kick(n->vio);
	if (n->live)
		hv_net_rx_ready(ctx, n->net);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = vnic_create,
	.destroy = vnic_destroy,
	.reset = vnic_reset,
	.pause = vnic_pause,
	.resume = vnic_resume,
	.save = vnic_save,
	.restore = vnic_restore,
	.config_changed = vnic_config_changed,
};

static const struct hv_config_key keys[] = {
	HV_KEY_SECTION("net", "net", HV_KEY_REQUIRED, "the [net NAME] section: a switch or a backend"),
	HV_KEY_STR("mac", NULL, "52:54:00:xx:xx:xx; default: from the VM's and the section's names"),
	{ .name = "link", .type = HV_KEY_BOOL, .flags = HV_KEY_RUNTIME, .def = "on",
	  .help = "carrier (VIRTIO_NET_S_LINK_UP); changeable at run time" },
	HV_KEY_NUM("mtu", "1500", 68, 65535, "the MTU the guest is told (VIRTIO_NET_F_MTU)"),
	HV_KEY_NUM("vlan", "0", 0, 4094, "0 untagged; 1-4094: an access port of that VLAN"),
	HV_KEY_NUM("queues", "1", 1, 16, "queue pairs (VIRTIO_NET_F_MQ when > 1)"),
	HV_KEY_NUM("queue_size", "256", 1, 32768, "descriptors per queue, a power of two"),
	HV_KEY_FLAG("offloads", "on", "offer checksum and TSO offloads to the guest"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(virtio-net, device, &ops,
		 .version = "1.0",
		 .description = "virtio 1.x network device (PCI 1af4:1041)",
		 .instance_size = sizeof(struct vnic),
		 .keys = keys);
