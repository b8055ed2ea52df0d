/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu device as a DMA engine for tests: it copies between bus
 * addresses and a 4 KiB buffer inside the device (docs/specs/edu.rst).
 */
#ifndef DIS_EDU_H
#define DIS_EDU_H

#include <linux/pci.h>

#define EDU_BUF_SIZE	4096
/* QEMU 7.2 aborts the VM on a transfer that reaches the buffer's end. */
#define EDU_MAX_XFER	2048
#define EDU_DMA_BITS	28

struct dis_edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct mutex lock;	/* one DMA at a time */
};

int dis_edu_init(struct dis_edu *edu, struct pci_dev *pdev);
int dis_edu_to_device(struct dis_edu *edu, dma_addr_t src, u32 buf_off,
		      u32 len);
int dis_edu_from_device(struct dis_edu *edu, u32 buf_off, dma_addr_t dst,
			u32 len);

#endif /* DIS_EDU_H */
