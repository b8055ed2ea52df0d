// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: the data pointer of a command, built from the DMA segments
 * map.c produced: PRP entries (with a PRP list when two do not suffice) or
 * an SGL (one data descriptor, or a segment of them), and the PRP list /
 * SGL segment allocations from the controller's two DMA pools.
 *
 * nvi_want_sgl() picks between them (module parameter sgl);
 * nvi_setup_dptr() fills in the command.
 */
#include "nvme-iova.h"

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
 * A passthrough command's list (@list->whole_page) is a zeroed page of its
 * own.  Its length comes from the caller's data_len, not from what the
 * controller will transfer, and PRP 2 is a list pointer only for a transfer
 * that crosses more than one page boundary: a command that moves less than
 * data_len says (an Identify from an unaligned buffer with a long data_len)
 * has the controller write through PRP 2, into the list.  In the small pool
 * that page holds other requests' lists and the pool's free-block links:
 * a list handed out twice, and reads landing in another request's pages
 * (found by the passthrough fuzz: a 128 KiB read came back with 31 pages
 * of zeros).  In a page of its own, only the command's own list is hit.
 *
 * Return: the list's CPU address, or NULL.
 */
void *nvi_alloc_list(struct nvi_ctrl *ctrl, struct nvi_list *list,
		     size_t bytes, gfp_t gfp)
{
	if (list->whole_page)
		bytes = NVI_PAGE_SIZE;
	list->pool = bytes <= NVI_SMALL_LIST ? ctrl->small_pool : ctrl->list_pool;
	list->va = dma_pool_alloc(list->pool, gfp, &list->dma);
	if (list->va && list->whole_page)
		memset(list->va, 0, NVI_PAGE_SIZE);
	return list->va;
}

void nvi_free_list(struct nvi_list *list)
{
	if (list->va)
		dma_pool_free(list->pool, list->va, list->dma);
	list->va = NULL;
}
