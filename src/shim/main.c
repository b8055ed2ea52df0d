// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the mainline two-step DMA mapping API for kernels that
 * lack it.  Module entry points.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "shim.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int __init dma_iova_shim_init(void)
{
	int ret;

	ret = dmashim_domains_init();
	if (ret)
		return ret;
	dmashim_debugfs_init();
	pr_info("version %s loaded\n", DMA_IOVA_SHIM_VERSION);
	return 0;
}

static void __exit dma_iova_shim_exit(void)
{
	/* flushes queued frees and reports ranges consumers leaked */
	dmashim_domains_exit();
	dmashim_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(dma_iova_shim_init);
module_exit(dma_iova_shim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Two-step DMA mapping API (dma_iova_*) for kernels without it");
MODULE_AUTHOR("dma-iova-shim developers");
MODULE_VERSION(DMA_IOVA_SHIM_VERSION);
