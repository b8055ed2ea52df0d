// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: module parameters, the driver's workqueue, module init and
 * exit.  The controller core is in core.c, the PCI side in pci.c, the
 * controller class device in sysfs.c, its debugfs in debugfs.c.
 */
#include <linux/idr.h>
#include <linux/module.h>

#include "nvme-iova.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

int nvi_map_mode = NVI_MAP_IOVA;
int nvi_sgl = NVI_SGL_AUTO;
unsigned int nvi_io_timeout = 30;
unsigned int nvi_poll_queues;
bool nvi_single_segment = true;
bool nvi_batch_unmap = true;
bool nvi_shadow_doorbells = true;

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
module_param_cb(map_mode, &nvi_map_mode_ops, NULL, 0644);
MODULE_PARM_DESC(map_mode,
		 "How requests are DMA-mapped: iova (two-step API, one IOVA range per request), sg (scatterlist, like stock nvme), page (each segment on its own); a controller keeps the mode it was bound with (default: iova)");

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

module_param_named(single_segment, nvi_single_segment, bool, 0644);
MODULE_PARM_DESC(single_segment,
		 "map_mode=iova: map a one-segment request that fits two controller pages directly, as nvme-pci does; N: the two-step API for every request (default: Y)");

module_param_named(batch_unmap, nvi_batch_unmap, bool, 0644);
MODULE_PARM_DESC(batch_unmap,
		 "map_mode=iova in a strict IOMMU domain: destroy the IOVA ranges of a completion batch with one IOTLB invalidation, before any of its requests ends (dma-iova-shim extension); N: one invalidation per request (default: Y)");

module_param_named(shadow_doorbells, nvi_shadow_doorbells, bool, 0644);
MODULE_PARM_DESC(shadow_doorbells,
		 "Use the controller's shadow doorbells (Doorbell Buffer Config) when it offers them, as nvme-pci does; read at each enable (probe, reset) (default: Y)");

module_param_named(poll_queues, nvi_poll_queues, uint, 0444);
MODULE_PARM_DESC(poll_queues,
		 "I/O queues without interrupts, for polled I/O (io_uring IOPOLL, RWF_HIPRI), besides one per CPU (default: 0)");

const char *nvi_map_mode_name(int mode)
{
	return nvi_map_mode_names[mode];
}

struct workqueue_struct *nvi_wq;

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
	nvi_debugfs_init();
	ret = pci_register_driver(&nvi_driver);
	if (ret)
		goto debugfs;
	pr_info("loaded, map_mode=%s sgl=%s\n", nvi_map_mode_name(nvi_map_mode),
		nvi_sgl_names[nvi_sgl]);
	return 0;
debugfs:
	nvi_debugfs_exit();
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
	nvi_debugfs_exit();
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
