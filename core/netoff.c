/*
 * Network offloads in software. Headers are parsed from a copy of the
 * frame's first bytes (a window: headers past it are "not found", so a
 * GSO frame that hides its TCP header behind 400 bytes of IPv6 options
 * is refused instead of walked); sums are taken over the caller's
 * linear buffer. Multi-byte fields are read and written big-endian by
 * hand: frames are network order, whatever the host is.
 */
#include "netoff.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define IP4_MF 0x2000
#define WINDOW 512 /* header bytes parsed */
#define IP6_EXT_MAX 8

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

size_t netoff_iov_len(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

int netoff_copy(const struct netoff_src *s, size_t off, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t pos;

	if (off > s->len || n > s->len - off)
		return -EINVAL;
	pos = s->base + off;
	for (int i = 0; i < s->iovcnt && n; i++) {
		size_t l = s->iov[i].iov_len, k;

		if (pos >= l) {
			pos -= l;
			continue;
		}
		k = l - pos < n ? l - pos : n;
		memcpy(d, (const uint8_t *)s->iov[i].iov_base + pos, k);
		d += k;
		n -= k;
		pos = 0;
	}
	return n ? -EINVAL : 0;
}

int netoff_hdr_get(const struct netoff_src *s, struct hv_net_hdr *h)
{
	struct netoff_src whole = { s->iov, s->iovcnt, 0, s->base + s->len };

	if (s->base < HV_NET_HDR_LEN ||
	    netoff_copy(&whole, 0, h, HV_NET_HDR_LEN))
		return -EINVAL;
	h->hdr_len = le16toh(h->hdr_len);
	h->gso_size = le16toh(h->gso_size);
	h->csum_start = le16toh(h->csum_start);
	h->csum_offset = le16toh(h->csum_offset);
	h->num_buffers = le16toh(h->num_buffers);
	return 0;
}

/* The TCP or UDP header at w[p] (n bytes of window). */
static int parse_l4(const uint8_t *w, size_t n, size_t p, uint8_t proto,
		    struct netoff_frame *f)
{
	size_t l;

	if (proto == PROTO_TCP) {
		if (p + 20 > n)
			return -EINVAL;
		l = (size_t)(w[p + 12] >> 4) * 4;
		if (l < 20)
			return -EINVAL;
	} else if (proto == PROTO_UDP) {
		l = 8;
	} else {
		return 0;
	}
	if (p + l > n)
		return -EINVAL;
	f->l4 = proto;
	f->l4_off = (uint16_t)p;
	f->hlen = (uint16_t)(p + l);
	return 0;
}

static int parse_ip4(const uint8_t *w, size_t n, struct netoff_frame *f)
{
	size_t p = f->l3_off, ihl;

	if (p + 20 > n || w[p] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(w[p] & 15) * 4;
	if (ihl < 20 || p + ihl > n)
		return -EINVAL;
	f->l3 = 4;
	f->frag = (get16(w + p + 6) & 0x3fff) != 0; /* MF or an offset */
	return f->frag ? 0 : parse_l4(w, n, p + ihl, w[p + 9], f);
}

/* The kernel skips hop-by-hop (0), routing (43) and destination options
 * (60) on its way to the L4 header; a fragment header (44) ends the walk. */
static int parse_ip6(const uint8_t *w, size_t n, struct netoff_frame *f)
{
	size_t p = f->l3_off;
	uint8_t nh;

	if (p + 40 > n || w[p] >> 4 != 6)
		return -EINVAL;
	f->l3 = 6;
	nh = w[p + 6];
	p += 40;
	for (int i = 0; i < IP6_EXT_MAX; i++) {
		if (nh == 44) {
			f->frag = 1;
			return 0;
		}
		if (nh != 0 && nh != 43 && nh != 60)
			return parse_l4(w, n, p, nh, f);
		if (p + 2 > n)
			return -EINVAL;
		nh = w[p];
		p += ((size_t)w[p + 1] + 1) * 8;
	}
	return 0; /* a chain too long to be what a stack sends: no L4 */
}

/* The frame's first n bytes in one piece: in place when one iovec holds
 * them (the usual case: no copy), else copied to buf. */
static const uint8_t *window(const struct netoff_src *s, size_t n, uint8_t *buf)
{
	size_t pos = s->base;

	for (int i = 0; i < s->iovcnt; i++) {
		size_t l = s->iov[i].iov_len;

		if (pos >= l) {
			pos -= l;
			continue;
		}
		if (l - pos >= n)
			return (const uint8_t *)s->iov[i].iov_base + pos;
		break;
	}
	return netoff_copy(s, 0, buf, n) ? NULL : buf;
}

int netoff_parse(const struct netoff_src *s, struct netoff_frame *f)
{
	uint8_t buf[WINDOW];
	size_t n = s->len < WINDOW ? s->len : WINDOW;
	const uint8_t *w;
	uint16_t type;

	memset(f, 0, sizeof(*f));
	if (s->len < ETH_HLEN || s->len > HV_NET_FRAME_MAX - HV_NET_HDR_LEN)
		return -EINVAL;
	w = window(s, n, buf);
	if (!w)
		return -EINVAL;
	f->len = (uint32_t)s->len;
	f->l3_off = ETH_HLEN;
	type = get16(w + 12);
	if (type == ETH_P_8021Q) {
		if (n < ETH_HLEN + VLAN_HLEN)
			return -EINVAL;
		type = get16(w + 16);
		f->l3_off += VLAN_HLEN;
	}
	f->ethertype = type;
	if (type == ETH_P_IP)
		return parse_ip4(w, n, f);
	if (type == ETH_P_IPV6)
		return parse_ip6(w, n, f);
	return 0;
}

uint32_t netoff_needs(const struct hv_net_hdr *h)
{
	static const uint32_t gso_need[] = {
		[HV_NET_GSO_TCPV4] = HV_NET_OFF_TSO4,
		[HV_NET_GSO_UDP] = HV_NET_OFF_UFO,
		[HV_NET_GSO_TCPV6] = HV_NET_OFF_TSO6,
		[HV_NET_GSO_UDP_L4] = HV_NET_OFF_USO,
	};
	unsigned gso = h->gso_type & ~HV_NET_GSO_ECN;
	uint32_t need = 0;

	if (h->flags & HV_NET_HDR_F_NEEDS_CSUM)
		need |= HV_NET_OFF_CSUM;
	if (gso < sizeof(gso_need) / sizeof(gso_need[0]))
		need |= gso_need[gso];
	if (h->gso_type & HV_NET_GSO_ECN)
		need |= HV_NET_OFF_ECN;
	return need ? need | HV_NET_OFF_HDR : 0;
}

static int gso_matches(unsigned gso, const struct netoff_frame *f)
{
	switch (gso) {
	case HV_NET_GSO_TCPV4: return f->l3 == 4 && f->l4 == PROTO_TCP;
	case HV_NET_GSO_TCPV6: return f->l3 == 6 && f->l4 == PROTO_TCP;
	case HV_NET_GSO_UDP: return f->l3 == 4 && f->l4 == PROTO_UDP;
	case HV_NET_GSO_UDP_L4: return f->l3 && f->l4 == PROTO_UDP;
	default: return 0;
	}
}

int netoff_check(const struct hv_net_hdr *h, const struct netoff_frame *f)
{
	unsigned gso = h->gso_type & ~HV_NET_GSO_ECN;
	int csum = h->flags & HV_NET_HDR_F_NEEDS_CSUM;

	if (h->flags & ~(HV_NET_HDR_F_NEEDS_CSUM | HV_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	if (h->hdr_len > f->len)
		return -EINVAL;
	/* an odd offset would store the sum byte-swapped: no ones'
	 * complement protocol has one */
	if (csum && ((size_t)h->csum_start + h->csum_offset + 2 > f->len ||
		     (h->csum_offset & 1)))
		return -EINVAL;
	if (gso == HV_NET_GSO_NONE)
		return h->gso_type & HV_NET_GSO_ECN ? -EINVAL : 0;
	if (!h->gso_size || f->frag || !gso_matches(gso, f))
		return -EINVAL;
	/* one segment may be all of it: its IP length must still fit */
	if (f->len - f->l3_off - (f->l3 == 6 ? 40u : 0u) > 0xffff)
		return -EINVAL;
	if ((h->gso_type & HV_NET_GSO_ECN) && f->l4 != PROTO_TCP)
		return -EINVAL;
	if (gso == HV_NET_GSO_UDP && h->gso_size < 8)
		return -EINVAL; /* fragments carry multiples of 8 bytes */
	if (csum && (h->csum_start != f->l4_off ||
		     h->csum_offset != (f->l4 == PROTO_TCP ? 16 : 6)))
		return -EINVAL;
	return 0;
}

/* Big-endian 16-bit words of p; an odd last byte is the high half. */
static uint64_t sum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += get16(p);
	if (n)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

static uint16_t sum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void netoff_finish(const struct netoff_src *s, const struct hv_net_hdr *h,
		   const struct netoff_frame *f, uint8_t *out)
{
	size_t at = (size_t)h->csum_start + h->csum_offset;
	uint16_t v;

	netoff_copy(s, 0, out, f->len);
	v = (uint16_t)~sum_fold(sum_add(0, out + h->csum_start,
					f->len - h->csum_start));
	put16(out + at, v ? v : 0xffff); /* 0 means "no sum" to UDP */
}

/* The pseudo-header's sum for l4len bytes of L4 header and payload. */
static uint64_t sum_pseudo(const uint8_t *l3, const struct netoff_frame *f,
			   size_t l4len)
{
	if (f->l3 == 4)
		return sum_add(f->l4 + (uint64_t)l4len, l3 + 12, 8);
	return sum_add(f->l4 + (uint64_t)l4len, l3 + 8, 32);
}

/* Segment i's IP header: lengths, the IPv4 id and header sum. */
static void seg_fix_l3(uint8_t *out, const struct netoff_frame *f,
		       uint16_t id0, unsigned i, size_t l3len)
{
	uint8_t *ip = out + f->l3_off;
	size_t ihl = (size_t)(ip[0] & 15) * 4;

	if (f->l3 == 6) {
		put16(ip + 4, (uint16_t)(l3len - 40));
		return;
	}
	put16(ip + 2, (uint16_t)l3len);
	put16(ip + 4, (uint16_t)(id0 + i));
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, ihl)));
}

struct seg_orig {
	uint16_t id;
	uint32_t seq;
	uint8_t flags;
};

/* Segment i's TCP or UDP header: sequence, flags, length and full sum. */
static void seg_fix_l4(uint8_t *out, const struct netoff_frame *f,
		       const struct seg_orig *o, size_t off, unsigned i,
		       int last, size_t l4len)
{
	uint8_t *l4 = out + f->l4_off;
	size_t at = f->l4 == PROTO_TCP ? 16 : 6;
	uint16_t v;

	if (f->l4 == PROTO_TCP) {
		uint8_t fl = o->flags;

		if (!last)
			fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			fl &= (uint8_t)~TCP_CWR;
		put32(l4 + 4, o->seq + (uint32_t)off);
		l4[13] = fl;
	} else {
		put16(l4 + 4, (uint16_t)l4len);
	}
	put16(l4 + at, 0);
	v = (uint16_t)~sum_fold(sum_add(sum_pseudo(out + f->l3_off, f, l4len),
					l4, l4len));
	if (!v && f->l4 == PROTO_UDP)
		v = 0xffff;
	put16(l4 + at, v);
}

/* UFO: the datagram's UDP sum once, then IPv4 fragments of the IP
 * payload built in place: fragment k's headers overwrite the tail of
 * fragment k-1, already emitted. */
static int segment_ufo(const struct netoff_src *s, const struct hv_net_hdr *h,
		       const struct netoff_frame *f, uint8_t *out,
		       netoff_emit_fn emit, void *opaque)
{
	size_t hl = f->l4_off, ihl = hl - f->l3_off, plen = f->len - hl;
	size_t mss = h->gso_size & ~(size_t)7, off = 0;
	uint8_t hdrs[ETH_HLEN + VLAN_HLEN + 60];
	unsigned k = 0;
	int rc;

	if (h->flags & HV_NET_HDR_F_NEEDS_CSUM)
		netoff_finish(s, h, f, out);
	else
		netoff_copy(s, 0, out, f->len);
	memcpy(hdrs, out, hl);
	for (;; k++) {
		size_t n = plen - off < mss ? plen - off : mss;
		uint8_t *p = out + off, *ip = p + f->l3_off;
		int last = off + n >= plen;

		memmove(p, hdrs, hl);
		put16(ip + 2, (uint16_t)(ihl + n));
		put16(ip + 6, (uint16_t)(off >> 3 | (last ? 0 : IP4_MF)));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~sum_fold(sum_add(0, ip, ihl)));
		rc = emit(opaque, p, hl + n);
		if (rc)
			return rc;
		off += n;
		if (last)
			return (int)k + 1;
	}
}

int netoff_segment(const struct netoff_src *s, const struct hv_net_hdr *h,
		   const struct netoff_frame *f, uint8_t *out,
		   netoff_emit_fn emit, void *opaque)
{
	size_t hl = f->hlen, plen = f->len - hl, mss = h->gso_size, off = 0;
	struct seg_orig o = { 0 };
	unsigned i = 0;
	int rc;

	if ((h->gso_type & ~HV_NET_GSO_ECN) == HV_NET_GSO_UDP)
		return segment_ufo(s, h, f, out, emit, opaque);
	netoff_copy(s, 0, out, hl);
	if (f->l3 == 4)
		o.id = get16(out + f->l3_off + 4);
	if (f->l4 == PROTO_TCP) {
		o.seq = get32(out + f->l4_off + 4);
		o.flags = out[f->l4_off + 13];
	}
	for (;; i++) {
		size_t n = plen - off < mss ? plen - off : mss;
		int last = off + n >= plen;

		netoff_copy(s, hl + off, out + hl, n);
		seg_fix_l3(out, f, o.id, i, hl - f->l3_off + n);
		seg_fix_l4(out, f, &o, off, i, last, hl - f->l4_off + n);
		rc = emit(opaque, out, hl + n);
		if (rc)
			return rc;
		off += n;
		if (last)
			return (int)i + 1;
	}
}
