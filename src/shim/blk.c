// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the block layer's request DMA iterator
 * (blk_rq_dma_map_iter_start/next), on top of the shim's two-step API.
 *
 * A request is walked as a list of physical segments: bio_vecs that
 * continue each other in physical memory are merged, within the queue's
 * maximum segment size and segment boundary.  If the device is translated
 * and every segment but the first starts, and every segment but the last
 * ends, on an IOMMU granule, the whole request is linked into one IOVA
 * range and synced once.  Otherwise each segment is mapped on its own.
 */
#include <linux/blk-mq.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <xen/xen.h>

#include "shim.h"
#include <blk-mq-dma-shim.h>

struct dmashim_seg {
	phys_addr_t paddr;
	u32 len;
};

static void dmashim_map_iter_init(struct request *rq, struct blk_map_iter *mi)
{
	memset(mi, 0, sizeof(*mi));
	if (rq->rq_flags & RQF_SPECIAL_PAYLOAD) {
		/* e.g. the range list of a discard, set up by the driver */
		mi->bvecs = &rq->special_vec;
		mi->iter.bi_size = rq->special_vec.bv_len;
	} else if (rq->bio) {
		mi->bio = rq->bio;
		mi->bvecs = rq->bio->bi_io_vec;
		mi->iter = rq->bio->bi_iter;
	}
	/* a request without data (flush) has nothing to walk */
}

/* Make the walk stand on an unconsumed bio_vec, moving to later bios. */
static bool dmashim_map_iter_ready(struct blk_map_iter *mi)
{
	while (!mi->iter.bi_size) {
		if (!mi->bio || !mi->bio->bi_next)
			return false;
		mi->bio = mi->bio->bi_next;
		mi->bvecs = mi->bio->bi_io_vec;
		mi->iter = mi->bio->bi_iter;
	}
	return true;
}

/* How long a segment starting at @paddr may be in this queue. */
static u32 dmashim_seg_limit(const struct request_queue *q, phys_addr_t paddr)
{
	unsigned long mask = queue_segment_boundary(q);
	u32 limit = queue_max_segment_size(q);

	if (mask != ULONG_MAX && mask - (paddr & mask) < limit - 1)
		limit = mask - (paddr & mask) + 1;
	return limit;
}

static phys_addr_t dmashim_bvec_phys(const struct bio_vec *bv)
{
	return page_to_phys(bv->bv_page) + bv->bv_offset;
}

/*
 * The next physical segment of the request, or false at its end.  Under
 * Xen, guest-physical neighbours need not be machine neighbours, so only
 * bio_vecs are merged there that the kernel already merged.
 */
static bool dmashim_next_seg(struct request *rq, struct blk_map_iter *mi,
			     struct dmashim_seg *seg)
{
	struct bio_vec bv;
	u32 limit;

	if (!dmashim_map_iter_ready(mi))
		return false;
	bv = mp_bvec_iter_bvec(mi->bvecs, mi->iter);
	seg->paddr = dmashim_bvec_phys(&bv);
	limit = dmashim_seg_limit(rq->q, seg->paddr);
	seg->len = min(bv.bv_len, limit);
	bvec_iter_advance(mi->bvecs, &mi->iter, seg->len);

	while (!xen_domain() && dmashim_map_iter_ready(mi)) {
		bv = mp_bvec_iter_bvec(mi->bvecs, mi->iter);
		if (dmashim_bvec_phys(&bv) != seg->paddr + seg->len ||
		    bv.bv_len > limit - seg->len)
			break;
		seg->len += bv.bv_len;
		bvec_iter_advance(mi->bvecs, &mi->iter, bv.bv_len);
	}
	return true;
}

/*
 * Can the request's segments be linked back to back into one IOVA range?
 * Only if they meet on IOMMU granules (@mask: the granule less one).  A
 * queue whose virtual boundary covers the granule (NVMe: the controller
 * page) guarantees that; other queues are checked segment by segment.
 */
static bool dmashim_rq_iova_contiguous(struct request *rq, unsigned long mask)
{
	struct blk_map_iter mi;
	struct dmashim_seg seg;
	bool first = true;
	phys_addr_t end = 0;

	if ((queue_virt_boundary(rq->q) & mask) == mask)
		return true;
	dmashim_map_iter_init(rq, &mi);
	while (dmashim_next_seg(rq, &mi, &seg)) {
		if (!first && ((end | seg.paddr) & mask))
			return false;
		first = false;
		end = seg.paddr + seg.len;
	}
	return true;
}

/*
 * Allocate the request's IOVA range if its segments can share one.  The
 * DMA layer knows the granule where dma-iommu serves the device (its merge
 * boundary), and the request is checked before anything is allocated;
 * where it does not (5.10's VT-d driver, which has its own DMA ops) the
 * granule is known only once the shim's context for the device exists,
 * that is after the allocation: a request that cannot use the range then
 * gives it back.  Without the check a segment starting off a granule would
 * only be refused by dma_iova_link().
 */
static bool dmashim_rq_try_alloc(struct request *req, struct device *dev,
				 struct dma_iova_state *state, phys_addr_t phys)
{
	unsigned long mask = dma_get_merge_boundary(dev);

	if (mask && !dmashim_rq_iova_contiguous(req, mask))
		return false;
	if (!dmashim_iova_try_alloc(dev, state, phys, blk_rq_payload_bytes(req)))
		return false;
	if (mask)
		return true;
	mask = dmashim_iova_granule(dev, state) - 1;
	if (dmashim_rq_iova_contiguous(req, mask))
		return true;
	dmashim_iova_free(dev, state);
	return false;
}

static bool dmashim_map_direct(struct request *req, struct device *dev,
			       struct blk_dma_iter *iter,
			       const struct dmashim_seg *seg)
{
	dma_addr_t addr;

	addr = dmashim_map_phys(dev, seg->paddr, seg->len, rq_dma_dir(req), 0);
	if (dma_mapping_error(dev, addr)) {
		iter->status = BLK_STS_RESOURCE;
		return false;
	}
	iter->addr = addr;
	iter->len = seg->len;
	return true;
}

static bool dmashim_map_iova(struct request *req, struct device *dev,
			     struct dma_iova_state *state,
			     struct blk_dma_iter *iter, struct dmashim_seg *seg)
{
	enum dma_data_direction dir = rq_dma_dir(req);
	size_t mapped = 0;
	int ret;

	do {
		ret = dmashim_iova_link(dev, state, seg->paddr, mapped,
					seg->len, dir, 0);
		if (ret)
			goto fail;
		mapped += seg->len;
	} while (dmashim_next_seg(req, &iter->iter, seg));

	ret = dmashim_iova_sync(dev, state, 0, mapped);
	if (ret)
		goto fail;
	iter->addr = state->addr;
	iter->len = mapped;
	return true;

fail:
	dmashim_iova_destroy(dev, state, mapped, dir, 0);
	memset(state, 0, sizeof(*state));
	iter->status = errno_to_blk_status(ret);
	return false;
}

/**
 * dmashim_blk_rq_dma_map_iter_start - map the first DMA segment of a request
 * @req: the request
 * @dma_dev: the device that will do the DMA
 * @state: IOVA state, kept by the caller until the request is unmapped
 * @iter: the iterator; neither it nor @state needs initialising
 *
 * Maps the whole request as one IOVA range when the device is translated
 * and the segments allow it (then dmashim_blk_rq_dma_map_coalesce() is true
 * and the segment handed out is the only one), or else its first physical
 * segment; call dmashim_blk_rq_dma_map_iter_next() for the others.
 * Reached as blk_rq_dma_map_iter_start() through <blk-mq-dma-shim.h>.
 *
 * Context: any context the request may be mapped in (also atomic).
 *
 * Return: true with the segment in @iter->addr and @iter->len; false if
 * there was nothing to map (@iter->status is BLK_STS_OK) or mapping
 * failed (@iter->status says why; nothing stays mapped).
 */
bool dmashim_blk_rq_dma_map_iter_start(struct request *req,
				       struct device *dma_dev,
				       struct dma_iova_state *state,
				       struct blk_dma_iter *iter)
{
	struct dmashim_seg seg;

	memset(state, 0, sizeof(*state));
	memset(&iter->p2pdma, 0, sizeof(iter->p2pdma));
	iter->p2pdma.map = PCI_P2PDMA_MAP_NONE;
	iter->status = BLK_STS_OK;
	dmashim_map_iter_init(req, &iter->iter);
	if (!dmashim_next_seg(req, &iter->iter, &seg))
		return false;

	/* peer-to-peer memory needs bus addresses the shim does not make */
	if (is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(seg.paddr)))) {
		iter->status = BLK_STS_NOTSUPP;
		return false;
	}

	if (dmashim_rq_try_alloc(req, dma_dev, state, seg.paddr)) {
		if (dmashim_map_iova(req, dma_dev, state, iter, &seg))
			return true;
		/*
		 * Linking failed and nothing stays mapped: map segment by
		 * segment as if try_alloc had failed.  Handing the error to
		 * the driver (BLK_STS_RESOURCE, requeue) would retry a
		 * failure of the IOVA path alone (injected, say) forever; a
		 * real shortage fails the direct mapping too and requeues.
		 */
		iter->status = BLK_STS_OK;
		dmashim_map_iter_init(req, &iter->iter);
		dmashim_next_seg(req, &iter->iter, &seg);
	}
	memset(state, 0, sizeof(*state));
	return dmashim_map_direct(req, dma_dev, iter, &seg);
}

/**
 * dmashim_blk_rq_dma_map_iter_next - map the next DMA segment of a request
 * @req: the request
 * @dma_dev: the device that will do the DMA
 * @iter: the iterator dmashim_blk_rq_dma_map_iter_start() set up
 *
 * Reached as blk_rq_dma_map_iter_next() through <blk-mq-dma-shim.h>.  On a
 * false return with an error status, the segments handed out before stay
 * mapped: the caller unmaps them.
 *
 * Context: as dmashim_blk_rq_dma_map_iter_start().
 *
 * Return: true with the segment in @iter->addr and @iter->len; false at the
 * end of the request (@iter->status BLK_STS_OK) or on a mapping failure.
 */
bool dmashim_blk_rq_dma_map_iter_next(struct request *req,
				      struct device *dma_dev,
				      struct blk_dma_iter *iter)
{
	struct dmashim_seg seg;

	if (!dmashim_next_seg(req, &iter->iter, &seg))
		return false;
	return dmashim_map_direct(req, dma_dev, iter, &seg);
}
