/*
 * The Linux loaders without vCPUs: a bzImage through the boot protocol
 * (zero page, command line, initrd, e820, RSDP, entry state), PVH
 * (hvm_start_info, memory map, module, entry note), a bzImage's payload
 * unpacked on the host, and one-line errors for files that are not
 * kernels, too old, truncated or corrupt. Debian's own kernel from /boot is
 * used too when it is installed.
 */
#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "boot.h"
#include "check.h"
#include "config.h"
#include "pc/pc.h"
#include "plugin.h"
#include "unit.h"
#include "vm.h"

static char tmp[64];

struct harness {
	struct config cfg;
	struct plugin_set set;
	struct vm vm;
	int rc;
};

/* Build a VM from [vm] keys, load the kernel; the captured stderr. */
static const char *load(struct harness *h, const char *vmkeys)
{
	char ini[1024], dir[512];

	memset(h, 0, sizeof(*h));
	h->rc = -1;
	snprintf(ini, sizeof(ini), "[vm]\n%s%s", strstr(vmkeys, "memory") ? "" : "memory = 256M\n",
		 vmkeys);
	snprintf(dir, sizeof(dir), "%s/plugins", unit_build_dir());
	unit_capture_begin();
	plugin_load_path(&h->set, dir);
	if (!config_load_string(&h->cfg, "t.ini", ini) &&
	    !config_validate(&h->cfg, &h->set) &&
	    !vm_init(&h->vm, &h->cfg, &h->set, &accel_kvm) &&
	    !pc_power_on(&h->vm))
		h->rc = boot_load(&h->vm);
	return unit_capture_end();
}

static void unload(struct harness *h)
{
	if (h->vm.loop)
		vm_destroy(&h->vm);
	config_free(&h->cfg);
	plugin_set_free(&h->set);
}

static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", tmp, name);
	f = fopen(p, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return p;
}

/* A minimal bzImage: setup header of the given protocol, a payload. */
static size_t fake_bzimage(uint8_t *img, size_t cap, uint16_t ver,
			   const uint8_t *payload, size_t plen)
{
	size_t setup = 5 * 512;
	uint32_t init_size = 8 << 20, off = 0;

	memset(img, 0, cap);
	img[0x1f1] = 4;
	img[0x1fe] = 0x55, img[0x1ff] = 0xaa;
	img[0x201] = 0x66; /* jump: header runs to 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	memcpy(img + 0x206, &ver, 2);
	img[0x211] = 1;                                  /* LOADED_HIGH */
	memcpy(img + 0x22c, &(uint32_t){ 0x7fffffff }, 4); /* initrd_addr_max */
	memcpy(img + 0x230, &(uint32_t){ 0x200000 }, 4);   /* kernel_alignment */
	img[0x234] = 1;                                  /* relocatable */
	memcpy(img + 0x236, &(uint16_t){ 0x7f }, 2);       /* XLF_KERNEL_64 ... */
	memcpy(img + 0x238, &(uint32_t){ 2047 }, 4);       /* cmdline_size */
	memcpy(img + 0x248, &off, 4);
	memcpy(img + 0x24c, &(uint32_t){ (uint32_t)plen }, 4);
	memcpy(img + 0x258, &(uint64_t){ 0x1000000 }, 8);
	memcpy(img + 0x260, &init_size, 4);
	memcpy(img + setup, payload, plen);
	/* syssize, and the file padded to it as the kernel's build tool does */
	memcpy(img + 0x1f4, &(uint32_t){ (uint32_t)((plen + 15) / 16) }, 4);
	return setup + (plen + 15) / 16 * 16;
}

static void not_a_kernel(void)
{
	struct harness h;
	char keys[256];
	const char *p = write_file("text", "hello, world\n", 13), *e;

	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = linux\n", p);
	e = load(&h, keys);
	CHECK(h.rc == -EINVAL);
	CHECK_CONTAINS(e, "text: not an ELF file");
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n", p);
	e = load(&h, keys);
	CHECK(h.rc == -EINVAL);
	CHECK_CONTAINS(e, "text: not an ELF file");
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\ninitrd = %s\n", p, p);
	e = load(&h, keys);
	CHECK(h.rc == -EINVAL);
	CHECK_CONTAINS(e, "initrd = needs kernel_format = linux or pvh (the image is flat)");
	unload(&h);
}

static void old_protocol_and_truncated(void)
{
	static uint8_t img[8192];
	struct harness h;
	char keys[256];
	size_t n = fake_bzimage(img, sizeof(img), 0x0204, (const uint8_t *)"x", 1);
	const char *p = write_file("old", img, n), *e;

	snprintf(keys, sizeof(keys), "kernel = %s\n", p);
	e = load(&h, keys);
	CHECK(h.rc == -EINVAL);
	CHECK_CONTAINS(e, "old: Linux boot protocol 2.04 is too old (hv needs 2.06)");
	unload(&h);
	n = fake_bzimage(img, sizeof(img), 0x020f, (const uint8_t *)"x", 1);
	p = write_file("trunc", img, 0x300);
	snprintf(keys, sizeof(keys), "kernel = %s\n", p);
	e = load(&h, keys);
	CHECK(h.rc < 0);
	CHECK_CONTAINS(e, "trunc: truncated bzImage: 2560 bytes of setup code, the file has 768");
	unload(&h);
	/* a payload that is not compressed data */
	p = write_file("badpayload", img, n);
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n", p);
	e = load(&h, keys);
	CHECK(h.rc == -EINVAL);
	CHECK_CONTAINS(e, "badpayload: unknown payload: payload too short");
	unload(&h);
}

static void bzimage_boot_protocol(void)
{
	static uint8_t img[16384];
	static uint8_t rd[10000];
	struct harness h;
	char keys[512];
	uint8_t zp[4096], cl[64];
	size_t n = fake_bzimage(img, sizeof(img), 0x020f, (const uint8_t *)"\xf4kernel", 7);
	const char *k = write_file("bz", img, n), *r;
	struct x86_state *st;
	uint32_t u32, rd_at;
	uint64_t rsdp;

	memset(rd, 0x5a, sizeof(rd));
	r = write_file("initrd", rd, sizeof(rd));
	snprintf(keys, sizeof(keys), "kernel = %s\ninitrd = %s\ncmdline = console=ttyS0 quiet\n", k, r);
	load(&h, keys);
	CHECK(h.rc == 0);
	st = &h.vm.cpu[0].boot;
	CHECK(st->rip == 0x1000200 && st->gpr[X86_RSI] == 0x7000);
	CHECK(st->efer & X86_EFER_LMA && st->cr0 & X86_CR0_PG);
	mem_read(&h.vm.mem, 0x7000, zp, sizeof(zp));
	CHECK(!memcmp(zp + 0x202, "HdrS", 4) && zp[0x210] == 0xff);
	memcpy(&u32, zp + 0x228, 4);
	mem_read(&h.vm.mem, u32, cl, 23);
	CHECK(!memcmp(cl, "console=ttyS0 quiet", 20));
	memcpy(&rd_at, zp + 0x218, 4);
	memcpy(&u32, zp + 0x21c, 4);
	CHECK(u32 == sizeof(rd) && rd_at % 4096 == 0);
	CHECK(rd_at + sizeof(rd) <= 256u << 20 && rd_at >= 0x1000000 + (8 << 20));
	CHECK(mem_ptr(&h.vm.mem, rd_at, 1, 0) && *(uint8_t *)mem_ptr(&h.vm.mem, rd_at, 1, 0) == 0x5a);
	CHECK(zp[0x1e8] >= 4);                            /* e820 entries */
	memcpy(&rsdp, zp + 0x70, 8);
	CHECK(rsdp == PC_ACPI_BASE);
	CHECK(*(uint8_t *)mem_ptr(&h.vm.mem, 0x1000000, 1, 0) == 0xf4);
	unload(&h);
	/* too little memory for init_size */
	snprintf(keys, sizeof(keys), "kernel = %s\nmemory = 16M\n", k);
	CHECK_CONTAINS(load(&h, keys), "bz: the kernel needs 8 MiB of RAM from 0x1000000; raise memory");
	unload(&h);
	/* an initrd that does not fit between the kernel and the end of RAM */
	static uint8_t big[2 << 20];
	r = write_file("bigrd", big, sizeof(big));
	snprintf(keys, sizeof(keys), "kernel = %s\ninitrd = %s\nmemory = 25M\n", k, r);
	CHECK_CONTAINS(load(&h, keys), "bigrd: the initrd (2048 KiB) does not fit in guest RAM");
	CHECK(h.rc == -ENOMEM);
	unload(&h);
	/* a command line longer than the kernel's cmdline_size */
	memcpy(img + 0x238, &(uint32_t){ 40 }, 4);
	k = write_file("bz40", img, n);
	snprintf(keys, sizeof(keys), "kernel = %s\ncmdline = %s\n", k,
		 "0123456789012345678901234567890123456789-too-long");
	CHECK_CONTAINS(load(&h, keys), "cmdline: 49 bytes; this kernel takes at most 40");
	unload(&h);
}

/* An ELF64 with one PT_LOAD at 16 MiB and optionally a PVH note. */
static size_t fake_elf(uint8_t *img, int with_note)
{
	Elf64_Ehdr *e = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*e));
	uint32_t note[3 + 1 + 1] = { 4, 4, 18, 0, 0x1000123 };

	memset(img, 0, 4096);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_machine = EM_X86_64;
	e->e_entry = 0x1000100;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(*ph);
	e->e_phnum = with_note ? 2 : 1;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 1024, .p_paddr = 0x1000000,
			      .p_filesz = 512, .p_memsz = 0x10000 };
	memcpy(note + 3, "Xen", 4);
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 2048, .p_filesz = sizeof(note) };
	memcpy(img + 2048, note, sizeof(note));
	memset(img + 1024, 0xcc, 512);
	return 4096;
}

static void pvh_start_info(void)
{
	static uint8_t img[4096];
	struct harness h;
	char keys[512];
	const char *k, *r = write_file("rd2", "RAMDISK", 7);
	struct x86_state *st;
	uint32_t si[14];
	uint64_t mm[3];

	k = write_file("elfpvh", img, fake_elf(img, 1));
	snprintf(keys, sizeof(keys), "kernel = %s\ninitrd = %s\ncmdline = hello\n", k, r);
	load(&h, keys); /* auto: an ELF with the note is PVH */
	CHECK(h.rc == 0);
	st = &h.vm.cpu[0].boot;
	CHECK(st->rip == 0x1000123 && st->cr0 == (X86_CR0_PE | X86_CR0_ET));
	CHECK(!(st->efer & X86_EFER_LME) && st->seg[X86_CS].db);
	mem_read(&h.vm.mem, st->gpr[X86_RBX], si, sizeof(si));
	CHECK(si[0] == 0x336ec578 && si[1] == 1 && si[3] == 1);
	uint64_t mods, cmd, rsdp, mmap;
	memcpy(&mods, si + 4, 8), memcpy(&cmd, si + 6, 8);
	memcpy(&rsdp, si + 8, 8), memcpy(&mmap, si + 10, 8);
	CHECK(rsdp == PC_ACPI_BASE && si[12] >= 4);
	char c[6] = { 0 };
	mem_read(&h.vm.mem, cmd, c, 6);
	CHECK(!strcmp(c, "hello"));
	uint64_t mod[2];
	mem_read(&h.vm.mem, mods, mod, 16);
	CHECK(mod[1] == 7 && !memcmp(mem_ptr(&h.vm.mem, mod[0], 7, 0), "RAMDISK", 7));
	mem_read(&h.vm.mem, mmap, mm, 24);
	CHECK(mm[0] == 0 && mm[1] == PC_EBDA && (uint32_t)mm[2] == E820_RAM);
	/* bss zeroed, data loaded */
	CHECK(*(uint8_t *)mem_ptr(&h.vm.mem, 0x1000000, 1, 0) == 0xcc);
	CHECK(*(uint8_t *)mem_ptr(&h.vm.mem, 0x1000200, 1, 0) == 0);
	unload(&h);
	/* no note: pvh refuses, linux enters the vmlinux in long mode */
	k = write_file("elf", img, fake_elf(img, 0));
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n", k);
	CHECK_CONTAINS(load(&h, keys), "elf: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\n", k);
	load(&h, keys);
	CHECK(h.rc == 0 && h.vm.cpu[0].boot.rip == 0x1000100 &&
	      h.vm.cpu[0].boot.gpr[X86_RSI] == 0x7000);
	unload(&h);
	/* a segment outside the file, one outside RAM */
	fake_elf(img, 0);
	((Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)))->p_filesz = 1 << 20;
	k = write_file("elfbad", img, 4096);
	snprintf(keys, sizeof(keys), "kernel = %s\n", k);
	CHECK_CONTAINS(load(&h, keys), "elfbad: truncated ELF image: segment 0 (bytes 1024..1049600) runs past the file's end (4096)");
	unload(&h);
	fake_elf(img, 0);
	((Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)))->p_paddr = 0x7ffff000ull;
	k = write_file("elfhigh", img, 4096);
	snprintf(keys, sizeof(keys), "kernel = %s\n", k);
	CHECK_CONTAINS(load(&h, keys), "elfhigh: segment at 0x7ffff000 (64 KiB) does not fit in guest RAM");
	unload(&h);
}

static void gzip_payload_unpacked(void)
{
	static uint8_t elf[4096], gz[8192], img[16384];
	struct harness h;
	char keys[256];
	z_stream z = { 0 };
	size_t n, glen, el = fake_elf(elf, 1);
	uint32_t size = (uint32_t)el;

	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = elf, z.avail_in = (uInt)el;
	z.next_out = gz, z.avail_out = sizeof(gz) - 4;
	deflate(&z, Z_FINISH);
	n = z.total_out;
	deflateEnd(&z);
	memcpy(gz + n, &size, 4);
	glen = n + 4;
	n = fake_bzimage(img, sizeof(img), 0x020f, gz, glen);
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n",
		 write_file("bzgz", img, n));
	load(&h, keys);
	CHECK(h.rc == 0 && h.vm.cpu[0].boot.rip == 0x1000123);
	unload(&h);
	gz[20] ^= 0xff; /* corrupt the deflate stream */
	n = fake_bzimage(img, sizeof(img), 0x020f, gz, glen);
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n",
		 write_file("bzgzbad", img, n));
	CHECK_CONTAINS(load(&h, keys), "bzgzbad: gzip payload: corrupt compressed payload");
	unload(&h);
}

/* Exactly one line, and it holds msg. */
#define CHECK_ONE_LINE(out, msg)                                               \
	do {                                                                   \
		const char *o1_ = (out), *nl_ = strchr(o1_, '\n');             \
		CHECK_CONTAINS(o1_, msg);                                      \
		CHECK(nl_ && !nl_[1]);                                         \
	} while (0)

/* Kernels and initrds no loader can take: refused by config_validate (so
 * `hv check` too), in one line naming the file. */
static void not_regular_or_empty(void)
{
	static uint8_t img[8192];
	struct harness h;
	char keys[512], dir[128], fifo[128];
	size_t n = fake_bzimage(img, sizeof(img), 0x020f, (const uint8_t *)"payload", 7);
	const char *bz = write_file("good", img, n), *empty = write_file("empty", "", 0);
	struct {
		const char *kernel, *initrd, *msg;
	} cases[] = {
		{ dir, NULL, "/dir: a directory, not a file hv can boot from" },
		{ fifo, NULL, "/fifo: a FIFO, not a file hv can boot from" },
		{ "/dev/null", NULL, "/dev/null: a character device, not a file hv can boot from" },
		{ empty, NULL, "/empty: the file is empty" },
		{ bz, dir, "/dir: a directory, not a file hv can boot from" },
		{ bz, fifo, "/fifo: a FIFO, not a file hv can boot from" },
		{ bz, empty, "/empty: the file is empty" },
	};

	snprintf(dir, sizeof(dir), "%s/dir", tmp);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
	CHECK(!mkdir(dir, 0755) && !mkfifo(fifo, 0644));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int k = snprintf(keys, sizeof(keys), "kernel = %s\n", cases[i].kernel);

		if (cases[i].initrd)
			snprintf(keys + k, sizeof(keys) - k, "initrd = %s\n", cases[i].initrd);
		CHECK_ONE_LINE(load(&h, keys), cases[i].msg);
		CHECK(h.rc < 0 && !h.vm.loop); /* refused before a VM exists */
		unload(&h);
	}
	snprintf(keys, sizeof(keys), "kernel = %s\ninitrd = %s\n", bz, bz);
	load(&h, keys);
	CHECK(h.rc == 0);
	unload(&h);
}

/* A bzImage or ELF cut short: refused, never taken for a flat binary. */
static void truncated_images(void)
{
	static uint8_t img[16384], pay[1000], elf[4096];
	struct harness h;
	char keys[256];
	size_t n;
	const char *k;
	struct {
		const char *name;
		size_t len;
		const char *fmt, *msg;
	} cases[] = {
		{ "hdr", 0x250, "auto", "hdr: truncated bzImage: the setup header runs past the file's end" },
		{ "setup", 2048, "auto", "setup: truncated bzImage: 2560 bytes of setup code, the file has 2048" },
		{ "sys", 2560 + 992, "auto", "sys: truncated bzImage: the kernel after the setup code is 1008 bytes, the file holds 992" },
		{ "sys2", 2560 + 500, "linux", "sys2: truncated bzImage: the kernel after the setup code is 1008 bytes, the file holds 500" },
		{ "sys3", 2560 + 500, "pvh", "sys3: truncated bzImage: the kernel after the setup code is 1008 bytes" },
	};

	memset(pay, 0x90, sizeof(pay));
	n = fake_bzimage(img, sizeof(img), 0x020f, pay, sizeof(pay));
	CHECK(n == 2560 + 1008);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = write_file(cases[i].name, img, cases[i].len);
		snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = %s\n", k, cases[i].fmt);
		CHECK_ONE_LINE(load(&h, keys), cases[i].msg);
		CHECK(h.rc < 0);
		unload(&h);
	}
	/* syssize in bounds, the payload the header names is not */
	memcpy(img + 0x24c, &(uint32_t){ 1009 }, 4);
	snprintf(keys, sizeof(keys), "kernel = %s\n", write_file("pay", img, n));
	CHECK_ONE_LINE(load(&h, keys), "pay: truncated bzImage: the compressed payload ends at byte 3569, past the file's end (3568)");
	unload(&h);
	/* kernel_format = flat takes the bytes as they are */
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = flat\nload_addr = 0x100000\n",
		 write_file("flat", img, 2048));
	load(&h, keys);
	CHECK(h.rc == 0);
	unload(&h);
	/* ELF: header, program headers, a segment past the end */
	fake_elf(elf, 1);
	snprintf(keys, sizeof(keys), "kernel = %s\n", write_file("eh", elf, 40));
	CHECK_ONE_LINE(load(&h, keys), "eh: truncated ELF image: the ELF header runs past the file's end");
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\n", write_file("ph", elf, 100));
	CHECK_ONE_LINE(load(&h, keys), "ph: truncated ELF image: 2 program headers at byte 64 run past the file's end (100)");
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = linux\n", write_file("seg", elf, 1200));
	CHECK_ONE_LINE(load(&h, keys), "seg: truncated ELF image: segment 0 (bytes 1024..1536) runs past the file's end (1200)");
	unload(&h);
}

/* boot_load() (power-on, every reset) checks the file afresh. */
static void reset_rereads_and_rechecks(void)
{
	static uint8_t img[8192];
	struct harness h;
	char keys[256];
	size_t n = fake_bzimage(img, sizeof(img), 0x020f, (const uint8_t *)"\xf4kernel", 7);
	const char *k = write_file("changing", img, n);

	snprintf(keys, sizeof(keys), "kernel = %s\n", k);
	load(&h, keys);
	CHECK(h.rc == 0);
	write_file("changing", img, 2560 + 8); /* the same path, cut short */
	unit_capture_begin();
	h.rc = boot_load(&h.vm);
	CHECK_ONE_LINE(unit_capture_end(), "changing: truncated bzImage: the kernel after the setup code is 16 bytes, the file holds 8");
	CHECK(h.rc == -EINVAL);
	truncate(k, 0);
	unit_capture_begin();
	h.rc = boot_load(&h.vm);
	CHECK_ONE_LINE(unit_capture_end(), "changing: the file is empty");
	CHECK(h.rc == -EINVAL);
	unload(&h);
}

static void debian_kernel(void)
{
	glob_t g;
	struct harness h;
	char keys[512];

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc) {
		printf("# no /boot/vmlinuz-*: skipped\n");
		return;
	}
	snprintf(keys, sizeof(keys), "kernel = %s\nkernel_format = pvh\n", g.gl_pathv[g.gl_pathc - 1]);
	const char *e = load(&h, keys);
	CHECK(h.rc == 0);
	if (h.rc)
		printf("# %s", e);
	/* pvh_start_xen is a physical address inside the kernel image */
	CHECK(h.vm.cpu[0].boot.rip > 0x1000000 && h.vm.cpu[0].boot.rip < 0x4000000);
	unload(&h);
	snprintf(keys, sizeof(keys), "kernel = %s\n", g.gl_pathv[g.gl_pathc - 1]);
	load(&h, keys);
	CHECK(h.rc == 0 && h.vm.cpu[0].boot.rip == 0x1000200);
	unload(&h);
	globfree(&g);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/hv-linux-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	TEST(not_a_kernel);
	TEST(old_protocol_and_truncated);
	TEST(bzimage_boot_protocol);
	TEST(pvh_start_info);
	TEST(gzip_payload_unpacked);
	TEST(not_regular_or_empty);
	TEST(truncated_images);
	TEST(reset_rereads_and_rechecks);
	TEST(debian_kernel);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) ? 1 : 0;
}
