/* SPDX-License-Identifier: MIT */
/*
 * The switch's forwarding decision: a bounded learning table keyed by
 * (VLAN, MAC) and the per-port VLAN rules, with no I/O and no hv service,
 * so the libFuzzer target (tests/switch/fuzz_switch.c) drives exactly what
 * the plugin runs.
 *
 * Guarantees a caller relies on:
 *   - fwd_decide never names the ingress port, a port that is not in use
 *     or whose link is down, nor an access port of another VLAN;
 *   - the table never holds more than max_total entries, nor a port more
 *     than max_port: a port at its limit learns nothing new (frames for
 *     its new sources flood), so a flood of random sources cannot evict
 *     the entries of other ports;
 *   - memory is allocated once, in fwd_init.
 * Not thread-safe: the switch's domain lock covers it.
 */
#ifndef HV_SWITCH_FWD_H
#define HV_SWITCH_FWD_H

#include <stddef.h>
#include <stdint.h>

#define FWD_PORTS 256 /* VM NICs, the uplink and socket links together */
#define FWD_ETH_MIN 14u
#define FWD_TPID 0x8100u

struct fwd_port {
	uint16_t vlan;  /* 0: trunk (frames pass as they are); 1-4094: access */
	uint8_t used;
	uint8_t up;     /* link up: 0 forwards nothing to or from the port */
	uint32_t macs;  /* learned entries the port holds */
};

struct fwd_entry {
	uint64_t key;  /* 0: empty slot; else FWD_KEY(vid, mac) */
	uint64_t seen; /* ns of the last frame from this source */
	uint16_t port;
};

struct fwd_stats {
	uint64_t learned, moved, aged;
	uint64_t full_port, full_table; /* sources not learned: limits */
	uint64_t runt, bad_src, tagged_on_access, port_down;
};

struct fwd {
	struct fwd_port port[FWD_PORTS];
	struct fwd_entry *tab;
	uint32_t mask; /* slots - 1: at least twice max_total, a power of 2 */
	uint32_t count, max_total, max_port;
	uint64_t aging_ns, seed;
	struct fwd_stats st;
};

/* How a frame leaves towards one port. */
enum fwd_tag { FWD_AS_IS = 0, FWD_STRIP, FWD_INSERT };

struct fwd_dec {
	uint16_t vid;      /* the frame's VLAN inside the switch (0: untagged) */
	uint8_t tagged;    /* the frame as received carries an 802.1Q tag */
	uint8_t flood;     /* destination unknown or multicast */
	int n;
	uint16_t out[FWD_PORTS];
};

/* 0, -EINVAL (limits out of range), -ENOMEM. */
int fwd_init(struct fwd *f, uint32_t max_total, uint32_t max_port,
	     uint64_t aging_ns, uint64_t seed);
void fwd_fini(struct fwd *f);
/* Put port p in use (or update it): its VLAN and link. A port whose VLAN
 * changes or whose link goes down forgets what it learned. */
void fwd_port_set(struct fwd *f, unsigned p, uint16_t vlan, int up);
/* Take port p out of use and drop its entries. */
void fwd_port_del(struct fwd *f, unsigned p);
/* Where a frame (Ethernet, no offload header) from port `in` goes: fills
 * d (d->n may be 0) and learns its source. 0, or -EINVAL for a frame that
 * is dropped (runt, multicast source, tagged from an access port, port
 * down); the reason is counted in f->st. */
int fwd_decide(struct fwd *f, unsigned in, const uint8_t *eth, size_t len,
	       uint64_t now, struct fwd_dec *d);
/* The tag change for the frame of d leaving through port `out`. */
enum fwd_tag fwd_egress(const struct fwd *f, const struct fwd_dec *d,
			unsigned in, unsigned out);
/* Drop entries unused for aging_ns; how many went. */
uint32_t fwd_age(struct fwd *f, uint64_t now);
/* The port that (vid, mac) is learned on, or -1. For tests and stats. */
int fwd_lookup(struct fwd *f, uint16_t vid, const uint8_t mac[6], uint64_t now);

#endif
