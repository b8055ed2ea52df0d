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

#endif /* _DMA_IOVA_SHIM_H */
