/*
 * Boot files: opening and reading a kernel, initrd or module whole, and
 * the [vm] module# list, for the loaders and for the checks (bootcheck.c).
 * No guest state.
 */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* Every loader places its files below 4 GiB. */
#define BOOT_FILE_MAX (4ull << 30)

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Open a boot file: O_NONBLOCK so that a FIFO cannot stall the start, and
 * sized by fstat, which unlike ftell knows a directory has no size. Only a
 * regular file with at least one byte is taken. -errno with *why set.
 */
static int open_file(const char *path, int *fd, size_t *size, char *why,
		     size_t n)
{
	struct stat st;
	int rc;

	*fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		snprintf(why, n, "%s", strerror(errno));
		return rc;
	}
	if (fstat(*fd, &st)) {
		rc = -errno;
		snprintf(why, n, "%s", strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, n, "%s, not a file hv can boot from",
			 file_kind(st.st_mode));
		rc = -EINVAL;
		goto out_close;
	}
	if (!st.st_size) {
		snprintf(why, n, "the file is empty");
		rc = -EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > BOOT_FILE_MAX) { /* /proc/kcore, a sparse file */
		snprintf(why, n,
			 "%lld bytes; a kernel, initrd or module must fit below 4 GiB",
			 (long long)st.st_size);
		rc = -EFBIG;
		goto out_close;
	}
	*size = (size_t)st.st_size;
	return 0;
out_close:
	close(*fd);
	*fd = -1;
	return rc;
}

int boot_open_file(const char *path, int *fd, size_t *size)
{
	char why[128];
	int rc = open_file(path, fd, size, why, sizeof(why));

	if (rc)
		err("%s: %s", path, why);
	return rc;
}

int boot_open_module(const struct config *cfg, const struct boot_module *m,
		     int *fd, size_t *size)
{
	char why[128];
	int rc = open_file(m->path, fd, size, why, sizeof(why));

	if (rc)
		log_err_at("%s:%d: [vm]: %s = %s: %s", cfg->path, m->line, m->key,
			   m->string, why);
	return rc;
}

int boot_read_file(const char *path, uint8_t **data, size_t *len)
{
	size_t n, got = 0;
	ssize_t r = 0;
	int fd, rc;

	*data = NULL;
	if ((rc = boot_open_file(path, &fd, &n)))
		return rc;
	*data = malloc(n);
	if (!*data) {
		err("%s: %zu bytes: out of memory", path, n);
		rc = -ENOMEM;
		goto out_close;
	}
	while (got < n && (r = pread(fd, *data + got, n - got, (off_t)got)) > 0)
		got += (size_t)r;
	if (got < n) {
		if (r < 0)
			err("%s: %s", path, strerror(errno));
		else
			err("%s: the file shrank while it was read (%zu of %zu bytes)",
			    path, got, n);
		rc = r < 0 ? -EIO : -EINVAL;
		free(*data);
		*data = NULL;
		goto out_close;
	}
	*len = n;
	rc = 0;
out_close:
	close(fd);
	return rc;
}

const struct hv_config_key *boot_module_key(void)
{
	for (const struct hv_config_key *k = vm_keys; k->name; k++)
		if (!strcmp(k->name, "module#"))
			return k;
	return NULL;
}

/* The first word of a module's value, relative to the INI's directory
 * like every path in it; malloc'ed, NULL without memory. */
static char *module_path(const struct config *cfg, const char *value)
{
	size_t n = strcspn(value, " \t");
	const char *slash = strrchr(cfg->path, '/');
	char *p;

	if (value[0] == '/' || !slash)
		return strndup(value, n);
	if (asprintf(&p, "%.*s/%.*s", (int)(slash - cfg->path), cfg->path,
		     (int)n, value) < 0)
		return NULL;
	return p;
}

void boot_modules_free(struct boot_module *m)
{
	for (int i = 0; i < BOOT_MODULES_MAX; i++)
		free(m[i].path);
}

int boot_modules(const struct config *cfg, struct boot_module *m)
{
	const struct cfg_section *s = config_section(cfg, "vm", "vm");
	const struct hv_config_key *k = boot_module_key();
	uint32_t idx[2], at[BOOT_MODULES_MAX];
	int n = 0, rc, fd;

	memset(m, 0, BOOT_MODULES_MAX * sizeof(*m));
	for (int i = 0; s && i < s->n; i++) {
		const struct cfg_entry *e = &s->e[i];
		int j = n;

		if (cfg_key_match(k, e->key, idx, NULL, 0) != 1)
			continue; /* config_validate refused one out of range */
		for (; j > 0 && at[j - 1] > idx[0]; j--) { /* index order */
			at[j] = at[j - 1];
			m[j] = m[j - 1];
		}
		at[j] = idx[0];
		m[j] = (struct boot_module){ e->key, e->value, NULL, e->line, 0 };
		n++;
		m[j].path = module_path(cfg, e->value);
		if (!m[j].path) {
			log_err_at("%s:%d: [vm]: %s: out of memory", cfg->path,
				   e->line, e->key);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < n; i++) {
		if ((rc = boot_open_module(cfg, &m[i], &fd, &m[i].size)))
			return rc;
		close(fd);
	}
	return n;
}
