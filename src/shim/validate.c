// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: which devices the shim can serve, and the IOVA allocator
 * it shares with the regular DMA API for each of them.
 *
 * The DMA API of these kernels allocates IOVAs from a struct iova_domain
 * embedded in dma-iommu's private cookie (domain->iova_cookie).  The shim
 * must use that same allocator, so that a driver can mix dma_iova_* with
 * dma_map_* on one device.  The cookie's layout is private and differs
 * between kernels, so the shim considers a few candidate positions of the
 * iova_domain in it and accepts one only after checking it against this
 * very device at run time:
 *
 *  - its granule is the domain's smallest page size, its start pfn and
 *    32-bit boundary are what dma-iommu derives from the domain geometry;
 *  - a page mapped with dma_map_page() on the device lies inside an IOVA
 *    that find_iova() returns from the candidate, and the domain translates
 *    that address back to the page.
 *
 * 5.10's VT-d has DMA ops of its own and no cookie: its DMA ops allocate
 * from the iova_domain in its public struct dmar_domain, which is checked
 * the same way (see dmashim_domain_private_iovad()).
 *
 * If no candidate passes, the device is marked failed: try_alloc returns
 * false (the caller falls back) and the reason is logged once.  Nothing is
 * ever written to a candidate that did not pass.  The device's context,
 * which keeps the outcome, is domain.c's.
 */
#include <linux/dma-mapping.h>

#include "shim.h"

/* Where the iova_domain may sit in the cookie: after an enum, or first. */
static const size_t dmashim_iovad_offsets[] = { sizeof(long), 0 };

static bool dmashim_iovad_plausible(struct iommu_domain *domain,
				    struct iova_domain *iovad)
{
	unsigned long granule = 1UL << __ffs(domain->pgsize_bitmap);
	unsigned int shift = __ffs(granule);
	unsigned long base_pfn;

	base_pfn = max_t(unsigned long, 1,
			 domain->geometry.aperture_start >> shift);
	return iovad->granule == granule &&
	       iovad->start_pfn == base_pfn &&
	       iovad->dma_32bit_pfn == 1UL << (32 - shift);
}

/*
 * Reasons a validation may give that say nothing about the device: running
 * out of memory or of IOVA space.  The device stays unclassified and is
 * tried again on its next try_alloc.
 */
static const char dmashim_why_nomem[] = "no memory for the validation page";
static const char dmashim_why_nomap[] = "dma_map_page of the validation page failed";

bool dmashim_why_transient(const char *why)
{
	return why == dmashim_why_nomem || why == dmashim_why_nomap;
}

/* Map a scratch page through the regular DMA API and find it in iovad. */
static const char *dmashim_round_trip(struct device *dev,
				      struct iommu_domain *domain,
				      struct iova_domain *iovad)
{
	const char *why = NULL;
	struct page *page;
	struct iova *iova;
	dma_addr_t addr;
	unsigned long pfn;

	page = dmashim_inject_validation_failure() ? NULL :
		alloc_page(GFP_ATOMIC);
	if (!page)
		return dmashim_why_nomem;
	addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		why = dmashim_why_nomap;
		goto out_free;
	}
	pfn = addr >> __ffs(iovad->granule);
	iova = find_iova(iovad, pfn);
	if (!iova || pfn < iova->pfn_lo || pfn > iova->pfn_hi)
		why = "a dma_map_page IOVA is not in the candidate allocator";
	else if (iommu_iova_to_phys(domain, addr) != page_to_phys(page))
		why = "the domain does not translate the dma_map_page IOVA";
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
out_free:
	__free_page(page);
	return why;
}

/*
 * A domain without a dma-iommu cookie may keep its allocator in the IOMMU
 * driver's own domain (5.10's VT-d, see dmashim_domain_private_iovad()).
 */
static struct iova_domain *dmashim_find_private_iovad(struct device *dev,
						      struct iommu_domain *domain,
						      const char **why)
{
	struct iova_domain *iovad = dmashim_domain_private_iovad(domain);

	if (!iovad) {
		*why = "the domain has no dma-iommu IOVA cookie";
		return NULL;
	}
	if (!dmashim_iovad_plausible(domain, iovad)) {
		*why = "the IOMMU driver's IOVA allocator does not match the domain geometry";
		return NULL;
	}
	*why = dmashim_round_trip(dev, domain, iovad);
	return *why ? NULL : iovad;
}

/* Find and validate the device's IOVA allocator; NULL + reason if none. */
struct iova_domain *dmashim_find_iovad(struct device *dev,
				       struct iommu_domain *domain,
				       const char **why)
{
	void *cookie = dmashim_domain_cookie(domain);
	struct iova_domain *iovad;
	unsigned int i;

	if (!cookie)
		return dmashim_find_private_iovad(dev, domain, why);
	*why = "no candidate IOVA allocator matches the domain geometry";
	for (i = 0; i < ARRAY_SIZE(dmashim_iovad_offsets); i++) {
		iovad = cookie + dmashim_iovad_offsets[i];
		if (!dmashim_iovad_plausible(domain, iovad))
			continue;
		*why = dmashim_round_trip(dev, domain, iovad);
		if (!*why || dmashim_why_transient(*why))
			return *why ? NULL : iovad;
	}
	return NULL;
}

/*
 * Devices the shim does not serve at all, whatever their domain: those not
 * on the PCI bus (a device's context is dropped when its PCI driver
 * unbinds, and the shim watches no other bus) and those that are not
 * DMA-coherent (the shim does no cache maintenance).  They get no context:
 * this is checked again on every try_alloc, and costs two loads.
 */
bool dmashim_dev_unsupported(struct device *dev)
{
	return !dev_is_pci(dev) || !dev_is_dma_coherent(dev);
}

/* Classify a device the shim cannot translate for; false if it can. */
bool dmashim_unusable(struct device *dev, struct iommu_domain *domain,
		      enum dmashim_fallback *why)
{
	if (!domain) {
		*why = DMASHIM_FB_NO_IOMMU;
		return true;
	}
	if (!dmashim_domain_is_dma_api(domain)) {
		*why = DMASHIM_FB_IDENTITY;
		return true;
	}
	if (!dmashim_dev_uses_dma_iommu(dev) ||
	    (!dmashim_domain_cookie(domain) &&
	     !dmashim_domain_private_iovad(domain))) {
		*why = DMASHIM_FB_NOT_DMA_API;
		return true;
	}
	if (!dmashim_domain_has_pgtbl_ops(domain)) {
		*why = DMASHIM_FB_NOT_DMA_API;
		return true;
	}
	if (dmashim_dev_untrusted(dev)) {
		*why = DMASHIM_FB_UNTRUSTED;
		return true;
	}
	return false;
}

/* What the log and debugfs say about a device classified as unusable. */
const char *dmashim_unusable_reason(enum dmashim_fallback why)
{
	switch (why) {
	case DMASHIM_FB_NO_IOMMU:
		return "no IOMMU translates for the device";
	case DMASHIM_FB_IDENTITY:
		return "identity (passthrough) or blocked IOMMU domain";
	default:
		return "the IOMMU domain is not one the DMA API manages";
	}
}
