/*
 * The Wi-Fi bridge's translation (xlate.h): an ARP proxy (RFC 826) and a
 * Neighbor Discovery proxy (RFC 4861, RFC 4389 §4.1) in front of a
 * station that may only send with its own MAC.
 *
 * Decisions a caller may rely on beyond the header:
 * - VLAN-tagged frames (802.1Q, 802.1ad, 0x9100) are dropped both ways
 *   with WB_DROP_PROTO: the table is keyed by address alone, so
 *   translating tags would merge the VLANs' address spaces, and an
 *   802.11 station link carries no tags anyway. Other non-IP ethertypes
 *   inbound are flooded when multicast, WB_DROP_PROTO when unicast.
 * - A VM using the host's address (as a source, in ARP, in NDP) is
 *   WB_DROP_HOST, as xlate.h's enum says, and counted in conflicts.
 *   A DAD probe for a taken address still goes out (so the owner may
 *   defend it) but learns nothing.
 * - Router Advertisements get their SLLA rewritten like RS/NS/NA/
 *   Redirect (a VM acting as a router leaks no MAC either). ND behind a
 *   routing header, or in a first fragment (RFC 6980), is malformed.
 * - Entries are refreshed by outbound frames and DHCP ACKs only, never
 *   by inbound traffic: the LAN cannot keep a departed VM's address
 *   alive. A DHCP ACK teaches yiaddr → chaddr only for a MAC that holds
 *   entries or sent a DHCP request through us within the aging time, so
 *   the wire cannot fill the table with MACs no VM has.
 * - An address whose owner is live is never taken over; a VM at its
 *   per_mac share, or a full table, refuses new addresses (table_full)
 *   while the frame itself still passes. No live entry is ever evicted.
 * - Every unicast inbound frame passed has a destination MAC taken from
 *   a live entry, or (a DHCP reply to the station, for an address no VM
 *   holds yet) the chaddr of a VM that sent a DHCP request through us
 *   within the aging time; everything else passed is multicast and
 *   unchanged.
 */
#include "xlate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define ETH_HLEN     14
#define ET_IPV4	     0x0800
#define ET_ARP	     0x0806
#define ET_IPV6	     0x86dd
#define ARP_LEN	     28
#define IP_UDP	     17
#define IP_ICMPV6    58
#define ND_RS	     133
#define ND_REDIRECT  137
#define ND_NS	     135
#define ND_OPT_SLLA  1
#define ND_OPT_TLLA  2
#define IP6_EXT_MAX  8
#define BOOTP_LEN    236 /* op .. file: the fixed part */
#define BOOTP_FLAGS  10
#define BOOTP_YIADDR 16
#define BOOTP_CHADDR 28
#define BOOTP_BCAST  0x80
#define DHCP_COOKIE  0x63825363u
#define DHCP_ACK     5
#define HOST_MAX     64
#define ENTRIES_MAX  (1u << 20)

struct slot {
	struct wb_entry e;
	bool used;
};

/* A VM MAC's share: its entry count, and when it last asked DHCP. */
struct macrec {
	uint8_t mac[6];
	bool used;
	uint32_t n;
	uint64_t dhcp_ns;
};

struct wb {
	struct wb_params p;
	uint64_t k0, k1; /* the hash seed */
	unsigned mask;	 /* slots - 1: at least twice max_entries */
	unsigned count;	 /* used slots, live or not yet aged */
	unsigned nmacs;	 /* used macrecs */
	unsigned nhost;
	struct wb_addr host[HOST_MAX];
	struct wb_stats st;
	struct slot *slot;
	struct macrec *mac;
};

/* A source address a frame claims, checked first, learned when it passes. */
struct claim {
	struct wb_addr a;
	const uint8_t *mac;
	uint8_t how;
	bool want;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

static bool mac_unicast(const uint8_t *m)
{
	static const uint8_t zero[6];

	return !(m[0] & 1) && !mac_eq(m, zero);
}

static bool addr_eq(const struct wb_addr *a, const struct wb_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

static void addr4(struct wb_addr *a, const uint8_t *ip)
{
	memset(a->ip, 0, 10);
	a->ip[10] = a->ip[11] = 0xff;
	memcpy(a->ip + 12, ip, 4);
	a->family = 4;
}

static void addr6(struct wb_addr *a, const uint8_t *ip)
{
	memcpy(a->ip, ip, 16);
	a->family = 6;
}

/* Addresses no VM can own alone: unspecified, loopback, link-local,
 * multicast, broadcast and class E. */
static bool learnable(const struct wb_addr *a)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	const uint8_t *ip = a->ip;
	int i;

	if (a->family == 4)
		return ip[12] != 0 && ip[12] != 127 && ip[12] < 224 &&
		       !(ip[12] == 169 && ip[13] == 254);
	if (ip[0] == 0xff || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80))
		return false;
	if (memcmp(ip, mapped, 12) == 0)
		return false;
	for (i = 0; i < 15 && !ip[i]; i++)
		;
	return i < 15 || ip[15] > 1; /* not :: nor ::1 */
}

static bool is_host(const struct wb *b, const struct wb_addr *a)
{
	for (unsigned i = 0; i < b->nhost; i++)
		if (addr_eq(&b->host[i], a))
			return true;
	return false;
}

static bool fresh(const struct wb *b, uint64_t t, uint64_t now)
{
	return now < t || now - t < b->p.aging_ns;
}

/* ---- hashing: keyed, so a guest cannot aim its addresses at one chain */

static uint64_t mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static unsigned addr_home(const struct wb *b, const struct wb_addr *a)
{
	uint64_t w0, w1;

	memcpy(&w0, a->ip, 8);
	memcpy(&w1, a->ip + 8, 8);
	w0 = mum(w0 ^ b->k0, w1 ^ b->k1);
	return (unsigned)mum(w0 ^ b->k1, a->family ^ b->k0) & b->mask;
}

static unsigned mac_home(const struct wb *b, const uint8_t *m)
{
	uint64_t w = 0;

	memcpy(&w, m, 6);
	return (unsigned)mum(w ^ b->k1, b->k0 ^ 0x9e3779b97f4a7c15ull) &
	       b->mask;
}

/* Is k cyclically in (i, j]? Then a record homed at k may stay at j when
 * i empties (linear probing's backward-shift deletion). */
static bool in_run(unsigned k, unsigned i, unsigned j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/* ---- the MAC table: a VM MAC's share of the address table */

static struct macrec *mac_find(const struct wb *b, const uint8_t *m)
{
	for (unsigned i = mac_home(b, m);; i = (i + 1) & b->mask) {
		if (!b->mac[i].used)
			return NULL;
		if (mac_eq(b->mac[i].mac, m))
			return &b->mac[i];
	}
}

/* At most max_entries records, so the probe always meets a free slot. */
static struct macrec *mac_get(struct wb *b, const uint8_t *m)
{
	unsigned i = mac_home(b, m);

	for (; b->mac[i].used; i = (i + 1) & b->mask)
		if (mac_eq(b->mac[i].mac, m))
			return &b->mac[i];
	if (b->nmacs >= b->p.max_entries)
		return NULL;
	memset(&b->mac[i], 0, sizeof(b->mac[i]));
	memcpy(b->mac[i].mac, m, 6);
	b->mac[i].used = true;
	b->nmacs++;
	return &b->mac[i];
}

static bool marked(const struct wb *b, const struct macrec *r, uint64_t now)
{
	return r->dhcp_ns && fresh(b, r->dhcp_ns, now);
}

/* Drop r if it holds nothing and asked DHCP nothing lately. Moves
 * other records: no macrec pointer survives this. */
static void mac_put(struct wb *b, struct macrec *r, uint64_t now)
{
	unsigned i = (unsigned)(r - b->mac), j = i;

	if (r->n || marked(b, r, now))
		return;
	for (;;) {
		j = (j + 1) & b->mask;
		if (!b->mac[j].used)
			break;
		if (!in_run(mac_home(b, b->mac[j].mac), i, j)) {
			b->mac[i] = b->mac[j];
			i = j;
		}
	}
	b->mac[i].used = false;
	b->nmacs--;
}

/* ---- the address table */

/* The slot holding a, or the free slot where it would go. */
static unsigned slot_probe(const struct wb *b, const struct wb_addr *a)
{
	unsigned i = addr_home(b, a);

	while (b->slot[i].used && !addr_eq(&b->slot[i].e.addr, a))
		i = (i + 1) & b->mask;
	return i;
}

static void slot_del(struct wb *b, unsigned i, uint64_t now)
{
	struct macrec *r = mac_find(b, b->slot[i].e.mac);
	unsigned j = i;

	if (r) {
		r->n--;
		mac_put(b, r, now);
	}
	for (;;) {
		j = (j + 1) & b->mask;
		if (!b->slot[j].used)
			break;
		if (!in_run(addr_home(b, &b->slot[j].e.addr), i, j)) {
			b->slot[i] = b->slot[j];
			i = j;
		}
	}
	b->slot[i].used = false;
	b->count--;
}

/* The MAC of a's live owner, or NULL. */
static const uint8_t *owner(const struct wb *b, const struct wb_addr *a,
			    uint64_t now)
{
	const struct slot *s = &b->slot[slot_probe(b, a)];

	if (s->used && fresh(b, s->e.seen_ns, now))
		return s->e.mac;
	return NULL;
}

/* Give a to mac (refresh, take over an expired entry, or add), within
 * mac's share and the table's size. The caller has checked that no
 * other MAC owns a live. */
static void learn(struct wb *b, const struct wb_addr *a, const uint8_t *mac,
		  uint8_t how, uint64_t now)
{
	unsigned i = slot_probe(b, a);
	struct slot *s = &b->slot[i];
	struct macrec *r;

	if (s->used && mac_eq(s->e.mac, mac))
		goto out_refresh;
	if (!s->used && b->count >= b->p.max_entries)
		goto out_full;
	r = mac_get(b, mac);
	if (!r || r->n >= b->p.per_mac) {
		if (r)
			mac_put(b, r, now);
		goto out_full;
	}
	r->n++;
	if (s->used) { /* expired: the old owner's share shrinks */
		struct macrec *old = mac_find(b, s->e.mac);

		if (old) {
			old->n--;
			mac_put(b, old, now);
		}
		b->st.aged++;
	} else {
		s->used = true;
		s->e.addr = *a;
		b->count++;
	}
	memcpy(s->e.mac, mac, 6);
	b->st.learned++;
out_refresh:
	s->e.how = how;
	s->e.seen_ns = now;
	return;
out_full:
	b->st.table_full++;
}

/* May c's MAC use c's address? 0, or why not. */
static enum wb_verdict claim_check(struct wb *b, struct claim *c, uint64_t now)
{
	const uint8_t *o;

	c->want = false;
	if (is_host(b, &c->a)) {
		b->st.conflicts++;
		return WB_DROP_HOST;
	}
	if (!learnable(&c->a))
		return WB_PASS;
	o = owner(b, &c->a, now);
	if (o && !mac_eq(o, c->mac)) {
		b->st.conflicts++;
		return WB_DROP_SPOOF;
	}
	c->want = true;
	return WB_PASS;
}

static void claim_commit(struct wb *b, const struct claim *c, uint64_t now)
{
	if (c->want)
		learn(b, &c->a, c->mac, c->how, now);
}

/* ---- checksums (RFC 1071), over the frame as it is */

static uint64_t sum16(uint64_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += rd16(p);
	if (n)
		s += (uint64_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The sum of an upper-layer packet l4 (n bytes) with its pseudo-header;
 * 0xffff when its checksum field is right. */
static uint16_t l4_sum(const uint8_t *ip, bool v6, uint8_t proto,
		       const uint8_t *l4, size_t n)
{
	uint64_t s = proto + (uint64_t)n;

	s = v6 ? sum16(s, ip + 8, 32) : sum16(s, ip + 12, 8);
	return fold(sum16(s, l4, n));
}

static void l4_fill(const uint8_t *ip, bool v6, uint8_t proto, uint8_t *l4,
		    size_t n, uint8_t *field, bool udp)
{
	uint16_t c;

	wr16(field, 0);
	c = (uint16_t)~l4_sum(ip, v6, proto, l4, n);
	wr16(field, udp && !c ? 0xffff : c);
}

/* ---- ARP */

/* The ARP header after the Ethernet header: Ethernet/IPv4, request or
 * reply, or why not. */
static enum wb_verdict arp_check(const uint8_t *f, size_t len)
{
	const uint8_t *a = f + ETH_HLEN;
	uint16_t op;

	if (len < ETH_HLEN + ARP_LEN)
		return WB_DROP_RUNT;
	if (rd16(a) != 1 || rd16(a + 2) != ET_IPV4 || a[4] != 6 || a[5] != 4)
		return WB_DROP_MALFORMED;
	op = rd16(a + 6);
	return op == 1 || op == 2 ? WB_PASS : WB_DROP_PROTO;
}

static enum wb_verdict out_arp(struct wb *b, uint8_t *f, size_t len,
			       uint64_t now)
{
	struct claim c = {.mac = f + 6, .how = WB_LEARN_ARP};
	enum wb_verdict v = arp_check(f, len);

	if (v)
		return v;
	addr4(&c.a, f + ETH_HLEN + 14); /* sender IP; 0.0.0.0 (a probe) is
					 * not learnable */
	v = claim_check(b, &c, now);
	if (v)
		return v;
	memcpy(f + ETH_HLEN + 8, b->p.adapter_mac, 6);
	claim_commit(b, &c, now);
	return WB_PASS;
}

/* ---- IPv4 and DHCPv4 */

struct ip4 {
	uint8_t *ip;
	size_t ihl, tot;
};

static enum wb_verdict ip4_check(uint8_t *f, size_t len, struct ip4 *h)
{
	h->ip = f + ETH_HLEN;
	if (len < ETH_HLEN + 20)
		return WB_DROP_RUNT;
	h->ihl = (size_t)(h->ip[0] & 15) * 4;
	h->tot = rd16(h->ip + 2);
	if (h->ip[0] >> 4 != 4 || h->ihl < 20 || h->tot < h->ihl)
		return WB_DROP_MALFORMED;
	return h->tot > len - ETH_HLEN ? WB_DROP_RUNT : WB_PASS;
}

/* The BOOTP message of a UDP sport→dport first fragment, or NULL (not
 * DHCP); *v says why a DHCP one is refused. */
static uint8_t *dhcp_find(const struct ip4 *h, uint16_t sport, uint16_t dport,
			  size_t *blen, enum wb_verdict *v)
{
	uint8_t *u = h->ip + h->ihl;
	size_t avail = h->tot - h->ihl, ulen;

	*v = WB_PASS;
	if (h->ip[9] != IP_UDP || (rd16(h->ip + 6) & 0x3fff) || avail < 8 ||
	    rd16(u) != sport || rd16(u + 2) != dport)
		return NULL;
	ulen = rd16(u + 4);
	if (ulen < 8 + BOOTP_LEN || ulen > avail ||
	    (rd16(u + 6) && l4_sum(h->ip, false, IP_UDP, u, ulen) != 0xffff)) {
		*v = WB_DROP_MALFORMED;
		return NULL;
	}
	*blen = ulen - 8;
	return u + 8;
}

static bool bootp_ether(const uint8_t *m)
{
	return m[1] == 1 && m[2] == 6;
}

/* A DHCP client's request: ask for a broadcast reply (RFC 2131 §4.1) so
 * that it reaches the station whatever chaddr says; chaddr and the
 * client-id stay, so each VM keeps its own lease. */
static void out_dhcp(struct wb *b, const struct ip4 *h, uint8_t *m, size_t blen,
		     const uint8_t *src, uint64_t now)
{
	uint8_t *u = m - 8;
	struct macrec *r;

	if (m[0] != 1)
		return;
	if (bootp_ether(m) && mac_eq(m + BOOTP_CHADDR, src)) {
		r = mac_get(b, src);
		if (r)
			r->dhcp_ns = now ? now : 1;
	}
	if (m[BOOTP_FLAGS] & BOOTP_BCAST)
		return;
	m[BOOTP_FLAGS] |= BOOTP_BCAST;
	if (rd16(u + 6)) /* 0: sent without a checksum, and stays so */
		l4_fill(h->ip, false, IP_UDP, u, blen + 8, u + 6, true);
}

static enum wb_verdict out_ipv4(struct wb *b, uint8_t *f, size_t len,
				uint64_t now)
{
	struct claim c = {.mac = f + 6, .how = WB_LEARN_IP};
	enum wb_verdict v;
	struct ip4 h;
	uint8_t *m;
	size_t blen;

	v = ip4_check(f, len, &h);
	if (v)
		return v;
	addr4(&c.a, h.ip + 12);
	v = claim_check(b, &c, now);
	if (v)
		return v;
	m = dhcp_find(&h, 68, 67, &blen, &v);
	if (v)
		return v;
	if (m)
		out_dhcp(b, &h, m, blen, f + 6, now);
	claim_commit(b, &c, now);
	return WB_PASS;
}

/* The DHCP message type (option 53) of m, 0 if none; -1 if the options
 * run past the message. */
static int dhcp_type(const uint8_t *m, size_t blen)
{
	size_t o = BOOTP_LEN + 4;
	int type = 0;

	if (blen < o || ((uint32_t)rd16(m + BOOTP_LEN) << 16 |
			 rd16(m + BOOTP_LEN + 2)) != DHCP_COOKIE)
		return 0;
	while (o < blen && m[o] != 255) {
		if (m[o] == 0) {
			o++;
			continue;
		}
		if (o + 2 > blen || o + 2 + m[o + 1] > blen)
			return -1;
		if (m[o] == 53 && m[o + 1] == 1)
			type = m[o + 2];
		o += 2 + (size_t)m[o + 1];
	}
	return type;
}

/* A server's ACK teaches yiaddr → chaddr, for a MAC we know is a VM's. */
static enum wb_verdict in_dhcp(struct wb *b, const uint8_t *m, size_t blen,
			       uint64_t now)
{
	struct macrec *r;
	struct claim c = {.how = WB_LEARN_DHCP};
	int type = dhcp_type(m, blen);

	if (type < 0)
		return WB_DROP_MALFORMED;
	if (type != DHCP_ACK || m[0] != 2 || !bootp_ether(m))
		return WB_PASS;
	c.mac = m + BOOTP_CHADDR;
	r = mac_find(b, c.mac);
	if (!mac_unicast(c.mac) || mac_eq(c.mac, b->p.adapter_mac) || !r ||
	    !(r->n || marked(b, r, now)))
		return WB_PASS;
	addr4(&c.a, m + BOOTP_YIADDR);
	if (claim_check(b, &c, now) == WB_PASS)
		claim_commit(b, &c, now);
	return WB_PASS;
}

/* ---- IPv6 and Neighbor Discovery */

struct ip6 {
	uint8_t *ip;
	size_t off, end; /* the upper layer's start and end in ip */
	uint8_t nh;	 /* its protocol; 59 when not reached */
	bool routed;
};

static bool nd_type(uint8_t t)
{
	return t >= ND_RS && t <= ND_REDIRECT;
}

/* Walk the extension headers to the upper layer. */
static enum wb_verdict ip6_check(uint8_t *f, size_t len, struct ip6 *h)
{
	uint8_t *ip = f + ETH_HLEN;
	int k;

	h->ip = ip;
	if (len < ETH_HLEN + 40)
		return WB_DROP_RUNT;
	if (ip[0] >> 4 != 6)
		return WB_DROP_MALFORMED;
	h->end = 40 + (size_t)rd16(ip + 4);
	if (h->end > len - ETH_HLEN)
		return WB_DROP_RUNT;
	h->off = 40;
	h->nh = ip[6];
	h->routed = false;
	for (k = 0;; k++) {
		uint8_t nh = h->nh;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
			return WB_PASS;
		if (k == IP6_EXT_MAX || h->off + 8 > h->end)
			return WB_DROP_MALFORMED;
		if (nh == 44) { /* RFC 6980: no ND in fragments */
			if (!(rd16(ip + h->off + 2) & 0xfff8) &&
			    ip[h->off] == IP_ICMPV6 && h->off + 8 < h->end &&
			    nd_type(ip[h->off + 8]))
				return WB_DROP_MALFORMED;
			h->nh = 59;
			return WB_PASS;
		}
		h->routed |= nh == 43;
		h->nh = ip[h->off];
		h->off += ((size_t)ip[h->off + 1] + 1) * 8;
		if (h->off > h->end)
			return WB_DROP_MALFORMED;
	}
}

/* The ND message at h's upper layer, checked: fixed part, checksum and
 * every option's length. NULL if not ND; *v says why a bad one fails. */
static uint8_t *nd_find(const struct ip6 *h, size_t *opts, enum wb_verdict *v)
{
	static const uint8_t fixed[] = {8, 16, 24, 24, 40};
	uint8_t *m = h->ip + h->off;
	size_t n = h->end - h->off, o;

	*v = WB_PASS;
	if (h->nh != IP_ICMPV6 || n < 1 || !nd_type(m[0]))
		return NULL;
	*v = WB_DROP_MALFORMED;
	o = fixed[m[0] - ND_RS];
	if (h->routed || n < o)
		return NULL;
	if (l4_sum(h->ip, true, IP_ICMPV6, m, n) != 0xffff)
		return NULL;
	*opts = o;
	for (; o < n; o += (size_t)m[o + 1] * 8) {
		if (o + 2 > n || !m[o + 1] || o + (size_t)m[o + 1] * 8 > n)
			return NULL;
		if ((m[o] == ND_OPT_SLLA || m[o] == ND_OPT_TLLA) &&
		    m[o + 1] != 1)
			return NULL; /* not an Ethernet address */
	}
	*v = WB_PASS;
	return m;
}

/* Options already checked by nd_find: every link-layer address option
 * names the adapter now, and the checksum follows. */
static void nd_rewrite(const struct wb *b, const struct ip6 *h, uint8_t *m,
		       size_t o)
{
	size_t n = h->end - h->off;
	bool changed = false;

	for (; o < n; o += (size_t)m[o + 1] * 8) {
		if (m[o] != ND_OPT_SLLA && m[o] != ND_OPT_TLLA)
			continue;
		memcpy(m + o + 2, b->p.adapter_mac, 6);
		changed = true;
	}
	if (changed)
		l4_fill(h->ip, true, IP_ICMPV6, m, n, m + 2, false);
}

static bool unspecified(const uint8_t *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip, zero, 16) == 0;
}

static enum wb_verdict out_ipv6(struct wb *b, uint8_t *f, size_t len,
				uint64_t now)
{
	struct claim c = {.mac = f + 6, .how = WB_LEARN_IP};
	struct claim t = {.mac = f + 6, .how = WB_LEARN_NDP};
	enum wb_verdict v;
	struct ip6 h;
	uint8_t *m;
	size_t opts = 0;
	bool dad;

	v = ip6_check(f, len, &h);
	if (v)
		return v;
	m = nd_find(&h, &opts, &v);
	if (v)
		return v;
	if (m)
		c.how = WB_LEARN_NDP;
	addr6(&c.a, h.ip + 8);
	v = claim_check(b, &c, now);
	if (v)
		return v;
	/* DAD (RFC 4862 §5.4.2): from ::, the target is the VM's tentative
	 * address; a taken one learns nothing but still goes out, so that
	 * its owner defends it */
	dad = m && m[0] == ND_NS && unspecified(h.ip + 8);
	if (dad) {
		addr6(&t.a, m + 8);
		claim_check(b, &t, now);
	}
	if (m)
		nd_rewrite(b, &h, m, opts);
	claim_commit(b, &c, now);
	if (dad)
		claim_commit(b, &t, now);
	return WB_PASS;
}

/* ---- inbound */

/* Point the frame at a's VM: its destination MAC, and optionally a
 * hardware address field. Unicast to the host or nobody is dropped;
 * multicast left for the switch to flood. */
static enum wb_verdict in_deliver(struct wb *b, uint8_t *f,
				  const struct wb_addr *a, uint8_t *hw,
				  uint64_t now)
{
	bool mcast = f[0] & 1;
	const uint8_t *vm;

	if (is_host(b, a))
		return mcast ? WB_PASS : WB_DROP_HOST;
	vm = learnable(a) ? owner(b, a, now) : NULL;
	if (!vm)
		return mcast ? WB_PASS : WB_DROP_UNKNOWN;
	if (hw)
		memcpy(hw, vm, 6);
	memcpy(f, vm, 6);
	return WB_PASS;
}

static enum wb_verdict in_arp(struct wb *b, uint8_t *f, size_t len,
			      uint64_t now)
{
	uint8_t *a = f + ETH_HLEN, *tha = a + 18;
	enum wb_verdict v = arp_check(f, len);
	struct wb_addr tpa;

	if (v)
		return v;
	addr4(&tpa, a + 24);
	/* a reply's target is us by construction; a request's only when
	 * it is unicast (Linux's NUD re-checks) */
	if (rd16(a + 6) != 2 && !mac_eq(tha, b->p.adapter_mac))
		tha = NULL;
	return in_deliver(b, f, &tpa, tha, now);
}

static enum wb_verdict in_ipv4(struct wb *b, uint8_t *f, size_t len,
			       uint64_t now)
{
	enum wb_verdict v;
	struct wb_addr dst;
	struct macrec *r;
	struct ip4 h;
	uint8_t *m;
	size_t blen;

	v = ip4_check(f, len, &h);
	if (v)
		return v;
	m = dhcp_find(&h, 67, 68, &blen, &v);
	if (!v && m)
		v = in_dhcp(b, m, blen, now);
	if (v)
		return v;
	if (f[0] & 1)
		return WB_PASS;
	addr4(&dst, h.ip + 16);
	v = in_deliver(b, f, &dst, NULL, now);
	/* a server that ignores the broadcast flag and unicasts an offer
	 * to the station: the client that asked through us lately */
	if (v == WB_DROP_UNKNOWN && m && m[0] == 2 && bootp_ether(m) &&
	    (r = mac_find(b, m + BOOTP_CHADDR)) && marked(b, r, now)) {
		memcpy(f, r->mac, 6);
		v = WB_PASS;
	}
	return v;
}

static enum wb_verdict in_ipv6(struct wb *b, uint8_t *f, size_t len,
			       uint64_t now)
{
	enum wb_verdict v;
	struct wb_addr a;
	struct ip6 h;
	uint8_t *m;
	size_t opts;

	v = ip6_check(f, len, &h);
	if (v)
		return v;
	m = nd_find(&h, &opts, &v);
	if (v)
		return v;
	if (m && m[0] == ND_NS && (f[0] & 1)) {
		addr6(&a, m + 8); /* to a solicited-node group: its target */
		return in_deliver(b, f, &a, NULL, now);
	}
	if (f[0] & 1)
		return WB_PASS;
	addr6(&a, h.ip + 24);
	return in_deliver(b, f, &a, NULL, now);
}

static bool vlan(uint16_t et)
{
	return et == 0x8100 || et == 0x88a8 || et == 0x9100;
}

static enum wb_verdict out_frame(struct wb *b, uint8_t *f, size_t len,
				 uint64_t now)
{
	if (len < ETH_HLEN)
		return WB_DROP_RUNT;
	if (!mac_unicast(f + 6) || mac_eq(f + 6, b->p.adapter_mac))
		return WB_DROP_SPOOF;
	switch (rd16(f + 12)) {
	case ET_ARP:
		return out_arp(b, f, len, now);
	case ET_IPV4:
		return out_ipv4(b, f, len, now);
	case ET_IPV6:
		return out_ipv6(b, f, len, now);
	default:
		return WB_DROP_PROTO;
	}
}

static enum wb_verdict in_frame(struct wb *b, uint8_t *f, size_t len,
				uint64_t now)
{
	uint16_t et;

	if (len < ETH_HLEN)
		return WB_DROP_RUNT;
	if (mac_eq(f + 6, b->p.adapter_mac))
		return WB_DROP_LOOP;
	if (!(f[0] & 1) && !mac_eq(f, b->p.adapter_mac))
		return WB_DROP_UNKNOWN; /* not the station's: no VM's either */
	et = rd16(f + 12);
	switch (et) {
	case ET_ARP:
		return in_arp(b, f, len, now);
	case ET_IPV4:
		return in_ipv4(b, f, len, now);
	case ET_IPV6:
		return in_ipv6(b, f, len, now);
	default:
		return (f[0] & 1) && !vlan(et) ? WB_PASS : WB_DROP_PROTO;
	}
}

/* ---- the API */

enum wb_verdict wb_out(struct wb *b, uint8_t *f, size_t len, uint64_t now_ns)
{
	enum wb_verdict v = out_frame(b, f, len, now_ns);

	if (v != WB_PASS) {
		b->st.out_drops[v]++;
		return v;
	}
	memcpy(f + 6, b->p.adapter_mac, 6);
	b->st.out_frames++;
	return WB_PASS;
}

enum wb_verdict wb_in(struct wb *b, uint8_t *f, size_t len, uint64_t now_ns)
{
	enum wb_verdict v = in_frame(b, f, len, now_ns);

	if (v != WB_PASS)
		b->st.in_drops[v]++;
	else
		b->st.in_frames++;
	return v;
}

static void seed(struct wb *b)
{
	uint64_t k[2];
	struct timespec ts;

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != sizeof(k)) {
		/* no entropy yet: still per instance, if guessable */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_nsec ^ (uintptr_t)b;
		k[1] = mum(k[0] ^ 0x9e3779b97f4a7c15ull, (uint64_t)ts.tv_sec);
	}
	b->k0 = k[0] | 1;
	b->k1 = k[1] | 1;
}

struct wb *wb_new(const struct wb_params *p)
{
	struct wb *b;
	unsigned slots = 2;

	if (!p || !mac_unicast(p->adapter_mac) || !p->max_entries ||
	    p->max_entries > ENTRIES_MAX || !p->per_mac || !p->aging_ns)
		return NULL;
	while (slots < 2 * p->max_entries)
		slots *= 2;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto out;
	b->p = *p;
	if (b->p.per_mac > b->p.max_entries)
		b->p.per_mac = b->p.max_entries;
	b->mask = slots - 1;
	b->slot = calloc(slots, sizeof(*b->slot));
	if (!b->slot)
		goto out_free;
	b->mac = calloc(slots, sizeof(*b->mac));
	if (!b->mac)
		goto out_slots;
	seed(b);
	return b;
out_slots:
	free(b->slot);
out_free:
	free(b);
out:
	return NULL;
}

void wb_free(struct wb *b)
{
	if (!b)
		return;
	free(b->mac);
	free(b->slot);
	free(b);
}

void wb_host_addrs(struct wb *b, const struct wb_addr *a, unsigned n)
{
	unsigned i, k;

	if (n > HOST_MAX)
		n = HOST_MAX;
	for (i = 0; i < n; i++) {
		if (a[i].family == 4)
			addr4(&b->host[i], a[i].ip + 12);
		else
			b->host[i] = a[i];
	}
	b->nhost = n;
	/* a VM holding what is the host's now loses it */
	for (i = 0; i < n; i++) {
		k = slot_probe(b, &b->host[i]);
		if (b->slot[k].used)
			slot_del(b, k, 0);
	}
}

void wb_age(struct wb *b, uint64_t now_ns)
{
	unsigned i;

	for (i = 0; i <= b->mask; i++) {
		/* a deletion pulls a later record into i: look again */
		while (b->slot[i].used &&
		       !fresh(b, b->slot[i].e.seen_ns, now_ns)) {
			slot_del(b, i, now_ns);
			b->st.aged++;
		}
	}
	for (i = 0; i <= b->mask; i++)
		while (b->mac[i].used && !b->mac[i].n &&
		       !marked(b, &b->mac[i], now_ns))
			mac_put(b, &b->mac[i], now_ns);
}

void wb_each(const struct wb *b, uint64_t now_ns,
	     int (*fn)(void *opaque, const struct wb_entry *e), void *opaque)
{
	for (unsigned i = 0; i <= b->mask; i++)
		if (b->slot[i].used && fresh(b, b->slot[i].e.seen_ns, now_ns) &&
		    fn(opaque, &b->slot[i].e))
			return;
}

const struct wb_stats *wb_stats(const struct wb *b)
{
	return &b->st;
}

const char *wb_reason(enum wb_verdict v)
{
	static const char *const why[WB_VERDICTS] = {
		[WB_PASS] = "passed",
		[WB_DROP_RUNT] = "shorter than its headers say",
		[WB_DROP_PROTO] = "a protocol the bridge cannot translate",
		[WB_DROP_MALFORMED] =
			"malformed (lengths, options or checksum)",
		[WB_DROP_UNKNOWN] = "for an address no VM holds",
		[WB_DROP_HOST] = "the host's own address",
		[WB_DROP_LOOP] = "the adapter's own frame",
		[WB_DROP_SPOOF] = "a source another VM or no VM may use",
	};

	return (unsigned)v < WB_VERDICTS ? why[v] : "unknown verdict";
}
