// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: the controller class device nvmeiova<N>: its sysfs
 * attributes, its character device (open and release here, the ioctls in
 * ioctl.c) and its release, which frees the controller.
 */
#include <linux/idr.h>
#include <linux/module.h>

#include "nvme-iova.h"

DEFINE_IDA(nvi_instance_ida);
dev_t nvi_chr_devt;

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
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", nvi_state_name(ctrl->state));
}
static DEVICE_ATTR_RO(state);

static ssize_t map_mode_show(struct device *d, struct device_attribute *a,
			     char *buf)
{
	struct nvi_ctrl *ctrl = dev_get_drvdata(d);

	return sysfs_emit(buf, "%s\n", nvi_map_mode_name(ctrl->map_mode));
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

struct class nvi_class = {
	.name		= "nvme_iova",
	.dev_groups	= nvi_ctrl_groups,
};

void nvi_ctrl_release(struct device *dev)
{
	struct nvi_ctrl *ctrl = container_of(dev, struct nvi_ctrl, device);

	if (ctrl->tagset_ready)
		blk_mq_free_tag_set(&ctrl->tagset);
	ida_free(&nvi_instance_ida, ctrl->instance);
	kfree(ctrl->effects);
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
