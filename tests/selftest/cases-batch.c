// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: the batched destroys, an extension of the shim (not in
 * mainline): dma_iova_destroy_batched() clears a range's page tables and a
 * batch holds it until dma_iova_batch_flush() invalidates the IOTLB once
 * for all it holds.  With the kernel's own API the header makes them a
 * plain destroy and a no-op, and the cases that check the shim's counters
 * or refusals skip there.
 *
 *  - batch-stale: in a strict domain each of t->stale_tries ranges is
 *    live (the device reads it, which caches the translation), destroyed
 *    into one batch, and after the flush the device reads or writes
 *    through its old IOVA: every access must be blocked;
 *  - batch-no-early-reuse: while a batch holds ranges, new ranges of the
 *    same sizes never get their IOVAs; the flush frees them (counters);
 *    the destroy that fills a batch flushes it;
 *  - batch-misuse: a destroy_batched of a range the shim does not hold,
 *    a flush of an empty batch, and a batch used for two devices;
 *  - batch-completion: destroys and the flush under a spinlock_t taken
 *    with spin_lock_irqsave(), as a completion handler calls them;
 *  - batch-stress (stress-batch.c): threads mixing batched and plain
 *    destroys, checking that no range handed out overlaps a held one.
 *
 * dis_requests() with a flush interval serves the debugfs knob the host counts IOTLB
 * invalidations with, dis_batch_leave() the one that leaves a batch
 * unflushed for the unbind to find.
 */
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_BSTALE_SLOT	64
#define DIS_BSTALE_MAX	(1024 / DIS_BSTALE_SLOT)

/* One live range for try i, read by the device, then destroyed batched. */
static int dis_bstale_one(struct dis_test *t, unsigned int i, struct page *p,
			  struct dma_iova_batch *batch, dma_addr_t *old)
{
	struct dma_iova_state st;
	int ret;

	if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE))
		return dis_fail(t, "try %u: try_alloc failed", i);
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
			    DMA_BIDIRECTIONAL, 0);
	if (ret) {
		dma_iova_free(t->dev, &st);
		return dis_fail(t, "try %u: link: %d", i, ret);
	}
	ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
	if (!ret)
		ret = dis_edu_to_device(t->edu, st.addr, i * DIS_BSTALE_SLOT,
					DIS_BSTALE_SLOT);
	*old = st.addr;
	dma_iova_destroy_batched(t->dev, &st, PAGE_SIZE, DMA_BIDIRECTIONAL, 0,
				 batch);
	return ret ? dis_fail(t, "try %u: sync or live DMA: %d", i, ret) : 0;
}

int dis_case_batch_stale(struct dis_test *t)
{
	unsigned int n = min_t(unsigned int, t->stale_tries, DIS_BSTALE_MAX);
	struct iommu_domain *dom = iommu_get_domain_for_dev(t->dev);
	struct page *pages[DIS_BSTALE_MAX];
	dma_addr_t old[DIS_BSTALE_MAX];
	DEFINE_DMA_IOVA_BATCH(batch);
	unsigned int i, done = 0;
	u8 *buf, *slot;
	int ret;

	if (!t->expect_iova || t->stale != 1 || !n)
		return 1;
	buf = kmalloc(2048, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (dis_alloc_pages(pages, n)) {
		kfree(buf);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		memset(page_address(pages[i]), 0xa0 + i, PAGE_SIZE);
	ret = dis_preset(t, 0, 0x11, 2048);
	for (i = 0; i < n && !ret; i++, done++)
		ret = dis_bstale_one(t, i, pages[i], &batch, &old[i]);
	/* the page tables are clear before the flush, only the IOTLB is not */
	for (i = 0; i < done && !ret; i++)
		if (iommu_iova_to_phys(dom, old[i]))
			ret = dis_fail(t, "try %u: IOVA %pad still mapped after destroy_batched",
				       i, &old[i]);
	dma_iova_batch_flush(t->dev, &batch);
	if (!ret && !dma_iova_batch_empty(&batch))
		ret = dis_fail(t, "the batch holds %u ranges after its flush",
			       batch.count);
	for (i = 0; i < n && !ret; i++) {
		if (i & 1)
			ret = dis_edu_from_device(t->edu, 1024 + i * DIS_BSTALE_SLOT,
						  old[i], DIS_BSTALE_SLOT);
		else
			ret = dis_edu_to_device(t->edu, old[i],
						1024 + i * DIS_BSTALE_SLOT,
						DIS_BSTALE_SLOT);
	}
	if (!ret)
		ret = dis_read_back(t, 0, buf, 2048);
	for (i = 0; i < n && !ret; i++) {
		slot = buf + i * DIS_BSTALE_SLOT;
		if (memchr_inv(slot, 0xa0 + i, DIS_BSTALE_SLOT))
			ret = dis_fail(t, "try %u: the live range did not carry the data", i);
		else if (!(i & 1) &&
			 !memchr_inv(slot + 1024, 0xa0 + i, DIS_BSTALE_SLOT))
			ret = dis_fail(t, "try %u of %u: device read the old page after the flush",
				       i, n);
		else if ((i & 1) &&
			 memchr_inv(page_address(pages[i]), 0xa0 + i, PAGE_SIZE))
			ret = dis_fail(t, "try %u of %u: device wrote the old page after the flush",
				       i, n);
	}
	dis_free_pages(pages, n);
	kfree(buf);
	if (!ret)
		pr_info("batch-stale: %u of %u stale accesses blocked after one flush of %u ranges\n",
			n, n, n);
	return ret;
}

#define DIS_BREUSE	16	/* ranges held, sizes 1, 2, 4, 8 pages in turn */

struct dis_breuse {
	struct dma_iova_state held[DIS_BREUSE];
	struct dma_iova_state fresh[2 * DIS_BREUSE];
	dma_addr_t lo[DIS_BREUSE];
	size_t len[DIS_BREUSE];
};

static size_t dis_breuse_len(unsigned int i)
{
	return PAGE_SIZE << (i % 4);
}

static bool dis_breuse_overlaps(struct dis_breuse *b, dma_addr_t a, size_t len)
{
	unsigned int i;

	for (i = 0; i < DIS_BREUSE; i++)
		if (a < b->lo[i] + b->len[i] && b->lo[i] < a + len)
			return true;
	return false;
}

/* The destroy that fills a batch flushes it. */
static int dis_batch_fill(struct dis_test *t, struct page *p, bool holds)
{
	DEFINE_DMA_IOVA_BATCH(batch);
	struct dma_iova_state st;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < DMA_IOVA_BATCH_MAX && !ret; i++) {
		if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE)) {
			ret = dis_fail(t, "filling a batch: try_alloc %u failed", i);
			break;
		}
		ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
				    DMA_TO_DEVICE, 0);
		dma_iova_destroy_batched(t->dev, &st, ret ? 0 : PAGE_SIZE,
					 DMA_TO_DEVICE, 0, &batch);
		if (ret)
			ret = dis_fail(t, "filling a batch: link %u: %d", i, ret);
		else if (batch.count !=
			 ((holds && i + 1 < DMA_IOVA_BATCH_MAX) ? i + 1 : 0))
			ret = dis_fail(t, "the batch holds %u ranges after %u destroys",
				       batch.count, i + 1);
	}
	dma_iova_batch_flush(t->dev, &batch);
	return ret;
}

int dis_case_batch_reuse(struct dis_test *t)
{
	struct dis_shim_stats a, b;
	bool stats, holds, lazy;
	DEFINE_DMA_IOVA_BATCH(batch);
	unsigned int i, nfresh = 0, reused = 0;
	struct dis_breuse *r;
	struct page *p;
	int ret = 0;

	if (!t->expect_iova)
		return 1;
	stats = !dis_shim_snapshot(t, &b);
	if (!stats && !DIS_API_NATIVE)
		return dis_fail(t, "no shim counters for the device");
	/* a batch holds ranges where the shim serves a strict domain */
	lazy = stats && b.lazy;
	holds = stats && b.batch_holds;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	p = alloc_page(GFP_KERNEL);
	if (!r || !p) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < DIS_BREUSE; i++) {
		r->len[i] = dis_breuse_len(i);
		if (!dma_iova_try_alloc(t->dev, &r->held[i], 0, r->len[i])) {
			ret = dis_fail(t, "try_alloc %u failed", i);
			break;
		}
		r->lo[i] = r->held[i].addr;
		ret = dma_iova_link(t->dev, &r->held[i], page_to_phys(p), 0,
				    PAGE_SIZE, DMA_TO_DEVICE, 0);
		dma_iova_destroy_batched(t->dev, &r->held[i], ret ? 0 : PAGE_SIZE,
					 DMA_TO_DEVICE, 0, &batch);
		if (ret) {
			ret = dis_fail(t, "link %u: %d", i, ret);
			break;
		}
	}
	if (!ret && batch.count != (holds ? DIS_BREUSE : 0))
		ret = dis_fail(t, "the batch holds %u ranges after %u destroys (holds: %d)",
			       batch.count, DIS_BREUSE, holds);
	/* new ranges of the same sizes while the batch holds the old ones */
	for (nfresh = 0; nfresh < 2 * DIS_BREUSE && !ret; nfresh++) {
		if (!dma_iova_try_alloc(t->dev, &r->fresh[nfresh], 0,
					dis_breuse_len(nfresh)))
			ret = dis_fail(t, "try_alloc of fresh range %u failed", nfresh);
		else if (holds && dis_breuse_overlaps(r, r->fresh[nfresh].addr,
						      dis_breuse_len(nfresh)))
			ret = dis_fail(t, "fresh range %pad got an IOVA the batch holds",
				       &r->fresh[nfresh].addr);
	}
	for (i = 0; i < nfresh; i++)
		if (dma_use_iova(&r->fresh[i]))
			dma_iova_free(t->dev, &r->fresh[i]);
	dma_iova_batch_flush(t->dev, &batch);
	if (ret)
		goto out;
	/* after the flush the allocator may hand them out again */
	for (i = 0; i < DIS_BREUSE; i++) {
		if (!dma_iova_try_alloc(t->dev, &r->fresh[i], 0,
					dis_breuse_len(i)))
			continue;
		reused += dis_breuse_overlaps(r, r->fresh[i].addr, dis_breuse_len(i));
		dma_iova_free(t->dev, &r->fresh[i]);
	}
	if (!stats)
		goto out;
	ret = dis_shim_snapshot(t, &a);
	if (ret)
		goto out;
	if (a.batch_destroys - b.batch_destroys != DIS_BREUSE ||
	    a.batch_held - b.batch_held != (holds ? DIS_BREUSE : 0) ||
	    a.batch_flushed - b.batch_flushed != (holds ? DIS_BREUSE : 0) ||
	    a.batch_flushes - b.batch_flushes != holds ||
	    a.batch_hist[4] - b.batch_hist[4] != holds || a.batch_depth)
		ret = dis_fail(t,
			       "%llu batched, %llu held, %llu flushed by %llu (%llu 16+), depth %lld",
			       a.batch_destroys - b.batch_destroys,
			       a.batch_held - b.batch_held,
			       a.batch_flushed - b.batch_flushed,
			       a.batch_flushes - b.batch_flushes,
			       a.batch_hist[4] - b.batch_hist[4], a.batch_depth);
	else if (lazy && !b.dma_ops_defer &&
		 a.fq_queued - b.fq_queued < DIS_BREUSE)
		ret = dis_fail(t, "lazy domain: %llu of %u batched destroys queued",
			       a.fq_queued - b.fq_queued, DIS_BREUSE);
	if (!ret)
		ret = dis_batch_fill(t, p, holds);
	if (!ret)
		pr_info("batch-no-early-reuse: %u ranges %s, %u fresh ranges beside them, %u of %u IOVAs reused after the flush\n",
			DIS_BREUSE, holds ? "held by a batch" : "destroyed (no batching here)",
			2 * DIS_BREUSE, reused, DIS_BREUSE);
out:
	if (p)
		__free_page(p);
	kfree(r);
	return ret;
}

/* One linked one-page range. */
static int dis_batch_range(struct dis_test *t, struct dma_iova_state *st,
			   struct page *p)
{
	int ret;

	if (!dma_iova_try_alloc(t->dev, st, 0, PAGE_SIZE))
		return dis_fail(t, "try_alloc failed");
	ret = dma_iova_link(t->dev, st, page_to_phys(p), 0, PAGE_SIZE,
			    DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, st, 0, PAGE_SIZE);
	if (ret) {
		dma_iova_destroy(t->dev, st, PAGE_SIZE, DMA_TO_DEVICE, 0);
		return dis_fail(t, "link/sync: %d", ret);
	}
	return 0;
}

/* A batch that holds a range of the edu device, used for another device. */
static int dis_batch_two_devices(struct dis_test *t, struct page *p)
{
	struct dma_iova_state a, b;
	struct platform_device *pdev;
	DEFINE_DMA_IOVA_BATCH(batch);
	int ret;

	pdev = platform_device_register_simple("dis_selftest_batch",
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return dis_fail(t, "platform device: %ld", PTR_ERR(pdev));
	ret = dis_batch_range(t, &a, p);
	if (ret)
		goto out;
	ret = dis_batch_range(t, &b, p);
	if (ret) {
		dma_iova_destroy(t->dev, &a, PAGE_SIZE, DMA_TO_DEVICE, 0);
		goto out;
	}
	dma_iova_destroy_batched(t->dev, &a, PAGE_SIZE, DMA_TO_DEVICE, 0, &batch);
	/* the bugs: another device's destroy and flush with this batch */
	dma_iova_destroy_batched(&pdev->dev, &b, PAGE_SIZE, DMA_TO_DEVICE, 0,
				 &batch);
	dma_iova_batch_flush(&pdev->dev, &batch);
	if (batch.count != 1 || batch.dev != t->dev)
		ret = dis_fail(t, "refused calls changed the batch: %u ranges", batch.count);
	else if (!iommu_iova_to_phys(iommu_get_domain_for_dev(t->dev), b.addr))
		ret = dis_fail(t, "a refused destroy_batched unmapped the range");
	dma_iova_batch_flush(t->dev, &batch);
	/* still the caller's: a plain destroy takes it */
	dma_iova_destroy(t->dev, &b, PAGE_SIZE, DMA_TO_DEVICE, 0);
out:
	platform_device_unregister(pdev);
	return ret;
}

int dis_case_batch_misuse(struct dis_test *t)
{
	struct dis_shim_stats b, a;
	struct dma_iova_state st, copy;
	DEFINE_DMA_IOVA_BATCH(batch);
	struct page *p;
	bool holds;
	int ret;

	if (!t->expect_iova || DIS_API_NATIVE)
		return 1;
	ret = dis_shim_snapshot(t, &b);
	if (ret)
		return dis_fail(t, "no shim counters for the device: %d", ret);
	holds = b.batch_holds;
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	ret = dis_batch_range(t, &st, p);
	if (ret)
		goto out;
	copy = st;
	dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_TO_DEVICE, 0);
	/* a range the shim no longer holds, and a flush of nothing */
	dma_iova_destroy_batched(t->dev, &copy, PAGE_SIZE, DMA_TO_DEVICE, 0,
				 &batch);
	if (!dma_iova_batch_empty(&batch)) {
		ret = dis_fail(t, "a refused destroy_batched put a range in the batch");
		goto out;
	}
	dma_iova_batch_flush(t->dev, &batch);
	ret = dis_shim_snapshot(t, &a);
	if (ret)
		goto out;
	if (a.frees - b.frees != 1 || a.batch_destroys != b.batch_destroys ||
	    a.batch_flushes != b.batch_flushes) {
		ret = dis_fail(t, "refused calls counted: %llu frees, %llu batched, %llu flushes",
			       a.frees - b.frees, a.batch_destroys - b.batch_destroys,
			       a.batch_flushes - b.batch_flushes);
		goto out;
	}
	/* only a batch that holds something is tied to a device */
	if (holds)
		ret = dis_batch_two_devices(t, p);
	if (ret)
		goto out;
	ret = dis_shim_snapshot(t, &a);
	if (!ret && (a.allocs - b.allocs != a.frees - b.frees || a.batch_depth))
		ret = dis_fail(t, "%llu allocs, %llu frees, %lld held after the case",
			       a.allocs - b.allocs, a.frees - b.frees, a.batch_depth);
out:
	__free_page(p);
	return ret;
}

/* As a completion handler: under a spinlock_t taken with irqsave. */
static DEFINE_SPINLOCK(dis_batch_completion_lock);

int dis_case_batch_completion(struct dis_test *t)
{
	struct dma_iova_state st[8];
	DEFINE_DMA_IOVA_BATCH(batch);
	const char *step = NULL;
	unsigned long flags;
	unsigned int i, n;
	struct page *p;
	bool off;
	int ret = 0;

	if (!t->expect_iova)
		return 1;
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	for (n = 0; n < ARRAY_SIZE(st) && !ret; n++)
		ret = dis_batch_range(t, &st[n], p);
	if (ret)
		n--;
	spin_lock_irqsave(&dis_batch_completion_lock, flags);
	off = irqs_disabled();
	for (i = 0; i < n; i++) {
		dma_iova_destroy_batched(t->dev, &st[i], PAGE_SIZE,
					 DMA_TO_DEVICE, 0, &batch);
		if (irqs_disabled() != off && !step)
			step = "destroy_batched";
	}
	dma_iova_batch_flush(t->dev, &batch);
	if (irqs_disabled() != off && !step)
		step = "batch_flush";
	spin_unlock_irqrestore(&dis_batch_completion_lock, flags);
	__free_page(p);
	if (!ret && off == IS_ENABLED(CONFIG_PREEMPT_RT))
		ret = dis_fail(t, "spin_lock_irqsave left interrupts %s",
			       off ? "off" : "on");
	if (!ret && step)
		ret = dis_fail(t, "%s changed the interrupt state (%s before)",
			       step, off ? "off" : "on");
	return ret;
}

/**
 * dis_batch_leave - destroy n ranges into a batch and never flush it
 * @t: the test
 * @n: ranges
 *
 * For the shim's report of a batch left unflushed when its device goes
 * away.  The batch lives in @t (device-managed memory, freed before the
 * shim hears of the unbind: the shim must not need it then).
 *
 * Return: 0, or a negative errno.
 */
int dis_batch_leave(struct dis_test *t, unsigned int n)
{
	struct dma_iova_state st;
	unsigned int i;
	int ret = 0;

	if (!t->leak_page) {
		t->leak_page = alloc_page(GFP_KERNEL);
		if (!t->leak_page)
			return -ENOMEM;
	}
	for (i = 0; i < n && !ret; i++) {
		ret = dis_batch_range(t, &st, t->leak_page);
		if (!ret)
			dma_iova_destroy_batched(t->dev, &st, PAGE_SIZE,
						 DMA_TO_DEVICE, 0, &t->left);
	}
	return ret;
}
