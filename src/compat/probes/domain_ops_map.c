/*
 * Before v5.19 domain->ops is the driver's struct iommu_ops, with
 * map()/unmap() of one page size per call (5.10).
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d)
{
	return d->ops->map(d, 0, 0, PAGE_SIZE, IOMMU_READ, GFP_ATOMIC);
}
