/* SPDX-License-Identifier: MIT */
/*
 * `adapter = IF`: the switch attaches its uplink itself (SDK 2.3's
 * hv_net_attach_plugin), so the user names a host interface, not a
 * backend section. `bridge` picks the backend: wifi-bridge for a
 * wireless adapter (a station may only send with its own MAC), pcap in
 * promiscuous mode for a wired one; auto asks sysfs which it is.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "switch.h"

static const char *const bridge_names[] = { "auto", "wifi", "plain" };

/* What sysfs may be asked about: an interface name, not a path. */
static int ifname_ok(const char *n)
{
	return *n && strlen(n) < IFNAMSIZ && !strchr(n, '/') &&
	       strcmp(n, ".") && strcmp(n, "..");
}

static int sysfs_has(const char *ifname, const char *what)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/net/%s%s%s", ifname,
		 *what ? "/" : "", what);
	return !stat(path, &st);
}

/* cfg80211 gives a wireless netdev both; older wext drivers only one. */
static int is_wireless(const char *ifname)
{
	return sysfs_has(ifname, "wireless") || sysfs_has(ifname, "phy80211");
}

static int bridge_of(const char *b)
{
	for (int i = 0; i < 3; i++)
		if (b && !strcmp(b, bridge_names[i]))
			return i;
	return SW_BRIDGE_AUTO; /* unset */
}

int sw_adapter_check(struct hv_ctx *ctx, int type)
{
	const char *ad = hv_config_get_str(ctx, "adapter");
	const char *up = hv_config_get_str(ctx, "uplink");
	const char *br = hv_config_get_str(ctx, "bridge");

	if (br && !ad) {
		hv_error(ctx, "bridge = %s goes with adapter = (the host interface it picks the uplink for)", br);
		return -EINVAL;
	}
	if (!ad)
		return 0;
	if (up) {
		hv_error(ctx, "adapter = %s and uplink = %s exclude each other: adapter attaches the uplink itself", ad, up);
		return -EINVAL;
	}
	if (type != SW_EXTERNAL) {
		hv_error(ctx, "adapter = %s needs type = external (a host interface's LAN)", ad);
		return -EINVAL;
	}
	if (!ifname_ok(ad)) {
		hv_error(ctx, "adapter = %s: not an interface name (at most %d characters, no '/')", ad, IFNAMSIZ - 1);
		return -EINVAL;
	}
	/* whether it exists is for start-up, as pcap's ifname: hv check may
	 * run outside the namespace the VM will run in */
	return 0;
}

struct hv_net *sw_adapter_attach(struct sw *s, const struct hv_net_cbs *cbs)
{
	const char *ad = hv_config_get_str(s->ctx, "adapter");
	int asked = bridge_of(hv_config_get_str(s->ctx, "bridge"));
	const char *wifi_kv[] = { "ifname", ad, NULL };
	const char *plain_kv[] = { "ifname", ad, "promisc", "on", NULL };
	struct hv_net *n;

	if (!sysfs_has(ad, "")) {
		hv_error(s->ctx, "adapter = %s: no such interface", ad);
		return NULL;
	}
	s->wireless = is_wireless(ad);
	s->bridge = asked == SW_BRIDGE_AUTO ?
		(s->wireless ? SW_BRIDGE_WIFI : SW_BRIDGE_PLAIN) : asked;
	hv_info(s->ctx, "[net %s]: adapter %s is %swireless: uplink through %s (bridge = %s)",
		s->ctx->name, ad, s->wireless ? "" : "not ",
		s->bridge == SW_BRIDGE_WIFI ? "the Wi-Fi bridge" : "pcap, promiscuous",
		bridge_names[asked]);
	n = hv_net_attach_plugin(s->ctx, "uplink",
				 s->bridge == SW_BRIDGE_WIFI ? "wifi-bridge" : "pcap",
				 s->bridge == SW_BRIDGE_WIFI ? wifi_kv : plain_kv,
				 cbs, s);
	if (!n && errno == ENOSYS)
		hv_error(s->ctx, "adapter = %s: this hv is older than SDK 2.3 (no hv_net_attach_plugin): use uplink =", ad);
	return n;
}

const char *sw_bridge_name(int bridge)
{
	return bridge == SW_BRIDGE_WIFI ? "wifi" : bridge == SW_BRIDGE_PLAIN ? "plain" : "";
}
