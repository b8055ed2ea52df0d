/*
 * Since v6.11 struct device has a dma_iommu bit: the device uses the dma-
 * iommu DMA ops (before, dev->dma_ops pointed at them).
 */
#include <linux/device.h>
bool probe(struct device *dev)
{
	return dev->dma_iommu;
}
