/*
 * The file I/O engine disk formats use (hv_file_* services).
 *
 * Reads and writes go through Linux AIO (libaio) on an O_DIRECT fd when the
 * file system accepts O_DIRECT and the request is aligned; everything else
 * (tmpfs, misaligned requests, FLUSH, DISCARD) goes to a small pthread pool
 * on a buffered fd. Both report completion through an eventfd watched by
 * the main loop, which calls io->done() under the owning instance's lock:
 * never from inside hv_file_submit().
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "loop.h"

#define AIO_DEPTH    256
#define POOL_THREADS 4

struct job {
	struct hv_file_io *io;
	struct hv_file *f;
	struct iocb cb;	   /* libaio path */
	struct iovec biov; /* bounce or discard range */
	void *bounce;
	uint64_t len;
	int64_t result;
	int use_pool;
	struct job *next;
};

/* One engine per process, created by the first open, freed by the last
 * close. Only the pool's queues are touched by other threads. */
static struct engine {
	int refs;
	struct loop *loop;
	io_context_t ctx;
	int aio_ok;
	int efd; /* libaio completions */
	struct loop_watch *w;
	unsigned aio_busy;
	struct job *wait_head, *wait_tail; /* io_submit said EAGAIN */
	/* pool */
	pthread_t th[POOL_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *q_head, *q_tail, *done_head, *done_tail;
	int stop;
	int pefd; /* pool completions */
	struct loop_watch *pw;
	/* submits come from vCPU threads (region handlers) as well as the
	 * main thread: the counters are atomic, and aio_busy with the wait
	 * list is under sub_mu */
	_Atomic uint64_t inflight;
	_Atomic uint64_t n_aio, n_pool; /* requests per path, for tests */
} eng;

static pthread_mutex_t sub_mu = PTHREAD_MUTEX_INITIALIZER;

void aio_stats(uint64_t *n_aio, uint64_t *n_pool)
{
	*n_aio = eng.n_aio;
	*n_pool = eng.n_pool;
}

uint64_t aio_inflight(void)
{
	return eng.inflight;
}

static uint64_t iov_len(const struct iovec *iov, int n)
{
	uint64_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

static void file_put(struct hv_file *f);

static void deliver(struct job *j)
{
	struct hv_file_io *io = j->io;
	struct hv_file *f = j->f;
	struct instance *in = f->inst;

	if (j->bounce && io->op == HV_DISK_READ && j->result > 0) {
		size_t left = (size_t)j->result;
		const char *p = j->bounce;
		for (int i = 0; i < io->iovcnt && left; i++) {
			size_t n = io->iov[i].iov_len < left
					   ? io->iov[i].iov_len
					   : left;
			memcpy(io->iov[i].iov_base, p, n);
			p += n;
			left -= n;
		}
	}
	free(j->bounce);
	int64_t res = j->result;
	free(j);
	eng.inflight--;
	if (in) {
		inst_lock(in);
		io->done(&in->ctx, io, res);
		inst_unlock(in);
		inst_io_end(in);
	} else {
		io->done(NULL, io, res);
	}
	file_put(f);
}

/*
 * The one synchronous transfer loop: preadv/pwritev over an iov until len
 * bytes moved, retrying short transfers and EINTR; a read stops at end of
 * file. Bytes moved, or -errno.
 */
static int64_t xfer(int fd, int write, const struct iovec *iov, int n,
		    uint64_t len, uint64_t off)
{
	struct iovec tmp[64];
	uint64_t done = 0;
	ssize_t r;

	while (done < len) {
		/* rebuild the remaining iov (first 64 entries) */
		uint64_t skip = done;
		int k = 0;
		for (int i = 0; i < n && k < 64; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			tmp[k].iov_base = (char *)iov[i].iov_base + skip;
			tmp[k].iov_len = iov[i].iov_len - skip;
			skip = 0;
			k++;
		}
		if (write)
			r = pwritev(fd, tmp, k, (off_t)(off + done));
		else
			r = preadv(fd, tmp, k, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (uint64_t)r;
	}
	return (int64_t)done;
}

/* ---- the thread pool ---- */
static int64_t pool_rw(struct job *j)
{
	struct hv_file_io *io = j->io;

	return xfer(j->f->bfd, io->op != HV_DISK_READ,
		    j->bounce ? &j->biov : io->iov, j->bounce ? 1 : io->iovcnt,
		    j->len, io->offset);
}

static int64_t pool_run(struct job *j)
{
	switch (j->io->op) {
	case HV_DISK_READ:
	case HV_DISK_WRITE:
		return pool_rw(j);
	case HV_DISK_FLUSH:
		return fdatasync(j->f->bfd) ? -errno : 0;
	case HV_DISK_DISCARD:
		if (fallocate(j->f->bfd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)j->io->offset, (off_t)j->len))
			return -errno;
		return 0;
	}
	return -EINVAL;
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&eng.mu);
	for (;;) {
		while (!eng.q_head && !eng.stop)
			pthread_cond_wait(&eng.cv, &eng.mu);
		if (!eng.q_head)
			break;
		struct job *j = eng.q_head;
		eng.q_head = j->next;
		if (!eng.q_head)
			eng.q_tail = NULL;
		pthread_mutex_unlock(&eng.mu);
		j->result = pool_run(j);
		j->next = NULL;
		pthread_mutex_lock(&eng.mu);
		if (eng.done_tail)
			eng.done_tail->next = j;
		else
			eng.done_head = j;
		eng.done_tail = j;
		uint64_t one = 1;
		if (write(eng.pefd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow in practice */
		}
	}
	pthread_mutex_unlock(&eng.mu);
	return NULL;
}

static void pool_reap(void *opaque, unsigned events)
{
	uint64_t cnt;
	struct job *list;

	if (read(eng.pefd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&eng.mu);
	list = eng.done_head;
	eng.done_head = eng.done_tail = NULL;
	pthread_mutex_unlock(&eng.mu);
	while (list) {
		struct job *j = list;
		list = j->next;
		deliver(j);
	}
}

static void pool_queue(struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&eng.mu);
	if (eng.q_tail)
		eng.q_tail->next = j;
	else
		eng.q_head = j;
	eng.q_tail = j;
	pthread_cond_signal(&eng.cv);
	pthread_mutex_unlock(&eng.mu);
}

/* ---- libaio ---- */
static int aio_push(struct job *j)
{
	struct iocb *cbs[1] = {&j->cb};
	int r = io_submit(eng.ctx, 1, cbs);

	if (r == 1) {
		eng.aio_busy++;
		return 0;
	}
	return r < 0 ? r : -EIO;
}

static void aio_reap(void *opaque, unsigned events)
{
	struct io_event ev[64];
	struct timespec zero = {0, 0};
	uint64_t cnt;
	int n;

	if (read(eng.efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	while ((n = io_getevents(eng.ctx, 0, 64, ev, &zero)) > 0) {
		for (int i = 0; i < n; i++) {
			struct job *j = ev[i].data;
			long res = (long)ev[i].res;
			pthread_mutex_lock(&sub_mu);
			eng.aio_busy--;
			pthread_mutex_unlock(&sub_mu);
			j->result = res;
			/* a short O_DIRECT transfer inside the file: finish it
			 * with the buffered path */
			if (res >= 0 && (uint64_t)res < j->len &&
			    j->io->offset + (uint64_t)res < j->f->info.size) {
				j->use_pool = 1;
				pool_queue(j);
				continue;
			}
			deliver(j);
		}
		/* requests that found the queue full */
		pthread_mutex_lock(&sub_mu);
		while (eng.wait_head && eng.aio_busy < AIO_DEPTH) {
			struct job *j = eng.wait_head;
			eng.wait_head = j->next;
			if (!eng.wait_head)
				eng.wait_tail = NULL;
			if (aio_push(j)) {
				j->use_pool = 1;
				pool_queue(j);
			}
		}
		pthread_mutex_unlock(&sub_mu);
		if (n < 64)
			break;
	}
}

static int engine_get(struct loop *loop)
{
	int r;

	if (eng.refs++)
		return 0;
	eng.loop = loop;
	eng.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	eng.pefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (eng.efd < 0 || eng.pefd < 0) {
		r = -errno;
		goto out_fds;
	}
	memset(&eng.ctx, 0, sizeof(eng.ctx));
	eng.aio_ok = io_setup(AIO_DEPTH, &eng.ctx) == 0;
	if (eng.aio_ok) {
		r = loop_watch(loop, eng.efd, HV_FD_IN, aio_reap, NULL, &eng.w);
		if (r)
			goto out_ctx;
	}
	r = loop_watch(loop, eng.pefd, HV_FD_IN, pool_reap, NULL, &eng.pw);
	if (r)
		goto out_watch;
	pthread_mutex_init(&eng.mu, NULL);
	pthread_cond_init(&eng.cv, NULL);
	eng.stop = 0;
	for (int i = 0; i < POOL_THREADS; i++)
		pthread_create(&eng.th[i], NULL, pool_main, NULL);
	return 0;

out_watch:
	if (eng.aio_ok)
		loop_unwatch(loop, eng.w);
out_ctx:
	if (eng.aio_ok)
		io_destroy(eng.ctx);
out_fds:
	if (eng.efd >= 0)
		close(eng.efd);
	if (eng.pefd >= 0)
		close(eng.pefd);
	eng.refs = 0;
	return r;
}

static void engine_put(void)
{
	if (--eng.refs)
		return;
	pthread_mutex_lock(&eng.mu);
	eng.stop = 1;
	pthread_cond_broadcast(&eng.cv);
	pthread_mutex_unlock(&eng.mu);
	for (int i = 0; i < POOL_THREADS; i++)
		pthread_join(eng.th[i], NULL);
	pthread_mutex_destroy(&eng.mu);
	pthread_cond_destroy(&eng.cv);
	loop_unwatch(eng.loop, eng.pw);
	if (eng.aio_ok) {
		loop_unwatch(eng.loop, eng.w);
		io_destroy(eng.ctx);
	}
	close(eng.efd);
	close(eng.pefd);
}

/* The O_DIRECT alignment: 512 unless a 512-byte direct read fails. */
static unsigned direct_align(int fd, const struct hv_file_info *fi)
{
	void *p;
	unsigned a = 512;

	if (fi->is_block_device)
		return fi->logical_sector;
	if (fi->size < 4096 || posix_memalign(&p, 4096, 4096))
		return 4096;
	if (pread(fd, (char *)p + 512, 512, 512) < 0)
		a = 4096;
	free(p);
	return a;
}

static int file_stat(struct hv_file *f)
{
	struct stat st;

	if (fstat(f->bfd, &st))
		return -errno;
	f->info.logical_sector = 512;
	f->info.physical_sector = 4096;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		int ls = 512;
		unsigned int ps = 4096;
		if (ioctl(f->bfd, BLKGETSIZE64, &sz))
			return -errno;
		if (ioctl(f->bfd, BLKSSZGET, &ls) == 0 && ls > 0)
			f->info.logical_sector = (uint32_t)ls;
		if (ioctl(f->bfd, BLKPBSZGET, &ps) == 0 && ps > 0)
			f->info.physical_sector = ps;
		f->info.size = sz;
		f->info.is_block_device = 1;
	} else if (S_ISREG(st.st_mode)) {
		f->info.size = (uint64_t)st.st_size;
	} else {
		return -EMEDIUMTYPE;
	}
	return 0;
}

/* open(2) that cannot hang on a FIFO (or a tty, or a device whose open
 * waits for carrier): O_NONBLOCK for the open itself, the type checked on
 * the descriptor (no race with a rename), then blocking I/O as usual. */
static int open_nonblock(const char *path, int oflags, mode_t mode)
{
	int fd = open(path, oflags | O_NONBLOCK, mode), fl;

	if (fd < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int aio_file_open(struct instance *inst, const char *path, unsigned flags,
		  struct hv_file **out)
{
	struct hv_file *f = calloc(1, sizeof(*f));
	int oflags = O_CLOEXEC | ((flags & HV_FILE_RDONLY) ? O_RDONLY : O_RDWR);
	int r;

	if (!f)
		return -ENOMEM;
	if (flags & HV_FILE_CREATE)
		oflags |= O_CREAT | O_EXCL;
	f->fd = -1;
	f->inst = inst;
	atomic_init(&f->refs, 1);
	f->bfd = open_nonblock(path, oflags, 0644);
	if (f->bfd < 0) {
		r = f->bfd;
		goto out_free;
	}
	r = file_stat(f);
	if (r)
		goto out_close;
	f->fd = f->bfd;
	/* HV_DISK_NODIRECT: for file systems that accept O_DIRECT but handle
	 * it badly, and for tests of the pool path on any file system */
	if (!(flags & HV_FILE_BUFFERED) && !getenv("HV_DISK_NODIRECT")) {
		/* the same file, not whatever the path names by now */
		char self[64];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", f->bfd);
		int dfd = open_nonblock(
			self, (oflags & ~(O_CREAT | O_EXCL)) | O_DIRECT, 0);
		if (dfd >= 0) {
			f->fd = dfd;
			f->info.direct = 1;
			f->align = direct_align(dfd, &f->info);
		}
	}
	f->path = strdup(path);
	if (inst) {
		/* probing reads synchronously and needs no engine */
		r = engine_get(inst->loop);
		if (r)
			goto out_close;
		f->engine = 1;
	}
	*out = f;
	return 0;

out_close:
	if (f->fd >= 0 && f->fd != f->bfd)
		close(f->fd);
	close(f->bfd);
out_free:
	free(f->path);
	free(f);
	return r;
}

static void file_put(struct hv_file *f)
{
	if (atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	if (f->fd != f->bfd)
		close(f->fd);
	close(f->bfd);
	free(f->path);
	if (f->engine)
		engine_put();
	free(f);
}

/* Requests still in flight complete as usual (done() is called, so their
 * buffers must live until then); the file goes after the last of them. */
void aio_file_close(struct hv_file *f)
{
	if (f)
		file_put(f);
}

static int aligned_iov(const struct hv_file *f, const struct hv_file_io *io,
		       uint64_t len)
{
	if ((io->offset | len) & (f->align - 1))
		return -1; /* offset or length: the pool must do it */
	for (int i = 0; i < io->iovcnt; i++)
		if (((uintptr_t)io->iov[i].iov_base | io->iov[i].iov_len) &
		    (f->align - 1))
			return 0; /* memory only: bounce */
	return 1;
}

int core_file_submit(struct hv_ctx *ctx, struct hv_file *f,
		     struct hv_file_io *io)
{
	struct job *j;
	int al;

	/* io->size (stamped by hv_file_submit()) covers what this core reads */
	if (io->size < sizeof(struct hv_file_io) || io->op < HV_DISK_READ ||
	    io->op > HV_DISK_DISCARD || io->iovcnt < 0)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->io = io;
	j->f = f;
	j->len = iov_len(io->iov, io->iovcnt);
	eng.inflight++;
	atomic_fetch_add(&f->refs, 1);
	inst_io_begin(f->inst);
	if (io->op == HV_DISK_FLUSH || io->op == HV_DISK_DISCARD ||
	    !f->info.direct || !eng.aio_ok ||
	    (al = aligned_iov(f, io, j->len)) < 0) {
		j->use_pool = 1;
		eng.n_pool++;
		pool_queue(j);
		return 0;
	}
	eng.n_aio++;
	if (al == 0 || io->iovcnt > IOV_MAX) {
		if (posix_memalign(&j->bounce, 4096, j->len ? j->len : 4096)) {
			free(j);
			eng.inflight--;
			atomic_fetch_sub(&f->refs, 1);
			inst_io_end(f->inst);
			return -ENOMEM;
		}
		j->biov.iov_base = j->bounce;
		j->biov.iov_len = j->len;
		if (io->op == HV_DISK_WRITE) {
			char *p = j->bounce;
			for (int i = 0; i < io->iovcnt; i++) {
				memcpy(p, io->iov[i].iov_base,
				       io->iov[i].iov_len);
				p += io->iov[i].iov_len;
			}
		}
	}
	const struct iovec *iov = j->bounce ? &j->biov : io->iov;
	int n = j->bounce ? 1 : io->iovcnt;
	if (io->op == HV_DISK_READ)
		io_prep_preadv(&j->cb, f->fd, iov, n, (long long)io->offset);
	else
		io_prep_pwritev(&j->cb, f->fd, iov, n, (long long)io->offset);
	io_set_eventfd(&j->cb, eng.efd);
	j->cb.data = j;
	pthread_mutex_lock(&sub_mu);
	if (eng.aio_busy >= AIO_DEPTH || eng.wait_head) {
		if (eng.wait_tail)
			eng.wait_tail->next = j;
		else
			eng.wait_head = j;
		eng.wait_tail = j;
	} else if (aio_push(j)) {
		j->use_pool = 1;
		pool_queue(j);
	}
	pthread_mutex_unlock(&sub_mu);
	return 0;
}

int core_file_open(struct hv_ctx *ctx, const char *path, unsigned flags,
		   struct hv_file **out)
{
	return aio_file_open(ctx ? inst_of(ctx) : NULL, path, flags, out);
}

void core_file_close(struct hv_ctx *ctx, struct hv_file *f)
{
	aio_file_close(f);
}

void core_file_info(struct hv_ctx *ctx, struct hv_file *f,
		    struct hv_file_info *info, size_t info_size)
{
	struct stat st;

	/* the size moves as formats grow their files */
	if (!f->info.is_block_device && fstat(f->bfd, &st) == 0)
		f->info.size = (uint64_t)st.st_size;
	memset(info, 0, info_size);
	memcpy(info, &f->info, info_size < sizeof(f->info) ? info_size : sizeof(f->info));
}

int64_t core_file_pread(struct hv_ctx *ctx, struct hv_file *f, void *buf,
			size_t len, uint64_t offset)
{
	struct iovec v = { buf, len };

	return xfer(f->bfd, 0, &v, 1, len, offset);
}

int64_t core_file_pwrite(struct hv_ctx *ctx, struct hv_file *f, const void *buf,
			 size_t len, uint64_t offset)
{
	struct iovec v = { (void *)buf, len };
	int64_t done = xfer(f->bfd, 1, &v, 1, len, offset);

	if (done > 0 && !f->info.is_block_device &&
	    offset + (uint64_t)done > f->info.size)
		f->info.size = offset + (uint64_t)done;
	return done;
}

int core_file_sync(struct hv_ctx *ctx, struct hv_file *f)
{
	return fdatasync(f->bfd) ? -errno : 0;
}

int core_file_truncate(struct hv_ctx *ctx, struct hv_file *f, uint64_t size)
{
	if (f->info.is_block_device)
		return size <= f->info.size ? 0 : -ENOSPC;
	if (ftruncate(f->bfd, (off_t)size))
		return -errno;
	f->info.size = size;
	return 0;
}

void *core_buf_alloc(struct hv_ctx *ctx, size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return NULL;
	return p;
}

void core_buf_free(struct hv_ctx *ctx, void *buf)
{
	free(buf);
}
