// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: batch-stress.  Threads map ranges of 1-64 scattered pages
 * in a loop and destroy each either into their own batch or plainly, at
 * random; a batch is flushed after a random number (1-32) of batched
 * destroys, every destroy and flush made as a completion handler would,
 * under a spinlock_t taken with spin_lock_irqsave().  Each thread files
 * the IOVAs its batch holds in a table all threads share, and every range
 * handed out is checked against it: where the shim's batches hold ranges
 * (a strict domain), none may overlap one a batch still holds.  A thread
 * takes its entries out of the table before it flushes (after the flush
 * their IOVAs may come back at once).  Afterwards the shim's counters must
 * balance: every range held was flushed, nothing outstanding.
 */
#include <linux/completion.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_BSTRESS_THREADS	3
#define DIS_BSTRESS_POOL	64
#define DIS_BSTRESS_MAX_SEGS	64
#define DIS_BSTRESS_MAX_HELD	32	/* below DMA_IOVA_BATCH_MAX: no auto flush */

struct dis_bstress_held {
	u64 lo, hi;
};

struct dis_bstress {
	struct dis_test *t;
	struct page *pool[DIS_BSTRESS_POOL];
	unsigned long deadline;
	bool holds;
	spinlock_t lock;	/* protects held and nheld */
	struct dis_bstress_held held[DIS_BSTRESS_THREADS][DIS_BSTRESS_MAX_HELD];
	unsigned int nheld[DIS_BSTRESS_THREADS];
};

struct dis_bstress_thread {
	struct dis_bstress *s;
	unsigned int id;
	spinlock_t completion;	/* what a completion handler would hold */
	struct dma_iova_batch batch;
	unsigned int target;
	u64 ranges, batched, flushes;
	struct completion done;
	int ret;
	char why[128];
};

/* Does [lo, hi) overlap an IOVA some batch holds? */
static bool dis_bstress_overlaps(struct dis_bstress *s, u64 lo, u64 hi)
{
	unsigned int i, k;
	bool hit = false;

	spin_lock(&s->lock);
	for (i = 0; i < DIS_BSTRESS_THREADS && !hit; i++)
		for (k = 0; k < s->nheld[i] && !hit; k++)
			hit = lo < s->held[i][k].hi && s->held[i][k].lo < hi;
	spin_unlock(&s->lock);
	return hit;
}

static void dis_bstress_flush(struct dis_bstress_thread *th)
{
	struct dis_bstress *s = th->s;
	unsigned long flags;

	spin_lock(&s->lock);
	s->nheld[th->id] = 0;
	spin_unlock(&s->lock);
	spin_lock_irqsave(&th->completion, flags);
	dma_iova_batch_flush(s->t->dev, &th->batch);
	spin_unlock_irqrestore(&th->completion, flags);
	th->flushes++;
	th->target = 1 + get_random_u32() % DIS_BSTRESS_MAX_HELD;
}

static int dis_bstress_one(struct dis_bstress_thread *th,
			   struct iommu_domain *dom)
{
	struct dis_bstress *s = th->s;
	struct dma_iova_state st;
	unsigned int nseg, i, k, linked = 0;
	unsigned long flags;
	bool batched;
	int ret = 0;

	nseg = 1 + get_random_u32() % DIS_BSTRESS_MAX_SEGS;
	th->ranges++;
	if (!dma_iova_try_alloc(s->t->dev, &st, 0, nseg * PAGE_SIZE)) {
		snprintf(th->why, sizeof(th->why), "try_alloc of %u pages failed", nseg);
		return -ENOSPC;
	}
	if (s->holds && dis_bstress_overlaps(s, st.addr, st.addr + nseg * PAGE_SIZE)) {
		snprintf(th->why, sizeof(th->why),
			 "range %pad of %u pages overlaps one a batch holds",
			 &st.addr, nseg);
		ret = -EIO;
	}
	for (i = 0; i < nseg && !ret; i++) {
		ret = dma_iova_link(s->t->dev, &st,
				    page_to_phys(s->pool[(i * 7 + nseg) % DIS_BSTRESS_POOL]),
				    i * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (ret)
			snprintf(th->why, sizeof(th->why), "link %u of %u: %d", i, nseg, ret);
		else
			linked++;
	}
	if (!ret)
		ret = dma_iova_sync(s->t->dev, &st, 0, nseg * PAGE_SIZE);
	if (!ret) {
		k = get_random_u32() % nseg;
		if (iommu_iova_to_phys(dom, st.addr + k * PAGE_SIZE) !=
		    page_to_phys(s->pool[(k * 7 + nseg) % DIS_BSTRESS_POOL])) {
			snprintf(th->why, sizeof(th->why), "segment %u of %u misplaced",
				 k, nseg);
			ret = -EIO;
		}
	}
	batched = get_random_u32() & 1;
	if (batched && s->holds) {
		spin_lock(&s->lock);
		s->held[th->id][s->nheld[th->id]].lo = st.addr;
		s->held[th->id][s->nheld[th->id]++].hi = st.addr + nseg * PAGE_SIZE;
		spin_unlock(&s->lock);
	}
	spin_lock_irqsave(&th->completion, flags);
	if (batched)
		dma_iova_destroy_batched(s->t->dev, &st, linked * PAGE_SIZE,
					 DMA_TO_DEVICE, 0, &th->batch);
	else
		dma_iova_destroy(s->t->dev, &st, linked * PAGE_SIZE,
				 DMA_TO_DEVICE, 0);
	spin_unlock_irqrestore(&th->completion, flags);
	if (batched) {
		th->batched++;
		if (!--th->target)
			dis_bstress_flush(th);
	}
	return ret;
}

static int dis_bstress_thread(void *arg)
{
	struct dis_bstress_thread *th = arg;
	struct iommu_domain *dom = iommu_get_domain_for_dev(th->s->t->dev);
	int ret = 0;

	th->target = 1 + get_random_u32() % DIS_BSTRESS_MAX_HELD;
	while (time_before(jiffies, th->s->deadline) && !ret) {
		ret = dis_bstress_one(th, dom);
		cond_resched();
	}
	dis_bstress_flush(th);
	th->ret = ret;
	complete(&th->done);
	return 0;
}

/* Where the shim serves the device, its counters must balance the threads'. */
static int dis_bstress_balance(struct dis_test *t, struct dis_shim_stats *b,
			       u64 batched, u64 flushes)
{
	struct dis_shim_stats a;
	u64 held;
	int ret;

	ret = dis_shim_snapshot(t, &a);
	if (ret)
		return dis_fail(t, "reading the shim's counters: %d", ret);
	held = a.batch_held - b->batch_held;
	if (a.batch_destroys - b->batch_destroys != batched)
		return dis_fail(t, "shim counted %llu batched destroys, the threads %llu",
				a.batch_destroys - b->batch_destroys, batched);
	if (held != (b->batch_holds ? batched : 0))
		return dis_fail(t, "%llu of %llu batched destroys held (holds: %llu)",
				held, batched, b->batch_holds);
	if (a.batch_flushed - b->batch_flushed != held || a.batch_depth)
		return dis_fail(t, "%llu ranges held, %llu flushed, %lld still held",
				held, a.batch_flushed - b->batch_flushed,
				a.batch_depth);
	if (a.batch_flushes - b->batch_flushes > flushes)
		return dis_fail(t, "%llu flushes counted, the threads made %llu",
				a.batch_flushes - b->batch_flushes, flushes);
	if (a.outstanding)
		return dis_fail(t, "%lld ranges outstanding", a.outstanding);
	pr_info("batch-stress: shim: %llu held = %llu flushed in %llu flushes\n",
		held, a.batch_flushed - b->batch_flushed,
		a.batch_flushes - b->batch_flushes);
	return 0;
}

int dis_case_batch_stress(struct dis_test *t)
{
	struct dis_bstress_thread *th;
	struct task_struct *task;
	struct dis_shim_stats b;
	u64 ranges = 0, batched = 0, flushes = 0;
	struct dis_bstress *s;
	bool stats;
	unsigned int i;
	int ret = 0;

	if (!t->expect_iova)
		return 1;
	stats = !dis_shim_snapshot(t, &b);
	if (!stats && !DIS_API_NATIVE)
		return dis_fail(t, "no shim counters for the device");
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	th = kcalloc(DIS_BSTRESS_THREADS, sizeof(*th), GFP_KERNEL);
	if (!s || !th || dis_alloc_pages(s->pool, DIS_BSTRESS_POOL)) {
		kfree(th);
		kfree(s);
		return -ENOMEM;
	}
	s->t = t;
	s->holds = stats && b.batch_holds;
	spin_lock_init(&s->lock);
	s->deadline = jiffies + msecs_to_jiffies(t->stress_ms);
	for (i = 0; i < DIS_BSTRESS_THREADS; i++) {
		th[i].s = s;
		th[i].id = i;
		spin_lock_init(&th[i].completion);
		dma_iova_batch_init(&th[i].batch);
		init_completion(&th[i].done);
		task = kthread_run(dis_bstress_thread, &th[i], "dis_bstress/%u", i);
		if (IS_ERR(task)) {
			th[i].ret = PTR_ERR(task);
			complete(&th[i].done);
		}
	}
	for (i = 0; i < DIS_BSTRESS_THREADS; i++) {
		wait_for_completion(&th[i].done);
		ranges += th[i].ranges;
		batched += th[i].batched;
		flushes += th[i].flushes;
		if (th[i].ret && !ret)
			ret = dis_fail(t, "thread %u: %s", i,
				       th[i].why[0] ? th[i].why : "error");
	}
	dis_free_pages(s->pool, DIS_BSTRESS_POOL);
	kfree(th);
	kfree(s);
	if (!ret && stats)
		ret = dis_bstress_balance(t, &b, batched, flushes);
	if (!ret)
		pr_info("batch-stress: %llu ranges in %u ms, %u threads, %llu destroyed batched, %llu flushes, holds: %d\n",
			ranges, t->stress_ms, DIS_BSTRESS_THREADS, batched,
			flushes, stats && b.batch_holds);
	return ret;
}
