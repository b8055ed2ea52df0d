// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: stress (issue 4).  Two threads map ranges of 1-256
 * scattered pages in a loop, each checked at a random segment.
 *
 * The plain case (run at bind time) requires every call to succeed.  The
 * injected run (debugfs stress_injected, with the shim's fail_alloc_every /
 * fail_link_every set by the guest script) takes the failures a driver
 * must handle: a try_alloc that falls back is served by dma_map_phys per
 * segment, a failed link unwinds what was linked with dma_iova_destroy().
 * Afterwards the shim's counters must match what the threads did, call for
 * call and byte for byte, and nothing may be outstanding or queued.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_STRESS_THREADS	2
#define DIS_STRESS_POOL		64
#define DIS_STRESS_FALLBACK_SEGS 4	/* segments mapped on the fallback path */

/* What the threads did, to hold against the shim's counters. */
struct dis_stress_tally {
	u64 ranges;
	u64 allocs;
	u64 fallbacks;
	u64 links;
	u64 link_errors;
	u64 unlinks;
	u64 bytes;
};

struct dis_stress {
	struct dis_test *t;
	struct page **pool;
	unsigned int npool;
	unsigned long deadline;
	bool inject;
	bool nospace_ok;
	struct dis_stress_tally n;
	int ret;
	char why[128];
	struct completion done;
};

static struct page *dis_stress_page(struct dis_stress *s, unsigned int nseg,
				    unsigned int i)
{
	return s->pool[(i * 7 + nseg) % s->npool];
}

/* try_alloc fell back (injected): map a few segments one by one. */
static int dis_stress_fallback(struct dis_stress *s, unsigned int nseg)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(s->t->dev);
	unsigned int i, n = min_t(unsigned int, nseg, DIS_STRESS_FALLBACK_SEGS);
	dma_addr_t a[DIS_STRESS_FALLBACK_SEGS];
	phys_addr_t phys;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		phys = page_to_phys(dis_stress_page(s, nseg, i));
		a[i] = dma_map_phys(s->t->dev, phys, PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (dma_mapping_error(s->t->dev, a[i])) {
			/* the same full space fails the regular API cleanly */
			if (s->nospace_ok)
				break;
			snprintf(s->why, sizeof(s->why), "fallback dma_map_phys failed");
			ret = -ENOMEM;
		} else if (iommu_iova_to_phys(dom, a[i]) != phys) {
			snprintf(s->why, sizeof(s->why), "fallback mapping misplaced");
			ret = -EIO;
			i++;
		}
		if (ret)
			break;
	}
	while (i--)
		dma_unmap_phys(s->t->dev, a[i], PAGE_SIZE, DMA_TO_DEVICE, 0);
	return ret;
}

static int dis_stress_one(struct dis_stress *s, struct iommu_domain *dom)
{
	struct dis_test *t = s->t;
	struct dma_iova_state st;
	unsigned int nseg, i, k;
	int ret = 0;

	nseg = 1 + get_random_u32() % 256;
	s->n.ranges++;
	if (!dma_iova_try_alloc(t->dev, &st, 0, nseg * PAGE_SIZE)) {
		/*
		 * Only injected failures are expected, and running out of space
		 * where freed IOVAs wait in a queue the shim cannot flush on
		 * demand (5.10 VT-d's own): the caller falls back then.
		 */
		if (!s->inject && !s->nospace_ok) {
			snprintf(s->why, sizeof(s->why), "try_alloc of %u pages failed", nseg);
			return -ENOSPC;
		}
		s->n.fallbacks++;
		return dis_stress_fallback(s, nseg);
	}
	s->n.allocs++;
	for (i = 0; i < nseg; i++) {
		ret = dma_iova_link(t->dev, &st,
				    page_to_phys(dis_stress_page(s, nseg, i)),
				    i * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (ret)
			break;
		s->n.links++;
		s->n.bytes += PAGE_SIZE;
	}
	if (ret && s->inject && ret == -ENOMEM) {
		/* an injected link failure: unwind what was linked */
		s->n.link_errors++;
		ret = 0;
	} else if (ret) {
		snprintf(s->why, sizeof(s->why), "link %u of %u pages: %d", i, nseg, ret);
	} else {
		ret = dma_iova_sync(t->dev, &st, 0, nseg * PAGE_SIZE);
		if (ret)
			snprintf(s->why, sizeof(s->why), "sync of %u pages: %d", nseg, ret);
	}
	if (!ret && i == nseg) {
		k = get_random_u32() % nseg;
		if (iommu_iova_to_phys(dom, st.addr + k * PAGE_SIZE) !=
		    page_to_phys(dis_stress_page(s, nseg, k))) {
			snprintf(s->why, sizeof(s->why),
				 "segment %u of %u misplaced", k, nseg);
			ret = -EIO;
		}
	}
	dma_iova_destroy(t->dev, &st, i * PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (i)
		s->n.unlinks++;
	return ret;
}

static int dis_stress_thread(void *arg)
{
	struct dis_stress *s = arg;
	struct iommu_domain *dom = iommu_get_domain_for_dev(s->t->dev);
	int ret = 0;

	while (time_before(jiffies, s->deadline) && !ret) {
		ret = dis_stress_one(s, dom);
		cond_resched();
	}
	s->ret = ret;
	complete(&s->done);
	return 0;
}

/* Run the threads for ms; sum what they did into *sum. */
static int dis_stress_run(struct dis_test *t, unsigned int ms, bool inject,
			  struct dis_stress_tally *sum)
{
	struct dis_stress *s;
	struct page *pool[DIS_STRESS_POOL];
	struct task_struct *task;
	struct dis_shim_stats st;
	bool nospace_ok;
	unsigned int i;
	int ret = 0;

	nospace_ok = !dis_shim_snapshot(t, &st) && st.dma_ops_defer;
	s = kcalloc(DIS_STRESS_THREADS, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (dis_alloc_pages(pool, DIS_STRESS_POOL)) {
		kfree(s);
		return -ENOMEM;
	}
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < DIS_STRESS_THREADS; i++) {
		s[i].t = t;
		s[i].pool = pool;
		s[i].npool = DIS_STRESS_POOL;
		s[i].inject = inject;
		s[i].nospace_ok = nospace_ok;
		s[i].deadline = jiffies + msecs_to_jiffies(ms);
		init_completion(&s[i].done);
		task = kthread_run(dis_stress_thread, &s[i], "dis_stress/%u", i);
		if (IS_ERR(task)) {
			s[i].ret = PTR_ERR(task);
			complete(&s[i].done);
		}
	}
	for (i = 0; i < DIS_STRESS_THREADS; i++) {
		wait_for_completion(&s[i].done);
		sum->ranges += s[i].n.ranges;
		sum->allocs += s[i].n.allocs;
		sum->fallbacks += s[i].n.fallbacks;
		sum->links += s[i].n.links;
		sum->link_errors += s[i].n.link_errors;
		sum->unlinks += s[i].n.unlinks;
		sum->bytes += s[i].n.bytes;
		if (s[i].ret && !ret)
			ret = dis_fail(t, "thread %u: %s", i,
				       s[i].why[0] ? s[i].why : "error");
	}
	dis_free_pages(pool, DIS_STRESS_POOL);
	kfree(s);
	return ret;
}

int dis_case_stress(struct dis_test *t)
{
	struct dis_stress_tally sum;
	int ret;

	if (!t->expect_iova)
		return 1;
	ret = dis_stress_run(t, t->stress_ms, false, &sum);
	if (!ret)
		pr_info("stress: %llu ranges of 1-256 pages in %u ms, %u threads, %llu fell back for want of space\n",
			sum.ranges, t->stress_ms, DIS_STRESS_THREADS,
			sum.fallbacks);
	return ret;
}

/* One counter of the shim against the threads' own count. */
#define dis_balance(t, name, got, want) ({				\
	u64 __got = (got), __want = (want);				\
	__got == __want ? 0 :						\
	dis_fail(t, "%s: shim counted %llu, the threads %llu", name,	\
		 __got, __want);					\
})

/**
 * dis_stress_injected - the stress with the shim's fault injection on
 * @t: the test
 * @ms: how long
 *
 * The caller (the guest script) sets the shim's fail_alloc_every and
 * fail_link_every first; the run fails if neither kind of failure was seen.
 *
 * Return: 0, or a negative errno with the reason in t->why.
 */
int dis_stress_injected(struct dis_test *t, unsigned int ms)
{
	struct dis_shim_stats a, b;
	struct dis_stress_tally n;
	unsigned int waited = 0;
	int ret;

	ret = dis_shim_snapshot(t, &b);
	if (ret)
		return dis_fail(t, "no shim counters for the device: %d", ret);
	ret = dis_stress_run(t, ms, true, &n);
	if (ret)
		return ret;
	/* a lazy domain's deferred frees drain within 10 ms */
	for (;;) {
		ret = dis_shim_snapshot(t, &a);
		if (ret || !a.fq_depth || waited >= 1000)
			break;
		msleep(20);
		waited += 20;
	}
	if (ret)
		return ret;
	if (!n.fallbacks || !n.link_errors)
		return dis_fail(t, "nothing injected: %llu fallbacks, %llu link errors",
				n.fallbacks, n.link_errors);
	ret = dis_balance(t, "allocs", a.allocs - b.allocs, n.allocs);
	if (!ret)
		ret = dis_balance(t, "frees", a.frees - b.frees, n.allocs);
	if (!ret)
		ret = dis_balance(t, "links", a.links - b.links, n.links);
	if (!ret)
		ret = dis_balance(t, "link_errors", a.link_errors - b.link_errors,
				  n.link_errors);
	if (!ret)
		ret = dis_balance(t, "bytes_mapped", a.bytes_mapped - b.bytes_mapped,
				  n.bytes);
	if (!ret)
		ret = dis_balance(t, "unlinks", a.unlinks - b.unlinks, n.unlinks);
	/* where running out of space is allowed (above), it falls back too */
	if (!ret)
		ret = dis_balance(t, "fallback_injected (+nospace)",
				  a.fb_injected - b.fb_injected +
				  (b.dma_ops_defer ? a.fb_nospace - b.fb_nospace : 0),
				  n.fallbacks);
	if (!ret && (a.outstanding || a.fq_depth))
		ret = dis_fail(t, "afterwards %lld ranges outstanding, %llu queued",
			       a.outstanding, a.fq_depth);
	if (!ret)
		pr_info("stress-injected: %llu ranges in %u ms: %llu fell back, %llu link errors unwound; allocs = frees = %llu, %llu links = %llu bytes, %llu unlinks, nothing outstanding\n",
			n.ranges, ms, n.fallbacks, n.link_errors, n.allocs,
			n.links, n.bytes, n.unlinks);
	return ret;
}
