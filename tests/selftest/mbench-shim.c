// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: the benchmark's two-step request through the shim's
 * exports, whatever the kernel has (on 7.x this is the column compared
 * with the kernel's own API, in the same run).
 */
#ifndef DMA_IOVA_SHIM_FORCE
#define DMA_IOVA_SHIM_FORCE
#endif
#include <dma-iova-shim.h>

#include "mbench.h"
#include "mbench-two-step.h"

int dis_mb_shim_request(struct device *dev, struct page **pages,
			unsigned int nseg, dma_addr_t *addr, bool *iova)
{
	return dis_mb_two_step(dev, pages, nseg, addr, iova);
}
