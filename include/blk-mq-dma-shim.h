/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma-iova-shim: mainline's block-layer DMA iterator for every kernel.
 *
 * Include this header instead of <linux/blk-mq-dma.h> and map requests
 * with the mainline names:
 *
 *	blk_rq_dma_map_iter_start()  blk_rq_dma_map_iter_next()
 *	blk_rq_dma_unmap()           blk_rq_dma_map_coalesce()
 *	struct blk_dma_iter
 *
 * The iterator hands out (iter.addr, iter.len) DMA segments of a request.
 * When the device sits behind a translating IOMMU and the request's
 * segments meet at IOMMU-granule boundaries, the whole request becomes one
 * IOVA range through the two-step API (one segment, one IOTLB sync);
 * otherwise every physical segment is mapped on its own with
 * dma_map_phys().  blk_rq_dma_unmap() undoes the first case and returns
 * false in the second, where the caller unmaps each segment it was given
 * with dma_unmap_phys().
 *
 * Where the kernel ships the iterator (<linux/blk-mq-dma.h>, v6.17+) the
 * names are the kernel's own, unless DMA_IOVA_SHIM_FORCE is defined; then,
 * and on older kernels, they resolve to dma_iova_shim.ko (dmashim_blk_*),
 * which pairs them with the shim's dma_iova_* implementation.
 *
 * Differences from mainline's iterator, by design: peer-to-peer (PCI P2PDMA)
 * pages are refused with BLK_STS_NOTSUPP, and integrity metadata has no
 * iterator (map it with dma_map_phys()).
 */
#ifndef _BLK_MQ_DMA_SHIM_H
#define _BLK_MQ_DMA_SHIM_H

#include <linux/blk-mq.h>
#include <dma-iova-shim.h>

/*
 * (sparse has no __has_include: it checks the shim's side, as on old
 * kernels.)  The quoted form finds the kernel's header through the same -I
 * paths as <...> would, and checkpatch does not misread it as comparisons.
 */
#ifdef __has_include
#if __has_include("linux/blk-mq-dma.h")
#include <linux/blk-mq-dma.h>
#define BLK_MQ_DMA_SHIM_NATIVE_ITER 1
#endif
#endif

#ifndef BLK_MQ_DMA_SHIM_NATIVE_ITER
/* Where the iterator stands in the request's bio_vecs. */
struct blk_map_iter {
	struct bvec_iter	iter;
	struct bio		*bio;
	struct bio_vec		*bvecs;
	bool			is_integrity;
};

/* The caller's iterator; same members and meaning as mainline's. */
struct blk_dma_iter {
	/* the segment mapped by the last successful start/next */
	dma_addr_t		addr;
	u32			len;
	/* P2P mapping kind: always PCI_P2PDMA_MAP_NONE with the shim */
	struct {
		int		map;
	} p2pdma;
	/* why start/next returned false (BLK_STS_OK: no more segments) */
	blk_status_t		status;
	/* private to the iterator */
	struct blk_map_iter	iter;
};

#define PCI_P2PDMA_MAP_NONE	0
#endif /* !BLK_MQ_DMA_SHIM_NATIVE_ITER */

bool dmashim_blk_rq_dma_map_iter_start(struct request *req,
				       struct device *dma_dev,
				       struct dma_iova_state *state,
				       struct blk_dma_iter *iter);
bool dmashim_blk_rq_dma_map_iter_next(struct request *req,
				      struct device *dma_dev,
				      struct blk_dma_iter *iter);

/**
 * dmashim_blk_rq_dma_map_coalesce - did the request become one IOVA range?
 * @state: the state passed to dmashim_blk_rq_dma_map_iter_start()
 *
 * Return: true if every segment of the request was linked into one IOVA
 * range, so the first segment handed out is the only one.
 */
static inline bool dmashim_blk_rq_dma_map_coalesce(struct dma_iova_state *state)
{
	return dma_use_iova(state);
}

/**
 * dmashim_blk_rq_dma_unmap - undo the IOVA range of a mapped request
 * @req: the request
 * @dma_dev: the device it was mapped for
 * @state: the state passed to dmashim_blk_rq_dma_map_iter_start()
 * @mapped_len: the sum of the segment lengths handed out
 * @map: the P2P mapping kind from the iterator (the shim makes none)
 *
 * Context: any context.
 *
 * Return: true if nothing is left to unmap; false if the request was mapped
 * segment by segment and the caller must dma_unmap_phys() every segment.
 */
static inline bool dmashim_blk_rq_dma_unmap(struct request *req,
					    struct device *dma_dev,
					    struct dma_iova_state *state,
					    size_t mapped_len, int map)
{
	if (!dma_use_iova(state))
		return false;
	dmashim_iova_destroy(dma_dev, state, mapped_len, rq_dma_dir(req), 0);
	return true;
}

#if !defined(BLK_MQ_DMA_SHIM_NATIVE_ITER) || defined(DMA_IOVA_SHIM_FORCE)
#define blk_rq_dma_map_iter_start	dmashim_blk_rq_dma_map_iter_start
#define blk_rq_dma_map_iter_next	dmashim_blk_rq_dma_map_iter_next
#define blk_rq_dma_map_coalesce		dmashim_blk_rq_dma_map_coalesce
#define blk_rq_dma_unmap		dmashim_blk_rq_dma_unmap
#endif

#endif /* _BLK_MQ_DMA_SHIM_H */
