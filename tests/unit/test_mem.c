/* Guest memory: every access checked as a whole, never outside a region. */
#include <errno.h>

#include "mem.h"
#include "unit.h"

static void bounds(void)
{
	struct mem_map m = { 0 };
	uint8_t buf[64] = { 1, 2, 3 };

	CHECK(mem_add_ram(&m, "low", 0, 1 << 20) == 0);
	CHECK(mem_add_ram(&m, "high", 4ull << 30, 1 << 20) == 0);
	CHECK(mem_write(&m, 0x1000, buf, 3) == 0);
	CHECK(mem_read(&m, (1 << 20) - 32, buf, 32) == 0);
	CHECK(mem_read(&m, (1 << 20) - 32, buf, 33) == -EFAULT);
	CHECK(mem_read(&m, ~0ull - 4, buf, 16) == -EFAULT); /* wraps */
	CHECK(mem_write(&m, (4ull << 30) - 1, buf, 2) == -EFAULT);
	CHECK(mem_ptr(&m, (1 << 20) - 8, 8, 0) != NULL);
	CHECK(mem_ptr(&m, (1 << 20) - 8, 9, 0) == NULL);
	CHECK(mem_ptr(&m, 2 << 20, 1, 0) == NULL);
	CHECK(mem_ptr(&m, 0, 0, 0) == NULL);
	CHECK(mem_add_ram(&m, "overlap", 0x80000, 4096) == -EINVAL);
	CHECK(mem_add_ram(&m, "unaligned", 0x200100, 4096) == -EINVAL);
	mem_destroy(&m);
}

static void failed_copy_changes_nothing(void)
{
	struct mem_map m = { 0 };
	uint8_t in[16], out[16];

	mem_add_ram(&m, "ram", 0, 1 << 16);
	memset(in, 0xaa, sizeof(in));
	memset(out, 0x55, sizeof(out));
	mem_write(&m, (1 << 16) - 8, out, 8);
	CHECK(mem_write(&m, (1 << 16) - 8, in, 16) == -EFAULT);
	CHECK(mem_read(&m, (1 << 16) - 8, out, 8) == 0 && out[0] == 0x55);
	mem_destroy(&m);
}

static void spans_adjacent_regions(void)
{
	struct mem_map m = { 0 };
	uint8_t in[8192], out[8192];

	mem_add_ram(&m, "a", 0, 4096);
	mem_add_ram(&m, "b", 4096, 4096);
	for (int i = 0; i < 8192; i++)
		in[i] = (uint8_t)i;
	CHECK(mem_write(&m, 0, in, 8192) == 0);
	CHECK(mem_read(&m, 0, out, 8192) == 0 && !memcmp(in, out, 8192));
	CHECK(mem_ptr(&m, 4000, 200, 0) == NULL); /* not one mapping */
	mem_destroy(&m);
}

static int hook_calls;
static void hook(void *o, uint64_t gpa, uint64_t len) { hook_calls++; }

static void rom_is_read_only(void)
{
	struct mem_map m = { 0 };
	uint8_t rom[4] = { 0xea, 1, 2, 3 }, b = 0;

	mem_add_rom(&m, "bios", 0xf0000, rom, sizeof(rom));
	m.write_hook = hook;
	CHECK(mem_read(&m, 0xf0000, &b, 1) == 0 && b == 0xea);
	CHECK(mem_write(&m, 0xf0000, &b, 1) == -EFAULT);
	CHECK(mem_ptr(&m, 0xf0000, 1, MEM_WRITE) == NULL);
	CHECK(mem_load(&m, 0xf0001, &b, 1) == 0);
	mem_add_ram(&m, "ram", 0, 4096);
	CHECK(mem_ptr(&m, 0, 16, MEM_WRITE) != NULL && hook_calls >= 1);
	mem_destroy(&m);
}

int main(void)
{
	TEST(bounds);
	TEST(failed_copy_changes_nothing);
	TEST(spans_adjacent_regions);
	TEST(rom_is_read_only);
	return 0;
}
