// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the records of outstanding IOVA ranges.  Each device
 * context files its ranges in a small hash by IOVA pfn, one lock per
 * bucket, to refuse calls on a range it does not hold and to report and
 * release the ranges a driver leaked when its device is unbound.  Each
 * bucket keeps a few freed records, so that mapping and unmapping a request
 * normally allocates nothing.
 */
#include <linux/hash.h>
#include <linux/slab.h>

#include "shim.h"

static struct kmem_cache *dmashim_range_cache;

int dmashim_ranges_init(void)
{
	dmashim_range_cache = KMEM_CACHE(dmashim_range, 0);
	return dmashim_range_cache ? 0 : -ENOMEM;
}

void dmashim_ranges_exit(void)
{
	kmem_cache_destroy(dmashim_range_cache);
}

void dmashim_ranges_init_ctx(struct dmashim_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctx->ranges); i++) {
		spin_lock_init(&ctx->ranges[i].lock);
		INIT_HLIST_HEAD(&ctx->ranges[i].head);
		INIT_HLIST_HEAD(&ctx->ranges[i].spare);
	}
}

static struct dmashim_range_bucket *dmashim_bucket(struct dmashim_ctx *ctx,
						   unsigned long pfn)
{
	return &ctx->ranges[hash_long(pfn, DMASHIM_RANGE_HASH_BITS)];
}

/* A spare record of the bucket, or NULL.  Bucket lock held. */
static struct dmashim_range *dmashim_spare_get(struct dmashim_range_bucket *b)
{
	struct dmashim_range *r;

	if (hlist_empty(&b->spare))
		return NULL;
	r = hlist_entry(b->spare.first, struct dmashim_range, node);
	hlist_del(&r->node);
	b->nspare--;
	return r;
}

/* Keep a record for the bucket's next range; false if it has enough. */
static bool dmashim_spare_put(struct dmashim_range_bucket *b,
			      struct dmashim_range *r)
{
	if (b->nspare >= DMASHIM_RANGE_SPARES)
		return false;
	hlist_add_head(&r->node, &b->spare);
	b->nspare++;
	return true;
}

/* Remember an outstanding range for leak reports and cleanup. */
bool dmashim_track(struct dmashim_ctx *ctx, unsigned long pfn,
		   unsigned long npages, void *caller)
{
	struct dmashim_range_bucket *b = dmashim_bucket(ctx, pfn);
	struct dmashim_range *r;
	unsigned long flags;

	/*
	 * Callers may hold interrupts off or run in hard-IRQ context (a
	 * completion handler unmapping): save and restore, never enable.
	 */
	spin_lock_irqsave(&b->lock, flags);
	r = dmashim_spare_get(b);
	if (!r) {
		spin_unlock_irqrestore(&b->lock, flags);
		r = kmem_cache_alloc(dmashim_range_cache, GFP_ATOMIC);
		if (!r)
			return false;
		spin_lock_irqsave(&b->lock, flags);
	}
	r->pfn = pfn;
	r->npages = npages;
	r->caller = caller;
	hlist_add_head(&r->node, &b->head);
	spin_unlock_irqrestore(&b->lock, flags);
	return true;
}

/* The record of exactly [pfn, pfn + npages), or NULL.  Bucket lock held. */
static struct dmashim_range *dmashim_find_range(struct dmashim_range_bucket *b,
						unsigned long pfn,
						unsigned long npages)
{
	struct dmashim_range *r;

	hlist_for_each_entry(r, &b->head, node)
		if (r->pfn == pfn)
			return r->npages == npages ? r : NULL;
	return NULL;
}

/* Is [pfn, pfn + npages) a range the shim handed out and still tracks? */
bool dmashim_tracked(struct dmashim_ctx *ctx, unsigned long pfn,
		     unsigned long npages)
{
	struct dmashim_range_bucket *b = dmashim_bucket(ctx, pfn);
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&b->lock, flags);
	found = dmashim_find_range(b, pfn, npages);
	spin_unlock_irqrestore(&b->lock, flags);
	return found;
}

/**
 * dmashim_untrack - forget a range that is being freed
 * @ctx: device context
 * @pfn: first IOVA pfn of the range
 * @npages: its length in granules
 * @keep: where to hand the record over (a lazy domain's flush queue takes
 *	it), or NULL to recycle it at once
 *
 * Called before anything of the range is unmapped: a range the shim does
 * not track (destroyed twice, never allocated by the shim, or a state with
 * another size) is refused while nothing has been touched.
 *
 * Return: false if the range is not tracked.
 */
bool dmashim_untrack(struct dmashim_ctx *ctx, unsigned long pfn,
		     unsigned long npages, struct dmashim_range **keep)
{
	struct dmashim_range_bucket *b = dmashim_bucket(ctx, pfn);
	struct dmashim_range *r, *drop = NULL;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	r = dmashim_find_range(b, pfn, npages);
	if (r) {
		hlist_del(&r->node);
		if (keep)
			*keep = r;
		else if (!dmashim_spare_put(b, r))
			drop = r;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	if (drop)
		dmashim_range_free(drop);
	return r;
}

void dmashim_range_free(struct dmashim_range *r)
{
	kmem_cache_free(dmashim_range_cache, r);
}

/**
 * dmashim_ranges_recycle - give flushed ranges' records back to their buckets
 * @ctx: device context
 * @done: records linked by &dmashim_range.fq_node, their IOVAs freed
 *
 * Context: any context.
 */
void dmashim_ranges_recycle(struct dmashim_ctx *ctx, struct list_head *done)
{
	struct dmashim_range_bucket *b;
	struct dmashim_range *r, *tmp;
	unsigned long flags;
	bool kept;

	list_for_each_entry_safe(r, tmp, done, fq_node) {
		b = dmashim_bucket(ctx, r->pfn);
		spin_lock_irqsave(&b->lock, flags);
		kept = dmashim_spare_put(b, r);
		spin_unlock_irqrestore(&b->lock, flags);
		if (!kept)
			dmashim_range_free(r);
	}
}

/**
 * dmashim_ranges_drop_spares - free the spare records of a device going away
 * @ctx: device context, no longer reachable by any dma_iova_* call
 */
void dmashim_ranges_drop_spares(struct dmashim_ctx *ctx)
{
	struct dmashim_range *r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctx->ranges); i++) {
		while ((r = dmashim_spare_get(&ctx->ranges[i])))
			dmashim_range_free(r);
	}
}

/*
 * Unmap what is linked in a leaked range, and nothing else: the caller may
 * have linked only part of it, and an unmap that starts on a hole may clear
 * more than asked (VT-d widens it to the whole table level it finds), which
 * would take other ranges' mappings with it.  Only on the leak path, so one
 * translation lookup per granule is affordable.
 */
static size_t dmashim_unmap_linked(struct dmashim_ctx *ctx, unsigned long pfn,
				   unsigned long npages,
				   struct iommu_iotlb_gather *gather)
{
	unsigned long i, run = 0;
	size_t done = 0;

	for (i = 0; i <= npages; i++) {
		if (i < npages &&
		    iommu_iova_to_phys(ctx->domain, (pfn + i) << ctx->shift)) {
			run++;
			continue;
		}
		if (run)
			done += dmashim_unmap_range(ctx, (pfn + i - run) << ctx->shift,
						    run << ctx->shift, gather);
		run = 0;
	}
	return done;
}

/**
 * dmashim_release_ranges - report and release every outstanding range
 * @ctx: the device context (its device is going away; no dma_iova_* call
 *	can still be running on it)
 */
void dmashim_release_ranges(struct dmashim_ctx *ctx)
{
	struct iommu_iotlb_gather gather;
	struct dmashim_range *r;
	struct hlist_node *tmp;
	unsigned long flags;
	unsigned int i;
	size_t len;
	HLIST_HEAD(leaked);

	for (i = 0; i < ARRAY_SIZE(ctx->ranges); i++) {
		spin_lock_irqsave(&ctx->ranges[i].lock, flags);
		hlist_move_list(&ctx->ranges[i].head, &leaked);
		spin_unlock_irqrestore(&ctx->ranges[i].lock, flags);
		hlist_for_each_entry_safe(r, tmp, &leaked, node) {
			len = r->npages << ctx->shift;
			dev_err(ctx->dev, "leaked IOVA range %#llx + %zu allocated by %pS: released\n",
				(u64)r->pfn << ctx->shift, len, r->caller);
			iommu_iotlb_gather_init(&gather);
			if (dmashim_unmap_linked(ctx, r->pfn, r->npages, &gather))
				dmashim_ops_iotlb_sync(ctx->domain, &gather);
			free_iova_fast(ctx->iovad, r->pfn, r->npages);
			hlist_del(&r->node);
			dmashim_range_free(r);
			this_cpu_inc(ctx->stats->frees);
		}
	}
}
