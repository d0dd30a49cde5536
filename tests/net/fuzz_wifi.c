/*
 * libFuzzer over the Wi-Fi bridge's translation (plugins/wifi-bridge/
 * xlate.c, compiled in): frames both ways, time passing, aging and host
 * address changes, in any order. After every step:
 * - a dropped frame is untouched; nothing is written past a frame (each
 *   is its own exact-size allocation, so ASan sees any overrun);
 * - an outbound frame passed leaves with the adapter's MAC as source, an
 *   ARP one with it as sender, an ND one with it in every link-layer
 *   option and a right ICMPv6 checksum (summed here, independently);
 * - an inbound frame passed is either multicast and untouched, or
 *   unicast to a MAC a live entry holds (or a DHCP reply to the chaddr
 *   of a VM that asked lately);
 * - the table keeps its invariants (tests/net/wifi_check.h), never more
 *   than max_entries, no entry for the host's or an unlearnable address.
 *
 * Input: byte 0 picks the table size and per_mac share; then steps of
 * OP LEN_LO LEN_HI FRAME (OP & 7: 0-1 out, 2-3 in, 4 time passes LEN
 * units of aging/64, 5 wb_age, 6 host addresses from FRAME, 7 out then
 * in of the same frame).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/wifi-bridge/xlate.c"
#include "wifi_check.h"

#define AGING 6400u

static const uint8_t adapter[6] = {0x02, 0x00, 0x00, 0xaa, 0x00, 0x01};

/* the step being checked, for the report */
static const uint8_t *cur_in, *cur_out;
static size_t cur_len;

static void dump(const char *what, const uint8_t *f)
{
	fprintf(stderr, "fuzz_wifi: %s ", what);
	for (size_t i = 0; f && i < cur_len; i++)
		fprintf(stderr, "%02x", f[i]);
	fputc('\n', stderr);
}

#define FAIL(...)                                           \
	do {                                                \
		fprintf(stderr, "fuzz_wifi: " __VA_ARGS__); \
		fputc('\n', stderr);                        \
		dump("frame in ", cur_in);                  \
		dump("frame out", cur_out);                 \
		abort();                                    \
	} while (0)

struct live {
	const uint8_t *mac;
	const struct wb *b;
	int found, bad;
};

static int live_fn(void *opaque, const struct wb_entry *e)
{
	struct live *l = opaque;

	if (l->mac && mac_eq(e->mac, l->mac))
		l->found = 1;
	if (!learnable(&e->addr) || is_host(l->b, &e->addr) || !e->how ||
	    e->how > WB_LEARN_IP)
		l->bad = 1;
	return 0;
}

static uint16_t sum_icmp6(const uint8_t *ip, const uint8_t *m, size_t n)
{
	uint32_t s = (uint32_t)n + IP_ICMPV6;
	size_t i;

	for (i = 8; i < 40; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(m[i] << 8 | m[i + 1]);
	if (n & 1)
		s += (uint32_t)m[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* An ND message right after the IPv6 header (no extension headers). */
static void check_nd_out(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *m = ip + 40;
	size_t n, o;

	if (len < 14 + 41 || f[12] != 0x86 || f[13] != 0xdd || ip[6] != 58 ||
	    m[0] < 133 || m[0] > 137)
		return;
	n = (size_t)(ip[4] << 8 | ip[5]);
	if (!n)
		return; /* no ICMPv6 message at all: nothing to translate */
	if (sum_icmp6(ip, m, n) != 0xffff)
		FAIL("an outbound ND message with a wrong checksum");
	for (o = (size_t[]){8, 16, 24, 24, 40}[m[0] - 133]; o + 2 <= n;
	     o += (size_t)m[o + 1] * 8) {
		if (!m[o + 1])
			FAIL("an outbound ND option of length 0 passed");
		if ((m[o] == 1 || m[o] == 2) && memcmp(m + o + 2, adapter, 6))
			FAIL("an outbound ND link-layer option names a VM");
	}
}

/* Was f a DHCP reply to the station for mac, a client that asked lately? */
static int dhcp_client(const struct wb *b, const uint8_t *mac, uint64_t now,
		       const uint8_t *f, size_t len)
{
	const struct macrec *r = mac_find(b, mac);
	size_t ihl = len > 14 ? (size_t)(f[14] & 15) * 4 : 0;

	return r && marked(b, r, now) && len >= 14 + ihl + 8 + 236 &&
	       f[12] == 8 && f[13] == 0 && f[14 + 9] == 17 &&
	       f[14 + ihl + 1] == 67 && f[14 + ihl + 3] == 68 &&
	       !memcmp(f + 14 + ihl + 8 + 28, mac, 6);
}

static void step(struct wb *b, int way, const uint8_t *data, size_t len,
		 uint64_t now)
{
	uint8_t *f = malloc(len ? len : 1), *orig = malloc(len ? len : 1);
	struct live l = {.b = b};
	enum wb_verdict v;

	memcpy(f, data, len);
	memcpy(orig, data, len);
	cur_in = orig, cur_out = f, cur_len = len;
	v = way ? wb_out(b, f, len, now) : wb_in(b, f, len, now);
	if ((unsigned)v >= WB_VERDICTS)
		FAIL("verdict %d", v);
	if (v != WB_PASS && memcmp(f, orig, len))
		FAIL("a dropped frame (%s) was changed", wb_reason(v));
	if (v == WB_PASS && way) {
		if (memcmp(f + 6, adapter, 6))
			FAIL("an outbound frame left with a VM's MAC");
		if (len >= 42 && f[12] == 8 && f[13] == 6 &&
		    memcmp(f + 22, adapter, 6))
			FAIL("an outbound ARP names a VM's MAC");
		check_nd_out(f, len);
	}
	if (v == WB_PASS && !way) {
		if (f[0] & 1) {
			if (memcmp(f, orig, len))
				FAIL("a multicast inbound frame was changed");
		} else {
			l.mac = f;
		}
	}
	wb_each(b, now, live_fn, &l);
	if (l.mac && !l.found && !dhcp_client(b, l.mac, now, orig, len))
		FAIL("an inbound frame went to a MAC no live entry has");
	if (l.bad)
		FAIL("an entry for the host, an unlearnable address or no how");
	cur_in = cur_out = NULL;
	free(f);
	free(orig);
}

/* Up to 4 host addresses, 17 bytes each: family (odd: 6), address. */
static void host_addrs(struct wb *b, const uint8_t *d, size_t len)
{
	struct wb_addr h[4];
	unsigned n = 0;

	for (; n < 4 && (n + 1) * 17 <= len; n++) {
		h[n].family = d[n * 17] & 1 ? 6 : 4;
		memcpy(h[n].ip, d + n * 17 + 1, 16);
	}
	wb_host_addrs(b, h, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_params p = {.aging_ns = AGING};
	uint64_t now = 1;
	const char *bad;
	struct wb *b;
	size_t i = 1;

	if (!size)
		return 0;
	memcpy(p.adapter_mac, adapter, 6);
	p.max_entries = 4u + (data[0] & 63);
	p.per_mac = 1u + (data[0] >> 6) * 3;
	b = wb_new(&p);
	if (!b)
		FAIL("wb_new refused good parameters");
	while (i + 3 <= size) {
		uint8_t op = data[i] & 7;
		size_t len = (size_t)(data[i + 1] | data[i + 2] << 8);

		i += 3;
		if (len > size - i)
			len = size - i;
		now += 1;
		switch (op) {
		case 0:
		case 1:
			step(b, 1, data + i, len, now);
			break;
		case 2:
		case 3:
			step(b, 0, data + i, len, now);
			break;
		case 4:
			now += (uint64_t)len * (AGING / 64);
			len = 0;
			break;
		case 5:
			wb_age(b, now);
			len = 0;
			break;
		case 6:
			host_addrs(b, data + i, len);
			break;
		default:
			step(b, 1, data + i, len, now);
			step(b, 0, data + i, len, now);
		}
		i += len;
		bad = wb_check(b);
		if (bad)
			FAIL("%s", bad);
	}
	wb_free(b);
	return 0;
}
