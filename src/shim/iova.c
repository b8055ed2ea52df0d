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
 *
 * Here: the allocation, link and sync of a range.  Its unlink, destroy
 * and free are in teardown.c, the records of outstanding ranges in
 * range.c, the page-table writes in pgtable.c, the lazy domains' flush
 * queue in fq.c.
 */
#include <linux/dma-mapping.h>

#include "shim.h"
#include "trace.h"

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
unsigned long dmashim_iova_pages(struct dmashim_ctx *ctx, size_t len)
{
	unsigned long npages = dmashim_align(ctx, len) >> ctx->shift;

	if (npages < DMASHIM_IOVA_CACHED_PAGES)
		npages = roundup_pow_of_two(npages);
	return npages;
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
	if (unlikely(dmashim_ctx_unusable(ctx))) {
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
	trace_dmashim_try_alloc(dev, state, size, DMASHIM_FB_MAX);
	rcu_read_unlock();
	return true;

fallback:
	dmashim_count_fallback(ctx, why);
	trace_dmashim_try_alloc(dev, state, size, why);
	rcu_read_unlock();
	return false;
}

/* dmashim_ctx_of() found no context the range can belong to: complain. */
void dmashim_ctx_none(struct device *dev, struct dma_iova_state *state)
{
	dev_err_ratelimited(dev, "dma_iova call on a range the shim did not allocate (%pad)\n",
			    &state->addr);
}

/*
 * The IOMMU granule of the range @state holds (that of its device's
 * domain), 0 if the shim did not allocate it.
 */
size_t dmashim_iova_granule(struct device *dev, struct dma_iova_state *state)
{
	struct dmashim_ctx *ctx;
	size_t granule = 0;

	rcu_read_lock();
	ctx = dmashim_ctx_of(dev, state);
	if (ctx)
		granule = dmashim_granule(ctx);
	rcu_read_unlock();
	return granule;
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
	size_t pad, len, total = dma_iova_size(state);
	struct dmashim_ctx *ctx;
	unsigned long iova;
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
	iova = state->addr + offset - pad;
	/*
	 * Like iommu_map() under mainline's link: an IOVA off the granule
	 * is -EINVAL (an IOMMU driver would be handed a page size of 0, or
	 * map over the granule before), and so is a part reaching past the
	 * size the range was allocated for, which would map over another
	 * range's IOVAs.  With the IOVA on the granule (so @pad is the
	 * allocation's own), the granules mapped stay inside the range.
	 */
	if (unlikely(dmashim_offset(ctx, iova) || size > total ||
		     offset > total - size)) {
		dev_err_ratelimited(dev, "dma_iova_link refused: offset %zu size %zu do not fit the range at %pad\n",
				    offset, size, &state->addr);
		ret = -EINVAL;
		goto out_err;
	}
	len = dmashim_align(ctx, size + pad);
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
	trace_dmashim_link(dev, state, offset, phys, size, ret);
	rcu_read_unlock();
	return ret;
}

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
		trace_dmashim_sync(dev, state, offset, size, ret);
	}
	rcu_read_unlock();
	return ret;
}
