// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: an untrusted device (issue 4).
 *
 * The PCI core marks devices behind external-facing ports untrusted at
 * enumeration; the DMA API must then never let them see more than the bytes
 * they were given.  The two implementations meet that differently, and each
 * is judged by its own contract:
 *
 *  - the shim refuses: dma_iova_try_alloc() returns false, the fallback is
 *    counted as "untrusted", and the caller's regular mappings (which
 *    dma-iommu bounces where they are not granule aligned) carry the DMA;
 *  - the kernel's own API (6.16+) does not look at the flag in try_alloc:
 *    dma_iova_link() bounces the pieces that are not granule aligned
 *    through swiotlb and maps aligned ones directly.  try_alloc may succeed
 *    there, and an aligned link must carry the DMA.
 *
 * Test-only hook: QEMU cannot make a PCI device untrusted, so this case sets
 * pci_dev->untrusted on the edu device it owns for the duration of the case
 * and restores it before returning.  Only page-aligned, whole-page mappings
 * are made while the flag is set (the guest may have no swiotlb pool to
 * bounce into).  Afterwards a try_alloc must succeed again: the shim reads
 * the flag on every call, not once per device.
 */
#include <linux/pci.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

/* The device reads 512 bytes at offset 256 of a page into buf_off. */
static int dis_untrusted_dma(struct dis_test *t, struct page *p, u32 buf_off,
			     bool two_step)
{
	struct dma_iova_state st;
	dma_addr_t a;
	int ret;

	if (two_step) {
		if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE))
			return dis_fail(t, "try_alloc succeeded, then failed");
		ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
				    DMA_TO_DEVICE, 0);
		if (ret) {
			dma_iova_free(t->dev, &st);
			return dis_fail(t, "untrusted aligned link: %d", ret);
		}
		ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
		if (!ret)
			ret = dis_edu_to_device(t->edu, st.addr + 256, buf_off, 512);
		dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_TO_DEVICE, 0);
		return ret;
	}
	a = dma_map_phys(t->dev, page_to_phys(p), PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (dma_mapping_error(t->dev, a))
		return dis_fail(t, "fallback dma_map_phys failed");
	ret = dis_edu_to_device(t->edu, a + 256, buf_off, 512);
	dma_unmap_phys(t->dev, a, PAGE_SIZE, DMA_TO_DEVICE, 0);
	return ret;
}

int dis_case_untrusted(struct dis_test *t)
{
	struct pci_dev *pdev = to_pci_dev(t->dev);
	struct dis_shim_stats before, after;
	struct dma_iova_state st;
	bool have_stats, ok, was = pdev->untrusted;
	struct page *p;
	u8 *got;
	int ret;

	if (!t->expect_iova)
		return 1;
	have_stats = !dis_shim_snapshot(t, &before);
	if (!have_stats && !DIS_API_NATIVE)
		return dis_fail(t, "no shim counters for the device");
	p = alloc_page(GFP_KERNEL);
	got = kmalloc(1024, GFP_KERNEL);
	if (!p || !got) {
		ret = -ENOMEM;
		goto out;
	}
	dis_fill(p, 99);
	ret = dis_preset(t, 0, 0x33, 1024);
	if (ret)
		goto out;

	pdev->untrusted = 1;
	memset(&st, 0xaa, sizeof(st));
	ok = dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE);
	if (ok) {
		dma_iova_free(t->dev, &st);
		if (!DIS_API_NATIVE) {
			ret = dis_fail(t, "the shim gave an untrusted device a range");
			goto restore;
		}
		/* native: an aligned link maps directly and carries the DMA */
		ret = dis_untrusted_dma(t, p, 0, true);
		if (ret)
			goto restore;
	} else if (st.addr || st.__size || dma_use_iova(&st)) {
		ret = dis_fail(t, "state not zeroed on the untrusted fallback");
		goto restore;
	}
	/* the fallback path works whichever way try_alloc went */
	ret = dis_untrusted_dma(t, p, 512, false);
restore:
	pdev->untrusted = was;
	if (ret)
		goto out;
	ret = dis_read_back(t, 0, got, 1024);
	if (ret)
		goto out;
	if (ok && memcmp(got, page_address(p) + 256, 512)) {
		ret = dis_fail(t, "wrong bytes through the untrusted two-step range");
		goto out;
	}
	if (memcmp(got + 512, page_address(p) + 256, 512)) {
		ret = dis_fail(t, "wrong bytes through the untrusted fallback");
		goto out;
	}
	if (have_stats) {
		ret = dis_shim_snapshot(t, &after);
		if (ret)
			goto out;
		if (after.fb_untrusted != before.fb_untrusted + 1) {
			ret = dis_fail(t, "fallback_untrusted went from %llu to %llu, not +1",
				       before.fb_untrusted, after.fb_untrusted);
			goto out;
		}
	}
	/* trusted again: the flag is read per call, the range comes back */
	if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc still falls back once trusted again");
		goto out;
	}
	dma_iova_free(t->dev, &st);
	pr_info("untrusted: try_alloc %s, the %s path carried the DMA\n",
		ok ? "succeeded (native: links bounce unaligned pieces)" :
		"fell back", ok ? "two-step and the fallback" : "fallback");
out:
	kfree(got);
	if (p)
		__free_page(p);
	return ret;
}
