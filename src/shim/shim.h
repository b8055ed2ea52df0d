/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_iova_shim: private definitions shared by the module's files.
 */
#ifndef DMASHIM_SHIM_H
#define DMASHIM_SHIM_H

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/kref.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../compat/compat.h"
#include <dma-iova-shim.h>

/* Why a try_alloc fell back to the caller's regular DMA mapping. */
enum dmashim_fallback {
	DMASHIM_FB_NO_IOMMU,	/* no IOMMU domain for the device */
	DMASHIM_FB_IDENTITY,	/* identity/passthrough or blocked domain */
	DMASHIM_FB_NOT_DMA_API,	/* domain not managed by dma-iommu */
	DMASHIM_FB_UNTRUSTED,	/* untrusted device: needs bouncing */
	DMASHIM_FB_VALIDATION,	/* the IOVA allocator could not be verified */
	DMASHIM_FB_SIZE,	/* size 0 or with the swiotlb bit set */
	DMASHIM_FB_NOSPACE,	/* IOVA space exhausted */
	DMASHIM_FB_NOMEM,	/* bookkeeping allocation failed */
	DMASHIM_FB_INJECTED,	/* fault injection */
	DMASHIM_FB_MAX
};

/* Per-CPU event counters; summed when debugfs is read. */
struct dmashim_counters {
	u64 allocs;
	u64 frees;
	u64 links;
	u64 link_errors;
	u64 syncs;
	u64 unlinks;
	u64 bytes_mapped;
	u64 fq_queued;
	u64 fq_flushes;
	u64 fallbacks[DMASHIM_FB_MAX];
};

struct dmashim_fq_entry;

/**
 * struct dmashim_ctx - what the shim knows about one device
 * @dev: the device (a reference is held)
 * @node: entry in the device table
 * @domain: its DMA-API IOMMU domain, checked on every try_alloc
 * @iovad: the domain's own IOVA allocator, validated for this device
 * @shift: log2 of the IOVA granule
 * @lazy: the domain defers IOTLB flushes (DMA-FQ); the shim queues frees
 * @dma_ops_fq: lazy, but only the device's own DMA ops (not dma-iommu's)
 *	can defer a flush: whole ranges are torn down through them
 * @stats: per-CPU counters
 * @ranges: outstanding ranges by IOVA pfn (struct dmashim_range)
 * @fq_lock: protects @fq_list, @fq_count
 * @fq_list: unmapped ranges waiting for an IOTLB flush before being freed
 * @fq_count: entries on @fq_list
 * @fq_pages: IOVA granules held by them
 * @fq_work: deferred flush of @fq_list
 * @debugfs_work: creates the device's debugfs file in process context
 * @ref: references (table, in-flight flushes)
 * @rcu: frees the context after lock-free lookups are done with it
 * @failed: validation failed; try_alloc always falls back
 * @reason: why it failed (logged once)
 */
struct dmashim_ctx {
	struct device *dev;
	struct hlist_node node;
	struct iommu_domain *domain;
	struct iova_domain *iovad;
	unsigned int shift;
	bool lazy;
	bool dma_ops_fq;
	struct dmashim_counters __percpu *stats;
	struct xarray ranges;
	spinlock_t fq_lock;		/* see above */
	struct list_head fq_list;
	unsigned int fq_count;
	unsigned long fq_pages;
	struct delayed_work fq_work;
	struct work_struct debugfs_work;
	struct kref ref;
	struct rcu_head rcu;
	bool failed;
	const char *reason;
};

/* An allocated IOVA range, remembered to report and undo leaks. */
struct dmashim_range {
	unsigned long pfn;
	unsigned long npages;
	void *caller;
};

/* domain.c */
struct dmashim_ctx *dmashim_ctx_get(struct device *dev,
				    enum dmashim_fallback *why);
struct dmashim_ctx *dmashim_ctx_find(struct device *dev);
void dmashim_ctx_put(struct dmashim_ctx *ctx);
void dmashim_count_fallback(struct device *dev, enum dmashim_fallback why);
struct dmashim_counters __percpu *dmashim_orphans(void);
int dmashim_domains_init(void);
void dmashim_domains_exit(void);
/* A walk over every device context; embed it and use container_of(). */
struct dmashim_walk {
	void (*visit)(struct dmashim_ctx *ctx, struct dmashim_walk *walk);
};

void dmashim_walk_ctxs(struct dmashim_walk *walk);

/* iova.c */
size_t dmashim_unmap_range(struct dmashim_ctx *ctx, unsigned long iova,
			   size_t size, struct iommu_iotlb_gather *gather);
void dmashim_release_ranges(struct dmashim_ctx *ctx);

/* fq.c */
void dmashim_fq_init(struct dmashim_ctx *ctx);
void dmashim_fq_queue(struct dmashim_ctx *ctx, unsigned long pfn,
		      unsigned long npages, struct iommu_iotlb_gather *gather);
void dmashim_fq_drain(struct dmashim_ctx *ctx);
void dmashim_fq_flush(struct dmashim_ctx *ctx);
unsigned int dmashim_fq_depth(struct dmashim_ctx *ctx);

/* stats.c */
void dmashim_stats_sum(struct dmashim_ctx *ctx, struct dmashim_counters *sum);
int dmashim_debugfs_init(void);
void dmashim_debugfs_add(struct dmashim_ctx *ctx);
void dmashim_debugfs_remove(struct dmashim_ctx *ctx);
void dmashim_debugfs_exit(void);
extern const char *const dmashim_fallback_names[DMASHIM_FB_MAX];

/* inject.c */
bool dmashim_inject_alloc_failure(void);
bool dmashim_inject_link_failure(void);

#endif /* DMASHIM_SHIM_H */
