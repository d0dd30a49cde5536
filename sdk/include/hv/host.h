/* SPDX-License-Identifier: MIT */
/*
 * hv SDK: the services the core offers every plugin instance.
 *
 * Each instance gets a struct hv_ctx. Plugins call the services through the
 * hv_* inline wrappers below, never through the table directly.
 *
 * Threads and locks (the whole contract; sdk/README.md says it at length):
 *   - Every instance belongs to one *lock domain*. A device is its own
 *     domain; a backend (disk, network, console) attached to a device joins
 *     the device's domain; a backend whose plugin has HV_PLUGIN_OWN_DOMAIN
 *     is its own. The core holds the domain lock around every call
 *     it makes into the plugin: ops, region accesses, fd/timer/defer
 *     callbacks, completions. So one instance's code never runs
 *     concurrently with itself or with the backends attached to it, and a
 *     plugin needs no locks of its own.
 *   - Calls a plugin makes into these services may happen from any of those
 *     callbacks. None of them takes another domain's lock, except where a
 *     comment says the call is queued and delivered later.
 *   - Region accesses run on vCPU threads; everything else on the main
 *     (event loop) thread.
 *   - An instance with its own domain that is not a device (a switch: a
 *     plugin whose descriptor has HV_PLUGIN_OWN_DOMAIN) is reached only
 *     through hv_post() (hv/post.h): the call is copied, queued and run
 *     later on the main thread under the *target's* lock, never inside
 *     hv_post(), so no code ever holds two domain locks. Its only lock is
 *     a queue mutex no callback ever runs under.
 */
#ifndef HV_HOST_H
#define HV_HOST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

struct hv_host;
struct hv_region;
struct hv_watch;
struct hv_timer;
struct hv_state;
struct hv_chr;
struct hv_disk;
struct hv_net;
struct hv_net_port;
struct hv_file;
struct hv_pci_info;
struct hv_pci_dev;
struct hv_vm_info;
struct hv_peer;
struct hv_ctx;
struct hv_display;
struct hv_display_cbs;
struct hv_surface;
struct hv_input;
struct hv_input_cbs;
struct hv_input_event;

/* A message another instance posted (hv/post.h): runs on the main thread
 * under the receiving instance's domain lock. msg is the core's copy,
 * valid until the callback returns. */
typedef void (*hv_post_fn)(struct hv_ctx *ctx, void *opaque,
			   struct hv_peer *from, uint32_t type,
			   const void *msg, size_t len);
struct hv_dma;

/* Given to every instance; owned by the core, valid until destroy returns. */
struct hv_ctx {
	const struct hv_host *host; /* the services */
	void *state;      /* instance_size bytes, zeroed before create */
	const char *name; /* the instance's section name: "com1" */
};

#define HV_STATE(ctx, type) ((type *)(ctx)->state)

enum hv_log_level { HV_LOG_ERROR = 0, HV_LOG_WARN, HV_LOG_INFO, HV_LOG_DEBUG };

enum hv_space { HV_SPACE_PIO = 1, HV_SPACE_MMIO = 2 };

/*
 * A PIO or MMIO region. The core delivers only accesses that lie wholly
 * inside the region, with offsets relative to its base, and sizes within
 * [min_access, max_access] (wider accesses are split, narrower or
 * misaligned ones read as all-ones and drop writes). Runs on a vCPU thread,
 * domain lock held.
 */
struct hv_region_ops {
	uint8_t min_access; /* bytes: 1, 2, 4 or 8; 0 means 1 */
	uint8_t max_access; /* bytes; 0 means 8 */
	/* v2.4 (in what was padding, so zero in older plugins' static ops):
	 * HV_REGION_UNALIGNED delivers accesses at any offset, for I/O ports
	 * that overlap as on real hardware (the VBE index 0x1ce and data
	 * 0x1cf, both 16-bit) */
	uint8_t flags;
	uint64_t (*read)(struct hv_ctx *ctx, void *opaque, uint64_t offset,
			 unsigned size);
	void (*write)(struct hv_ctx *ctx, void *opaque, uint64_t offset,
		      unsigned size, uint64_t value);
};

#define HV_REGION_UNALIGNED 0x1u

#define HV_FD_IN 0x1u
#define HV_FD_OUT 0x4u
#define HV_FD_ERR 0x8u /* hang-up or error; always reported */

typedef void (*hv_fd_cb)(struct hv_ctx *ctx, void *opaque, unsigned events);
typedef void (*hv_cb)(struct hv_ctx *ctx, void *opaque);
/* hv_config_each's callback: one key of the section, its value, and the
 * numbers its '#'s stand for (idx[0], idx[1]; 0 past the pattern's). */
typedef int (*hv_config_each_fn)(struct hv_ctx *ctx, void *opaque,
				 const char *key, const char *value,
				 const uint32_t idx[2]);

#define HV_MAP_WRITE 0x1u /* the caller will write: pages are marked dirty */

enum hv_vm_request {
	HV_VM_POWEROFF = 1, /* guest powered off: hv exits with `status` */
	HV_VM_RESET = 2,    /* guest asked for a reset */
	HV_VM_QUIT = 3,     /* the user asked to stop (console escape) */
};

/* ---- character streams: a device's serial line to a console frontend ---- */
struct hv_chr_cbs {
	/* Bytes typed into the console. Returns how many the device took; it
	 * calls hv_chr_input_ready() once it can take more. */
	size_t (*receive)(struct hv_ctx *ctx, void *opaque, const void *buf,
			  size_t len);
};

/* ---- disks: a device's view of a disk image ---- */
/* HV_DISK_WRITE_ZEROES (v2.1): make [offset, offset+len) read as zeroes;
 * iov unused (NULL, 0). The core turns it into a write of zeroes for every
 * format, at most HV_DISK_WRITE_ZEROES_MAX bytes per request. */
enum hv_disk_op {
	HV_DISK_READ = 1,
	HV_DISK_WRITE,
	HV_DISK_FLUSH,
	HV_DISK_DISCARD,
	HV_DISK_WRITE_ZEROES,
};
#define HV_DISK_WRITE_ZEROES_MAX (256ull << 20)

struct hv_disk_info {
	uint64_t size;            /* virtual size in bytes */
	uint32_t logical_sector;  /* 512 or 4096 */
	uint32_t physical_sector; /* >= logical_sector */
	uint32_t flags;           /* HV_DISK_F_* */
	uint32_t reserved;
	/* ---- v2.1 (devices; a format's info op leaves it zero) ---- */
	char serial[24];          /* [disk] serial=, default the section name:
				     NUL-terminated, at most 20 characters */
};
#define HV_DISK_F_READONLY 0x1u
#define HV_DISK_F_DISCARD 0x2u
/* v2.1: [disk] media = cdrom: a CD/DVD (read-only; devices show it as an
 * ATAPI or MMC drive with 2048-byte blocks). Set by the core. */
#define HV_DISK_F_CDROM 0x4u

/*
 * One disk request. The caller owns the memory until done() runs. The iov
 * must cover len bytes; offset and len are multiples of logical_sector.
 * done() runs on the main thread under the submitter's domain lock, never
 * from inside hv_disk_submit(). status is 0 or -errno.
 */
struct hv_disk_req {
	uint32_t size; /* sizeof in the plugin: hv_disk_submit() stamps it */
	uint32_t op;   /* enum hv_disk_op */
	uint64_t offset;
	uint64_t len;
	const struct iovec *iov;
	int iovcnt;
	void (*done)(struct hv_ctx *ctx, struct hv_disk_req *req, int status);
	void *opaque;     /* the caller's */
	void *core[4];    /* owned by the core while in flight */
};

/* ---- network: a device's link to a network backend ---- */
struct hv_net_cbs {
	/* A frame for the guest. Returns 0, or -EAGAIN when the device has no
	 * buffer: the backend then waits for its rx_ready op. */
	int (*receive)(struct hv_ctx *ctx, void *opaque, const struct iovec *iov,
		       int iovcnt);
};

/* ---- files: the I/O engine for disk formats ---- */
#define HV_FILE_RDONLY 0x1u
#define HV_FILE_CREATE 0x2u /* create (fail if it exists) */
#define HV_FILE_BUFFERED 0x4u /* never O_DIRECT */

struct hv_file_info {
	uint64_t size;          /* bytes (block devices: from the ioctl) */
	uint32_t logical_sector, physical_sector;
	uint32_t is_block_device;
	uint32_t direct;        /* 1 when opened O_DIRECT (libaio path) */
};

/* An asynchronous file I/O. done() runs on the main thread, domain lock
 * held, never from inside hv_file_submit(); buffers must stay valid until
 * then. result: bytes transferred (a read stops short at end of file) or
 * -errno. Any alignment works: misaligned memory is bounced and misaligned
 * offsets or lengths go to the buffered path, so buffers from
 * hv_buf_alloc() and sector-aligned ranges are only the fast path.
 * HV_DISK_DISCARD punches a hole: iov is one {NULL, length} entry. */
struct hv_file_io {
	uint32_t size; /* sizeof in the plugin: hv_file_submit() stamps it */
	uint32_t op;   /* HV_DISK_READ, _WRITE, _FLUSH (fdatasync), _DISCARD */
	uint64_t offset;
	const struct iovec *iov;
	int iovcnt;
	void (*done)(struct hv_ctx *ctx, struct hv_file_io *io, int64_t result);
	void *opaque;
	void *core[4];
};

struct hv_host {
	uint32_t size; /* sizeof(struct hv_host) in the core */
	uint16_t abi_major, abi_minor;
	/* ---- v2.0 ---- */
	void (*log_write)(struct hv_ctx *ctx, int level, const char *fmt, va_list ap);

	const char *(*config_get_str)(struct hv_ctx *ctx, const char *key);
	int64_t (*config_get_int)(struct hv_ctx *ctx, const char *key);

	int (*mem_read)(struct hv_ctx *ctx, uint64_t gpa, void *buf, size_t len);
	int (*mem_write)(struct hv_ctx *ctx, uint64_t gpa, const void *buf,
			 size_t len);
	void *(*mem_map)(struct hv_ctx *ctx, uint64_t gpa, size_t len,
			 unsigned flags);

	int (*region_add)(struct hv_ctx *ctx, int space, uint64_t base,
			  uint64_t len, const struct hv_region_ops *ops,
			  void *opaque, struct hv_region **out);
	int (*region_move)(struct hv_ctx *ctx, struct hv_region *r,
			   uint64_t base);
	void (*region_del)(struct hv_ctx *ctx, struct hv_region *r);

	int (*irq_set)(struct hv_ctx *ctx, unsigned line, int level);
	int (*msi_send)(struct hv_ctx *ctx, uint64_t addr, uint32_t data);

	int (*fd_watch)(struct hv_ctx *ctx, int fd, unsigned events, hv_fd_cb cb,
			void *opaque, struct hv_watch **out);
	void (*fd_unwatch)(struct hv_ctx *ctx, struct hv_watch *w);
	int (*timer_new)(struct hv_ctx *ctx, hv_cb cb, void *opaque,
			 struct hv_timer **out);
	void (*timer_arm)(struct hv_ctx *ctx, struct hv_timer *t,
			  uint64_t delay_ns, uint64_t period_ns);
	void (*timer_free)(struct hv_ctx *ctx, struct hv_timer *t);
	int (*loop_defer)(struct hv_ctx *ctx, hv_cb cb, void *opaque);
	uint64_t (*clock_now)(struct hv_ctx *ctx);

	void (*vm_request)(struct hv_ctx *ctx, int request, int status);

	int (*state_write)(struct hv_state *st, const void *buf, size_t len);
	int (*state_read)(struct hv_state *st, void *buf, size_t len);

	struct hv_chr *(*chr_attach)(struct hv_ctx *ctx, const char *key,
				     const struct hv_chr_cbs *cbs, size_t cbs_size,
				     void *opaque);
	size_t (*chr_write)(struct hv_ctx *ctx, struct hv_chr *c, const void *buf,
			    size_t len);
	void (*chr_input_ready)(struct hv_ctx *ctx, struct hv_chr *c);
	size_t (*console_input)(struct hv_ctx *ctx, const void *buf, size_t len);

	struct hv_disk *(*disk_attach)(struct hv_ctx *ctx, const char *key);
	void (*disk_info_get)(struct hv_ctx *ctx, struct hv_disk *d,
			      struct hv_disk_info *info, size_t info_size);
	int (*disk_submit)(struct hv_ctx *ctx, struct hv_disk *d,
			   struct hv_disk_req *req);
	void (*disk_complete)(struct hv_ctx *ctx, struct hv_disk_req *req,
			      int status);

	struct hv_net *(*net_attach)(struct hv_ctx *ctx, const char *key,
				     const struct hv_net_cbs *cbs, size_t cbs_size,
				     void *opaque);
	int (*net_send)(struct hv_ctx *ctx, struct hv_net *n,
			const struct iovec *iov, int iovcnt);
	void (*net_rx_ready)(struct hv_ctx *ctx, struct hv_net *n);
	int (*net_deliver)(struct hv_ctx *ctx, const struct iovec *iov,
			   int iovcnt);

	int (*file_open)(struct hv_ctx *ctx, const char *path, unsigned flags,
			 struct hv_file **out);
	void (*file_close)(struct hv_ctx *ctx, struct hv_file *f);
	void (*file_info_get)(struct hv_ctx *ctx, struct hv_file *f,
			      struct hv_file_info *info, size_t info_size);
	int (*file_submit)(struct hv_ctx *ctx, struct hv_file *f,
			   struct hv_file_io *io);
	int64_t (*file_pread)(struct hv_ctx *ctx, struct hv_file *f, void *buf,
			      size_t len, uint64_t offset);
	int64_t (*file_pwrite)(struct hv_ctx *ctx, struct hv_file *f,
			       const void *buf, size_t len, uint64_t offset);
	int (*file_sync)(struct hv_ctx *ctx, struct hv_file *f);
	int (*file_truncate)(struct hv_ctx *ctx, struct hv_file *f, uint64_t size);
	void *(*buf_alloc)(struct hv_ctx *ctx, size_t len);
	void (*buf_free)(struct hv_ctx *ctx, void *buf);

	/* PCI (hv/pci.h has the wrappers) */
	int (*pci_register)(struct hv_ctx *ctx, const struct hv_pci_info *info,
			    size_t info_size, size_t bar_size,
			    struct hv_pci_dev **out);
	void (*pci_intx_set)(struct hv_ctx *ctx, struct hv_pci_dev *d, int level);
	int (*pci_msi_send)(struct hv_ctx *ctx, struct hv_pci_dev *d, unsigned vector);
	uint16_t (*pci_command_get)(struct hv_ctx *ctx, struct hv_pci_dev *d);

	/* the VM's facts (hv_vm_info_get) */
	void (*vm_info_get)(struct hv_ctx *ctx, struct hv_vm_info *info,
			size_t info_size);

	/* cross-domain calls (hv/post.h has the wrappers) */
	struct hv_peer *(*peer_get)(struct hv_ctx *ctx, const char *key);
	int (*post_listen)(struct hv_ctx *ctx, hv_post_fn fn, void *opaque);
	int (*post_sendv)(struct hv_ctx *ctx, struct hv_peer *peer, uint32_t type,
		     const struct iovec *iov, int iovcnt);
	int (*domain_held)(struct hv_ctx *ctx);
	/* DMA mappings that outlive a callback (hv/dma.h) */
	int (*dma_add)(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa,
		       uint64_t len, unsigned flags);
	void (*dma_unmap)(struct hv_ctx *ctx, struct hv_dma *dma,
			  uint64_t written);
	/* device memory (hv/devmem.h has the wrappers) */
	void *(*pci_bar_ram_get)(struct hv_ctx *ctx, struct hv_pci_dev *d,
			     unsigned bar);
	int (*pci_bar_dirty_get)(struct hv_ctx *ctx, struct hv_pci_dev *d,
			     unsigned bar, uint64_t *bitmap, size_t bitmap_bytes);
	int (*vga_window_set)(struct hv_ctx *ctx, int mode, void **ram);
	int (*vga_dirty_get)(struct hv_ctx *ctx, uint64_t *bitmap,
			 size_t bitmap_bytes);
	/* core-owned disk chains (hv/disk.h has the wrapper) */
	int (*disk_backing_submit)(struct hv_ctx *ctx, struct hv_disk_req *req);
	/* ---- v2.1 ---- */
	int (*disk_map)(struct hv_ctx *ctx, struct hv_disk *d, uint64_t offset,
			uint64_t len, uint64_t *pnum, uint32_t *status);
	int (*config_each)(struct hv_ctx *ctx, const char *pattern,
			   hv_config_each_fn fn, void *opaque);
	/* ---- v2.2 ---- */
	int (*net_configure)(struct hv_ctx *ctx, struct hv_net *n,
			     const struct hv_net_port *port);
	/* ---- v2.3 ---- */
	struct hv_net *(*net_attach_plugin)(struct hv_ctx *ctx, const char *name,
					    const char *plugin,
					    const char *const *kv,
					    const struct hv_net_cbs *cbs,
					    size_t cbs_size, void *opaque);
	/* ---- v2.4 (hv/display.h, hv/input.h have the wrappers) ---- */
	int (*display_register)(struct hv_ctx *ctx,
				const struct hv_display_cbs *cbs,
				size_t cbs_size, void *opaque,
				struct hv_display **out);
	int (*display_attach)(struct hv_ctx *ctx, struct hv_display *d,
			      const char *key);
	int (*display_surface)(struct hv_ctx *ctx, struct hv_display *d,
			       const struct hv_surface *s);
	void (*display_damage)(struct hv_ctx *ctx, struct hv_display *d,
			       uint32_t x, uint32_t y, uint32_t w, uint32_t h);
	void (*display_interval)(struct hv_ctx *ctx, uint64_t interval_ns);
	void (*display_refresh_now)(struct hv_ctx *ctx);
	int (*input_register)(struct hv_ctx *ctx, unsigned caps,
			      const struct hv_input_cbs *cbs, size_t cbs_size,
			      void *opaque, struct hv_input **out);
	void (*input_active)(struct hv_ctx *ctx, struct hv_input *in, int on);
	int (*input_send)(struct hv_ctx *ctx, const struct hv_input_event *ev,
			  unsigned n);
	/* ---- v2.5 and later: new members here, each minor's block marked;
	 * their wrappers reach them through HV_HOST_HAS() ---- */
};

/*
 * Whether the core that loaded this plugin has service `m`: its table is
 * long enough to hold the member and the member is set. Every wrapper of
 * a member added after 2.0 checks this and returns -ENOSYS (or NULL)
 * without it, so a plugin built for a newer minor that says it needs an
 * older one (HV_PLUGIN_NEEDS_MINOR) never calls a member the core lacks.
 */
#define HV_HOST_HAS(ctx, m)                                                   \
	((ctx)->host->size >= offsetof(struct hv_host, m) +                   \
				      sizeof((ctx)->host->m) &&               \
	 (ctx)->host->m != NULL)

/* A service whose failure the caller must handle (guest-controlled
 * addresses, resources that can run out): ignoring it is a warning. */
#define HV_MUST_CHECK __attribute__((warn_unused_result))

/* ---- logging: one line, prefixed with the instance name ---- */
__attribute__((format(printf, 3, 4))) static inline void
hv_log(struct hv_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctx->host->log_write(ctx, level, fmt, ap);
	va_end(ap);
}
#define hv_error(ctx, ...) hv_log(ctx, HV_LOG_ERROR, __VA_ARGS__)
#define hv_warn(ctx, ...) hv_log(ctx, HV_LOG_WARN, __VA_ARGS__)
#define hv_info(ctx, ...) hv_log(ctx, HV_LOG_INFO, __VA_ARGS__)
#define hv_debug(ctx, ...) hv_log(ctx, HV_LOG_DEBUG, __VA_ARGS__)

/* ---- configuration: values were validated against the key table ---- */
/* The value as text, or the key's default, or NULL when neither exists. */
static inline const char *hv_config_get_str(struct hv_ctx *ctx, const char *key)
{
	return ctx->host->config_get_str(ctx, key);
}
/* INT and SIZE keys: the number; BOOL: 0 or 1; ENUM: the choice's index.
 * Unset keys without a default read 0. */
static inline int64_t hv_config_get_int(struct hv_ctx *ctx, const char *key)
{
	return ctx->host->config_get_int(ctx, key);
}

/*
 * v2.1: call fn for every key of the instance's section that the indexed
 * pattern matches (a key table name with HV_KEY_INDEXED: "target#.lun#"),
 * in file order; the value is what hv_config_get_str() returns for the
 * key. Stops at fn's first non-zero return and returns it; 0 when all
 * were seen; -EINVAL when pattern is not an indexed key of the plugin's
 * table; -ENOSYS on an older core. Any callback of the instance.
 */
static inline int hv_config_each(struct hv_ctx *ctx, const char *pattern,
				 hv_config_each_fn fn, void *opaque)
{
	if (!HV_HOST_HAS(ctx, config_each))
		return -ENOSYS;
	return ctx->host->config_each(ctx, pattern, fn, opaque);
}

/* ---- guest memory: every call checks the whole range ---- */
/* 0, or -EFAULT when any byte of [gpa, gpa+len) is not guest RAM. */
HV_MUST_CHECK static inline int hv_mem_read(struct hv_ctx *ctx, uint64_t gpa, void *buf,
			      size_t len)
{
	return ctx->host->mem_read(ctx, gpa, buf, len);
}
HV_MUST_CHECK static inline int hv_mem_write(struct hv_ctx *ctx, uint64_t gpa,
			       const void *buf, size_t len)
{
	return ctx->host->mem_write(ctx, gpa, buf, len);
}
/* A host pointer to [gpa, gpa+len), or NULL unless all of it is RAM in one
 * mapping. Valid until the callback that asked for it returns; a mapping
 * that must outlive it (asynchronous I/O) is an hv_dma (hv/dma.h). */
static inline void *hv_mem_map(struct hv_ctx *ctx, uint64_t gpa, size_t len,
			       unsigned flags)
{
	return ctx->host->mem_map(ctx, gpa, len, flags);
}

/* ---- buses: -EINVAL for empty or overflowing ranges, -EBUSY on overlap ---- */
HV_MUST_CHECK static inline int hv_region_add(struct hv_ctx *ctx, int space, uint64_t base,
				uint64_t len, const struct hv_region_ops *ops,
				void *opaque, struct hv_region **out)
{
	return ctx->host->region_add(ctx, space, base, len, ops, opaque, out);
}
HV_MUST_CHECK static inline int hv_region_move(struct hv_ctx *ctx, struct hv_region *r,
				 uint64_t base)
{
	return ctx->host->region_move(ctx, r, base);
}
static inline void hv_region_del(struct hv_ctx *ctx, struct hv_region *r)
{
	ctx->host->region_del(ctx, r);
}

/* ---- interrupts: line is a GSI (ISA IRQs 0-15 are GSIs 0-15) ---- */
static inline int hv_irq_set(struct hv_ctx *ctx, unsigned line, int level)
{
	return ctx->host->irq_set(ctx, line, level);
}
static inline int hv_msi_send(struct hv_ctx *ctx, uint64_t addr,
			      uint32_t data)
{
	return ctx->host->msi_send(ctx, addr, data);
}

/* ---- event loop: callbacks run on the main thread, domain lock held ---- */
HV_MUST_CHECK static inline int hv_fd_watch(struct hv_ctx *ctx, int fd, unsigned events,
			      hv_fd_cb cb, void *opaque, struct hv_watch **out)
{
	return ctx->host->fd_watch(ctx, fd, events, cb, opaque, out);
}
static inline void hv_fd_unwatch(struct hv_ctx *ctx, struct hv_watch *w)
{
	ctx->host->fd_unwatch(ctx, w);
}
HV_MUST_CHECK static inline int hv_timer_new(struct hv_ctx *ctx, hv_cb cb, void *opaque,
			       struct hv_timer **out)
{
	return ctx->host->timer_new(ctx, cb, opaque, out);
}
/* delay_ns 0 disarms; period_ns 0 fires once. */
static inline void hv_timer_arm(struct hv_ctx *ctx, struct hv_timer *t,
				uint64_t delay_ns, uint64_t period_ns)
{
	ctx->host->timer_arm(ctx, t, delay_ns, period_ns);
}
static inline void hv_timer_free(struct hv_ctx *ctx, struct hv_timer *t)
{
	ctx->host->timer_free(ctx, t);
}
/* Run cb once, soon, on the main thread (a bottom half). */
HV_MUST_CHECK static inline int hv_loop_defer(struct hv_ctx *ctx, hv_cb cb, void *opaque)
{
	return ctx->host->loop_defer(ctx, cb, opaque);
}
/* Guest time in ns: monotonic, stopped while the VM is paused. */
static inline uint64_t hv_clock_now(struct hv_ctx *ctx)
{
	return ctx->host->clock_now(ctx);
}

/* ---- the VM: queued; the main loop acts on it ---- */
static inline void hv_vm_request(struct hv_ctx *ctx, int request, int status)
{
	ctx->host->vm_request(ctx, request, status);
}

/* ---- the VM's facts, fixed for its lifetime (firmware-like devices: the
 * CMOS's memory-size bytes, a BIOS's tables) ---- */
#define HV_MACHINE_NONE 0 /* machine = none: only the configured devices */
#define HV_MACHINE_PC 1   /* machine = pc: PCI, ACPI, the PC's layout */

struct hv_vm_info {
	uint64_t ram_below_4g; /* bytes of RAM from address 0 up to 4 GiB,
				  holes (VGA, firmware) included */
	uint64_t ram_above_4g; /* bytes of RAM from 4 GiB up */
	uint32_t cpus;         /* vCPUs */
	uint32_t machine;      /* HV_MACHINE_* */
	/* ---- v2.2 ---- */
	char name[64];         /* [vm] name (NUL-terminated, cut at 63) */
	/* grows at the end: a core fills what both it and the plugin know */
};

/* Fill *info: 0, or -ENOSYS (and *info zeroed) on a core without the
 * service. Any thread, any callback; takes no lock. */
static inline int hv_vm_info_get(struct hv_ctx *ctx, struct hv_vm_info *info)
{
	const struct hv_host *h = ctx->host;

	memset(info, 0, sizeof(*info));
	if (!HV_HOST_HAS(ctx, vm_info_get))
		return -ENOSYS;
	h->vm_info_get(ctx, info, sizeof(*info));
	return 0;
}

/* ---- device state for snapshots: a byte stream the device defines ---- */
static inline int hv_state_write(struct hv_ctx *ctx, struct hv_state *st,
				 const void *buf, size_t len)
{
	return ctx->host->state_write(st, buf, len);
}
/* 0, or -EIO when the saved state is shorter than asked. */
HV_MUST_CHECK static inline int hv_state_read(struct hv_ctx *ctx, struct hv_state *st,
				void *buf, size_t len)
{
	return ctx->host->state_read(st, buf, len);
}

/* ---- character streams (devices) ---- */
/* Attach the console section named by config key `key`; NULL if the key is
 * unset (the device then runs with nothing connected). */
static inline struct hv_chr *hv_chr_attach(struct hv_ctx *ctx, const char *key,
					   const struct hv_chr_cbs *cbs,
					   void *opaque)
{
	return ctx->host->chr_attach(ctx, key, cbs, sizeof(*cbs), opaque);
}
/* Guest output; never blocks: a frontend that cannot keep up drops or
 * buffers, it never stalls the vCPU. Returns bytes taken. */
static inline size_t hv_chr_write(struct hv_ctx *ctx, struct hv_chr *c,
				  const void *buf, size_t len)
{
	return ctx->host->chr_write(ctx, c, buf, len);
}
static inline void hv_chr_input_ready(struct hv_ctx *ctx, struct hv_chr *c)
{
	ctx->host->chr_input_ready(ctx, c);
}
/* Console frontends: hand typed bytes to the attached device. */
static inline size_t hv_console_input(struct hv_ctx *ctx, const void *buf,
				      size_t len)
{
	return ctx->host->console_input(ctx, buf, len);
}

/* ---- disks (devices) ---- */
/* Attach the disk section named by config key `key`; NULL if unset. */
static inline struct hv_disk *hv_disk_attach(struct hv_ctx *ctx,
					     const char *key)
{
	return ctx->host->disk_attach(ctx, key);
}
static inline void hv_disk_info_get(struct hv_ctx *ctx, struct hv_disk *d,
				struct hv_disk_info *info)
{
	ctx->host->disk_info_get(ctx, d, info, sizeof(*info));
}
/* 0 when queued (done() will run), or -errno when refused at once (bad
 * range, read-only): then done() does not run. */
HV_MUST_CHECK static inline int hv_disk_submit(struct hv_ctx *ctx, struct hv_disk *d,
				 struct hv_disk_req *req)
{
	req->size = sizeof(*req);
	return ctx->host->disk_submit(ctx, d, req);
}
/*
 * v2.1: what the guest reads at [offset, offset+len) of the whole chain:
 * *status is HV_DISK_MAP_DATA (some layer holds data), HV_DISK_MAP_ZERO
 * (reads as zeroes) or both, for the *pnum bytes from offset (1 <= *pnum
 * <= len) that share it. A format without a map op reports data. Main
 * thread or a vCPU thread, domain lock held, like hv_disk_submit; it reads
 * only in-memory metadata. 0, -ERANGE past the end, -ENOSYS from an older
 * core (then treat the range as data).
 */
HV_MUST_CHECK static inline int hv_disk_map(struct hv_ctx *ctx, struct hv_disk *d,
				      uint64_t offset, uint64_t len,
				      uint64_t *pnum, uint32_t *status)
{
	if (!HV_HOST_HAS(ctx, disk_map))
		return -ENOSYS;
	return ctx->host->disk_map(ctx, d, offset, len, pnum, status);
}
/* Disk formats: finish a request handed to their submit op. May be called
 * from inside submit (a read of unallocated blocks needs no I/O): the core
 * then delivers done() from the main loop, never re-entrantly. */
static inline void hv_disk_complete(struct hv_ctx *ctx, struct hv_disk_req *req,
				    int status)
{
	ctx->host->disk_complete(ctx, req, status);
}

/* ---- network (devices and backends) ---- */
static inline struct hv_net *hv_net_attach(struct hv_ctx *ctx, const char *key,
					   const struct hv_net_cbs *cbs,
					   void *opaque)
{
	return ctx->host->net_attach(ctx, key, cbs, sizeof(*cbs), opaque);
}

/*
 * v2.3: attach a network backend that no [net] section describes, as a
 * switch does for `adapter = IF`: an instance of plugin `plugin` (its
 * `plugin =` name) with the keys in kv, "key", "value" pairs ending at a
 * NULL key, checked against the plugin's key table as a section's would
 * be (a wrong key or value: NULL after one line naming the caller's
 * section and `name`). `name` is what messages and `hv ctl status` call
 * it ("uplink"): the instance shows as "[net OWNER.NAME]". Otherwise as
 * hv_net_attach(): the backend runs in the caller's domain, its check op
 * and then create are run, NULL on failure. NULL (errno ENOSYS) on a core
 * before 2.3.
 */
static inline struct hv_net *hv_net_attach_plugin(struct hv_ctx *ctx, const char *name,
						  const char *plugin,
						  const char *const *kv,
						  const struct hv_net_cbs *cbs,
						  void *opaque)
{
	if (!HV_HOST_HAS(ctx, net_attach_plugin)) {
		errno = ENOSYS;
		return NULL;
	}
	return ctx->host->net_attach_plugin(ctx, name, plugin, kv, cbs,
					    sizeof(*cbs), opaque);
}
/* A frame from the guest to the backend: 0 or -errno (dropped). */
static inline int hv_net_send(struct hv_ctx *ctx, struct hv_net *n,
			      const struct iovec *iov, int iovcnt)
{
	return ctx->host->net_send(ctx, n, iov, iovcnt);
}
/* The device has receive buffers again. */
static inline void hv_net_rx_ready(struct hv_ctx *ctx, struct hv_net *n)
{
	ctx->host->net_rx_ready(ctx, n);
}
/* Backends: a frame for the guest; 0, or -EAGAIN (wait for rx_ready). */
static inline int hv_net_deliver(struct hv_ctx *ctx, const struct iovec *iov,
				 int iovcnt)
{
	return ctx->host->net_deliver(ctx, iov, iovcnt);
}

/* ---- files: libaio with O_DIRECT where possible, else a thread pool ---- */
/* 0 or -errno. Never blocks: only a regular file or a block device opens;
 * anything else (a FIFO, socket, character device, directory) is refused
 * with -EMEDIUMTYPE, which hv_file_strerror() words for the user. */
HV_MUST_CHECK static inline int hv_file_open(struct hv_ctx *ctx, const char *path,
			       unsigned flags, struct hv_file **out)
{
	return ctx->host->file_open(ctx, path, flags, out);
}
/* strerror() for hv_file_open's result. */
static inline const char *hv_file_strerror(int r)
{
	return r == -EMEDIUMTYPE ? "not a regular file or block device"
				 : strerror(-r);
}
/* Requests still in flight complete as usual (their done() is called, so
 * their buffers must stay valid until then); the file is released after
 * the last one. */
static inline void hv_file_close(struct hv_ctx *ctx, struct hv_file *f)
{
	ctx->host->file_close(ctx, f);
}
static inline void hv_file_info_get(struct hv_ctx *ctx, struct hv_file *f,
				struct hv_file_info *info)
{
	ctx->host->file_info_get(ctx, f, info, sizeof(*info));
}
HV_MUST_CHECK static inline int hv_file_submit(struct hv_ctx *ctx, struct hv_file *f,
				 struct hv_file_io *io)
{
	io->size = sizeof(*io);
	return ctx->host->file_submit(ctx, f, io);
}
/* Synchronous helpers for metadata: bytes done or -errno; any alignment. */
HV_MUST_CHECK static inline int64_t hv_file_pread(struct hv_ctx *ctx, struct hv_file *f,
				    void *buf, size_t len, uint64_t offset)
{
	return ctx->host->file_pread(ctx, f, buf, len, offset);
}
HV_MUST_CHECK static inline int64_t hv_file_pwrite(struct hv_ctx *ctx, struct hv_file *f,
				     const void *buf, size_t len,
				     uint64_t offset)
{
	return ctx->host->file_pwrite(ctx, f, buf, len, offset);
}
HV_MUST_CHECK static inline int hv_file_sync(struct hv_ctx *ctx, struct hv_file *f)
{
	return ctx->host->file_sync(ctx, f);
}
HV_MUST_CHECK static inline int hv_file_truncate(struct hv_ctx *ctx, struct hv_file *f,
				   uint64_t size)
{
	return ctx->host->file_truncate(ctx, f, size);
}
/* A buffer aligned for O_DIRECT (4096 bytes). */
static inline void *hv_buf_alloc(struct hv_ctx *ctx, size_t len)
{
	return ctx->host->buf_alloc(ctx, len);
}
static inline void hv_buf_free(struct hv_ctx *ctx, void *buf)
{
	ctx->host->buf_free(ctx, buf);
}

#endif
