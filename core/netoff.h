/*
 * Network offloads in software (SDK 2.2, hv/net.h): pure functions over
 * one Ethernet frame held in an iovec array, with no instance and no VM,
 * so the core's crossings (net.c), the unit tests and the fuzzer share
 * them.
 *
 * A frame is the bytes [base, base + len) of the iovec stream: base is
 * HV_NET_HDR_LEN when a struct hv_net_hdr is in front of it (the header
 * may share an iovec with the frame or not), 0 for a bare frame.
 *
 * Guarantees: nothing here reads outside the iovecs' bytes or writes
 * outside the caller's buffer; every length and offset a header or the
 * frame's own headers claim is checked before use; no allocation.
 */
#ifndef HV_CORE_NETOFF_H
#define HV_CORE_NETOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <hv/net.h>

struct netoff_src {
	const struct iovec *iov;
	int iovcnt;
	size_t base; /* where the frame starts in the stream */
	size_t len;  /* the frame's bytes from base */
};

/* What netoff_parse() found; offsets from the frame's first byte. */
struct netoff_frame {
	uint32_t len;
	uint16_t l3_off;  /* after Ethernet and at most one 802.1Q tag */
	uint16_t l4_off;  /* 0: no TCP/UDP header found */
	uint16_t hlen;    /* l4_off + the TCP/UDP header: 0 without one */
	uint16_t ethertype;
	uint8_t l3;       /* 4, 6, or 0 (not IP) */
	uint8_t l4;       /* 6 (TCP), 17 (UDP) or 0 */
	uint8_t frag;     /* an IPv4 fragment or an IPv6 fragment header */
};

/* Bytes in iov[0..iovcnt). */
size_t netoff_iov_len(const struct iovec *iov, int iovcnt);
/* Copy the frame's bytes [off, off + n) to dst: 0, -EINVAL past its end. */
int netoff_copy(const struct netoff_src *s, size_t off, void *dst, size_t n);
/* Read the header at the stream's start (s->base >= HV_NET_HDR_LEN),
 * converted from little-endian. 0 or -EINVAL (too short). */
int netoff_hdr_get(const struct netoff_src *s, struct hv_net_hdr *h);

/* Ethernet (+ one 802.1Q tag), IPv4 or IPv6 (skipping hop-by-hop,
 * routing and destination options), TCP or UDP. 0, or -EINVAL for a runt
 * (< 14 bytes), a frame over HV_NET_FRAME_MAX with its header (so what
 * parsed fits the buffers below) or an IP/TCP header that claims more
 * than the frame has;
 * a frame that is not IP parses with l3 = 0. */
int netoff_parse(const struct netoff_src *s, struct netoff_frame *f);
/* The HV_NET_OFF_* bits a receiver must take to get the frame with header
 * h as it is; 0 for a header that asks nothing (zero, DATA_VALID). */
uint32_t netoff_needs(const struct hv_net_hdr *h);
/* h against the frame f: known flags, csum_start + csum_offset + 2 and
 * hdr_len inside it, an even csum_offset, a GSO type that matches the
 * headers found (not a fragment), gso_size > 0, ECN only with TSO, a GSO
 * checksum at the L4 header. 0 or -EINVAL. */
int netoff_check(const struct hv_net_hdr *h, const struct netoff_frame *f);

/* Copy the frame to out (f->len bytes) and finish its NEEDS_CSUM sum:
 * the ones' complement sum of [csum_start, end), whose 16-bit field at
 * csum_start + csum_offset holds the pseudo-header sum, stored there.
 * h must have passed netoff_check(). */
void netoff_finish(const struct netoff_src *s, const struct hv_net_hdr *h,
		   const struct netoff_frame *f, uint8_t *out);

/* One produced frame (bare Ethernet in the caller's buffer): 0 to go on,
 * or -errno to stop (returned by netoff_segment). */
typedef int (*netoff_emit_fn)(void *opaque, const uint8_t *frame, size_t len);

/*
 * Cut the GSO frame (h and f passed netoff_check) into frames of at most
 * gso_size bytes of payload, each built in out (HV_NET_FRAME_MAX bytes)
 * and handed to emit before the next is built. TCP (v4/v6) and USO:
 * IPv4 total length, id + 1 per segment and header checksum, IPv6
 * payload length, TCP sequence number, FIN/PSH on the last segment only,
 * CWR on the first only, and the full TCP/UDP checksum. UFO: IPv4
 * fragments of gso_size (rounded down to 8) with one id, MF and offsets,
 * the UDP checksum finished once over the datagram. Returns the number of
 * frames emitted, or emit's error.
 */
int netoff_segment(const struct netoff_src *s, const struct hv_net_hdr *h,
		   const struct netoff_frame *f, uint8_t *out,
		   netoff_emit_fn emit, void *opaque);

#endif
