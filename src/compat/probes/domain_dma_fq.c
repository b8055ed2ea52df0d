/*
 * v5.15: a lazy (flush-queue) DMA domain has its own type,
 * IOMMU_DOMAIN_DMA_FQ.
 */
#include <linux/iommu.h>
unsigned int probe(void)
{
	return IOMMU_DOMAIN_DMA_FQ;
}
