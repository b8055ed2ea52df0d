// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: controller core.  PCI probe and remove, controller enable,
 * disable and shutdown (CC/CSTS), the synchronous admin path, reset, the
 * controller class device with its character device, module parameters.
 *
 * The driver never binds by itself: it has no MODULE_DEVICE_TABLE, and its
 * ID table matches nothing, so a controller is only taken through
 * driver_override (scripts/bind-nvme.sh).
 */
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>

#include "nvme-iova.h"

int nvi_map_mode = NVI_MAP_IOVA;
int nvi_sgl = NVI_SGL_AUTO;
unsigned int nvi_io_timeout = 30;

static const char * const nvi_map_mode_names[] = {
	[NVI_MAP_IOVA]	= "iova",
	[NVI_MAP_SG]	= "sg",
	[NVI_MAP_PAGE]	= "page",
};

static const char * const nvi_sgl_names[] = {
	[NVI_SGL_AUTO]		= "auto",
	[NVI_SGL_NEVER]		= "prp",
	[NVI_SGL_ALWAYS]	= "sgl",
};

static int nvi_param_set_enum(const char *val, int *out,
			      const char * const *names, int n)
{
	int i = __sysfs_match_string(names, n, val);

	if (i < 0)
		return -EINVAL;
	*out = i;
	return 0;
}

static int nvi_map_mode_set(const char *val, const struct kernel_param *kp)
{
	return nvi_param_set_enum(val, &nvi_map_mode, nvi_map_mode_names,
				  ARRAY_SIZE(nvi_map_mode_names));
}

static int nvi_map_mode_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%s\n", nvi_map_mode_names[nvi_map_mode]);
}

static const struct kernel_param_ops nvi_map_mode_ops = {
	.set = nvi_map_mode_set,
	.get = nvi_map_mode_get,
};
module_param_cb(map_mode, &nvi_map_mode_ops, NULL, 0444);
MODULE_PARM_DESC(map_mode,
		 "How requests are DMA-mapped: iova (two-step API, one IOVA range per request), sg (scatterlist, like stock nvme), page (each segment on its own) (default: iova)");

static int nvi_sgl_set(const char *val, const struct kernel_param *kp)
{
	return nvi_param_set_enum(val, &nvi_sgl, nvi_sgl_names,
				  ARRAY_SIZE(nvi_sgl_names));
}

static int nvi_sgl_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%s\n", nvi_sgl_names[nvi_sgl]);
}

static const struct kernel_param_ops nvi_sgl_ops = {
	.set = nvi_sgl_set,
	.get = nvi_sgl_get,
};
module_param_cb(sgl, &nvi_sgl_ops, NULL, 0644);
MODULE_PARM_DESC(sgl,
		 "Data pointer format: auto (SGL for multi-segment requests when supported), prp, sgl (default: auto)");

module_param_named(io_timeout, nvi_io_timeout, uint, 0444);
MODULE_PARM_DESC(io_timeout, "I/O timeout in seconds (default: 30)");

const char *nvi_map_mode_name(int mode)
{
	return nvi_map_mode_names[mode];
}

static DEFINE_IDA(nvi_instance_ida);
static struct workqueue_struct *nvi_wq;
static dev_t nvi_chr_devt;
#define NVI_MINORS	256

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
 * Admin path: one command at a time under admin_lock, waited for with a
 * completion.  The command id changes with every command, so a late
 * completion of a timed-out command is recognised and dropped.
 */

static int nvi_disable_cc(struct nvi_ctrl *ctrl);

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
 * Return: 0, a positive NVMe status, or a negative errno (-ENODEV when the
 * admin queue is down, -ETIMEDOUT).
 */
int nvi_submit_admin(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		     u64 *result, unsigned int timeout)
{
	struct nvi_queue *aq = &ctrl->queues[0];
	int ret;

	mutex_lock(&ctrl->admin_lock);
	if (!READ_ONCE(aq->enabled)) {
		ret = -ENODEV;
		goto out;
	}
	reinit_completion(&ctrl->admin_done);
	ctrl->admin_cid = (ctrl->admin_cid + 1) & 0x7fff;
	cmd->common.command_id = ctrl->admin_cid;
	ctrl->admin_status = 0;
	ctrl->admin_result = 0;
	nvi_submit_cmd(aq, cmd, true);
	if (!wait_for_completion_timeout(&ctrl->admin_done,
					 timeout ?: NVI_ADMIN_TIMEOUT)) {
		nvi_poll_cq(aq);
		if (!completion_done(&ctrl->admin_done)) {
			/* forget it: a late completion no longer matches */
			ctrl->admin_cid = (ctrl->admin_cid + 1) & 0x7fff;
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
	}
	ret = ctrl->admin_status;
	if (result)
		*result = ctrl->admin_result;
out:
	mutex_unlock(&ctrl->admin_lock);
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

static int nvi_disable_cc(struct nvi_ctrl *ctrl)
{
	ctrl->ctrl_config &= ~(NVME_CC_SHN_MASK | NVME_CC_ENABLE);
	writel(ctrl->ctrl_config, ctrl->bar + NVME_REG_CC);
	return nvi_wait_ready(ctrl, NVME_CSTS_RDY, 0);
}

static int nvi_shutdown_cc(struct nvi_ctrl *ctrl)
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
static int nvi_enable_admin(struct nvi_ctrl *ctrl)
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

static int nvi_identify_ctrl(struct nvi_ctrl *ctrl)
{
	struct nvme_command c = { };
	struct nvme_id_ctrl *id;
	u32 mps_min = 12 + NVME_CAP_MPSMIN(ctrl->cap);
	u32 max_bytes = NVI_MAX_XFER;
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
	ctrl->max_hw_sectors = max_bytes >> 9;
	ctrl->oncs = le16_to_cpu(id->oncs);
	ctrl->vwc = id->vwc;
	ctrl->nn = le32_to_cpu(id->nn);
	ctrl->sgl_supported = (le32_to_cpu(id->sgls) & 3) != 0;
	kfree(id);
	return 0;
}

/* Set Features / Number of Queues; returns how many I/O queues we may use */
static int nvi_set_queue_count(struct nvi_ctrl *ctrl, unsigned int want)
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

static int nvi_create_io_queues(struct nvi_ctrl *ctrl)
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

/*
 * Bring the controller from disabled to live with nr_io_queues I/O queues
 * (after a reset: the same number as before, the tag set depends on it).
 */
static int nvi_dev_enable(struct nvi_ctrl *ctrl, bool first)
{
	int ret, n;

	ret = nvi_enable_admin(ctrl);
	if (ret)
		return ret;
	if (first) {
		ret = nvi_identify_ctrl(ctrl);
		if (ret)
			return ret;
	}
	n = nvi_set_queue_count(ctrl, first ? ctrl->max_io_queues :
				ctrl->nr_io_queues);
	if (n < 0)
		return n;
	if (first) {
		ret = nvi_setup_irqs(ctrl, n);
		if (ret)
			return ret;
	} else if (n < ctrl->nr_io_queues) {
		dev_err(ctrl->dev, "controller now offers %d I/O queues, had %u\n",
			n, ctrl->nr_io_queues);
		return -EIO;
	}
	return nvi_create_io_queues(ctrl);
}

/**
 * nvi_dev_disable - stop the controller and fail over what it still holds
 * @ctrl: controller
 * @shutdown: orderly shutdown (CC.SHN) rather than a plain disable
 *
 * Every queue is stopped and its completions reaped; requests the
 * controller did not complete are cancelled (requeued while the controller
 * is resetting, failed when it goes away) and a waiting admin command is
 * woken with a host-aborted status.
 */
static void nvi_dev_disable(struct nvi_ctrl *ctrl, bool shutdown)
{
	bool alive = pci_device_is_present(ctrl->pdev) &&
		readl(ctrl->bar + NVME_REG_CSTS) != ~0U;
	int i;

	if (alive) {
		if (shutdown)
			nvi_shutdown_cc(ctrl);
		else
			nvi_disable_cc(ctrl);
	}
	for (i = ctrl->nr_io_queues; i >= 0; i--)
		nvi_suspend_queue(&ctrl->queues[i]);
	for (i = 0; i <= ctrl->nr_io_queues; i++)
		nvi_poll_cq(&ctrl->queues[i]);
	nvi_cancel_requests(ctrl);
	if (!completion_done(&ctrl->admin_done)) {
		ctrl->admin_status = NVME_SC_HOST_ABORTED_CMD;
		complete(&ctrl->admin_done);
	}
}

static void nvi_reset_work(struct work_struct *work)
{
	struct nvi_ctrl *ctrl = container_of(work, struct nvi_ctrl, reset_work);
	int ret;

	if (ctrl->state != NVI_RESETTING)
		return;
	dev_info(ctrl->dev, "resetting controller\n");
	nvi_kick_namespaces(ctrl, true);
	nvi_dev_disable(ctrl, false);
	ret = nvi_dev_enable(ctrl, false);
	if (ret) {
		dev_err(ctrl->dev, "reset failed (%d), controller is dead\n",
			ret);
		nvi_change_state(ctrl, NVI_DEAD);
		nvi_dev_disable(ctrl, false);
	} else if (!nvi_change_state(ctrl, NVI_LIVE)) {
		dev_info(ctrl->dev, "removed while resetting\n");
	}
	nvi_kick_namespaces(ctrl, false);
}

void nvi_schedule_reset(struct nvi_ctrl *ctrl)
{
	if (nvi_change_state(ctrl, NVI_RESETTING))
		queue_work(nvi_wq, &ctrl->reset_work);
}

int nvi_reset_ctrl_sync(struct nvi_ctrl *ctrl)
{
	if (!nvi_change_state(ctrl, NVI_RESETTING))
		return -EBUSY;
	queue_work(nvi_wq, &ctrl->reset_work);
	flush_work(&ctrl->reset_work);
	return ctrl->state == NVI_LIVE ? 0 : -ENODEV;
}

/* ------------------------------------------------------------------- */
/* Class device nvmeiova<N>, its attributes and its character device */

static ssize_t serial_show(struct device *d, struct device_attribute *a,
			   char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", ctrl->serial);
}
static DEVICE_ATTR_RO(serial);

static ssize_t model_show(struct device *d, struct device_attribute *a,
			  char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", ctrl->model);
}
static DEVICE_ATTR_RO(model);

static ssize_t firmware_rev_show(struct device *d, struct device_attribute *a,
				 char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", ctrl->firmware);
}
static DEVICE_ATTR_RO(firmware_rev);

static ssize_t address_show(struct device *d, struct device_attribute *a,
			    char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", pci_name(ctrl->pdev));
}
static DEVICE_ATTR_RO(address);

static ssize_t state_show(struct device *d, struct device_attribute *a,
			  char *buf)
{
	static const char * const names[] = {
		[NVI_NEW] = "new", [NVI_LIVE] = "live",
		[NVI_RESETTING] = "resetting", [NVI_DELETING] = "deleting",
		[NVI_DEAD] = "dead",
	};
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", names[ctrl->state]);
}
static DEVICE_ATTR_RO(state);

static ssize_t map_mode_show(struct device *d, struct device_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n", nvi_map_mode_name(nvi_map_mode));
}
static DEVICE_ATTR_RO(map_mode);

static ssize_t queue_count_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%u\n", ctrl->nr_io_queues);
}
static DEVICE_ATTR_RO(queue_count);

static ssize_t reset_controller_store(struct device *d,
				      struct device_attribute *a,
				      const char *buf, size_t count)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);
	int ret = nvi_reset_ctrl_sync(ctrl);

	return ret ? ret : count;
}
static DEVICE_ATTR_WO(reset_controller);

static struct attribute *nvi_ctrl_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_model.attr,
	&dev_attr_firmware_rev.attr,
	&dev_attr_address.attr,
	&dev_attr_state.attr,
	&dev_attr_map_mode.attr,
	&dev_attr_queue_count.attr,
	&dev_attr_reset_controller.attr,
	NULL,
};
ATTRIBUTE_GROUPS(nvi_ctrl);

static struct class nvi_class = {
	.name		= "nvme_iova",
	.dev_groups	= nvi_ctrl_groups,
};

static void nvi_ctrl_release(struct device *dev)
{
	struct nvi_ctrl *ctrl = container_of(dev, struct nvi_ctrl, device);

	if (ctrl->tagset_ready)
		blk_mq_free_tag_set(&ctrl->tagset);
	ida_free(&nvi_instance_ida, ctrl->instance);
	kfree(ctrl->queues);
	kfree(ctrl);
}

static int nvi_ctrl_open(struct inode *inode, struct file *file)
{
	struct nvi_ctrl *ctrl = container_of(inode->i_cdev, struct nvi_ctrl,
					     cdev);

	if (ctrl->state != NVI_LIVE && ctrl->state != NVI_RESETTING)
		return -ENODEV;
	get_device(&ctrl->device);
	file->private_data = ctrl;
	return 0;
}

static int nvi_ctrl_release_file(struct inode *inode, struct file *file)
{
	struct nvi_ctrl *ctrl = file->private_data;

	put_device(&ctrl->device);
	return 0;
}

const struct file_operations nvi_ctrl_fops = {
	.owner		= THIS_MODULE,
	.open		= nvi_ctrl_open,
	.release	= nvi_ctrl_release_file,
	.unlocked_ioctl	= nvi_ctrl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* ------------------------------------------------------------------- */

static int nvi_pci_enable(struct nvi_ctrl *ctrl)
{
	struct pci_dev *pdev = ctrl->pdev;
	int ret;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto disable;
	ret = pci_request_mem_regions(pdev, "nvme_iova");
	if (ret)
		goto disable;
	ctrl->bar = ioremap(pci_resource_start(pdev, 0),
			    pci_resource_len(pdev, 0));
	if (!ctrl->bar) {
		ret = -ENOMEM;
		goto release;
	}
	ctrl->cap = lo_hi_readq(ctrl->bar + NVME_REG_CAP);
	if (ctrl->cap == ~0ULL) {
		ret = -ENODEV;
		goto unmap;
	}
	if (NVME_CAP_MPSMIN(ctrl->cap) > 0) {
		dev_err(ctrl->dev, "controller does not support 4 KiB pages\n");
		ret = -ENODEV;
		goto unmap;
	}
	ctrl->db_stride = 1 << NVME_CAP_STRIDE(ctrl->cap);
	ctrl->q_depth = min_t(u32, NVME_CAP_MQES(ctrl->cap) + 1, NVI_IO_DEPTH);
	return 0;
unmap:
	iounmap(ctrl->bar);
release:
	pci_release_mem_regions(pdev);
disable:
	pci_disable_device(pdev);
	return ret;
}

static void nvi_pci_disable(struct nvi_ctrl *ctrl)
{
	iounmap(ctrl->bar);
	pci_release_mem_regions(ctrl->pdev);
	pci_disable_device(ctrl->pdev);
}

static void nvi_teardown_queues(struct nvi_ctrl *ctrl)
{
	int i;

	for (i = ctrl->nr_io_queues; i >= 0; i--)
		nvi_free_queue_irq(&ctrl->queues[i]);
	pci_free_irq_vectors(ctrl->pdev);
	nvi_free_queues(ctrl);
}

static int nvi_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct nvi_ctrl *ctrl;
	int ret;

	ctrl = kzalloc_node(sizeof(*ctrl), GFP_KERNEL, dev_to_node(&pdev->dev));
	if (!ctrl)
		return -ENOMEM;
	ctrl->pdev = pdev;
	ctrl->dev = &pdev->dev;
	ctrl->state = NVI_NEW;
	spin_lock_init(&ctrl->state_lock);
	mutex_init(&ctrl->admin_lock);
	init_completion(&ctrl->admin_done);
	mutex_init(&ctrl->ns_lock);
	INIT_LIST_HEAD(&ctrl->namespaces);
	init_rwsem(&ctrl->ioctl_rwsem);
	INIT_WORK(&ctrl->reset_work, nvi_reset_work);
	ctrl->max_io_queues = num_possible_cpus();
	ctrl->queues = kcalloc(ctrl->max_io_queues + 1, sizeof(*ctrl->queues),
			       GFP_KERNEL);
	ret = ida_alloc_max(&nvi_instance_ida, NVI_MINORS - 1, GFP_KERNEL);
	if (!ctrl->queues || ret < 0) {
		kfree(ctrl->queues);
		kfree(ctrl);
		return ret < 0 ? ret : -ENOMEM;
	}
	ctrl->instance = ret;

	/* from here on put_device() frees ctrl */
	device_initialize(&ctrl->device);
	ctrl->device.class = &nvi_class;
	ctrl->device.parent = &pdev->dev;
	ctrl->device.devt = MKDEV(MAJOR(nvi_chr_devt), ctrl->instance);
	ctrl->device.release = nvi_ctrl_release;
	dev_set_drvdata(&ctrl->device, ctrl);
	ret = dev_set_name(&ctrl->device, "nvmeiova%d", ctrl->instance);
	if (ret)
		goto put;
	cdev_init(&ctrl->cdev, &nvi_ctrl_fops);
	ctrl->cdev.owner = THIS_MODULE;
	pci_set_drvdata(pdev, ctrl);

	ret = nvi_pci_enable(ctrl);
	if (ret)
		goto put;
	ctrl->list_pool = dma_pool_create("nvme_iova_list", ctrl->dev,
					  NVI_PAGE_SIZE, NVI_PAGE_SIZE, 0);
	if (!ctrl->list_pool) {
		ret = -ENOMEM;
		goto pci_disable;
	}
	ret = nvi_alloc_queue(ctrl, 0, NVI_AQ_DEPTH);
	if (ret)
		goto pool;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_ALL_TYPES);
	if (ret < 0)
		goto queues;
	ctrl->nr_vecs = 1;
	ret = nvi_request_queue_irq(&ctrl->queues[0]);
	if (ret)
		goto queues;

	ret = nvi_dev_enable(ctrl, true);
	if (ret)
		goto disable;
	ret = nvi_alloc_tagset(ctrl);
	if (ret)
		goto disable;
	nvi_change_state(ctrl, NVI_LIVE);

	ret = cdev_device_add(&ctrl->cdev, &ctrl->device);
	if (ret)
		goto disable;
	dev_info(ctrl->dev,
		 "%s: serial %s, %u I/O queue(s) of depth %u, %u IRQ vector(s), max %u KiB, map_mode=%s%s\n",
		 dev_name(&ctrl->device), ctrl->serial, ctrl->nr_io_queues,
		 ctrl->q_depth, ctrl->nr_vecs, ctrl->max_hw_sectors / 2,
		 nvi_map_mode_name(nvi_map_mode),
		 ctrl->sgl_supported ? ", SGL" : "");
	ret = nvi_scan_namespaces(ctrl);
	if (ret)
		dev_warn(ctrl->dev, "namespace scan failed (%d)\n", ret);
	return 0;

disable:
	nvi_change_state(ctrl, NVI_DEAD);
	nvi_dev_disable(ctrl, false);
queues:
	nvi_teardown_queues(ctrl);
pool:
	dma_pool_destroy(ctrl->list_pool);
pci_disable:
	nvi_pci_disable(ctrl);
put:
	pci_set_drvdata(pdev, NULL);
	put_device(&ctrl->device);
	return ret;
}

static void nvi_remove(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	nvi_change_state(ctrl, NVI_DELETING);
	flush_work(&ctrl->reset_work);
	/* wait for passthrough users; new ones see the state and leave */
	down_write(&ctrl->ioctl_rwsem);
	up_write(&ctrl->ioctl_rwsem);
	/* the controller still works: outstanding I/O completes normally */
	nvi_remove_namespaces(ctrl);
	cdev_device_del(&ctrl->cdev, &ctrl->device);
	nvi_dev_disable(ctrl, true);
	nvi_change_state(ctrl, NVI_DEAD);
	nvi_teardown_queues(ctrl);
	dma_pool_destroy(ctrl->list_pool);
	nvi_pci_disable(ctrl);
	pci_set_drvdata(pdev, NULL);
	dev_info(&pdev->dev, "controller shut down\n");
	put_device(&ctrl->device);
}

static void nvi_shutdown(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	if (ctrl && ctrl->state == NVI_LIVE)
		nvi_shutdown_cc(ctrl);
}

/*
 * Matches nothing by itself: no MODULE_DEVICE_TABLE, so the module is never
 * autoloaded.  A device is bound through driver_override, which lets
 * pci_match_device() succeed for an empty table.
 */
static const struct pci_device_id nvi_id_table[] = {
	{ 0, }
};

static struct pci_driver nvi_driver = {
	.name		= "nvme_iova",
	.id_table	= nvi_id_table,
	.probe		= nvi_probe,
	.remove		= nvi_remove,
	.shutdown	= nvi_shutdown,
};

static int __init nvi_init(void)
{
	int ret;

	nvi_wq = alloc_workqueue("nvme_iova", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!nvi_wq)
		return -ENOMEM;
	ret = alloc_chrdev_region(&nvi_chr_devt, 0, NVI_MINORS, "nvme_iova");
	if (ret)
		goto wq;
	ret = class_register(&nvi_class);
	if (ret)
		goto chrdev;
	ret = pci_register_driver(&nvi_driver);
	if (ret)
		goto class;
	pr_info("loaded, map_mode=%s sgl=%s\n", nvi_map_mode_name(nvi_map_mode),
		nvi_sgl_names[nvi_sgl]);
	return 0;
class:
	class_unregister(&nvi_class);
chrdev:
	unregister_chrdev_region(nvi_chr_devt, NVI_MINORS);
wq:
	destroy_workqueue(nvi_wq);
	return ret;
}

static void __exit nvi_exit(void)
{
	pci_unregister_driver(&nvi_driver);
	class_unregister(&nvi_class);
	unregister_chrdev_region(nvi_chr_devt, NVI_MINORS);
	destroy_workqueue(nvi_wq);
	ida_destroy(&nvi_instance_ida);
}

module_init(nvi_init);
module_exit(nvi_exit);
MODULE_DESCRIPTION("Demo NVMe PCIe driver mapping I/O with the two-step DMA API");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("dma-iova-shim developers");
MODULE_VERSION(NVME_IOVA_VERSION);
