/* SPDX-License-Identifier: MIT */
/*
 * switch.so: a learning layer-2 virtual switch, Hyper-V's private,
 * internal and external switches in one plugin. Each VM NIC whose `net`
 * key names the section is a port (HV_POST_NET_* messages through the
 * core); an internal or external switch attaches its uplink backend to
 * itself; `socket = PATH` joins switches of other hv processes
 * (link.c). Frames carry the 12-byte offload header both ways (offloads
 * = HV_NET_OFF_ALL) and are forwarded as they came: the core completes
 * or strips what each destination does not take. The decision itself is
 * fwd.c's. docs/network.md has the design.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/un.h>

#include "switch.h"

#define WARN_EVERY_NS 5000000000ull /* one warning per 5 s about drops */


void sw_warn_drop(struct sw *s, const char *what, const char *port)
{
	uint64_t now = hv_clock_now(s->ctx);

	if (s->st.warned_ns && now - s->st.warned_ns < WARN_EVERY_NS)
		return;
	s->st.warned_ns = now ? now : 1;
	hv_warn(s->ctx, "dropped %s from %s (runts %llu, oversized %llu, bad headers %llu, queues full %llu, sockets full %llu; at most one such line per 5 s)",
		what, port, (unsigned long long)s->st.runt,
		(unsigned long long)s->st.oversize,
		(unsigned long long)s->st.bad_hdr,
		(unsigned long long)s->st.queue_full,
		(unsigned long long)s->st.sock_full);
}

int sw_port_new(struct sw *s, int kind, const char *name)
{
	for (int p = 0; p < FWD_PORTS; p++) {
		struct sw_port *sp = &s->port[p];

		if (sp->kind != PORT_FREE)
			continue;
		memset(sp, 0, sizeof(*sp));
		sp->kind = (uint8_t)kind;
		sp->fd = -1;
		snprintf(sp->name, sizeof(sp->name), "%s", name);
		return p;
	}
	return -ENOSPC;
}

void sw_port_free(struct sw *s, int p)
{
	fwd_port_del(&s->fwd, (unsigned)p);
	if (s->last_port == p)
		s->last_from = NULL;
	memset(&s->port[p], 0, sizeof(s->port[p]));
	s->port[p].fd = -1;
}

/* ---- leaving the switch ---- */

static int port_send(struct sw *s, int o, const struct iovec *iov, int n)
{
	struct sw_port *sp = &s->port[o];
	int rc = -ENODEV;

	switch (sp->kind) {
	case PORT_NIC:
		rc = hv_post_sendv(s->ctx, sp->peer, HV_POST_NET_FRAME, iov, n);
		if (rc == -EAGAIN)
			s->st.queue_full++;
		if (rc == -ENODEV) /* the NIC was unplugged */
			sw_port_free(s, o);
		break;
	case PORT_UPLINK:
		rc = hv_net_send(s->ctx, s->uplink, iov, n);
		break;
	case PORT_LINK:
		rc = sw_link_send(s, o, iov, n);
		break;
	}
	if (rc)
		sp->drop++;
	else
		sp->tx++;
	return rc;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The header of a frame that grew (+4) or shrank (-4) by a tag: the
 * core relies on csum_start; hdr_len is a hint but kept honest. 0, or
 * -EINVAL when the checksum would start inside what is removed. */
static int hdr_shift(uint8_t *h, int by)
{
	uint16_t start = le16(h + 6), hl = le16(h + 2);

	if (h[0] & HV_NET_HDR_F_NEEDS_CSUM) {
		if (by < 0 && start < 18)
			return -EINVAL;
		put_le16(h + 6, (uint16_t)(start + by));
	}
	if (hl >= 18 || (by > 0 && hl))
		put_le16(h + 2, (uint16_t)(hl + by));
	return 0;
}

/* One copy of the frame out of port o, tagged or untagged as o needs.
 * The iovec points into the frame: the only copy is the core's (a post)
 * or the kernel's (a socket). */
static void egress(struct sw *s, int in, int o, const struct fwd_dec *d,
		   const uint8_t *buf, size_t len)
{
	const uint8_t *eth = buf + HV_NET_HDR_LEN;
	size_t elen = len - HV_NET_HDR_LEN;
	uint8_t h[HV_NET_HDR_LEN], tag[4];
	struct iovec iov[4];
	int n = 0;

	switch (fwd_egress(&s->fwd, d, (unsigned)in, (unsigned)o)) {
	case FWD_AS_IS:
		iov[n++] = (struct iovec){ (void *)buf, len };
		break;
	case FWD_STRIP:
		memcpy(h, buf, sizeof(h));
		if (hdr_shift(h, -4))
			goto out_bad;
		iov[n++] = (struct iovec){ h, sizeof(h) };
		iov[n++] = (struct iovec){ (void *)eth, 12 };
		iov[n++] = (struct iovec){ (void *)(eth + 16), elen - 16 };
		break;
	case FWD_INSERT:
		if (len + 4 > HV_NET_FRAME_MAX)
			goto out_bad;
		memcpy(h, buf, sizeof(h));
		hdr_shift(h, 4);
		tag[0] = FWD_TPID >> 8;
		tag[1] = FWD_TPID & 0xff;
		tag[2] = (uint8_t)(d->vid >> 8);
		tag[3] = (uint8_t)d->vid;
		iov[n++] = (struct iovec){ h, sizeof(h) };
		iov[n++] = (struct iovec){ (void *)eth, 12 };
		iov[n++] = (struct iovec){ tag, 4 };
		iov[n++] = (struct iovec){ (void *)(eth + 12), elen - 12 };
		break;
	}
	port_send(s, o, iov, n);
	return;
out_bad:
	s->st.bad_hdr++;
	s->port[o].drop++;
	sw_warn_drop(s, "a frame whose header does not survive its VLAN tag", s->port[in].name);
}

/* ---- entering the switch ---- */

/* A frame (offload header + Ethernet) from port `in`. */
void sw_input(struct sw *s, int in, const uint8_t *buf, size_t len)
{
	struct sw_port *sp = &s->port[in];
	struct fwd_dec d;

	sp->rx++;
	if (len < HV_NET_HDR_LEN + FWD_ETH_MIN) {
		s->st.runt++;
		sw_warn_drop(s, "a runt frame", sp->name);
		return;
	}
	if (len > HV_NET_FRAME_MAX ||
	    (sp->mtu && buf[1] == HV_NET_GSO_NONE &&
	     len > HV_NET_HDR_LEN + 18u + sp->mtu)) {
		s->st.oversize++;
		sw_warn_drop(s, "an oversized frame", sp->name);
		return;
	}
	if (fwd_decide(&s->fwd, (unsigned)in, buf + HV_NET_HDR_LEN,
		       len - HV_NET_HDR_LEN, hv_clock_now(s->ctx), &d))
		return; /* counted in s->fwd.st */
	for (int i = 0; i < d.n; i++)
		egress(s, in, d.out[i], &d, buf, len);
}

static int port_of(struct sw *s, struct hv_peer *from)
{
	if (from && from == s->last_from)
		return s->last_port;
	for (int p = 0; p < FWD_PORTS; p++) {
		if (s->port[p].kind == PORT_NIC && s->port[p].peer == from) {
			s->last_from = from;
			s->last_port = p;
			return p;
		}
	}
	return -1;
}

static void nic_attach(struct sw *s, struct hv_peer *from, const char *msg,
		       size_t len)
{
	char name[40];
	int p = port_of(s, from);

	if (p >= 0)
		return;
	snprintf(name, sizeof(name), "[device %.*s]", (int)(len < 28 ? len : 28), msg);
	p = sw_port_new(s, PORT_NIC, name);
	if (p < 0) {
		s->st.refused++;
		hv_error(s->ctx, "%s: no free port (at most %d)", name, FWD_PORTS);
		return;
	}
	s->port[p].peer = from;
	/* until its hv_net_port says otherwise (a core before 2.2 never does) */
	fwd_port_set(&s->fwd, (unsigned)p, 0, 1);
}

static void nic_port(struct sw *s, struct hv_peer *from, const void *msg,
		     size_t len)
{
	struct hv_net_port np = { 0 };
	static const uint8_t zero[6];
	int p = port_of(s, from);

	if (p < 0)
		return;
	memcpy(&np, msg, len < sizeof(np) ? len : sizeof(np));
	if (np.vlan > 4094) {
		hv_error(s->ctx, "%s: vlan %u: 0 or 1-4094", s->port[p].name, np.vlan);
		np.link_up = 0;
	}
	memcpy(s->port[p].mac, np.mac, 6);
	s->port[p].mtu = np.mtu ? np.mtu : 1500;
	fwd_port_set(&s->fwd, (unsigned)p, np.vlan, np.link_up != 0);
	for (int q = 0; q < FWD_PORTS && memcmp(np.mac, zero, 6); q++)
		if (q != p && s->port[q].kind == PORT_NIC &&
		    !memcmp(s->port[q].mac, np.mac, 6))
			hv_error(s->ctx, "%s and %s both use MAC %02x:%02x:%02x:%02x:%02x:%02x on this switch",
				 s->port[q].name, s->port[p].name, np.mac[0],
				 np.mac[1], np.mac[2], np.mac[3], np.mac[4], np.mac[5]);
}

static void on_post(struct hv_ctx *ctx, void *opaque, struct hv_peer *from,
		    uint32_t type, const void *msg, size_t len)
{
	struct sw *s = opaque;
	int p;

	switch (type) {
	case HV_POST_NET_ATTACH:
		nic_attach(s, from, msg, len);
		break;
	case HV_POST_NET_PORT:
		nic_port(s, from, msg, len);
		break;
	case HV_POST_NET_FRAME:
		p = port_of(s, from);
		if (p >= 0)
			sw_input(s, p, msg, len);
		break;
	default: /* RX_READY: nothing is held back for a NIC */
		break;
	}
}

/* ---- the uplink: a backend in this domain, a trunk port ---- */

static int uplink_receive(struct hv_ctx *ctx, void *opaque,
			  const struct iovec *iov, int iovcnt)
{
	struct sw *s = opaque;
	size_t len = 0;

	if (iovcnt == 1) {
		sw_input(s, s->uplink_port, iov[0].iov_base, iov[0].iov_len);
		return 0;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > HV_NET_FRAME_MAX - len) {
			s->st.oversize++;
			sw_warn_drop(s, "an oversized frame", "the uplink");
			return 0;
		}
		memcpy(s->scratch + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	sw_input(s, s->uplink_port, s->scratch, len);
	return 0;
}

static const struct hv_net_cbs uplink_cbs = { .receive = uplink_receive };

/* From create, or when this process takes over as the hub. */
int sw_uplink_attach(struct sw *s)
{
	struct hv_net_port np = { .offloads = HV_NET_OFF_ALL, .link_up = 1 };
	int p, rc;

	if (s->type == SW_PRIVATE || s->uplink)
		return 0;
	p = sw_port_new(s, PORT_UPLINK, "the uplink");
	if (p < 0)
		return p;
	if (hv_config_get_str(s->ctx, "adapter")) {
		/* the core said why in one line when it fails */
		s->uplink = sw_adapter_attach(s, &uplink_cbs);
		if (!s->uplink) {
			sw_port_free(s, p);
			return -ENODEV;
		}
	} else if (!(s->uplink = hv_net_attach(s->ctx, "uplink", &uplink_cbs, s))) {
		sw_port_free(s, p);
		hv_error(s->ctx, "uplink = %s: cannot attach it",
			 hv_config_get_str(s->ctx, "uplink"));
		return -ENODEV;
	}
	rc = hv_net_configure(s->ctx, s->uplink, &np);
	if (rc && rc != -ENOSYS)
		hv_warn(s->ctx, "uplink: offloads not configured (%s)", strerror(-rc));
	s->uplink_port = p;
	fwd_port_set(&s->fwd, (unsigned)p, 0, 1);
	return 0;
}

/* ---- the instance ---- */

static void age_tick(struct hv_ctx *ctx, void *opaque)
{
	struct sw *s = opaque;

	fwd_age(&s->fwd, hv_clock_now(ctx));
}

static int sw_check(struct hv_ctx *ctx)
{
	int type = (int)hv_config_get_int(ctx, "type");
	const char *up = hv_config_get_str(ctx, "uplink");
	const char *path = hv_config_get_str(ctx, "socket");
	int64_t total = hv_config_get_int(ctx, "mac_table");
	int64_t per = hv_config_get_int(ctx, "port_macs");
	int rc = sw_adapter_check(ctx, type);

	if (rc)
		return rc;
	if (hv_config_get_str(ctx, "adapter"))
		up = hv_config_get_str(ctx, "adapter"); /* the uplink's stand-in */

	if (type == SW_PRIVATE && hv_config_get_str(ctx, "uplink")) {
		hv_error(ctx, "type = private takes no uplink (uplink = %s): a private switch joins VMs only", up);
		return -EINVAL;
	}
	if (type == SW_INTERNAL && !up) {
		hv_error(ctx, "type = internal needs uplink = a [net] backend section (the host's tap)");
		return -EINVAL;
	}
	if (type == SW_EXTERNAL && !up) {
		hv_error(ctx, "type = external needs adapter = a host interface, or uplink = a [net] backend section (pcap, wifi-bridge)");
		return -EINVAL;
	}
	if (per > total) {
		hv_error(ctx, "port_macs = %lld is more than mac_table = %lld",
			 (long long)per, (long long)total);
		return -EINVAL;
	}
	if (path && strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		hv_error(ctx, "socket = %s: longer than %zu bytes (a unix socket's limit)",
			 path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	return 0;
}

static void sw_destroy(struct hv_ctx *ctx)
{
	struct sw *s = HV_STATE(ctx, struct sw);

	sw_link_stop(s);
	if (s->age_timer)
		hv_timer_free(ctx, s->age_timer);
	fwd_fini(&s->fwd);
	free(s->rxbuf);
	free(s->scratch);
}

static int sw_create(struct hv_ctx *ctx)
{
	struct sw *s = HV_STATE(ctx, struct sw);
	uint64_t aging = (uint64_t)hv_config_get_int(ctx, "aging") * 1000000000ull;
	uint64_t seed = 0;
	int rc;

	s->ctx = ctx;
	s->type = (int)hv_config_get_int(ctx, "type");
	s->path = hv_config_get_str(ctx, "socket");
	s->lfd = -1;
	s->link_port = -1;
	s->uplink_port = -1;
	for (int p = 0; p < FWD_PORTS; p++)
		s->port[p].fd = -1;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = hv_clock_now(ctx) * 0x9e3779b97f4a7c15ull;
	rc = fwd_init(&s->fwd, (uint32_t)hv_config_get_int(ctx, "mac_table"),
		      (uint32_t)hv_config_get_int(ctx, "port_macs"), aging, seed);
	s->rxbuf = malloc(HV_NET_FRAME_MAX + 1);
	s->scratch = malloc(HV_NET_FRAME_MAX);
	if (rc || !s->rxbuf || !s->scratch) {
		hv_error(ctx, "no memory for a MAC table of %lld entries",
			 (long long)hv_config_get_int(ctx, "mac_table"));
		rc = -ENOMEM;
		goto out_free;
	}
	rc = hv_timer_new(ctx, age_tick, s, &s->age_timer);
	if (rc)
		goto out_free;
	hv_timer_arm(ctx, s->age_timer, aging / 2, aging / 2);
	rc = hv_post_listen(ctx, on_post, s);
	if (rc)
		goto out_free;
	rc = s->path ? sw_link_start(s) : 0; /* the hub attaches the uplink */
	if (!rc && s->role != ROLE_CLIENT)
		rc = sw_uplink_attach(s);
	if (rc)
		goto out_free;
	return 0;
out_free:
	sw_destroy(ctx);
	return rc;
}

static const struct hv_net_ops ops = {
	.create = sw_create,
	.destroy = sw_destroy,
	.offloads = HV_NET_OFF_ALL,
	.check = sw_check,
};

static const struct hv_config_key keys[] = {
	{ .name = "type", .type = HV_KEY_ENUM, .flags = HV_KEY_REQUIRED,
	  .choices = "private|internal|external",
	  .help = "private: VMs only; internal: VMs and the host (uplink a tap); external: VMs and a host NIC's LAN" },
	HV_KEY_SECTION("uplink", "net", 0, "the [net] backend of an internal or external switch"),
	HV_KEY_STR("adapter", NULL, "external: the host interface; the switch attaches the uplink itself ([net NAME.uplink]); not with uplink"),
	{ .name = "bridge", .type = HV_KEY_ENUM, .choices = "auto|wifi|plain",
	  .help = "with adapter: wifi (wifi-bridge), plain (pcap, promiscuous) or auto (default): wifi when sysfs says the adapter is wireless" },
	HV_KEY_OUTFILE("socket", 0, "a unix socket: VMs of other hv processes naming it join this switch"),
	HV_KEY_NUM("mac_table", "4096", 16, 1048576, "MAC table entries, all ports together"),
	HV_KEY_NUM("port_macs", "256", 1, 65536, "MAC table entries one port may hold"),
	HV_KEY_NUM("aging", "300", 1, 86400, "seconds an unused MAC entry lives"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(switch, net, &ops,
		 .description = "learning layer-2 switch: private, internal, external; VLANs; shared across hv processes",
		 .version = "1.0",
		 .instance_size = sizeof(struct sw),
		 .keys = keys,
		 .flags = HV_PLUGIN_OWN_DOMAIN,
		 .status = sw_status);
