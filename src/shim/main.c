// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the mainline two-step DMA mapping API for kernels that
 * lack it.  Module entry points.
 */
#include <linux/module.h>
#include <linux/init.h>

static int __init dma_iova_shim_init(void)
{
	pr_info("version %s loaded\n", DMA_IOVA_SHIM_VERSION);
	return 0;
}

static void __exit dma_iova_shim_exit(void)
{
	pr_info("unloaded\n");
}

module_init(dma_iova_shim_init);
module_exit(dma_iova_shim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Two-step DMA mapping API (dma_iova_*) for kernels without it");
MODULE_AUTHOR("dma-iova-shim developers");
MODULE_VERSION(DMA_IOVA_SHIM_VERSION);
