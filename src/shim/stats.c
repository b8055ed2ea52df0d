// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: counters in debugfs.
 *
 *   /sys/kernel/debug/dma_iova_shim/total             all devices
 *   /sys/kernel/debug/dma_iova_shim/devices/<dev>     one device
 *
 * Each file is "name value" lines.  Counters are per CPU (cheap enough to
 * stay on) and summed when read.
 *
 * Batched destroys (batch.c): batch_destroys counts the calls that
 * destroyed a range, batch_held the ranges a batch held for its flush (the
 * others were plain destroys: lazy domain, nothing linked), batch_flushes
 * and batch_flushed the flushes and the ranges they freed, batch_depth the
 * ranges held now, batch_unflushed the batches found unflushed when their
 * device went away (kept in "total" after the device is gone), and
 * batch_hist_N the flushes of N up to 2N - 1 ranges (the last: N or more).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "shim.h"

const char *const dmashim_fallback_names[DMASHIM_FB_MAX] = {
	[DMASHIM_FB_NO_IOMMU] = "no_iommu",
	[DMASHIM_FB_IDENTITY] = "identity",
	[DMASHIM_FB_NOT_DMA_API] = "not_dma_api",
	[DMASHIM_FB_UNTRUSTED] = "untrusted",
	[DMASHIM_FB_UNSUPPORTED] = "unsupported",
	[DMASHIM_FB_VALIDATION] = "validation",
	[DMASHIM_FB_SIZE] = "size",
	[DMASHIM_FB_NOSPACE] = "nospace",
	[DMASHIM_FB_NOMEM] = "nomem",
	[DMASHIM_FB_INJECTED] = "injected",
};

static struct dentry *dmashim_dir;
static struct dentry *dmashim_devdir;

static void dmashim_add(struct dmashim_counters *sum,
			struct dmashim_counters __percpu *pcpu)
{
	const u64 *src;
	u64 *dst = (u64 *)sum;
	unsigned int i, cpu;

	for_each_possible_cpu(cpu) {
		src = (const u64 *)per_cpu_ptr(pcpu, cpu);
		for (i = 0; i < sizeof(*sum) / sizeof(u64); i++)
			dst[i] += src[i];
	}
}

static void dmashim_show(struct seq_file *m, struct dmashim_counters *c,
			 u64 depth)
{
	unsigned int i;

	seq_printf(m, "allocs %llu\nfrees %llu\nlinks %llu\nlink_errors %llu\n",
		   c->allocs, c->frees, c->links, c->link_errors);
	seq_printf(m, "syncs %llu\nunlinks %llu\nbytes_mapped %llu\n",
		   c->syncs, c->unlinks, c->bytes_mapped);
	seq_printf(m, "outstanding %lld\n", (s64)(c->allocs - c->frees));
	seq_printf(m, "fq_queued %llu\nfq_flushes %llu\nfq_depth %llu\n",
		   c->fq_queued, c->fq_flushes, depth);
	for (i = 0; i < DMASHIM_FB_MAX; i++)
		seq_printf(m, "fallback_%s %llu\n", dmashim_fallback_names[i],
			   c->fallbacks[i]);
	seq_printf(m, "batch_destroys %llu\nbatch_held %llu\n",
		   c->batch_destroys, c->batch_held);
	seq_printf(m, "batch_flushes %llu\nbatch_flushed %llu\n",
		   c->batch_flushes, c->batch_flushed);
	seq_printf(m, "batch_depth %lld\nbatch_unflushed %llu\n",
		   (s64)(c->batch_held - c->batch_flushed), c->batch_unflushed);
	for (i = 0; i < DMASHIM_BATCH_HIST; i++)
		seq_printf(m, "batch_hist_%u %llu\n", 1U << i, c->batch_hist[i]);
}

static int dmashim_dev_show(struct seq_file *m, void *unused)
{
	struct dmashim_ctx *ctx = m->private;
	struct dmashim_counters sum = {};

	dmashim_add(&sum, ctx->stats);
	seq_printf(m, "domain %s\n", dmashim_ctx_unusable(ctx) ? "unusable" :
		   ctx->lazy ? "lazy" : "strict");
	/* who holds freed IOVAs until the flush: the shim's queue or the DMA ops' */
	if (!dmashim_ctx_unusable(ctx) && ctx->lazy)
		seq_printf(m, "deferred_free %s\n",
			   ctx->dma_ops_fq ? "dma-ops" : "shim");
	if (dmashim_ctx_unusable(ctx))
		seq_printf(m, "reason %s\n", ctx->reason);
	/* 0: a batched destroy is a plain one here (lazy, or unmap flushes) */
	seq_printf(m, "batch_holds %d\n",
		   !dmashim_ctx_unusable(ctx) && dmashim_batch_holds(ctx));
	dmashim_show(m, &sum, dmashim_fq_depth(ctx));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmashim_dev);

struct dmashim_total {
	struct dmashim_walk walk;
	struct dmashim_counters sum;
	u64 depth;
};

static void dmashim_total_one(struct dmashim_ctx *ctx, struct dmashim_walk *w)
{
	struct dmashim_total *t = container_of(w, struct dmashim_total, walk);

	dmashim_add(&t->sum, ctx->stats);
	t->depth += dmashim_fq_depth(ctx);
}

static int dmashim_total_show(struct seq_file *m, void *unused)
{
	struct dmashim_total t = { .walk.visit = dmashim_total_one };

	dmashim_walk_ctxs(&t.walk);
	dmashim_add(&t.sum, dmashim_orphans());
	dmashim_show(m, &t.sum, t.depth);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmashim_total);

void dmashim_debugfs_add(struct dmashim_ctx *ctx)
{
	debugfs_create_file(dev_name(ctx->dev), 0444, dmashim_devdir, ctx,
			    &dmashim_dev_fops);
}

void dmashim_debugfs_remove(struct dmashim_ctx *ctx)
{
	debugfs_lookup_and_remove(dev_name(ctx->dev), dmashim_devdir);
}

int dmashim_debugfs_init(void)
{
	dmashim_dir = debugfs_create_dir("dma_iova_shim", NULL);
	dmashim_devdir = debugfs_create_dir("devices", dmashim_dir);
	debugfs_create_file("total", 0444, dmashim_dir, NULL, &dmashim_total_fops);
	return 0;
}

void dmashim_debugfs_exit(void)
{
	debugfs_remove_recursive(dmashim_dir);
}
