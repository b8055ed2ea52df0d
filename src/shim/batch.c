// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: batched destroys in strict domains, an extension of the
 * shim's own (not in mainline; see include/dma-iova-shim.h).
 *
 * dmashim_iova_destroy_batched() clears a range's page tables without an
 * IOTLB invalidation and hands the range's record (its IOVA, the extent
 * its unmap gathered and the page-table pages it released) to the caller's
 * batch; dmashim_iova_batch_flush() invalidates once for the whole batch
 * through the lazy queue's helper, dmashim_flush_ranges(), which frees
 * the IOVAs and page-table pages only after the invalidation returned.
 *
 * The records of a batch stay the shim's: they form a ring through their
 * fq_node, and the batch only points at the first, which is also filed on
 * its device context's list of open batches.  So a batch its driver left
 * unflushed is found, reported and flushed when the device goes away
 * (dmashim_release_batches()) without touching the caller's struct, which
 * devres may have freed by then.  A batch still naming such a context
 * (dma_iova_batch.ctx_id) is only reset when used again: the ranges it
 * named are gone.
 */

#include "shim.h"
#include "trace.h"

void dmashim_batch_init_ctx(struct dmashim_ctx *ctx)
{
	spin_lock_init(&ctx->batch_lock);
	INIT_LIST_HEAD(&ctx->batches);
}

/* A caller's bug refused before anything is touched: warn once. */
static noinline void dmashim_batch_refuse(struct device *dev, const char *call,
					  struct dma_iova_batch *batch)
{
	WARN_ONCE(1, "dma_iova_shim: %s with a batch of another device\n", call);
	dev_err_ratelimited(dev, "dma_iova_%s refused: the batch holds %u ranges of %s\n",
			    call, batch->count,
			    batch->dev ? dev_name(batch->dev) : "no device");
}

/* Forget what a batch names: its ranges were flushed without it. */
static void dmashim_batch_reset(struct dma_iova_batch *batch)
{
	batch->dev = NULL;
	batch->first = NULL;
	batch->ctx_id = 0;
	batch->count = 0;
}

/* A batch that outlived its device context (see dmashim_release_batches()). */
static noinline void dmashim_batch_stale(struct device *dev,
					 struct dma_iova_batch *batch)
{
	dev_warn_ratelimited(dev, "a batch of %u ranges was used after its device was unbound: its ranges were flushed then\n",
			     batch->count);
	dmashim_batch_reset(batch);
}

/* Count a flush of n ranges. */
static void dmashim_batch_count(struct dmashim_ctx *ctx, unsigned int n)
{
	unsigned int bucket = min_t(unsigned int, fls(n) - 1,
				    DMASHIM_BATCH_HIST - 1);

	this_cpu_inc(ctx->stats->batch_flushes);
	this_cpu_add(ctx->stats->batch_flushed, n);
	this_cpu_inc(ctx->stats->batch_hist[bucket]);
}

/**
 * dmashim_batch_add - hold an unmapped, not yet invalidated range
 * @ctx: device context (dmashim_batch_holds())
 * @batch: the caller's batch, of this device or empty
 * @r: the range's record, no longer tracked; the batch owns it now
 * @gather: what its unmap gathered, page-table pages included
 *
 * Context: any context, under rcu_read_lock().
 */
void dmashim_batch_add(struct dmashim_ctx *ctx, struct dma_iova_batch *batch,
		       struct dmashim_range *r,
		       struct iommu_iotlb_gather *gather)
{
	struct dmashim_range *first;
	unsigned long flags;

	dmashim_range_hold(r, gather);
	if (unlikely(batch->count && batch->ctx_id != ctx->id))
		dmashim_batch_stale(ctx->dev, batch);
	this_cpu_inc(ctx->stats->batch_held);
	if (batch->count) {
		first = batch->first;
		list_add_tail(&r->fq_node, &first->fq_node);
		batch->count++;
		return;
	}
	INIT_LIST_HEAD(&r->fq_node);
	batch->dev = ctx->dev;
	batch->first = r;
	batch->ctx_id = ctx->id;
	batch->count = 1;
	spin_lock_irqsave(&ctx->batch_lock, flags);
	list_add_tail(&r->batch_node, &ctx->batches);
	spin_unlock_irqrestore(&ctx->batch_lock, flags);
}

/*
 * Invalidate once for the ring of records starting at first, then free
 * them; first has left the context's list.  Returns the ranges flushed.
 */
static unsigned int dmashim_batch_flush_ring(struct dmashim_ctx *ctx,
					     struct dmashim_range *first)
{
	struct dmashim_range *r;
	unsigned int n = 0;
	LIST_HEAD(held);

	/* a head in the ring makes it a list from first on */
	list_add_tail(&held, &first->fq_node);
	list_for_each_entry(r, &held, fq_node)
		n++;
	trace_dmashim_batch_flush(ctx, &held);
	dmashim_flush_ranges(ctx, &held);
	dmashim_batch_count(ctx, n);
	return n;
}

/**
 * dmashim_iova_batch_flush - one IOTLB invalidation for a batch, then free it
 * @dev: the device whose ranges the batch holds
 * @batch: the batch; empty afterwards
 *
 * Invalidates the IOTLB once for every range dmashim_iova_destroy_batched()
 * put in @batch (one iotlb_sync of the IOMMU driver over a range spanning
 * them all), waits for it, and only then gives their IOVAs back to the
 * allocator and frees the page-table pages their unmaps released.  When it
 * returns, the device can no longer reach any page of the batch's ranges.
 *
 * Contract: the caller must not hand any memory mapped by the batch's
 * ranges back to its owner (end or complete the requests) before this
 * returns; until then the device may still reach it through a stale IOTLB
 * entry.  An empty batch costs nothing.  A batch is flushed for the device
 * it holds ranges of: any other device is refused with a warning (once)
 * and the batch is left as it was.
 *
 * Context: any context, as dmashim_iova_destroy(): a completion handler in
 * hard-IRQ context, or its thread on PREEMPT_RT; does not sleep.  Calls on
 * one batch must not run concurrently.
 */
void dmashim_iova_batch_flush(struct device *dev, struct dma_iova_batch *batch)
{
	struct dmashim_range *first;
	struct dmashim_ctx *ctx;
	unsigned long flags;

	if (!batch->count)
		return;
	if (unlikely(batch->dev != dev)) {
		dmashim_batch_refuse(dev, "batch_flush", batch);
		return;
	}
	rcu_read_lock();
	ctx = dmashim_ctx_find(dev);
	if (unlikely(!ctx || ctx->id != batch->ctx_id)) {
		dmashim_batch_stale(dev, batch);
		goto out;
	}
	first = batch->first;
	dmashim_batch_reset(batch);
	spin_lock_irqsave(&ctx->batch_lock, flags);
	list_del(&first->batch_node);
	spin_unlock_irqrestore(&ctx->batch_lock, flags);
	dmashim_batch_flush_ring(ctx, first);
out:
	rcu_read_unlock();
}

/**
 * dmashim_iova_destroy_batched - unmap a whole range, invalidate with a batch
 * @dev: the device
 * @state: the range
 * @mapped_len: bytes linked from offset 0 (0: nothing to unmap)
 * @dir: DMA direction used to link it
 * @attrs: DMA attributes used to link it
 * @batch: the caller's batch (empty, or holding ranges of @dev only)
 *
 * Like dmashim_iova_destroy(), but in a strict domain without the IOTLB
 * invalidation: the page tables are cleared now, and @batch holds the IOVA
 * and the page-table pages the unmap released until
 * dmashim_iova_batch_flush() has invalidated the IOTLB for every range it
 * holds.  The range is no longer the caller's when this returns: a second
 * destroy of it is refused, as for dmashim_iova_destroy().
 *
 * Contract: the memory the range mapped must not be handed back to its
 * owner before dmashim_iova_batch_flush() on @batch has returned.  The
 * destroy that puts the DMA_IOVA_BATCH_MAX-th range in @batch flushes it
 * at once.  In a lazy (flush-queue) domain, where the IOMMU driver
 * invalidates in every unmap by itself, and for a range with nothing
 * linked (@mapped_len 0), this is dmashim_iova_destroy() and @batch stays
 * as it was.  A range of another device than the one @batch holds ranges
 * of is refused with a warning (once): nothing is unmapped or freed.
 *
 * Context: any context, as dmashim_iova_destroy(); does not sleep.  Calls
 * on one batch must not run concurrently.
 */
void dmashim_iova_destroy_batched(struct device *dev,
				  struct dma_iova_state *state,
				  size_t mapped_len,
				  enum dma_data_direction dir,
				  unsigned long attrs,
				  struct dma_iova_batch *batch)
{
	if (unlikely(batch->count && batch->dev != dev)) {
		dmashim_batch_refuse(dev, "destroy_batched", batch);
		return;
	}
	dmashim_teardown(dev, state, 0, mapped_len, DMASHIM_OP_BATCHED, batch);
	if (batch->count >= DMA_IOVA_BATCH_MAX)
		dmashim_iova_batch_flush(dev, batch);
}

/**
 * dmashim_iova_batch_defers - whether batched destroys save invalidations
 * @dev: the device
 *
 * A driver asks this once it is bound (the answer holds while it stays
 * bound: the IOMMU core changes a group's domain only with no driver
 * bound) to decide whether to use dmashim_iova_destroy_batched() at all,
 * and whether a mapping it could make without an IOVA range of its own
 * (dma_map_phys() of one segment) is still worth it: that one is unmapped
 * with its own invalidation, a batched range shares one.
 *
 * Context: any context.
 *
 * Return: true if @dev is translated by a strict domain in which
 * dmashim_iova_destroy_batched() defers the invalidation to
 * dmashim_iova_batch_flush(); false in a lazy domain, where the IOMMU
 * driver invalidates in every unmap, and where the device has no two-step
 * API at all (no IOMMU, passthrough, untrusted).
 */
bool dmashim_iova_batch_defers(struct device *dev)
{
	enum dmashim_fallback why;
	struct dmashim_ctx *ctx;
	bool defers;

	rcu_read_lock();
	ctx = dmashim_ctx_get(dev, &why);
	defers = ctx && !dmashim_ctx_unusable(ctx) &&
		 !dmashim_dev_untrusted(dev) && dmashim_batch_holds(ctx);
	rcu_read_unlock();
	return defers;
}

/**
 * dmashim_release_batches - report and flush the batches left unflushed
 * @ctx: the device context (its device is going away; no dma_iova_* call
 *	can still be running on it)
 *
 * Their drivers' structs may be gone (devres frees them before the shim
 * hears of the unbind): only the shim's own records are touched.
 */
void dmashim_release_batches(struct dmashim_ctx *ctx)
{
	struct dmashim_range *first, *tmp;
	unsigned long flags, pfn;
	unsigned int n;
	void *caller;
	LIST_HEAD(open);

	spin_lock_irqsave(&ctx->batch_lock, flags);
	list_splice_init(&ctx->batches, &open);
	spin_unlock_irqrestore(&ctx->batch_lock, flags);
	list_for_each_entry_safe(first, tmp, &open, batch_node) {
		list_del(&first->batch_node);
		pfn = first->pfn;
		caller = first->caller;
		n = dmashim_batch_flush_ring(ctx, first);
		dev_warn(ctx->dev, "unflushed batch of %u destroyed IOVA ranges (first %#llx, allocated by %pS): flushed at unbind\n",
			 n, (u64)pfn << ctx->shift, caller);
		this_cpu_inc(ctx->stats->batch_unflushed);
		/* the device's counters go with it: keep this one in "total" */
		this_cpu_inc(dmashim_orphans()->batch_unflushed);
	}
}
