/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The single point through which nvme_iova reaches the two-step DMA API
 * and the block layer's DMA iterator: the project's public headers.  On a
 * kernel that has both natively (7.x) they are the kernel's own and the
 * driver does not need dma_iova_shim.ko; on older kernels (or built with
 * DMA_IOVA_SHIM_FORCE) they resolve to the shim's exports.  The driver uses
 * the mainline names, and the shim's batched destroy (dma_iova_batch_*, not
 * in mainline), which is a plain destroy where the API is the kernel's.
 */
#ifndef NVI_DMA_API_H
#define NVI_DMA_API_H

#include <linux/dma-mapping.h>
#include <dma-iova-shim.h>
#include <blk-mq-dma-shim.h>

#endif /* NVI_DMA_API_H */
