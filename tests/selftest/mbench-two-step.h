/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dis_selftest: one request through the two-step API, written once against
 * the mainline names.  Included by mbench-shim.c (the names are the shim's
 * exports there) and by mbench-native.c (the kernel's own functions), so
 * both columns of the benchmark run the same code.
 */
#ifndef DIS_MBENCH_TWO_STEP_H
#define DIS_MBENCH_TWO_STEP_H

#include <linux/dma-mapping.h>
#include <linux/mm.h>

/**
 * dis_mb_two_step - map and unmap one request as a two-step driver does
 * @dev: the device
 * @pages: @nseg pages, one 4 KiB segment each
 * @nseg: segments in the request
 * @addr: room for @nseg DMA addresses (used by the fallback)
 * @iova: set to whether try_alloc gave a range
 *
 * try_alloc, one link per segment, one sync, destroy.  Where try_alloc says
 * no (no IOMMU, identity domain, ...), what the driver does then: one
 * dma_map_phys() and dma_unmap_phys() per segment.
 *
 * Return: 0, or a negative errno.
 */
static __always_inline int dis_mb_two_step(struct device *dev,
					   struct page **pages,
					   unsigned int nseg, dma_addr_t *addr,
					   bool *iova)
{
	const size_t len = (size_t)nseg * PAGE_SIZE;
	struct dma_iova_state st;
	unsigned int i;
	int ret = 0;

	*iova = dma_iova_try_alloc(dev, &st, 0, len);
	if (*iova) {
		for (i = 0; i < nseg; i++) {
			ret = dma_iova_link(dev, &st, page_to_phys(pages[i]),
					    (size_t)i * PAGE_SIZE, PAGE_SIZE,
					    DMA_TO_DEVICE, 0);
			if (ret)
				break;
		}
		if (!ret)
			ret = dma_iova_sync(dev, &st, 0, len);
		dma_iova_destroy(dev, &st, (size_t)i * PAGE_SIZE,
				 DMA_TO_DEVICE, 0);
		return ret;
	}
	for (i = 0; i < nseg; i++) {
		addr[i] = dma_map_phys(dev, page_to_phys(pages[i]), PAGE_SIZE,
				       DMA_TO_DEVICE, 0);
		if (dma_mapping_error(dev, addr[i])) {
			ret = -ENOMEM;
			break;
		}
	}
	while (i--)
		dma_unmap_phys(dev, addr[i], PAGE_SIZE, DMA_TO_DEVICE, 0);
	return ret;
}

#endif /* DIS_MBENCH_TWO_STEP_H */
