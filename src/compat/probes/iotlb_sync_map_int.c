/*
 * iotlb_sync_map() returns an error code.  v6.7, commit fa4c4507099f
 * ("iommu: Allow .iotlb_sync_map to fail and handle s390's -ENOMEM
 * return").
 */
#include <linux/iommu.h>
int probe(struct iommu_domain *d)
{
	return d->ops->iotlb_sync_map(d, 0, PAGE_SIZE);
}
