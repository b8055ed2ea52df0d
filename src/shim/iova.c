// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the two-step DMA mapping API.
 *
 * Semantics follow mainline (v6.16+, drivers/iommu/dma-iommu.c): one IOVA
 * range per I/O from the device's own DMA-API allocator; links write page
 * table entries through the domain's own ops without an IOTLB sync; one
 * sync makes the range visible; an unlink or destroy of the whole range
 * costs one IOTLB invalidation in a strict domain and none (deferred to a
 * batched flush) in a lazy one.
 */
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/slab.h>

#include "shim.h"

static inline size_t dmashim_granule(struct dmashim_ctx *ctx)
{
	return 1UL << ctx->shift;
}

static inline size_t dmashim_offset(struct dmashim_ctx *ctx, u64 addr)
{
	return addr & (dmashim_granule(ctx) - 1);
}

static inline size_t dmashim_align(struct dmashim_ctx *ctx, size_t size)
{
	return ALIGN(size, dmashim_granule(ctx));
}

/*
 * Ranges up to this many granules are kept by the IOVA range caches when
 * freed, filed by the order of their size (IOVA_RANGE_CACHE_MAX_SIZE).
 */
#define DMASHIM_IOVA_CACHED_PAGES	32UL

/*
 * The granules to allocate for a range of len bytes.  A freed range goes
 * to the cache of its size's order and is handed out again for any size
 * of that order, so a cacheable range must be allocated rounded up to a
 * power of two, or a later range from the cache would overlap the next
 * allocation (the DMA API's own mappings included).  alloc_iova_fast()
 * rounds by itself from v5.13 on; on 5.10 every caller must.  Rounding
 * here too is harmless there.
 */
static unsigned long dmashim_iova_pages(struct dmashim_ctx *ctx, size_t len)
{
	unsigned long npages = dmashim_align(ctx, len) >> ctx->shift;

	if (npages < DMASHIM_IOVA_CACHED_PAGES)
		npages = roundup_pow_of_two(npages);
	return npages;
}

/* IOMMU protection bits for a DMA direction, as the DMA API uses them. */
static int dmashim_prot(struct device *dev, enum dma_data_direction dir,
			unsigned long attrs)
{
	int prot = dev_is_dma_coherent(dev) ? IOMMU_CACHE : 0;

	if (attrs & DMA_ATTR_PRIVILEGED)
		prot |= IOMMU_PRIV;
	if (attrs & DMA_ATTR_MMIO)
		prot |= IOMMU_MMIO;
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return prot | IOMMU_READ | IOMMU_WRITE;
	case DMA_TO_DEVICE:
		return prot | IOMMU_READ;
	case DMA_FROM_DEVICE:
		return prot | IOMMU_WRITE;
	default:
		return 0;
	}
}

/*
 * The largest page size of the domain usable at iova/paddr for (part of)
 * size, and how many of them fit before a larger size could take over.
 */
static size_t dmashim_pgsize(struct iommu_domain *domain, unsigned long iova,
			     phys_addr_t paddr, size_t size, size_t *count)
{
	unsigned long sizes = domain->pgsize_bitmap;
	unsigned long align = iova | paddr;
	unsigned long bigger;
	size_t pgsize, n;

	sizes &= GENMASK(__fls(size), 0);
	if (align)
		sizes &= GENMASK(__ffs(align), 0);
	pgsize = BIT(__fls(sizes));
	n = size >> __ffs(pgsize);
	/* stop where the next larger page size becomes aligned */
	bigger = domain->pgsize_bitmap & ~GENMASK(__ffs(pgsize), 0);
	if (bigger) {
		size_t next = BIT(__ffs(bigger));
		size_t to_boundary = (next - (iova & (next - 1))) >> __ffs(pgsize);

		if (to_boundary && to_boundary < n &&
		    !((iova ^ paddr) & (next - 1)))
			n = to_boundary;
	}
	*count = n;
	return pgsize;
}

/* Map [paddr, paddr + size) at iova without syncing; all or nothing. */
static int dmashim_map(struct dmashim_ctx *ctx, unsigned long iova,
		       phys_addr_t paddr, size_t size, int prot)
{
	struct iommu_domain *domain = ctx->domain;
	size_t done = 0, pgsize, count, mapped;
	struct iommu_iotlb_gather gather;
	int ret = 0;

	if (dmashim_pt_map(domain, iova, paddr, size, prot, &done, &ret))
		goto out;
	while (done < size) {
		pgsize = dmashim_pgsize(domain, iova + done, paddr + done,
					size - done, &count);
		mapped = 0;
		ret = dmashim_ops_map(domain, iova + done, paddr + done, pgsize,
				      count, prot, &mapped);
		done += mapped;
		if (ret)
			break;
		if (!mapped) {
			ret = -EIO;
			break;
		}
	}
out:
	if (ret && done) {
		/* nothing was synced, but the device may have walked it */
		iommu_iotlb_gather_init(&gather);
		dmashim_unmap_range(ctx, iova, done, &gather);
		dmashim_ops_iotlb_sync(domain, &gather);
	}
	return ret;
}

/**
 * dmashim_unmap_range - clear page-table entries, collecting the flush
 * @ctx: device context
 * @iova: start, granule aligned
 * @size: length, granule aligned
 * @gather: collects the range to invalidate and page-table pages to free
 *
 * Return: bytes unmapped.
 */
size_t dmashim_unmap_range(struct dmashim_ctx *ctx, unsigned long iova,
			   size_t size, struct iommu_iotlb_gather *gather)
{
	struct iommu_domain *domain = ctx->domain;
	size_t done = 0, pgsize, count, n;

	if (dmashim_pt_unmap(domain, iova, size, gather, &done))
		return done;
	while (done < size) {
		pgsize = dmashim_pgsize(domain, iova + done, 0, size - done,
					&count);
		n = dmashim_ops_unmap(domain, iova + done, pgsize, count, gather);
		if (!n)
			break;
		done += n;
	}
	return done;
}

static unsigned long dmashim_limit_pfn(struct dmashim_ctx *ctx,
				       struct device *dev)
{
	u64 limit = dma_get_mask(dev);

	if (dev->bus_dma_limit)
		limit = min_not_zero(limit, dev->bus_dma_limit);
	if (ctx->domain->geometry.force_aperture)
		limit = min_t(u64, limit, ctx->domain->geometry.aperture_end);
	return limit >> ctx->shift;
}

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
static bool dmashim_track(struct dmashim_ctx *ctx, unsigned long pfn,
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
static bool dmashim_tracked(struct dmashim_ctx *ctx, unsigned long pfn,
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
static bool dmashim_untrack(struct dmashim_ctx *ctx, unsigned long pfn,
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

/**
 * dmashim_iova_try_alloc - try to allocate an IOVA range for a DMA mapping
 * @dev: device to map for
 * @state: state of the range; zeroed here, filled in on success
 * @phys: physical address of the first byte (only its offset in the IOMMU
 *	granule matters), or 0 for granule-aligned I/O
 * @size: bytes the range must cover
 *
 * Allocates one IOVA range from the same allocator the regular DMA API
 * uses for @dev, below its DMA mask.  The range must then be filled with
 * dmashim_iova_link(), made visible with dmashim_iova_sync() and released
 * with dmashim_iova_destroy() (or unlinked and freed).
 *
 * Context: any context that may take a spinlock_t; does not sleep
 * (GFP_ATOMIC).  On PREEMPT_RT, where spinlock_t sleeps, not with hard
 * interrupts disabled or under a raw spinlock (as for the native API).
 *
 * Return: true on success.  false if the two-step API cannot be used for
 * this device or request: no IOMMU, an identity (passthrough) domain, an
 * untrusted device, a device not on the PCI bus or not DMA-coherent (the
 * shim does no cache maintenance and no bouncing), an allocator the shim
 * could not verify, size 0 or with
 * bit 63 set (both warn once: they are caller bugs), or no IOVA space.
 * @state is zeroed then, and the caller must
 * map with the regular DMA API (dma_map_page(), dma_map_sg(),
 * dmashim_map_phys()) instead.
 */
bool dmashim_iova_try_alloc(struct device *dev, struct dma_iova_state *state,
			    phys_addr_t phys, size_t size)
{
	enum dmashim_fallback why;
	struct dmashim_ctx *ctx;
	unsigned long pfn, npages, limit;
	size_t pad;

	memset(state, 0, sizeof(*state));
	rcu_read_lock();
	ctx = dmashim_ctx_get(dev, &why);
	if (unlikely(!ctx))
		goto fallback;
	if (unlikely(dmashim_ctx_failed(ctx))) {
		why = ctx->fallback;
		goto fallback;
	}
	/* a flag, not the domain: read on every call, it costs one load */
	if (unlikely(dmashim_dev_untrusted(dev))) {
		why = DMASHIM_FB_UNTRUSTED;
		goto fallback;
	}
	/* caller bugs, which mainline warns about too */
	if (WARN_ON_ONCE(!size) || WARN_ON_ONCE(size & DMA_IOVA_USE_SWIOTLB)) {
		why = DMASHIM_FB_SIZE;
		goto fallback;
	}
	if (dmashim_inject_alloc_failure()) {
		why = DMASHIM_FB_INJECTED;
		goto fallback;
	}
	pad = dmashim_offset(ctx, phys);
	npages = dmashim_iova_pages(ctx, size + pad);
	limit = dmashim_limit_pfn(ctx, dev);
	pfn = 0;
	/* Like the DMA API: PCI devices try the space below 4 GiB first. */
	if (dev_is_pci(dev) && limit > ctx->iovad->dma_32bit_pfn)
		pfn = alloc_iova_fast(ctx->iovad, npages,
				      ctx->iovad->dma_32bit_pfn, false);
	if (!pfn)
		pfn = alloc_iova_fast(ctx->iovad, npages, limit, true);
	if (!pfn && ctx->lazy && dmashim_fq_depth(ctx)) {
		/* space held back by deferred frees: flush them, try again */
		dmashim_fq_flush(ctx);
		pfn = alloc_iova_fast(ctx->iovad, npages, limit, true);
	}
	if (!pfn) {
		why = DMASHIM_FB_NOSPACE;
		goto fallback;
	}
	if (!dmashim_track(ctx, pfn, npages, __builtin_return_address(0))) {
		free_iova_fast(ctx->iovad, pfn, npages);
		why = DMASHIM_FB_NOMEM;
		goto fallback;
	}
	state->addr = ((dma_addr_t)pfn << ctx->shift) + pad;
	state->__size = size;
	this_cpu_inc(ctx->stats->allocs);
	rcu_read_unlock();
	return true;

fallback:
	dmashim_count_fallback(ctx, why);
	rcu_read_unlock();
	return false;
}
EXPORT_SYMBOL_GPL(dmashim_iova_try_alloc);

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
 * The context of a device with a live range; complains if there is none.
 * Called under rcu_read_lock(), which keeps the context alive.
 */
static struct dmashim_ctx *dmashim_ctx_of(struct device *dev,
					  struct dma_iova_state *state)
{
	struct dmashim_ctx *ctx = dmashim_ctx_find(dev);

	if (unlikely(!ctx || dmashim_ctx_failed(ctx) || !dma_use_iova(state))) {
		dev_err_ratelimited(dev, "dma_iova call on a range the shim did not allocate (%pad)\n",
				    &state->addr);
		return NULL;
	}
	return ctx;
}

/**
 * dmashim_iova_link - map a physical range into an allocated IOVA range
 * @dev: the device
 * @state: a range from dmashim_iova_try_alloc()
 * @phys: physical address to map; only the first link (@offset 0) may
 *	start inside an IOMMU granule
 * @offset: where in the range it goes
 * @size: bytes to map
 * @dir: DMA direction
 * @attrs: DMA_ATTR_* (DMA_ATTR_MMIO for MMIO, DMA_ATTR_PRIVILEGED, ...)
 *
 * Writes the page-table entries without syncing the IOTLB: call
 * dmashim_iova_sync() once after the last link, before the device uses
 * the range.
 *
 * Context: as dmashim_iova_try_alloc(); does not sleep (page tables use
 * GFP_ATOMIC).
 *
 * Return: 0, or a negative errno; then nothing of this call is mapped and
 * the caller should destroy the range (unlinking what earlier links
 * mapped) and may fall back.  -EIO if @phys is not granule aligned while
 * @offset is not 0; -EINVAL if the part would start off an IOMMU granule
 * or reach out of the range.
 */
int dmashim_iova_link(struct device *dev, struct dma_iova_state *state,
		      phys_addr_t phys, size_t offset, size_t size,
		      enum dma_data_direction dir, unsigned long attrs)
{
	unsigned long iova, pfn, npages;
	struct dmashim_ctx *ctx;
	size_t pad, len;
	int ret;

	rcu_read_lock();
	ctx = dmashim_ctx_of(dev, state);
	if (!ctx) {
		ret = -EINVAL;
		goto out;
	}
	pad = dmashim_offset(ctx, phys);
	if (WARN_ON_ONCE(pad && offset)) {
		ret = -EIO;
		goto out;
	}
	pfn = dmashim_state_pfn(ctx, state, &npages);
	if (unlikely(size > npages << ctx->shift)) {
		ret = -EINVAL;	/* and size + pad cannot wrap below */
		goto out_err;
	}
	iova = state->addr + offset - pad;
	len = dmashim_align(ctx, size + pad);
	/*
	 * Like iommu_map() under mainline's link: an IOVA off the granule
	 * is -EINVAL (an IOMMU driver would be handed a page size of 0, or
	 * map over the granule before), and so is a part reaching out of
	 * the range, which would map over another range's IOVAs.
	 */
	if (unlikely(dmashim_offset(ctx, iova) ||
		     !dmashim_part_fits(ctx, pfn, npages, offset, iova, len))) {
		dev_err_ratelimited(dev, "dma_iova_link refused: offset %zu size %zu do not fit the range at %pad\n",
				    offset, size, &state->addr);
		ret = -EINVAL;
		goto out_err;
	}
	if (dmashim_inject_link_failure()) {
		ret = -ENOMEM;
		goto out_err;
	}
	ret = dmashim_map(ctx, iova, phys - pad, len,
			  dmashim_prot(dev, dir, attrs));
	if (ret)
		goto out_err;
	this_cpu_inc(ctx->stats->links);
	this_cpu_add(ctx->stats->bytes_mapped, size);
	goto out;
out_err:
	this_cpu_inc(ctx->stats->link_errors);
out:
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(dmashim_iova_link);

/**
 * dmashim_iova_sync - make linked mappings visible to the device
 * @dev: the device
 * @state: the range
 * @offset: start of the part to sync
 * @size: length of the part to sync
 *
 * One IOTLB sync for everything linked in [@offset, @offset + @size).
 * Must be called before the device uses the range.
 *
 * Context: any context.
 *
 * Return: 0 or a negative errno from the IOMMU driver.
 */
int dmashim_iova_sync(struct device *dev, struct dma_iova_state *state,
		      size_t offset, size_t size)
{
	struct dmashim_ctx *ctx;
	int ret = -EINVAL;

	rcu_read_lock();
	ctx = dmashim_ctx_of(dev, state);
	if (ctx) {
		ret = dmashim_ops_sync_map(ctx->domain, state->addr + offset,
					   size);
		this_cpu_inc(ctx->stats->syncs);
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(dmashim_iova_sync);

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

/*
 * Unmap [offset, offset + size) of the range; free it all if asked.  The
 * range is checked against the shim's records first: a refused call
 * changes nothing.
 */
static void dmashim_unlink(struct device *dev, struct dma_iova_state *state,
			   size_t offset, size_t size, bool free)
{
	struct dmashim_range *queued = NULL;
	struct iommu_iotlb_gather gather;
	unsigned long addr, pfn, npages;
	size_t pad, len, unmapped = 0;
	struct dmashim_ctx *ctx;
	bool defer;

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
	if (free ? !dmashim_untrack(ctx, pfn, npages, defer ? &queued : NULL) :
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
	if (!free) {
		if (unmapped)
			dmashim_ops_iotlb_sync(ctx->domain, &gather);
		goto out;
	}
	this_cpu_inc(ctx->stats->frees);
	if (defer) {
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
	dmashim_refuse(dev, free ? (size ? "destroy" : "free") : "unlink",
		       state, offset, size);
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
	dmashim_unlink(dev, state, offset, size, false);
}
EXPORT_SYMBOL_GPL(dmashim_iova_unlink);

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
	dmashim_unlink(dev, state, 0, mapped_len, true);
}
EXPORT_SYMBOL_GPL(dmashim_iova_destroy);

/**
 * dmashim_iova_free - free a range whose links were all unlinked
 * @dev: the device
 * @state: the range
 *
 * Context: any context.
 */
void dmashim_iova_free(struct device *dev, struct dma_iova_state *state)
{
	dmashim_unlink(dev, state, 0, 0, true);
}
EXPORT_SYMBOL_GPL(dmashim_iova_free);

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
