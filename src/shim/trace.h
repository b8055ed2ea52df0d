/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_iova_shim trace events: every call of the two-step API and every
 * deferred IOTLB flush.  Enable with perf (-e 'dma_iova_shim:*'),
 * trace-cmd or /sys/kernel/tracing/events/dma_iova_shim; see
 * doc/tracepoints.md.  A disabled event costs one patched-out jump (a
 * static key); whatever an event derives from its arguments (a fallback's
 * name, a teardown's kind of flush, a flush's ranges and span) is worked
 * out in TP_fast_assign(), only when it is recorded.
 *
 * CREATE_TRACE_POINTS is defined in main.c only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dma_iova_shim

#if !defined(DMASHIM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DMASHIM_TRACE_H

#include <linux/tracepoint.h>

#include "shim.h"

#ifndef DMASHIM_TRACE_HELPERS
#define DMASHIM_TRACE_HELPERS

/* How the IOTLB invalidation of a teardown is done (dmashim_teardown). */
enum dmashim_trace_flush {
	DMASHIM_TRACE_FLUSH_NONE,	/* nothing was mapped */
	DMASHIM_TRACE_FLUSH_NOW,	/* iotlb_sync before it returned */
	DMASHIM_TRACE_FLUSH_FQ,		/* the shim's flush queue (fq.c) */
	DMASHIM_TRACE_FLUSH_DMA_OPS,	/* the IOMMU driver's DMA-ops queue */
	DMASHIM_TRACE_FLUSH_BATCH,	/* the caller's batch (batch.c) */
};

static inline enum dmashim_trace_flush
dmashim_trace_flush_of(struct dmashim_ctx *ctx, enum dmashim_teardown_op op,
		       size_t unmapped, bool hold, bool defer)
{
	if (!unmapped)
		return DMASHIM_TRACE_FLUSH_NONE;
	if (hold)
		return DMASHIM_TRACE_FLUSH_BATCH;
	if (defer)
		return DMASHIM_TRACE_FLUSH_FQ;
	if (op != DMASHIM_OP_UNLINK && ctx->dma_ops_fq)
		return DMASHIM_TRACE_FLUSH_DMA_OPS;
	return DMASHIM_TRACE_FLUSH_NOW;
}

/* What one flush covers: ranges, granules and the span invalidated. */
static inline void dmashim_trace_span(struct list_head *ranges, u32 *n,
				      u64 *granules, u64 *start, u64 *end)
{
	struct dmashim_range *r;

	*n = 0;
	*granules = 0;
	*start = ULONG_MAX;
	*end = 0;
	list_for_each_entry(r, ranges, fq_node) {
		(*n)++;
		*granules += r->npages;
		*start = min_t(u64, *start, r->start);
		*end = max_t(u64, *end, r->end);
	}
	if (!*n)
		*start = 0;
}
#endif /* DMASHIM_TRACE_HELPERS */

/* The values of the symbolic fields, for user space (perf, trace-cmd) */
TRACE_DEFINE_ENUM(DMASHIM_FB_NO_IOMMU);
TRACE_DEFINE_ENUM(DMASHIM_FB_IDENTITY);
TRACE_DEFINE_ENUM(DMASHIM_FB_NOT_DMA_API);
TRACE_DEFINE_ENUM(DMASHIM_FB_UNTRUSTED);
TRACE_DEFINE_ENUM(DMASHIM_FB_UNSUPPORTED);
TRACE_DEFINE_ENUM(DMASHIM_FB_VALIDATION);
TRACE_DEFINE_ENUM(DMASHIM_FB_SIZE);
TRACE_DEFINE_ENUM(DMASHIM_FB_NOSPACE);
TRACE_DEFINE_ENUM(DMASHIM_FB_NOMEM);
TRACE_DEFINE_ENUM(DMASHIM_FB_INJECTED);
TRACE_DEFINE_ENUM(DMASHIM_FB_MAX);
TRACE_DEFINE_ENUM(DMASHIM_OP_UNLINK);
TRACE_DEFINE_ENUM(DMASHIM_OP_DESTROY);
TRACE_DEFINE_ENUM(DMASHIM_OP_FREE);
TRACE_DEFINE_ENUM(DMASHIM_OP_BATCHED);
TRACE_DEFINE_ENUM(DMASHIM_TRACE_FLUSH_NONE);
TRACE_DEFINE_ENUM(DMASHIM_TRACE_FLUSH_NOW);
TRACE_DEFINE_ENUM(DMASHIM_TRACE_FLUSH_FQ);
TRACE_DEFINE_ENUM(DMASHIM_TRACE_FLUSH_DMA_OPS);
TRACE_DEFINE_ENUM(DMASHIM_TRACE_FLUSH_BATCH);

/*
 * dma_iova_try_alloc(): @result is "ok" or why it fell back, named as the
 * fallback_<name> counters of debugfs (dmashim_fallback_names, stats.c).
 */
TRACE_EVENT(dmashim_try_alloc,
	    TP_PROTO(struct device *dev, struct dma_iova_state *state,
		     size_t size, enum dmashim_fallback result),
	    TP_ARGS(dev, state, size, result),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u64, size)
			     __field(u64, iova)
			     __field(int, result)),
	    TP_fast_assign(dmashim_assign_str(dev, dev_name(dev));
			   __entry->size = size;
			   __entry->iova = state->addr;
			   __entry->result = result;),
	    TP_printk("%s size=%llu iova=%#llx result=%s",
		      __get_str(dev), __entry->size, __entry->iova,
		      __print_symbolic(__entry->result,
				       { DMASHIM_FB_MAX, "ok" },
				       { DMASHIM_FB_NO_IOMMU, "no_iommu" },
				       { DMASHIM_FB_IDENTITY, "identity" },
				       { DMASHIM_FB_NOT_DMA_API, "not_dma_api" },
				       { DMASHIM_FB_UNTRUSTED, "untrusted" },
				       { DMASHIM_FB_UNSUPPORTED, "unsupported" },
				       { DMASHIM_FB_VALIDATION, "validation" },
				       { DMASHIM_FB_SIZE, "size" },
				       { DMASHIM_FB_NOSPACE, "nospace" },
				       { DMASHIM_FB_NOMEM, "nomem" },
				       { DMASHIM_FB_INJECTED, "injected" }))
);

/* dma_iova_link(): the part at @iova, @ret 0 or the errno it returned */
TRACE_EVENT(dmashim_link,
	    TP_PROTO(struct device *dev, struct dma_iova_state *state,
		     size_t offset, phys_addr_t phys, size_t size, int ret),
	    TP_ARGS(dev, state, offset, phys, size, ret),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u64, iova)
			     __field(u64, phys)
			     __field(u64, size)
			     __field(int, ret)),
	    TP_fast_assign(dmashim_assign_str(dev, dev_name(dev));
			   __entry->iova = state->addr + offset;
			   __entry->phys = phys;
			   __entry->size = size;
			   __entry->ret = ret;),
	    TP_printk("%s iova=%#llx phys=%#llx size=%llu ret=%d",
		      __get_str(dev), __entry->iova, __entry->phys,
		      __entry->size, __entry->ret)
);

/* dma_iova_sync() of a range the shim holds */
TRACE_EVENT(dmashim_sync,
	    TP_PROTO(struct device *dev, struct dma_iova_state *state,
		     size_t offset, size_t size, int ret),
	    TP_ARGS(dev, state, offset, size, ret),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u64, iova)
			     __field(u64, size)
			     __field(int, ret)),
	    TP_fast_assign(dmashim_assign_str(dev, dev_name(dev));
			   __entry->iova = state->addr + offset;
			   __entry->size = size;
			   __entry->ret = ret;),
	    TP_printk("%s iova=%#llx size=%llu ret=%d",
		      __get_str(dev), __entry->iova, __entry->size,
		      __entry->ret)
);

/*
 * dma_iova_unlink(), _destroy(), _free() and _destroy_batched(), once the
 * range is unmapped; @flush says how its IOTLB invalidation is done (or
 * deferred).  A refused call (a range the shim does not hold) records none.
 */
TRACE_EVENT(dmashim_teardown,
	    TP_PROTO(struct dmashim_ctx *ctx, enum dmashim_teardown_op op,
		     struct dma_iova_state *state, size_t offset, size_t size,
		     size_t unmapped, bool hold, bool defer),
	    TP_ARGS(ctx, op, state, offset, size, unmapped, hold, defer),
	    TP_STRUCT__entry(__string(dev, dev_name(ctx->dev))
			     __field(u64, iova)
			     __field(u64, size)
			     __field(u8, op)
			     __field(u8, flush)),
	    TP_fast_assign(dmashim_assign_str(dev, dev_name(ctx->dev));
			   __entry->iova = state->addr + offset;
			   __entry->size = size;
			   __entry->op = op;
			   __entry->flush = dmashim_trace_flush_of(ctx, op,
								   unmapped,
								   hold,
								   defer);),
	    TP_printk("%s %s iova=%#llx size=%llu flush=%s",
		      __get_str(dev),
		      __print_symbolic(__entry->op,
				       { DMASHIM_OP_UNLINK, "unlink" },
				       { DMASHIM_OP_DESTROY, "destroy" },
				       { DMASHIM_OP_FREE, "free" },
				       { DMASHIM_OP_BATCHED, "destroy_batched" }),
		      __entry->iova, __entry->size,
		      __print_symbolic(__entry->flush,
				       { DMASHIM_TRACE_FLUSH_NONE, "none" },
				       { DMASHIM_TRACE_FLUSH_NOW, "now" },
				       { DMASHIM_TRACE_FLUSH_FQ, "fq" },
				       { DMASHIM_TRACE_FLUSH_DMA_OPS, "dma_ops" },
				       { DMASHIM_TRACE_FLUSH_BATCH, "batch" }))
);

/*
 * One IOTLB invalidation for several unmapped ranges, recorded before it
 * is issued: @ranges (struct dmashim_range, by fq_node), the IOVA granules
 * they hold and the span [start, end] of bytes it invalidates.
 */
DECLARE_EVENT_CLASS(dmashim_flush,
		    TP_PROTO(struct dmashim_ctx *ctx, struct list_head *ranges),
		    TP_ARGS(ctx, ranges),
		    TP_STRUCT__entry(__string(dev, dev_name(ctx->dev))
				     __field(u32, ranges)
				     __field(u64, granules)
				     __field(u64, start)
				     __field(u64, end)),
		    TP_fast_assign(dmashim_assign_str(dev, dev_name(ctx->dev));
				   dmashim_trace_span(ranges, &__entry->ranges,
						      &__entry->granules,
						      &__entry->start,
						      &__entry->end);),
		    TP_printk("%s ranges=%u granules=%llu span=%#llx-%#llx",
			      __get_str(dev), __entry->ranges,
			      __entry->granules, __entry->start, __entry->end)
);

/* A lazy domain's flush queue is flushed (full, timer, no space, unbind) */
DEFINE_EVENT(dmashim_flush, dmashim_fq_flush,
	     TP_PROTO(struct dmashim_ctx *ctx, struct list_head *ranges),
	     TP_ARGS(ctx, ranges)
);

/* A batch of destroyed ranges is flushed (batch.c, strict domains) */
DEFINE_EVENT(dmashim_flush, dmashim_batch_flush,
	     TP_PROTO(struct dmashim_ctx *ctx, struct list_head *ranges),
	     TP_ARGS(ctx, ranges)
);

#endif /* DMASHIM_TRACE_H */

/* Out of tree: found through the module's -I$(src) (Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection */
#include <trace/define_trace.h>
