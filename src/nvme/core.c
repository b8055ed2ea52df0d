// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: controller core.  The controller state machine, the
 * synchronous admin path, controller enable, disable and shutdown
 * (CC/CSTS), and the admin commands that bring a controller up: Identify
 * Controller (and the effects log, effects.c), Set Features (Number of
 * Queues), Create I/O queues.
 */
#include <linux/delay.h>
#include <linux/io-64-nonatomic-lo-hi.h>

#include "nvme-iova.h"

const char *nvi_state_name(enum nvi_state state)
{
	static const char * const names[] = {
		[NVI_NEW] = "new", [NVI_LIVE] = "live",
		[NVI_RESETTING] = "resetting", [NVI_DELETING] = "deleting",
		[NVI_DEAD] = "dead",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

bool nvi_change_state(struct nvi_ctrl *ctrl, enum nvi_state new)
{
	enum nvi_state old;
	bool ok = false;
	unsigned long flags;

	spin_lock_irqsave(&ctrl->state_lock, flags);
	old = ctrl->state;
	switch (new) {
	case NVI_LIVE:
		ok = old == NVI_NEW || old == NVI_RESETTING;
		break;
	case NVI_RESETTING:
		ok = old == NVI_LIVE;
		break;
	case NVI_DELETING:
		ok = old != NVI_DELETING;
		break;
	case NVI_DEAD:
		ok = true;
		break;
	default:
		break;
	}
	if (ok)
		ctrl->state = new;
	spin_unlock_irqrestore(&ctrl->state_lock, flags);
	return ok;
}

/**
 * nvi_error_status - NVMe status field (phase bit stripped) to blk_status_t
 * @status: Status Code Type in bits 10:8, Status Code in bits 7:0
 */
blk_status_t nvi_error_status(u16 status)
{
	u16 sc = status & NVI_STATUS_CODE;

	switch (sc) {
	case 0:
		return BLK_STS_OK;
	case 0x0001:	/* invalid opcode */
	case 0x0002:	/* invalid field */
	case 0x000b:	/* invalid namespace or format */
		return BLK_STS_NOTSUPP;
	case 0x0080:	/* LBA out of range */
		return BLK_STS_TARGET;
	case 0x0081:	/* capacity exceeded */
		return BLK_STS_NOSPC;
	case 0x0280:	/* write fault */
	case 0x0281:	/* unrecovered read error */
	case 0x0285:	/* compare failure */
		return BLK_STS_MEDIUM;
	case 0x0282:	/* end-to-end guard */
	case 0x0283:	/* end-to-end application tag */
	case 0x0284:	/* end-to-end reference tag */
		return BLK_STS_PROTECTION;
	default:
		return BLK_STS_IOERR;
	}
}

/*
 * ---------------------------------------------------------------------
 * Admin path: up to NVI_ADMIN_SLOTS commands at once, each waited for by
 * its submitter, so that a long one (a passthrough command with a long
 * timeout) does not hold up the Aborts of the timeout handler or the
 * commands of a reset.  A slot's command id changes with every command,
 * so a late completion of a timed-out one is recognised and dropped.
 */

void nvi_admin_init(struct nvi_ctrl *ctrl)
{
	unsigned int i;

	sema_init(&ctrl->admin_free, NVI_ADMIN_SLOTS);
	for (i = 0; i < NVI_ADMIN_SLOTS; i++) {
		init_completion(&ctrl->admin[i].done);
		ctrl->admin[i].cid = NVI_ADMIN_NO_CID;
	}
}

/* Take a free slot and give it a new command id. */
static struct nvi_admin_slot *nvi_admin_get(struct nvi_ctrl *ctrl)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	struct nvi_admin_slot *slot;
	unsigned long flags;
	unsigned int i;

	down(&ctrl->admin_free);
	for (i = 0; test_and_set_bit(i, &ctrl->admin_busy); i++)
		;	/* the semaphore keeps one free */
	slot = &ctrl->admin[i];
	spin_lock_irqsave(&aq->cq_lock, flags);
	reinit_completion(&slot->done);
	slot->gen++;
	slot->cid = (slot->gen * NVI_ADMIN_SLOTS + i) & 0x7fff;
	slot->status = 0;
	slot->result = 0;
	spin_unlock_irqrestore(&aq->cq_lock, flags);
	return slot;
}

static void nvi_admin_put(struct nvi_ctrl *ctrl, struct nvi_admin_slot *slot)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	unsigned long flags;

	spin_lock_irqsave(&aq->cq_lock, flags);
	slot->cid = NVI_ADMIN_NO_CID;
	spin_unlock_irqrestore(&aq->cq_lock, flags);
	clear_bit(slot - ctrl->admin, &ctrl->admin_busy);
	up(&ctrl->admin_free);
}

/*
 * Forget a command that got no answer: a completion that comes later no
 * longer matches.  Return: false if it completed after all.
 */
static bool nvi_admin_forget(struct nvi_ctrl *ctrl, struct nvi_admin_slot *slot)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	unsigned long flags;
	bool forgotten;

	spin_lock_irqsave(&aq->cq_lock, flags);
	forgotten = !completion_done(&slot->done);
	if (forgotten)
		slot->cid = NVI_ADMIN_NO_CID;
	spin_unlock_irqrestore(&aq->cq_lock, flags);
	return forgotten;
}

/**
 * nvi_admin_complete - an admin completion arrived
 * @ctrl: controller
 * @cid: its command id
 * @status: status field without the phase bit
 * @result: completion dwords 0-1
 *
 * Context: under the admin queue's cq_lock.
 */
void nvi_admin_complete(struct nvi_ctrl *ctrl, u16 cid, u16 status, u64 result)
{
	struct nvi_admin_slot *slot = &ctrl->admin[cid % NVI_ADMIN_SLOTS];

	if (cid != slot->cid || completion_done(&slot->done))
		return;	/* late, or an event we never asked for */
	slot->status = status;
	slot->result = result;
	complete(&slot->done);
}

/**
 * nvi_admin_cancel - wake every waiting admin command with an abort status
 * @ctrl: controller, disabled: nothing on the admin queue completes any more
 */
void nvi_admin_cancel(struct nvi_ctrl *ctrl)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&aq->cq_lock, flags);
	for (i = 0; i < NVI_ADMIN_SLOTS; i++) {
		struct nvi_admin_slot *slot = &ctrl->admin[i];

		if (slot->cid == NVI_ADMIN_NO_CID ||
		    completion_done(&slot->done))
			continue;
		slot->status = NVME_SC_HOST_ABORTED_CMD;
		complete(&slot->done);
	}
	spin_unlock_irqrestore(&aq->cq_lock, flags);
}

/**
 * nvi_submit_admin - run one admin command and wait for it
 * @ctrl: controller
 * @cmd: command; its data pointer must already be set up
 * @result: if not NULL, receives completion dwords 0-1
 * @timeout: jiffies, 0 for the default
 *
 * A command that times out may still be in the controller's hands: the
 * controller is disabled before this returns (so the caller may free the
 * command's buffer) and a reset is scheduled to bring it back.
 *
 * Context: process context; sleeps while NVI_ADMIN_SLOTS commands are in
 * flight already.
 *
 * Return: 0, a positive NVMe status, or a negative errno (-ENODEV when the
 * admin queue is down, -ETIMEDOUT).
 */
int nvi_submit_admin(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		     u64 *result, unsigned int timeout)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	struct nvi_admin_slot *slot;
	int ret;

	slot = nvi_admin_get(ctrl);
	if (!READ_ONCE(aq->enabled)) {
		ret = -ENODEV;
		goto out;
	}
	cmd->common.command_id = slot->cid;
	nvi_submit_cmd(aq, cmd, true);
	if (!wait_for_completion_timeout(&slot->done,
					 timeout ?: NVI_ADMIN_TIMEOUT)) {
		nvi_poll_cq(aq);
		if (nvi_admin_forget(ctrl, slot)) {
			/*
			 * The controller may still be working on it, with the
			 * caller's buffer mapped for DMA: stop the controller
			 * before the caller unmaps and frees that buffer, and
			 * bring it back with a reset.
			 */
			dev_warn(ctrl->dev,
				 "admin command opcode 0x%02x timed out, disabling the controller\n",
				 cmd->common.opcode);
			nvi_disable_cc(ctrl);
			nvi_schedule_reset(ctrl);
			ret = -ETIMEDOUT;
			goto out;
		}
		dev_warn(ctrl->dev, "admin command opcode 0x%02x timed out, completion polled\n",
			 cmd->common.opcode);
	}
	ret = slot->status;
	if (result)
		*result = slot->result;
out:
	nvi_admin_put(ctrl, slot);
	return ret;
}

/**
 * nvi_admin_data - admin command with a kernel buffer of at most 4 KiB
 * @ctrl: controller
 * @cmd: command (data pointer is filled in here)
 * @buf: data buffer
 * @len: its length
 * @dir: DMA_FROM_DEVICE or DMA_TO_DEVICE
 */
int nvi_admin_data(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		   void *buf, size_t len, enum dma_data_direction dir)
{
	dma_addr_t dma;
	void *bounce;
	int ret;

	if (WARN_ON_ONCE(len > NVI_PAGE_SIZE))
		return -EINVAL;
	bounce = dma_alloc_coherent(ctrl->dev, NVI_PAGE_SIZE, &dma, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (dir == DMA_TO_DEVICE)
		memcpy(bounce, buf, len);
	cmd->common.dptr.prp1 = cpu_to_le64(dma);
	ret = nvi_submit_admin(ctrl, cmd, NULL, 0);
	if (!ret && dir == DMA_FROM_DEVICE)
		memcpy(buf, bounce, len);
	dma_free_coherent(ctrl->dev, NVI_PAGE_SIZE, bounce, dma);
	return ret;
}

/* ------------------------------------------------------------------- */

static int nvi_wait_ready(struct nvi_ctrl *ctrl, u32 mask, u32 val)
{
	unsigned long deadline = jiffies +
		(NVME_CAP_TIMEOUT(ctrl->cap) + 1) * HZ / 2;
	u32 csts;

	for (;;) {
		csts = readl(ctrl->bar + NVME_REG_CSTS);
		if (csts == ~0U)
			return -ENODEV;
		if ((csts & mask) == val)
			return 0;
		if (time_after(jiffies, deadline)) {
			dev_err(ctrl->dev, "controller not ready: CSTS 0x%x\n",
				csts);
			return -ENODEV;
		}
		usleep_range(1000, 2000);
	}
}

int nvi_disable_cc(struct nvi_ctrl *ctrl)
{
	ctrl->ctrl_config &= ~(NVME_CC_SHN_MASK | NVME_CC_ENABLE);
	writel(ctrl->ctrl_config, ctrl->bar + NVME_REG_CC);
	return nvi_wait_ready(ctrl, NVME_CSTS_RDY, 0);
}

int nvi_shutdown_cc(struct nvi_ctrl *ctrl)
{
	unsigned long deadline = jiffies + 10 * HZ;

	ctrl->ctrl_config &= ~NVME_CC_SHN_MASK;
	ctrl->ctrl_config |= NVME_CC_SHN_NORMAL;
	writel(ctrl->ctrl_config, ctrl->bar + NVME_REG_CC);
	while ((readl(ctrl->bar + NVME_REG_CSTS) & NVME_CSTS_SHST_MASK) !=
	       NVME_CSTS_SHST_CMPLT) {
		if (time_after(jiffies, deadline)) {
			dev_err(ctrl->dev, "shutdown timed out\n");
			return -ENODEV;
		}
		usleep_range(1000, 2000);
	}
	return 0;
}

/* Program the admin queue and set CC.EN. */
int nvi_enable_admin(struct nvi_ctrl *ctrl)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	u32 csts = readl(ctrl->bar + NVME_REG_CSTS);
	int ret;

	if (csts == ~0U)
		return -ENODEV;
	ctrl->ctrl_config = readl(ctrl->bar + NVME_REG_CC);
	if ((ctrl->ctrl_config & NVME_CC_ENABLE) || (csts & NVME_CSTS_RDY)) {
		ret = nvi_disable_cc(ctrl);
		if (ret)
			return ret;
	}
	nvi_init_queue(aq);
	writel((aq->q_depth - 1) | ((aq->q_depth - 1) << 16),
	       ctrl->bar + NVME_REG_AQA);
	lo_hi_writeq(aq->sq_dma, ctrl->bar + NVME_REG_ASQ);
	lo_hi_writeq(aq->cq_dma, ctrl->bar + NVME_REG_ACQ);

	ctrl->ctrl_config = NVME_CC_CSS_NVM |
		((NVI_PAGE_SHIFT - 12) << NVME_CC_MPS_SHIFT) |
		NVME_CC_AMS_RR | NVME_CC_SHN_NONE |
		(6 << NVME_CC_IOSQES_SHIFT) | (4 << NVME_CC_IOCQES_SHIFT) |
		NVME_CC_ENABLE;
	writel(ctrl->ctrl_config, ctrl->bar + NVME_REG_CC);
	ret = nvi_wait_ready(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY);
	if (ret)
		return ret;
	WRITE_ONCE(aq->enabled, true);
	return 0;
}

static void nvi_copy_trim(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = 0;
	strim(dst);
}

/*
 * The NVM command set's own limits (Identify CNS 06h, NVMe 2.0): ranges per
 * Dataset Management command and blocks per range, Write Zeroes size.  As
 * nvme-pci: skipped before NVMe 1.1, and a controller that answers with an
 * error status keeps the defaults.
 */
static int nvi_identify_nvm_limits(struct nvi_ctrl *ctrl, u32 mps_min)
{
	struct nvme_command c = { };
	u8 *id;
	int ret;

	ctrl->dmrl = 0;
	ctrl->dmrsl = 0;
	ctrl->wzsl_sectors = 0;
	if (readl(ctrl->bar + NVME_REG_VS) < NVME_VS(1, 1, 0))
		return 0;
	id = kzalloc(NVI_PAGE_SIZE, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	c.identify.opcode = nvme_admin_identify;
	c.identify.cns = NVME_ID_CNS_CS_CTRL;
	c.identify.csi = NVME_CSI_NVM;
	ret = nvi_admin_data(ctrl, &c, id, NVI_PAGE_SIZE, DMA_FROM_DEVICE);
	if (!ret) {
		/* bytes 1 WZSL, 3 DMRL, 4-7 DMRSL (older headers lack the struct) */
		ctrl->dmrl = id[3];
		ctrl->dmrsl = le32_to_cpu(*(__le32 *)(id + 4));
		if (id[1] && id[1] + mps_min - SECTOR_SHIFT < 32)
			ctrl->wzsl_sectors = 1U << (id[1] + mps_min - SECTOR_SHIFT);
	}
	kfree(id);
	return ret < 0 ? ret : 0;
}

int nvi_identify_ctrl(struct nvi_ctrl *ctrl)
{
	struct nvme_command c = { };
	struct nvme_id_ctrl *id;
	u32 mps_min = 12 + NVME_CAP_MPSMIN(ctrl->cap);
	u32 max_bytes = NVI_MAX_XFER;
	u8 lpa;
	int ret;

	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	c.identify.opcode = nvme_admin_identify;
	c.identify.cns = NVME_ID_CNS_CTRL;
	ret = nvi_admin_data(ctrl, &c, id, sizeof(*id), DMA_FROM_DEVICE);
	if (ret) {
		dev_err(ctrl->dev, "Identify Controller failed (%d)\n", ret);
		kfree(id);
		return ret < 0 ? ret : -EIO;
	}
	nvi_copy_trim(ctrl->serial, id->sn, sizeof(id->sn));
	nvi_copy_trim(ctrl->model, id->mn, sizeof(id->mn));
	nvi_copy_trim(ctrl->firmware, id->fr, sizeof(id->fr));
	if (id->mdts && id->mdts + mps_min < 32)
		max_bytes = min_t(u32, max_bytes, 1U << (id->mdts + mps_min));
	/*
	 * As nvme-pci: no larger than the DMA layer maps on its fast path
	 * (behind an IOMMU the IOVA caches' largest size, 128 KiB), for disk
	 * I/O and passthrough alike.
	 */
	max_bytes = min_t(size_t, max_bytes, blkcompat_dma_opt_size(ctrl->dev));
	ctrl->max_hw_sectors = max_bytes >> 9;
	ctrl->oncs = le16_to_cpu(id->oncs);
	ctrl->oacs = le16_to_cpu(id->oacs);
	ctrl->awupf = le16_to_cpu(id->awupf);
	ctrl->vwc = id->vwc;
	ctrl->nn = le32_to_cpu(id->nn);
	ctrl->sgl_supported = (le32_to_cpu(id->sgls) & 3) != 0;
	lpa = id->lpa;
	kfree(id);
	ret = nvi_identify_nvm_limits(ctrl, mps_min);
	if (ret)
		dev_warn(ctrl->dev, "reading the NVM command set limits failed: %d\n",
			 ret);
	return nvi_read_effects(ctrl, lpa);
}

/* Set Features / Number of Queues; returns how many I/O queues we may use */
int nvi_set_queue_count(struct nvi_ctrl *ctrl, unsigned int want)
{
	struct nvme_command c = { };
	u64 result;
	int ret;

	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	c.features.dword11 = cpu_to_le32((want - 1) | ((want - 1) << 16));
	ret = nvi_submit_admin(ctrl, &c, &result, 0);
	if (ret < 0)
		return ret;
	if (ret) {
		dev_err(ctrl->dev, "Set Features (queues) failed: 0x%x\n", ret);
		return -EIO;
	}
	return min_t(unsigned int, want,
		     min(result & 0xffff, result >> 16) + 1);
}

int nvi_create_io_queues(struct nvi_ctrl *ctrl)
{
	unsigned int i;
	int ret;

	for (i = 1; i <= ctrl->nr_io_queues; i++) {
		ret = nvi_create_io_queue(ctrl, i);
		if (ret)
			return ret;
	}
	return 0;
}
