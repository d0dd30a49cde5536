/* SPDX-License-Identifier: MIT */
/*
 * The fixed GUIDs of MS-VHDX and the GUID text form. A GUID is stored as
 * Windows does: Data1, Data2, Data3 little-endian, Data4 as bytes, so
 * "2DC27766-F623-4200-9D64-115E9BFD4A08" is 66 77 C2 2D 23 F6 00 42 9D 64
 * ... on disk. tests/unit/test_vhdx_guid.c compares every constant here
 * with the specification's text.
 */
#include "vhdx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define G(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                         \
	{                                                                  \
		{                                                          \
			(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, \
				(a) >> 24, (b)&0xff, (b) >> 8, (c)&0xff,   \
				(c) >> 8, d0, d1, d2, d3, d4, d5, d6, d7   \
		}                                                          \
	}

/* region table (MS-VHDX 2.2.3.2) */
const guid_t GUID_BAT = G(0x2DC27766u, 0xF623, 0x4200, 0x9D, 0x64, 0x11, 0x5E,
			  0x9B, 0xFD, 0x4A, 0x08);
const guid_t GUID_METADATA = G(0x8B7CA206u, 0x4790, 0x4B9A, 0xB8, 0xFE, 0x57,
			       0x5F, 0x05, 0x0F, 0x88, 0x6E);
/* metadata items (MS-VHDX 2.6.2) */
const guid_t GUID_FILE_PARAMS = G(0xCAA16737u, 0xFA36, 0x4D43, 0xB3, 0xB6, 0x33,
				  0xF0, 0xAA, 0x44, 0xE7, 0x6B);
const guid_t GUID_VSIZE = G(0x2FA54224u, 0xCD1B, 0x4876, 0xB2, 0x11, 0x5D, 0xBE,
			    0xD8, 0x3B, 0xF4, 0xB8);
const guid_t GUID_DISK_ID = G(0xBECA12ABu, 0xB2E6, 0x4523, 0x93, 0xEF, 0xC3,
			      0x09, 0xE0, 0x00, 0xC7, 0x46);
const guid_t GUID_LSS = G(0x8141BF1Du, 0xA96F, 0x4709, 0xBA, 0x47, 0xF2, 0x33,
			  0xA8, 0xFA, 0xAB, 0x5F);
const guid_t GUID_PSS = G(0xCDA348C7u, 0x445D, 0x4471, 0x9C, 0xC9, 0xE9, 0x88,
			  0x52, 0x51, 0xC5, 0x56);
const guid_t GUID_PARENT_LOC = G(0xA8D35F2Du, 0xB30B, 0x454D, 0xAB, 0xF7, 0xD3,
				 0xD8, 0x48, 0x34, 0xAB, 0x0C);
/* hv before this was fixed wrote the parent locator under a mistyped GUID
 * (…F2B for …F2D); such files are still read, and check -r fixes them */
const guid_t GUID_PARENT_LOC_OLD = G(0xA8D35F2Bu, 0xB30B, 0x454D, 0xAB, 0xF7,
				     0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C);
/* the locator type of a VHDX parent (MS-VHDX 2.6.2.6.1) */
const guid_t GUID_LOC_TYPE = G(0xB04AEFB7u, 0xD19E, 0x4A81, 0xB7, 0x89, 0x25,
			       0xB8, 0xE9, 0x44, 0x59, 0x13);

void guid_random(guid_t *g)
{
	if (getrandom(g->b, sizeof(g->b), 0) != (ssize_t)sizeof(g->b))
		for (size_t i = 0; i < sizeof(g->b); i++)
			g->b[i] = (uint8_t)rand();
	g->b[7] = (g->b[7] & 0x0f) | 0x40; /* version 4 */
	g->b[8] = (g->b[8] & 0x3f) | 0x80;
}

int guid_is_zero(const guid_t *g)
{
	static const guid_t z;
	return !memcmp(g, &z, sizeof(z));
}

/* Lower case in braces, as Windows writes parent_linkage: libvhdi
 * refuses upper-case hex digits there. */
void guid_format(const guid_t *g, char *buf)
{
	const uint8_t *b = g->b;

	sprintf(buf,
		"{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
		"02x%02x}",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
		b[10], b[11], b[12], b[13], b[14], b[15]);
}

int guid_parse(const char *s, guid_t *g)
{
	static const int pos[16] = {3, 2, 1,  0,  5,  4,  7,  6,
				    8, 9, 10, 11, 12, 13, 14, 15};
	int k = 0;

	if (*s == '{')
		s++;
	while (*s && *s != '}' && k < 32) {
		int v;
		if (*s == '-') {
			s++;
			continue;
		}
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (k & 1)
			g->b[pos[k / 2]] |= (uint8_t)v;
		else
			g->b[pos[k / 2]] = (uint8_t)(v << 4);
		k++;
		s++;
	}
	return k == 32 ? 0 : -1;
}
