/*
 * struct device has a dma_iommu bit: the device's streaming DMA goes to
 * dma-iommu directly (before, dev->dma_ops pointed at iommu_dma_ops).
 * v6.12, commit b5c58b2fdc42 ("dma-mapping: direct calls for dma-iommu").
 * v7.2 turns the bit into a device flag (dev_dma_iommu_flag.c).
 */
#include <linux/device.h>
bool probe(struct device *dev)
{
	return dev->dma_iommu;
}
