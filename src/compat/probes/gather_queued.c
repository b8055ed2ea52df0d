/*
 * v5.15: iommu_iotlb_gather.queued marks an unmap whose flush is deferred to
 * a flush queue.
 */
#include <linux/iommu.h>
bool probe(struct iommu_iotlb_gather *g)
{
	return g->queued;
}
