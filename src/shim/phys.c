// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: dma_map_phys()/dma_unmap_phys() for kernels without them,
 * the per-segment mapping a driver falls back to when try_alloc says no.
 */
#include <linux/dma-mapping.h>

#include "shim.h"

/**
 * dmashim_map_phys - map a physical range through the regular DMA API
 * @dev: the device
 * @phys: physical address
 * @size: length in bytes
 * @dir: DMA direction
 * @attrs: DMA_ATTR_*; DMA_ATTR_MMIO maps an MMIO range (dma_map_resource)
 *
 * Context: any context.
 *
 * Return: the DMA address; check it with dma_mapping_error().
 */
dma_addr_t dmashim_map_phys(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	if (attrs & DMA_ATTR_MMIO)
		return dma_map_resource(dev, phys, size, dir,
					attrs & ~DMA_ATTR_MMIO);
	return dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(phys)),
				  offset_in_page(phys), size, dir, attrs);
}

/**
 * dmashim_unmap_phys - undo dmashim_map_phys()
 * @dev: the device
 * @addr: the DMA address it returned
 * @size: the length mapped
 * @dir: the DMA direction
 * @attrs: the attributes it was mapped with
 *
 * Context: any context.
 */
void dmashim_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	if (attrs & DMA_ATTR_MMIO)
		dma_unmap_resource(dev, addr, size, dir, attrs & ~DMA_ATTR_MMIO);
	else
		dma_unmap_page_attrs(dev, addr, size, dir, attrs);
}
