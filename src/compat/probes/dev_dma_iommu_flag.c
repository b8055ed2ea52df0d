/*
 * The dma_iommu bit is a device flag, read with dev_dma_iommu(): v7.2
 * ("driver core: Replace dev->dma_iommu with dev_dma_iommu()"; commit id
 * not checked against mainline).
 */
#include <linux/device.h>
bool probe(struct device *dev)
{
	return dev_dma_iommu(dev);
}
