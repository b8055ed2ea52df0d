/*
 * v6.8: iotlb_sync_map() returns an error code.
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d)
{
	return d->ops->iotlb_sync_map(d, 0, PAGE_SIZE);
}
