// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: driving QEMU's edu DMA engine.
 *
 * Registers (BAR 0): 0x00 identification (low byte 0xed), 0x80 DMA source,
 * 0x88 DMA destination, 0x90 count, 0x98 command (bit 0 start, bit 1
 * direction: set = device buffer to RAM).  The device buffer is addressed
 * as 0x40000 + offset.  A transfer completes about 100 ms of virtual time
 * after it starts; the start bit clears then.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>

#include "edu.h"

#define EDU_REG_ID	0x00
#define EDU_REG_SRC	0x80
#define EDU_REG_DST	0x88
#define EDU_REG_CNT	0x90
#define EDU_REG_CMD	0x98
#define EDU_CMD_START	BIT(0)
#define EDU_CMD_TO_RAM	BIT(1)
#define EDU_BUF_ADDR	0x40000

int dis_edu_init(struct dis_edu *edu, struct pci_dev *pdev)
{
	edu->pdev = pdev;
	mutex_init(&edu->lock);
	edu->regs = pcim_iomap_table(pdev)[0];
	if ((readl(edu->regs + EDU_REG_ID) & 0xff) != 0xed)
		return -ENODEV;
	return 0;
}

static int dis_edu_dma(struct dis_edu *edu, u64 src, u64 dst, u32 len,
		       u32 cmd)
{
	unsigned int waited_ms = 0;

	if (!len || len > EDU_MAX_XFER)
		return -EINVAL;
	mutex_lock(&edu->lock);
	writeq(src, edu->regs + EDU_REG_SRC);
	writeq(dst, edu->regs + EDU_REG_DST);
	writeq(len, edu->regs + EDU_REG_CNT);
	writeq(cmd | EDU_CMD_START, edu->regs + EDU_REG_CMD);
	while (readq(edu->regs + EDU_REG_CMD) & EDU_CMD_START) {
		if (waited_ms > 5000) {
			mutex_unlock(&edu->lock);
			return -ETIMEDOUT;
		}
		usleep_range(5000, 6000);
		waited_ms += 5;
	}
	mutex_unlock(&edu->lock);
	return 0;
}

/* Device reads len bytes at bus address src into its buffer at buf_off. */
int dis_edu_to_device(struct dis_edu *edu, dma_addr_t src, u32 buf_off,
		      u32 len)
{
	if (buf_off + len > EDU_MAX_XFER * 2 - 1)
		return -EINVAL;
	return dis_edu_dma(edu, src, EDU_BUF_ADDR + buf_off, len, 0);
}

/* Device writes len bytes of its buffer at buf_off to bus address dst. */
int dis_edu_from_device(struct dis_edu *edu, u32 buf_off, dma_addr_t dst,
			u32 len)
{
	if (buf_off + len > EDU_MAX_XFER * 2 - 1)
		return -EINVAL;
	return dis_edu_dma(edu, EDU_BUF_ADDR + buf_off, dst, len,
			   EDU_CMD_TO_RAM);
}
