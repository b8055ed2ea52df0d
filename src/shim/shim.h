/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_iova_shim: private definitions shared by the module's files.
 */
#ifndef DMASHIM_SHIM_H
#define DMASHIM_SHIM_H

#include <linux/device.h>
#include <linux/hashtable.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/kref.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "../compat/compat.h"
#include <dma-iova-shim.h>

/* Why a try_alloc fell back to the caller's regular DMA mapping. */
enum dmashim_fallback {
	DMASHIM_FB_NO_IOMMU,	/* no IOMMU domain for the device */
	DMASHIM_FB_IDENTITY,	/* identity/passthrough or blocked domain */
	DMASHIM_FB_NOT_DMA_API,	/* domain not managed by dma-iommu */
	DMASHIM_FB_UNTRUSTED,	/* untrusted device: needs bouncing */
	DMASHIM_FB_UNSUPPORTED,	/* not a PCI device, or not DMA-coherent */
	DMASHIM_FB_VALIDATION,	/* the IOVA allocator could not be verified */
	DMASHIM_FB_SIZE,	/* size 0 or with the swiotlb bit set */
	DMASHIM_FB_NOSPACE,	/* IOVA space exhausted */
	DMASHIM_FB_NOMEM,	/* bookkeeping allocation failed */
	DMASHIM_FB_INJECTED,	/* fault injection */
	DMASHIM_FB_MAX
};

/*
 * Flushes of batched destroys (batch.c) are counted by the number of ranges
 * they covered: 1, 2-3, 4-7, 8-15, 16-31, 32 and more.
 */
#define DMASHIM_BATCH_HIST	6

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
	u64 batch_destroys;
	u64 batch_held;
	u64 batch_flushes;
	u64 batch_flushed;
	u64 batch_unflushed;
	u64 batch_hist[DMASHIM_BATCH_HIST];
};

/*
 * Outstanding ranges are filed in a small hash by IOVA pfn, one lock per
 * bucket: the record comes from a slab cache and no insert or erase
 * allocates or defers anything else.
 */
#define DMASHIM_RANGE_HASH_BITS	6

/*
 * Freed records each bucket keeps for its next ranges, so that mapping
 * and unmapping a request allocates nothing in the common case (a slab
 * allocation zeroes the record on distribution kernels, init_on_alloc).
 */
#define DMASHIM_RANGE_SPARES	8

/* One bucket of the outstanding ranges. */
struct dmashim_range_bucket {
	spinlock_t lock;		/* protects the rest */
	struct hlist_head head;
	struct hlist_head spare;
	unsigned int nspare;
};

/**
 * struct dmashim_ctx - what the shim knows about one device
 * @rcu: frees the context after lock-free lookups are done with it; first,
 *	because kfree_rcu() needs it within the first 4 KiB and lockdep
 *	makes each of @ranges' locks dozens of bytes
 * @dev: the device (a reference is held)
 * @node: entry in the device table
 * @domain: its DMA-API IOMMU domain, checked on every try_alloc
 * @iovad: the domain's own IOVA allocator, validated for this device
 * @shift: log2 of the IOVA granule
 * @lazy: the domain defers IOTLB flushes (DMA-FQ); the shim queues frees
 * @dma_ops_fq: lazy, but only the device's own DMA ops (not dma-iommu's)
 *	can defer a flush: whole ranges are torn down through them
 * @stats: per-CPU counters
 * @ranges: outstanding ranges (struct dmashim_range), hashed by IOVA pfn
 * @fq_lock: protects @fq_list, @fq_count
 * @fq_list: unmapped ranges waiting for an IOTLB flush before being freed
 * @fq_count: entries on @fq_list
 * @fq_pages: IOVA granules held by them
 * @fq_work: deferred flush of @fq_list
 * @debugfs_work: creates the device's debugfs file in process context
 * @ref: references held by the device table, the debugfs work and walks
 *	over the table; dma_iova_* calls take none (they look the context
 *	up and use it inside an RCU read-side section, and removal waits
 *	for them)
 * @id: tells this context from an earlier one of the same device (a batch
 *	left unflushed across an unbind still names the old one)
 * @batch_lock: protects @batches
 * @batches: first records of the batches (struct dma_iova_batch) holding
 *	destroyed ranges of the device until their flush, see batch.c
 * @fallback: DMASHIM_FB_MAX if the device can be served; otherwise why
 *	try_alloc always falls back (DMASHIM_FB_VALIDATION: its allocator
 *	failed validation), see dmashim_ctx_unusable()
 * @reason: why it cannot be served, in words (logged once)
 */
struct dmashim_ctx {
	struct rcu_head rcu;
	struct device *dev;
	struct hlist_node node;
	struct iommu_domain *domain;
	struct iova_domain *iovad;
	unsigned int shift;
	bool lazy;
	bool dma_ops_fq;
	struct dmashim_counters __percpu *stats;
	struct dmashim_range_bucket ranges[1 << DMASHIM_RANGE_HASH_BITS];
	spinlock_t fq_lock;		/* see above */
	struct list_head fq_list;
	unsigned int fq_count;
	unsigned long fq_pages;
	struct delayed_work fq_work;
	struct work_struct debugfs_work;
	struct kref ref;
	u64 id;
	spinlock_t batch_lock;		/* see above */
	struct list_head batches;
	enum dmashim_fallback fallback;
	const char *reason;
};

/**
 * struct dmashim_range - an allocated IOVA range
 * @node: in its bucket of &dmashim_ctx.ranges while allocated
 * @fq_node: on &dmashim_ctx.fq_list once destroyed in a lazy domain; in a
 *	batch, in the ring of the batch's records
 * @batch_node: the first record of a batch: on &dmashim_ctx.batches
 * @pfn: first IOVA pfn
 * @npages: length in granules
 * @caller: who allocated it (for leak reports)
 * @start: first byte its unmap must invalidate (deferred flush)
 * @end: last byte its unmap must invalidate
 * @pgsize: smallest page size its unmap cleared
 * @freelist: page-table pages its unmap released, freed by the flush
 *
 * Remembered while allocated to report and undo leaks; a lazy domain's
 * deferred flush queues the same record, and a batch (batch.c) holds it,
 * so destroying a range allocates nothing.
 */
struct dmashim_range {
	union {
		struct hlist_node node;
		struct list_head fq_node;
	};
	unsigned long pfn;
	unsigned long npages;
	void *caller;
	unsigned long start;
	unsigned long end;
	size_t pgsize;
	struct list_head freelist;
	struct list_head batch_node;
};

/* The device cannot be served: try_alloc falls back, for ctx->fallback. */
static inline bool dmashim_ctx_unusable(const struct dmashim_ctx *ctx)
{
	return ctx->fallback != DMASHIM_FB_MAX;
}

/* domain.c: the lookups are called under rcu_read_lock() */
#define DMASHIM_TABLE_BITS	6
extern struct hlist_head dmashim_table[1 << DMASHIM_TABLE_BITS];

/**
 * dmashim_ctx_find - the context of a device that already has one
 * @dev: the device
 *
 * Lock-free and reference-free: every dma_iova_* call of a driver comes
 * through here, on every CPU at once.  The context stays valid until the
 * caller's rcu_read_unlock(): a context is removed only after it has left
 * the table and a grace period has passed (dmashim_forget()).
 *
 * The read-side section is a plain (preemptible) RCU reader, never an
 * RCU-sched one: the calls take the bucket and flush-queue locks, the
 * IOVA allocator's and the IOMMU driver's page-table allocations inside
 * it, and on PREEMPT_RT those are sleeping locks, which must not be taken
 * with preemption disabled.
 *
 * Context: any context, under rcu_read_lock().
 *
 * Return: the context, or NULL.
 */
static inline struct dmashim_ctx *dmashim_ctx_find(struct device *dev)
{
	struct dmashim_ctx *ctx;

	hash_for_each_possible_rcu(dmashim_table, ctx, node, (unsigned long)dev)
		if (ctx->dev == dev)
			return ctx;
	return NULL;
}

struct dmashim_ctx *dmashim_ctx_get(struct device *dev,
				    enum dmashim_fallback *why);
void dmashim_ctx_put(struct dmashim_ctx *ctx);
void dmashim_count_fallback(struct dmashim_ctx *ctx, enum dmashim_fallback why);
struct dmashim_counters __percpu *dmashim_orphans(void);
int dmashim_domains_init(void);
void dmashim_domains_exit(void);
/* A walk over every device context; embed it and use container_of(). */
struct dmashim_walk {
	void (*visit)(struct dmashim_ctx *ctx, struct dmashim_walk *walk);
};

void dmashim_walk_ctxs(struct dmashim_walk *walk);

/* validate.c: which devices can be served, and their IOVA allocator */
bool dmashim_dev_unsupported(struct device *dev);
bool dmashim_unusable(struct device *dev, struct iommu_domain *domain,
		      enum dmashim_fallback *why);
const char *dmashim_unusable_reason(enum dmashim_fallback why);
struct iova_domain *dmashim_find_iovad(struct device *dev,
				       struct iommu_domain *domain,
				       const char **why);
bool dmashim_why_transient(const char *why);

/* iova.c: allocation, link and sync; the granule arithmetic of a range */
static inline size_t dmashim_granule(struct dmashim_ctx *ctx)
{
	return 1UL << ctx->shift;
}

static inline size_t dmashim_offset(struct dmashim_ctx *ctx, u64 addr)
{
	return addr & (dmashim_granule(ctx) - 1);
}

static inline size_t dmashim_align(struct dmashim_ctx *ctx, size_t size)
{
	return ALIGN(size, dmashim_granule(ctx));
}

unsigned long dmashim_iova_pages(struct dmashim_ctx *ctx, size_t len);
void dmashim_ctx_none(struct device *dev, struct dma_iova_state *state);

/*
 * The context of a device with a live range; complains if there is none.
 * Called under rcu_read_lock(), which keeps the context alive.  Inline:
 * every link comes through here.
 */
static inline struct dmashim_ctx *dmashim_ctx_of(struct device *dev,
						 struct dma_iova_state *state)
{
	struct dmashim_ctx *ctx = dmashim_ctx_find(dev);

	if (unlikely(!ctx || dmashim_ctx_unusable(ctx) ||
		     !dma_use_iova(state))) {
		dmashim_ctx_none(dev, state);
		return NULL;
	}
	return ctx;
}

size_t dmashim_iova_granule(struct device *dev, struct dma_iova_state *state);

/* range.c: the records of outstanding ranges */
int dmashim_ranges_init(void);
void dmashim_ranges_exit(void);
void dmashim_ranges_init_ctx(struct dmashim_ctx *ctx);
bool dmashim_track(struct dmashim_ctx *ctx, unsigned long pfn,
		   unsigned long npages, void *caller);
bool dmashim_tracked(struct dmashim_ctx *ctx, unsigned long pfn,
		     unsigned long npages);
bool dmashim_untrack(struct dmashim_ctx *ctx, unsigned long pfn,
		     unsigned long npages, struct dmashim_range **keep);
void dmashim_range_free(struct dmashim_range *r);
void dmashim_ranges_recycle(struct dmashim_ctx *ctx, struct list_head *done);
void dmashim_ranges_drop_spares(struct dmashim_ctx *ctx);
void dmashim_release_ranges(struct dmashim_ctx *ctx);

/* pgtable.c: page-table entries written and cleared without an IOTLB sync */
/*
 * IOMMU protection bits for a DMA direction, as the DMA API uses them.
 * Inline: every link computes them.
 */
static inline int dmashim_prot(struct device *dev,
			       enum dma_data_direction dir,
			       unsigned long attrs)
{
	int prot = dev_is_dma_coherent(dev) ? IOMMU_CACHE : 0;

	if (attrs & DMA_ATTR_PRIVILEGED)
		prot |= IOMMU_PRIV;
	if (attrs & DMA_ATTR_MMIO)
		prot |= IOMMU_MMIO;
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return prot | IOMMU_READ | IOMMU_WRITE;
	case DMA_TO_DEVICE:
		return prot | IOMMU_READ;
	case DMA_FROM_DEVICE:
		return prot | IOMMU_WRITE;
	default:
		return 0;
	}
}

int dmashim_map(struct dmashim_ctx *ctx, unsigned long iova,
		phys_addr_t paddr, size_t size, int prot);
size_t dmashim_unmap_range(struct dmashim_ctx *ctx, unsigned long iova,
			   size_t size, struct iommu_iotlb_gather *gather);

/* teardown.c: the teardown of a range, shared with the batched destroy */
enum dmashim_teardown_op {
	DMASHIM_OP_UNLINK,	/* dma_iova_unlink(): unmap, keep the IOVA */
	DMASHIM_OP_DESTROY,	/* dma_iova_destroy(): unmap, free the IOVA */
	DMASHIM_OP_FREE,	/* dma_iova_free(), or destroy of nothing */
	DMASHIM_OP_BATCHED,	/* dma_iova_destroy_batched(): a batch holds it */
};

void dmashim_teardown(struct device *dev, struct dma_iova_state *state,
		      size_t offset, size_t size, enum dmashim_teardown_op op,
		      struct dma_iova_batch *batch);

/* fq.c */
void dmashim_fq_init(struct dmashim_ctx *ctx);
void dmashim_range_hold(struct dmashim_range *r,
			struct iommu_iotlb_gather *gather);
void dmashim_flush_ranges(struct dmashim_ctx *ctx, struct list_head *ranges);
/* What a range added to the flush queue needs next (dmashim_fq_act()). */
enum dmashim_fq_action {
	DMASHIM_FQ_NONE,	/* the flush is already scheduled */
	DMASHIM_FQ_ARM,		/* first entry: start the flush timer */
	DMASHIM_FQ_FLUSH,	/* the queue is full: flush now */
};

enum dmashim_fq_action dmashim_fq_add(struct dmashim_ctx *ctx,
				      struct dmashim_range *r,
				      struct iommu_iotlb_gather *gather);
void dmashim_fq_act(struct dmashim_ctx *ctx, enum dmashim_fq_action action);
void dmashim_fq_drain(struct dmashim_ctx *ctx);
void dmashim_fq_flush(struct dmashim_ctx *ctx);
unsigned int dmashim_fq_depth(struct dmashim_ctx *ctx);

/* batch.c: batched destroys in strict domains (not in mainline) */
void dmashim_batch_init_ctx(struct dmashim_ctx *ctx);
void dmashim_batch_add(struct dmashim_ctx *ctx, struct dma_iova_batch *batch,
		       struct dmashim_range *r,
		       struct iommu_iotlb_gather *gather);
void dmashim_release_batches(struct dmashim_ctx *ctx);

/*
 * Can a batch hold this context's destroyed ranges?  Not in a lazy domain
 * (the flush queue defers already) and not where the IOMMU driver's
 * ->unmap() invalidates by itself (5.10's VT-d): the batched destroy is a
 * plain destroy there.
 */
static inline bool dmashim_batch_holds(struct dmashim_ctx *ctx)
{
	return !ctx->lazy && !dmashim_ops_unmap_flushes(ctx->domain);
}

/* stats.c */
void dmashim_stats_sum(struct dmashim_ctx *ctx, struct dmashim_counters *sum);
int dmashim_debugfs_init(void);
void dmashim_debugfs_add(struct dmashim_ctx *ctx);
void dmashim_debugfs_remove(struct dmashim_ctx *ctx);
void dmashim_debugfs_exit(void);
extern const char *const dmashim_fallback_names[DMASHIM_FB_MAX];

/* inject.c: the calls cost one load while injection is off */
extern unsigned int dmashim_fail_alloc_every;
extern unsigned int dmashim_fail_link_every;
bool dmashim_inject_nth_alloc(unsigned int every);
bool dmashim_inject_nth_link(unsigned int every);
bool dmashim_inject_validation_failure(void);

static inline bool dmashim_inject_alloc_failure(void)
{
	unsigned int every = READ_ONCE(dmashim_fail_alloc_every);

	return unlikely(every) && dmashim_inject_nth_alloc(every);
}

static inline bool dmashim_inject_link_failure(void)
{
	unsigned int every = READ_ONCE(dmashim_fail_link_every);

	return unlikely(every) && dmashim_inject_nth_link(every);
}

#endif /* DMASHIM_SHIM_H */
