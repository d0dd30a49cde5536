/*
 * A TUN/TAP network backend: the frames of one NIC (or of a switch's
 * uplink) go to a tap interface of the host and back.
 *
 * `ifname` is opened if a tap of that name exists (`ip tuntap add ...
 * user U` made it for an unprivileged user), else created; a tap created
 * here is not persistent and vanishes when hv closes it. hv never gives
 * the interface an address, never brings it up and never touches any
 * other host interface: docs/network.md ("Host setup") says how to.
 *
 * With vnet_hdr = on (the default) the tap carries the kernel's
 * virtio_net_hdr in front of every frame, 12 bytes as TUNSETVNETHDRSZ
 * sets it: the same bytes as struct hv_net_hdr (num_buffers is ignored by
 * tun), so headers pass through unconverted and the host kernel takes and
 * hands up partial checksums and TSO frames. With vnet_hdr = off the tap
 * carries bare frames, and says so (offloads_get): the core then finishes
 * checksums and cuts TSO frames before they reach it.
 *
 * Every callback runs on the main thread under the attached NIC's (or
 * switch's) domain lock. Frames are read into one preallocated buffer; a
 * frame the NIC has no room for waits there, and the taps are not read
 * again, until the NIC calls rx_ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <hv/hv.h>

#include "../common/netdrop.h"

#define TAP_QUEUES_MAX 16
#define TAP_RX_BUDGET 64 /* frames per wake-up: other fds get their turn */
#define TAP_OFFLOADS (HV_NET_OFF_CSUM | HV_NET_OFF_TSO4 | HV_NET_OFF_TSO6 | HV_NET_OFF_ECN)
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define ETH_HLEN_MIN 14u

struct tap;

struct tap_q {
	struct tap *t;
	int fd;
	struct hv_watch *w;
	int gone; /* the interface was deleted under us: never read again */
};

struct tap {
	struct tap_q q[TAP_QUEUES_MAX];
	unsigned nq;
	int vnet_hdr;   /* IFF_VNET_HDR: the fds carry the header */
	int paused;     /* the NIC said -EAGAIN: fds unwatched */
	size_t pending; /* bytes of buf waiting for the NIC, 0: none */
	uint8_t *buf;   /* HV_NET_FRAME_MAX: header + frame as delivered */
	const char *ifname;
	uint64_t rx_frames, tx_frames;
	struct net_drops rx_drops, tx_drops;
};

static void tap_rx(struct hv_ctx *ctx, void *opaque, unsigned ev);

static void tap_watch(struct hv_ctx *ctx, struct tap *t, int on)
{
	for (unsigned i = 0; i < t->nq; i++) {
		struct tap_q *q = &t->q[i];

		if (!on && q->w) {
			hv_fd_unwatch(ctx, q->w);
			q->w = NULL;
		}
		if (on && !q->w && !q->gone &&
		    hv_fd_watch(ctx, q->fd, HV_FD_IN, tap_rx, q, &q->w))
			hv_warn(ctx, "%s: cannot watch queue %u: frames from it are not read",
				t->ifname, i);
	}
}

/* Hand buf[0, len) up; 0, or -EAGAIN with the frame kept for rx_ready. */
static int tap_deliver(struct hv_ctx *ctx, struct tap *t, size_t len)
{
	struct iovec iov = { t->buf, len };
	int rc = hv_net_deliver(ctx, &iov, 1);

	if (rc == -EAGAIN) {
		t->pending = len;
		if (!t->paused) {
			t->paused = 1;
			tap_watch(ctx, t, 0);
		}
		return rc;
	}
	t->pending = 0;
	if (rc)
		net_drop(ctx, &t->rx_drops, "%s: frame of %zu bytes refused (%s)",
			 t->ifname, len, strerror(-rc));
	else
		t->rx_frames++;
	return 0;
}

static void tap_gone(struct hv_ctx *ctx, struct tap_q *q, int err)
{
	hv_warn(ctx, "%s: %s: the tap no longer works (deleted?): frames through it are dropped",
		q->t->ifname, strerror(err));
	q->gone = 1;
	if (q->w)
		hv_fd_unwatch(ctx, q->w);
	q->w = NULL;
}

static void tap_rx(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct tap_q *q = opaque;
	struct tap *t = q->t;

	for (int i = 0; i < TAP_RX_BUDGET && !t->paused; i++) {
		ssize_t n = read(q->fd, t->buf, HV_NET_FRAME_MAX);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				tap_gone(ctx, q, errno);
			return;
		}
		if ((size_t)n < (t->vnet_hdr ? HV_NET_HDR_LEN : 0) + ETH_HLEN_MIN) {
			net_drop(ctx, &t->rx_drops, "%s: runt of %zd bytes from the tap",
				 t->ifname, n);
			continue;
		}
		/* tun writes 10 header bytes and skips num_buffers */
		if (t->vnet_hdr)
			memset(t->buf + 10, 0, 2);
		tap_deliver(ctx, t, (size_t)n);
	}
	if (ev & HV_FD_ERR && !t->paused && !q->gone)
		tap_gone(ctx, q, EIO);
}

static void tap_rx_ready(struct hv_ctx *ctx)
{
	struct tap *t = HV_STATE(ctx, struct tap);

	if (t->pending && tap_deliver(ctx, t, t->pending))
		return;
	if (t->paused) {
		t->paused = 0;
		tap_watch(ctx, t, 1);
	}
}

/* Copy up to len bytes at off of the frame into out; bytes copied. */
static size_t iov_peek(const struct iovec *iov, int iovcnt, size_t off,
		       void *out, size_t len)
{
	size_t got = 0;

	for (int i = 0; i < iovcnt && got < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l = l - off < len - got ? l - off : len - got;
		memcpy((uint8_t *)out + got, (uint8_t *)iov[i].iov_base + off, l);
		got += l;
		off = 0;
	}
	return got;
}

/* The queue of a frame's flow (addresses and ports), so that one flow
 * keeps its order; frame points at the Ethernet header. */
static unsigned tap_queue_of(const uint8_t *f, size_t len, unsigned nq)
{
	size_t a = 0, n = 12; /* the MAC addresses unless IP is found */
	uint32_t h = 2166136261u;
	unsigned type;

	if (nq == 1 || len < ETH_HLEN_MIN)
		return 0;
	type = (unsigned)f[12] << 8 | f[13];
	if (type == 0x0800 && len >= 14 + 20) {
		a = 14 + 12;
		n = 8 + ((f[14] & 0xf) == 5 ? 4 : 0);
	} else if (type == 0x86dd && len >= 14 + 40 + 4) {
		a = 14 + 8;
		n = 32 + 4;
	}
	for (size_t i = a; i < a + n && i < len; i++)
		h = (h ^ f[i]) * 16777619u;
	return h % nq;
}

/* A frame from the NIC, behind its header with vnet_hdr (it goes to the
 * tap as it is: tun ignores num_buffers), bare without. */
static int tap_send(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	struct tap *t = HV_STATE(ctx, struct tap);
	uint8_t peek[HV_NET_HDR_LEN + 14 + 60];
	size_t hl = t->vnet_hdr ? HV_NET_HDR_LEN : 0, len = 0, got;
	struct tap_q *q;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < hl + ETH_HLEN_MIN || len > HV_NET_FRAME_MAX) {
		net_drop(ctx, &t->tx_drops, "%s: frame of %zu bytes%s", t->ifname,
			 len, hl ? " with its header" : "");
		return -EINVAL;
	}
	got = iov_peek(iov, iovcnt, 0, peek, sizeof(peek));
	q = &t->q[tap_queue_of(peek + hl, got - hl, t->nq)];
	if (q->gone) {
		net_drop(ctx, &t->tx_drops, "%s: the tap is gone", t->ifname);
		return -ENOTCONN;
	}
	if (writev(q->fd, iov, iovcnt) < 0) {
		int e = errno;

		/* EAGAIN: the host does not keep up; EIO: the tap is down;
		 * EINVAL: a header the kernel refuses, or too many pieces */
		net_drop(ctx, &t->tx_drops, "%s: write: %s", t->ifname, strerror(e));
		return -e;
	}
	t->tx_frames++;
	return 0;
}

/* One queue's fd, attached to the tap: 0, or -errno after one error line. */
static int tap_open_queue(struct hv_ctx *ctx, struct tap *t, unsigned i)
{
	struct ifreq ifr = { 0 };
	int fd, rc, sz = HV_NET_HDR_LEN;
	const char *what = "/dev/net/tun";

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out_err;
	}
	strcpy(ifr.ifr_name, t->ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (t->vnet_hdr ? IFF_VNET_HDR : 0) |
			(t->nq > 1 ? IFF_MULTI_QUEUE : 0);
	what = "TUNSETIFF";
	if (ioctl(fd, TUNSETIFF, &ifr))
		goto out_errno;
	if (t->vnet_hdr) {
		what = "TUNSETVNETHDRSZ";
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz))
			goto out_errno;
		what = "TUNSETOFFLOAD";
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS))
			goto out_errno;
	}
	t->q[i] = (struct tap_q){ .t = t, .fd = fd };
	return 0;
out_errno:
	rc = -errno;
	close(fd);
out_err:
	if (rc == -EINVAL && !strcmp(what, "TUNSETIFF"))
		hv_error(ctx, "ifname = %s: %s: %s (an interface of that name that is not a tap, or a tap whose multi_queue setting differs from queues = %u)",
			 t->ifname, what, strerror(-rc), t->nq);
	else if (rc == -EPERM && !strcmp(what, "TUNSETIFF"))
		hv_error(ctx, "ifname = %s: %s: %s (create the tap for this user: ip tuntap add mode tap user $USER name %s)",
			 t->ifname, what, strerror(-rc), t->ifname);
	else
		hv_error(ctx, "ifname = %s: %s: %s", t->ifname, what, strerror(-rc));
	return rc;
}

static void tap_close(struct hv_ctx *ctx, struct tap *t)
{
	tap_watch(ctx, t, 0);
	for (unsigned i = 0; i < t->nq; i++) /* the queues opened */
		close(t->q[i].fd);
	free(t->buf);
	t->buf = NULL;
}

static int tap_create(struct hv_ctx *ctx)
{
	struct tap *t = HV_STATE(ctx, struct tap);
	int rc = -ENOMEM;

	t->ifname = hv_config_get_str(ctx, "ifname");
	t->vnet_hdr = (int)hv_config_get_int(ctx, "vnet_hdr");
	t->nq = (unsigned)hv_config_get_int(ctx, "queues");
	if (!*t->ifname || strlen(t->ifname) >= IFNAMSIZ || strchr(t->ifname, '/') ||
	    strchr(t->ifname, ' ')) {
		hv_error(ctx, "ifname = %s: not an interface name (1-%d characters, no '/' or space)",
			 t->ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	t->buf = calloc(1, HV_NET_FRAME_MAX);
	if (!t->buf)
		goto out;
	for (unsigned i = 0; i < t->nq; i++) {
		rc = tap_open_queue(ctx, t, i);
		if (rc) {
			t->nq = i;
			goto out;
		}
	}
	tap_watch(ctx, t, 1);
	hv_info(ctx, "%s: %u queue%s, vnet_hdr %s", t->ifname, t->nq,
		t->nq > 1 ? "s" : "", t->vnet_hdr ? "on" : "off");
	return 0;
out:
	tap_close(ctx, t);
	return rc;
}

static void tap_destroy(struct hv_ctx *ctx)
{
	struct tap *t = HV_STATE(ctx, struct tap);

	hv_info(ctx, "%s: %llu frames to the host, %llu from it, %llu and %llu dropped",
		t->ifname, (unsigned long long)t->tx_frames,
		(unsigned long long)t->rx_frames, (unsigned long long)t->tx_drops.count,
		(unsigned long long)t->rx_drops.count);
	tap_close(ctx, t);
}

static uint32_t tap_offloads(struct hv_ctx *ctx)
{
	return HV_STATE(ctx, struct tap)->vnet_hdr ? TAP_OFFLOADS : 0;
}

static const struct hv_net_ops ops = {
	.create = tap_create,
	.destroy = tap_destroy,
	.send = tap_send,
	.rx_ready = tap_rx_ready,
	.offloads = TAP_OFFLOADS, /* vnet_hdr = on; offloads_get says per tap */
	.offloads_get = tap_offloads,
};

static const struct hv_config_key keys[] = {
	{ .name = "ifname", .type = HV_KEY_STRING, .flags = HV_KEY_REQUIRED,
	  .help = "the tap interface: opened if it exists, else created (and gone when hv exits)" },
	HV_KEY_FLAG("vnet_hdr", "on", "IFF_VNET_HDR: checksum and TSO offloads pass through to the host"),
	HV_KEY_NUM("queues", "1", 1, TAP_QUEUES_MAX, "tap queues (IFF_MULTI_QUEUE when more than 1)"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(tap, net, &ops,
		 .version = "1.0",
		 .description = "TUN/TAP backend with vnet headers (host kernel offloads)",
		 .instance_size = sizeof(struct tap),
		 .keys = keys);
