/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences of the block layer and friends, as small
 * static inline wrappers.  This is the only file of the driver that may
 * look at LINUX_VERSION_CODE; feature macros are preferred where the
 * kernel defines one.
 */
#ifndef NVI_COMPAT_H
#define NVI_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/pci.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#include <linux/blk-mq-pci.h>
#endif

/**
 * struct nvi_limits - queue limits of one namespace, kernel independent
 * @lbs: logical block size in bytes
 * @max_hw_sectors: largest transfer in 512-byte sectors
 * @max_segments: most DMA segments per request
 * @virt_boundary: PRP rule: segments may not straddle this mask
 * @max_discard_sectors: 0 if discard is not supported
 * @max_write_zeroes_sectors: 0 if Write Zeroes is not supported
 * @wc: the controller has a volatile write cache
 */
struct nvi_limits {
	unsigned int lbs;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned long virt_boundary;
	unsigned int max_discard_sectors;
	unsigned int max_write_zeroes_sectors;
	bool wc;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
/* 6.9: limits are handed to blk_mq_alloc_disk() as a struct queue_limits */
static inline struct gendisk *nvi_alloc_disk(struct blk_mq_tag_set *set,
					     const struct nvi_limits *l,
					     void *queuedata)
{
	struct queue_limits lim = {
		.logical_block_size	= l->lbs,
		.physical_block_size	= l->lbs,
		.io_min			= l->lbs,
		.max_hw_sectors		= l->max_hw_sectors,
		.max_segments		= l->max_segments,
		.virt_boundary_mask	= l->virt_boundary,
		.max_hw_discard_sectors	= l->max_discard_sectors,
		.max_discard_segments	= 1,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.dma_alignment		= 3,
	};

	if (l->max_discard_sectors)
		lim.discard_granularity = l->lbs;
#ifdef BLK_FEAT_WRITE_CACHE
	/* 6.11: cache flags moved into queue_limits.features */
	if (l->wc)
		lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
#endif
	return blk_mq_alloc_disk(set, &lim, queuedata);
}

static inline void nvi_disk_set_wc(struct gendisk *disk, bool wc)
{
#ifndef BLK_FEAT_WRITE_CACHE
	blk_queue_write_cache(disk->queue, wc, wc);
#endif
}
#else
static inline void nvi_apply_limits(struct request_queue *q,
				    const struct nvi_limits *l)
{
	blk_queue_logical_block_size(q, l->lbs);
	blk_queue_physical_block_size(q, l->lbs);
	blk_queue_io_min(q, l->lbs);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_virt_boundary(q, l->virt_boundary);
	blk_queue_dma_alignment(q, 3);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		blk_queue_max_discard_segments(q, 1);
		q->limits.discard_granularity = l->lbs;
	}
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
static inline struct gendisk *nvi_alloc_disk(struct blk_mq_tag_set *set,
					     const struct nvi_limits *l,
					     void *queuedata)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);

	if (!IS_ERR(disk))
		nvi_apply_limits(disk->queue, l);
	return disk;
}
#else
/* 5.14 added blk_mq_alloc_disk(); before, queue and disk came separately */
static inline struct gendisk *nvi_alloc_disk(struct blk_mq_tag_set *set,
					     const struct nvi_limits *l,
					     void *queuedata)
{
	struct request_queue *q = blk_mq_init_queue(set);
	struct gendisk *disk;

	if (IS_ERR(q))
		return ERR_CAST(q);
	q->queuedata = queuedata;
	disk = alloc_disk(0);
	if (!disk) {
		blk_cleanup_queue(q);
		return ERR_PTR(-ENOMEM);
	}
	disk->flags |= GENHD_FL_EXT_DEVT;
	disk->queue = q;
	nvi_apply_limits(q, l);
	return disk;
}
#endif

static inline void nvi_disk_set_wc(struct gendisk *disk, bool wc)
{
	blk_queue_write_cache(disk->queue, wc, wc);
}
#endif

/* 5.15: device_add_disk() can fail */
static inline int nvi_add_disk(struct device *parent, struct gendisk *disk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
	return device_add_disk(parent, disk, NULL);
#else
	device_add_disk(parent, disk, NULL);
	return 0;
#endif
}

/*
 * Dropping the driver's reference to a disk, after del_gendisk() or when
 * adding it failed: 6.0 moved the queue teardown into the disk's release
 * and added ->free_disk(); before that the queue was cleaned up here.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 0, 0)
#define NVI_HAVE_FREE_DISK 1
static inline void nvi_put_disk(struct gendisk *disk)
{
	put_disk(disk);
}
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
static inline void nvi_put_disk(struct gendisk *disk)
{
	blk_cleanup_disk(disk);
}
#else
static inline void nvi_put_disk(struct gendisk *disk)
{
	blk_cleanup_queue(disk->queue);
	put_disk(disk);
}
#endif

/*
 * Passthrough commands are executed synchronously; the block status says
 * whether the request reached the controller (19: one argument left).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
static inline blk_status_t nvi_execute_rq(struct request *rq)
{
	return blk_execute_rq(rq, false);
}
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
static inline blk_status_t nvi_execute_rq(struct request *rq)
{
	return blk_execute_rq(NULL, rq, false);
}
#else
struct nvi_sync_rq {
	struct completion done;
	blk_status_t status;
};

static inline void nvi_sync_rq_end(struct request *rq, blk_status_t status)
{
	struct nvi_sync_rq *wait = rq->end_io_data;

	wait->status = status;
	complete(&wait->done);
}

/* 5.10's blk_execute_rq() does not return the status: wait ourselves */
static inline blk_status_t nvi_execute_rq(struct request *rq)
{
	struct nvi_sync_rq wait = { .status = BLK_STS_OK };

	init_completion(&wait.done);
	rq->end_io_data = &wait;
	blk_execute_rq_nowait(rq->q, NULL, rq, false, nvi_sync_rq_end);
	wait_for_completion_io(&wait.done);
	return wait.status;
}
#endif

/*
 * 6.0 dropped the "reserved" argument of the timeout and tag iterator
 * callbacks and made ->map_queues() return void; queue.c adapts with
 * small wrappers when this is defined.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
#define NVI_BLK_RESERVED_ARGS 1
#endif

/* 6.15 dropped the request_queue argument of blk_rq_map_sg() */
static inline int nvi_blk_rq_map_sg(struct request *rq, struct scatterlist *sgl)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return blk_rq_map_sg(rq, sgl);
#else
	return blk_rq_map_sg(rq->q, rq, sgl);
#endif
}

/* 6.14 replaced blk_mq_pci_map_queues() by blk_mq_map_hw_queues() */
static inline void nvi_map_hw_queues(struct blk_mq_queue_map *map,
				     struct pci_dev *pdev, int offset)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	blk_mq_map_hw_queues(map, &pdev->dev, offset);
#else
	blk_mq_pci_map_queues(map, pdev, offset);
#endif
}

/* 6.14 made merging the default and removed BLK_MQ_F_SHOULD_MERGE */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define NVI_TAG_SET_FLAGS	0
#else
#define NVI_TAG_SET_FLAGS	BLK_MQ_F_SHOULD_MERGE
#endif

/* 6.5: block_device_operations take a blk_mode_t instead of an fmode_t */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
typedef blk_mode_t nvi_blk_mode_t;
#else
typedef fmode_t nvi_blk_mode_t;
#endif

#endif /* NVI_COMPAT_H */
