/*
 * DMA mappings that outlive a callback (the hv_dma service, hv/dma.h):
 * the core side. Each live mapping is linked into its instance's list
 * through the hv_dma's own core[] words (no allocation), and holds one
 * count on every memory region one of its iovecs points into.
 */
#ifndef HV_CORE_DMA_H
#define HV_CORE_DMA_H

#include <stdint.h>

struct hv_ctx;
struct hv_dma;
struct instance;

int dma_svc_add(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t gpa,
		uint64_t len, unsigned flags);
void dma_svc_unmap(struct hv_ctx *ctx, struct hv_dma *dma, uint64_t written);
/* Unmap, as fully written, every mapping the instance still holds, with
 * one warning naming it and `when` ("reset", "destroy"). Domain lock held. */
void dma_release(struct instance *in, const char *when);

#endif
