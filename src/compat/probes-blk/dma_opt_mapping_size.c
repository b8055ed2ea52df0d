/*
 * dma_opt_mapping_size(): the largest mapping that stays on the fast path
 * (with an IOMMU: the IOVA caches' largest size); nvme-pci clamps its
 * transfer size to it in later releases.  v6.0, commit a229cc14f339
 * ("dma-mapping: add dma_opt_mapping_size()"); also in 5.15.y stable.
 */
#include <linux/dma-mapping.h>
size_t probe(struct device *dev)
{
	return dma_opt_mapping_size(dev);
}
