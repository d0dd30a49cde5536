/*
 * Every fixed GUID of the VHDX plugin against the text MS-VHDX prints
 * (2.2.3.2 Known Regions, 2.6.2 Known Metadata Items, 2.6.2.6 Parent
 * Locator), encoded here from the text, independently of guid.c: Data1,
 * Data2, Data3 little-endian, then Data4's eight bytes in order. The VHD
 * plugin has no fixed GUIDs (its identifiers are random per file).
 * Linked with plugins/vhdx/guid.c (tests/disk/extra.mk).
 */
#include <ctype.h>

#include "../../plugins/vhdx/vhdx.h"
#include "unit.h"

static const struct {
	const char *name, *text;
	const guid_t *code;
} known[] = {
	{"BAT region", "2DC27766-F623-4200-9D64-115E9BFD4A08", &GUID_BAT},
	{"metadata region", "8B7CA206-4790-4B9A-B8FE-575F050F886E",
	 &GUID_METADATA},
	{"File Parameters", "CAA16737-FA36-4D43-B3B6-33F0AA44E76B",
	 &GUID_FILE_PARAMS},
	{"Virtual Disk Size", "2FA54224-CD1B-4876-B211-5DBED83BF4B8",
	 &GUID_VSIZE},
	{"Page 83 Data", "BECA12AB-B2E6-4523-93EF-C309E000C746", &GUID_DISK_ID},
	{"Logical Sector Size", "8141BF1D-A96F-4709-BA47-F233A8FAAB5F",
	 &GUID_LSS},
	{"Physical Sector Size", "CDA348C7-445D-4471-9CC9-E9885251C556",
	 &GUID_PSS},
	{"Parent Locator", "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C",
	 &GUID_PARENT_LOC},
	{"VHDX parent locator type", "B04AEFB7-D19E-4A81-B789-25B8E9445913",
	 &GUID_LOC_TYPE},
};

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0'
					 : tolower((unsigned char)c) - 'a' + 10;
}

/* "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" -> on-disk bytes; -1 if malformed */
static int encode(const char *t, uint8_t out[16])
{
	static const int group[5] = {8, 4, 4, 4, 12};
	uint8_t be[16];
	int n = 0;

	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < group[g]; i += 2, t += 2) {
			if (!isxdigit((unsigned char)t[0]) ||
			    !isxdigit((unsigned char)t[1]))
				return -1;
			be[n++] = (uint8_t)(hexval(t[0]) << 4 | hexval(t[1]));
		}
		if (*t++ != (g == 4 ? 0 : '-'))
			return -1;
	}
	/* Data1 (4 bytes), Data2, Data3 (2 each) are stored little-endian */
	static const int order[16] = {3, 2, 1,	0,  5,	4,  7,	6,
				      8, 9, 10, 11, 12, 13, 14, 15};
	for (int i = 0; i < 16; i++)
		out[i] = be[order[i]];
	return 0;
}

static void constants_match_spec(void)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint8_t want[16];
		CHECK(encode(known[i].text, want) == 0);
		if (memcmp(want, known[i].code->b, 16)) {
			printf("# %s: code has ", known[i].name);
			for (int k = 0; k < 16; k++)
				printf("%02x", known[i].code->b[k]);
			printf(", spec text %s\n", known[i].text);
			unit_case_failed = 1;
		}
	}
}

static void constants_distinct(void)
{
	size_t n = sizeof(known) / sizeof(known[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			CHECK(memcmp(known[i].code, known[j].code, 16) != 0);
	/* the legacy spelling is one byte off the right one, never equal */
	CHECK(memcmp(&GUID_PARENT_LOC_OLD, &GUID_PARENT_LOC, 16) != 0);
	CHECK(!memcmp(GUID_PARENT_LOC_OLD.b + 1, GUID_PARENT_LOC.b + 1, 15));
}

/* The plugin's own text parser and formatter agree with the encoding. */
static void parse_and_format_round_trip(void)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		guid_t g;
		char buf[40], braced[40];
		CHECK(guid_parse(known[i].text, &g) == 0);
		CHECK(!memcmp(&g, known[i].code, 16));
		guid_format(known[i].code, buf);
		/* braced lower case: what Windows writes and libvhdi reads */
		snprintf(braced, sizeof(braced), "{%s}", known[i].text);
		for (char *c = braced; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		CHECK(!strcmp(buf, braced));
		CHECK(guid_parse(braced, &g) == 0);
		CHECK(!memcmp(&g, known[i].code, 16));
	}
	guid_t g;
	CHECK(guid_parse("2DC27766-F623-4200-9D64-115E9BFD4A0", &g) != 0);
	CHECK(guid_parse("2DC27766-F623-4200-9D64-115E9BFD4AXY", &g) != 0);
}

int main(void)
{
	TEST(constants_match_spec);
	TEST(constants_distinct);
	TEST(parse_and_format_round_trip);
	return 0;
}
