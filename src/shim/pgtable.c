// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: IOMMU page-table entries written and cleared through the
 * domain's own ops (or its generic page table), without syncing the IOTLB:
 * the caller syncs once, or collects the flush in a gather.  Picks the
 * page sizes as iommu_map() and iommu_unmap() do.  The protection bits for
 * a DMA direction, as the DMA API sets them, are dmashim_prot() in shim.h.
 */
#include <linux/dma-mapping.h>

#include "shim.h"

/* dmashim_pgsize() for more than one page of the smallest size */
static size_t dmashim_pgsize_any(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t size, size_t *count)
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

/*
 * The largest page size of the domain usable at iova/paddr for (part of)
 * size, and how many of them fit before a larger size could take over.
 * iova and paddr are aligned to the domain's smallest page size.
 */
static inline size_t dmashim_pgsize(struct iommu_domain *domain,
				    unsigned long iova, phys_addr_t paddr,
				    size_t size, size_t *count)
{
	unsigned long sizes = domain->pgsize_bitmap;

	/*
	 * One page of the smallest size (a one-granule link, the common
	 * case): what dmashim_pgsize_any() would pick, without its bit
	 * searches.
	 */
	if (size == (sizes & -sizes)) {
		*count = 1;
		return size;
	}
	return dmashim_pgsize_any(domain, iova, paddr, size, count);
}

/*
 * A map that failed part way: clear what it wrote.  Nothing was synced,
 * but the device may have walked it.  Out of line, so that the gather it
 * needs costs the mapping path nothing.
 */
static noinline void dmashim_map_undo(struct dmashim_ctx *ctx,
				      unsigned long iova, size_t done)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	dmashim_unmap_range(ctx, iova, done, &gather);
	dmashim_ops_iotlb_sync(ctx->domain, &gather);
}

/* Map [paddr, paddr + size) at iova without syncing; all or nothing. */
int dmashim_map(struct dmashim_ctx *ctx, unsigned long iova,
		phys_addr_t paddr, size_t size, int prot)
{
	struct iommu_domain *domain = ctx->domain;
	size_t done = 0, pgsize, count, mapped;
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
	if (unlikely(ret && done))
		dmashim_map_undo(ctx, iova, done);
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
