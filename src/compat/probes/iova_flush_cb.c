/*
 * The DMA flush queue lives in struct iova_domain, whose flush_cb is set
 * when the domain is lazy.  Gone in v5.17: commit 649ad9835a37
 * ("iommu/iova: Squash flush_cb abstraction") removed flush_cb, and commit
 * f7f07484542f ("iommu/iova: Move flush queue code to iommu-dma") moved
 * the queue out.
 */
#include <linux/iova.h>
bool probe(struct iova_domain *iovad)
{
	return !!iovad->flush_cb;
}
