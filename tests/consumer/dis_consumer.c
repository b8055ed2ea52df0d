// SPDX-License-Identifier: GPL-2.0
/*
 * dis_consumer: a driver from outside the project using the two-step DMA
 * API through dma-iova-shim's public header, as any out-of-tree driver
 * would.  It uses the mainline names only; the header maps them to the
 * kernel's own functions where the kernel has them and to the shim's
 * otherwise.
 *
 * It binds only to a QEMU edu device whose driver_override names it.  At
 * probe it reserves a range and frees it unused (dma_iova_free), then makes
 * a few requests: each maps scattered pages as one device
 * range (dma_iova_try_alloc + dma_iova_link + dma_iova_sync), or page by
 * page with dma_map_phys() where the IOVA path is not available, has the
 * device copy across the page boundary, checks the data and unmaps.  It
 * prints one line per device:
 *
 *	dis_consumer <device>: <n> requests, path iova|phys: pass
 *	dis_consumer <device>: FAIL request <n> (<errno>)
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include <dma-iova-shim.h>

#define EDU_REG_ID	0x00
#define EDU_REG_SRC	0x80
#define EDU_REG_DST	0x88
#define EDU_REG_CNT	0x90
#define EDU_REG_CMD	0x98
#define EDU_CMD_START	BIT(0)
#define EDU_CMD_TO_RAM	BIT(1)
#define EDU_BUF		0x40000
#define EDU_DMA_BITS	28
#define CONS_PAGES	4
#define CONS_XFER	1024	/* crosses a page boundary: half on each side */

static unsigned int requests = 8;
module_param(requests, uint, 0444);
MODULE_PARM_DESC(requests, "Requests to make per device at probe (default 8)");

/* One DMA of len bytes between a bus address and the device buffer, polled. */
static int cons_edu_dma(void __iomem *regs, u64 src, u64 dst, u32 len, u32 cmd)
{
	unsigned int ms;

	writeq(src, regs + EDU_REG_SRC);
	writeq(dst, regs + EDU_REG_DST);
	writeq(len, regs + EDU_REG_CNT);
	writeq(cmd | EDU_CMD_START, regs + EDU_REG_CMD);
	for (ms = 0; readq(regs + EDU_REG_CMD) & EDU_CMD_START; ms += 5) {
		if (ms > 5000)
			return -ETIMEDOUT;
		usleep_range(5000, 6000);
	}
	return 0;
}

/*
 * Map the pages for the device.  On the IOVA path the device sees them as
 * one range at state->addr; on the fallback path, page i is at addrs[i].
 */
static int cons_map(struct device *dev, struct dma_iova_state *state,
		    struct page **pages, dma_addr_t *addrs)
{
	size_t size = CONS_PAGES * PAGE_SIZE;
	unsigned int i;
	int ret;

	if (dma_iova_try_alloc(dev, state, 0, size)) {
		for (i = 0; i < CONS_PAGES; i++) {
			ret = dma_iova_link(dev, state, page_to_phys(pages[i]),
					    i * PAGE_SIZE, PAGE_SIZE,
					    DMA_BIDIRECTIONAL, 0);
			if (ret) {
				dma_iova_destroy(dev, state, i * PAGE_SIZE,
						 DMA_BIDIRECTIONAL, 0);
				return ret;
			}
			addrs[i] = state->addr + i * PAGE_SIZE;
		}
		ret = dma_iova_sync(dev, state, 0, size);
		if (ret)
			dma_iova_destroy(dev, state, size, DMA_BIDIRECTIONAL, 0);
		return ret;
	}
	for (i = 0; i < CONS_PAGES; i++) {
		addrs[i] = dma_map_phys(dev, page_to_phys(pages[i]), PAGE_SIZE,
					DMA_BIDIRECTIONAL, 0);
		if (dma_mapping_error(dev, addrs[i])) {
			while (i--)
				dma_unmap_phys(dev, addrs[i], PAGE_SIZE,
					       DMA_BIDIRECTIONAL, 0);
			return -ENOMEM;
		}
	}
	return 0;
}

static void cons_unmap(struct device *dev, struct dma_iova_state *state,
		       dma_addr_t *addrs)
{
	unsigned int i;

	if (dma_use_iova(state)) {
		dma_iova_destroy(dev, state, CONS_PAGES * PAGE_SIZE,
				 DMA_BIDIRECTIONAL, 0);
		return;
	}
	for (i = 0; i < CONS_PAGES; i++)
		dma_unmap_phys(dev, addrs[i], PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
}

/*
 * One request: the device reads the end of page 0 and the start of page 1
 * (one read if the range is contiguous) and writes them to page 2.
 */
static int cons_request(struct device *dev, void __iomem *regs,
			struct page **pages, unsigned int seq, bool *iova)
{
	struct dma_iova_state state = {};
	dma_addr_t addrs[CONS_PAGES];
	u8 *src0 = page_address(pages[0]) + PAGE_SIZE - CONS_XFER / 2;
	u8 *src1 = page_address(pages[1]);
	u8 *dst = page_address(pages[2]);
	unsigned int half = CONS_XFER / 2, i;
	int ret;

	for (i = 0; i < half; i++) {
		src0[i] = seq + i;
		src1[i] = seq + half + i;
	}
	memset(dst, 0, CONS_XFER);
	ret = cons_map(dev, &state, pages, addrs);
	if (ret)
		return ret;
	*iova = dma_use_iova(&state);
	if (*iova) {
		/* one range: a single read across the page boundary */
		ret = cons_edu_dma(regs, addrs[1] - half, EDU_BUF, CONS_XFER, 0);
	} else {
		ret = cons_edu_dma(regs, addrs[0] + PAGE_SIZE - half, EDU_BUF,
				   half, 0);
		if (!ret)
			ret = cons_edu_dma(regs, addrs[1], EDU_BUF + half,
					   half, 0);
	}
	if (!ret)
		ret = cons_edu_dma(regs, EDU_BUF, addrs[2], CONS_XFER,
				   EDU_CMD_TO_RAM);
	cons_unmap(dev, &state, addrs);
	if (ret)
		return ret;
	if (memcmp(dst, src0, half) || memcmp(dst + half, src1, half))
		return -EIO;
	return 0;
}

static int cons_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct page *pages[CONS_PAGES] = {};
	struct dma_iova_state probe = {};
	void __iomem *regs;
	unsigned int i, done = 0;
	bool iova = false;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];
	if ((readl(regs + EDU_REG_ID) & 0xff) != 0xed)
		return -ENODEV;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	/*
	 * Reachable under the device's 28-bit mask even without an IOMMU
	 * (there may be no bounce buffers on a small machine).
	 */
	for (i = 0; i < CONS_PAGES; i++) {
		pages[i] = alloc_page(GFP_KERNEL | GFP_DMA);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* Does the two-step path work for this device?  Reserve and give back. */
	if (dma_iova_try_alloc(&pdev->dev, &probe, 0, CONS_PAGES * PAGE_SIZE)) {
		if (dma_iova_size(&probe) != CONS_PAGES * PAGE_SIZE)
			ret = -EINVAL;
		dma_iova_free(&pdev->dev, &probe);
		if (ret)
			goto out;
	}
	for (done = 0; done < requests; done++) {
		ret = cons_request(&pdev->dev, regs, pages, done, &iova);
		if (ret)
			break;
	}
out:
	if (ret)
		dev_info(&pdev->dev, "FAIL request %u (%d)\n", done, ret);
	else
		dev_info(&pdev->dev, "%u requests, path %s: pass\n", done,
			 iova ? "iova" : "phys");
	for (i = 0; i < CONS_PAGES; i++)
		if (pages[i])
			__free_page(pages[i]);
	return 0;
}

static void cons_remove(struct pci_dev *pdev)
{
}

/* No ID table: it binds only to a device whose driver_override names it. */
static struct pci_driver cons_driver = {
	.name = KBUILD_MODNAME,
	.probe = cons_probe,
	.remove = cons_remove,
};
module_pci_driver(cons_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example consumer of the two-step DMA API via dma-iova-shim");
MODULE_AUTHOR("dma-iova-shim developers");
