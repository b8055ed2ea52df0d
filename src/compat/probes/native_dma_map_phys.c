/*
 * v6.18: dma_map_phys()/dma_unmap_phys() and DMA_ATTR_MMIO.
 */
#include <linux/dma-mapping.h>
dma_addr_t probe(struct device *dev, phys_addr_t p)
{
	return dma_map_phys(dev, p, PAGE_SIZE, DMA_TO_DEVICE, DMA_ATTR_MMIO);
}
