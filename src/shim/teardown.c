// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the end of a range: dma_iova_unlink(), dma_iova_destroy()
 * and dma_iova_free(), all through dmashim_teardown(), which batch.c's
 * dma_iova_destroy_batched() calls too.
 *
 * Every call is checked against the records of outstanding ranges
 * (range.c) before anything is unmapped or freed.  Unmapping costs one
 * IOTLB invalidation for the whole part in a strict domain; a destroyed
 * range's IOVA is freed only after the invalidation covering it, which a
 * lazy domain defers to a flush queue (fq.c, or the IOMMU driver's DMA
 * ops) and a batch to its flush (batch.c).
 */
#include <linux/dma-mapping.h>

#include "shim.h"
#include "trace.h"

/*
 * Does the part [addr, addr + len), @offset bytes into its range, lie inside
 * the range's allocation [pfn, pfn + npages)?  @addr is granule aligned and
 * not below the range's start; the first two tests keep the sum from
 * wrapping.  An empty part always fits.
 */
static bool dmashim_part_fits(struct dmashim_ctx *ctx, unsigned long pfn,
			      unsigned long npages, size_t offset,
			      unsigned long addr, size_t len)
{
	size_t range = npages << ctx->shift;

	return !len || (offset < range && len <= range &&
			(addr >> ctx->shift) + (len >> ctx->shift) <=
			pfn + npages);
}

/* The whole allocation of a range: its first pfn and length in granules. */
static unsigned long dmashim_state_pfn(struct dmashim_ctx *ctx,
				       struct dma_iova_state *state,
				       unsigned long *npages)
{
	size_t pad = dmashim_offset(ctx, state->addr);

	*npages = dmashim_iova_pages(ctx, dma_iova_size(state) + pad);
	return (state->addr - pad) >> ctx->shift;
}

/*
 * A caller's bug the shim refuses before touching anything: a range it
 * does not track (destroyed twice, or never allocated by the shim) or a
 * part outside the range.  Unmapping or freeing anyway would take IOVA
 * space or mappings that belong to another range.
 */
static noinline void dmashim_refuse(struct device *dev, const char *call,
				    struct dma_iova_state *state,
				    size_t offset, size_t size)
{
	WARN_ONCE(1, "dma_iova_shim: %s of a range it does not hold\n", call);
	dev_err_ratelimited(dev, "dma_iova_%s refused: [%pad + %zu, +%zu) is not a range the shim holds\n",
			    call, &state->addr, offset, size);
}

static const char *const dmashim_teardown_names[] = {
	[DMASHIM_OP_UNLINK]	= "unlink",
	[DMASHIM_OP_DESTROY]	= "destroy",
	[DMASHIM_OP_FREE]	= "free",
	[DMASHIM_OP_BATCHED]	= "destroy_batched",
};

/**
 * dmashim_teardown - unmap part or all of a range, and free it if asked
 * @dev: the device
 * @state: the range
 * @offset: start of the part to unmap (0 unless @op is DMASHIM_OP_UNLINK)
 * @size: its length (0 for DMASHIM_OP_FREE: nothing to unmap)
 * @op: DMASHIM_OP_UNLINK keeps the IOVA allocated; DMASHIM_OP_DESTROY and
 *	DMASHIM_OP_FREE free it (in a lazy domain after a flush covering it);
 *	DMASHIM_OP_BATCHED destroys it without an invalidation where @batch
 *	can hold it (see dmashim_batch_holds()), as DMASHIM_OP_DESTROY
 *	otherwise
 * @batch: the caller's batch for DMASHIM_OP_BATCHED, else NULL
 *
 * The range is checked against the shim's records first: a refused call
 * changes nothing.
 *
 * Context: any context.
 */
void dmashim_teardown(struct device *dev, struct dma_iova_state *state,
		      size_t offset, size_t size, enum dmashim_teardown_op op,
		      struct dma_iova_batch *batch)
{
	struct dmashim_range *queued = NULL;
	struct iommu_iotlb_gather gather;
	unsigned long addr, pfn, npages;
	size_t pad, len, unmapped = 0;
	bool free = op != DMASHIM_OP_UNLINK;
	struct dmashim_ctx *ctx;
	bool defer, hold;

	rcu_read_lock();
	ctx = dmashim_ctx_of(dev, state);
	if (!ctx)
		goto out;
	pfn = dmashim_state_pfn(ctx, state, &npages);
	if (size > npages << ctx->shift)
		goto refuse;	/* and size + pad cannot wrap below */
	addr = state->addr + offset;
	pad = dmashim_offset(ctx, addr);
	addr -= pad;
	len = size ? dmashim_align(ctx, size + pad) : 0;
	if (!dmashim_part_fits(ctx, pfn, npages, offset, addr, len))
		goto refuse;
	/*
	 * A lazy domain's record goes on the flush queue: it is freed with
	 * the IOVA, after the flush.  Only linked ranges wait for one.
	 */
	defer = free && ctx->lazy && !ctx->dma_ops_fq && len;
	/* so does a batch's, in a domain whose unmaps it can gather */
	hold = batch && len && dmashim_batch_holds(ctx);
	if (free ? !dmashim_untrack(ctx, pfn, npages,
				    defer || hold ? &queued : NULL) :
		   !dmashim_tracked(ctx, pfn, npages))
		goto refuse;
	/*
	 * Never a "queued" gather, even when the flush is deferred: IOMMU
	 * drivers then skip recording the range, and the deferred flush
	 * (an iotlb_sync over the queued ranges) must know it.
	 */
	iommu_iotlb_gather_init(&gather);
	if (len && free && ctx->dma_ops_fq)
		unmapped = len;		/* by the DMA ops, below */
	else if (len)
		unmapped = dmashim_unmap_range(ctx, addr, len, &gather);
	WARN_ONCE(unmapped != len, "dma_iova_shim: unmapped %zu of %zu bytes\n",
		  unmapped, len);
	if (len)
		this_cpu_inc(ctx->stats->unlinks);
	trace_dmashim_teardown(ctx, op, state, offset, size, unmapped, hold,
			       defer);
	if (!free) {
		if (unmapped)
			dmashim_ops_iotlb_sync(ctx->domain, &gather);
		goto out;
	}
	this_cpu_inc(ctx->stats->frees);
	if (batch)
		this_cpu_inc(ctx->stats->batch_destroys);
	if (hold) {
		dmashim_batch_add(ctx, batch, queued, &gather);
	} else if (defer) {
		dmashim_fq_act(ctx, dmashim_fq_add(ctx, queued, &gather));
	} else if (ctx->dma_ops_fq && unmapped) {
		/*
		 * The domain's ->unmap() would invalidate at once: let the
		 * IOMMU driver's own DMA ops clear the whole range and queue
		 * its IOVA on their flush queue, which frees it only after
		 * the batched invalidation covering it.
		 */
		dma_unmap_page(dev, (dma_addr_t)pfn << ctx->shift,
			       npages << ctx->shift, DMA_BIDIRECTIONAL);
	} else {
		if (unmapped)
			dmashim_ops_iotlb_sync(ctx->domain, &gather);
		free_iova_fast(ctx->iovad, pfn, npages);
	}
	goto out;
refuse:
	dmashim_refuse(dev, dmashim_teardown_names[op], state, offset, size);
out:
	rcu_read_unlock();
}

/**
 * dmashim_iova_unlink - unmap part of a range, keeping the IOVA allocated
 * @dev: the device
 * @state: the range
 * @offset: start of the part, as given to dmashim_iova_link()
 * @size: its length
 * @dir: DMA direction used to link it
 * @attrs: DMA attributes used to link it
 *
 * One IOTLB invalidation for the whole part.  When it returns the device
 * can no longer reach the old pages through the range.  A part outside
 * the range, or a range the shim does not hold, is refused (a warning,
 * once) and nothing is unmapped.
 *
 * Context: any context.
 */
void dmashim_iova_unlink(struct device *dev, struct dma_iova_state *state,
			 size_t offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	dmashim_teardown(dev, state, offset, size, DMASHIM_OP_UNLINK, NULL);
}

/**
 * dmashim_iova_destroy - unmap and free a whole range in one step
 * @dev: the device
 * @state: the range
 * @mapped_len: bytes linked from offset 0 (0: nothing to unmap)
 * @dir: DMA direction used to link it
 * @attrs: DMA attributes used to link it
 *
 * In a strict domain this costs one IOTLB invalidation, however many
 * links built the range.  In a lazy (flush-queue) domain the IOVA is held
 * back until a batched flush covers it, and only then freed, so it is never
 * handed out while a stale IOTLB entry may still point at the old pages.
 * A range the shim does not hold (destroyed already, say) is refused with
 * a warning, once, before anything is unmapped or freed; unless its IOVA
 * was handed out again meanwhile to a range of the same size, which the
 * shim cannot tell from the caller's.
 *
 * Context: any context.
 */
void dmashim_iova_destroy(struct device *dev, struct dma_iova_state *state,
			  size_t mapped_len, enum dma_data_direction dir,
			  unsigned long attrs)
{
	/* as in mainline, destroying a range with nothing linked frees it */
	dmashim_teardown(dev, state, 0, mapped_len,
			 mapped_len ? DMASHIM_OP_DESTROY : DMASHIM_OP_FREE, NULL);
}

/**
 * dmashim_iova_free - free a range whose links were all unlinked
 * @dev: the device
 * @state: the range
 *
 * Context: any context.
 */
void dmashim_iova_free(struct device *dev, struct dma_iova_state *state)
{
	dmashim_teardown(dev, state, 0, 0, DMASHIM_OP_FREE, NULL);
}
