/*
 * v5.13: iotlb_sync_map() takes the iova and size it syncs.
 */
#include <linux/iommu.h>
void probe(struct iommu_domain *d)
{
	d->ops->iotlb_sync_map(d, 0, PAGE_SIZE);
}
