/*
 * The gather's freelist is a struct iommu_pages_list wrapping a list_head.
 * v6.16, commit 868240c34eb1 ("iommu: Change iommu_iotlb_gather to use
 * iommu_page_list").
 */
#include <linux/iommu.h>
struct list_head *probe(struct iommu_iotlb_gather *g)
{
	return &g->freelist.pages;
}
