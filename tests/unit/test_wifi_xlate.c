/*
 * plugins/wifi-bridge/xlate.c against scapy: every vector of
 * tests/net/wifi-vectors.py (tests/unit/wifi_vectors.h, which
 * tests/net/wifi-vectors.t keeps equal to the script's output) fed in
 * order to one bridge must give scapy's frame byte for byte, checksums
 * included, and the verdict; a dropped frame must come back untouched.
 * Then the table under hostile use: aging, two VMs on one address, a
 * spoof flood, a full table, DHCP learning, the host's addresses.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "unit.h"

#include "../../plugins/wifi-bridge/xlate.c"
#include "../net/wifi_check.h"

struct wifi_vec {
	const char *name;
	int out;
	enum wb_verdict verdict;
	const uint8_t *in;
	size_t len;
	const uint8_t *expect;
};
#include "wifi_vectors.h"

#define MS    1000000ull
#define AGING (300000 * MS)
#define VM(n)                                     \
	{                                         \
		0x52, 0x54, 0x00, 0x00, 0x01, (n) \
	}

static const uint8_t adapter[6] = WV_ADAPTER, vm1[6] = WV_VM1, vm2[6] = WV_VM2,
		     lan[6] = WV_LAN;

static struct wb *bridge(unsigned entries, unsigned per_mac)
{
	struct wb_params p = {.adapter_mac = WV_ADAPTER,
			      .max_entries = entries,
			      .per_mac = per_mac,
			      .aging_ns = AGING};
	struct wb_addr host[2] = {{.family = 4}, {.family = 6}};
	struct wb *b = wb_new(&p);

	if (!b)
		return NULL;
	inet_pton(AF_INET, WV_HOST4, host[0].ip + 12);
	inet_pton(AF_INET6, WV_HOST6, host[1].ip);
	wb_host_addrs(b, host, 2);
	return b;
}

static struct wb_addr addr(const char *s)
{
	struct wb_addr a = {.family = 6};

	if (inet_pton(AF_INET6, s, a.ip) == 1)
		return a;
	addr4(&a, (const uint8_t[4]){0});
	inet_pton(AF_INET, s, a.ip + 12);
	return a;
}

struct find {
	struct wb_addr a;
	const struct wb_entry *e;
	unsigned n;
};

static int find_fn(void *opaque, const struct wb_entry *e)
{
	struct find *f = opaque;

	f->n++;
	if (addr_eq(&e->addr, &f->a))
		f->e = e;
	return 0;
}

/* The live entry for s at now, or NULL; *n the number of live entries. */
static const struct wb_entry *entry(struct wb *b, const char *s, uint64_t now,
				    unsigned *n)
{
	struct find f = {.a = addr(s)};

	wb_each(b, now, find_fn, &f);
	if (n)
		*n = f.n;
	return f.e;
}

static const struct wifi_vec *vector(const char *name)
{
	for (size_t i = 0; i < sizeof(wifi_vecs) / sizeof(wifi_vecs[0]); i++)
		if (!strcmp(wifi_vecs[i].name, name))
			return &wifi_vecs[i];
	printf("# no vector %s\n", name);
	exit(1);
}

static void hexdiff(const char *name, const uint8_t *got, const uint8_t *want,
		    size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i]) {
			printf("# %s: byte %zu is %02x, scapy has %02x\n", name,
			       i, got[i], want[i]);
			return;
		}
}

/* A TCP/IPv4 frame (headers only matter here: no checksum is checked). */
static size_t tcp4(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		   const char *sip, const char *dip)
{
	memset(f, 0, 54);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[17] = 40;
	f[22] = 64;
	f[23] = 6;
	inet_pton(AF_INET, sip, f + 26);
	inet_pton(AF_INET, dip, f + 30);
	f[46] = 0x50;
	return 54;
}

static size_t tcp6(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		   const uint8_t *sip, const char *dip)
{
	memset(f, 0, 74);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 20;
	f[20] = 6;
	f[21] = 64;
	memcpy(f + 22, sip, 16);
	inet_pton(AF_INET6, dip, f + 38);
	f[66] = 0x50;
	return 74;
}

static void test_vectors(void)
{
	struct wb *b = bridge(64, 8);
	uint64_t drops[2][WB_VERDICTS] = {{0}}, now = 0;
	const struct wb_entry *e;
	const struct wb_stats *st;
	uint8_t f[2048];
	unsigned n, i, conflicts = 0;

	CHECK(b);
	if (!b)
		return;
	for (i = 0; i < sizeof(wifi_vecs) / sizeof(wifi_vecs[0]); i++) {
		const struct wifi_vec *v = &wifi_vecs[i];
		enum wb_verdict got;

		memcpy(f, v->in, v->len);
		now += MS;
		got = v->out ? wb_out(b, f, v->len, now)
			     : wb_in(b, f, v->len, now);
		if (got != v->verdict)
			printf("# %s: %s, want %s\n", v->name, wb_reason(got),
			       wb_reason(v->verdict));
		else if (memcmp(f, v->expect, v->len))
			hexdiff(v->name, f, v->expect, v->len);
		printf("%s wifi-vector-%s\n",
		       got == v->verdict && !memcmp(f, v->expect, v->len)
			       ? "ok"
			       : "not ok",
		       v->name);
		unit_case_failed |=
			got != v->verdict || memcmp(f, v->expect, v->len);
		drops[v->out][v->verdict]++;
		conflicts += v->verdict == WB_DROP_HOST && v->out;
		conflicts += v->verdict == WB_DROP_SPOOF &&
			     strstr(v->name, "other_vm") != NULL;
	}
	/* the table is what the vectors taught, nothing else: no link-local,
	 * no host address, the DAD of a taken address refused */
	e = entry(b, WV_VM1_4, now, &n);
	CHECK(e && mac_eq(e->mac, vm1) && e->how == WB_LEARN_IP);
	e = entry(b, WV_VM1_6, now, NULL);
	CHECK(e && mac_eq(e->mac, vm1) && e->how == WB_LEARN_NDP);
	e = entry(b, WV_VM2_4, now, NULL);
	CHECK(e && mac_eq(e->mac, vm2));
	e = entry(b, WV_VM2_6, now, NULL);
	CHECK(e && mac_eq(e->mac, vm2) && e->how == WB_LEARN_IP);
	CHECK(n == 4);
	st = wb_stats(b);
	CHECK(st->learned == 4);
	CHECK(st->conflicts == conflicts + 1); /* + the taken DAD */
	for (i = 1; i < WB_VERDICTS; i++) {
		CHECK(st->out_drops[i] == drops[1][i]);
		CHECK(st->in_drops[i] == drops[0][i]);
	}
	CHECK(st->out_frames == drops[1][WB_PASS]);
	CHECK(st->in_frames == drops[0][WB_PASS]);
	CHECK(!wb_check(b));
	wb_free(b);
}

/* VM1's address stays VM1's while live, whoever else claims it; once it
 * ages out the next claimant has it. */
static void test_two_vms_one_address(void)
{
	struct wb *b = bridge(64, 8);
	uint8_t f[128];
	size_t n;

	n = tcp4(f, lan, vm1, "10.200.7.9", WV_LAN4);
	CHECK(wb_out(b, f, n, 1 * MS) == WB_PASS);
	n = tcp4(f, lan, vm2, "10.200.7.9", WV_LAN4);
	CHECK(wb_out(b, f, n, 2 * MS) == WB_DROP_SPOOF);
	CHECK(f[6] == vm2[0] && !memcmp(f + 6, vm2, 6)); /* untouched */
	CHECK(wb_stats(b)->conflicts == 1);
	n = tcp4(f, adapter, lan, WV_LAN4, "10.200.7.9");
	CHECK(wb_in(b, f, n, 3 * MS) == WB_PASS && !memcmp(f, vm1, 6));
	/* inbound traffic does not keep it alive */
	n = tcp4(f, adapter, lan, WV_LAN4, "10.200.7.9");
	CHECK(wb_in(b, f, n, AGING) == WB_PASS && !memcmp(f, vm1, 6));
	n = tcp4(f, adapter, lan, WV_LAN4, "10.200.7.9");
	CHECK(wb_in(b, f, n, AGING + 1 * MS) == WB_DROP_UNKNOWN);
	n = tcp4(f, lan, vm2, "10.200.7.9", WV_LAN4);
	CHECK(wb_out(b, f, n, AGING + 2 * MS) == WB_PASS);
	n = tcp4(f, adapter, lan, WV_LAN4, "10.200.7.9");
	CHECK(wb_in(b, f, n, AGING + 3 * MS) == WB_PASS && !memcmp(f, vm2, 6));
	CHECK(wb_stats(b)->aged == 1 && wb_stats(b)->learned == 2);
	CHECK(!wb_check(b));
	CHECK(b->nmacs == 1); /* VM1 holds nothing now */
	wb_free(b);
}

/* 100000 random sources from one VM, IPv4 and IPv6: every frame still
 * leaves, the VM holds its per_mac share and no more, and VM1's and
 * VM2's entries stay live and keep getting their frames. */
static void test_spoof_flood(void)
{
	static const uint8_t vm3[6] = VM(3);
	struct wb *b = bridge(1024, 32);
	uint8_t f[128], ip6[16];
	unsigned passed = 0, n, i;
	uint64_t x = 88172645463325252ull, now = MS;
	char ip[64];
	size_t len;

	len = tcp4(f, lan, vm1, WV_VM1_4, WV_LAN4);
	CHECK(wb_out(b, f, len, now) == WB_PASS);
	inet_pton(AF_INET6, WV_VM2_6, ip6);
	len = tcp6(f, lan, vm2, ip6, WV_LAN6);
	CHECK(wb_out(b, f, len, now) == WB_PASS);
	for (i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (i & 1) {
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u",
				 (unsigned)(x >> 8 & 0xff) % 223 + 1,
				 (unsigned)(x >> 16 & 0xff),
				 (unsigned)(x >> 24 & 0xff),
				 (unsigned)(x >> 32 & 0xff));
			len = tcp4(f, lan, vm3, ip, WV_LAN4);
		} else {
			memcpy(ip6, &x, 8);
			memcpy(ip6 + 8, &x, 8);
			ip6[0] = 0xfd;
			len = tcp6(f, lan, vm3, ip6, WV_LAN6);
		}
		passed += wb_out(b, f, len, now + i) == WB_PASS;
	}
	CHECK(passed == 100000);
	CHECK(wb_stats(b)->table_full > 99000); /* all but a few unlearnable */
	CHECK(mac_find(b, vm3) && mac_find(b, vm3)->n == 32);
	CHECK(entry(b, WV_VM1_4, now, &n) && n == 34);
	CHECK(entry(b, WV_VM2_6, now, NULL));
	len = tcp4(f, adapter, lan, WV_LAN4, WV_VM1_4);
	CHECK(wb_in(b, f, len, now + i) == WB_PASS && !memcmp(f, vm1, 6));
	len = tcp6(f, adapter, lan, (const uint8_t[16]){0xfd}, WV_VM2_6);
	CHECK(wb_in(b, f, len, now + i) == WB_PASS && !memcmp(f, vm2, 6));
	CHECK(!wb_check(b));
	wb_free(b);
}

/* A full table refuses new addresses (counted) and evicts nothing live;
 * aging frees room and every MAC record with it. */
static void test_full_and_aging(void)
{
	struct wb *b = bridge(16, 4);
	uint8_t f[128], m[6] = VM(0);
	char ip[32];
	unsigned vm, k;
	size_t len;

	for (vm = 0; vm < 5; vm++)
		for (k = 0; k < 4; k++) {
			m[5] = (uint8_t)(vm + 1);
			snprintf(ip, sizeof(ip), "10.200.%u.%u", vm, k + 1);
			len = tcp4(f, lan, m, ip, WV_LAN4);
			CHECK(wb_out(b, f, len, MS) == WB_PASS);
		}
	CHECK(b->count == 16 && wb_stats(b)->table_full == 4);
	CHECK(!entry(b, "10.200.4.1", MS, NULL));
	CHECK(entry(b, "10.200.0.1", MS, NULL));
	CHECK(!wb_check(b));
	/* VM 1 keeps talking; everyone else ages out */
	len = tcp4(f, lan, (const uint8_t[6])VM(1), "10.200.0.1", WV_LAN4);
	CHECK(wb_out(b, f, len, AGING / 2) == WB_PASS);
	wb_age(b, AGING + MS);
	CHECK(b->count == 1 && b->nmacs == 1);
	CHECK(wb_stats(b)->aged == 15);
	CHECK(entry(b, "10.200.0.1", AGING + MS, NULL));
	CHECK(!wb_check(b));
	wb_age(b, 2 * AGING);
	CHECK(b->count == 0 && b->nmacs == 0);
	CHECK(!wb_check(b));
	wb_free(b);
}

/* An ACK teaches yiaddr → chaddr only for a MAC that asked through us. */
static void test_dhcp_learning(void)
{
	struct wb *b = bridge(64, 8);
	uint8_t f[1024];
	const struct wifi_vec *disc = vector("dhcp_discover_out"),
			      *ack = vector("dhcp_ack_in"),
			      *offer = vector("dhcp_offer_unicast_in");

	/* an offer unicast to the station reaches no one who did not ask */
	memcpy(f, offer->in, offer->len);
	CHECK(wb_in(b, f, offer->len, MS) == WB_DROP_UNKNOWN);
	memcpy(f, ack->in, ack->len);
	CHECK(wb_in(b, f, ack->len, MS) == WB_PASS);
	CHECK(!entry(b, WV_VM1_4, MS, NULL) && !b->nmacs);
	memcpy(f, disc->in, disc->len);
	CHECK(wb_out(b, f, disc->len, 2 * MS) == WB_PASS);
	CHECK(!entry(b, WV_VM1_4, 2 * MS, NULL) && b->nmacs == 1);
	memcpy(f, offer->in, offer->len);
	CHECK(wb_in(b, f, offer->len, 3 * MS) == WB_PASS && !memcmp(f, vm1, 6));
	/* the request's mark lasts the aging time */
	memcpy(f, ack->in, ack->len);
	CHECK(wb_in(b, f, ack->len, AGING + 3 * MS) == WB_PASS);
	CHECK(!entry(b, WV_VM1_4, AGING + 3 * MS, NULL));
	memcpy(f, offer->in, offer->len);
	CHECK(wb_in(b, f, offer->len, AGING + 3 * MS) == WB_DROP_UNKNOWN);
	wb_age(b, AGING + 3 * MS);
	CHECK(!b->nmacs);
	memcpy(f, disc->in, disc->len);
	CHECK(wb_out(b, f, disc->len, AGING + 4 * MS) == WB_PASS);
	memcpy(f, ack->in, ack->len);
	CHECK(wb_in(b, f, ack->len, AGING + 5 * MS) == WB_PASS);
	CHECK(entry(b, WV_VM1_4, AGING + 5 * MS, NULL) &&
	      entry(b, WV_VM1_4, AGING + 5 * MS, NULL)->how == WB_LEARN_DHCP);
	CHECK(!wb_check(b));
	wb_free(b);
}

/* A host address given after a VM learned it is the host's from then on;
 * an ARP probe (sender 0.0.0.0) learns nothing. */
static void test_host_and_probe(void)
{
	struct wb *b = bridge(64, 8);
	struct wb_addr h = addr("10.200.7.33");
	uint8_t f[128] = {0};
	size_t len;

	len = tcp4(f, lan, vm1, "10.200.7.33", WV_LAN4);
	CHECK(wb_out(b, f, len, MS) == WB_PASS);
	CHECK(entry(b, "10.200.7.33", MS, NULL));
	wb_host_addrs(b, &h, 1);
	CHECK(!entry(b, "10.200.7.33", MS, NULL) && !b->count);
	len = tcp4(f, adapter, lan, WV_LAN4, "10.200.7.33");
	CHECK(wb_in(b, f, len, 2 * MS) == WB_DROP_HOST);
	len = tcp4(f, lan, vm1, "10.200.7.33", WV_LAN4);
	CHECK(wb_out(b, f, len, 3 * MS) == WB_DROP_HOST);
	/* ARP probe: who-has 10.200.7.40, from 0.0.0.0 */
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, vm1, 6);
	memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f + 22, vm1, 6);
	inet_pton(AF_INET, "10.200.7.40", f + 38);
	CHECK(wb_out(b, f, 42, 4 * MS) == WB_PASS);
	CHECK(!memcmp(f + 22, adapter, 6) && !b->count);
	CHECK(!wb_check(b));
	wb_free(b);
}

static void test_params(void)
{
	struct wb_params p = {.adapter_mac = WV_ADAPTER,
			      .max_entries = 16,
			      .per_mac = 64,
			      .aging_ns = 1};
	struct wb_params q;
	struct wb *b;
	unsigned i, j;

	b = wb_new(&p);
	CHECK(b && b->p.per_mac == 16 && b->mask + 1 >= 32);
	/* each instance hashes with its own seed */
	{
		struct wb *c = wb_new(&p);

		CHECK(c && (c->k0 != b->k0 || c->k1 != b->k1));
		wb_free(c);
	}
	wb_free(b);
	q = p, q.max_entries = 0;
	CHECK(!wb_new(&q));
	q = p, q.per_mac = 0;
	CHECK(!wb_new(&q));
	q = p, q.aging_ns = 0;
	CHECK(!wb_new(&q));
	q = p, memset(q.adapter_mac, 0, 6);
	CHECK(!wb_new(&q));
	q = p, q.adapter_mac[0] = 1;
	CHECK(!wb_new(&q));
	CHECK(!wb_new(NULL));
	wb_free(NULL);
	for (i = 0; i < WB_VERDICTS; i++)
		for (j = 0; j < i; j++)
			CHECK(strcmp(wb_reason(i), wb_reason(j)));
}

int main(void)
{
	TEST(test_vectors);
	TEST(test_two_vms_one_address);
	TEST(test_spoof_flood);
	TEST(test_full_and_aging);
	TEST(test_dhcp_learning);
	TEST(test_host_and_probe);
	TEST(test_params);
	return unit_failed_total ? 1 : 0;
}
