/*
 * The block layer between devices and disk-format plugins, and the file
 * I/O engine formats use (libaio with O_DIRECT where the file system
 * allows, a small thread pool where it does not). These functions back the
 * disk_* and file_* members of the host services table (services.c).
 */
#ifndef HV_CORE_DISK_H
#define HV_CORE_DISK_H

#include <hv/hv.h>

struct vm;
struct instance;

/* hv_host members, same signatures */
struct hv_disk *core_disk_attach(struct hv_ctx *ctx, const char *key);
void core_disk_info(struct hv_ctx *ctx, struct hv_disk *d,
		    struct hv_disk_info *info, size_t info_size);
int core_disk_map(struct hv_ctx *ctx, struct hv_disk *d, uint64_t offset,
		  uint64_t len, uint64_t *pnum, uint32_t *status);
int core_disk_submit(struct hv_ctx *ctx, struct hv_disk *d,
		     struct hv_disk_req *req);
void core_disk_complete(struct hv_ctx *ctx, struct hv_disk_req *req,
			int status);

int core_file_open(struct hv_ctx *ctx, const char *path, unsigned flags,
		   struct hv_file **out);
void core_file_close(struct hv_ctx *ctx, struct hv_file *f);
void core_file_info(struct hv_ctx *ctx, struct hv_file *f,
		    struct hv_file_info *info, size_t info_size);
int core_file_submit(struct hv_ctx *ctx, struct hv_file *f,
		     struct hv_file_io *io);
int64_t core_file_pread(struct hv_ctx *ctx, struct hv_file *f, void *buf,
			size_t len, uint64_t offset);
int64_t core_file_pwrite(struct hv_ctx *ctx, struct hv_file *f,
			 const void *buf, size_t len, uint64_t offset);
int core_file_sync(struct hv_ctx *ctx, struct hv_file *f);
int core_file_truncate(struct hv_ctx *ctx, struct hv_file *f, uint64_t size);
void *core_buf_alloc(struct hv_ctx *ctx, size_t len);
void core_buf_free(struct hv_ctx *ctx, void *buf);

/* instance_free() of a disk-format instance calls this first: waits for
 * the disk's requests and releases the block layer's handle. */
void disk_release(struct instance *in);
/* Pause support: wait until no request of this VM is in flight. */
int disk_drain_all(struct vm *vm);
/* `hv img ...`; returns the process exit status. */
int img_main(int argc, char **argv);

#endif
