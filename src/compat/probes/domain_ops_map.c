/*
 * domain->ops has map()/unmap(), one page size per call.  Gone in v6.7,
 * commit bd111e987e76 ("iommu: Retire map/unmap ops").  Before v5.18,
 * commit 9a630a4b41a2 ("iommu: Split struct iommu_ops"), domain->ops is
 * the driver's struct iommu_ops (5.10).
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d)
{
	return d->ops->map(d, 0, 0, PAGE_SIZE, IOMMU_READ, GFP_ATOMIC);
}
