// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: in a lazy (DMA-FQ) domain an IOVA is never handed out
 * again before the deferred flush that covers its old mapping (issue 8,
 * scenario 7).
 *
 * Two threads allocate, link and destroy ranges of several sizes in a tight
 * loop.  Every destroyed range is recorded with the shim's flush counter
 * (fq_flushes of the device, read from its debugfs file) as it was just
 * before the destroy.  Every range handed out is checked against the
 * records: overlapping one whose flush count has not advanced since means
 * the IOVA came back while a stale IOTLB entry could still translate it.
 * The counter is bumped only after a flush has given its IOVAs back, so an
 * overlap can be seen a moment before the bump: a suspect overlap is a
 * failure only if the counter has still not moved after DIS_REUSE_GRACE_MS.
 * The case also requires that IOVAs were in fact reused after flushes, so
 * that it cannot pass by never exercising the rule.
 *
 * Only where the shim serves the device and reports its domain as lazy: the
 * kernel's own dma_iova_destroy() flushes at once (mainline 7.x), so there
 * is no deferral to check.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_REUSE_MS		800
#define DIS_REUSE_HIST		1024	/* more than the shim's queue holds */
#define DIS_REUSE_GRACE_MS	50
#define DIS_REUSE_THREADS	2

struct dis_reuse_rec {
	u64 lo, hi;
	u64 flushes;		/* fq_flushes just before the destroy */
};

struct dis_reuse {
	struct dis_test *t;
	struct page *page;
	unsigned long deadline;
	spinlock_t lock;	/* protects everything below */
	struct dis_reuse_rec hist[DIS_REUSE_HIST];
	unsigned int head, used;
	unsigned long handed, reused, waited;
};

struct dis_reuse_thread {
	struct dis_reuse *r;
	struct dis_shim_file sf;
	struct completion done;
	int ret;
	char why[128];
};

static const unsigned int dis_reuse_sizes[] = { 1, 2, 3, 8, 16, 32, 64, 200 };

static int dis_reuse_flushes(struct dis_reuse_thread *rt, u64 *flushes)
{
	struct dis_shim_stats s;
	int ret = dis_shim_read(&rt->sf, &s);

	if (ret) {
		snprintf(rt->why, sizeof(rt->why), "reading the shim's counters: %d", ret);
		return ret;
	}
	*flushes = s.fq_flushes;
	return 0;
}

/* An overlap with a range whose flush count is not behind @flushes? */
static bool dis_reuse_suspect(struct dis_reuse *r, u64 lo, u64 hi, u64 flushes,
			      struct dis_reuse_rec *out)
{
	struct dis_reuse_rec *e;
	bool found = false;
	unsigned int i;

	spin_lock(&r->lock);
	r->handed++;
	for (i = 0; i < r->used; i++) {
		e = &r->hist[i];
		if (e->lo >= hi || lo >= e->hi)
			continue;
		if (e->flushes >= flushes) {
			if (!found || e->flushes > out->flushes)
				*out = *e;
			found = true;
		} else {
			r->reused++;
		}
	}
	spin_unlock(&r->lock);
	return found;
}

/* The IOVA came back early unless the flush counter moves soon. */
static int dis_reuse_settle(struct dis_reuse_thread *rt, u64 lo, u64 hi,
			    struct dis_reuse_rec *e)
{
	unsigned int ms;
	u64 now = 0;
	int ret;

	for (ms = 0; ms <= DIS_REUSE_GRACE_MS; ms++) {
		ret = dis_reuse_flushes(rt, &now);
		if (ret)
			return ret;
		if (now > e->flushes) {
			spin_lock(&rt->r->lock);
			rt->r->waited++;
			spin_unlock(&rt->r->lock);
			return 0;
		}
		usleep_range(1000, 1100);
	}
	snprintf(rt->why, sizeof(rt->why),
		 "IOVA [%llx,%llx) reused, [%llx,%llx) destroyed at flush %llu unflushed (%llu after %u ms)",
		 lo, hi, e->lo, e->hi, e->flushes, now, DIS_REUSE_GRACE_MS);
	return -EIO;
}

static int dis_reuse_one(struct dis_reuse_thread *rt)
{
	struct dis_reuse *r = rt->r;
	struct dis_test *t = r->t;
	struct dis_reuse_rec e;
	struct dma_iova_state st;
	unsigned int npages;
	u64 lo, hi, flushes;
	int ret;

	npages = dis_reuse_sizes[get_random_u32() % ARRAY_SIZE(dis_reuse_sizes)];
	if (!dma_iova_try_alloc(t->dev, &st, 0, npages * PAGE_SIZE)) {
		snprintf(rt->why, sizeof(rt->why), "try_alloc of %u pages failed", npages);
		return -ENOSPC;
	}
	/* a linked range goes through the deferred queue, an empty one not */
	ret = dma_iova_link(t->dev, &st, page_to_phys(r->page), 0, PAGE_SIZE,
			    DMA_TO_DEVICE, 0);
	if (ret) {
		dma_iova_free(t->dev, &st);
		snprintf(rt->why, sizeof(rt->why), "link: %d", ret);
		return ret;
	}
	lo = st.addr;
	hi = lo + (u64)npages * PAGE_SIZE;
	ret = dis_reuse_flushes(rt, &flushes);
	if (!ret && dis_reuse_suspect(r, lo, hi, flushes, &e))
		ret = dis_reuse_settle(rt, lo, hi, &e);
	if (!ret)
		ret = dis_reuse_flushes(rt, &flushes);
	dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (ret)
		return ret;
	spin_lock(&r->lock);
	r->hist[r->head] = (struct dis_reuse_rec){ lo, hi, flushes };
	r->head = (r->head + 1) % DIS_REUSE_HIST;
	r->used = min(r->used + 1, (unsigned int)DIS_REUSE_HIST);
	spin_unlock(&r->lock);
	return 0;
}

static int dis_reuse_thread(void *arg)
{
	struct dis_reuse_thread *rt = arg;
	int ret = 0;

	while (!ret && time_before(jiffies, rt->r->deadline)) {
		ret = dis_reuse_one(rt);
		cond_resched();
	}
	rt->ret = ret;
	complete(&rt->done);
	return 0;
}

int dis_case_lazy_reuse(struct dis_test *t)
{
	struct dis_reuse_thread *rt;
	struct dis_shim_stats s0, s1;
	struct task_struct *task;
	struct dis_shim_file *sf;
	struct dis_reuse *r;
	unsigned int i;
	int ret;

	if (!t->expect_iova)
		return 1;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	rt = kcalloc(DIS_REUSE_THREADS, sizeof(*rt), GFP_KERNEL);
	sf = kmalloc(sizeof(*sf), GFP_KERNEL);
	if (!r || !rt || !sf) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = dis_shim_open(t, sf);
	if (ret == -ENOENT) {
		pr_info("lazy-no-early-reuse: the kernel's own API flushes at destroy: nothing deferred to check\n");
		ret = 1;
		goto out_free;
	}
	if (ret)
		goto out_free;
	ret = dis_shim_read(sf, &s0);
	if (ret)
		goto out_close;
	if (!s0.lazy) {
		ret = 1;	/* strict: an IOVA may come back at once */
		goto out_close;
	}
	if (s0.dma_ops_defer) {
		/* 5.10 VT-d: its own flush queue, whose flushes are not counted */
		pr_info("lazy-no-early-reuse: freed IOVAs wait in the DMA ops' own flush queue: no shim queue to check\n");
		ret = 1;
		goto out_close;
	}
	r->page = alloc_page(GFP_KERNEL);
	if (!r->page) {
		ret = -ENOMEM;
		goto out_close;
	}
	r->t = t;
	spin_lock_init(&r->lock);
	r->deadline = jiffies + msecs_to_jiffies(DIS_REUSE_MS);
	for (i = 0; i < DIS_REUSE_THREADS; i++) {
		rt[i].r = r;
		rt[i].sf.f = sf->f;	/* one file, a buffer per thread */
		init_completion(&rt[i].done);
		task = kthread_run(dis_reuse_thread, &rt[i], "dis_reuse/%u", i);
		if (IS_ERR(task)) {
			rt[i].ret = PTR_ERR(task);
			complete(&rt[i].done);
		}
	}
	for (i = 0; i < DIS_REUSE_THREADS; i++) {
		wait_for_completion(&rt[i].done);
		if (rt[i].ret && !ret)
			ret = dis_fail(t, "thread %u: %s", i,
				       rt[i].why[0] ? rt[i].why : "error");
	}
	__free_page(r->page);
	if (!ret)
		ret = dis_shim_read(sf, &s1);
	if (ret)
		goto out_close;
	if (s1.fq_flushes == s0.fq_flushes || !r->reused) {
		ret = dis_fail(t, "nothing exercised: %llu flushes, %lu of %lu IOVAs reused",
			       s1.fq_flushes - s0.fq_flushes, r->reused, r->handed);
		goto out_close;
	}
	pr_info("lazy-no-early-reuse: %lu ranges in %u ms, %lu overlaps with earlier ranges all after their flush (%lu seen just before the counter moved), %llu flushes\n",
		r->handed, DIS_REUSE_MS, r->reused, r->waited,
		s1.fq_flushes - s0.fq_flushes);
out_close:
	dis_shim_close(sf);
out_free:
	kfree(sf);
	kfree(rt);
	kfree(r);
	return ret;
}
