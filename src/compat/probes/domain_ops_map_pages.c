/*
 * v5.15 map_pages()/unmap_pages() map several pages of one size per call;
 * from v5.19 they sit in the domain's own ops table.
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d, size_t *mapped)
{
	return d->ops->map_pages(d, 0, 0, PAGE_SIZE, 1, IOMMU_READ, GFP_ATOMIC, mapped);
}
