// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: the PCI side.  PCI enable and disable, bringing the controller
 * up and down (nvi_dev_enable(), nvi_dev_disable()), probe and remove.
 * Resets, PCI error recovery and shutdown are in reset.c.
 *
 * The driver never binds by itself: it has no MODULE_DEVICE_TABLE, and its
 * ID table matches nothing, so a controller is only taken through
 * driver_override (scripts/bind-nvme.sh).
 */
#include <linux/idr.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>

#include "nvme-iova.h"

/*
 * The config space a link reset loses, for slot_reset to restore: saved
 * in the PCI device and, as an FLR's own save and restore overwrite that,
 * in a copy of ours.
 */
static void nvi_save_config(struct nvi_ctrl *ctrl)
{
	pci_save_state(ctrl->pdev);
	kfree(ctrl->pci_state);
	ctrl->pci_state = pci_store_saved_state(ctrl->pdev);
}

void nvi_restore_config(struct nvi_ctrl *ctrl)
{
	if (ctrl->pci_state)
		pci_load_saved_state(ctrl->pdev, ctrl->pci_state);
	pci_restore_state(ctrl->pdev);
	ctrl->config_lost = false;
}

/*
 * Bring the controller from disabled to live with nr_io_queues I/O queues
 * (after a reset: the same number as before, the tag set depends on it).
 */
int nvi_dev_enable(struct nvi_ctrl *ctrl, bool first)
{
	int ret, n;

	if (!first) {
		/*
		 * As nvme-pci's reset enables the PCI device again: memory
		 * decoding and bus mastering may have been turned off (a
		 * cleared command register, an error recovery), and
		 * nvi_dev_disable() took bus mastering away itself.
		 */
		ret = pci_reenable_device(ctrl->pdev);
		if (ret)
			return ret;
		pci_set_master(ctrl->pdev);
		nvi_save_config(ctrl);
	}
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
	nvi_dbbuf_alloc(ctrl);
	ret = nvi_create_io_queues(ctrl);
	if (ret)
		return ret;
	nvi_dbbuf_set(ctrl);
	return 0;
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
void nvi_dev_disable(struct nvi_ctrl *ctrl, bool shutdown)
{
	bool alive;
	int i;

	mutex_lock(&ctrl->shutdown_lock);
	/* a frozen channel (PCI error recovery) must not be touched */
	alive = !pci_channel_offline(ctrl->pdev) &&
		pci_device_is_present(ctrl->pdev) &&
		readl(ctrl->bar + NVME_REG_CSTS) != ~0U;

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
	/*
	 * A controller that ignored the disable (or could not be told) must
	 * not write into pages that are about to be given back: no more bus
	 * mastering before anything is cancelled.  The reset's
	 * nvi_dev_enable() turns it on again.
	 */
	pci_clear_master(ctrl->pdev);
	nvi_cancel_requests(ctrl);
	nvi_admin_cancel(ctrl);
	mutex_unlock(&ctrl->shutdown_lock);
}

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
	nvi_save_config(ctrl);
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
	kfree(ctrl->pci_state);
	ctrl->pci_state = NULL;
	pci_disable_device(pdev);
	return ret;
}

static void nvi_pci_disable(struct nvi_ctrl *ctrl)
{
	kfree(ctrl->pci_state);
	ctrl->pci_state = NULL;
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
	nvi_dbbuf_free(ctrl);
}

static int nvi_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct nvi_ctrl *ctrl;
	int ret;

	ctrl = kzalloc_node(sizeof(*ctrl), GFP_KERNEL, dev_to_node(&pdev->dev));
	if (!ctrl)
		return -ENOMEM;
	ctrl->pdev = pdev;
	/* the tag set's request size and the IOMMU checks depend on it */
	ctrl->map_mode = READ_ONCE(nvi_map_mode);
	ctrl->dev = &pdev->dev;
	ctrl->state = NVI_NEW;
	spin_lock_init(&ctrl->state_lock);
	mutex_init(&ctrl->shutdown_lock);
	nvi_admin_init(ctrl);
	mutex_init(&ctrl->scan_lock);
	mutex_init(&ctrl->ns_lock);
	INIT_LIST_HEAD(&ctrl->namespaces);
	init_rwsem(&ctrl->ioctl_rwsem);
	INIT_WORK(&ctrl->reset_work, nvi_reset_work);
	/* one I/O queue per CPU with an interrupt, and the polled ones */
	ctrl->nr_poll_queues = min(nvi_poll_queues, num_possible_cpus());
	ctrl->max_io_queues = num_possible_cpus() + ctrl->nr_poll_queues;
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
	/* the device's IOMMU domain is fixed while the driver is bound */
	if (ctrl->map_mode == NVI_MAP_IOVA && blkcompat_has_batches())
		ctrl->iova_batch_defers = dma_iova_batch_defers(ctrl->dev);
	nvi_debugfs_add(ctrl);
	ctrl->list_pool = dma_pool_create("nvme_iova_list", ctrl->dev,
					  NVI_PAGE_SIZE, NVI_PAGE_SIZE, 0);
	/* as nvme-pci's prp_small_pool: aligned to its size, no page crossed */
	ctrl->small_pool = dma_pool_create("nvme_iova_list256", ctrl->dev,
					   NVI_SMALL_LIST, NVI_SMALL_LIST, 0);
	if (!ctrl->list_pool || !ctrl->small_pool) {
		ret = -ENOMEM;
		goto pools;
	}
	ret = nvi_alloc_queue(ctrl, 0, NVI_AQ_DEPTH);
	if (ret)
		goto pools;
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
		 "%s: serial %s, %u I/O queue(s) (%u polled) of depth %u, %u IRQ vector(s), max %u KiB, map_mode=%s%s%s\n",
		 dev_name(&ctrl->device), ctrl->serial, ctrl->nr_io_queues,
		 ctrl->nr_poll_queues, ctrl->q_depth, ctrl->nr_vecs, ctrl->max_hw_sectors / 2,
		 nvi_map_mode_name(ctrl->map_mode),
		 ctrl->sgl_supported ? ", SGL" : "",
		 ctrl->iova_batch_defers ? ", batched unmapping" : "");
	ret = nvi_scan_namespaces(ctrl);
	if (ret)
		dev_warn(ctrl->dev, "namespace scan failed (%d)\n", ret);
	return 0;

disable:
	nvi_change_state(ctrl, NVI_DEAD);
	nvi_dev_disable(ctrl, false);
queues:
	nvi_teardown_queues(ctrl);
pools:
	dma_pool_destroy(ctrl->small_pool);
	dma_pool_destroy(ctrl->list_pool);
	nvi_debugfs_remove(ctrl);
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
	if (!pci_device_is_present(pdev)) {
		/* surprise removal: nothing will answer, fail what is queued */
		nvi_change_state(ctrl, NVI_DEAD);
		nvi_dev_disable(ctrl, false);
	}
	flush_work(&ctrl->reset_work);
	/*
	 * Stopped by an error recovery that never restarted it: let what
	 * waits in the quiesced queues fail, or del_gendisk() waits forever.
	 */
	if (ctrl->reset_stopped) {
		ctrl->reset_stopped = false;
		nvi_kick_namespaces(ctrl, false);
	}
	/* wait for passthrough users; new ones see the state and leave */
	down_write(&ctrl->ioctl_rwsem);
	up_write(&ctrl->ioctl_rwsem);
	/* the controller still works: outstanding I/O completes normally */
	nvi_remove_namespaces(ctrl);
	cdev_device_del(&ctrl->cdev, &ctrl->device);
	nvi_dev_disable(ctrl, true);
	nvi_change_state(ctrl, NVI_DEAD);
	nvi_teardown_queues(ctrl);
	dma_pool_destroy(ctrl->small_pool);
	dma_pool_destroy(ctrl->list_pool);
	nvi_debugfs_remove(ctrl);
	nvi_pci_disable(ctrl);
	pci_set_drvdata(pdev, NULL);
	dev_info(&pdev->dev, "controller shut down\n");
	put_device(&ctrl->device);
}

/*
 * Matches nothing by itself: no MODULE_DEVICE_TABLE, so the module is never
 * autoloaded.  A device is bound through driver_override, which lets
 * pci_match_device() succeed for an empty table.
 */
static const struct pci_device_id nvi_id_table[] = {
	{ 0, }
};

struct pci_driver nvi_driver = {
	.name		= "nvme_iova",
	.id_table	= nvi_id_table,
	.probe		= nvi_probe,
	.remove		= nvi_remove,
	.shutdown	= nvi_shutdown,
	.err_handler	= &nvi_err_handler,
};
