/*
 * libpcap capture and injection for the backends on a host interface
 * (pcapio.h). Only inbound frames are captured (PCAP_D_IN), so hv never
 * reads back what it injected. A frame longer than the interface's MTU
 * (plus Ethernet and one VLAN tag) is dropped and counted either way; one
 * that arrives so long was merged by the host (GRO/LRO: docs/network.md,
 * "Host setup"). hv never changes the interface: it must exist and be up.
 *
 * A frame the NIC has no room for stays in held and the interface is not
 * read again until rx_ready.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcapio.h"

#define PIO_RX_BUDGET 64 /* frames per wake-up: other fds get their turn */
#define PIO_VLAN_HLEN 18u

static void pio_rx(struct hv_ctx *ctx, void *opaque, unsigned ev);

static void pio_watch(struct hv_ctx *ctx, struct pio *s, int on)
{
	if (!on && s->w) {
		hv_fd_unwatch(ctx, s->w);
		s->w = NULL;
	}
	if (on && !s->w && hv_fd_watch(ctx, s->fd, HV_FD_IN, pio_rx, s, &s->w))
		hv_warn(ctx,
			"%s: cannot watch the capture: frames from it are not "
			"read",
			s->ifname);
}

unsigned pio_mtu(const char *ifname)
{
	struct ifreq ifr = {0};
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
 * before a frame is refused (it may change while hv runs). */
static int pio_fits(struct pio *s, size_t len)
{
	if (len <= s->mtu + PIO_VLAN_HLEN)
		return 1;
	s->mtu = pio_mtu(s->ifname);
	return len <= s->mtu + PIO_VLAN_HLEN;
}

static int pio_deliver(struct hv_ctx *ctx, struct pio *s, const uint8_t *f,
		       size_t len)
{
	struct iovec iov = {(void *)f, len};
	int rc = hv_net_deliver(ctx, &iov, 1);

	if (rc == -EAGAIN) {
		if (f != s->held)
			memcpy(s->held, f, len);
		s->pending = len;
		if (!s->paused) {
			s->paused = 1;
			pio_watch(ctx, s, 0);
		}
		return rc;
	}
	s->pending = 0;
	if (rc)
		net_drop(ctx, &s->rx_drops,
			 "%s: frame of %zu bytes refused (%s)", s->ifname, len,
			 strerror(-rc));
	else
		s->rx_frames++;
	return 0;
}

static void pio_frame(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *f)
{
	struct pio *s = (struct pio *)user;

	if (s->paused) { /* one frame is held already: the NIC is full */
		net_drop(s->ctx, &s->rx_drops,
			 "%s: the NIC has no receive buffer", s->ifname);
		return;
	}
	if (h->caplen < h->len || h->caplen < PIO_ETH_HLEN) {
		net_drop(s->ctx, &s->rx_drops,
			 "%s: frame of %u bytes (%u captured)", s->ifname,
			 h->len, h->caplen);
		return;
	}
	if (!pio_fits(s, h->caplen)) {
		net_drop(s->ctx, &s->rx_drops,
			 "%s: frame of %u bytes from the wire, over MTU %u "
			 "(GRO or LRO on?)",
			 s->ifname, h->caplen, s->mtu);
		return;
	}
	if (s->hook) { /* libpcap's buffer is its own: rewrite a copy */
		memcpy(s->held, f, h->caplen);
		if (s->hook(s->hook_opaque, s->held, h->caplen))
			return;
		f = s->held;
	}
	if (pio_deliver(s->ctx, s, f, h->caplen))
		pcap_breakloop(s->p);
}

static void pio_rx(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct pio *s = opaque;

	(void)ev;
	s->ctx = ctx;
	if (pcap_dispatch(s->p, PIO_RX_BUDGET, pio_frame, (u_char *)s) ==
	    PCAP_ERROR) {
		hv_warn(ctx,
			"%s: capture failed: %s: frames from it are not read",
			s->ifname, pcap_geterr(s->p));
		pio_watch(ctx, s, 0);
	}
}

void pio_rx_ready(struct hv_ctx *ctx, struct pio *s)
{
	if (s->pending && pio_deliver(ctx, s, s->held, s->pending))
		return;
	if (s->paused) {
		s->paused = 0;
		pio_watch(ctx, s, 1);
	}
}

int pio_gather(struct hv_ctx *ctx, struct pio *s, const struct iovec *iov,
	       int iovcnt, int copy, uint8_t **f, size_t *len)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	if (n < PIO_ETH_HLEN || n > HV_NET_FRAME_MAX) {
		net_drop(ctx, &s->tx_drops, "%s: frame of %zu bytes", s->ifname,
			 n);
		return -EINVAL;
	}
	if (!pio_fits(s, n)) {
		net_drop(ctx, &s->tx_drops,
			 "%s: frame of %zu bytes over MTU %u", s->ifname, n,
			 s->mtu);
		return -EMSGSIZE;
	}
	*len = n;
	if (iovcnt == 1 &&
	    !copy) { /* read only: the caller does not write it */
		*f = iov[0].iov_base;
		return 0;
	}
	n = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(s->txbuf + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	*f = s->txbuf;
	return 0;
}

int pio_inject(struct hv_ctx *ctx, struct pio *s, const uint8_t *f, size_t len)
{
	if (pcap_inject(s->p, f, len) < 0) {
		net_drop(ctx, &s->tx_drops, "%s: inject: %s", s->ifname,
			 pcap_geterr(s->p));
		return -EIO;
	}
	s->tx_frames++;
	return 0;
}

/* pcap_activate's result in words: the errors a user can fix. */
static const char *pio_why(pcap_t *p, int rc)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return "no such interface";
	case PCAP_ERROR_PERM_DENIED:
		return "permission denied (needs CAP_NET_RAW)";
	case PCAP_ERROR_IFACE_NOT_UP:
		return "the interface is down (ip link set IF up)";
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return "no permission for promiscuous mode";
	default:
		return pcap_geterr(p)[0] ? pcap_geterr(p)
					 : pcap_statustostr(rc);
	}
}

static int pio_activate(struct hv_ctx *ctx, struct pio *s, int promisc)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	int rc;

	s->p = pcap_create(s->ifname, err);
	if (!s->p) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, err);
		return -ENODEV;
	}
	if (pcap_set_snaplen(s->p, HV_NET_FRAME_MAX) ||
	    pcap_set_promisc(s->p, promisc) ||
	    pcap_set_immediate_mode(s->p, 1)) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, pcap_geterr(s->p));
		return -EINVAL;
	}
	rc = pcap_activate(s->p);
	if (rc < 0) {
		hv_error(ctx, "ifname = %s: %s", s->ifname, pio_why(s->p, rc));
		return rc == PCAP_ERROR_PERM_DENIED ||
				       rc == PCAP_ERROR_PROMISC_PERM_DENIED
			       ? -EPERM
			       : -ENODEV;
	}
	if (rc > 0)
		hv_warn(ctx, "%s: %s", s->ifname, pcap_statustostr(rc));
	if (pcap_datalink(s->p) != DLT_EN10MB) {
		hv_error(
			ctx,
			"ifname = %s: not an Ethernet interface (link type %s)",
			s->ifname,
			pcap_datalink_val_to_name(pcap_datalink(s->p)));
		return -EINVAL;
	}
	s->fd = pcap_get_selectable_fd(s->p);
	if (pcap_setnonblock(s->p, 1, err) ||
	    pcap_setdirection(s->p, PCAP_D_IN) || s->fd < 0) {
		hv_error(ctx, "ifname = %s: %s", s->ifname,
			 err[0] ? err : pcap_geterr(s->p));
		return -EINVAL;
	}
	return 0;
}

int pio_open(struct hv_ctx *ctx, struct pio *s, const char *ifname, int promisc)
{
	int rc;

	s->ifname = ifname;
	s->ctx = ctx;
	s->held = malloc(HV_NET_FRAME_MAX);
	s->txbuf = malloc(HV_NET_FRAME_MAX);
	if (!s->held || !s->txbuf) {
		hv_error(ctx, "%s: no memory for two frame buffers", ifname);
		return -ENOMEM;
	}
	rc = pio_activate(ctx, s, promisc);
	if (rc)
		return rc;
	s->mtu = pio_mtu(ifname);
	pio_watch(ctx, s, 1);
	return 0;
}

void pio_close(struct hv_ctx *ctx, struct pio *s)
{
	pio_watch(ctx, s, 0);
	if (s->p)
		pcap_close(s->p);
	s->p = NULL;
	free(s->held);
	free(s->txbuf);
	s->held = s->txbuf = NULL;
}
