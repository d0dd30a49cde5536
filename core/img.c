/*
 * `hv img`: create, info, check, convert, commit, resize and map disk
 * images through the same format plugins a VM uses. Outside a VM each image
 * is an instance with its own lock; this file drives the event loop itself.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "disk.h"
#include "disk_int.h"
#include "instance.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "services.h"

#define CHUNK (2u << 20)
#define DEPTH 8

struct img {
	struct loop *loop;
	struct plugin_set set;
	int json;
	int progress; /* stdout is a tty */
};

static void usage_to(FILE *f)
{
	fprintf(f,
		"usage: hv img COMMAND ...\n"
		"  create [-f FMT] [--fixed] [-b PARENT] [--block-size N]\n"
		"         [--logical-sector N] [--physical-sector N] FILE "
		"[SIZE]\n"
		"  info [-f FMT] [--output=json] FILE\n"
		"  check [-f FMT] [-r] [--output=json] FILE\n"
		"  convert [-f FMT] -O FMT [--fixed] [--block-size N]\n"
		"          [--logical-sector N] SRC DST\n"
		"  commit [-f FMT] FILE        merge FILE into its parent\n"
		"  resize [-f FMT] FILE SIZE\n"
		"  map [-f FMT] [--output=json] FILE\n"
		"FMT is a disk plugin: raw, vhd, vhdx. Sizes take K/M/G/T.\n");
}

static void usage(void)
{
	usage_to(stderr);
}

static void progress(struct img *im, uint64_t done, uint64_t total)
{
	static int last = -1;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (!im->progress || pct == last)
		return;
	last = pct;
	printf("\r    (%3d%%) [%-40.*s]", pct, pct * 40 / 100,
	       "########################################");
	if (done >= total) {
		printf("\n");
		last = -1;
	}
	fflush(stdout);
}

static const struct plugin *find_fmt(struct img *im, const char *fmt)
{
	const struct plugin *p = plugin_find(&im->set, fmt);

	if (!p || p->desc.kind != HV_KIND_DISK) {
		err("img: no disk format plugin named '%s'", fmt);
		return NULL;
	}
	return p;
}

static struct hv_disk *img_open(struct img *im, const char *path,
				const char *fmt, unsigned flags)
{
	const struct plugin *p = disk_pick_plugin(&im->set, path, fmt, "img");

	if (!p)
		return NULL;
	return disk_open(&core_env, im->loop, &im->set, NULL, NULL, path, p,
			 flags, NULL, "img");
}

static const struct hv_disk_ops *ops_of(struct hv_disk *d)
{
	return &d->inst->plugin->ops.disk;
}

/* ---- create ---- */
struct create_opts {
	struct hv_disk_create c;
	const char *fmt;
};

static int parse_size(const char *s, uint64_t *out, const char *what)
{
	if (cfg_parse_size(s, out)) {
		err("img: bad %s '%s'", what, s);
		return -1;
	}
	return 0;
}

static int do_create(struct img *im, const struct plugin *p, const char *path,
		     const struct hv_disk_create *c)
{
	struct instance *in;
	int r;

	if (!p->ops.disk.create) {
		err("img: %s: format %s cannot create images", path,
		    p->desc.name);
		return -1;
	}
	in = instance_new(&core_env, NULL, im->loop, &im->set, p, NULL, NULL);
	if (!in)
		return -1;
	inst_lock(in);
	r = p->ops.disk.create(&in->ctx, path, c);
	inst_unlock(in);
	instance_free(in);
	if (r) {
		err("img: %s: cannot create %s image: %s", path, p->desc.name,
		    strerror(-r));
		return -1;
	}
	return 0;
}

enum { O_FIXED = 256, O_BLOCK, O_LSEC, O_PSEC, O_OUTPUT };
static const struct option long_opts[] = {
	{"fixed", no_argument, NULL, O_FIXED},
	{"block-size", required_argument, NULL, O_BLOCK},
	{"logical-sector", required_argument, NULL, O_LSEC},
	{"physical-sector", required_argument, NULL, O_PSEC},
	{"output", required_argument, NULL, O_OUTPUT},
	{"repair", no_argument, NULL, 'r'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

struct args {
	const char *fmt, *ofmt, *parent;
	int repair, json, fixed;
	uint64_t block, lsec, psec;
	int nargs;
	char **args;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:O:b:rh", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			a->fmt = optarg;
			break;
		case 'O':
			a->ofmt = optarg;
			break;
		case 'b':
			a->parent = optarg;
			break;
		case 'r':
			a->repair = 1;
			break;
		case O_FIXED:
			a->fixed = 1;
			break;
		case O_BLOCK:
			if (parse_size(optarg, &a->block, "block size"))
				return -1;
			break;
		case O_LSEC:
			if (parse_size(optarg, &a->lsec, "sector size"))
				return -1;
			break;
		case O_PSEC:
			if (parse_size(optarg, &a->psec, "sector size"))
				return -1;
			break;
		case O_OUTPUT:
			if (strcmp(optarg, "json") && strcmp(optarg, "human")) {
				err("img: --output takes json or human");
				return -1;
			}
			a->json = !strcmp(optarg, "json");
			break;
		default:
			usage();
			return -1;
		}
	}
	a->nargs = argc - optind;
	a->args = argv + optind;
	return 0;
}

static void fill_create(const struct args *a, struct hv_disk_create *c)
{
	memset(c, 0, sizeof(*c));
	c->block_size = (uint32_t)a->block;
	c->logical_sector = (uint32_t)a->lsec;
	c->physical_sector = (uint32_t)a->psec;
	c->flags = a->fixed ? HV_DISK_CREATE_FIXED : 0;
	c->parent = a->parent;
}

static int cmd_create(struct img *im, struct args *a)
{
	struct hv_disk_create c;
	const struct plugin *p;

	if (a->nargs < 1 || (a->nargs < 2 && !a->parent)) {
		usage();
		return 1;
	}
	fill_create(a, &c);
	if (a->nargs >= 2 && parse_size(a->args[1], &c.size, "size"))
		return 1;
	if (a->parent && !c.size) {
		struct hv_disk *pd =
			img_open(im, a->parent, NULL, HV_DISK_OPEN_RDONLY);
		if (!pd)
			return 1;
		c.size = pd->info.size;
		if (!c.logical_sector)
			c.logical_sector = pd->info.logical_sector;
		disk_close(pd);
	}
	p = find_fmt(im, a->fmt ? a->fmt : "vhdx");
	if (!p || do_create(im, p, a->args[0], &c))
		return 1;
	return 0;
}

/* ---- info ---- */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_info(struct img *im, struct args *a)
{
	struct hv_disk *d;
	char parent[4096] = "";
	struct stat st;

	if (a->nargs != 1) {
		usage();
		return 1;
	}
	d = img_open(im, a->args[0], a->fmt, HV_DISK_OPEN_RDONLY);
	if (!d)
		return 1;
	if (ops_of(d)->parent) {
		inst_lock(d->inst);
		ops_of(d)->parent(&d->inst->ctx, parent, sizeof(parent));
		inst_unlock(d->inst);
	}
	if (!*parent && d->backing) /* a format without the v1 parent op */
		snprintf(parent, sizeof(parent), "%s", d->backing->path);
	if (stat(a->args[0], &st))
		st.st_blocks = 0;
	if (a->json) {
		printf("{\"filename\": ");
		json_str(a->args[0]);
		printf(", \"format\": ");
		json_str(d->inst->plugin->desc.name);
		printf(", \"virtual-size\": %" PRIu64
		       ", \"actual-size\": %" PRIu64
		       ", \"logical-sector-size\": %u, "
		       "\"physical-sector-size\": %u",
		       d->info.size, (uint64_t)st.st_blocks * 512,
		       d->info.logical_sector, d->info.physical_sector);
		if (*parent) {
			printf(", \"backing-filename\": ");
			json_str(parent);
		}
		printf("}\n");
	} else {
		printf("image: %s\nfile format: %s\nvirtual size: %" PRIu64
		       " bytes\ndisk size: %" PRIu64 " bytes\n"
		       "logical sector: %u\nphysical sector: %u\n",
		       a->args[0], d->inst->plugin->desc.name, d->info.size,
		       (uint64_t)st.st_blocks * 512, d->info.logical_sector,
		       d->info.physical_sector);
		if (*parent)
			printf("backing file: %s\n", parent);
	}
	disk_close(d);
	return 0;
}

/* ---- check ---- */
/* A parent's own errors count against the child (it reads through them);
 * never repaired from here: `hv img check -r` that file itself. */
static void check_layer(struct hv_disk *p, struct hv_disk_check *res)
{
	struct hv_disk_check pr;

	if (!ops_of(p)->check)
		return;
	memset(&pr, 0, sizeof(pr));
	inst_lock(p->inst);
	int r = ops_of(p)->check(&p->inst->ctx, 0, &pr);
	inst_unlock(p->inst);
	if (r < 0 || !pr.errors)
		return;
	res->errors += pr.errors;
	if (!res->first_error[0]) /* names the parent's file */
		memcpy(res->first_error, pr.first_error,
		       sizeof(res->first_error));
}

static int cmd_check(struct img *im, struct args *a)
{
	struct hv_disk *d;
	struct hv_disk_check res;
	int r = 0;

	if (a->nargs != 1) {
		usage();
		return 1;
	}
	d = img_open(im, a->args[0], a->fmt,
		     a->repair ? 0 : HV_DISK_OPEN_RDONLY);
	if (!d)
		return 1;
	memset(&res, 0, sizeof(res));
	if (ops_of(d)->check) {
		inst_lock(d->inst);
		r = ops_of(d)->check(&d->inst->ctx,
				     a->repair ? HV_DISK_CHECK_REPAIR : 0,
				     &res);
		inst_unlock(d->inst);
	}
	for (struct hv_disk *p = d->backing; p && r >= 0; p = p->backing)
		check_layer(p, &res);
	if (a->json) {
		printf("{\"filename\": ");
		json_str(a->args[0]);
		printf(", \"format\": ");
		json_str(d->inst->plugin->desc.name);
		printf(", \"check-errors\": %" PRIu64
		       ", \"corruptions-fixed\": %" PRIu64
		       ", \"leaks\": %" PRIu64,
		       res.errors, res.repaired, res.leaks);
		if (res.first_error[0]) {
			printf(", \"first-error\": ");
			json_str(res.first_error);
		}
		printf("}\n");
	} else if (res.errors || res.leaks) {
		printf("%s: %" PRIu64 " errors (%" PRIu64 " repaired), %" PRIu64
		       " leaked clusters%s%s\n",
		       a->args[0], res.errors, res.repaired, res.leaks,
		       res.first_error[0] ? "; first: " : "", res.first_error);
	} else {
		printf("No errors were found on the image.\n");
	}
	disk_close(d);
	if (r < 0) {
		err("img: %s: check failed: %s", a->args[0], strerror(-r));
		return 1;
	}
	return res.errors > res.repaired ? 2 : (res.leaks ? 3 : 0);
}

/* ---- map ---- */
static int map_range(struct hv_disk *d, uint64_t off, uint64_t len,
		     uint64_t *pnum, uint32_t *st)
{
	int r;

	if (!ops_of(d)->map) {
		*pnum = len;
		*st = HV_DISK_MAP_DATA;
		return 0;
	}
	inst_lock(d->inst);
	r = ops_of(d)->map(&d->inst->ctx, off, len, pnum, st);
	inst_unlock(d->inst);
	if (r == 0 && (*pnum == 0 || *pnum > len))
		r = -EIO;
	return r;
}

static int cmd_map(struct img *im, struct args *a)
{
	struct hv_disk *d;
	uint64_t off = 0;
	int first = 1, r = 0;

	if (a->nargs != 1) {
		usage();
		return 1;
	}
	d = img_open(im, a->args[0], a->fmt, HV_DISK_OPEN_RDONLY);
	if (!d)
		return 1;
	printf(a->json ? "[" : "%-16s %-16s %s\n", "offset", "length", "state");
	while (off < d->info.size) {
		uint64_t n, start = off;
		uint32_t st, st2;
		r = map_range(d, off, d->info.size - off, &n, &st);
		if (r)
			break;
		off += n;
		/* merge equal neighbours */
		while (off < d->info.size &&
		       map_range(d, off, d->info.size - off, &n, &st2) == 0 &&
		       st2 == st)
			off += n;
		if (a->json)
			printf("%s\n{\"start\": %" PRIu64
			       ", \"length\": %" PRIu64
			       ", \"data\": %s, \"zero\": %s}",
			       first ? "" : ",", start, off - start,
			       (st & HV_DISK_MAP_DATA) ? "true" : "false",
			       (st & HV_DISK_MAP_ZERO) ? "true" : "false");
		else
			printf("0x%-14" PRIx64 " 0x%-14" PRIx64 " %s%s\n",
			       start, off - start,
			       (st & HV_DISK_MAP_DATA) ? "data" : "unallocated",
			       (st & HV_DISK_MAP_ZERO) ? ",zero" : "");
		first = 0;
	}
	if (a->json)
		printf("]\n");
	disk_close(d);
	if (r) {
		err("img: %s: map failed: %s", a->args[0], strerror(-r));
		return 1;
	}
	return 0;
}

/* ---- copying: convert and commit share one pipelined copier ---- */
struct slot {
	struct hv_disk_req req;
	struct iovec iov;
	void *buf;
	uint64_t off, len;
	int busy;
};

struct copier {
	struct img *im;
	struct hv_disk *src, *dst;
	uint64_t size, next, done;
	int only_data; /* commit: copy only what the source itself holds */
	int err;
	struct slot s[DEPTH];
};

static int all_zero(const void *buf, size_t len)
{
	const uint64_t *p = buf;

	for (size_t i = 0; i < len / 8; i++)
		if (p[i])
			return 0;
	return 1;
}

static void slot_start(struct copier *c, struct slot *s);

static void write_done(struct hv_ctx *ctx, struct hv_disk_req *req, int st)
{
	struct slot *s = (struct slot *)req;
	struct copier *c = req->opaque;

	if (st && !c->err)
		c->err = st;
	c->done += s->len;
	s->busy = 0;
}

static void read_done(struct hv_ctx *ctx, struct hv_disk_req *req, int st)
{
	struct slot *s = (struct slot *)req;
	struct copier *c = req->opaque;

	if (st || all_zero(s->buf, s->len)) {
		if (st && !c->err)
			c->err = st;
		c->done += s->len;
		s->busy = 0;
		return;
	}
	s->req.op = HV_DISK_WRITE;
	s->req.done = write_done;
	/* called under the source's lock; the destination has its own */
	inst_unlock(c->src->inst);
	inst_lock(c->dst->inst);
	int r = disk_submit(c->dst, &c->dst->inst->ctx, &s->req);
	inst_unlock(c->dst->inst);
	inst_lock(c->src->inst);
	if (r) {
		if (!c->err)
			c->err = r;
		c->done += s->len;
		s->busy = 0;
	}
}

/* Pick the next range worth reading and start it; 0 when none is left. */
static void slot_start(struct copier *c, struct slot *s)
{
	while (c->next < c->size && !c->err) {
		uint64_t len = c->size - c->next, n;
		uint32_t st;
		if (len > CHUNK)
			len = CHUNK;
		if (map_range(c->src, c->next, len, &n, &st))
			n = len, st = HV_DISK_MAP_DATA;
		if ((st & HV_DISK_MAP_ZERO) ||
		    (c->only_data && !(st & HV_DISK_MAP_DATA))) {
			c->next += n;
			c->done += n;
			continue;
		}
		s->off = c->next;
		s->len = n;
		c->next += n;
		memset(&s->req, 0, sizeof(s->req));
		s->iov.iov_base = s->buf;
		s->iov.iov_len = n;
		s->req.op = HV_DISK_READ;
		s->req.offset = s->off;
		s->req.len = n;
		s->req.iov = &s->iov;
		s->req.iovcnt = 1;
		s->req.done = read_done;
		s->req.opaque = c;
		s->busy = 1;
		inst_lock(c->src->inst);
		int r = disk_submit(c->src, &c->src->inst->ctx, &s->req);
		inst_unlock(c->src->inst);
		if (r) {
			c->err = r;
			s->busy = 0;
		}
		return;
	}
}

static int copy_run(struct copier *c)
{
	for (int i = 0; i < DEPTH; i++) {
		c->s[i].buf = core_buf_alloc(NULL, CHUNK);
		if (!c->s[i].buf)
			return -ENOMEM;
	}
	for (;;) {
		int busy = 0;
		for (int i = 0; i < DEPTH; i++) {
			if (!c->s[i].busy)
				slot_start(c, &c->s[i]);
			busy |= c->s[i].busy;
		}
		progress(c->im, c->done, c->size);
		if (!busy)
			break;
		loop_once(c->im->loop, 1000);
	}
	for (int i = 0; i < DEPTH; i++)
		core_buf_free(NULL, c->s[i].buf);
	if (!c->err)
		c->err = disk_rw_sync(c->dst, HV_DISK_FLUSH, 0, NULL, 0);
	return c->err;
}

static int cmd_convert(struct img *im, struct args *a)
{
	struct hv_disk_create cr;
	struct copier c;
	const struct plugin *p;
	int r;

	if (a->nargs != 2 || !a->ofmt) {
		usage();
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.im = im;
	c.src = img_open(im, a->args[0], a->fmt, HV_DISK_OPEN_RDONLY);
	if (!c.src)
		return 1;
	fill_create(a, &cr);
	cr.size = c.src->info.size;
	if (!cr.logical_sector)
		cr.logical_sector = c.src->info.logical_sector;
	p = find_fmt(im, a->ofmt);
	if (!p || do_create(im, p, a->args[1], &cr)) {
		disk_close(c.src);
		return 1;
	}
	c.dst = disk_open(&core_env, im->loop, &im->set, NULL, NULL, a->args[1],
			  p, 0, NULL, "img");
	if (!c.dst) {
		disk_close(c.src);
		return 1;
	}
	c.size = c.src->info.size < c.dst->info.size ? c.src->info.size
						     : c.dst->info.size;
	r = copy_run(&c);
	disk_close(c.src);
	disk_close(c.dst);
	if (r) {
		err("img: convert %s -> %s: %s", a->args[0], a->args[1],
		    strerror(-r));
		return 1;
	}
	return 0;
}

/* The child's parent is the layer the core linked below it: reopened
 * read-write for the merge, then read-only again before the chain goes. */
static int cmd_commit(struct img *im, struct args *a)
{
	struct copier c;
	int r;

	if (a->nargs != 1) {
		usage();
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.im = im;
	c.only_data = 1;
	c.src = img_open(im, a->args[0], a->fmt, HV_DISK_OPEN_RDONLY);
	if (!c.src)
		return 1;
	if (!c.src->backing) {
		err("img: %s: not a differencing image", a->args[0]);
		disk_close(c.src);
		return 1;
	}
	c.dst = c.src->backing;
	r = disk_reopen(c.dst, 0);
	if (r) {
		err("img: commit %s -> %s: cannot reopen the parent "
		    "read-write: %s",
		    a->args[0], c.dst->path, strerror(-r));
		disk_close(c.src);
		return 1;
	}
	c.size = c.src->info.size;
	r = copy_run(&c);
	int r2 = disk_reopen(c.dst, HV_DISK_OPEN_RDONLY);
	if (r || r2) {
		err("img: commit %s -> %s: %s", a->args[0], c.dst->path,
		    strerror(r ? -r : -r2));
		disk_close(c.src);
		return 1;
	}
	printf("Image committed into %s.\n", c.dst->path);
	disk_close(c.src);
	return 0;
}

static int cmd_resize(struct img *im, struct args *a)
{
	struct hv_disk *d;
	uint64_t size;
	int r;

	if (a->nargs != 2 || parse_size(a->args[1], &size, "size")) {
		usage();
		return 1;
	}
	d = img_open(im, a->args[0], a->fmt, 0);
	if (!d)
		return 1;
	if (!ops_of(d)->resize) {
		err("img: %s: format %s cannot resize", a->args[0],
		    d->inst->plugin->desc.name);
		disk_close(d);
		return 1;
	}
	inst_lock(d->inst);
	r = ops_of(d)->resize(&d->inst->ctx, size);
	inst_unlock(d->inst);
	disk_close(d);
	if (r) {
		err("img: %s: resize to %" PRIu64 ": %s", a->args[0], size,
		    strerror(-r));
		return 1;
	}
	return 0;
}

int img_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct img *, struct args *);
	} cmds[] = {
		{"create", cmd_create}, {"info", cmd_info},
		{"check", cmd_check},	{"convert", cmd_convert},
		{"commit", cmd_commit}, {"resize", cmd_resize},
		{"map", cmd_map},
	};
	struct img im;
	struct args a;
	char *path;
	int r = 1;

	if (argc < 2) {
		usage();
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage_to(stdout);
		return 0;
	}
	memset(&im, 0, sizeof(im));
	im.progress = isatty(1);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (parse_args(argc - 1, argv + 1, &a))
			return 1;
		im.json = a.json;
		if (a.json)
			im.progress = 0;
		im.loop = loop_new();
		path = plugin_default_path(NULL);
		plugin_load_path(&im.set, path);
		free(path);
		r = cmds[i].fn(&im, &a);
		plugin_set_free(&im.set);
		loop_free(im.loop);
		return r;
	}
	usage();
	return 1;
}
