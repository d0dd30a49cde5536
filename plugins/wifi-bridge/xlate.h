/*
 * The Wi-Fi bridge's translation (xlate.c): MAC rewriting, the ARP and
 * Neighbor Discovery proxy and the address table, with no I/O, no clock
 * of its own and no allocation after wb_new(), so the fuzzer, the unit
 * tests and the microbenchmark drive exactly what the plugin runs.
 *
 * Outbound is switch → wire: a frame a VM sent, leaving on the wireless
 * adapter. Inbound is wire → switch: a frame the adapter captured, on its
 * way to the VMs. Frames are bare Ethernet (no struct hv_net_hdr, no FCS)
 * with their checksums complete, at most HV_NET_FRAME_MAX bytes, and every
 * rewrite is in place and keeps the length.
 */
#ifndef HV_WIFI_XLATE_H
#define HV_WIFI_XLATE_H

#include <stddef.h>
#include <stdint.h>

struct wb;

struct wb_params {
	uint8_t adapter_mac[6]; /* every outbound frame leaves with it */
	unsigned max_entries;   /* table entries, all VMs together */
	unsigned per_mac;       /* entries one VM MAC may hold */
	uint64_t aging_ns;      /* an entry unused this long is gone */
};

/* What wb_out/wb_in decided: WB_PASS (send the rewritten frame on), or why
 * it is dropped (wb_reason() says it in words; the caller counts). */
enum wb_verdict {
	WB_PASS = 0,
	WB_DROP_RUNT,       /* shorter than its headers say */
	WB_DROP_PROTO,      /* an ethertype that cannot be translated */
	WB_DROP_MALFORMED,  /* bad lengths, options, checksums */
	WB_DROP_UNKNOWN,    /* inbound to an address no VM holds */
	WB_DROP_HOST,       /* inbound for the host itself, or a VM using the host's address */
	WB_DROP_LOOP,       /* inbound with the adapter's own source MAC */
	WB_DROP_SPOOF,      /* outbound source not a unicast MAC, or an address another VM owns */
			    /* ... or inbound naming a VM's MAC (source, ARP sender, ND option) */
	WB_VERDICTS
};

/* An IPv4 address is stored as ::ffff:a.b.c.d (family 4). */
struct wb_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t ip[16];
};

struct wb_entry {
	struct wb_addr addr;
	uint8_t mac[6];      /* the VM's */
	uint8_t how;         /* WB_LEARN_* that last refreshed it */
	uint64_t seen_ns;    /* last refreshed */
};
#define WB_LEARN_ARP 1
#define WB_LEARN_NDP 2 /* NS/NA/RS, DAD included */
#define WB_LEARN_DHCP 3
#define WB_LEARN_IP 4  /* an outbound frame's source address */

struct wb_stats {
	uint64_t out_frames, in_frames;   /* passed */
	uint64_t out_drops[WB_VERDICTS], in_drops[WB_VERDICTS];
	uint64_t learned, aged, conflicts, table_full;
};

/* NULL on bad params (no adapter MAC, 0 entries) or no memory. */
struct wb *wb_new(const struct wb_params *p);
void wb_free(struct wb *b);
/* The host's own addresses on the adapter, link-local ones included
 * (replaces the list; n ≤ 64): never learned for a VM, inbound frames to
 * them are WB_DROP_HOST. */
void wb_host_addrs(struct wb *b, const struct wb_addr *a, unsigned n);

/* Outbound: learn from f, rewrite it in place for the wire. */
enum wb_verdict wb_out(struct wb *b, uint8_t *f, size_t len, uint64_t now_ns);
/* Inbound: rewrite f in place for the VM it belongs to (destination MAC,
 * and ARP/NDP fields naming the adapter's MAC), or leave broadcast and
 * multicast as they are for the switch to flood. */
enum wb_verdict wb_in(struct wb *b, uint8_t *f, size_t len, uint64_t now_ns);

/* Drop entries older than aging (the caller's timer, every aging/2). */
void wb_age(struct wb *b, uint64_t now_ns);
/* Each live entry, in no particular order; fn returning non-zero stops. */
void wb_each(const struct wb *b, uint64_t now_ns,
	     int (*fn)(void *opaque, const struct wb_entry *e), void *opaque);
const struct wb_stats *wb_stats(const struct wb *b);
const char *wb_reason(enum wb_verdict v);

#endif
