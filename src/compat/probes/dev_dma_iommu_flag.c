/*
 * Newer kernels turn that bit into a device flag read with dev_dma_iommu().
 */
#include <linux/device.h>
bool probe(struct device *dev)
{
	return dev_dma_iommu(dev);
}
