/*
 * Boot images: load the [vm] kernel= file into guest memory and describe
 * the BSP's entry state in vm->cpu[0].boot. Called at power-on and on
 * every reset (the image is loaded afresh). Errors name the file.
 *
 * The loaders read the machine from vm->layout (layout.h: the memory map
 * and the RSDP, filled in by the VM before boot_load) and never call the
 * platform (pc/): they sit below it (docs/architecture.md).
 */
#ifndef HV_CORE_BOOT_H
#define HV_CORE_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct hv_config_key;
struct vm;
struct x86_state;

/* Fixed guest-physical addresses the loaders use for their own tables. */
#define BOOT_GDT 0x1000ull
#define BOOT_PML4 0x2000ull
#define BOOT_PDPT 0x3000ull
#define BOOT_PD 0x4000ull
/* The boot stack (below BOOT_STACK) and the tables above: nothing a loader
 * places for the guest goes below BOOT_LOW_FREE. */
#define BOOT_STACK 0x7000ull
#define BOOT_LOW_FREE 0x8000ull

int boot_load(struct vm *vm);

/* [vm] module# = PATH [string...]: Multiboot modules, in index order. */
#define BOOT_MODULES_MAX 64
struct boot_module {
	const char *key, *string; /* "module0", the value as written */
	char *path;		   /* its first word, relative to the INI */
	int line;		   /* of the key, for messages */
	size_t size;		   /* the file's */
};
/* Collect and open (to check) every module# key into m[BOOT_MODULES_MAX]:
 * their count, or -errno after one line "ini:line: [vm]: moduleN = ...:
 * why". Free with boot_modules_free() whatever it returns. */
int boot_modules(const struct config *cfg, struct boot_module *m);
/* The [vm] key row module# matches (config.c's vm_keys). */
const struct hv_config_key *boot_module_key(void);
void boot_modules_free(struct boot_module *m);
/* The file as boot_open_file() takes it, but the line names the key. */
int boot_open_module(const struct config *cfg, const struct boot_module *m,
		     int *fd, size_t *size);
/* The [vm] kernel and initrd as boot_load() will find them: regular,
 * non-empty files, and a kernel no loader would find truncated. 0, or
 * -errno after one line naming the file. config_validate() calls it, so
 * `hv check` and `hv run` refuse the same files. */
int boot_check_files(const struct config *cfg);

/* Shared by the loaders (bootfile.c). The whole of a regular, non-empty
 * file (malloc'ed), opened without blocking; -errno after one line naming
 * it. */
int boot_read_file(const char *path, uint8_t **data, size_t *len);
/* The same checks on an open file (fd and size out), without reading it. */
int boot_open_file(const char *path, int *fd, size_t *size);
/* bootcheck.c: what no loader can take whole (a truncated bzImage or ELF), refused
 * before a format is chosen: 0, or -EINVAL after one line naming path. */
int boot_image_check(const char *path, const uint8_t *img, size_t len,
		     const char *fmt);
/* CPU-mode entry states (cpumode.c): they touch only vm->mem and *st. */
void boot_gdt(struct vm *vm);
void boot_prot32(struct x86_state *st, uint32_t eip);
int boot_long64(struct vm *vm, struct x86_state *st, uint64_t rip);
int boot_multiboot(struct vm *vm, const char *path, const uint8_t *img,
		   size_t len, const char *cmdline);
/* Offset of a multiboot header in the first 8 KiB, or -1. */
long multiboot_find(const uint8_t *img, size_t len);
/* Whether kernel_format fmt (NULL: auto) boots img as multiboot. */
int multiboot_wanted(const char *fmt, const uint8_t *img, size_t len);
/* What boot_multiboot() would refuse, judged without a VM: the header,
 * and whether the image, its modules and the info fit in memory bytes of
 * RAM. 0, or -errno after one line. */
int multiboot_check(const struct config *cfg, const char *path,
		    const uint8_t *img, size_t len, uint64_t memory);

/* Linux (linux.c): bzImage through the boot protocol. */
int linux_is_bzimage(const uint8_t *img, size_t len);
/* Whether the file has the setup header's magic ("HdrS" at 0x202). */
int linux_has_hdrs(const uint8_t *img, size_t len);
/* For a file with the magic: NULL when it holds all the setup code, kernel
 * (syssize) and payload its header claims, else why not. */
const char *linux_bzimage_truncated(const uint8_t *img, size_t len);
/* NULL when img is a bzImage of at least protocol min_version, else why not. */
const char *linux_bzimage_check(const uint8_t *img, size_t len,
				uint16_t min_version);
int boot_bzimage(struct vm *vm, const char *path, const uint8_t *img,
		 size_t len, const char *cmdline, const char *initrd);
int boot_vmlinux_enter(struct vm *vm, uint64_t entry, uint64_t kernel_end,
		       const char *cmdline, const char *initrd);
/* The initrd file (NULL: none) at the top of low RAM below limit, above
 * floor; *addr and *size are 0 without one. */
int linux_load_initrd(struct vm *vm, const char *path, uint64_t floor,
		      uint64_t limit, uint64_t *addr, uint64_t *size);
/* vmlinux ELF or a bzImage's unpacked vmlinux (pvh.c): want_pvh 1 enters
 * through PVH, 0 through the 64-bit boot protocol, 2 PVH when the kernel
 * has the note. */
int boot_pvh(struct vm *vm, const char *path, const uint8_t *img, size_t len,
	     const char *cmdline, const char *initrd, int want_pvh);
int elf_has_pvh(const uint8_t *img, size_t len);
/* unpack.c: a Linux payload (xz, lzma, gzip, zstd + 4-byte size). */
int unpack(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
	   const char **why);
const char *unpack_kind(const uint8_t *in, size_t len);

#endif
