// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: a caller's bugs, which the shim refuses before it touches
 * a page table or the IOVA allocator.  Mainline does not check these (its
 * page tables and allocator would be corrupted the same way), so the cases
 * run against the shim only.
 *
 *  - misuse-link: a link whose IOVA is off the IOMMU granule, or that
 *    reaches out of its range, is -EINVAL (mainline's iommu_map() refuses
 *    the first; the second would map over another range's IOVAs);
 *  - misuse-destroy: a second destroy (and a free) of one range, and an
 *    unlink of a part outside a live range, are refused: the counters show
 *    one free per allocation and no unlink of the foreign part, and two
 *    later ranges of the same size do not overlap (a second free would
 *    put the IOVA in the allocator's cache twice).  The first refusal
 *    warns once; shim-selftest.sh declares that warning.
 */
#include <linux/mm.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

int dis_case_misuse_link(struct dis_test *t)
{
	struct dma_iova_state st;
	struct page *p;
	int ret;

	if (!t->expect_iova || DIS_API_NATIVE)
		return 1;
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (!dma_iova_try_alloc(t->dev, &st, 0, 2 * PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 512, 512,
			    DMA_TO_DEVICE, 0);
	if (ret != -EINVAL) {
		ret = dis_fail(t, "a link off the granule (offset 512) returned %d, not -EINVAL",
			       ret);
		goto destroy;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 2 * PAGE_SIZE,
			    PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (ret != -EINVAL) {
		ret = dis_fail(t, "a link past the end of a 2-page range returned %d, not -EINVAL",
			       ret);
		goto destroy;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), PAGE_SIZE,
			    2 * PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (ret != -EINVAL) {
		ret = dis_fail(t, "a link reaching out of its range returned %d, not -EINVAL",
			       ret);
		goto destroy;
	}
	/* the range still takes a correct link */
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), PAGE_SIZE, PAGE_SIZE,
			    DMA_TO_DEVICE, 0);
	if (ret) {
		ret = dis_fail(t, "a correct link after the refused ones: %d", ret);
		goto destroy;
	}
	ret = dma_iova_sync(t->dev, &st, PAGE_SIZE, PAGE_SIZE);
	if (ret)
		ret = dis_fail(t, "sync after the refused links: %d", ret);
	/* only the second page is linked: unlink it, then free the range */
	dma_iova_unlink(t->dev, &st, PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
destroy:
	dma_iova_free(t->dev, &st);
out:
	__free_page(p);
	return ret;
}

/* Two ranges of one size, live at once, must not share an IOVA. */
static int dis_misuse_no_overlap(struct dis_test *t, size_t size)
{
	struct dma_iova_state a, b;
	int ret = 0;

	if (!dma_iova_try_alloc(t->dev, &a, 0, size))
		return dis_fail(t, "try_alloc after the refused calls failed");
	if (!dma_iova_try_alloc(t->dev, &b, 0, size)) {
		dma_iova_free(t->dev, &a);
		return dis_fail(t, "second try_alloc after the refused calls failed");
	}
	if (a.addr < b.addr + size && b.addr < a.addr + size)
		ret = dis_fail(t, "two live ranges overlap: %pad and %pad (an IOVA freed twice)",
			       &a.addr, &b.addr);
	dma_iova_free(t->dev, &b);
	dma_iova_free(t->dev, &a);
	return ret;
}

int dis_case_misuse_destroy(struct dis_test *t)
{
	struct dis_shim_stats before, after;
	struct dma_iova_state st, live, copy;
	struct page *p;
	int ret;

	if (!t->expect_iova || DIS_API_NATIVE)
		return 1;
	ret = dis_shim_snapshot(t, &before);
	if (ret)
		return dis_fail(t, "no shim counters for the device: %d", ret);
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (!dma_iova_try_alloc(t->dev, &st, 0, 2 * PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
			    DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
	if (ret) {
		dma_iova_free(t->dev, &st);
		ret = dis_fail(t, "link/sync: %d", ret);
		goto out;
	}
	copy = st;
	dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_TO_DEVICE, 0);
	/* the bugs: the same range again, destroyed and freed */
	dma_iova_destroy(t->dev, &copy, PAGE_SIZE, DMA_TO_DEVICE, 0);
	dma_iova_free(t->dev, &copy);

	/*
	 * A live range: an unlink of a part outside it, and a destroy whose
	 * length wraps around when rounded up, are refused; the range stays.
	 */
	if (!dma_iova_try_alloc(t->dev, &live, 0, PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc of the live range failed");
		goto out;
	}
	dma_iova_unlink(t->dev, &live, 4 * PAGE_SIZE, PAGE_SIZE,
			DMA_TO_DEVICE, 0);
	dma_iova_destroy(t->dev, &live, SIZE_MAX, DMA_TO_DEVICE, 0);
	ret = dis_shim_snapshot(t, &after);
	if (ret) {
		ret = dis_fail(t, "reading the shim's counters: %d", ret);
		goto out;
	}
	if (after.frees - before.frees != 1) {
		ret = dis_fail(t, "a destroy of length SIZE_MAX freed the range (%llu frees)",
			       after.frees - before.frees);
		goto out;
	}
	dma_iova_free(t->dev, &live);

	ret = dis_shim_snapshot(t, &after);
	if (ret) {
		ret = dis_fail(t, "reading the shim's counters: %d", ret);
		goto out;
	}
	if (after.allocs - before.allocs != 2 || after.frees - before.frees != 2)
		ret = dis_fail(t, "2 ranges allocated, %llu allocs and %llu frees counted",
			       after.allocs - before.allocs,
			       after.frees - before.frees);
	else if (after.unlinks - before.unlinks != 1)
		ret = dis_fail(t, "%llu unlinks counted, 1 made (the refused ones count none)",
			       after.unlinks - before.unlinks);
	else
		ret = dis_misuse_no_overlap(t, 2 * PAGE_SIZE);
out:
	__free_page(p);
	return ret;
}
