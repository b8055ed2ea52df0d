// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: DMA mapping of request data and of pinned user buffers, and
 * its undoing.
 *
 * Three ways to map (module parameter map_mode):
 *  - iova: blk_rq_dma_map_iter_start()/_next(): one IOVA range per request
 *    through the two-step API (dma_iova_try_alloc + dma_iova_link per
 *    segment + one dma_iova_sync), undone by blk_rq_dma_unmap(); where the
 *    device is not translated the iterator hands out one direct mapping per
 *    segment instead, which are unmapped one by one.
 *  - sg: blk_rq_map_sg() + dma_map_sgtable(), as the stock driver does.
 *  - page: every page-sized segment mapped on its own with dma_map_page().
 * Whatever the mode, the result is a list of (dma address, length) segments
 * from which nvi_setup_dptr() builds PRPs or an SGL (prp-sgl.c).
 */
#include <linux/highmem.h>

#include "nvme-iova.h"

size_t nvi_pdu_size(int mode)
{
	size_t size = sizeof(struct nvi_iod) +
		NVI_MAX_DMA_SEGS * sizeof(struct nvi_seg);

	if (mode == NVI_MAP_SG)
		size += NVI_MAX_SEGS * sizeof(struct scatterlist);
	return size;
}

/* Point the iod at its segment arrays in the pdu tail (cheap, per request). */
void nvi_iod_init(struct nvi_iod *iod, int mode)
{
	iod->map.segs = (struct nvi_seg *)(iod + 1);
	if (mode == NVI_MAP_SG)
		iod->map.sgt.sgl = (struct scatterlist *)
			(iod->map.segs + NVI_MAX_DMA_SEGS);
}

static void nvi_unmap_segs(struct nvi_ctrl *ctrl, struct nvi_dma_map *map)
{
	unsigned int i;

	for (i = 0; i < map->nsegs; i++)
		dma_unmap_page(ctrl->dev, map->segs[i].addr, map->segs[i].len,
			       map->dir);
	map->nsegs = 0;
}

static bool nvi_add_seg(struct nvi_dma_map *map, dma_addr_t addr, u32 len)
{
	if (map->nsegs == NVI_MAX_DMA_SEGS)
		return false;
	map->segs[map->nsegs].addr = addr;
	map->segs[map->nsegs].len = len;
	map->nsegs++;
	map->total_len += len;
	return true;
}

/*
 * As nvme-pci (6.17+) decides it: a request of one segment that PRPs can
 * describe (within two controller pages) is mapped directly, in one call,
 * not through an IOVA range of its own (the two-step API's allocation,
 * link, sync and destroy cost more there than they save).  The caller
 * unmaps it as a per-page mapping.  Under batched unmapping too: its unmap
 * then costs an invalidation of its own, but under QEMU the two-step path
 * costs one-segment requests more than that saves (doc/demo-driver.md,
 * "Batched strict unmapping"); single_segment=N batches them as well.
 */
static bool nvi_map_rq_single(struct nvi_ctrl *ctrl, struct request *rq,
			      struct nvi_dma_map *map)
{
	struct bio_vec bv;
	dma_addr_t addr;

	if (blk_rq_nr_phys_segments(rq) != 1 || !READ_ONCE(nvi_single_segment))
		return false;
	bv = req_bvec(rq);
	if ((bv.bv_offset & (NVI_PAGE_SIZE - 1)) + bv.bv_len > 2 * NVI_PAGE_SIZE)
		return false;
	addr = dma_map_bvec(ctrl->dev, &bv, map->dir, 0);
	if (dma_mapping_error(ctrl->dev, addr))
		return false;	/* the general path tries, and reports */
	nvi_add_seg(map, addr, bv.bv_len);
	map->mode = NVI_MAP_PAGE;
	return true;
}

/*
 * With @batch, an IOVA range is destroyed into it: the caller flushes the
 * batch before it ends the request.  Per-segment mappings (no IOVA range)
 * are unmapped at once either way.
 */
static void nvi_unmap_rq_iova(struct nvi_ctrl *ctrl, struct request *rq,
			      struct nvi_dma_map *map,
			      struct dma_iova_batch *batch)
{
	if (batch && dma_use_iova(&map->state)) {
		dma_iova_destroy_batched(ctrl->dev, &map->state, map->total_len,
					 map->dir, 0, batch);
		return;
	}
	if (!blk_rq_dma_unmap(rq, ctrl->dev, &map->state, map->total_len,
			      PCI_P2PDMA_MAP_NONE))
		nvi_unmap_segs(ctrl, map);
}

static blk_status_t nvi_map_rq_iova(struct nvi_ctrl *ctrl, struct request *rq,
				    struct nvi_dma_map *map)
{
	struct blk_dma_iter iter;

	if (!blk_rq_dma_map_iter_start(rq, ctrl->dev, &map->state, &iter))
		return iter.status ?: BLK_STS_IOERR;
	do {
		if (!nvi_add_seg(map, iter.addr, iter.len)) {
			/* cannot happen within our queue limits */
			dma_unmap_page(ctrl->dev, iter.addr, iter.len, map->dir);
			iter.status = BLK_STS_IOERR;
			break;
		}
	} while (blk_rq_dma_map_iter_next(rq, ctrl->dev, &iter));
	if (iter.status) {
		nvi_unmap_rq_iova(ctrl, rq, map, NULL);
		return iter.status;
	}
	return BLK_STS_OK;
}

/*
 * Pinned user pages: one IOVA range through the two-step API directly, or
 * per-page mappings when the device is not translated.
 */
static int nvi_map_pages_iova(struct nvi_ctrl *ctrl, struct nvi_dma_map *map,
			      struct page **pages, unsigned int npages,
			      unsigned int offset, unsigned int len)
{
	phys_addr_t phys = page_to_phys(pages[0]) + offset;
	size_t mapped = 0;
	unsigned int i;
	int ret;

	if (!dma_iova_try_alloc(ctrl->dev, &map->state, phys, len))
		return -EOPNOTSUPP;
	for (i = 0; i < npages; i++) {
		size_t chunk = min_t(size_t, PAGE_SIZE - offset, len - mapped);

		ret = dma_iova_link(ctrl->dev, &map->state,
				    page_to_phys(pages[i]) + offset, mapped,
				    chunk, map->dir, 0);
		if (ret)
			goto err;
		mapped += chunk;
		offset = 0;
	}
	ret = dma_iova_sync(ctrl->dev, &map->state, 0, mapped);
	if (ret)
		goto err;
	nvi_add_seg(map, map->state.addr, len);
	return 0;
err:
	dma_iova_destroy(ctrl->dev, &map->state, mapped, map->dir, 0);
	memset(&map->state, 0, sizeof(map->state));
	return ret;
}

static bool nvi_map_uses_iova(struct nvi_dma_map *map)
{
	return dma_use_iova(&map->state);
}

static void nvi_unmap_pages_iova(struct nvi_ctrl *ctrl, struct nvi_dma_map *map)
{
	dma_iova_destroy(ctrl->dev, &map->state, map->total_len, map->dir, 0);
	memset(&map->state, 0, sizeof(map->state));
	map->nsegs = 0;
}

static blk_status_t nvi_map_rq_sg(struct nvi_ctrl *ctrl, struct request *rq,
				  struct nvi_dma_map *map)
{
	struct sg_table *sgt = &map->sgt;
	struct scatterlist *sg;
	int i, n;

	/* as many entries as the request can use, not the whole array */
	sg_init_table(sgt->sgl, min_t(unsigned int, NVI_MAX_SEGS,
				      max(1U, blk_rq_nr_phys_segments(rq))));
	n = blkcompat_rq_map_sg(rq, sgt->sgl);
	if (!n)
		return BLK_STS_IOERR;
	sgt->orig_nents = n;
	if (dma_map_sgtable(ctrl->dev, sgt, map->dir, 0))
		return BLK_STS_RESOURCE;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!nvi_add_seg(map, sg_dma_address(sg), sg_dma_len(sg))) {
			dma_unmap_sgtable(ctrl->dev, sgt, map->dir, 0);
			map->nsegs = 0;
			return BLK_STS_IOERR;
		}
	}
	return BLK_STS_OK;
}

static blk_status_t nvi_map_rq_page(struct nvi_ctrl *ctrl, struct request *rq,
				    struct nvi_dma_map *map)
{
	struct req_iterator it;
	struct bio_vec bv;
	dma_addr_t addr;

	rq_for_each_segment(bv, rq, it) {
		addr = dma_map_page(ctrl->dev, bv.bv_page, bv.bv_offset,
				    bv.bv_len, map->dir);
		if (dma_mapping_error(ctrl->dev, addr))
			goto err;
		if (!nvi_add_seg(map, addr, bv.bv_len)) {
			dma_unmap_page(ctrl->dev, addr, bv.bv_len, map->dir);
			goto err;
		}
	}
	return BLK_STS_OK;
err:
	nvi_unmap_segs(ctrl, map);
	return BLK_STS_RESOURCE;
}

static void nvi_unmap_data(struct nvi_ctrl *ctrl, struct request *rq,
			   struct nvi_dma_map *map, struct dma_iova_batch *batch)
{
	switch (map->mode) {
	case NVI_MAP_IOVA:
		nvi_unmap_rq_iova(ctrl, rq, map, batch);
		break;
	case NVI_MAP_SG:
		dma_unmap_sgtable(ctrl->dev, &map->sgt, map->dir, 0);
		break;
	default:
		nvi_unmap_segs(ctrl, map);
		break;
	}
	map->nsegs = 0;
}

/**
 * nvi_map_rq - DMA-map a read/write request and build its data pointer
 * @ctrl: controller
 * @rq: request with data
 *
 * On success the request is marked mapped and nvi_unmap_rq() undoes it at
 * completion, mirroring the way it was mapped.
 */
blk_status_t nvi_map_rq(struct nvi_ctrl *ctrl, struct request *rq)
{
	struct nvi_iod *iod = nvi_rq_iod(rq);
	struct nvi_dma_map *map = &iod->map;
	blk_status_t ret;
	int err;

	map->mode = ctrl->map_mode;
	map->dir = rq_dma_dir(rq);
	map->nsegs = 0;
	map->total_len = 0;
	switch (map->mode) {
	case NVI_MAP_IOVA:
		if (nvi_map_rq_single(ctrl, rq, map))
			ret = BLK_STS_OK;
		else
			ret = nvi_map_rq_iova(ctrl, rq, map);
		break;
	case NVI_MAP_SG:
		ret = nvi_map_rq_sg(ctrl, rq, map);
		break;
	default:
		ret = nvi_map_rq_page(ctrl, rq, map);
		break;
	}
	if (ret)
		return ret;
	err = nvi_setup_dptr(ctrl, &iod->cmd, map,
			     nvi_want_sgl(ctrl, map->nsegs), &iod->list,
			     GFP_ATOMIC);
	if (err) {
		if (err == -EINVAL)
			dev_err_ratelimited(ctrl->dev,
					    "request of %u bytes in %u segments cannot be described by PRPs\n",
					    map->total_len, map->nsegs);
		nvi_unmap_data(ctrl, rq, map, NULL);
		return err == -ENOMEM ? BLK_STS_RESOURCE : BLK_STS_IOERR;
	}
	iod->mapped = true;
	return BLK_STS_OK;
}

/**
 * nvi_unmap_rq - undo nvi_map_rq()
 * @ctrl: controller
 * @rq: the mapped request
 * @batch: NULL to unmap completely now; else a batch its IOVA range is
 *	destroyed into, which the caller flushes (dma_iova_batch_flush())
 *	before it ends the request
 */
void nvi_unmap_rq(struct nvi_ctrl *ctrl, struct request *rq,
		  struct dma_iova_batch *batch)
{
	nvi_unmap_data(ctrl, rq, &nvi_rq_iod(rq)->map, batch);
}

/**
 * nvi_map_pages - DMA-map pinned pages of a passthrough buffer
 * @ctrl: controller
 * @map: map with @map->segs pointing to NVI_MAX_DMA_SEGS entries
 * @pages: pinned pages
 * @npages: their number
 * @offset: offset of the data in the first page
 * @len: data length (at most NVI_MAX_XFER)
 * @dir: DMA direction
 *
 * Uses the controller's map mode; the iova mode falls back to per-page mappings
 * where the two-step API cannot allocate (untranslated device).
 */
int nvi_map_pages(struct nvi_ctrl *ctrl, struct nvi_dma_map *map,
		  struct page **pages, unsigned int npages,
		  unsigned int offset, unsigned int len,
		  enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i, done = 0;
	int ret;

	map->mode = ctrl->map_mode;
	map->dir = dir;
	map->nsegs = 0;
	map->total_len = 0;
	if (map->mode == NVI_MAP_IOVA) {
		ret = nvi_map_pages_iova(ctrl, map, pages, npages, offset, len);
		if (ret != -EOPNOTSUPP)
			return ret;
		map->mode = NVI_MAP_PAGE;
	}
	if (map->mode == NVI_MAP_SG) {
		ret = sg_alloc_table_from_pages(&map->sgt, pages, npages, offset,
						len, GFP_KERNEL);
		if (ret)
			return ret;
		ret = dma_map_sgtable(ctrl->dev, &map->sgt, dir, 0);
		if (ret) {
			sg_free_table(&map->sgt);
			return ret;
		}
		for_each_sgtable_dma_sg(&map->sgt, sg, i) {
			if (!nvi_add_seg(map, sg_dma_address(sg),
					 sg_dma_len(sg))) {
				nvi_unmap_pages(ctrl, map);
				return -EINVAL;
			}
		}
		return 0;
	}
	for (i = 0; i < npages; i++) {
		u32 chunk = min_t(u32, PAGE_SIZE - offset, len - done);
		dma_addr_t addr = dma_map_page(ctrl->dev, pages[i], offset,
					       chunk, dir);

		if (dma_mapping_error(ctrl->dev, addr) ||
		    !nvi_add_seg(map, addr, chunk)) {
			if (!dma_mapping_error(ctrl->dev, addr))
				dma_unmap_page(ctrl->dev, addr, chunk, dir);
			nvi_unmap_segs(ctrl, map);
			return -ENOMEM;
		}
		done += chunk;
		offset = 0;
	}
	return 0;
}

void nvi_unmap_pages(struct nvi_ctrl *ctrl, struct nvi_dma_map *map)
{
	if (map->mode == NVI_MAP_IOVA && nvi_map_uses_iova(map)) {
		nvi_unmap_pages_iova(ctrl, map);
	} else if (map->mode == NVI_MAP_SG) {
		dma_unmap_sgtable(ctrl->dev, &map->sgt, map->dir, 0);
		sg_free_table(&map->sgt);
		map->nsegs = 0;
	} else {
		nvi_unmap_segs(ctrl, map);
	}
}
