// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: DMA mapping of request data and of pinned user buffers, and
 * the PRP / SGL data pointers built from the resulting segments.
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
 * from which nvi_setup_dptr() builds PRPs or an SGL.
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

bool nvi_want_sgl(struct nvi_ctrl *ctrl, unsigned int nsegs)
{
	if (!ctrl->sgl_supported)
		return false;
	switch (READ_ONCE(nvi_sgl)) {
	case NVI_SGL_NEVER:
		return false;
	case NVI_SGL_ALWAYS:
		return true;
	default:
		return nsegs > 1;
	}
}

/* Walks the mapped segments as one byte stream. */
struct nvi_cursor {
	const struct nvi_dma_map *map;
	unsigned int idx;
	dma_addr_t addr;
	u32 left;
};

static void nvi_cursor_advance(struct nvi_cursor *cur, u32 n)
{
	while (n) {
		u32 take = min(n, cur->left);

		cur->addr += take;
		cur->left -= take;
		n -= take;
		if (!cur->left && cur->idx + 1 < cur->map->nsegs) {
			cur->idx++;
			cur->addr = cur->map->segs[cur->idx].addr;
			cur->left = cur->map->segs[cur->idx].len;
		}
	}
}

/*
 * A PRP entry other than the first must start on a controller page and
 * cover a page of data contiguous in DMA space (a page may continue into the
 * next segment only if that segment starts where this one ends).
 */
static bool nvi_prp_ok(struct nvi_cursor *cur, u32 len)
{
	const struct nvi_seg *next;

	if (cur->addr & (NVI_PAGE_SIZE - 1))
		return false;
	if (cur->left >= len)
		return true;
	next = &cur->map->segs[cur->idx + 1];
	return cur->idx + 1 < cur->map->nsegs &&
		next->addr == cur->addr + cur->left &&
		cur->left + next->len >= len;
}

static int nvi_setup_prps(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
			  struct nvi_dma_map *map, struct nvi_list *list,
			  gfp_t gfp)
{
	struct nvi_cursor cur = {
		.map = map, .idx = 0,
		.addr = map->segs[0].addr, .left = map->segs[0].len,
	};
	u32 length = map->total_len;
	u32 len = min_t(u32, length,
			NVI_PAGE_SIZE - (cur.addr & (NVI_PAGE_SIZE - 1)));
	unsigned int i = 0;
	size_t nprps;
	__le64 *prps;

	cmd->common.dptr.prp1 = cpu_to_le64(cur.addr);
	nvi_cursor_advance(&cur, len);
	length -= len;
	if (!length)
		return 0;
	if (length <= NVI_PAGE_SIZE) {
		if (!nvi_prp_ok(&cur, length))
			return -EINVAL;
		cmd->common.dptr.prp2 = cpu_to_le64(cur.addr);
		return 0;
	}
	/* one entry per page left: too many only if they are not valid PRPs */
	nprps = min_t(size_t, DIV_ROUND_UP(length, NVI_PAGE_SIZE),
		      NVI_PAGE_SIZE / sizeof(__le64));
	prps = nvi_alloc_list(ctrl, list, nprps * sizeof(__le64), gfp);
	if (!prps)
		return -ENOMEM;
	cmd->common.dptr.prp2 = cpu_to_le64(list->dma);
	while (length) {
		len = min(length, NVI_PAGE_SIZE);
		if (!nvi_prp_ok(&cur, len) || i == nprps)
			return -EINVAL;
		prps[i++] = cpu_to_le64(cur.addr);
		nvi_cursor_advance(&cur, len);
		length -= len;
	}
	return 0;
}

static void nvi_sgl_data(struct nvme_sgl_desc *d, dma_addr_t addr, u32 len)
{
	d->addr = cpu_to_le64(addr);
	d->length = cpu_to_le32(len);
	d->type = NVME_SGL_FMT_DATA_DESC << 4;
}

static int nvi_setup_sgl(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
			 struct nvi_dma_map *map, struct nvi_list *list,
			 gfp_t gfp)
{
	struct nvme_sgl_desc *descs;
	unsigned int i;

	cmd->common.flags |= NVME_CMD_SGL_METABUF;
	if (map->nsegs == 1) {
		nvi_sgl_data(&cmd->common.dptr.sgl, map->segs[0].addr,
			     map->segs[0].len);
		return 0;
	}
	if (map->nsegs > NVI_PAGE_SIZE / sizeof(*descs))
		return -EINVAL;
	descs = nvi_alloc_list(ctrl, list, map->nsegs * sizeof(*descs), gfp);
	if (!descs)
		return -ENOMEM;
	for (i = 0; i < map->nsegs; i++)
		nvi_sgl_data(&descs[i], map->segs[i].addr, map->segs[i].len);
	cmd->common.dptr.sgl.addr = cpu_to_le64(list->dma);
	cmd->common.dptr.sgl.length = cpu_to_le32(map->nsegs * sizeof(*descs));
	cmd->common.dptr.sgl.type = NVME_SGL_FMT_LAST_SEG_DESC << 4;
	return 0;
}

/**
 * nvi_setup_dptr - build the data pointer of @cmd from mapped segments
 * @ctrl: controller
 * @cmd: command whose DPTR (and PSDT flags) is filled in
 * @map: mapped data, at least one segment
 * @use_sgl: SGL rather than PRPs
 * @list: receives the PRP list / SGL segment if one is needed (list->va
 *	NULL if not); the caller frees it with nvi_free_list()
 * @gfp: allocation flags for the list
 *
 * Return: 0, -ENOMEM, or -EINVAL when the segments cannot be described
 * with PRPs (not page-aligned inside the transfer).  On error @list may
 * have been allocated: the caller frees it.
 */
int nvi_setup_dptr(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		   struct nvi_dma_map *map, bool use_sgl, struct nvi_list *list,
		   gfp_t gfp)
{
	list->va = NULL;
	if (use_sgl)
		return nvi_setup_sgl(ctrl, cmd, map, list, gfp);
	return nvi_setup_prps(ctrl, cmd, map, list, gfp);
}

/**
 * nvi_alloc_list - a list for the controller of at least @bytes
 * @ctrl: controller
 * @list: receives it (list->va NULL on failure)
 * @bytes: at most NVI_PAGE_SIZE
 * @gfp: allocation flags
 *
 * From the small pool when it fits, as nvme-pci does: a pool allocation
 * may be zeroed whole (init_on_alloc, on in Debian's kernels), and a page
 * for the 31 entries of a 128 KiB transfer cost 4 KiB of memset per request.
 *
 * Return: the list's CPU address, or NULL.
 */
void *nvi_alloc_list(struct nvi_ctrl *ctrl, struct nvi_list *list,
		     size_t bytes, gfp_t gfp)
{
	list->pool = bytes <= NVI_SMALL_LIST ? ctrl->small_pool : ctrl->list_pool;
	list->va = dma_pool_alloc(list->pool, gfp, &list->dma);
	return list->va;
}

void nvi_free_list(struct nvi_list *list)
{
	if (list->va)
		dma_pool_free(list->pool, list->va, list->dma);
	list->va = NULL;
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

	map->mode = nvi_map_mode;
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
 * Uses the module's map mode; the iova mode falls back to per-page mappings
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

	map->mode = nvi_map_mode;
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
