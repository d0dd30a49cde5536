/*
 * Whether any loader could take the [vm] kernel and initrd, judged from
 * their bytes alone. Config validation (check.c) reaches boot loading only
 * through boot_check_files(); boot_load() runs the same image check.
 */
#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* NULL when an ELF file holds its program headers and PT_LOAD segments. */
static const char *elf_truncated(const uint8_t *img, size_t len)
{
	static char why[160];
	int is64 = img[EI_CLASS] == ELFCLASS64;
	size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t phoff, phnum, phentsize;

	if (img[EI_CLASS] != ELFCLASS32 && !is64)
		return NULL; /* not ours to judge: the loaders say why */
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return "truncated ELF image: the ELF header runs past the file's end";
	if (is64) {
		const Elf64_Ehdr *e = (const void *)img;
		phoff = e->e_phoff, phnum = e->e_phnum, phentsize = e->e_phentsize;
	} else {
		const Elf32_Ehdr *e = (const void *)img;
		phoff = e->e_phoff, phnum = e->e_phnum, phentsize = e->e_phentsize;
	}
	if (phentsize < phsz)
		return NULL; /* malformed, not truncated: the loaders say so */
	if (phoff > len || phnum > (len - phoff) / phentsize) {
		snprintf(why, sizeof(why),
			 "truncated ELF image: %llu program headers at byte %llu run past the file's end (%zu)",
			 (unsigned long long)phnum, (unsigned long long)phoff, len);
		return why;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t type, off, filesz;

		if (is64) {
			Elf64_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz;
		} else {
			Elf32_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, filesz = p.p_filesz;
		}
		if (type != PT_LOAD || (off <= len && filesz <= len - off))
			continue;
		snprintf(why, sizeof(why),
			 "truncated ELF image: segment %llu (bytes %llu..%llu) runs past the file's end (%zu)",
			 (unsigned long long)i, (unsigned long long)off,
			 (unsigned long long)(off + filesz), len);
		return why;
	}
	return NULL;
}

/*
 * What no loader can take whole, refused before any format is chosen: with
 * the bzImage magic, the setup code, kernel and payload the header claims
 * must be in the file (a truncated bzImage is never taken for a flat
 * binary); an ELF (unless multiboot's a.out kludge places it) must hold
 * its program headers and segments. kernel_format = flat takes bytes as
 * they are.
 */
int boot_image_check(const char *path, const uint8_t *img, size_t len,
		       const char *fmt)
{
	const char *why = NULL;
	long mb;

	if (fmt && !strcmp(fmt, "flat"))
		return 0;
	if (linux_has_hdrs(img, len)) {
		why = linux_bzimage_truncated(img, len);
	} else if (len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG)) {
		mb = multiboot_find(img, len);
		if (mb < 0 || len - mb < 8 || !(img[mb + 6] & 1)) /* flags bit 16 */
			why = elf_truncated(img, len);
	}
	if (!why)
		return 0;
	err("%s: %s", path, why);
	return -EINVAL;
}

/* Modules only mean something to a multiboot kernel: refuse them with
 * another, and check the multiboot image whole. */
static int check_multiboot(const struct config *cfg, const char *kernel,
			   const uint8_t *img, size_t len)
{
	const struct cfg_section *s = config_section(cfg, "vm", "vm");
	const char *fmt = cfg_get(s, "kernel_format");
	const struct hv_config_key *k = boot_module_key();
	uint64_t memory;

	if (!multiboot_wanted(fmt, img, len)) {
		for (int i = 0; i < s->n; i++) {
			if (cfg_key_match(k, s->e[i].key, NULL, NULL, 0) != 1)
				continue;
			if (fmt && strcmp(fmt, "auto"))
				log_err_at("%s:%d: [vm]: %s: modules need a multiboot kernel (kernel_format = %s)",
					   cfg->path, s->e[i].line, s->e[i].key, fmt);
			else
				log_err_at("%s:%d: [vm]: %s: modules need a multiboot kernel (%s is not one)",
					   cfg->path, s->e[i].line, s->e[i].key, kernel);
			return -EINVAL;
		}
		return 0;
	}
	if (cfg_parse_size(cfg_get(s, "memory") ? cfg_get(s, "memory") : "128M",
			   &memory))
		return 0; /* config_validate refused it */
	return multiboot_check(cfg, kernel, img, len, memory);
}

int boot_check_files(const struct config *cfg)
{
	const struct cfg_section *s = config_section(cfg, "vm", "vm");
	const char *kernel = cfg_get(s, "kernel");
	const char *initrd = cfg_get(s, "initrd");
	uint8_t *img;
	size_t len;
	int rc, fd;

	if (!kernel) /* config_validate reports it missing */
		return 0;
	if ((rc = boot_read_file(kernel, &img, &len)))
		return rc;
	rc = boot_image_check(kernel, img, len, cfg_get(s, "kernel_format"));
	if (!rc)
		rc = check_multiboot(cfg, kernel, img, len);
	free(img);
	if (rc || !initrd)
		return rc;
	/* the initrd's bytes are the guest's business: only its kind and size */
	if ((rc = boot_open_file(initrd, &fd, &len)))
		return rc;
	close(fd);
	return 0;
}
