/* SPDX-License-Identifier: MIT */
/*
 * virtio-scsi: a virtio 1.x SCSI host bus adapter (PCI 1af4:1048, Linux
 * virtio_scsi) on the SDK's virtio transport (hv/virtio.h). Its logical
 * units are plugins/common/scsi.c over the disks `target<T>` (LUN 0) and
 * `target<T>.lun<L>` name; a media = cdrom disk is an MMC CD-ROM LUN.
 *
 * Queues (spec 5.6.2): 0 control (task management, asynchronous
 * notification), 1 event (nothing is ever reported: no HOTPLUG or CHANGE
 * feature), 2.. requests. Request slots are preallocated, queue_size per
 * request queue, each with its element, iovecs and struct scsi_req; a
 * notify pops chains into free slots and submits them to the unit, which
 * answers inline or from the disk's done(). Both run on the main thread
 * (HV_VIRTIO_NOTIFY_MAIN: the kicking vCPU returns to the guest at once);
 * each completion flushes the used ring at once.
 * A queue whose slots are all busy is marked starved and popped again
 * when one frees, so no notify is lost.
 *
 * Addressing: the 8-byte LUN is 1, target, 0x40 | lun >> 8, lun & 0xff.
 * A target with no LUN configured answers BAD_TARGET; an absent LUN of a
 * present target gets peripheral qualifier 3 for INQUIRY and LOGICAL UNIT
 * NOT SUPPORTED otherwise; REPORT LUNS lists the target's LUN table.
 *
 * Task management: LOGICAL UNIT RESET, I_T NEXUS RESET, ABORT TASK (SET)
 * and CLEAR TASK SET are answered FUNCTION SUCCEEDED once every request
 * they cover has completed (the spec and Linux's virtscsi_tmf rely on
 * that); the resets also give the units a unit attention.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hv/hv.h>
#include <hv/virtio.h>

#include "../common/scsi.h"

/* response codes (spec 5.6.6.1) */
#define S_OK 0
#define S_OVERRUN 1
#define S_BAD_TARGET 3
#define S_FAILURE 9
#define S_FUNCTION_SUCCEEDED 10
#define S_FUNCTION_REJECTED 11
#define S_INCORRECT_LUN 12

/* control types and TMF subtypes */
#define T_TMF 0
#define T_AN_QUERY 1
#define T_AN_SUBSCRIBE 2
#define TMF_ABORT_TASK 0
#define TMF_ABORT_TASK_SET 1
#define TMF_CLEAR_TASK_SET 3
#define TMF_I_T_NEXUS_RESET 4
#define TMF_LUN_RESET 5

#define CDB_SIZE 32
#define SENSE_SIZE 96
#define MAX_TARGET 254
#define MAX_LUN 255
#define MAX_UNITS 256
#define SEG_MAX 126u
#define ELEM_IOV (SEG_MAX + 8)
#define MAX_SECTORS 2048u /* 512-byte sectors per command: 1 MiB */
#define CTL_SLOTS 8
#define STATE_VERSION 1

/* struct virtio_scsi_config (spec 5.6.4) */
struct vs_config {
	uint32_t num_queues, seg_max, max_sectors, cmd_per_lun;
	uint32_t event_info_size, sense_size, cdb_size;
	uint16_t max_channel, max_target;
	uint32_t max_lun;
} __attribute__((packed));

/* the device-writable header before data-in, sense_size bytes of sense */
struct vs_resp {
	uint32_t sense_len, residual;
	uint16_t status_qualifier;
	uint8_t status, response;
} __attribute__((packed));

struct unit {
	uint16_t target, lun;
	char key[24];
	struct scsi_lun u;
};

struct vscsi;

struct req {
	struct vscsi *s;
	struct hv_virtq *vq;
	struct req *next_free;
	struct unit *unit; /* NULL: answered by the HBA */
	struct hv_virtq_elem elem;
	struct iovec iov[ELEM_IOV];
	struct iovec data[ELEM_IOV];
	uint32_t in_hdr; /* bytes before data-in in the writable part */
	struct scsi_req sr;
};

struct ctl {
	struct hv_virtq_elem elem;
	struct iovec iov[8];
	bool busy;
	uint16_t target, lun;
	uint32_t subtype;
};

struct reqq {
	struct req *free;
	bool starved, running;
};

struct vscsi {
	struct hv_ctx *ctx;
	struct hv_virtio *vio;
	struct vs_config cfg;
	unsigned nq, qsize; /* request queues */
	bool paused;
	struct reqq *q;
	struct req *reqs;
	struct ctl ctl[CTL_SLOTS];
	struct unit *units;
	unsigned nunits;
};

static void queue_run(struct vscsi *s, struct hv_virtq *vq);
static void ctl_retry(struct vscsi *s);
static void ctl_run(struct vscsi *s, struct hv_virtq *vq);

/* ---- the LUN table ---- */

static struct unit *unit_find(struct vscsi *s, unsigned target, unsigned lun)
{
	for (unsigned i = 0; i < s->nunits; i++)
		if (s->units[i].target == target && s->units[i].lun == lun &&
		    (s->units[i].u.disk || s->units[i].u.type == SCSI_LUN_CDROM))
			return &s->units[i];
	return NULL;
}

static bool target_present(struct vscsi *s, unsigned target)
{
	for (unsigned i = 0; i < s->nunits; i++)
		if (s->units[i].target == target &&
		    (s->units[i].u.disk || s->units[i].u.type == SCSI_LUN_CDROM))
			return true;
	return false;
}

/* The 8-byte LUN: 0 and the target and LUN, or -1 (not our format). */
static int lun_decode(const uint8_t *l, unsigned *target, unsigned *lun)
{
	if (l[0] != 1)
		return -1;
	*target = l[1];
	*lun = ((unsigned)l[2] << 8 | l[3]) & 0x3fff;
	return 0;
}

/* ---- request queues ---- */

static void req_free(struct req *r)
{
	struct reqq *q = &r->s->q[hv_virtq_index(r->vq) - 2];

	r->next_free = q->free;
	q->free = r;
}

/* Write the response header (and sense) and give the chain back. */
static void req_answer(struct req *r, uint8_t response)
{
	struct vscsi *s = r->s;
	struct hv_virtq *vq = r->vq;
	struct hv_virtq_elem *e = &r->elem;
	struct reqq *q = &s->q[hv_virtq_index(vq) - 2];
	struct scsi_req *sr = &r->sr;
	uint32_t slen = sr->sense_len < s->cfg.sense_size ? sr->sense_len
							  : s->cfg.sense_size;
	struct vs_resp h = {
		.sense_len = response == S_OK ? slen : 0,
		.residual = response == S_OK ? sr->resid : sr->data_len,
		.status = response == S_OK ? sr->status : 0,
		.response = response,
	};
	uint32_t written = (uint32_t)sizeof(h) + s->cfg.sense_size;

	if (response == S_OK && sr->overrun) {
		h.response = S_OVERRUN;
		h.status = 0;
		h.sense_len = 0;
	}
	hv_iov_from_buf(e->in, e->in_num, 0, &h, sizeof(h));
	if (h.sense_len)
		hv_iov_from_buf(e->in, e->in_num, sizeof(h), sr->sense, h.sense_len);
	if (response == S_OK && sr->dir == SCSI_DIR_IN)
		written += sr->xfer;
	hv_virtq_push(vq, e, written);
	req_free(r);
	if (!q->running) {
		hv_virtq_flush(vq);
		if (q->starved && !s->paused)
			queue_run(s, vq);
	}
}

static void scsi_done(struct hv_ctx *ctx, struct scsi_req *sr)
{
	struct req *r = sr->opaque;
	struct vscsi *s = r->s;

	req_answer(r, S_OK);
	ctl_retry(s); /* a task management function may wait for this */
}

/* Map the data buffers and hand the command to its unit. */
static void req_start(struct req *r)
{
	struct vscsi *s = r->s;
	struct hv_virtq_elem *e = &r->elem;
	struct scsi_req *sr = &r->sr;
	uint32_t out_hdr = 19 + s->cfg.cdb_size;
	uint8_t hdr[19 + CDB_SIZE] = { 0 };
	uint64_t dout = e->out_len - out_hdr, din = e->in_len - r->in_hdr;
	unsigned target, lun;
	int n = 0;

	hv_iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr));
	memset(sr, 0, offsetof(struct scsi_req, status));
	memcpy(sr->cdb, hdr + 19, CDB_SIZE);
	sr->cdb_len = s->cfg.cdb_size < CDB_SIZE ? s->cfg.cdb_size : CDB_SIZE;
	sr->done = scsi_done;
	sr->opaque = r;
	if (dout && din) /* bidirectional: no VIRTIO_SCSI_F_INOUT */
		return req_answer(r, S_FAILURE);
	if (dout > UINT32_MAX || din > UINT32_MAX)
		return req_answer(r, S_OVERRUN);
	if (dout) {
		n = hv_iov_slice(e->out, e->out_num, out_hdr, dout, r->data, ELEM_IOV);
		sr->dir = SCSI_DIR_OUT;
		sr->data_len = (uint32_t)dout;
	} else if (din) {
		n = hv_iov_slice(e->in, e->in_num, r->in_hdr, din, r->data, ELEM_IOV);
		sr->dir = SCSI_DIR_IN;
		sr->data_len = (uint32_t)din;
	}
	if (n < 0)
		return req_answer(r, S_FAILURE);
	sr->iov = r->data;
	sr->iovcnt = n;
	if (lun_decode(hdr, &target, &lun) || !target_present(s, target)) {
		sr->data_len = 0;
		return req_answer(r, S_BAD_TARGET);
	}
	r->unit = unit_find(s, target, lun);
	if (sr->cdb[0] == SCSI_OP_REPORT_LUNS) {
		uint16_t luns[MAX_LUN + 1];
		unsigned k = 0;

		for (unsigned i = 0; i < s->nunits; i++)
			if (s->units[i].target == target &&
			    unit_find(s, target, s->units[i].lun))
				luns[k++] = s->units[i].lun;
		r->unit = NULL;
		return scsi_report_luns(s->ctx, sr, luns, k);
	}
	if (!r->unit)
		return scsi_no_lun(s->ctx, sr);
	scsi_lun_submit(&r->unit->u, sr);
}

static void queue_run(struct vscsi *s, struct hv_virtq *vq)
{
	struct reqq *q = &s->q[hv_virtq_index(vq) - 2];

	q->starved = false;
	q->running = true;
	for (;;) {
		struct req *r = q->free;
		uint32_t out_hdr = 19 + s->cfg.cdb_size;

		if (!r) {
			q->starved = true;
			break;
		}
		q->free = r->next_free;
		r->vq = vq;
		r->unit = NULL;
		if (hv_virtq_pop(vq, &r->elem) != 1) {
			req_free(r);
			break;
		}
		r->in_hdr = (uint32_t)sizeof(struct vs_resp) + s->cfg.sense_size;
		if (r->elem.out_len < out_hdr || r->elem.in_len < r->in_hdr) {
			hv_virtq_push(vq, &r->elem, 0);
			req_free(r);
			hv_virtio_needs_reset(s->vio, "virtio-scsi: a request without room for its headers");
			break;
		}
		req_start(r);
	}
	q->running = false;
	hv_virtq_flush(vq);
}

/* ---- the control queue ---- */

/* Whether every request the TMF covers has completed. */
static bool tmf_idle(struct vscsi *s, struct ctl *c)
{
	for (unsigned i = 0; i < s->nunits; i++) {
		struct unit *u = &s->units[i];

		if (u->target == c->target &&
		    (c->subtype == TMF_I_T_NEXUS_RESET || u->lun == c->lun) &&
		    scsi_lun_busy(&u->u))
			return false;
	}
	return true;
}

static void tmf_finish(struct vscsi *s, struct ctl *c, struct hv_virtq *vq)
{
	uint8_t resp = S_FUNCTION_SUCCEEDED;

	for (unsigned i = 0; i < s->nunits; i++) {
		struct unit *u = &s->units[i];

		if (u->target != c->target)
			continue;
		if (c->subtype == TMF_I_T_NEXUS_RESET ||
		    (c->subtype == TMF_LUN_RESET && u->lun == c->lun))
			scsi_lun_reset(&u->u);
	}
	hv_iov_from_buf(c->elem.in, c->elem.in_num, 0, &resp, 1);
	hv_virtq_push(vq, &c->elem, 1);
	c->busy = false;
}

/* Answer the TMFs that were waiting for requests to complete. */
static void ctl_retry(struct vscsi *s)
{
	struct hv_virtq *vq = hv_virtio_queue(s->vio, 0);
	bool any = false;

	for (unsigned i = 0; i < CTL_SLOTS; i++) {
		struct ctl *c = &s->ctl[i];

		if (c->busy && tmf_idle(s, c)) {
			tmf_finish(s, c, vq);
			any = true;
		}
	}
	if (any && !s->paused)
		ctl_run(s, vq); /* slots are free again: take what waits */
}

/* One control request: true when answered now, false when it waits. */
static bool ctl_start(struct vscsi *s, struct ctl *c, struct hv_virtq *vq)
{
	struct hv_virtq_elem *e = &c->elem;
	uint8_t b[24] = { 0 }, resp[5] = { 0 };
	uint32_t type, written = 1;
	unsigned target, lun;

	hv_iov_to_buf(e->out, e->out_num, 0, b, sizeof(b));
	memcpy(&type, b, 4);
	if (type == T_TMF) {
		if (e->out_len < 24 || e->in_len < 1)
			goto bad;
		memcpy(&c->subtype, b + 4, 4);
		if (lun_decode(b + 8, &target, &lun) || !target_present(s, target)) {
			resp[0] = S_BAD_TARGET;
		} else if (c->subtype == TMF_ABORT_TASK || c->subtype == TMF_ABORT_TASK_SET ||
			   c->subtype == TMF_CLEAR_TASK_SET || c->subtype == TMF_LUN_RESET ||
			   c->subtype == TMF_I_T_NEXUS_RESET) {
			c->target = (uint16_t)target;
			c->lun = (uint16_t)lun;
			if (!tmf_idle(s, c))
				return false;
			tmf_finish(s, c, vq);
			return true;
		} else {
			resp[0] = S_FUNCTION_REJECTED;
		}
	} else if (type == T_AN_QUERY || type == T_AN_SUBSCRIBE) {
		/* no asynchronous events: event_actual 0 */
		if (e->out_len < 16 || e->in_len < 5)
			goto bad;
		resp[4] = lun_decode(b + 4, &target, &lun) || !target_present(s, target)
				  ? S_BAD_TARGET : S_OK;
		written = 5;
	} else {
		if (e->in_len < 1)
			goto bad;
		resp[0] = S_FAILURE;
	}
	hv_iov_from_buf(e->in, e->in_num, 0, resp, written);
	hv_virtq_push(vq, e, written);
	return true;
bad:
	hv_virtq_push(vq, e, 0);
	hv_virtio_needs_reset(s->vio, "virtio-scsi: a control request too short for its type");
	return true;
}

static void ctl_run(struct vscsi *s, struct hv_virtq *vq)
{
	for (;;) {
		struct ctl *c = NULL;

		for (unsigned i = 0; i < CTL_SLOTS && !c; i++)
			if (!s->ctl[i].busy)
				c = &s->ctl[i];
		if (!c || hv_virtq_pop(vq, &c->elem) != 1)
			break;
		c->busy = true;
		if (ctl_start(s, c, vq))
			c->busy = false;
	}
	hv_virtq_flush(vq);
}

static void vs_notify(struct hv_ctx *ctx, void *opaque, struct hv_virtq *vq)
{
	struct vscsi *s = opaque;
	unsigned qi = hv_virtq_index(vq);

	if (qi == 1)
		return; /* event buffers stay with us: no event is ever sent */
	if (s->paused) {
		if (qi >= 2)
			s->q[qi - 2].starved = true;
		return;
	}
	if (qi == 0)
		ctl_run(s, vq);
	else
		queue_run(s, vq);
}

/* The driver reset the device: TMFs still waiting give their chains back
 * (their requests are in disk I/O and complete as usual). */
static void vs_vreset(struct hv_ctx *ctx, void *opaque)
{
	struct vscsi *s = opaque;
	struct hv_virtq *vq = hv_virtio_queue(s->vio, 0);

	for (unsigned i = 0; i < CTL_SLOTS; i++)
		if (s->ctl[i].busy) {
			hv_virtq_push(vq, &s->ctl[i].elem, 0);
			s->ctl[i].busy = false;
		}
}

/* sense_size and cdb_size are the driver's to write (spec 5.6.4). */
static void vs_config_write(struct hv_ctx *ctx, void *opaque, unsigned off,
			    unsigned size, uint32_t value)
{
	struct vscsi *s = opaque;

	if (size != 4)
		return;
	if (off == offsetof(struct vs_config, sense_size) && value <= 4096)
		s->cfg.sense_size = value;
	else if (off == offsetof(struct vs_config, cdb_size) && value >= 6 &&
		 value <= CDB_SIZE)
		s->cfg.cdb_size = value;
}

static const struct hv_virtio_ops vops = {
	.notify = vs_notify,
	.reset = vs_vreset,
	.config_write = vs_config_write,
};

/* ---- lifecycle ---- */

struct scan {
	struct vscsi *s;
	int rc;
};

static int unit_add(struct hv_ctx *ctx, void *opaque, const char *key,
		    const char *value, const uint32_t idx[2])
{
	struct scan *sc = opaque;
	struct vscsi *s = sc->s;
	struct unit *u;
	struct hv_disk *d;
	int r;

	if (!s->units) { /* the counting pass */
		s->nunits++;
		return 0;
	}
	u = &s->units[s->nunits];
	u->target = (uint16_t)idx[0];
	u->lun = (uint16_t)(strchr(key, '.') ? idx[1] : 0);
	snprintf(u->key, sizeof(u->key), "%s", key);
	d = hv_disk_attach(ctx, key);
	if (!d)
		return -ENODEV; /* the core said why */
	r = scsi_lun_init(&u->u, ctx, d, scsi_lun_type_of(ctx, d), value);
	if (r) {
		hv_error(ctx, "%s = %s: the disk's sector size cannot back a %s", key,
			 value, u->u.type == SCSI_LUN_CDROM ? "CD-ROM" : "SCSI disk");
		return r;
	}
	s->nunits++;
	return 0;
}

static int units_scan(struct vscsi *s)
{
	struct scan sc = { .s = s };
	int r;

	for (int pass = 0; pass < 2; pass++) {
		s->nunits = 0;
		if ((r = hv_config_each(s->ctx, "target#", unit_add, &sc)) ||
		    (r = hv_config_each(s->ctx, "target#.lun#", unit_add, &sc)))
			return r;
		if (pass)
			break;
		if (!s->nunits) {
			hv_error(s->ctx, "no target: set target0 = DISK (or target0.lun1 = ...)");
			return -EINVAL;
		}
		if (s->nunits > MAX_UNITS) {
			hv_error(s->ctx, "%u LUNs: at most %u", s->nunits, MAX_UNITS);
			return -EINVAL;
		}
		if (!(s->units = calloc(s->nunits, sizeof(*s->units))))
			return -ENOMEM;
	}
	for (unsigned i = 0; i < s->nunits; i++)
		for (unsigned j = 0; j < i; j++)
			if (s->units[i].target == s->units[j].target &&
			    s->units[i].lun == s->units[j].lun) {
				hv_error(s->ctx, "%s and %s both name target %u LUN %u",
					 s->units[j].key, s->units[i].key, s->units[i].target,
					 s->units[i].lun);
				return -EINVAL;
			}
	return 0;
}

static void slots_reset(struct vscsi *s)
{
	for (unsigned qi = 0; qi < s->nq; qi++) {
		s->q[qi].free = NULL;
		s->q[qi].starved = false;
		s->q[qi].running = false;
		for (unsigned i = 0; i < s->qsize; i++) {
			struct req *r = &s->reqs[(size_t)qi * s->qsize + i];

			r->s = s;
			r->vq = hv_virtio_queue(s->vio, qi + 2);
			hv_virtq_elem_init(&r->elem, r->iov, ELEM_IOV);
			req_free(r);
		}
	}
	for (unsigned i = 0; i < CTL_SLOTS; i++) {
		hv_virtq_elem_init(&s->ctl[i].elem, s->ctl[i].iov, 8);
		s->ctl[i].busy = false;
	}
}

static void config_fill(struct vscsi *s)
{
	struct vs_config *c = &s->cfg;

	c->num_queues = s->nq;
	c->seg_max = s->qsize - 2 < SEG_MAX ? s->qsize - 2 : SEG_MAX;
	c->max_sectors = MAX_SECTORS;
	c->cmd_per_lun = s->qsize;
	c->event_info_size = 16;
	c->sense_size = SENSE_SIZE;
	c->cdb_size = CDB_SIZE;
	c->max_channel = 0;
	c->max_target = MAX_TARGET;
	c->max_lun = MAX_LUN;
}

static void vs_free(struct vscsi *s)
{
	free(s->reqs);
	free(s->q);
	free(s->units);
}

static int vs_create(struct hv_ctx *ctx)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);
	struct hv_vm_info vm;
	int64_t nq = hv_config_get_int(ctx, "queues");
	int rc;

	s->ctx = ctx;
	s->qsize = (unsigned)hv_config_get_int(ctx, "queue_size");
	if (s->qsize & (s->qsize - 1)) {
		hv_error(ctx, "queue_size = %u: a power of two from 4 to 1024", s->qsize);
		return -EINVAL;
	}
	if (!nq && !hv_vm_info_get(ctx, &vm))
		nq = vm.cpus;
	s->nq = nq > 0 ? (unsigned)nq : 1;
	if ((rc = units_scan(s)))
		goto out_free;
	config_fill(s);
	s->q = calloc(s->nq, sizeof(*s->q));
	s->reqs = calloc((size_t)s->nq * s->qsize, sizeof(*s->reqs));
	if (!s->q || !s->reqs) {
		rc = -ENOMEM;
		goto out_free;
	}
	struct hv_virtio_info info = {
		.device_type = HV_VIRTIO_ID_SCSI, .num_queues = (uint16_t)(s->nq + 2),
		.queue_size_max = (uint16_t)s->qsize, .class_code = 0x010000,
		.flags = HV_VIRTIO_NOTIFY_MAIN,
		.config = &s->cfg, .config_size = sizeof(s->cfg),
		.ops = &vops, .opaque = s,
	};
	if ((rc = hv_virtio_pci_create(ctx, &info, &s->vio)))
		goto out_free;
	slots_reset(s);
	return 0;
out_free:
	vs_free(s);
	return rc;
}

static void vs_destroy(struct hv_ctx *ctx)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);

	hv_virtio_destroy(s->vio);
	vs_free(s);
}

static void vs_reset(struct hv_ctx *ctx)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);

	hv_virtio_reset(s->vio);
	slots_reset(s);
	config_fill(s);
	for (unsigned i = 0; i < s->nunits; i++)
		scsi_lun_reset(&s->units[i].u);
	s->paused = false;
}

static void vs_pause(struct hv_ctx *ctx)
{
	HV_STATE(ctx, struct vscsi)->paused = true;
}

static void vs_resume(struct hv_ctx *ctx)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);

	s->paused = false;
	hv_virtio_kick(s->vio);
}

static int vs_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);
	uint32_t v[3] = { STATE_VERSION, s->cfg.sense_size, s->cfg.cdb_size };
	int rc;

	for (unsigned i = 0; i < CTL_SLOTS; i++)
		if (s->ctl[i].busy)
			return -EBUSY;
	if ((rc = hv_state_write(ctx, st, v, sizeof(v))))
		return rc;
	for (unsigned i = 0; i < s->nunits; i++)
		if ((rc = scsi_lun_save(&s->units[i].u, st)))
			return rc;
	return hv_virtio_save(s->vio, st);
}

static int vs_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);
	uint32_t v[3];
	int rc;

	if ((rc = hv_state_read(ctx, st, v, sizeof(v))))
		return rc;
	if (v[0] != STATE_VERSION || v[1] > 4096 || v[2] < 6 || v[2] > CDB_SIZE)
		return -EINVAL;
	s->cfg.sense_size = v[1];
	s->cfg.cdb_size = v[2];
	for (unsigned i = 0; i < s->nunits; i++)
		if ((rc = scsi_lun_restore(&s->units[i].u, st)))
			return rc;
	slots_reset(s);
	if ((rc = hv_virtio_restore(s->vio, st)))
		return rc;
	hv_virtio_kick(s->vio);
	return 0;
}

static struct unit *unit_by_key(struct vscsi *s, const char *key)
{
	for (unsigned i = 0; i < s->nunits; i++)
		if (!strcmp(s->units[i].key, key))
			return &s->units[i];
	return NULL;
}

/* A new medium in a CD LUN (or a disk back in its LUN). */
static int vs_backend_attach(struct hv_ctx *ctx, const char *key)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);
	struct unit *u = unit_by_key(s, key);
	struct hv_disk *d;

	if (!u) {
		hv_error(ctx, "%s: only the LUNs configured at start can change media", key);
		return -EINVAL;
	}
	if (!(d = hv_disk_attach(ctx, key)))
		return -ENODEV;
	if (u->u.type == SCSI_LUN_CDROM)
		return scsi_lun_set_medium(&u->u, d, hv_config_get_str(ctx, key));
	return scsi_lun_init(&u->u, ctx, d, SCSI_LUN_DISK, hv_config_get_str(ctx, key));
}

/* The disk goes: a CD LUN's tray is empty, a disk LUN is absent. */
static void vs_backend_detach(struct hv_ctx *ctx, const char *key)
{
	struct vscsi *s = HV_STATE(ctx, struct vscsi);
	struct unit *u = unit_by_key(s, key);

	if (!u)
		return;
	if (u->u.type == SCSI_LUN_CDROM)
		scsi_lun_set_medium(&u->u, NULL, NULL);
	else
		u->u.disk = NULL;
}

static const struct hv_device_ops ops = {
	.create = vs_create,
	.destroy = vs_destroy,
	.reset = vs_reset,
	.pause = vs_pause,
	.resume = vs_resume,
	.save = vs_save,
	.restore = vs_restore,
	.backend_attach = vs_backend_attach,
	.backend_detach = vs_backend_detach,
};

static const struct hv_config_key keys[] = {
	HV_KEY_SECTION_AT("target#", "disk", "the [disk NAME] at LUN 0 of target #",
			  0, MAX_TARGET),
	HV_KEY_SECTION_AT2("target#.lun#", "disk", "the [disk NAME] at target #, LUN #",
			   0, MAX_TARGET, 0, MAX_LUN),
	HV_KEY_NUM("queues", "0", 0, 64, "request queues; 0: the VM's cpus"),
	HV_KEY_NUM("queue_size", "128", 4, 1024, "descriptors per queue, a power of two"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(virtio-scsi, device, &ops,
		 .version = "1.0",
		 .description = "virtio 1.x SCSI host adapter (PCI 1af4:1048): disks and CD-ROMs",
		 .instance_size = sizeof(struct vscsi),
		 .keys = keys);
