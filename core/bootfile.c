/*
 * Boot files: opening and reading a kernel or initrd whole, for the
 * loaders and for the checks (bootcheck.c). No guest state.
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
