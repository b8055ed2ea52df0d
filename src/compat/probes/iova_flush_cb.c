/*
 * Before v5.17 the DMA flush queue lived in struct iova_domain, whose
 * flush_cb is set when the domain is lazy.
 */
#include <linux/iova.h>
bool probe(struct iova_domain *iovad)
{
	return !!iovad->flush_cb;
}
