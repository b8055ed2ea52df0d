// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: debugfs, one directory per controller under
 * /sys/kernel/debug/nvme_iova/.  completion_batches shows how requests were
 * ended (one by one, or in completion batches and how large) and, under
 * batched unmapping, how many IOVA ranges each batch flush covered: what
 * bounds the IOTLB invalidations saved per I/O.
 *
 *	batch_unmap 1		nvi_batching() now
 *	single 12		requests ended one by one
 *	batches 300		completion batches
 *	batched 2100		requests ended in them
 *	batched_ranges 2100	IOVA ranges destroyed into a batch
 *	requests_per_batch 1:40 2-3:60 4-7:200 ...
 *	ranges_per_flush 1:40 2-3:60 4-7:200 ...
 *
 * The histograms count a batch in bucket [2^i, 2^(i+1)); the last bucket
 * holds everything larger.  The counters only grow: read them before and
 * after a run.
 *
 * doorbells: whether the I/O queues have shadow doorbells now (dbbuf.c),
 * and how many SQ tail and CQ head updates wrote the register (mmio) or
 * only the shadow (the controller did not ask for the register):
 *
 *	shadow 1
 *	sq_mmio 310
 *	sq_shadow 1790
 *	cq_mmio 12
 *	cq_shadow 2088
 *
 * inject_stale_cid (write N): the next N I/O commands go with a command id
 * of another generation, as if an older command on the same tag answered
 * late; the driver must refuse their completions ("stale completion") and
 * recover the requests through the timeout path (nvme-timeout).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "nvme-iova.h"

static struct dentry *nvi_debugfs_root;

static unsigned int nvi_hist_bucket(unsigned int n)
{
	return min_t(unsigned int, fls(n) - 1, NVI_BATCH_HIST - 1);
}

/**
 * nvi_count_batch - count one controller's part of a completion batch
 * @ctrl: controller
 * @rqs: requests it ended (at least one)
 * @ranges: IOVA ranges of theirs that one batch flush covered (0: none)
 *
 * Context: completion (hard IRQ, IRQ thread or a polling task).
 */
void nvi_count_batch(struct nvi_ctrl *ctrl, unsigned int rqs,
		     unsigned int ranges)
{
	struct nvi_stats __percpu *s = ctrl->stats;

	if (!s)
		return;
	this_cpu_inc(s->batches);
	this_cpu_add(s->batched, rqs);
	this_cpu_inc(s->batch_hist[nvi_hist_bucket(rqs)]);
	if (ranges) {
		this_cpu_add(s->batched_ranges, ranges);
		this_cpu_inc(s->range_hist[nvi_hist_bucket(ranges)]);
	}
}

static void nvi_show_hist(struct seq_file *m, const char *name,
			  const u64 *hist)
{
	unsigned int i;

	seq_printf(m, "%s", name);
	for (i = 0; i < NVI_BATCH_HIST; i++) {
		if (i == NVI_BATCH_HIST - 1)
			seq_printf(m, " %u+:%llu", 1u << i, hist[i]);
		else if (i == 0)
			seq_printf(m, " 1:%llu", hist[i]);
		else
			seq_printf(m, " %u-%u:%llu", 1u << i,
				   (2u << i) - 1, hist[i]);
	}
	seq_putc(m, '\n');
}

static int nvi_batches_show(struct seq_file *m, void *unused)
{
	struct nvi_ctrl *ctrl = m->private;
	struct nvi_stats sum = { };
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		struct nvi_stats *s = per_cpu_ptr(ctrl->stats, cpu);

		sum.single += s->single;
		sum.batches += s->batches;
		sum.batched += s->batched;
		sum.batched_ranges += s->batched_ranges;
		for (i = 0; i < NVI_BATCH_HIST; i++) {
			sum.batch_hist[i] += s->batch_hist[i];
			sum.range_hist[i] += s->range_hist[i];
		}
	}
	seq_printf(m, "batch_unmap %d\n", nvi_batching(ctrl));
	seq_printf(m, "single %llu\n", sum.single);
	seq_printf(m, "batches %llu\n", sum.batches);
	seq_printf(m, "batched %llu\n", sum.batched);
	seq_printf(m, "batched_ranges %llu\n", sum.batched_ranges);
	nvi_show_hist(m, "requests_per_batch", sum.batch_hist);
	nvi_show_hist(m, "ranges_per_flush", sum.range_hist);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvi_batches);

static int nvi_doorbells_show(struct seq_file *m, void *unused)
{
	struct nvi_ctrl *ctrl = m->private;
	u64 sq_mmio = 0, sq_shadow = 0, cq_mmio = 0, cq_shadow = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct nvi_stats *s = per_cpu_ptr(ctrl->stats, cpu);

		sq_mmio += s->sq_mmio;
		sq_shadow += s->sq_shadow;
		cq_mmio += s->cq_mmio;
		cq_shadow += s->cq_shadow;
	}
	seq_printf(m, "shadow %d\n", !!READ_ONCE(ctrl->dbbuf_dbs));
	seq_printf(m, "sq_mmio %llu\n", sq_mmio);
	seq_printf(m, "sq_shadow %llu\n", sq_shadow);
	seq_printf(m, "cq_mmio %llu\n", cq_mmio);
	seq_printf(m, "cq_shadow %llu\n", cq_shadow);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvi_doorbells);

/* Without debugfs (or its memory) the driver runs as well, uncounted. */
void nvi_debugfs_add(struct nvi_ctrl *ctrl)
{
	ctrl->stats = alloc_percpu(struct nvi_stats);
	if (!ctrl->stats)
		return;
	ctrl->debugfs = debugfs_create_dir(dev_name(&ctrl->device),
					   nvi_debugfs_root);
	debugfs_create_file("completion_batches", 0444, ctrl->debugfs, ctrl,
			    &nvi_batches_fops);
	debugfs_create_file("doorbells", 0444, ctrl->debugfs, ctrl,
			    &nvi_doorbells_fops);
	debugfs_create_atomic_t("inject_stale_cid", 0600, ctrl->debugfs,
				&ctrl->inject_stale_cid);
}

/* After the last completion: the queues are gone. */
void nvi_debugfs_remove(struct nvi_ctrl *ctrl)
{
	debugfs_remove_recursive(ctrl->debugfs);
	ctrl->debugfs = NULL;
	free_percpu(ctrl->stats);
	ctrl->stats = NULL;
}

void nvi_debugfs_init(void)
{
	nvi_debugfs_root = debugfs_create_dir("nvme_iova", NULL);
}

void nvi_debugfs_exit(void)
{
	debugfs_remove_recursive(nvi_debugfs_root);
}
