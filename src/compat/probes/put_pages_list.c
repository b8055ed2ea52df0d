/*
 * v5.17: put_pages_list() takes a list_head of pages (page-table pages the
 * IOMMU driver put on a gather's freelist).
 */
#include <linux/mm.h>
void probe(struct list_head *l)
{
	put_pages_list(l);
}
