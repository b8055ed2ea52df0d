// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: namespaces.  One gendisk nvmeiova<C>n<N> per active namespace
 * with a supported LBA format, limits from MDTS and the LBA size.
 */
#include "nvme-iova.h"

static struct nvi_ns *nvi_disk_ns(struct gendisk *disk)
{
	return container_of(disk->private_data, struct nvi_ns, hold);
}

static int nvi_ns_bdev_ioctl(struct block_device *bdev, blkcompat_mode_t mode,
			     unsigned int cmd, unsigned long arg)
{
	return nvi_ns_ioctl(nvi_disk_ns(bdev->bd_disk), cmd, arg);
}

/* Neither the driver nor the disk holds the namespace any more. */
static void nvi_ns_free(struct blkcompat_disk_hold *hold)
{
	struct nvi_ns *ns = container_of(hold, struct nvi_ns, hold);

	put_device(&ns->ctrl->device);
	kfree(ns);
}

/* The driver's own reference to the namespace and its disk goes. */
static void nvi_ns_put(struct nvi_ns *ns, bool added)
{
	blkcompat_disk_hold_put(&ns->hold, ns->disk, added);
}

const struct block_device_operations nvi_bdev_ops = {
	.owner		= THIS_MODULE,
	.ioctl		= nvi_ns_bdev_ioctl,
	.compat_ioctl	= blkdev_compat_ptr_ioctl,
	BLKCOMPAT_DISK_HOLD_OPS,
};

struct nvi_ns *nvi_find_ns(struct nvi_ctrl *ctrl, u32 nsid)
{
	struct nvi_ns *ns;

	list_for_each_entry(ns, &ctrl->namespaces, list)
		if (ns->nsid == nsid)
			return ns;
	return NULL;
}

/*
 * The disk's limits, as current nvme-pci derives them: block sizes from the
 * namespace's preferred write granularity (NPWG), optimal write size (NOWS,
 * none if 0), deallocate granularity (NPDG) and atomic write unit (NAWUPF,
 * else the controller's AWUPF); transfers no larger than the DMA layer maps
 * on its fast path; discard and Write Zeroes from ONCS and the NVM command
 * set's limits (DMRL, DMRSL).  doc/queue-attributes.md lists where older
 * kernels' nvme-pci differs.
 */
static void nvi_ns_limits(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			  const struct nvme_id_ns *id,
			  struct blkcompat_limits *lim)
{
	unsigned int bs = 1U << ns->lba_shift;
	unsigned int sect_shift = ns->lba_shift - SECTOR_SHIFT;
	unsigned int phys_bs = bs, atomic_bs;

	if ((id->nsfeat & NVME_NS_FEAT_ATOMICS) && id->nawupf)
		atomic_bs = (1 + le16_to_cpu(id->nawupf)) * bs;
	else
		atomic_bs = (1 + ctrl->awupf) * bs;
	lim->discard_granularity = bs;
	if (id->nsfeat & NVI_NS_FEAT_OPTPERF) {
		phys_bs = bs * (1 + le16_to_cpu(id->npwg));
		if (id->nows)
			lim->io_opt = bs * (1 + le16_to_cpu(id->nows));
		lim->discard_granularity = bs * (1 + le16_to_cpu(id->npdg));
	}
	lim->lbs = bs;
	lim->pbs = min(phys_bs, atomic_bs);
	lim->io_min = phys_bs;
	lim->atomic_bs = atomic_bs;
	lim->max_hw_sectors = ctrl->max_hw_sectors;
	/* a PRP entry per controller page, one more if not page aligned */
	lim->max_segments = min_t(u32, NVI_MAX_SEGS,
				  lim->max_hw_sectors / (NVI_PAGE_SIZE >> SECTOR_SHIFT) + 1);
	lim->virt_boundary = NVI_PAGE_SIZE - 1;
	if (ctrl->oncs & NVME_CTRL_ONCS_DSM) {
		lim->max_discard_sectors = UINT_MAX;
		if (ctrl->dmrsl && ctrl->dmrsl <= UINT_MAX >> sect_shift)
			lim->max_discard_sectors = ctrl->dmrsl << sect_shift;
		lim->max_discard_segments = ctrl->dmrl ? ctrl->dmrl :
			NVME_DSM_MAX_RANGES;
	}
	if (ctrl->oncs & NVME_CTRL_ONCS_WRITE_ZEROES)
		lim->max_write_zeroes_sectors =
			min_t(u32, 0x10000U << sect_shift,	/* 16-bit NLB */
			      ctrl->wzsl_sectors ?: lim->max_hw_sectors);
}

static int nvi_alloc_ns(struct nvi_ctrl *ctrl, u32 nsid)
{
	struct nvme_command c = { };
	struct nvme_id_ns *id;
	struct blkcompat_limits lim = { };
	struct gendisk *disk;
	struct nvi_ns *ns;
	u8 lbaf;
	int ret;

	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = NVME_ID_CNS_NS;
	ret = nvi_admin_data(ctrl, &c, id, sizeof(*id), DMA_FROM_DEVICE);
	if (ret) {
		ret = ret < 0 ? ret : -EIO;
		goto free_id;
	}
	lbaf = id->flbas & NVME_NS_FLBAS_LBA_MASK;
	if (!id->nsze || id->lbaf[lbaf].ms || id->lbaf[lbaf].ds < 9 ||
	    id->lbaf[lbaf].ds > PAGE_SHIFT) {
		dev_info(ctrl->dev, "namespace %u: unsupported format (lbads %u, ms %u), skipped\n",
			 nsid, id->lbaf[lbaf].ds, le16_to_cpu(id->lbaf[lbaf].ms));
		ret = 0;
		goto free_id;
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns) {
		ret = -ENOMEM;
		goto free_id;
	}
	blkcompat_disk_hold_init(&ns->hold, nvi_ns_free);
	ns->ctrl = ctrl;
	ns->nsid = nsid;
	ns->lba_shift = id->lbaf[lbaf].ds;
	ns->nsze = le64_to_cpu(id->nsze);

	nvi_ns_limits(ctrl, ns, id, &lim);
	lim.wc = ctrl->vwc & NVME_CTRL_VWC_PRESENT;

	disk = blkcompat_alloc_disk(&ctrl->tagset, &lim, ns);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		kfree(ns);
		goto free_id;
	}
	blkcompat_disk_set_wc(disk, lim.wc);
	ns->disk = disk;
	disk->fops = &nvi_bdev_ops;
	disk->private_data = &ns->hold;
	snprintf(disk->disk_name, DISK_NAME_LEN, "nvmeiova%dn%u",
		 ctrl->instance, nsid);
	set_capacity(disk, ns->nsze << (ns->lba_shift - SECTOR_SHIFT));
	get_device(&ctrl->device);	/* dropped in nvi_ns_free() */

	ret = blkcompat_add_disk(&ctrl->device, disk);
	if (ret) {
		nvi_ns_put(ns, false);
		goto free_id;
	}
	mutex_lock(&ctrl->ns_lock);
	list_add_tail(&ns->list, &ctrl->namespaces);
	mutex_unlock(&ctrl->ns_lock);
	dev_info(ctrl->dev, "%s: %llu blocks of %u bytes%s%s%s\n",
		 disk->disk_name, ns->nsze, lim.lbs,
		 lim.wc ? ", write cache" : "",
		 lim.max_discard_sectors ? ", discard" : "",
		 lim.max_write_zeroes_sectors ? ", write-zeroes" : "");
free_id:
	kfree(id);
	return ret;
}

/**
 * nvi_scan_namespaces - add a disk for each active namespace not yet known
 * @ctrl: live controller
 *
 * Reads the active namespace list (CNS 02h); namespaces that disappeared
 * are left alone (a rescan only adds).  One scan at a time (scan_lock, as
 * nvme-pci's scan work): probe's scan and rescan ioctls, which may start
 * as soon as the character device exists, would otherwise both find a new
 * namespace unknown and add it twice.
 */
int nvi_scan_namespaces(struct nvi_ctrl *ctrl)
{
	struct nvme_command c = { };
	__le32 *list;
	int i, ret;

	list = kzalloc(NVI_PAGE_SIZE, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	mutex_lock(&ctrl->scan_lock);
	c.identify.opcode = nvme_admin_identify;
	c.identify.cns = NVME_ID_CNS_NS_ACTIVE_LIST;
	c.identify.nsid = 0;
	ret = nvi_admin_data(ctrl, &c, list, NVI_PAGE_SIZE, DMA_FROM_DEVICE);
	if (ret) {
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	for (i = 0; i < NVI_PAGE_SIZE / 4 && list[i]; i++) {
		u32 nsid = le32_to_cpu(list[i]);
		bool known;

		mutex_lock(&ctrl->ns_lock);
		known = nvi_find_ns(ctrl, nsid);
		mutex_unlock(&ctrl->ns_lock);
		if (known)
			continue;
		ret = nvi_alloc_ns(ctrl, nsid);
		if (ret)
			dev_warn(ctrl->dev, "namespace %u: %d\n", nsid, ret);
	}
	ret = 0;
out:
	mutex_unlock(&ctrl->scan_lock);
	kfree(list);
	return ret;
}

int nvi_rescan(struct nvi_ctrl *ctrl)
{
	return nvi_scan_namespaces(ctrl);
}

void nvi_remove_namespaces(struct nvi_ctrl *ctrl)
{
	struct nvi_ns *ns, *next;
	LIST_HEAD(gone);

	mutex_lock(&ctrl->ns_lock);
	list_splice_init(&ctrl->namespaces, &gone);
	mutex_unlock(&ctrl->ns_lock);
	list_for_each_entry_safe(ns, next, &gone, list) {
		list_del_init(&ns->list);
		del_gendisk(ns->disk);
		nvi_ns_put(ns, true);
	}
}

/**
 * nvi_kick_namespaces - quiesce or restart every namespace queue
 * @ctrl: controller
 * @quiesce: stop dispatching (true) or resume and run the requeue lists
 */
void nvi_kick_namespaces(struct nvi_ctrl *ctrl, bool quiesce)
{
	struct nvi_ns *ns;

	mutex_lock(&ctrl->ns_lock);
	list_for_each_entry(ns, &ctrl->namespaces, list) {
		if (quiesce) {
			blk_mq_quiesce_queue(ns->disk->queue);
		} else {
			blk_mq_unquiesce_queue(ns->disk->queue);
			blk_mq_kick_requeue_list(ns->disk->queue);
		}
	}
	mutex_unlock(&ctrl->ns_lock);
}
