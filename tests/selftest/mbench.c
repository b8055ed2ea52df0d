// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: mapping microbenchmark.  A benchmark, not a test: it
 * measures, and nothing here passes or fails on a figure.
 *
 * The cost of mapping and unmapping one request of N scattered 4 KiB pages
 * on the edu device (no device DMA happens), per method:
 *
 *   map_page         dma_map_page() + dma_unmap_page() per segment
 *   sgtable          dma_map_sgtable() + dma_unmap_sgtable() of a table
 *                    built beforehand
 *   sgtable_fill     filling the table (sg_init_table, sg_set_page per
 *                    segment, as blk_rq_map_sg does), then as sgtable: what
 *                    a block driver on the regular API pays per request
 *   shim_two_step    the shim's exports: try_alloc, a link per segment,
 *                    sync, destroy (per-segment map_phys where try_alloc
 *                    says no: the fallback)
 *   native_two_step  the same with the kernel's own API, if it has one
 *
 * for N = 1, 4, 8, 32, 128 and 1 or 2 threads (on different CPUs, started
 * together) mapping at once.  Every repeat batch times each method in turn,
 * in an order rotated from batch to batch, so that drift hits all methods
 * alike; a batch maps about the same number of pages whatever N.
 *
 * Commands written to /sys/kernel/debug/dis_selftest/mbench:
 *
 *   run REPEATS PAGES        REPEATS batches of about PAGES pages per method
 *   count METHOD SEGS N      N requests of one method, one thread, untimed,
 *                            for the host to count IOTLB invalidations
 *
 * Reading the file gives the results of the last run:
 *
 *   mbench native=0|1 translated=0|1 mask=kept|raised repeats=R pages=P cpus=C
 *   cell METHOD THREADS SEGS REQUESTS iova|fallback|- NS NS ...
 *   end late_starts=L
 *
 * with one figure per batch, in batch order: nanoseconds per request and
 * thread (the batch's time over its requests).
 *
 * The edu device can only address 28 bits.  Where nothing translates its
 * DMA (no IOMMU, identity domain) and a page lies beyond that, the DMA mask
 * is raised to 64 bits for the command, as kernel/dma/map_benchmark.c does,
 * and restored after it.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "mbench.h"

enum dis_mb_method {
	DIS_MB_PAGE,
	DIS_MB_SGT,
	DIS_MB_SGT_FILL,
	DIS_MB_SHIM,
	DIS_MB_NATIVE,
	DIS_MB_NR
};

static const char * const dis_mb_names[DIS_MB_NR] = {
	[DIS_MB_PAGE] = "map_page",
	[DIS_MB_SGT] = "sgtable",
	[DIS_MB_SGT_FILL] = "sgtable_fill",
	[DIS_MB_SHIM] = "shim_two_step",
	[DIS_MB_NATIVE] = "native_two_step",
};

static const unsigned int dis_mb_segs[] = { 1, 4, 8, 32, 128 };

#define DIS_MB_THREADS		2
#define DIS_MB_MAX_REPEATS	64
#define DIS_MB_MAX_PAGES	65536
#define DIS_MB_MAX_COUNT	100000
#define DIS_MB_OUT_SIZE		(64 * 1024)

/* What the threads of one batch do. */
struct dis_mb_job {
	struct device *dev;
	enum dis_mb_method method;
	unsigned int nseg;
	unsigned int requests;
	unsigned int nthr;
	atomic_t arrived;
};

/*
 * A thread bound to one CPU for the whole command: it runs a batch each
 * time @gen moves on, then completes @done.
 */
struct dis_mb_thread {
	struct task_struct *task;
	wait_queue_head_t wait;
	unsigned int gen, seen;
	struct completion done;
	struct dis_mb_job *job;
	struct page *pages[DIS_MB_MAX_SEGS];
	dma_addr_t addr[DIS_MB_MAX_SEGS];
	struct scatterlist prebuilt[DIS_MB_MAX_SEGS];
	struct scatterlist fill[DIS_MB_MAX_SEGS];
	u64 ns;
	bool iova;
	int err;
};

struct dis_mb {
	struct dis_mb_job job;
	struct dis_mb_thread thr[DIS_MB_THREADS];
	unsigned int ncpus;
	unsigned int late_starts;
	bool raised;
	u64 old_mask, old_coherent;
};

/* The last run's results; callers serialise (main.c's dis_lock). */
static char *dis_mb_out;
static size_t dis_mb_len;

static __printf(1, 2) void dis_mb_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dis_mb_len += vscnprintf(dis_mb_out + dis_mb_len,
				 DIS_MB_OUT_SIZE - dis_mb_len, fmt, ap);
	va_end(ap);
}

static void dis_mb_fill(struct scatterlist *sgl, struct page **pages,
			unsigned int nseg)
{
	struct scatterlist *sg;
	unsigned int i;

	sg_init_table(sgl, nseg);
	for_each_sg(sgl, sg, nseg, i)
		sg_set_page(sg, pages[i], PAGE_SIZE, 0);
}

/* One request mapped and unmapped with method @m. */
static int dis_mb_request(struct dis_mb_thread *th, enum dis_mb_method m,
			  unsigned int nseg)
{
	struct device *dev = th->job->dev;
	struct sg_table sgt = { .orig_nents = nseg };
	unsigned int i;
	int ret = 0;

	switch (m) {
	case DIS_MB_PAGE:
		for (i = 0; i < nseg; i++) {
			th->addr[i] = dma_map_page(dev, th->pages[i], 0, PAGE_SIZE,
						   DMA_TO_DEVICE);
			if (dma_mapping_error(dev, th->addr[i])) {
				ret = -ENOMEM;
				break;
			}
		}
		while (i--)
			dma_unmap_page(dev, th->addr[i], PAGE_SIZE, DMA_TO_DEVICE);
		return ret;
	case DIS_MB_SGT:
		sgt.sgl = th->prebuilt;
		break;
	case DIS_MB_SGT_FILL:
		dis_mb_fill(th->fill, th->pages, nseg);
		sgt.sgl = th->fill;
		break;
	case DIS_MB_SHIM:
		return dis_mb_shim_request(dev, th->pages, nseg, th->addr,
					   &th->iova);
	case DIS_MB_NATIVE:
		return dis_mb_native_request(dev, th->pages, nseg, th->addr,
					     &th->iova);
	default:
		return -EINVAL;
	}
	ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	if (!ret)
		dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	return ret;
}

static void dis_mb_work(struct dis_mb_thread *th)
{
	struct dis_mb_job *job = th->job;
	unsigned int i;
	u64 t0;

	/* the threads of a batch start together (or after a second) */
	atomic_inc(&job->arrived);
	t0 = ktime_get_ns();
	while (atomic_read(&job->arrived) < job->nthr &&
	       ktime_get_ns() - t0 < NSEC_PER_SEC)
		cpu_relax();
	th->err = 0;
	t0 = ktime_get_ns();
	for (i = 0; i < job->requests && !th->err; i++) {
		th->err = dis_mb_request(th, job->method, job->nseg);
		cond_resched();
	}
	th->ns = ktime_get_ns() - t0;
}

static int dis_mb_thread_fn(void *arg)
{
	struct dis_mb_thread *th = arg;
	unsigned int gen;

	for (;;) {
		if (wait_event_interruptible(th->wait,
					     READ_ONCE(th->gen) != th->seen ||
					     kthread_should_stop()))
			continue;
		if (kthread_should_stop())
			return 0;
		/* pairs with the release in dis_mb_batch(): the job is written */
		gen = smp_load_acquire(&th->gen);
		if (gen == th->seen)
			continue;
		th->seen = gen;
		dis_mb_work(th);
		complete(&th->done);
	}
}

/**
 * dis_mb_batch - time one batch of one method
 * @mb: the benchmark
 * @m: the method
 * @nseg: segments per request
 * @requests: requests per thread
 * @nthr: threads, each on its own CPU
 * @ns: set to the nanoseconds per request and thread
 *
 * Return: 0, or the first error a thread met.
 */
static int dis_mb_batch(struct dis_mb *mb, enum dis_mb_method m,
			unsigned int nseg, unsigned int requests,
			unsigned int nthr, u64 *ns)
{
	u64 sum = 0;
	unsigned int i;
	int err = 0;

	mb->job.method = m;
	mb->job.nseg = nseg;
	mb->job.requests = requests;
	mb->job.nthr = nthr;
	atomic_set(&mb->job.arrived, 0);
	for (i = 0; i < nthr; i++) {
		reinit_completion(&mb->thr[i].done);
		/* publish the job: pairs with the thread's acquire */
		smp_store_release(&mb->thr[i].gen, mb->thr[i].gen + 1);
		wake_up(&mb->thr[i].wait);
	}
	for (i = 0; i < nthr; i++) {
		wait_for_completion(&mb->thr[i].done);
		if (mb->thr[i].err && !err)
			err = mb->thr[i].err;
		sum += mb->thr[i].ns;
	}
	if (atomic_read(&mb->job.arrived) < nthr)
		mb->late_starts++;
	if (ns)
		*ns = div_u64(sum, nthr * requests);
	return err;
}

static bool dis_mb_translated(struct device *dev)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);

	return dom && (dom->type & __IOMMU_DOMAIN_PAGING);
}

/* Raise the DMA mask if direct mapping could not reach every page. */
static int dis_mb_mask(struct dis_mb *mb, struct device *dev)
{
	u64 mask = dma_get_mask(dev);
	unsigned int i, k;
	bool beyond = false;
	int ret;

	if (dis_mb_translated(dev))
		return 0;
	for (i = 0; i < DIS_MB_THREADS; i++)
		for (k = 0; k < DIS_MB_MAX_SEGS; k++)
			if (page_to_phys(mb->thr[i].pages[k]) + PAGE_SIZE - 1 > mask)
				beyond = true;
	if (!beyond)
		return 0;
	mb->old_mask = mask;
	mb->old_coherent = dev->coherent_dma_mask;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	mb->raised = true;
	return 0;
}

static void dis_mb_free(struct dis_mb *mb, struct device *dev)
{
	unsigned int i, k;

	if (mb->raised &&
	    (dma_set_mask(dev, mb->old_mask) ||
	     dma_set_coherent_mask(dev, mb->old_coherent)))
		dev_err(dev, "could not restore the DMA mask\n");
	for (i = 0; i < DIS_MB_THREADS; i++) {
		if (mb->thr[i].task)
			kthread_stop(mb->thr[i].task);
		for (k = 0; k < DIS_MB_MAX_SEGS; k++)
			if (mb->thr[i].pages[k])
				__free_page(mb->thr[i].pages[k]);
	}
	kvfree(mb);
}

/* Per thread DIS_MB_MAX_SEGS pages allocated one by one, then shuffled. */
static struct dis_mb *dis_mb_alloc(struct device *dev)
{
	struct dis_mb_thread *th;
	struct dis_mb *mb;
	unsigned int i, k, j;
	int cpu;

	mb = kvzalloc(sizeof(*mb), GFP_KERNEL);
	if (!mb)
		return NULL;
	mb->job.dev = dev;
	for (i = 0; i < DIS_MB_THREADS; i++) {
		th = &mb->thr[i];
		th->job = &mb->job;
		init_waitqueue_head(&th->wait);
		init_completion(&th->done);
		for (k = 0; k < DIS_MB_MAX_SEGS; k++) {
			th->pages[k] = alloc_page(GFP_KERNEL);
			if (!th->pages[k])
				goto fail;
		}
		for (k = DIS_MB_MAX_SEGS - 1; k > 0; k--) {
			j = get_random_u32() % (k + 1);
			swap(th->pages[k], th->pages[j]);
		}
	}
	/* one thread per CPU, on the first online CPUs */
	for_each_online_cpu(cpu) {
		if (mb->ncpus == DIS_MB_THREADS)
			break;
		th = &mb->thr[mb->ncpus];
		th->task = kthread_create(dis_mb_thread_fn, th, "dis_mbench/%d", cpu);
		if (IS_ERR(th->task)) {
			th->task = NULL;
			goto fail;
		}
		kthread_bind(th->task, cpu);
		wake_up_process(th->task);
		mb->ncpus++;
	}
	if (dis_mb_mask(mb, dev))
		goto fail;
	return mb;
fail:
	dis_mb_free(mb, dev);
	return NULL;
}

static void dis_mb_prebuild(struct dis_mb *mb, unsigned int nseg)
{
	unsigned int i;

	for (i = 0; i < DIS_MB_THREADS; i++)
		dis_mb_fill(mb->thr[i].prebuilt, mb->thr[i].pages, nseg);
}

/**
 * dis_mb_cell - every method for one segment count and thread count
 * @mb: the benchmark
 * @methods: the methods to time
 * @nm: how many
 * @nseg: segments per request
 * @nthr: threads
 * @repeats: batches
 * @pages: pages per batch and method (the requests are @pages / @nseg)
 * @ns: room for @nm * @repeats figures
 *
 * One warm-up batch of each method first, untimed.
 *
 * Return: 0, or a negative errno.
 */
static int dis_mb_cell(struct dis_mb *mb, const enum dis_mb_method *methods,
		       unsigned int nm, unsigned int nseg, unsigned int nthr,
		       unsigned int repeats, unsigned int pages, u64 *ns)
{
	unsigned int requests = max(1U, pages / nseg);
	bool iova[DIS_MB_NR] = { };
	unsigned int b, k, m;
	int ret;

	dis_mb_prebuild(mb, nseg);
	for (k = 0; k < nm; k++) {
		ret = dis_mb_batch(mb, methods[k], nseg, requests, nthr, NULL);
		if (ret)
			return ret;
		iova[k] = mb->thr[0].iova;
	}
	for (b = 0; b < repeats; b++) {
		for (k = 0; k < nm; k++) {
			m = (b + k) % nm;
			ret = dis_mb_batch(mb, methods[m], nseg, requests, nthr,
					   &ns[m * repeats + b]);
			if (ret)
				return ret;
		}
	}
	for (k = 0; k < nm; k++) {
		dis_mb_print("cell %s %u %u %u %s", dis_mb_names[methods[k]],
			     nthr, nseg, requests,
			     methods[k] < DIS_MB_SHIM ? "-" :
			     iova[k] ? "iova" : "fallback");
		for (b = 0; b < repeats; b++)
			dis_mb_print(" %llu", ns[k * repeats + b]);
		dis_mb_print("\n");
	}
	return 0;
}

static int dis_mb_run(struct dis_test *t, unsigned int repeats,
		      unsigned int pages)
{
	enum dis_mb_method methods[DIS_MB_NR];
	unsigned int nm = 0, nthr, s;
	struct dis_mb *mb;
	u64 *ns;
	int ret = 0;

	for (s = 0; s < DIS_MB_NR; s++)
		if (s != DIS_MB_NATIVE || dis_mb_have_native)
			methods[nm++] = s;
	ns = kvcalloc(DIS_MB_NR * repeats, sizeof(*ns), GFP_KERNEL);
	mb = ns ? dis_mb_alloc(t->dev) : NULL;
	if (!mb) {
		kvfree(ns);
		return -ENOMEM;
	}
	dis_mb_len = 0;
	dis_mb_print("mbench native=%d translated=%d mask=%s repeats=%u pages=%u cpus=%u\n",
		     dis_mb_have_native, dis_mb_translated(t->dev),
		     mb->raised ? "raised" : "kept", repeats, pages, mb->ncpus);
	for (nthr = 1; nthr <= mb->ncpus && !ret; nthr++)
		for (s = 0; s < ARRAY_SIZE(dis_mb_segs) && !ret; s++)
			ret = dis_mb_cell(mb, methods, nm, dis_mb_segs[s], nthr,
					  repeats, pages, ns);
	if (ret)
		dis_mb_print("error %d\n", ret);
	else
		dis_mb_print("end late_starts=%u\n", mb->late_starts);
	dis_mb_free(mb, t->dev);
	kvfree(ns);
	return ret;
}

static int dis_mb_count(struct dis_test *t, const char *name,
			unsigned int nseg, unsigned int n)
{
	struct dis_mb *mb;
	unsigned int m;
	int ret;

	for (m = 0; m < DIS_MB_NR; m++)
		if (!strcmp(name, dis_mb_names[m]))
			break;
	if (m == DIS_MB_NR || !nseg || nseg > DIS_MB_MAX_SEGS || !n ||
	    n > DIS_MB_MAX_COUNT)
		return -EINVAL;
	if (m == DIS_MB_NATIVE && !dis_mb_have_native)
		return -EOPNOTSUPP;
	mb = dis_mb_alloc(t->dev);
	if (!mb)
		return -ENOMEM;
	dis_mb_prebuild(mb, nseg);
	ret = dis_mb_batch(mb, m, nseg, n, 1, NULL);
	dis_mb_free(mb, t->dev);
	return ret;
}

/**
 * dis_mbench_cmd - run a command written to the mbench file
 * @t: the bound device's test state
 * @cmd: "run REPEATS PAGES" or "count METHOD SEGS N"
 *
 * Return: 0, or a negative errno (-EINVAL for a malformed command).
 */
int dis_mbench_cmd(struct dis_test *t, const char *cmd)
{
	unsigned int a, b;
	char name[24];
	int end = 0;

	if (!dis_mb_out) {
		dis_mb_out = vzalloc(DIS_MB_OUT_SIZE);
		if (!dis_mb_out)
			return -ENOMEM;
	}
	if (sscanf(cmd, "run %u %u%n", &a, &b, &end) == 2 && !cmd[end]) {
		if (!a || a > DIS_MB_MAX_REPEATS || !b || b > DIS_MB_MAX_PAGES)
			return -EINVAL;
		return dis_mb_run(t, a, b);
	}
	if (sscanf(cmd, "count %23s %u %u%n", name, &a, &b, &end) == 3 &&
	    !cmd[end])
		return dis_mb_count(t, name, a, b);
	return -EINVAL;
}

/**
 * dis_mbench_read - read the results of the last run
 * @ubuf: user buffer
 * @len: its size
 * @ppos: file position
 *
 * Return: bytes read, or a negative errno.
 */
ssize_t dis_mbench_read(char __user *ubuf, size_t len, loff_t *ppos)
{
	if (!dis_mb_out)
		return 0;
	return simple_read_from_buffer(ubuf, len, ppos, dis_mb_out, dis_mb_len);
}

void dis_mbench_exit(void)
{
	vfree(dis_mb_out);
	dis_mb_out = NULL;
}
