/*
 * A driver on the generic page table (iommupt) is reached through
 * iommupt_from_domain() and its pt_iommu ops, map_range()/unmap_range(),
 * which the core calls instead of the domain's map_pages()/unmap_pages().
 * v7.1, commits d6c65b0fd621 ("iommupt: Avoid rewalking during map") and
 * 99fb8afa16ad ("iommupt: Directly call iommupt's unmap_range()"), both
 * backported to 7.0.y.
 */
#include <linux/generic_pt/iommu.h>
int probe(struct iommu_domain *d, size_t *mapped)
{
	struct pt_iommu *pt = iommupt_from_domain(d);

	return pt->ops->map_range(pt, 0, 0, PAGE_SIZE, IOMMU_READ, GFP_ATOMIC,
				  mapped);
}
