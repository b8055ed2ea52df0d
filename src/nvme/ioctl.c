// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: passthrough ioctls with the stock ABI (<linux/nvme_ioctl.h>)
 * on /dev/nvmeiova<C> and on the namespace block devices, so that nvme-cli
 * works unchanged.  User buffers are pinned with pin_user_pages_fast() and
 * mapped by the same code as block requests (nvi_map_pages()).
 */
#include <linux/mm.h>
#include <linux/nvme_ioctl.h>
#include <linux/uaccess.h>

#include "nvme-iova.h"

/*
 * A user command as both passthru structures and SUBMIT_IO describe it.
 * @lba_shift: the block size SUBMIT_IO sized the buffer for (0: raw
 * passthrough, sized by the caller).
 */
struct nvi_ucmd {
	struct nvme_command c;
	u64 addr;
	u32 data_len;
	u32 timeout_ms;
	u64 result;
	u8 lba_shift;
};

struct nvi_ubuf {
	struct page **pages;
	unsigned int npages;
	bool pinned;
	enum dma_data_direction dir;
	struct nvi_dma_map map;
	struct nvi_seg segs[NVI_MAX_DMA_SEGS];
};

static void nvi_put_ubuf(struct nvi_ctrl *ctrl, struct nvi_ubuf *ub)
{
	if (ub->map.nsegs)
		nvi_unmap_pages(ctrl, &ub->map);
	if (ub->pinned)
		unpin_user_pages_dirty_lock(ub->pages, ub->npages,
					    ub->dir == DMA_FROM_DEVICE);
	kvfree(ub->pages);
	kfree(ub);
}

/*
 * Pin and map the user buffer of @uc.  Data direction comes from the
 * opcode's two low bits, as the NVMe spec defines them.
 */
static int nvi_get_ubuf(struct nvi_ctrl *ctrl, struct nvi_ucmd *uc,
			struct nvi_ubuf **out)
{
	unsigned long start = uc->addr;
	unsigned int offset = offset_in_page(start);
	u8 opcode = uc->c.common.opcode;
	struct nvi_ubuf *ub;
	int ret;

	*out = NULL;
	if (!uc->data_len)
		return 0;
	if (uc->data_len > ctrl->max_hw_sectors << 9)
		return -EINVAL;
	if ((opcode & 3) == 0 || (opcode & 3) == 3)
		return -EINVAL;	/* no data transfer, or bidirectional */
	if (!uc->addr)
		return -EFAULT;
	ub = kzalloc(sizeof(*ub), GFP_KERNEL);
	if (!ub)
		return -ENOMEM;
	ub->dir = (opcode & 1) ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	ub->map.segs = ub->segs;
	ub->npages = DIV_ROUND_UP(offset + uc->data_len, PAGE_SIZE);
	ub->pages = kvmalloc_array(ub->npages, sizeof(*ub->pages), GFP_KERNEL);
	if (!ub->pages) {
		kfree(ub);
		return -ENOMEM;
	}
	ret = pin_user_pages_fast(start & PAGE_MASK, ub->npages,
				  ub->dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0,
				  ub->pages);
	if (ret != ub->npages) {
		if (ret > 0)
			unpin_user_pages(ub->pages, ret);
		kvfree(ub->pages);
		kfree(ub);
		return ret < 0 && ret != -EFAULT ? ret : -EFAULT;
	}
	ub->pinned = true;
	ret = nvi_map_pages(ctrl, &ub->map, ub->pages, ub->npages, offset,
			    uc->data_len, ub->dir);
	if (ret) {
		nvi_put_ubuf(ctrl, ub);
		return ret;
	}
	*out = ub;
	return 0;
}

static int nvi_user_admin(struct nvi_ctrl *ctrl, struct nvi_ucmd *uc,
			  struct nvi_ubuf *ub, unsigned int timeout)
{
	struct nvi_list list = { .whole_page = true };
	int ret = 0;

	/* admin commands take PRPs only */
	if (ub)
		ret = nvi_setup_dptr(ctrl, &uc->c, &ub->map, false, &list,
				     GFP_KERNEL);
	if (!ret)
		ret = nvi_submit_admin(ctrl, &uc->c, &uc->result, timeout);
	nvi_free_list(&list);
	return ret;
}

static int nvi_user_io(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
		       struct nvi_ucmd *uc, struct nvi_ubuf *ub,
		       unsigned int timeout)
{
	struct request *rq;
	struct nvi_iod *iod;
	struct nvi_list list = { .whole_page = true };
	blk_status_t sts;
	int ret = 0;

	if (ub)
		ret = nvi_setup_dptr(ctrl, &uc->c, &ub->map,
				     nvi_want_sgl(ctrl, ub->map.nsegs), &list,
				     GFP_KERNEL);
	if (ret)
		goto out;
	rq = blk_mq_alloc_request(ns->disk->queue,
				  ub && ub->dir == DMA_TO_DEVICE ?
				  REQ_OP_DRV_OUT : REQ_OP_DRV_IN, 0);
	if (IS_ERR(rq)) {
		ret = PTR_ERR(rq);
		goto out;
	}
	/*
	 * The request holds the queue, so no format change can be applied
	 * until it ends: check that none was since the buffer was sized.
	 */
	if (ns->unusable || (uc->lba_shift && uc->lba_shift != ns->lba_shift)) {
		blk_mq_free_request(rq);
		ret = ns->unusable ? -EOPNOTSUPP : -EAGAIN;
		goto out;
	}
	if (timeout)
		rq->timeout = timeout;
	iod = nvi_rq_iod(rq);
	iod->cmd = uc->c;
	sts = blkcompat_execute_rq(rq);
	uc->result = iod->result;
	ret = iod->status;
	if (!ret && sts)
		ret = blk_status_to_errno(sts);
	blk_mq_free_request(rq);
out:
	nvi_free_list(&list);
	return ret;
}

/**
 * nvi_run_ucmd - run a user command on the admin or an I/O queue
 * @ctrl: controller
 * @ns: namespace whose I/O queues run it, NULL for the admin queue
 * @uc: the command, its user buffer and timeout
 *
 * Return: as the stock driver: negative errno, else the NVMe status (0 on
 * success) with the result in @uc->result.
 */
static int nvi_run_ucmd(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			struct nvi_ucmd *uc)
{
	unsigned int timeout = uc->timeout_ms ?
		msecs_to_jiffies(uc->timeout_ms) : 0;
	struct nvi_ubuf *ub;
	u32 effects;
	int ret;

	ret = nvi_get_ubuf(ctrl, uc, &ub);
	if (ret)
		return ret;
	if (ns) {
		/* nothing to act on: an I/O command's effects stay in its namespace */
		ret = nvi_user_io(ctrl, ns, uc, ub, timeout);
		if (ub)
			nvi_put_ubuf(ctrl, ub);
		return ret;
	}
	effects = nvi_command_effects(ctrl, false, uc->c.common.opcode);
	nvi_passthru_start(ctrl, effects);
	ret = nvi_user_admin(ctrl, uc, ub, timeout);
	if (ub)
		nvi_put_ubuf(ctrl, ub);
	/* after the buffer is given back: a rescan may have to wait for a reset */
	nvi_passthru_end(ctrl, effects);
	return ret;
}

static void nvi_fill_cmd(struct nvme_command *c, u8 opcode, u32 nsid,
			 const u32 *cdw2_3, const u32 *cdw10_15)
{
	memset(c, 0, sizeof(*c));
	c->common.opcode = opcode;
	c->common.nsid = cpu_to_le32(nsid);
	c->common.cdw2[0] = cpu_to_le32(cdw2_3[0]);
	c->common.cdw2[1] = cpu_to_le32(cdw2_3[1]);
	c->common.cdw10 = cpu_to_le32(cdw10_15[0]);
	c->common.cdw11 = cpu_to_le32(cdw10_15[1]);
	c->common.cdw12 = cpu_to_le32(cdw10_15[2]);
	c->common.cdw13 = cpu_to_le32(cdw10_15[3]);
	c->common.cdw14 = cpu_to_le32(cdw10_15[4]);
	c->common.cdw15 = cpu_to_le32(cdw10_15[5]);
}

/*
 * NVME_IOCTL_{ADMIN,IO}_CMD and their 64-bit twins.  @io: run on an I/O
 * queue: of @ns if given, else of the namespace the command names.
 */
static int nvi_passthru(struct nvi_ctrl *ctrl, struct nvi_ns *ns, bool io,
			bool is64, void __user *argp)
{
	struct nvme_passthru_cmd64 cmd;
	struct nvi_ucmd uc;
	size_t size = is64 ? sizeof(struct nvme_passthru_cmd64) :
		sizeof(struct nvme_passthru_cmd);
	u32 cdw2_3[2], cdw10_15[6];
	struct nvi_ns *held = NULL;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EACCES;
	memset(&cmd, 0, sizeof(cmd));
	if (copy_from_user(&cmd, argp, size))
		return -EFAULT;
	if (cmd.flags || cmd.metadata_len || cmd.metadata)
		return -EINVAL;	/* no metadata buffers, no fused commands */
	if (io) {
		if (ns && cmd.nsid != ns->nsid)
			return -EINVAL;
		if (!ns) {
			/* held: a scan may remove it while the command runs */
			held = nvi_get_ns(ctrl, cmd.nsid);
			if (!held)
				return -EINVAL;
			ns = held;
		}
	}
	cdw2_3[0] = cmd.cdw2;
	cdw2_3[1] = cmd.cdw3;
	cdw10_15[0] = cmd.cdw10;
	cdw10_15[1] = cmd.cdw11;
	cdw10_15[2] = cmd.cdw12;
	cdw10_15[3] = cmd.cdw13;
	cdw10_15[4] = cmd.cdw14;
	cdw10_15[5] = cmd.cdw15;
	nvi_fill_cmd(&uc.c, cmd.opcode, cmd.nsid, cdw2_3, cdw10_15);
	uc.addr = cmd.addr;
	uc.data_len = cmd.data_len;
	uc.timeout_ms = cmd.timeout_ms;
	uc.result = 0;
	uc.lba_shift = 0;
	ret = nvi_run_ucmd(ctrl, io ? ns : NULL, &uc);
	if (held)
		nvi_put_ns(held);
	if (ret >= 0) {
		if (is64) {
			if (put_user(uc.result,
				     &((struct nvme_passthru_cmd64 __user *)argp)->result))
				return -EFAULT;
		} else if (put_user((u32)uc.result,
				    &((struct nvme_passthru_cmd __user *)argp)->result)) {
			return -EFAULT;
		}
	}
	return ret;
}

/* NVME_IOCTL_SUBMIT_IO: read, write or compare on a namespace. */
static int nvi_submit_io(struct nvi_ns *ns, void __user *argp)
{
	struct nvme_user_io io;
	struct nvi_ucmd uc;

	if (!capable(CAP_SYS_ADMIN))
		return -EACCES;
	if (copy_from_user(&io, argp, sizeof(io)))
		return -EFAULT;
	if (io.flags || io.metadata)
		return -EINVAL;
	switch (io.opcode) {
	case nvme_cmd_write:
	case nvme_cmd_read:
	case nvme_cmd_compare:
		break;
	default:
		return -EINVAL;
	}
	memset(&uc, 0, sizeof(uc));
	uc.c.rw.opcode = io.opcode;
	uc.c.rw.nsid = cpu_to_le32(ns->nsid);
	uc.c.rw.slba = cpu_to_le64(io.slba);
	uc.c.rw.length = cpu_to_le16(io.nblocks);
	uc.c.rw.control = cpu_to_le16(io.control);
	uc.c.rw.dsmgmt = cpu_to_le32(io.dsmgmt);
	/*
	 * CDW14 reference tag, CDW15 application tag and mask (the field
	 * names in struct nvme_rw_command differ between kernels)
	 */
	uc.c.common.cdw14 = cpu_to_le32(io.reftag);
	uc.c.common.cdw15 = cpu_to_le32(io.apptag | (u32)io.appmask << 16);
	/* nvi_user_io() checks that the block size still holds */
	uc.lba_shift = READ_ONCE(ns->lba_shift);
	uc.addr = io.addr;
	uc.data_len = ((u32)io.nblocks + 1) << uc.lba_shift;
	return nvi_run_ucmd(ns->ctrl, ns, &uc);
}

static int nvi_subsys_reset(struct nvi_ctrl *ctrl)
{
	if (!NVME_CAP_NSSRC(ctrl->cap))
		return -ENOTTY;
	writel(NVME_SUBSYS_RESET, ctrl->bar + NVME_REG_NSSR);
	nvi_schedule_reset(ctrl);
	return 0;
}

/* Commands valid on both the controller and the namespace nodes. */
static int nvi_common_ioctl(struct nvi_ctrl *ctrl, struct nvi_ns *ns,
			    unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case NVME_IOCTL_ADMIN_CMD:
		return nvi_passthru(ctrl, NULL, false, false, argp);
	case NVME_IOCTL_ADMIN64_CMD:
		return nvi_passthru(ctrl, NULL, false, true, argp);
	case NVME_IOCTL_IO_CMD:
		return nvi_passthru(ctrl, ns, true, false, argp);
	case NVME_IOCTL_IO64_CMD:
		return nvi_passthru(ctrl, ns, true, true, argp);
	case NVME_IOCTL_RESET:
		if (!capable(CAP_SYS_ADMIN))
			return -EACCES;
		return nvi_reset_ctrl_sync(ctrl);
	case NVME_IOCTL_SUBSYS_RESET:
		if (!capable(CAP_SYS_ADMIN))
			return -EACCES;
		return nvi_subsys_reset(ctrl);
	case NVME_IOCTL_RESCAN:
		if (!capable(CAP_SYS_ADMIN))
			return -EACCES;
		return nvi_rescan(ctrl);
	default:
		return -ENOTTY;
	}
}

/* Holds off removal while a command runs; fails once removal started. */
static bool nvi_ioctl_enter(struct nvi_ctrl *ctrl)
{
	down_read(&ctrl->ioctl_rwsem);
	if (ctrl->state == NVI_LIVE || ctrl->state == NVI_RESETTING)
		return true;
	up_read(&ctrl->ioctl_rwsem);
	return false;
}

long nvi_ctrl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct nvi_ctrl *ctrl = file->private_data;
	int ret;

	if (!nvi_ioctl_enter(ctrl))
		return -ENODEV;
	ret = nvi_common_ioctl(ctrl, NULL, cmd, (void __user *)arg);
	up_read(&ctrl->ioctl_rwsem);
	return ret;
}

int nvi_ns_ioctl(struct nvi_ns *ns, unsigned int cmd, unsigned long arg)
{
	struct nvi_ctrl *ctrl = ns->ctrl;
	int ret;

	if (!nvi_ioctl_enter(ctrl))
		return -ENODEV;
	switch (cmd) {
	case NVME_IOCTL_ID:
		ret = ns->nsid;
		break;
	case NVME_IOCTL_SUBMIT_IO:
		ret = nvi_submit_io(ns, (void __user *)arg);
		break;
	default:
		ret = nvi_common_ioctl(ctrl, ns, cmd, (void __user *)arg);
		break;
	}
	up_read(&ctrl->ioctl_rwsem);
	return ret;
}
