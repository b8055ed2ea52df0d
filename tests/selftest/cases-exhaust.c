// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: IOVA space exhaustion (issue 8, scenario 4).
 *
 * The case narrows the edu device's DMA mask to 20 bits (1 MiB of IOVA
 * space, 255 pages above the allocator's start at pfn 1; 24 bits where the
 * DMA ops refuse masks below ZONE_DMA, as 5.10's intel-iommu does), fills it with
 * ranges of 16 pages and then of one page until try_alloc says no, shows
 * that the fallback path (dma_map_phys) then either works within the mask
 * or fails cleanly with DMA_MAPPING_ERROR, frees everything and shows the
 * same space can be allocated again ("everything recovers when load
 * drops"), then restores the 28-bit mask.  Every range has one page linked,
 * so that in a lazy domain the destroyed ranges wait on the shim's deferred
 * queue and the refill goes through its flush-on-no-space path.  Where the
 * shim serves the device its counters must show the "nospace" fallbacks and
 * no outstanding range afterwards.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_EXHAUST_BIG		16	/* pages per range in the first pass */
#define DIS_EXHAUST_MAX		4400	/* more than 16 MiB of pages can hold */

/* the masks tried, smallest first */
static const unsigned int dis_exhaust_bits[] = { 20, 24 };

struct dis_exhaust {
	struct dma_iova_state st[DIS_EXHAUST_MAX];
	unsigned int n;
	unsigned int bits;
};

/* Allocate ranges of npages until try_alloc fails; the count, or < 0. */
static int dis_exhaust_fill(struct dis_test *t, struct dis_exhaust *x,
			    unsigned int npages, struct page *p)
{
	const u64 mask = DMA_BIT_MASK(x->bits);
	size_t size = (size_t)npages * PAGE_SIZE;
	struct dma_iova_state *st;
	unsigned int got = 0;
	int ret;

	while (x->n < DIS_EXHAUST_MAX) {
		st = &x->st[x->n];
		if (!dma_iova_try_alloc(t->dev, st, 0, size))
			return got;
		if (st->addr + size - 1 > mask) {
			dma_iova_free(t->dev, st);
			return dis_fail(t, "range %pad + %zu beyond the %u-bit mask",
					&st->addr, size, x->bits);
		}
		ret = dma_iova_link(t->dev, st, page_to_phys(p), 0, PAGE_SIZE,
				    DMA_TO_DEVICE, 0);
		if (ret) {
			dma_iova_free(t->dev, st);
			return dis_fail(t, "link in range %u: %d", x->n, ret);
		}
		x->n++;
		got++;
	}
	return dis_fail(t, "%u ranges fit below a %u-bit mask", x->n,
			x->bits);
}

static void dis_exhaust_release(struct dis_test *t, struct dis_exhaust *x)
{
	while (x->n)
		dma_iova_destroy(t->dev, &x->st[--x->n], PAGE_SIZE,
				 DMA_TO_DEVICE, 0);
}

/* Fill the space with big ranges, then single pages: pages allocated. */
static int dis_exhaust_pass(struct dis_test *t, struct dis_exhaust *x,
			    struct page *p, int *big, int *small)
{
	*big = dis_exhaust_fill(t, x, DIS_EXHAUST_BIG, p);
	if (*big < 0)
		return *big;
	*small = dis_exhaust_fill(t, x, 1, p);
	if (*small < 0)
		return *small;
	if (!*big)
		return dis_fail(t, "not one %u-page range below a %u-bit mask",
				DIS_EXHAUST_BIG, x->bits);
	return 0;
}

/* The regular path while the space is full: works in the mask, or fails. */
static int dis_exhaust_fallback(struct dis_test *t, struct dis_exhaust *x,
				struct page *p, const char **how)
{
	dma_addr_t a;
	int ret;

	a = dma_map_phys(t->dev, page_to_phys(p), PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (dma_mapping_error(t->dev, a)) {
		*how = "failed cleanly (DMA_MAPPING_ERROR)";
		return 0;
	}
	*how = "worked";
	if (a + PAGE_SIZE - 1 > DMA_BIT_MASK(x->bits))
		ret = dis_fail(t, "dma_map_phys gave %pad, beyond the %u-bit mask",
			       &a, x->bits);
	else
		ret = dis_edu_to_device(t->edu, a + 256, 0, 512);
	dma_unmap_phys(t->dev, a, PAGE_SIZE, DMA_TO_DEVICE, 0);
	return ret ? ret : 1;
}

int dis_case_exhaustion(struct dis_test *t)
{
	struct dis_shim_stats before, mid, after;
	struct dma_iova_state st;
	struct dis_exhaust *x;
	int big = 0, small = 0, big2 = 0, small2 = 0, dma = 0, ret;
	unsigned int i;
	bool have_stats;
	const char *how = "not tried";
	struct page *p;
	u8 got[512];

	if (!t->expect_iova)
		return 1;
	have_stats = !dis_shim_snapshot(t, &before);
	x = vzalloc(sizeof(*x));
	p = alloc_page(GFP_KERNEL | GFP_DMA);
	if (!x || !p) {
		ret = -ENOMEM;
		goto out;
	}
	dis_fill(p, 55);
	for (i = 0; i < ARRAY_SIZE(dis_exhaust_bits); i++) {
		x->bits = dis_exhaust_bits[i];
		ret = dma_set_mask_and_coherent(t->dev, DMA_BIT_MASK(x->bits));
		if (ret != -EIO)
			break;
	}
	if (ret) {
		ret = dis_fail(t, "could not set a %u-bit DMA mask: %d",
			       x->bits, ret);
		goto restore;
	}
	ret = dis_exhaust_pass(t, x, p, &big, &small);
	if (ret)
		goto release;
	if (have_stats) {
		ret = dis_shim_snapshot(t, &mid);
		if (ret)
			goto release;
		if (mid.fb_nospace < before.fb_nospace + 2 ||
		    mid.outstanding != before.outstanding + x->n) {
			ret = dis_fail(t, "full: +%llu nospace (not +2), %lld outstanding (not %u)",
				       mid.fb_nospace - before.fb_nospace,
				       mid.outstanding - before.outstanding, x->n);
			goto release;
		}
	}
	dma = dis_exhaust_fallback(t, x, p, &how);
	if (dma < 0) {
		ret = dma;
		goto release;
	}
	dis_exhaust_release(t, x);
	/*
	 * A queue that is not the shim's (5.10 VT-d's own flush queue) is not
	 * flushed when the space runs out: it gives its IOVAs back on its
	 * 10 ms timer, so let the load drop that long.
	 */
	if (have_stats && mid.dma_ops_defer)
		msleep(50);
	/* the space comes back, also through a lazy domain's deferred queue */
	ret = dis_exhaust_pass(t, x, p, &big2, &small2);
	if (ret)
		goto release;
	/* the fallback's own IOVA may still sit in dma-iommu's flush queue */
	if (big2 < big || big2 * DIS_EXHAUST_BIG + small2 + dma <
	    big * DIS_EXHAUST_BIG + small) {
		ret = dis_fail(t, "after freeing: %d+%d ranges, first time %d+%d",
			       big2, small2, big, small);
		goto release;
	}
release:
	dis_exhaust_release(t, x);
restore:
	if (dma_set_mask_and_coherent(t->dev, DMA_BIT_MASK(EDU_DMA_BITS)) && !ret)
		ret = dis_fail(t, "could not restore the %u-bit mask", EDU_DMA_BITS);
	if (ret)
		goto out;
	if (dma > 0) {
		ret = dis_read_back(t, 0, got, sizeof(got));
		if (!ret && memcmp(got, page_address(p) + 256, sizeof(got)))
			ret = dis_fail(t, "the fallback DMA in a full space read wrong bytes");
		if (ret)
			goto out;
	}
	if (!dma_iova_try_alloc(t->dev, &st, 0, DIS_EXHAUST_BIG * PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc fails after the mask was restored");
		goto out;
	}
	dma_iova_free(t->dev, &st);
	if (have_stats) {
		ret = dis_shim_snapshot(t, &after);
		if (ret)
			goto out;
		if (after.outstanding != before.outstanding ||
		    after.fb_nospace < before.fb_nospace + 4) {
			ret = dis_fail(t, "then: %lld outstanding (was %lld), +%llu nospace",
				       after.outstanding, before.outstanding,
				       after.fb_nospace - before.fb_nospace);
			goto out;
		}
	}
	pr_info("exhaustion: %d+%d ranges of %d+1 pages filled the %u-bit space, dma_map_phys then %s; %d+%d again after freeing\n",
		big, small, DIS_EXHAUST_BIG, x->bits, how, big2, small2);
out:
	if (p)
		__free_page(p);
	vfree(x);
	return ret;
}
