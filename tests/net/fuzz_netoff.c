/*
 * libFuzzer over core/netoff: input byte 0 says how to cut the rest into
 * iovecs (0: one; n: n-byte pieces, the header's too, for 62 of them,
 * then the rest), the rest is a struct hv_net_hdr and a frame. A header the
 * checker takes is completed or segmented, and every produced frame must
 * hold up: it parses as the same L3/L4, its IPv4 header sum and its
 * TCP/UDP sum verify (with the pseudo-header computed here), no segment
 * carries more than gso_size bytes of payload, and the payloads add up
 * to the frame's. ASan/UBSan catch any read or write out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netoff.h"

static uint8_t out[HV_NET_FRAME_MAX];

static uint32_t sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint32_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

struct ctx {
	const struct hv_net_hdr *h;
	const struct netoff_frame *f;
	size_t payload, frames;
};

static int check_seg(void *opaque, const uint8_t *fr, size_t len)
{
	struct ctx *c = opaque;
	const struct netoff_frame *f = c->f;
	struct iovec iov = { (void *)fr, len };
	struct netoff_src s = { &iov, 1, 0, len };
	struct netoff_frame g;
	int ufo = (c->h->gso_type & 0x7f) == HV_NET_GSO_UDP;
	const uint8_t *ip;

	if (len > HV_NET_FRAME_MAX || netoff_parse(&s, &g) || g.l3 != f->l3)
		abort();
	ip = fr + g.l3_off;
	if (g.l3 == 4 && sum(ip, (size_t)(ip[0] & 15) * 4) != 0xffff)
		abort();
	if (ufo) {
		c->payload += len - f->l4_off;
	} else {
		size_t l4len = len - f->l4_off;
		uint64_t ps = f->l4 + (uint64_t)l4len;

		if (g.l4 != f->l4 || g.l4_off != f->l4_off || g.hlen != f->hlen)
			abort();
		ps += g.l3 == 4 ? sum(ip + 12, 8) : sum(ip + 8, 32);
		if (fold(ps + sum(fr + f->l4_off, l4len)) != 0xffff)
			abort();
		if (len - f->hlen > c->h->gso_size)
			abort();
		c->payload += len - f->hlen;
	}
	c->frames++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec iov[64];
	struct netoff_src s;
	struct netoff_frame f;
	struct hv_net_hdr h;
	struct ctx c = { &h, &f, 0, 0 };
	size_t step, pos = 1;
	int n = 0;

	if (size < 1 + HV_NET_HDR_LEN || size > 1 + HV_NET_FRAME_MAX)
		return 0;
	step = data[0];
	if (!step) {
		iov[n++] = (struct iovec){ (void *)(data + 1), size - 1 };
	} else {
		while (pos < size && n < 63) {
			size_t k = size - pos < step ? size - pos : step;

			if (n == 62)
				k = size - pos;
			iov[n++] = (struct iovec){ (void *)(data + pos), k };
			pos += k;
		}
	}
	s = (struct netoff_src){ iov, n, HV_NET_HDR_LEN, size - 1 - HV_NET_HDR_LEN };
	if (netoff_hdr_get(&s, &h))
		abort();
	if (netoff_parse(&s, &f) || netoff_check(&h, &f))
		return 0;
	(void)netoff_needs(&h);
	if (h.gso_type != HV_NET_GSO_NONE) {
		int rc = netoff_segment(&s, &h, &f, out, check_seg, &c);
		size_t plen = f.len - ((h.gso_type & 0x7f) == HV_NET_GSO_UDP ?
				       f.l4_off : f.hlen);

		if (rc < 1 || (size_t)rc != c.frames || c.payload != plen)
			abort();
	} else if (h.flags & HV_NET_HDR_F_NEEDS_CSUM) {
		size_t at = (size_t)h.csum_start + h.csum_offset;
		uint8_t p[2];

		netoff_copy(&s, at, p, 2);
		netoff_finish(&s, &h, &f, out);
		/* the region's sum with the pseudo-header sum the field held */
		if (fold((uint64_t)sum(out + h.csum_start, f.len - h.csum_start) +
			 (uint32_t)(p[0] << 8 | p[1])) != 0xffff)
			abort();
	}
	return 0;
}
