/*
 * v5.17: page-table pages freed by an unmap wait on the gather's freelist (a
 * list_head) until iotlb_sync.
 */
#include <linux/iommu.h>
struct list_head *probe(struct iommu_iotlb_gather *g)
{
	return &g->freelist;
}
