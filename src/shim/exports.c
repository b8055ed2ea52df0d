// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: every symbol the shim exports, in one file that sees
 * nothing but the public headers.
 *
 * A module built against the shim records the CRC of each shim symbol it
 * uses and will not load against a shim whose CRC differs.  genksyms
 * computes that CRC from the type definitions the exporting file can see,
 * so exports placed next to their code would change CRC whenever an
 * internal header of the shim pulled in another kernel header, with the
 * API unchanged, and drivers built against one build of the shim would
 * be refused by the next.  Exported from here, the CRCs depend on the
 * public headers and the target kernel's own headers alone.
 *
 * The prototypes are the public headers'; the kernel-doc is with the
 * definitions.  Each export says which call of mainline's (or of the
 * shim's own extension) the driver reaches it by.
 */
#include <linux/export.h>

#include <blk-mq-dma-shim.h>
#include <dma-iova-shim.h>

/* dma_iova_try_alloc() */
EXPORT_SYMBOL_GPL(dmashim_iova_try_alloc);
/* dma_iova_link() */
EXPORT_SYMBOL_GPL(dmashim_iova_link);
/* dma_iova_sync() */
EXPORT_SYMBOL_GPL(dmashim_iova_sync);
/* dma_iova_unlink() */
EXPORT_SYMBOL_GPL(dmashim_iova_unlink);
/* dma_iova_destroy() */
EXPORT_SYMBOL_GPL(dmashim_iova_destroy);
/* dma_iova_free() */
EXPORT_SYMBOL_GPL(dmashim_iova_free);
/* dma_map_phys() */
EXPORT_SYMBOL_GPL(dmashim_map_phys);
/* dma_unmap_phys() */
EXPORT_SYMBOL_GPL(dmashim_unmap_phys);
/* dma_iova_destroy_batched(), the shim's extension */
EXPORT_SYMBOL_GPL(dmashim_iova_destroy_batched);
/* dma_iova_batch_flush(), the shim's extension */
EXPORT_SYMBOL_GPL(dmashim_iova_batch_flush);
/* dma_iova_batch_defers(), the shim's extension */
EXPORT_SYMBOL_GPL(dmashim_iova_batch_defers);
/* blk_rq_dma_map_iter_start() */
EXPORT_SYMBOL_GPL(dmashim_blk_rq_dma_map_iter_start);
/* blk_rq_dma_map_iter_next() */
EXPORT_SYMBOL_GPL(dmashim_blk_rq_dma_map_iter_next);
