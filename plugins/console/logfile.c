/* Guest output appended (or written afresh) to a file; no input. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <hv/hv.h>

struct logfile {
	int fd;
};

static int logfile_create(struct hv_ctx *ctx)
{
	struct logfile *l = HV_STATE(ctx, struct logfile);
	const char *path = hv_config_get_str(ctx, "path");
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC |
		    (hv_config_get_int(ctx, "append") ? O_APPEND : O_TRUNC);

	l->fd = open(path, flags, 0644);
	if (l->fd < 0) {
		int rc = -errno; /* hv_error may change errno */

		hv_error(ctx, "%s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static void logfile_destroy(struct hv_ctx *ctx)
{
	struct logfile *l = HV_STATE(ctx, struct logfile);

	if (l->fd >= 0)
		close(l->fd);
}

static size_t logfile_write(struct hv_ctx *ctx, const void *buf, size_t len)
{
	struct logfile *l = HV_STATE(ctx, struct logfile);

	if (write(l->fd, buf, len) < 0)
		return 0;
	return len;
}

static const struct hv_console_ops ops = {
	.create = logfile_create,
	.destroy = logfile_destroy,
	.write = logfile_write,
};

static const struct hv_config_key keys[] = {
	HV_KEY_OUTFILE("path", HV_KEY_REQUIRED, "the file to write"),
	HV_KEY_FLAG("append", "off", "append instead of truncating"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(logfile, console, &ops,
		 .version = "1.0",
		 .description = "guest output to a log file",
		 .instance_size = sizeof(struct logfile),
		 .keys = keys);
