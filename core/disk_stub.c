/*
 * Placeholder for the block layer and file engine until core/aio.c and
 * core/disk.c land (issue 4): every call fails with -ENOSYS and says so.
 */
#include <errno.h>
#include <stdlib.h>

#include "disk.h"
#include "log.h"

struct hv_disk *core_disk_attach(struct hv_ctx *ctx, const char *key)
{
	if (ctx->host->config_str(ctx, key))
		err("%s: disks are not supported by this build yet", ctx->name);
	return NULL;
}
void core_disk_info(struct hv_ctx *ctx, struct hv_disk *d, struct hv_disk_info *i) {}
int core_disk_submit(struct hv_ctx *ctx, struct hv_disk *d, struct hv_disk_req *r) { return -ENOSYS; }
void core_disk_complete(struct hv_ctx *ctx, struct hv_disk_req *r, int s) {}
int core_file_open(struct hv_ctx *ctx, const char *p, unsigned f, struct hv_file **o) { return -ENOSYS; }
void core_file_close(struct hv_ctx *ctx, struct hv_file *f) {}
void core_file_info(struct hv_ctx *ctx, struct hv_file *f, struct hv_file_info *i) {}
int core_file_submit(struct hv_ctx *ctx, struct hv_file *f, struct hv_file_io *io) { return -ENOSYS; }
int64_t core_file_pread(struct hv_ctx *ctx, struct hv_file *f, void *b, size_t l, uint64_t o) { return -ENOSYS; }
int64_t core_file_pwrite(struct hv_ctx *ctx, struct hv_file *f, const void *b, size_t l, uint64_t o) { return -ENOSYS; }
int core_file_sync(struct hv_ctx *ctx, struct hv_file *f) { return -ENOSYS; }
int core_file_truncate(struct hv_ctx *ctx, struct hv_file *f, uint64_t s) { return -ENOSYS; }
void *core_buf_alloc(struct hv_ctx *ctx, size_t l) { return NULL; }
void core_buf_free(struct hv_ctx *ctx, void *b) {}
int disk_drain_all(struct vm *vm) { return 0; }
int img_main(int argc, char **argv)
{
	err("hv img is not supported by this build yet");
	return 1;
}
