/*
 * The Wi-Fi bridge: an external switch's uplink on a wireless adapter. An
 * access point takes only frames whose source is the station's own MAC,
 * so every frame a VM sends leaves with the adapter's MAC (wb_out), and a
 * captured frame finds its VM through the address table (wb_in): the
 * translation is xlate.c's, this file is its I/O. Capture and injection
 * are plugins/common/pcapio.c's (as the pcap backend), not promiscuous:
 * the adapter receives only its own, broadcast and multicast frames,
 * which is all a station gets from an AP anyway.
 *
 * The host's own traffic on the adapter is untouched: libpcap reads a
 * copy; the host's addresses (getifaddrs, every 2 s) are handed to the
 * table so that no VM may take them and frames to them are not sent up.
 *
 * Every callback runs on the main thread under the switch's domain lock.
 * No allocation per frame: a frame is rewritten in the port's own buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hv/hv.h>
#include <hv/out.h>

#include "../common/pcapio.h"
#include "xlate.h"

#define WBP_ADDR_PERIOD_NS 2000000000ull /* host addresses re-read */
#define WBP_HOST_MAX	   64		 /* wb_host_addrs' limit */
#define WBP_NS		   1000000000ull

struct wbp {
	struct pio io;
	struct wb *wb;
	struct hv_ctx *ctx;
	struct hv_timer *age_timer, *addr_timer;
	uint8_t mac[6];
	uint64_t aging_ns;
	unsigned max_entries, per_vm;
	uint64_t conflicts_seen, full_seen; /* wb_stats values already logged */
	uint64_t status_now, status_last;   /* see wbp_status */
	struct net_drops out_warn, in_warn, conflict_warn, full_warn;
	struct wb_addr host[WBP_HOST_MAX];
	unsigned nhost;
};

/* wb_verdict as a JSON member name */
static const char *const wbp_key[WB_VERDICTS] = {
	[WB_PASS] = "pass",
	[WB_DROP_RUNT] = "runt",
	[WB_DROP_PROTO] = "proto",
	[WB_DROP_MALFORMED] = "malformed",
	[WB_DROP_UNKNOWN] = "unknown",
	[WB_DROP_HOST] = "host",
	[WB_DROP_LOOP] = "loop",
	[WB_DROP_SPOOF] = "spoof",
};

static const char *const wbp_how[] = {"?", "arp", "ndp", "dhcp", "ip"};

static const char *how_name(uint8_t how)
{
	return how < sizeof(wbp_how) / sizeof(wbp_how[0]) ? wbp_how[how] : "?";
}

static void mac_str(char out[18], const uint8_t m[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static void addr_str(char out[INET6_ADDRSTRLEN], const struct wb_addr *a)
{
	if (a->family == 4)
		inet_ntop(AF_INET, a->ip + 12, out, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, a->ip, out, INET6_ADDRSTRLEN);
}

/* The adapter's MAC: 0, or -errno after one hv_error() line. */
static int wbp_read_mac(struct hv_ctx *ctx, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	strcpy(ifr.ifr_name, ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		rc = -errno;
		hv_error(ctx, "ifname = %s: cannot read its MAC address: %s",
			 ifname, strerror(errno));
	} else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		rc = -EINVAL;
		hv_error(ctx,
			 "ifname = %s: not an Ethernet-like interface (ARP "
			 "type %u)",
			 ifname, ifr.ifr_hwaddr.sa_family);
	} else {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The adapter's IPv4 and IPv6 addresses into the table's host list. The
 * list is replaced only when it changed (DHCP renewals, SLAAC, privacy
 * addresses come and go while hv runs). */
static void wbp_host_refresh(struct wbp *s)
{
	struct wb_addr now[WBP_HOST_MAX];
	struct ifaddrs *ifa, *i;
	unsigned n = 0;

	if (getifaddrs(&ifa))
		return; /* keep the last list: better than none */
	for (i = ifa; i && n < WBP_HOST_MAX; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, s->io.ifname))
			continue;
		memset(&now[n], 0, sizeof(now[n]));
		if (i->ifa_addr->sa_family == AF_INET) {
			now[n].family = 4;
			now[n].ip[10] = now[n].ip[11] = 0xff;
			memcpy(now[n].ip + 12,
			       &((struct sockaddr_in *)(void *)i->ifa_addr)
					->sin_addr,
			       4);
			n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			now[n].family = 6;
			memcpy(now[n].ip,
			       &((struct sockaddr_in6 *)(void *)i->ifa_addr)
					->sin6_addr,
			       16);
			n++;
		}
	}
	freeifaddrs(ifa);
	if (n == s->nhost && !memcmp(now, s->host, n * sizeof(now[0])))
		return;
	memcpy(s->host, now, n * sizeof(now[0]));
	s->nhost = n;
	wb_host_addrs(s->wb, s->host, n);
}

/* A full table is the user's business (the frame itself passed): say
 * so, at most once a second. */
static void wbp_log_full(struct wbp *s)
{
	const struct wb_stats *st = wb_stats(s->wb);

	if (st->table_full == s->full_seen)
		return;
	s->full_seen = st->table_full;
	if (net_warn_due(&s->full_warn))
		hv_warn(s->ctx,
			"%s: address table full (table = %u, per_vm = %u): "
			"%llu addresses not learned so far",
			s->io.ifname, s->max_entries, s->per_vm,
			(unsigned long long)st->table_full);
}

static void wbp_age_tick(struct hv_ctx *ctx, void *opaque)
{
	struct wbp *s = opaque;

	wb_age(s->wb, hv_clock_now(ctx));
}

static void wbp_addr_tick(struct hv_ctx *ctx, void *opaque)
{
	(void)ctx;
	wbp_host_refresh(opaque);
}

/* pcapio's hook: a captured frame, rewritten for its VM or dropped. The
 * host's own traffic (WB_DROP_HOST) and frames for the LAN's other hosts
 * (WB_DROP_UNKNOWN: an AP sends every multicast NS to every station) are
 * what a shared medium carries: counted (status), not worth a word. */
static int wbp_in(void *opaque, uint8_t *f, size_t len)
{
	struct wbp *s = opaque;
	enum wb_verdict v = wb_in(s->wb, f, len, hv_clock_now(s->ctx));

	if (v == WB_PASS)
		return 0;
	if (v != WB_DROP_HOST && v != WB_DROP_UNKNOWN)
		net_drop(s->ctx, &s->in_warn,
			 "%s: inbound frame of %zu bytes: %s", s->io.ifname,
			 len, wb_reason(v));
	return -1;
}

static int wbp_send(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	struct wbp *s = HV_STATE(ctx, struct wbp);
	enum wb_verdict v;
	uint8_t *f;
	size_t len;
	int rc = pio_gather(ctx, &s->io, iov, iovcnt, 1, &f, &len);

	if (rc)
		return rc;
	v = wb_out(s->wb, f, len, hv_clock_now(ctx));
	wbp_log_full(s);
	if (v == WB_PASS)
		return pio_inject(ctx, &s->io, f, len);
	if (wb_stats(s->wb)->conflicts != s->conflicts_seen) {
		s->conflicts_seen = wb_stats(s->wb)->conflicts;
		net_drop(ctx, &s->conflict_warn,
			 "%s: frame of %zu bytes claims an address the host or "
			 "another VM holds (its first live owner keeps it)",
			 s->io.ifname, len);
	} else {
		net_drop(ctx, &s->out_warn,
			 "%s: outbound frame of %zu bytes: %s", s->io.ifname,
			 len, wb_reason(v));
	}
	return v == WB_DROP_PROTO ? -EPROTONOSUPPORT : -EINVAL;
}

static void wbp_rx_ready(struct hv_ctx *ctx)
{
	pio_rx_ready(ctx, &HV_STATE(ctx, struct wbp)->io);
}

/* ---- status: counters by reason, then the table ---- */
struct wbp_walk {
	struct hv_out *out;
	uint64_t now;
	int json, n;
};

static int wbp_entry(void *opaque, const struct wb_entry *e)
{
	struct wbp_walk *w = opaque;
	char a[INET6_ADDRSTRLEN], m[18];
	unsigned long long age =
		e->seen_ns < w->now ? (w->now - e->seen_ns) / WBP_NS : 0;

	addr_str(a, &e->addr);
	mac_str(m, e->mac);
	if (w->json)
		hv_out_printf(w->out,
			      "%s{\"addr\":\"%s\",\"mac\":\"%s\",\"how\":\"%"
			      "s\",\"age_s\":%llu}",
			      w->n ? "," : "", a, m, how_name(e->how), age);
	else
		hv_out_printf(w->out, "%-39s %s %-4s %llu\n", a, m,
			      how_name(e->how), age);
	w->n++;
	return 0;
}

static void wbp_drops_json(struct hv_out *o, const char *name,
			   const uint64_t *d)
{
	hv_out_printf(o, "\"%s\":{", name);
	for (int v = 1; v < WB_VERDICTS; v++)
		hv_out_printf(o, "%s\"%s\":%llu", v > 1 ? "," : "", wbp_key[v],
			      (unsigned long long)d[v]);
	hv_out_printf(o, "}");
}

static void wbp_drops_text(struct hv_out *o, const char *name, uint64_t pass,
			   const uint64_t *d)
{
	hv_out_printf(o, "%s: %llu frames passed", name,
		      (unsigned long long)pass);
	for (int v = 1; v < WB_VERDICTS; v++)
		if (d[v])
			hv_out_printf(o, ", %llu %s", (unsigned long long)d[v],
				      wb_reason(v));
	hv_out_printf(o, "\n");
}

static void wbp_status_json(struct wbp *s, struct wbp_walk *w, const char *mac)
{
	const struct wb_stats *st = wb_stats(s->wb);
	struct hv_out *o = w->out;

	hv_out_printf(o, "\"ifname\":\"");
	hv_out_json_str(o, s->io.ifname);
	hv_out_printf(o, "\",\"station_mac\":\"%s\",\"mtu\":%u,\"stats\":{",
		      mac, s->io.mtu);
	hv_out_printf(o, "\"out_frames\":%llu,\"in_frames\":%llu,",
		      (unsigned long long)st->out_frames,
		      (unsigned long long)st->in_frames);
	wbp_drops_json(o, "out_drops", st->out_drops);
	hv_out_printf(o, ",");
	wbp_drops_json(o, "in_drops", st->in_drops);
	hv_out_printf(o,
		      ",\"learned\":%llu,\"aged\":%llu,\"conflicts\":%llu,"
		      "\"table_full\":%llu,\"injected\":%llu,\"captured\":%llu,"
		      "\"io_drops\":%llu},\"table\":[",
		      (unsigned long long)st->learned,
		      (unsigned long long)st->aged,
		      (unsigned long long)st->conflicts,
		      (unsigned long long)st->table_full,
		      (unsigned long long)s->io.tx_frames,
		      (unsigned long long)s->io.rx_frames,
		      (unsigned long long)(s->io.tx_drops.count +
					   s->io.rx_drops.count));
	wb_each(s->wb, w->now, wbp_entry, w);
	hv_out_printf(o, "]");
}

static void wbp_status_text(struct wbp *s, struct wbp_walk *w, const char *mac)
{
	const struct wb_stats *st = wb_stats(s->wb);
	struct hv_out *o = w->out;

	hv_out_printf(o, "%s: Wi-Fi bridge, station MAC %s, MTU %u\n",
		      s->io.ifname, mac, s->io.mtu);
	wbp_drops_text(o, "out", st->out_frames, st->out_drops);
	wbp_drops_text(o, "in", st->in_frames, st->in_drops);
	hv_out_printf(o,
		      "table: %llu learned, %llu aged, %llu conflicts, %llu "
		      "not learned (full)\n",
		      (unsigned long long)st->learned,
		      (unsigned long long)st->aged,
		      (unsigned long long)st->conflicts,
		      (unsigned long long)st->table_full);
	hv_out_printf(o, "%-39s %-17s %-4s %s\n", "ADDRESS", "MAC", "HOW",
		      "AGE_S");
	wb_each(s->wb, w->now, wbp_entry, w);
}

/*
 * The core may ask twice within one `hv ctl status` (a report longer than
 * its first buffer) and wants the same text both times, so the entries'
 * ages (and which are live) are computed against one clock reading for a
 * run of calls each within 100 ms of the last (for at most a second).
 */
static void wbp_status(struct hv_ctx *ctx, struct hv_out *o, unsigned flags)
{
	struct wbp *s = HV_STATE(ctx, struct wbp);
	uint64_t now = hv_clock_now(ctx);
	struct wbp_walk w = {.out = o, .json = !!(flags & HV_STATUS_JSON)};
	char m[18];

	if (!s->wb)
		return; /* hv check: never created */
	if (now - s->status_last > WBP_NS / 10 || now - s->status_now > WBP_NS)
		s->status_now = now;
	s->status_last = now;
	w.now = s->status_now;
	mac_str(m, s->mac);
	if (w.json)
		wbp_status_json(s, &w, m);
	else
		wbp_status_text(s, &w, m);
}

/* ---- life cycle ---- */
static int wbp_check(struct hv_ctx *ctx)
{
	const char *ifname = hv_config_get_str(ctx, "ifname");

	if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
		hv_error(ctx,
			 "ifname = %s: not an interface name (1-%d characters)",
			 ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (hv_config_get_int(ctx, "per_vm") >
	    hv_config_get_int(ctx, "table")) {
		hv_error(ctx, "per_vm = %lld is more than table = %lld",
			 (long long)hv_config_get_int(ctx, "per_vm"),
			 (long long)hv_config_get_int(ctx, "table"));
		return -EINVAL;
	}
	return 0;
}

static void wbp_free(struct hv_ctx *ctx, struct wbp *s)
{
	if (s->age_timer)
		hv_timer_free(ctx, s->age_timer);
	if (s->addr_timer)
		hv_timer_free(ctx, s->addr_timer);
	s->age_timer = s->addr_timer = NULL;
	pio_close(ctx, &s->io);
	wb_free(s->wb);
	s->wb = NULL;
}

static int wbp_timers(struct hv_ctx *ctx, struct wbp *s)
{
	int rc = hv_timer_new(ctx, wbp_age_tick, s, &s->age_timer);

	if (!rc)
		rc = hv_timer_new(ctx, wbp_addr_tick, s, &s->addr_timer);
	if (rc) {
		hv_error(ctx, "%s: no timer: %s", s->io.ifname, strerror(-rc));
		return rc;
	}
	hv_timer_arm(ctx, s->age_timer, s->aging_ns / 2, s->aging_ns / 2);
	hv_timer_arm(ctx, s->addr_timer, WBP_ADDR_PERIOD_NS,
		     WBP_ADDR_PERIOD_NS);
	return 0;
}

static int wbp_create(struct hv_ctx *ctx)
{
	struct wbp *s = HV_STATE(ctx, struct wbp);
	const char *ifname = hv_config_get_str(ctx, "ifname");
	struct wb_params p = {0};
	char m[18];
	int rc = wbp_check(ctx);

	if (rc)
		return rc;
	s->ctx = ctx;
	s->io.ifname = ifname;
	s->aging_ns = (uint64_t)hv_config_get_int(ctx, "aging") * WBP_NS;
	rc = wbp_read_mac(ctx, ifname, s->mac);
	if (rc)
		return rc;
	memcpy(p.adapter_mac, s->mac, 6);
	p.max_entries = s->max_entries =
		(unsigned)hv_config_get_int(ctx, "table");
	p.per_mac = s->per_vm = (unsigned)hv_config_get_int(ctx, "per_vm");
	p.aging_ns = s->aging_ns;
	s->wb = wb_new(&p);
	if (!s->wb) {
		hv_error(ctx,
			 "%s: no memory for an address table of %u entries",
			 ifname, p.max_entries);
		return -ENOMEM;
	}
	/* the host's addresses are known before the first frame is read */
	wbp_host_refresh(s);
	s->io.hook = wbp_in;
	s->io.hook_opaque = s;
	rc = pio_open(ctx, &s->io, ifname, 0);
	if (!rc)
		rc = wbp_timers(ctx, s);
	if (rc)
		goto out_free;
	mac_str(m, s->mac);
	hv_info(ctx, "%s: Wi-Fi bridge, station MAC %s, MTU %u", ifname, m,
		s->io.mtu);
	return 0;
out_free:
	wbp_free(ctx, s);
	return rc;
}

static void wbp_destroy(struct hv_ctx *ctx)
{
	struct wbp *s = HV_STATE(ctx, struct wbp);
	const struct wb_stats *st = wb_stats(s->wb);
	uint64_t od = 0, id = 0;

	for (int v = 1; v < WB_VERDICTS; v++) {
		od += st->out_drops[v];
		id += st->in_drops[v];
	}
	hv_info(ctx,
		"%s: %llu frames to the wire, %llu from it, %llu and %llu "
		"dropped by the bridge",
		s->io.ifname, (unsigned long long)s->io.tx_frames,
		(unsigned long long)s->io.rx_frames, (unsigned long long)od,
		(unsigned long long)id);
	wbp_free(ctx, s);
}

static const struct hv_net_ops ops = {
	.create = wbp_create,
	.destroy = wbp_destroy,
	.send = wbp_send,
	.rx_ready = wbp_rx_ready,
	.offloads =
		0, /* bare frames with complete checksums: rewritten in place */
	.check = wbp_check,
};

static const struct hv_config_key keys[] = {
	{.name = "ifname",
	 .type = HV_KEY_STRING,
	 .flags = HV_KEY_REQUIRED,
	 .help = "the wireless interface (must exist and be up; hv never "
		 "changes it)"},
	HV_KEY_NUM("table", "1024", 16, 65536,
		   "address entries, all VMs together"),
	HV_KEY_NUM("per_vm", "32", 1, 1024,
		   "address entries one VM MAC may hold (at most table)"),
	HV_KEY_NUM("aging", "300", 1, 86400,
		   "seconds an unused address entry lives"),
	HV_KEYS_END};

/* the name is not an expression: clang-format would space its dash */
/* clang-format off */
HV_PLUGIN_DEFINE(wifi-bridge, net, &ops,
		 .version = "1.0",
		 .description = "Wi-Fi bridge: an external switch over a wireless NIC (MAC rewrite, ARP/ND proxy)",
		 .instance_size = sizeof(struct wbp),
		 .keys = keys,
		 .status = wbp_status);
/* clang-format on */
