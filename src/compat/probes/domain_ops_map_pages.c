/*
 * domain->ops has map_pages()/unmap_pages(), several pages of one size per
 * call.  v5.15, commit 910c4406ccc9 ("iommu: Add a map_pages() op for
 * IOMMU drivers"); from v5.18, commit 9a630a4b41a2 ("iommu: Split struct
 * iommu_ops"), they sit in the domain's own ops table.
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d, size_t *mapped)
{
	return d->ops->map_pages(d, 0, 0, PAGE_SIZE, 1, IOMMU_READ, GFP_ATOMIC, mapped);
}
