/*
 * v6.15: the gather's freelist became a struct iommu_pages_list wrapping a
 * list_head.
 */
#include <linux/iommu.h>
struct list_head *probe(struct iommu_iotlb_gather *g)
{
	return &g->freelist.pages;
}
