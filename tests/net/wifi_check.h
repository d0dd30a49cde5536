/*
 * The Wi-Fi bridge's table invariants, for tests that compile
 * plugins/wifi-bridge/xlate.c into themselves (test_wifi_xlate.c,
 * fuzz_wifi.c): every entry reachable from its home slot and unique, every
 * entry's MAC with a record whose count is exact and within per_mac, the
 * counters right, the table within max_entries.
 */
#ifndef HV_TESTS_WIFI_CHECK_H
#define HV_TESTS_WIFI_CHECK_H

#include <stdlib.h>

/* Can a probe from home reach i without crossing a free slot? */
static int wbc_reach(unsigned home, unsigned i, unsigned mask, const void *base,
		     size_t size, size_t used_off)
{
	for (unsigned k = home; k != i; k = (k + 1) & mask)
		if (!*((const char *)base + k * size + used_off))
			return 0;
	return 1;
}

/* NULL, or the first invariant b breaks. */
static const char *wb_check(const struct wb *b)
{
	unsigned slots = b->mask + 1, used = 0, macs = 0, i;
	unsigned *tally = calloc(slots, sizeof(*tally));
	const char *bad = NULL;

	if (!tally)
		return "out of memory";
	for (i = 0; i < slots && !bad; i++) {
		const struct slot *s = &b->slot[i];
		const struct macrec *r;

		if (!s->used)
			continue;
		used++;
		if (!wbc_reach(addr_home(b, &s->e.addr), i, b->mask, b->slot,
			       sizeof(*s), offsetof(struct slot, used)))
			bad = "an entry its probe cannot reach";
		else if (slot_probe(b, &s->e.addr) != i)
			bad = "an address in two entries";
		else if (!(r = mac_find(b, s->e.mac)))
			bad = "an entry whose MAC has no record";
		else
			tally[r - b->mac]++;
	}
	if (!bad && used != b->count)
		bad = "the entry count is wrong";
	if (!bad && b->count > b->p.max_entries)
		bad = "more entries than max_entries";
	for (i = 0; i < slots && !bad; i++) {
		const struct macrec *r = &b->mac[i];

		if (!r->used)
			continue;
		macs++;
		if (!wbc_reach(mac_home(b, r->mac), i, b->mask, b->mac,
			       sizeof(*r), offsetof(struct macrec, used)))
			bad = "a MAC record its probe cannot reach";
		else if (mac_find(b, r->mac) != r)
			bad = "a MAC in two records";
		else if (tally[i] != r->n)
			bad = "a MAC record's count is wrong";
		else if (r->n > b->p.per_mac)
			bad = "a MAC over its per_mac share";
		else if (!r->n && !r->dhcp_ns)
			bad = "an empty MAC record";
	}
	if (!bad && macs != b->nmacs)
		bad = "the MAC record count is wrong";
	free(tally);
	return bad;
}

#endif
