/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compat layer: the only place that knows how target kernels differ.
 *
 * HAVE_* come from compat-config.h, generated at build time by
 * src/compat/conftest.sh from the probes in src/compat/probes/ compiled
 * against the target kernel's headers (see src/shim/Kbuild).  The rest of
 * the module calls the dmashim_* helpers below and never tests a kernel
 * version.
 */
#ifndef DMASHIM_COMPAT_H
#define DMASHIM_COMPAT_H

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/mm.h>
#include <linux/pci.h>

#include "compat-config.h"

#ifdef HAVE_GENERIC_PT
#include <linux/generic_pt/iommu.h>
#endif
#ifdef HAVE_INTEL_DMAR_DOMAIN_IOVAD
#include <linux/intel-iommu.h>
#endif

#if !IS_ENABLED(CONFIG_IOMMU_DMA)
#error "dma_iova_shim needs a kernel with CONFIG_IOMMU_DMA"
#endif
#ifdef DMASHIM_MISSING_EXPORT
#error "dma_iova_shim: the kernel does not export " DMASHIM_MISSING_EXPORT
#endif
#if !defined(HAVE_DOMAIN_OPS_MAP_PAGES) && !defined(HAVE_DOMAIN_OPS_MAP)
#error "dma_iova_shim: unknown layout of the IOMMU domain ops"
#endif

/* Is the domain one the DMA API translates through (DMA or DMA-FQ)? */
static inline bool dmashim_domain_is_dma_api(struct iommu_domain *d)
{
	return d->type & __IOMMU_DOMAIN_DMA_API;
}

/* Does the device use the dma-iommu DMA ops? */
static inline bool dmashim_dev_uses_dma_iommu(struct device *dev)
{
#if defined(HAVE_DEV_DMA_IOMMU_FLAG)
	return dev_dma_iommu(dev);
#elif defined(HAVE_DEV_DMA_IOMMU_BIT)
	return dev->dma_iommu;
#else
	/*
	 * Before the bit existed, dma-iommu installed its own dma_map_ops
	 * (and 5.10's VT-d its own, see dmashim_domain_private_iovad()).
	 */
	return !!get_dma_ops(dev);
#endif
}

/* The domain's private dma-iommu cookie, or NULL. */
static inline void *dmashim_domain_cookie(struct iommu_domain *d)
{
#ifdef HAVE_DOMAIN_COOKIE_TYPE
	if (d->cookie_type != IOMMU_COOKIE_DMA_IOVA)
		return NULL;
#endif
	return (void *)d->iova_cookie;
}

/*
 * An IOVA allocator the domain keeps outside dma-iommu, or NULL.  Before
 * v5.11 VT-d had DMA ops of its own, which allocate from the iova_domain
 * in its public struct dmar_domain; such a domain has no dma-iommu cookie.
 * On x86 only VT-d's DMA domains lack the cookie, and with VT-d enabled no
 * other IOMMU driver runs.  Only a candidate: the caller validates it.
 */
static inline struct iova_domain *
dmashim_domain_private_iovad(struct iommu_domain *d)
{
#ifdef HAVE_INTEL_DMAR_DOMAIN_IOVAD
	if (intel_iommu_enabled && !dmashim_domain_cookie(d))
		return &to_dmar_domain(d)->iovad;
#endif
	return NULL;
}

/*
 * Whether the driver invalidates the IOTLB inside ->unmap() itself: it
 * has neither iotlb_sync nor flush_iotlb_all, so iommu_unmap() could not
 * flush otherwise (5.10's VT-d: one invalidation per ->unmap() call).
 */
static inline bool dmashim_ops_unmap_flushes(struct iommu_domain *d)
{
	return !d->ops->iotlb_sync && !d->ops->flush_iotlb_all;
}

/*
 * Whether the domain batches IOTLB flushes (lazy mode).  Without the
 * DMA-FQ domain type, the flush queue was part of the IOVA domain.
 */
static inline bool dmashim_domain_is_lazy(struct iommu_domain *d,
					  struct iova_domain *iovad)
{
#if defined(HAVE_DOMAIN_DMA_FQ)
	return d->type == IOMMU_DOMAIN_DMA_FQ;
#elif defined(HAVE_IOVA_FLUSH_CB)
	return !!iovad->flush_cb;
#else
	return false;
#endif
}

static inline bool dmashim_dev_untrusted(struct device *dev)
{
	return dev_is_pci(dev) && to_pci_dev(dev)->untrusted;
}

/*
 * Map or unmap a whole range through a generic page table (iommupt), if the
 * domain has one.  Return false if it has not: use the domain ops then.
 */
static inline bool dmashim_pt_map(struct iommu_domain *d, unsigned long iova,
				  phys_addr_t paddr, size_t size, int prot,
				  size_t *mapped, int *ret)
{
#ifdef HAVE_GENERIC_PT
	struct pt_iommu *pt = iommupt_from_domain(d);

	if (pt) {
		*ret = pt->ops->map_range(pt, iova, paddr, size, prot,
					  GFP_ATOMIC, mapped);
		return true;
	}
#endif
	return false;
}

static inline bool dmashim_pt_unmap(struct iommu_domain *d, unsigned long iova,
				    size_t size, struct iommu_iotlb_gather *g,
				    size_t *unmapped)
{
#ifdef HAVE_GENERIC_PT
	struct pt_iommu *pt = iommupt_from_domain(d);

	if (pt) {
		*unmapped = pt->ops->unmap_range(pt, iova, size, g);
		return true;
	}
#endif
	return false;
}

/* Can the shim write this domain's page tables at all? */
static inline bool dmashim_domain_has_pgtbl_ops(struct iommu_domain *d)
{
#ifdef HAVE_GENERIC_PT
	if (iommupt_from_domain(d))
		return true;
#endif
#ifdef HAVE_DOMAIN_OPS_MAP_PAGES
	return d->ops->map_pages && d->ops->unmap_pages;
#else
	return d->ops->map && d->ops->unmap;
#endif
}

/*
 * Map pgcount pages of pgsize at iova, no IOTLB sync.  With one-page
 * ->map() (5.10) only the first page is mapped: the caller picks the page
 * size again for the rest, as iommu_map() does, so that a later part of
 * the range can use a larger page (and VT-d in caching mode, which
 * invalidates on every ->map() call, is called as few times as possible).
 */
static inline int dmashim_ops_map(struct iommu_domain *d, unsigned long iova,
				  phys_addr_t paddr, size_t pgsize,
				  size_t pgcount, int prot, size_t *mapped)
{
#ifdef HAVE_DOMAIN_OPS_MAP_PAGES
	return d->ops->map_pages(d, iova, paddr, pgsize, pgcount, prot,
				 GFP_ATOMIC, mapped);
#else
	int ret = d->ops->map(d, iova, paddr, pgsize, prot, GFP_ATOMIC);

	*mapped = ret ? 0 : pgsize;
	return ret;
#endif
}

/*
 * Unmap pgcount pages of pgsize at iova, collecting what to flush; return
 * the bytes unmapped.  With one-page ->unmap() (5.10) only the first page
 * is unmapped and the caller picks the page size again for the rest, as
 * iommu_unmap() does.  Such a call may unmap more than pgsize: a whole
 * large page (AMD's v1 tables), or, if iova is not mapped at all, VT-d's
 * whole table level around it (up to 1 GiB of other mappings): an
 * unmapped iova is never passed on but stepped over, one granule (there is
 * nothing to unmap there).
 */
static inline size_t dmashim_ops_unmap(struct iommu_domain *d,
				       unsigned long iova, size_t pgsize,
				       size_t pgcount,
				       struct iommu_iotlb_gather *gather)
{
#ifdef HAVE_DOMAIN_OPS_MAP_PAGES
	return d->ops->unmap_pages(d, iova, pgsize, pgcount, gather);
#else
	if (!d->ops->iova_to_phys(d, iova))
		return 1UL << __ffs(d->pgsize_bitmap);
	return d->ops->unmap(d, iova, pgsize, gather);
#endif
}

/* Make new mappings visible to the device: one sync for the range. */
static inline int dmashim_ops_sync_map(struct iommu_domain *d,
				       unsigned long iova, size_t size)
{
	if (!d->ops->iotlb_sync_map)
		return 0;
#if defined(HAVE_IOTLB_SYNC_MAP_INT)
	return d->ops->iotlb_sync_map(d, iova, size);
#elif defined(HAVE_IOTLB_SYNC_MAP_RANGE)
	d->ops->iotlb_sync_map(d, iova, size);
	return 0;
#else
	d->ops->iotlb_sync_map(d);
	return 0;
#endif
}

/* One IOTLB invalidation for everything gathered; frees its page tables. */
static inline void dmashim_ops_iotlb_sync(struct iommu_domain *d,
					  struct iommu_iotlb_gather *gather)
{
	if (d->ops->iotlb_sync)
		d->ops->iotlb_sync(d, gather);
	else if (d->ops->flush_iotlb_all)
		d->ops->flush_iotlb_all(d);
}

/* The page-table pages an unmap left on the gather, if the kernel has them. */
static inline struct list_head *
dmashim_gather_freelist(struct iommu_iotlb_gather *g)
{
#if defined(HAVE_GATHER_FREELIST_PAGES)
	return &g->freelist.pages;
#elif defined(HAVE_GATHER_FREELIST_LIST)
	return &g->freelist;
#else
	return NULL;
#endif
}

/*
 * In a trace event's TP_fast_assign(): copy the string of a __string()
 * field from its source.  v6.10 dropped __assign_str()'s second argument
 * (the source __string() already names); there @src is evaluated for
 * nothing, which the compiler drops.
 */
#ifdef HAVE_TRACE_ASSIGN_STR_ONE_ARG
#define dmashim_assign_str(dst, src)	\
	do { (void)(src); __assign_str(dst); } while (0)
#else
#define dmashim_assign_str(dst, src)	__assign_str(dst, src)
#endif

#endif /* DMASHIM_COMPAT_H */
