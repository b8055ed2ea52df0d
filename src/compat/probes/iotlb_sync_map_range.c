/*
 * iotlb_sync_map() takes the iova and size it syncs.  v5.12, commit
 * 2ebbd25873ce ("iommu: Add iova and size as parameters in
 * iotlb_sync_map").
 */
#include <linux/iommu.h>
void probe(struct iommu_domain *d)
{
	d->ops->iotlb_sync_map(d, 0, PAGE_SIZE);
}
