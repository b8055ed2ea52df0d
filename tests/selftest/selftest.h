/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DIS_SELFTEST_H
#define DIS_SELFTEST_H

#include <linux/device.h>

#include <dma-iova-shim.h>

#include "edu.h"

/**
 * struct dis_test - what a test case works with
 * @dev: the edu device's struct device
 * @edu: its DMA engine
 * @expect_iova: the IOMMU mode translates: try_alloc must succeed
 * @stale: 1: stale IOVAs must be dead at once (strict flushing); 2: a
 *	destroyed range once the deferred flush is due (lazy), an unlinked
 *	one at once
 * @stale_tries: stale accesses per strict stale case (each primed, each
 *	required to be blocked)
 * @stress_ms: how long the stress case runs
 * @scratch: a page for reading the device buffer back
 * @leak_page: the page linked by deliberately leaked ranges
 * @left: a batch deliberately left unflushed (dis_batch_leave())
 * @why: reason of the last failure
 */
struct dis_test {
	struct device *dev;
	struct dis_edu *edu;
	bool expect_iova;
	unsigned int stale;
	unsigned int stale_tries;
	unsigned int stress_ms;
	void *scratch;
	struct page *leak_page;
	struct dma_iova_batch left;
	char why[160];
};

#define dis_fail(t, fmt, ...) ({					\
	snprintf((t)->why, sizeof((t)->why), fmt, ##__VA_ARGS__);	\
	-EIO;								\
})

/* cases.c: helpers shared by the cases */
void dis_fill(struct page *p, u8 seed);
int dis_alloc_pages(struct page **pages, unsigned int n);
void dis_free_pages(struct page **pages, unsigned int n);
int dis_read_back(struct dis_test *t, u32 off, void *out, u32 len);
int dis_preset(struct dis_test *t, u32 off, u8 byte, u32 len);

int dis_case_alloc(struct dis_test *t);
int dis_case_corner(struct dis_test *t);
int dis_case_fallback(struct dis_test *t);
int dis_case_link_dma(struct dis_test *t);
int dis_case_unaligned(struct dis_test *t);
int dis_case_link_eio(struct dis_test *t);
int dis_case_stale_destroy(struct dis_test *t);
int dis_case_stale_unlink(struct dis_test *t);
int dis_case_mixing(struct dis_test *t);
int dis_case_stress(struct dis_test *t);
int dis_case_irqs_off(struct dis_test *t);
int dis_case_unlink_mixed(struct dis_test *t);
int dis_case_untrusted(struct dis_test *t);
int dis_case_exhaustion(struct dis_test *t);
int dis_case_lazy_reuse(struct dis_test *t);
int dis_case_misuse_link(struct dis_test *t);
int dis_case_misuse_destroy(struct dis_test *t);
int dis_case_non_pci(struct dis_test *t);
int dis_probe_fails(struct device *dev);
int dis_stress_injected(struct dis_test *t, unsigned int ms);
int dis_requests(struct dis_test *t, unsigned int n, unsigned int nseg,
		 unsigned int every);
int dis_leak(struct dis_test *t);

/* cases-batch.c, stress-batch.c: the shim's batched destroys */
int dis_case_batch_stale(struct dis_test *t);
int dis_case_batch_reuse(struct dis_test *t);
int dis_case_batch_misuse(struct dis_test *t);
int dis_case_batch_completion(struct dis_test *t);
int dis_case_batch_stress(struct dis_test *t);
int dis_batch_leave(struct dis_test *t, unsigned int n);

#endif /* DIS_SELFTEST_H */
