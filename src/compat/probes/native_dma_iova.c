/*
 * v6.16: the kernel has the two-step DMA API (dma_iova_try_alloc() and
 * friends) natively.
 */
#include <linux/dma-mapping.h>
bool probe(struct device *dev, struct dma_iova_state *s)
{
	return dma_iova_try_alloc(dev, s, 0, PAGE_SIZE);
}
