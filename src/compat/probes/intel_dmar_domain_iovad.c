/*
 * Before v5.11 VT-d had its own DMA ops (not dma-iommu's), allocating IOVAs
 * from the iova_domain in its public struct dmar_domain.  Needs the driver
 * built in: the shim reads intel_iommu_enabled.
 */
#include <linux/intel-iommu.h>
#if !IS_ENABLED(CONFIG_INTEL_IOMMU)
#error "no VT-d driver"
#endif
struct iova_domain *probe(struct iommu_domain *d)
{
	return intel_iommu_enabled ? &to_dmar_domain(d)->iovad : NULL;
}
