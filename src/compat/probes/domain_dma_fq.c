/*
 * A lazy (flush-queue) DMA domain has its own type, IOMMU_DOMAIN_DMA_FQ.
 * v5.15, commit bf3aed4660c6 ("iommu: Introduce explicit type for
 * non-strict DMA domains").
 */
#include <linux/iommu.h>
unsigned int probe(void)
{
	return IOMMU_DOMAIN_DMA_FQ;
}
