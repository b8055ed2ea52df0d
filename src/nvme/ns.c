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

/**
 * nvi_get_ns - look a namespace up and hold it
 * @ctrl: controller
 * @nsid: namespace id
 *
 * The namespace stays valid until nvi_put_ns(), even if a scan removes it
 * meanwhile (its queue then refuses new requests).
 *
 * Return: the namespace, or NULL if the driver has none with @nsid.
 */
struct nvi_ns *nvi_get_ns(struct nvi_ctrl *ctrl, u32 nsid)
{
	struct nvi_ns *ns;

	mutex_lock(&ctrl->ns_lock);
	ns = nvi_find_ns(ctrl, nsid);
	/* listed: the driver's own hold is there */
	if (ns)
		blkcompat_disk_hold_get(&ns->hold, ns->disk);
	mutex_unlock(&ctrl->ns_lock);
	return ns;
}

void nvi_put_ns(struct nvi_ns *ns)
{
	blkcompat_disk_hold_drop(&ns->hold, ns->disk);
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

/* Identify Namespace (CNS 00h); an inactive namespace reads as zeroes. */
static int nvi_identify_ns(struct nvi_ctrl *ctrl, u32 nsid,
			   struct nvme_id_ns *id)
{
	struct nvme_command c = { };
	int ret;

	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = NVME_ID_CNS_NS;
	ret = nvi_admin_data(ctrl, &c, id, sizeof(*id), DMA_FROM_DEVICE);
	return ret < 0 ? ret : ret ? -EIO : 0;
}

/*
 * The namespace's current LBA format, if the driver can serve it: no
 * metadata (the driver has no integrity or metadata buffers, and an
 * extended LBA would not fit the block layer's sector sizes), data blocks
 * of 512 bytes to a page.
 */
static bool nvi_ns_format_ok(const struct nvme_id_ns *id, u8 *lba_shift)
{
	const struct nvme_lbaf *f = &id->lbaf[id->flbas & NVME_NS_FLBAS_LBA_MASK];

	*lba_shift = f->ds;
	return !f->ms && f->ds >= 9 && f->ds <= PAGE_SHIFT;
}

static void nvi_ns_describe(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			    const struct blkcompat_limits *lim,
			    const char *what)
{
	dev_info(ctrl->dev, "%s: %s%llu blocks of %u bytes%s%s%s\n",
		 ns->disk->disk_name, what, ns->nsze, lim->lbs,
		 lim->wc ? ", write cache" : "",
		 lim->max_discard_sectors ? ", discard" : "",
		 lim->max_write_zeroes_sectors ? ", write-zeroes" : "");
}

static int nvi_alloc_ns(struct nvi_ctrl *ctrl, u32 nsid,
			const struct nvme_id_ns *id)
{
	struct blkcompat_limits lim = { };
	struct gendisk *disk;
	struct nvi_ns *ns;
	u8 lba_shift;
	int ret;

	if (!nvi_ns_format_ok(id, &lba_shift)) {
		u8 lbaf = id->flbas & NVME_NS_FLBAS_LBA_MASK;

		dev_info(ctrl->dev, "namespace %u: unsupported format (lbads %u, ms %u), skipped\n",
			 nsid, id->lbaf[lbaf].ds, le16_to_cpu(id->lbaf[lbaf].ms));
		return 0;
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	blkcompat_disk_hold_init(&ns->hold, nvi_ns_free);
	ns->ctrl = ctrl;
	ns->nsid = nsid;
	ns->lba_shift = lba_shift;
	ns->nsze = le64_to_cpu(id->nsze);

	nvi_ns_limits(ctrl, ns, id, &lim);
	lim.wc = ctrl->vwc & NVME_CTRL_VWC_PRESENT;

	disk = blkcompat_alloc_disk(&ctrl->tagset, &lim, ns);
	if (IS_ERR(disk)) {
		kfree(ns);
		return PTR_ERR(disk);
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
		return ret;
	}
	mutex_lock(&ctrl->ns_lock);
	list_add_tail(&ns->list, &ctrl->namespaces);
	mutex_unlock(&ctrl->ns_lock);
	nvi_ns_describe(ctrl, ns, &lim, "");
	return 0;
}

/* No capacity and read-only: no request is built for the namespace. */
static void nvi_ns_hide(struct nvi_ns *ns)
{
	ns->unusable = true;
	set_capacity_and_notify(ns->disk, 0);
	set_disk_ro(ns->disk, true);
}

/*
 * Apply a known namespace's Identify data read again, its queue frozen:
 * the block size, limits and capacity of its current format, or, for a
 * format the driver cannot serve, no capacity and read-only (as nvme-pci
 * hides a format it cannot serve behind a capacity of 0), so that no
 * request is built for it.
 */
static void nvi_ns_apply(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			 const struct nvme_id_ns *id)
{
	struct blkcompat_limits lim = { };
	u8 lba_shift;
	int ret;

	if (!nvi_ns_format_ok(id, &lba_shift)) {
		u8 lbaf = id->flbas & NVME_NS_FLBAS_LBA_MASK;

		if (!ns->unusable)
			dev_warn(ctrl->dev, "%s: format changed to one the driver cannot serve (lbads %u, ms %u): capacity 0, read-only\n",
				 ns->disk->disk_name, id->lbaf[lbaf].ds,
				 le16_to_cpu(id->lbaf[lbaf].ms));
		nvi_ns_hide(ns);
		return;
	}
	if (!ns->unusable && lba_shift == ns->lba_shift &&
	    le64_to_cpu(id->nsze) == ns->nsze)
		return;
	ns->lba_shift = lba_shift;
	ns->nsze = le64_to_cpu(id->nsze);
	nvi_ns_limits(ctrl, ns, id, &lim);
	lim.wc = ctrl->vwc & NVME_CTRL_VWC_PRESENT;
	ret = blkcompat_update_limits(ns->disk, &lim);
	if (ret) {
		/* the queue keeps a block size that no longer holds */
		dev_err(ctrl->dev, "%s: new limits refused (%d): capacity 0, read-only\n",
			ns->disk->disk_name, ret);
		nvi_ns_hide(ns);
		return;
	}
	if (ns->unusable)
		set_disk_ro(ns->disk, false);
	ns->unusable = false;
	set_capacity_and_notify(ns->disk,
				ns->nsze << (ns->lba_shift - SECTOR_SHIFT));
	nvi_ns_describe(ctrl, ns, &lim, "now ");
}

/*
 * Freeze every namespace queue: requests in flight complete, new ones wait
 * in the block layer.  The caller holds scan_lock, under which alone the
 * namespace list changes while the controller is bound, and no ns_lock
 * while waiting (a reset, which may be what completes the requests,
 * quiesces the queues under it).  I/O allocations stay clear of reclaim
 * meanwhile: it could write to a frozen disk.
 */
void nvi_freeze_namespaces(struct nvi_ctrl *ctrl)
{
	struct nvi_ns *ns;

	lockdep_assert_held(&ctrl->scan_lock);
	ctrl->freeze_noio = memalloc_noio_save();
	list_for_each_entry(ns, &ctrl->namespaces, list)
		blk_freeze_queue_start(ns->disk->queue);
	list_for_each_entry(ns, &ctrl->namespaces, list)
		blk_mq_freeze_queue_wait(ns->disk->queue);
}

void nvi_unfreeze_namespaces(struct nvi_ctrl *ctrl)
{
	struct nvi_ns *ns;

	lockdep_assert_held(&ctrl->scan_lock);
	list_for_each_entry(ns, &ctrl->namespaces, list)
		blkcompat_unfreeze_queue(ns->disk->queue);
	memalloc_noio_restore(ctrl->freeze_noio);
}

static bool nvi_nsid_listed(const __le32 *list, u32 nsid)
{
	int i;

	for (i = 0; i < NVI_PAGE_SIZE / 4 && list[i]; i++)
		if (le32_to_cpu(list[i]) == nsid)
			return true;
	return false;
}

/*
 * Read a known namespace again; false if it is no longer active.  Its
 * queue is frozen for the update unless the caller froze them all.
 */
static bool nvi_revalidate_ns(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			      struct nvme_id_ns *id, bool frozen)
{
	struct request_queue *q = ns->disk->queue;
	unsigned int noio;
	int ret;

	ret = nvi_identify_ns(ctrl, ns->nsid, id);
	if (ret) {
		/* no answer: keep the namespace as it was */
		dev_warn(ctrl->dev, "%s: Identify Namespace failed (%d)\n",
			 ns->disk->disk_name, ret);
		return true;
	}
	if (!id->nsze)
		return false;
	if (frozen) {
		nvi_ns_apply(ctrl, ns, id);
		return true;
	}
	noio = memalloc_noio_save();
	blk_freeze_queue_start(q);
	blk_mq_freeze_queue_wait(q);
	nvi_ns_apply(ctrl, ns, id);
	blkcompat_unfreeze_queue(q);
	memalloc_noio_restore(noio);
	return true;
}

static void nvi_remove_ns(struct nvi_ns *ns)
{
	mutex_lock(&ns->ctrl->ns_lock);
	list_del_init(&ns->list);
	mutex_unlock(&ns->ctrl->ns_lock);
	dev_info(ns->ctrl->dev, "%s: namespace %u is gone\n",
		 ns->disk->disk_name, ns->nsid);
	del_gendisk(ns->disk);
	nvi_ns_put(ns, true);
}

/**
 * nvi_scan_locked - bring the namespaces in line with the controller's
 * @ctrl: live controller; scan_lock held
 * @frozen: every namespace queue is frozen (nvi_passthru_start()); they
 *	are thawed here once the known namespaces were read again
 *
 * Reads the active namespace list (CNS 02h).  A known namespace is read
 * again (block size, capacity, format); one no longer active loses its
 * disk, with no capacity meanwhile; a new one gets a disk.  Disks are
 * removed and added with the queues running: del_gendisk() drains them.
 *
 * Return: 0, or a negative errno if the list could not be read (then
 * nothing changed).
 */
int nvi_scan_locked(struct nvi_ctrl *ctrl, bool frozen)
{
	struct nvi_ns *ns, *next;
	struct nvme_command c = { };
	struct nvme_id_ns *id;
	__le32 *list;
	int i, ret;

	lockdep_assert_held(&ctrl->scan_lock);
	list = kzalloc(NVI_PAGE_SIZE, GFP_KERNEL);
	id = kzalloc(sizeof(*id), GFP_KERNEL);
	ret = -ENOMEM;
	if (!list || !id)
		goto out;
	c.identify.opcode = nvme_admin_identify;
	c.identify.cns = NVME_ID_CNS_NS_ACTIVE_LIST;
	c.identify.nsid = 0;
	ret = nvi_admin_data(ctrl, &c, list, NVI_PAGE_SIZE, DMA_FROM_DEVICE);
	if (ret) {
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	list_for_each_entry(ns, &ctrl->namespaces, list) {
		ns->gone = !nvi_nsid_listed(list, ns->nsid) ||
			!nvi_revalidate_ns(ctrl, ns, id, frozen);
		if (ns->gone && frozen)
			set_capacity(ns->disk, 0);
	}
	if (frozen) {
		nvi_unfreeze_namespaces(ctrl);
		frozen = false;
	}
	list_for_each_entry_safe(ns, next, &ctrl->namespaces, list)
		if (ns->gone)
			nvi_remove_ns(ns);
	for (i = 0; i < NVI_PAGE_SIZE / 4 && list[i]; i++) {
		u32 nsid = le32_to_cpu(list[i]);
		int err;

		if (nvi_find_ns(ctrl, nsid))
			continue;
		err = nvi_identify_ns(ctrl, nsid, id);
		if (!err && id->nsze)
			err = nvi_alloc_ns(ctrl, nsid, id);
		if (err)
			dev_warn(ctrl->dev, "namespace %u: %d\n", nsid, err);
	}
	ret = 0;
out:
	if (frozen)
		nvi_unfreeze_namespaces(ctrl);
	kfree(id);
	kfree(list);
	return ret;
}

/**
 * nvi_scan_namespaces - scan the namespaces (probe, rescan ioctl)
 * @ctrl: live controller
 *
 * One scan at a time (scan_lock, as nvme-pci's scan work): probe's scan
 * and rescan ioctls, which may start as soon as the character device
 * exists, would otherwise both find a new namespace unknown and add it
 * twice.
 */
int nvi_scan_namespaces(struct nvi_ctrl *ctrl)
{
	int ret;

	mutex_lock(&ctrl->scan_lock);
	ret = nvi_scan_locked(ctrl, false);
	mutex_unlock(&ctrl->scan_lock);
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
