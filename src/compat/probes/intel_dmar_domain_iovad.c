/*
 * Before v5.11 VT-d had its own DMA ops (not dma-iommu's), allocating IOVAs
 * from the iova_domain in its public struct dmar_domain; commit
 * c588072bba6b ("iommu/vt-d: Convert intel iommu driver to the iommu ops")
 * moved it to dma-iommu.  The field outlived that, unused, until the header
 * went private in v6.0, commit 2585a2790e7f ("iommu/vt-d: Move
 * include/linux/intel-iommu.h under iommu"), so this compiles on v5.11 to
 * v5.19 too: the shim takes the field only for a domain without a
 * dma-iommu cookie.  Needs the driver built in: the shim reads
 * intel_iommu_enabled.
 */
#include <linux/intel-iommu.h>
#if !IS_ENABLED(CONFIG_INTEL_IOMMU)
#error "no VT-d driver"
#endif
struct iova_domain *probe(struct iommu_domain *d)
{
	return intel_iommu_enabled ? &to_dmar_domain(d)->iovad : NULL;
}
