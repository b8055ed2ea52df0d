/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dis_selftest: the shim's own counters for the test device, as its debugfs
 * file shows them, so that cases can check them against what they did.
 */
#ifndef DIS_SHIMSTAT_H
#define DIS_SHIMSTAT_H

#include <linux/types.h>

#include <dma-iova-shim.h>

/* The module calls the kernel's own API: the shim has no file for it. */
#ifdef DMA_IOVA_SHIM_USES_NATIVE
#define DIS_API_NATIVE true
#else
#define DIS_API_NATIVE false
#endif

struct dis_test;
struct file;

/* batch_hist_N: flushes of N up to 2N - 1 ranges, N = 1, 2, ..., 32 */
#define DIS_BATCH_HIST 6

/* The fields of /sys/kernel/debug/dma_iova_shim/devices/<dev> cases use. */
struct dis_shim_stats {
	bool lazy;
	bool dma_ops_defer;	/* freed IOVAs wait in the DMA ops' own queue */
	u64 allocs;
	u64 frees;
	u64 links;
	u64 link_errors;
	u64 unlinks;
	u64 bytes_mapped;
	s64 outstanding;
	u64 fq_queued;
	u64 fq_flushes;
	u64 fq_depth;
	u64 fb_untrusted;
	u64 fb_nospace;
	u64 fb_injected;
	/* the batched destroys, an extension of the shim (not in mainline) */
	u64 batch_holds;	/* 1: batches hold ranges (a strict domain) */
	u64 batch_destroys;
	u64 batch_held;
	u64 batch_flushes;
	u64 batch_flushed;
	s64 batch_depth;
	u64 batch_unflushed;
	u64 batch_hist[DIS_BATCH_HIST];
};

#define DIS_SHIM_FILE_BUF 2048
/* Where the shim keeps one counter file per device it knows. */
#define DIS_SHIM_DIR "/sys/kernel/debug/dma_iova_shim/devices/"

/* An open counter file, for cases that read it in a loop. */
struct dis_shim_file {
	struct file *f;
	char buf[DIS_SHIM_FILE_BUF];
};

int dis_shim_open(struct dis_test *t, struct dis_shim_file *sf);
int dis_shim_read(struct dis_shim_file *sf, struct dis_shim_stats *s);
void dis_shim_close(struct dis_shim_file *sf);
int dis_shim_snapshot(struct dis_test *t, struct dis_shim_stats *s);

#endif /* DIS_SHIMSTAT_H */
