/* SPDX-License-Identifier: MIT */
/*
 * The switch's status op (SDK 2.3, `hv ctl SOCK status lan [json]`): the
 * ports and their counters, the drop counters by reason, and the MAC
 * table's live entries. Main thread, the switch's lock held (the core's
 * contract), so it reads the instance as the frame path leaves it. It
 * changes nothing: the core may call it again with a larger buffer.
 */
#include <stdio.h>
#include <string.h>

#include "switch.h"

static const char *const type_str[] = { "private", "internal", "external" };
static const char *const kind_str[] = { "free", "nic", "uplink", "link" };

static void mac_of(uint64_t key, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 (unsigned)(key >> 40) & 0xff, (unsigned)(key >> 32) & 0xff,
		 (unsigned)(key >> 24) & 0xff, (unsigned)(key >> 16) & 0xff,
		 (unsigned)(key >> 8) & 0xff, (unsigned)key & 0xff);
}

#define U(x) ((unsigned long long)(x))

static void text(struct sw *s, struct hv_out *o, uint64_t now)
{
	const struct fwd_stats *f = &s->fwd.st;
	const char *ad = hv_config_get_str(s->ctx, "adapter");

	hv_out_printf(o, "type %s", type_str[s->type]);
	if (ad)
		hv_out_printf(o, ", adapter %s (%swireless), bridge %s, uplink [net %s.uplink]",
			      ad, s->wireless ? "" : "not ", sw_bridge_name(s->bridge),
			      s->ctx->name);
	else if (hv_config_get_str(s->ctx, "uplink"))
		hv_out_printf(o, ", uplink [net %s]", hv_config_get_str(s->ctx, "uplink"));
	hv_out_printf(o, "\nmacs %u of %u (at most %u a port), aging %llu s\n",
		      s->fwd.count, s->fwd.max_total, s->fwd.max_port,
		      U(s->fwd.aging_ns / 1000000000ull));
	hv_out_printf(o, "drops: runt %llu oversize %llu bad_hdr %llu queue_full %llu sock_full %llu refused %llu\n",
		      U(s->st.runt), U(s->st.oversize), U(s->st.bad_hdr),
		      U(s->st.queue_full), U(s->st.sock_full), U(s->st.refused));
	hv_out_printf(o, "table: learned %llu moved %llu aged %llu full_port %llu full_table %llu bad_src %llu tagged_on_access %llu port_down %llu\n",
		      U(f->learned), U(f->moved), U(f->aged), U(f->full_port),
		      U(f->full_table), U(f->bad_src), U(f->tagged_on_access),
		      U(f->port_down));
	hv_out_printf(o, "PORT KIND VLAN RX TX DROP NAME\n");
	for (int p = 0; p < FWD_PORTS; p++) {
		const struct sw_port *sp = &s->port[p];

		if (sp->kind == PORT_FREE)
			continue;
		hv_out_printf(o, "%d %s %u %llu %llu %llu %s\n", p, kind_str[sp->kind],
			      s->fwd.port[p].vlan, U(sp->rx), U(sp->tx),
			      U(sp->drop), sp->name);
	}
	hv_out_printf(o, "MAC VLAN PORT AGE_S\n");
	for (uint32_t i = 0; i <= s->fwd.mask; i++) {
		const struct fwd_entry *e = &s->fwd.tab[i];
		char mac[18];

		if (!e->key || now - e->seen >= s->fwd.aging_ns)
			continue;
		mac_of(e->key, mac);
		hv_out_printf(o, "%s %u %u %llu\n", mac,
			      (unsigned)(e->key >> 48) & 0xfff, e->port,
			      U((now - e->seen) / 1000000000ull));
	}
}

static void json_str(struct hv_out *o, const char *name, const char *v)
{
	hv_out_printf(o, ",\"%s\":\"", name);
	hv_out_json_str(o, v);
	hv_out_printf(o, "\"");
}

static void json(struct sw *s, struct hv_out *o, uint64_t now)
{
	const struct fwd_stats *f = &s->fwd.st;
	const char *ad = hv_config_get_str(s->ctx, "adapter");
	const char *up = hv_config_get_str(s->ctx, "uplink");
	int first = 1;

	hv_out_printf(o, "\"type\":\"%s\"", type_str[s->type]);
	if (ad) {
		json_str(o, "adapter", ad);
		hv_out_printf(o, ",\"wireless\":%s,\"bridge\":\"%s\"",
			      s->wireless ? "true" : "false", sw_bridge_name(s->bridge));
		hv_out_printf(o, ",\"uplink\":\"net ");
		hv_out_json_str(o, s->ctx->name);
		hv_out_printf(o, ".uplink\"");
	} else if (up) {
		hv_out_printf(o, ",\"uplink\":\"net ");
		hv_out_json_str(o, up);
		hv_out_printf(o, "\"");
	}
	hv_out_printf(o, ",\"stats\":{\"runt\":%llu,\"oversize\":%llu,\"bad_hdr\":%llu,\"queue_full\":%llu,\"sock_full\":%llu,\"refused\":%llu,"
		      "\"learned\":%llu,\"moved\":%llu,\"aged\":%llu,\"full_port\":%llu,\"full_table\":%llu,\"bad_src\":%llu,\"tagged_on_access\":%llu,\"port_down\":%llu,"
		      "\"macs\":%u,\"mac_table\":%u,\"port_macs\":%u}",
		      U(s->st.runt), U(s->st.oversize), U(s->st.bad_hdr),
		      U(s->st.queue_full), U(s->st.sock_full), U(s->st.refused),
		      U(f->learned), U(f->moved), U(f->aged), U(f->full_port),
		      U(f->full_table), U(f->bad_src), U(f->tagged_on_access),
		      U(f->port_down), s->fwd.count, s->fwd.max_total, s->fwd.max_port);
	hv_out_printf(o, ",\"ports\":[");
	for (int p = 0; p < FWD_PORTS; p++) {
		const struct sw_port *sp = &s->port[p];

		if (sp->kind == PORT_FREE)
			continue;
		hv_out_printf(o, "%s{\"port\":%d,\"kind\":\"%s\",\"vlan\":%u,\"rx\":%llu,\"tx\":%llu,\"drop\":%llu,\"name\":\"",
			      first ? "" : ",", p, kind_str[sp->kind],
			      s->fwd.port[p].vlan, U(sp->rx), U(sp->tx), U(sp->drop));
		hv_out_json_str(o, sp->name);
		hv_out_printf(o, "\"}");
		first = 0;
	}
	hv_out_printf(o, "],\"macs\":[");
	first = 1;
	for (uint32_t i = 0; i <= s->fwd.mask; i++) {
		const struct fwd_entry *e = &s->fwd.tab[i];
		char mac[18];

		if (!e->key || now - e->seen >= s->fwd.aging_ns)
			continue;
		mac_of(e->key, mac);
		hv_out_printf(o, "%s{\"mac\":\"%s\",\"vlan\":%u,\"port\":%u,\"age_s\":%llu}",
			      first ? "" : ",", mac, (unsigned)(e->key >> 48) & 0xfff,
			      e->port, U((now - e->seen) / 1000000000ull));
		first = 0;
	}
	hv_out_printf(o, "]");
}

void sw_status(struct hv_ctx *ctx, struct hv_out *o, unsigned flags)
{
	struct sw *s = HV_STATE(ctx, struct sw);
	uint64_t now = hv_clock_now(ctx);

	if (!s->ctx) /* not created (hv check never asks, but be sure) */
		return;
	if (flags & HV_STATUS_JSON)
		json(s, o, now);
	else
		text(s, o, now);
}
