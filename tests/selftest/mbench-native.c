// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: the benchmark's two-step request through the kernel's own
 * API, on kernels that have it.  Built without DMA_IOVA_SHIM_FORCE even in
 * the forced flavour, so that the native column is the kernel's code.
 */
#undef DMA_IOVA_SHIM_FORCE
#include <dma-iova-shim.h>

#include "mbench.h"

#ifdef DMA_IOVA_SHIM_USES_NATIVE
#include "mbench-two-step.h"

const bool dis_mb_have_native = true;

int dis_mb_native_request(struct device *dev, struct page **pages,
			  unsigned int nseg, dma_addr_t *addr, bool *iova)
{
	return dis_mb_two_step(dev, pages, nseg, addr, iova);
}
#else
const bool dis_mb_have_native;

int dis_mb_native_request(struct device *dev, struct page **pages,
			  unsigned int nseg, dma_addr_t *addr, bool *iova)
{
	*iova = false;
	return -EOPNOTSUPP;
}
#endif
