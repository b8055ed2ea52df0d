/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dis_selftest: the mapping microbenchmark (mbench.c) and its two-step
 * request, built twice: against the shim's exports (mbench-shim.c) and
 * against the kernel's own API where it has one (mbench-native.c).
 */
#ifndef DIS_MBENCH_H
#define DIS_MBENCH_H

#include <linux/device.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include "selftest.h"

/* The most segments (scattered 4 KiB pages) one request may have. */
#define DIS_MB_MAX_SEGS	128

int dis_mb_shim_request(struct device *dev, struct page **pages,
			unsigned int nseg, dma_addr_t *addr, bool *iova);
int dis_mb_native_request(struct device *dev, struct page **pages,
			  unsigned int nseg, dma_addr_t *addr, bool *iova);
extern const bool dis_mb_have_native;

int dis_mbench_cmd(struct dis_test *t, const char *cmd);
ssize_t dis_mbench_read(char __user *ubuf, size_t len, loff_t *ppos);
void dis_mbench_exit(void);

#endif /* DIS_MBENCH_H */
