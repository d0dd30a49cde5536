/*
 * A libpcap network backend: the NIC's frames are injected on a host
 * interface and the frames arriving there are captured for it, as an
 * external switch's uplink on a wired NIC (promiscuous) or on a veth.
 *
 * Frames are bare both ways (ops.offloads 0): the core finishes partial
 * checksums and cuts GSO frames before send sees them. Only inbound
 * frames are captured (PCAP_D_IN), so hv never reads back what it
 * injected. A frame longer than the interface's MTU (plus Ethernet and
 * one VLAN tag) is dropped and counted either way; one that arrives so
 * long was merged by the host (GRO/LRO: docs/network.md, "Host setup").
 * hv never changes the interface: it must exist and be up.
 *
 * Every callback runs on the main thread under the attached NIC's (or
 * switch's) domain lock. A frame the NIC has no room for is copied to a
 * preallocated buffer and the interface is not read again until rx_ready.
 */
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hv/hv.h>

#include "../common/netdrop.h"

#define PCAP_RX_BUDGET 64 /* frames per wake-up: other fds get their turn */
#define ETH_HLEN_MIN 14u
#define ETH_VLAN_HLEN 18u

struct pc {
	pcap_t *p;
	struct hv_watch *w;
	int fd, paused;
	size_t pending;   /* bytes of held waiting for the NIC, 0: none */
	uint8_t *held;    /* HV_NET_FRAME_MAX */
	uint8_t *txbuf;   /* HV_NET_FRAME_MAX: a frame in pieces, joined */
	unsigned mtu;
	const char *ifname;
	struct hv_ctx *ctx; /* for the pcap_dispatch callback */
	uint64_t rx_frames, tx_frames;
	struct net_drops rx_drops, tx_drops;
};

static void pc_rx(struct hv_ctx *ctx, void *opaque, unsigned ev);

static void pc_watch(struct hv_ctx *ctx, struct pc *s, int on)
{
	if (!on && s->w) {
		hv_fd_unwatch(ctx, s->w);
		s->w = NULL;
	}
	if (on && !s->w && hv_fd_watch(ctx, s->fd, HV_FD_IN, pc_rx, s, &s->w))
		hv_warn(ctx, "%s: cannot watch the capture: frames from it are not read",
			s->ifname);
}

/* The interface's MTU now (it may change while hv runs). */
static unsigned pc_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 1500;

	strcpy(ifr.ifr_name, ifname);
	if (fd >= 0 && !ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = (unsigned)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return mtu;
}

/* Whether a frame of len bytes fits the interface; its MTU is asked again
 * before a frame is refused. */
static int pc_fits(struct pc *s, size_t len)
{
	if (len <= s->mtu + ETH_VLAN_HLEN)
		return 1;
	s->mtu = pc_mtu(s->ifname);
	return len <= s->mtu + ETH_VLAN_HLEN;
}

static int pc_deliver(struct hv_ctx *ctx, struct pc *s, const uint8_t *f,
		      size_t len)
{
	struct iovec iov = { (void *)f, len };
	int rc = hv_net_deliver(ctx, &iov, 1);

	if (rc == -EAGAIN) {
		if (f != s->held)
			memcpy(s->held, f, len);
		s->pending = len;
		if (!s->paused) {
			s->paused = 1;
			pc_watch(ctx, s, 0);
		}
		return rc;
	}
	s->pending = 0;
	if (rc)
		net_drop(ctx, &s->rx_drops, "%s: frame of %zu bytes refused (%s)",
			 s->ifname, len, strerror(-rc));
	else
		s->rx_frames++;
	return 0;
}

static void pc_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *f)
{
	struct pc *s = (struct pc *)user;

	if (s->paused) { /* one frame is held already: the NIC is full */
		net_drop(s->ctx, &s->rx_drops, "%s: the NIC has no receive buffer",
			 s->ifname);
		return;
	}
	if (h->caplen < h->len || h->caplen < ETH_HLEN_MIN) {
		net_drop(s->ctx, &s->rx_drops, "%s: frame of %u bytes (%u captured)",
			 s->ifname, h->len, h->caplen);
		return;
	}
	if (!pc_fits(s, h->caplen)) {
		net_drop(s->ctx, &s->rx_drops,
			 "%s: frame of %u bytes from the wire, over MTU %u (GRO or LRO on?)",
			 s->ifname, h->caplen, s->mtu);
		return;
	}
	if (pc_deliver(s->ctx, s, f, h->caplen))
		pcap_breakloop(s->p);
}

static void pc_rx(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct pc *s = opaque;

	s->ctx = ctx;
	if (pcap_dispatch(s->p, PCAP_RX_BUDGET, pc_frame, (u_char *)s) == PCAP_ERROR) {
		hv_warn(ctx, "%s: capture failed: %s: frames from it are not read",
			s->ifname, pcap_geterr(s->p));
		pc_watch(ctx, s, 0);
	}
}

static void pc_rx_ready(struct hv_ctx *ctx)
{
	struct pc *s = HV_STATE(ctx, struct pc);

	if (s->pending && pc_deliver(ctx, s, s->held, s->pending))
		return;
	if (s->paused) {
		s->paused = 0;
		pc_watch(ctx, s, 1);
	}
}

static int pc_send(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	struct pc *s = HV_STATE(ctx, struct pc);
	const void *f = iov[0].iov_base;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < ETH_HLEN_MIN || len > HV_NET_FRAME_MAX) {
		net_drop(ctx, &s->tx_drops, "%s: frame of %zu bytes", s->ifname, len);
		return -EINVAL;
	}
	if (!pc_fits(s, len)) {
		net_drop(ctx, &s->tx_drops, "%s: frame of %zu bytes over MTU %u",
			 s->ifname, len, s->mtu);
		return -EMSGSIZE;
	}
	if (iovcnt != 1) {
		len = 0;
		for (int i = 0; i < iovcnt; i++) {
			memcpy(s->txbuf + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		f = s->txbuf;
	}
	if (pcap_inject(s->p, f, len) < 0) {
		net_drop(ctx, &s->tx_drops, "%s: inject: %s", s->ifname, pcap_geterr(s->p));
		return -EIO;
	}
	s->tx_frames++;
	return 0;
}

/* pcap_activate's result in words: the errors a user can fix. */
static const char *pc_why(pcap_t *p, int rc)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE: return "no such interface";
	case PCAP_ERROR_PERM_DENIED: return "permission denied (needs CAP_NET_RAW)";
	case PCAP_ERROR_IFACE_NOT_UP: return "the interface is down (ip link set IF up)";
	case PCAP_ERROR_PROMISC_PERM_DENIED: return "no permission for promiscuous mode";
	default: return pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc);
	}
}

static int pc_open(struct hv_ctx *ctx, struct pc *s)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	int rc;

	s->p = pcap_create(s->ifname, err);
	if (!s->p) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, err);
		return -ENODEV;
	}
	if (pcap_set_snaplen(s->p, HV_NET_FRAME_MAX) ||
	    pcap_set_promisc(s->p, (int)hv_config_get_int(ctx, "promisc")) ||
	    pcap_set_immediate_mode(s->p, 1)) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, pcap_geterr(s->p));
		return -EINVAL;
	}
	rc = pcap_activate(s->p);
	if (rc < 0) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, pc_why(s->p, rc));
		return rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED
			       ? -EPERM : -ENODEV;
	}
	if (rc > 0)
		hv_warn(ctx, "%s: %s", s->ifname, pcap_statustostr(rc));
	if (pcap_datalink(s->p) != DLT_EN10MB) {
		hv_error(ctx, "ifname = %s: not an Ethernet interface (link type %s)",
			 s->ifname, pcap_datalink_val_to_name(pcap_datalink(s->p)));
		return -EINVAL;
	}
	s->fd = pcap_get_selectable_fd(s->p);
	if (pcap_setnonblock(s->p, 1, err) || pcap_setdirection(s->p, PCAP_D_IN) ||
	    s->fd < 0) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, err[0] ? err : pcap_geterr(s->p));
		return -EINVAL;
	}
	return 0;
}

static void pc_close(struct hv_ctx *ctx, struct pc *s)
{
	pc_watch(ctx, s, 0);
	if (s->p)
		pcap_close(s->p);
	s->p = NULL;
	free(s->held);
	free(s->txbuf);
}

static int pc_create(struct hv_ctx *ctx)
{
	struct pc *s = HV_STATE(ctx, struct pc);
	int rc = -ENOMEM;

	s->ifname = hv_config_get_str(ctx, "ifname");
	s->ctx = ctx;
	if (!*s->ifname || strlen(s->ifname) >= IFNAMSIZ) {
		hv_error(ctx, "ifname = %s: not an interface name (1-%d characters)",
			 s->ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	s->held = malloc(HV_NET_FRAME_MAX);
	s->txbuf = malloc(HV_NET_FRAME_MAX);
	if (!s->held || !s->txbuf)
		goto out;
	rc = pc_open(ctx, s);
	if (rc)
		goto out;
	s->mtu = pc_mtu(s->ifname);
	pc_watch(ctx, s, 1);
	hv_info(ctx, "%s: MTU %u, %s", s->ifname, s->mtu,
		hv_config_get_int(ctx, "promisc") ? "promiscuous" : "own and broadcast frames");
	return 0;
out:
	pc_close(ctx, s);
	return rc;
}

static void pc_destroy(struct hv_ctx *ctx)
{
	struct pc *s = HV_STATE(ctx, struct pc);

	hv_info(ctx, "%s: %llu frames to the wire, %llu from it, %llu and %llu dropped",
		s->ifname, (unsigned long long)s->tx_frames,
		(unsigned long long)s->rx_frames, (unsigned long long)s->tx_drops.count,
		(unsigned long long)s->rx_drops.count);
	pc_close(ctx, s);
}

static const struct hv_net_ops ops = {
	.create = pc_create,
	.destroy = pc_destroy,
	.send = pc_send,
	.rx_ready = pc_rx_ready,
	.offloads = 0, /* bare frames: the core completes checksums and GSO */
};

static const struct hv_config_key keys[] = {
	{ .name = "ifname", .type = HV_KEY_STRING, .flags = HV_KEY_REQUIRED,
	  .help = "the host interface to capture on and inject into (must be up)" },
	HV_KEY_FLAG("promisc", "on", "promiscuous mode: frames for every MAC, not only the host's"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(pcap, net, &ops,
		 .version = "1.0",
		 .description = "libpcap backend: capture and inject on a host interface",
		 .instance_size = sizeof(struct pc),
		 .keys = keys);
