/*
 * v6.15: domain->cookie_type says what the iova_cookie union holds.
 */
#include <linux/iommu.h>
bool probe(struct iommu_domain *d)
{
	return d->cookie_type == IOMMU_COOKIE_DMA_IOVA;
}
