/*
 * Page-table pages freed by an unmap wait on the gather's freelist, a
 * list_head, until iotlb_sync.  v5.17, commit 87f60cc65d24 ("iommu/vt-d:
 * Use put_pages_list"); before, a struct page chain.  v6.16 wraps it in a
 * struct iommu_pages_list (gather_freelist_pages.c).
 */
#include <linux/iommu.h>
struct list_head *probe(struct iommu_iotlb_gather *g)
{
	return &g->freelist;
}
