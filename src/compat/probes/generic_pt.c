/*
 * v7.0: IOMMU drivers converted to the generic page table (iommupt) map
 * through pt_iommu ops; their domain ops have no map_pages/unmap_pages.
 */
#include <linux/generic_pt/iommu.h>
int probe(struct iommu_domain *d, size_t *mapped)
{
	struct pt_iommu *pt = iommupt_from_domain(d);

	return pt->ops->map_range(pt, 0, 0, PAGE_SIZE, IOMMU_READ, GFP_ATOMIC,
				  mapped);
}
