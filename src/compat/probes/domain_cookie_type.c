/*
 * domain->cookie_type says what the iova_cookie union holds.
 * v6.15, commit 6aa63a4ec947 ("iommu: Sort out domain user data").
 */
#include <linux/iommu.h>
bool probe(struct iommu_domain *d)
{
	return d->cookie_type == IOMMU_COOKIE_DMA_IOVA;
}
