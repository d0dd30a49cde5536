/* SPDX-License-Identifier: MIT */
/*
 * Shared by the vhd and vhdx plugins (compiled into each .so): splitting
 * one hv_disk_req into file I/Os and zero fills, completing it once the
 * last piece is done. Main thread, domain lock held, like every disk op.
 */
#ifndef HV_PLUGINS_DREQ_H
#define HV_PLUGINS_DREQ_H

#include <hv/hv.h>

struct dreq;
typedef void (*dreq_after_fn)(struct hv_ctx *ctx, void *arg, int status);

/* A tracker holding one reference; NULL on ENOMEM. */
struct dreq *dreq_new(struct hv_ctx *ctx, struct hv_disk_req *req);
/* Fill request bytes [roff, roff+len) with zeroes. */
void dreq_zero(struct dreq *t, uint64_t roff, uint64_t len);
/* Copy len bytes of buf into request bytes [roff, roff+len). */
void dreq_copy(struct dreq *t, uint64_t roff, const void *buf, uint64_t len);
/* Read or write request bytes [roff, roff+len) at file offset foff; after
 * (may be NULL) runs when that piece is done, before the request
 * completes. A failure is recorded in the request's status. */
void dreq_io(struct dreq *t, struct hv_file *f, uint32_t op, uint64_t roff,
	     uint64_t len, uint64_t foff, dreq_after_fn after, void *arg);
/* Read request bytes [roff, roff+len) from the parent layer at virtual
 * offset voff (hv_disk_backing_submit: the core's chain). */
void dreq_parent(struct dreq *t, uint64_t roff, uint64_t len, uint64_t voff);
/* Record an error; the request completes with the first one. */
void dreq_fail(struct dreq *t, int status);
/* Drop the creator's reference: completes when nothing is pending. */
void dreq_put(struct dreq *t);

/* CRC-32C (Castagnoli), as VHDX uses it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
