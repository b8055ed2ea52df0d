/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma-iova-shim: the mainline two-step DMA mapping API for every kernel.
 *
 * Include this header instead of (or after) <linux/dma-mapping.h> and write
 * the driver against the mainline names:
 *
 *	dma_iova_try_alloc()  dma_iova_link()   dma_iova_sync()
 *	dma_iova_unlink()     dma_iova_destroy() dma_iova_free()
 *	dma_use_iova()        dma_iova_size()   struct dma_iova_state
 *	dma_map_phys()        dma_unmap_phys()
 *
 * On a kernel that has the API natively (v6.16+; dma_map_phys from v6.18)
 * the names are the kernel's own and nothing of the shim is used.  On older
 * kernels they resolve to the exports of dma_iova_shim.ko (dmashim_*), with
 * the same semantics.  Define DMA_IOVA_SHIM_FORCE before including (or build
 * with -DDMA_IOVA_SHIM_FORCE) to use the shim even where the kernel has the
 * API, e.g. to compare the two on one kernel.
 *
 * The choice is made from what the kernel's headers define, not from the
 * version number, so vendor kernels with backports are handled.
 *
 * At the end: dma_iova_destroy_batched(), dma_iova_batch_flush() and
 * dma_iova_batch_defers(), an extension of the shim's own that mainline
 * does not have.
 */
#ifndef _DMA_IOVA_SHIM_H
#define _DMA_IOVA_SHIM_H

#include <linux/bits.h>
#include <linux/dma-mapping.h>
#include <linux/types.h>

/* The native API defines DMA_IOVA_USE_SWIOTLB with struct dma_iova_state. */
#ifdef DMA_IOVA_USE_SWIOTLB
#define DMA_IOVA_SHIM_NATIVE_STATE 1
#endif

#if defined(DMA_IOVA_SHIM_NATIVE_STATE) && !defined(DMA_IOVA_SHIM_FORCE)
#define DMA_IOVA_SHIM_USES_NATIVE 1
#endif

#ifndef DMA_IOVA_SHIM_NATIVE_STATE
/* Same layout and meaning as mainline's. */
struct dma_iova_state {
	dma_addr_t addr;
	u64 __size;
};

#define DMA_IOVA_USE_SWIOTLB	BIT_ULL(63)

static inline size_t dma_iova_size(struct dma_iova_state *state)
{
	/* Casting is needed for 32-bit systems */
	return (size_t)(state->__size & ~DMA_IOVA_USE_SWIOTLB);
}

static inline bool dma_use_iova(struct dma_iova_state *state)
{
	return state->__size != 0;
}
#endif /* !DMA_IOVA_SHIM_NATIVE_STATE */

#ifndef DMA_ATTR_MMIO
/* Mainline's value; the shim strips it before calling the kernel. */
#define DMA_ATTR_MMIO		BIT(10)
#define DMA_IOVA_SHIM_OWN_ATTR_MMIO 1
#endif

/* The shim's exports, always present in dma_iova_shim.ko. */
bool dmashim_iova_try_alloc(struct device *dev, struct dma_iova_state *state,
			    phys_addr_t phys, size_t size);
void dmashim_iova_free(struct device *dev, struct dma_iova_state *state);
void dmashim_iova_destroy(struct device *dev, struct dma_iova_state *state,
			  size_t mapped_len, enum dma_data_direction dir,
			  unsigned long attrs);
int dmashim_iova_sync(struct device *dev, struct dma_iova_state *state,
		      size_t offset, size_t size);
int dmashim_iova_link(struct device *dev, struct dma_iova_state *state,
		      phys_addr_t phys, size_t offset, size_t size,
		      enum dma_data_direction dir, unsigned long attrs);
void dmashim_iova_unlink(struct device *dev, struct dma_iova_state *state,
			 size_t offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs);
dma_addr_t dmashim_map_phys(struct device *dev, phys_addr_t phys, size_t size,
			    enum dma_data_direction dir, unsigned long attrs);
void dmashim_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs);

#ifndef DMA_IOVA_SHIM_USES_NATIVE
/*
 * Macros rather than inlines: the native declarations, if any, stay
 * untouched, and the calls below compile to direct calls of the shim.
 */
#define dma_iova_try_alloc	dmashim_iova_try_alloc
#define dma_iova_free		dmashim_iova_free
#define dma_iova_destroy	dmashim_iova_destroy
#define dma_iova_sync		dmashim_iova_sync
#define dma_iova_link		dmashim_iova_link
#define dma_iova_unlink		dmashim_iova_unlink
#endif

#if !defined(DMA_IOVA_SHIM_USES_NATIVE) || defined(DMA_IOVA_SHIM_OWN_ATTR_MMIO)
#define dma_map_phys		dmashim_map_phys
#define dma_unmap_phys		dmashim_unmap_phys
#endif

/*
 * ---------------------------------------------------------------------------
 * dma-iova-shim extension, NOT in mainline: batched strict unmapping.
 *
 * In a strict IOMMU domain every dma_iova_destroy() costs one synchronous
 * IOTLB invalidation.  A driver that completes several requests at once (a
 * completion batch) may instead destroy each of their ranges with
 * dma_iova_destroy_batched(), which clears the page tables but does not
 * invalidate, then call dma_iova_batch_flush() once: one invalidation
 * covers every range of the batch, and only then are their IOVAs given
 * back to the allocator and the page-table pages the unmaps released
 * freed.  The driver ends the requests (gives their memory back to its
 * owners) only after the flush has returned: to every owner of memory
 * this is still strict mode.
 *
 * A batch is the caller's (on the stack, or one per queue), holds ranges of
 * one device only, and is used by one context at a time (the caller
 * serialises, as it does for the queue it belongs to).  It holds at most
 * DMA_IOVA_BATCH_MAX ranges: the destroy that fills it flushes it at once,
 * which is always correct (the invalidation only comes earlier).  In a
 * lazy (flush-queue) domain, and where the IOMMU driver invalidates in
 * every unmap by itself (5.10's VT-d), a batched destroy is a plain
 * dma_iova_destroy() and the batch stays empty.  Where this header maps to
 * the kernel's own API (DMA_IOVA_SHIM_USES_NATIVE), the batched destroy is
 * a plain dma_iova_destroy() and the flush does nothing: correct, no gain.
 * ---------------------------------------------------------------------------
 */
#define DMA_IOVA_BATCH_MAX	64

/**
 * struct dma_iova_batch - destroyed ranges waiting for one IOTLB flush
 * @dev: the device of every range held; set by the first one
 * @first: private to the shim: its record of the first range held
 * @ctx_id: private to the shim: the device context the ranges belong to
 * @count: ranges held, at most DMA_IOVA_BATCH_MAX
 *
 * Initialise with dma_iova_batch_init() or DEFINE_DMA_IOVA_BATCH(); an
 * empty batch may be copied, dropped or reused for another device.
 */
struct dma_iova_batch {
	struct device *dev;
	void *first;
	u64 ctx_id;
	unsigned int count;
};

#define DEFINE_DMA_IOVA_BATCH(name) struct dma_iova_batch name = { }

static inline void dma_iova_batch_init(struct dma_iova_batch *batch)
{
	*batch = (struct dma_iova_batch){ };
}

static inline bool dma_iova_batch_empty(const struct dma_iova_batch *batch)
{
	return !batch->count;
}

void dmashim_iova_destroy_batched(struct device *dev,
				  struct dma_iova_state *state,
				  size_t mapped_len,
				  enum dma_data_direction dir,
				  unsigned long attrs,
				  struct dma_iova_batch *batch);
void dmashim_iova_batch_flush(struct device *dev,
			      struct dma_iova_batch *batch);
bool dmashim_iova_batch_defers(struct device *dev);

#ifdef DMA_IOVA_SHIM_USES_NATIVE
/* The kernel's own API: every destroy invalidates, nothing to batch. */
static inline void dma_iova_destroy_batched(struct device *dev,
					    struct dma_iova_state *state,
					    size_t mapped_len,
					    enum dma_data_direction dir,
					    unsigned long attrs,
					    struct dma_iova_batch *batch)
{
	dma_iova_destroy(dev, state, mapped_len, dir, attrs);
}

static inline void dma_iova_batch_flush(struct device *dev,
					struct dma_iova_batch *batch)
{
}

static inline bool dma_iova_batch_defers(struct device *dev)
{
	return false;
}
#else
#define dma_iova_destroy_batched	dmashim_iova_destroy_batched
#define dma_iova_batch_flush		dmashim_iova_batch_flush
#define dma_iova_batch_defers		dmashim_iova_batch_defers
#endif

#endif /* _DMA_IOVA_SHIM_H */
