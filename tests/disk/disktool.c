/*
 * Drives an image through the block layer the way a device would (async
 * requests, queue depth, flushes) for the crash test, the write tests and
 * the benchmark:
 *   disktool write IMG OFF LEN BYTE        fill, flush (HV_DISK_RO=1: open
 *                                          read-only, expect a refusal)
 *   disktool discard IMG OFF LEN           discard, flush
 *   disktool crash IMG LOG SEED            write distinct 64 KiB slots in
 *       random order, flushing every 16; after each flush, append the
 *       slots acknowledged before it to LOG (fsync'd). Runs until killed.
 *   disktool verify IMG LOG [SEED]         every logged slot reads back
 *   disktool read IMG OFF LEN              bytes to stdout
 *   disktool cat IMG                       the whole disk to stdout
 *   disktool bench IMG SECONDS             4K rand read/write IOPS at QD32,
 *       1 MiB sequential read/write MB/s
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "services.h"

#define SLOT 65536u

static struct loop *loop;
static struct plugin_set set;

static struct hv_disk *open_img(const char *path, unsigned flags)
{
	char *p = plugin_default_path(NULL);
	struct hv_disk *d;

	loop = loop_new();
	plugin_load_path(&set, p);
	free(p);
	d = disk_open(&core_env, loop, &set, NULL, NULL, path, NULL, flags,
		      NULL, path);
	if (!d)
		exit(1);
	return d;
}

static void fill(uint8_t *b, uint64_t slot, uint32_t seed)
{
	uint64_t x = slot * 0x9E3779B97F4A7C15ull ^ seed;
	for (unsigned i = 0; i < SLOT; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
}

static int cmd_discard(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], 0);
	int r = disk_rw_sync(d, HV_DISK_DISCARD, strtoull(argv[3], NULL, 0),
			     NULL, strtoull(argv[4], NULL, 0));

	if (!r)
		r = disk_rw_sync(d, HV_DISK_FLUSH, 0, NULL, 0);
	if (r)
		fprintf(stderr, "disktool: %s\n", strerror(-r));
	disk_close(d);
	return r ? 1 : 0;
}

static int cmd_write(int argc, char **argv)
{
	struct hv_disk *d = open_img(
		argv[2], getenv("HV_DISK_RO") ? HV_DISK_OPEN_RDONLY : 0);
	uint64_t off = strtoull(argv[3], NULL, 0),
		 len = strtoull(argv[4], NULL, 0);
	uint8_t *b = core_buf_alloc(NULL, len);
	int r;

	memset(b, (int)strtol(argv[5], NULL, 0), len);
	r = disk_rw_sync(d, HV_DISK_WRITE, off, b, len);
	if (!r)
		r = disk_rw_sync(d, HV_DISK_FLUSH, 0, NULL, 0);
	if (r)
		fprintf(stderr, "disktool: %s\n", strerror(-r));
	core_buf_free(NULL, b);
	disk_close(d);
	return r ? 1 : 0;
}

/* ---- crash ---- */
struct w {
	struct hv_disk_req req;
	struct iovec iov;
	uint8_t *buf;
	uint64_t slot;
	int busy;
};

static uint64_t *acked;
static int nacked;

static void w_done(struct hv_ctx *ctx, struct hv_disk_req *req, int st)
{
	struct w *w = (struct w *)req;
	if (st) {
		fprintf(stderr, "disktool: write failed: %s\n", strerror(-st));
		exit(1);
	}
	acked[nacked++] = w->slot;
	w->busy = 0;
}

static int cmd_crash(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], 0);
	int log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
	uint32_t seed = (uint32_t)strtoul(argv[4], NULL, 0);
	uint64_t n = d->info.size / SLOT, next = 0, *perm = malloc(n * 8);
	struct w ws[8];

	acked = malloc(n * 8);
	srand(seed);
	for (uint64_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = (uint64_t)rand() % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	memset(ws, 0, sizeof(ws));
	for (int i = 0; i < 8; i++)
		ws[i].buf = core_buf_alloc(NULL, SLOT);
	while (next < n) {
		/* 16 writes, 8 in flight, then a flush */
		for (int k = 0; k < 16 && next < n;) {
			for (int i = 0; i < 8 && k < 16 && next < n; i++) {
				struct w *w = &ws[i];
				if (w->busy)
					continue;
				w->slot = perm[next++];
				fill(w->buf, w->slot, seed);
				memset(&w->req, 0, sizeof(w->req));
				w->iov.iov_base = w->buf;
				w->iov.iov_len = SLOT;
				w->req.op = HV_DISK_WRITE;
				w->req.offset = w->slot * SLOT;
				w->req.len = SLOT;
				w->req.iov = &w->iov;
				w->req.iovcnt = 1;
				w->req.done = w_done;
				w->busy = 1;
				inst_lock(d->inst);
				if (disk_submit(d, &d->inst->ctx, &w->req))
					exit(1);
				inst_unlock(d->inst);
				k++;
			}
			loop_once(loop, 1000);
		}
		disk_drain(d);
		int upto = nacked;
		if (disk_rw_sync(d, HV_DISK_FLUSH, 0, NULL, 0))
			exit(1);
		char line[64];
		for (int i = 0; i < upto; i++) {
			int l = snprintf(line, sizeof(line), "%" PRIu64 "\n",
					 acked[i]);
			if (write(log, line, (size_t)l) != l)
				exit(1);
		}
		fsync(log);
		memmove(acked, acked + upto, (size_t)(nacked - upto) * 8);
		nacked -= upto;
	}
	disk_close(d);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], HV_DISK_OPEN_RDONLY);
	uint64_t off = strtoull(argv[3], NULL, 0),
		 len = strtoull(argv[4], NULL, 0);
	uint8_t *b = core_buf_alloc(NULL, len);
	int r = disk_rw_sync(d, HV_DISK_READ, off, b, len);

	if (r)
		fprintf(stderr, "disktool: %s\n", strerror(-r));
	else if (fwrite(b, 1, len, stdout) != len)
		r = -EIO;
	core_buf_free(NULL, b);
	disk_close(d);
	return r ? 1 : 0;
}

/* The whole virtual disk to stdout, 4 MiB at a time. */
static int cmd_cat(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], HV_DISK_OPEN_RDONLY);
	uint64_t chunk = 4 << 20;
	uint8_t *b = core_buf_alloc(NULL, chunk);
	int r = 0;

	for (uint64_t off = 0; off < d->info.size && !r; off += chunk) {
		uint64_t n =
			d->info.size - off < chunk ? d->info.size - off : chunk;
		r = disk_rw_sync(d, HV_DISK_READ, off, b, n);
		if (!r && fwrite(b, 1, n, stdout) != n)
			r = -EIO;
	}
	if (r)
		fprintf(stderr, "disktool: %s\n", strerror(-r));
	core_buf_free(NULL, b);
	disk_close(d);
	return r ? 1 : 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], HV_DISK_OPEN_RDONLY);
	FILE *f = fopen(argv[3], "r");
	uint8_t *want = malloc(SLOT), *got = core_buf_alloc(NULL, SLOT);
	uint64_t slot;
	int bad = 0, n = 0;
	uint32_t seed = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 0) : 0;

	while (f && fscanf(f, "%" SCNu64, &slot) == 1) {
		fill(want, slot, seed);
		if (disk_rw_sync(d, HV_DISK_READ, slot * SLOT, got, SLOT) ||
		    memcmp(want, got, SLOT)) {
			if (!bad)
				fprintf(stderr,
					"disktool: slot %" PRIu64 " lost\n",
					slot);
			bad++;
		}
		n++;
	}
	printf("%d slots verified, %d bad\n", n, bad);
	if (f)
		fclose(f);
	free(want);
	core_buf_free(NULL, got);
	disk_close(d);
	return bad ? 1 : 0;
}

/* ---- bench ---- */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ops_done;
static void b_done(struct hv_ctx *ctx, struct hv_disk_req *req, int st)
{
	if (st) {
		fprintf(stderr, "disktool: I/O failed: %s\n", strerror(-st));
		exit(1);
	}
	ops_done++;
	*(int *)req->opaque = 0;
}

static double run(struct hv_disk *d, int op, uint64_t bs, int random,
		  double secs)
{
	enum { QD = 32 };
	struct hv_disk_req rq[QD];
	struct iovec iov[QD];
	int busy[QD] = {0};
	uint64_t seq = 0, n = d->info.size / bs, t0 = now_ns();
	uint64_t end = t0 + (uint64_t)(secs * 1e9);

	ops_done = 0;
	for (int i = 0; i < QD; i++) {
		iov[i].iov_base = core_buf_alloc(NULL, bs);
		memset(iov[i].iov_base, 0x5a ^ i, bs);
		iov[i].iov_len = bs;
	}
	while (now_ns() < end) {
		for (int i = 0; i < QD; i++) {
			if (busy[i])
				continue;
			uint64_t blk =
				random ? ((uint64_t)rand() * 2654435761u) % n
				       : seq++ % n;
			memset(&rq[i], 0, sizeof(rq[i]));
			rq[i].op = (uint32_t)op;
			rq[i].offset = blk * bs;
			rq[i].len = bs;
			rq[i].iov = &iov[i];
			rq[i].iovcnt = 1;
			rq[i].done = b_done;
			rq[i].opaque = &busy[i];
			busy[i] = 1;
			inst_lock(d->inst);
			if (disk_submit(d, &d->inst->ctx, &rq[i]))
				exit(1);
			inst_unlock(d->inst);
		}
		loop_once(loop, 1000);
	}
	disk_drain(d);
	if (op == HV_DISK_WRITE)
		disk_rw_sync(d, HV_DISK_FLUSH, 0, NULL, 0);
	double el = (double)(now_ns() - t0) / 1e9;
	for (int i = 0; i < QD; i++)
		core_buf_free(NULL, iov[i].iov_base);
	return (double)ops_done / el;
}

static int cmd_bench(int argc, char **argv)
{
	struct hv_disk *d = open_img(argv[2], 0);
	double secs = strtod(argv[3], NULL);

	/* writes first, so the reads find allocated blocks */
	double sw = run(d, HV_DISK_WRITE, 1 << 20, 0, secs);
	double sr = run(d, HV_DISK_READ, 1 << 20, 0, secs);
	double rw = run(d, HV_DISK_WRITE, 4096, 1, secs);
	double rr = run(d, HV_DISK_READ, 4096, 1, secs);
	printf("randread_iops=%.0f randwrite_iops=%.0f seqread_mbs=%.0f "
	       "seqwrite_mbs=%.0f\n",
	       rr, rw, sr, sw);
	disk_close(d);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	if (argc >= 6 && !strcmp(argv[1], "write"))
		r = cmd_write(argc, argv);
	else if (argc >= 5 && !strcmp(argv[1], "crash"))
		r = cmd_crash(argc, argv);
	else if (argc >= 4 && !strcmp(argv[1], "verify"))
		r = cmd_verify(argc, argv);
	else if (argc >= 3 && !strcmp(argv[1], "cat"))
		r = cmd_cat(argc, argv);
	else if (argc >= 5 && !strcmp(argv[1], "discard"))
		r = cmd_discard(argc, argv);
	else if (argc >= 5 && !strcmp(argv[1], "read"))
		r = cmd_read(argc, argv);
	else if (argc >= 4 && !strcmp(argv[1], "bench"))
		r = cmd_bench(argc, argv);
	else
		fprintf(stderr, "usage: see tests/disk/disktool.c\n");
	if (getenv("HV_DISK_STATS")) {
		uint64_t a, p;
		aio_stats(&a, &p);
		fprintf(stderr, "engine: aio=%" PRIu64 " pool=%" PRIu64 "\n", a,
			p);
	}
	if (loop) {
		plugin_set_free(&set);
		loop_free(loop);
	}
	return r;
}
