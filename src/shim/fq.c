// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: deferred IOTLB flushing for lazy (flush-queue) domains.
 *
 * dma-iommu's own flush queue is private, so the shim keeps one per
 * device.  A destroyed range is unmapped at once but its IOTLB flush is
 * deferred: the range's record (its IOVA, the extent to invalidate and the
 * page-table pages the unmap released) waits on the queue.  The queue is
 * flushed when it holds DMASHIM_FQ_MAX ranges or DMASHIM_FQ_MAX_PAGES
 * granules of IOVA space, when an allocation finds no space,
 * DMASHIM_FQ_TIMEOUT_MS after its first entry, when the device's driver is
 * unbound and when the module unloads.
 * A flush is one IOTLB invalidation covering every queued range, through
 * the IOMMU driver's own iotlb_sync (which also frees the page-table pages
 * in the way the driver expects); only after it returns are the IOVAs given
 * back to the allocator, so no IOVA is reused while a stale IOTLB entry may
 * still translate it.
 */
#include "shim.h"
#include "trace.h"

#define DMASHIM_FQ_MAX		256
#define DMASHIM_FQ_MAX_PAGES	8192	/* granules of IOVA space held back */
#define DMASHIM_FQ_TIMEOUT_MS	10

/**
 * dmashim_flush_ranges - one IOTLB invalidation for unmapped ranges, then
 *	free them
 * @ctx: device context
 * @ranges: records of unmapped ranges (linked by &dmashim_range.fq_node,
 *	each filled in by dmashim_range_hold()); the list is consumed
 *
 * The invalidation goes through the IOMMU driver's own iotlb_sync, with a
 * gather spanning every range (which also frees their page-table pages in
 * the way the driver expects); only after it returns are the IOVAs given
 * back to the allocator.  Shared by the lazy domains' flush queue and the
 * batches of batch.c.
 *
 * Context: any context.
 */
void dmashim_flush_ranges(struct dmashim_ctx *ctx, struct list_head *ranges)
{
	struct iommu_iotlb_gather gather;
	struct dmashim_range *e;
	struct list_head *fl;

	iommu_iotlb_gather_init(&gather);
	fl = dmashim_gather_freelist(&gather);
	gather.start = ULONG_MAX;
	gather.end = 0;
	list_for_each_entry(e, ranges, fq_node) {
		gather.start = min(gather.start, e->start);
		gather.end = max(gather.end, e->end);
		if (!gather.pgsize || e->pgsize < gather.pgsize)
			gather.pgsize = e->pgsize;
		if (fl)
			list_splice_init(&e->freelist, fl);
	}
	/*
	 * Even when the gather recorded nothing: some IOMMU drivers' unmaps
	 * never record (5.10's AMD, whose iotlb_sync flushes everything).
	 */
	dmashim_ops_iotlb_sync(ctx->domain, &gather);

	list_for_each_entry(e, ranges, fq_node)
		free_iova_fast(ctx->iovad, e->pfn, e->npages);
	dmashim_ranges_recycle(ctx, ranges);
}

/**
 * dmashim_fq_flush - flush now and free everything queued so far
 * @ctx: device context
 *
 * Context: any context.
 */
void dmashim_fq_flush(struct dmashim_ctx *ctx)
{
	unsigned long flags;
	LIST_HEAD(batch);

	spin_lock_irqsave(&ctx->fq_lock, flags);
	list_splice_init(&ctx->fq_list, &batch);
	ctx->fq_count = 0;
	ctx->fq_pages = 0;
	spin_unlock_irqrestore(&ctx->fq_lock, flags);
	if (list_empty(&batch))
		return;
	trace_dmashim_fq_flush(ctx, &batch);
	dmashim_flush_ranges(ctx, &batch);
	this_cpu_inc(ctx->stats->fq_flushes);
}

static void dmashim_fq_work(struct work_struct *work)
{
	struct dmashim_ctx *ctx = container_of(to_delayed_work(work),
					       struct dmashim_ctx, fq_work);

	dmashim_fq_flush(ctx);
}

void dmashim_fq_init(struct dmashim_ctx *ctx)
{
	spin_lock_init(&ctx->fq_lock);
	INIT_LIST_HEAD(&ctx->fq_list);
	INIT_DELAYED_WORK(&ctx->fq_work, dmashim_fq_work);
}

/**
 * dmashim_range_hold - keep what a range's unmap gathered, for its flush
 * @r: the range's record, no longer tracked
 * @gather: what the unmap gathered; the page-table pages move to @r
 *
 * Context: any context.
 */
void dmashim_range_hold(struct dmashim_range *r,
			struct iommu_iotlb_gather *gather)
{
	struct list_head *fl = dmashim_gather_freelist(gather);

	r->start = gather->start;
	r->end = gather->end;
	r->pgsize = gather->pgsize;
	INIT_LIST_HEAD(&r->freelist);
	if (fl)
		list_splice_init(fl, &r->freelist);
}

/**
 * dmashim_fq_add - defer the flush and the free of an unmapped range
 * @ctx: device context (lazy domain)
 * @r: the range's record, no longer tracked; the queue owns it now
 * @gather: what its unmap gathered; the page-table pages move to the queue
 *
 * Context: any context.  Pass the result to dmashim_fq_act().
 *
 * Return: what the caller must do next.
 */
enum dmashim_fq_action dmashim_fq_add(struct dmashim_ctx *ctx,
				      struct dmashim_range *r,
				      struct iommu_iotlb_gather *gather)
{
	unsigned long pages, flags;
	unsigned int n;

	dmashim_range_hold(r, gather);
	spin_lock_irqsave(&ctx->fq_lock, flags);
	list_add_tail(&r->fq_node, &ctx->fq_list);
	n = ++ctx->fq_count;
	pages = ctx->fq_pages += r->npages;
	spin_unlock_irqrestore(&ctx->fq_lock, flags);
	this_cpu_inc(ctx->stats->fq_queued);

	if (n >= DMASHIM_FQ_MAX || pages >= DMASHIM_FQ_MAX_PAGES)
		return DMASHIM_FQ_FLUSH;
	return n == 1 ? DMASHIM_FQ_ARM : DMASHIM_FQ_NONE;
}

/**
 * dmashim_fq_act - flush a full queue, or start the timer of a new one
 * @ctx: device context
 * @action: what dmashim_fq_add() returned
 *
 * Context: any context.
 */
void dmashim_fq_act(struct dmashim_ctx *ctx, enum dmashim_fq_action action)
{
	if (action == DMASHIM_FQ_FLUSH)
		dmashim_fq_flush(ctx);
	else if (action == DMASHIM_FQ_ARM)
		/* a timer still pending from an earlier batch only comes sooner */
		queue_delayed_work(system_wq, &ctx->fq_work,
				   msecs_to_jiffies(DMASHIM_FQ_TIMEOUT_MS));
}

/**
 * dmashim_fq_depth - ranges waiting for a flush
 * @ctx: device context
 *
 * Return: the number of queued ranges.
 */
unsigned int dmashim_fq_depth(struct dmashim_ctx *ctx)
{
	return READ_ONCE(ctx->fq_count);
}

/**
 * dmashim_fq_drain - flush and free everything queued, stop the timer
 * @ctx: device context
 *
 * Context: process context (waits for the deferred work).
 */
void dmashim_fq_drain(struct dmashim_ctx *ctx)
{
	cancel_delayed_work_sync(&ctx->fq_work);
	dmashim_fq_flush(ctx);
}
