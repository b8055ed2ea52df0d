/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compat layer's block-layer half, for the nvme_iova demo driver: how
 * the target kernels' block layer differs, as small static inline wrappers.
 *
 * HAVE_* come from blk-compat-config.h, generated at build time by
 * src/compat/conftest.sh from the probes in src/compat/probes-blk/ compiled
 * against the target kernel's headers (see src/nvme/Kbuild).  The driver
 * calls the blkcompat_* helpers below and never tests a kernel version; it
 * tests HAVE_* only where a callback it hands the kernel changed shape.
 */
#ifndef BLKCOMPAT_H
#define BLKCOMPAT_H

#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/kref.h>
#include <linux/log2.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>

#include "blk-compat-config.h"

#ifdef HAVE_BLK_MQ_PCI_MAP_QUEUES
#include <linux/blk-mq-pci.h>
#endif

/**
 * struct blkcompat_limits - queue limits of one disk, kernel independent
 * @lbs: logical block size in bytes
 * @pbs: physical block size (largest atomic write, at most @io_min)
 * @io_min: preferred minimum write size (a multiple of @lbs)
 * @io_opt: optimal write size (0: none stated)
 * @atomic_bs: largest write the device does atomically (power-fail safe)
 * @max_hw_sectors: largest transfer in 512-byte sectors
 * @max_segments: most DMA segments per request
 * @virt_boundary: PRP rule: segments may not straddle this mask
 * @max_discard_sectors: 0 if discard is not supported
 * @max_discard_segments: ranges one discard may carry
 * @discard_granularity: preferred deallocation unit in bytes
 * @max_write_zeroes_sectors: 0 if Write Zeroes is not supported
 * @wc: the device has a volatile write cache (and honours FUA)
 */
struct blkcompat_limits {
	unsigned int lbs;
	unsigned int pbs;
	unsigned int io_min;
	unsigned int io_opt;
	unsigned int atomic_bs;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned long virt_boundary;
	unsigned int max_discard_sectors;
	unsigned short max_discard_segments;
	unsigned int discard_granularity;
	unsigned int max_write_zeroes_sectors;
	bool wc;
};

#ifdef HAVE_BLK_MQ_ALLOC_DISK_LIMITS
/* Our limits into a struct queue_limits; the features it has stay set. */
static inline void blkcompat_fill_limits(struct queue_limits *lim,
					 const struct blkcompat_limits *l)
{
	lim->logical_block_size = l->lbs;
	lim->physical_block_size = l->pbs;
	lim->io_min = l->io_min;
	lim->io_opt = l->io_opt;
	lim->max_hw_sectors = l->max_hw_sectors;
	lim->max_segments = l->max_segments;
	lim->virt_boundary_mask = l->virt_boundary;
	lim->max_hw_discard_sectors = l->max_discard_sectors;
	lim->max_discard_segments = l->max_discard_segments;
	lim->max_write_zeroes_sectors = l->max_write_zeroes_sectors;
	lim->dma_alignment = 3;
	/* stated for every disk since the limits API (v6.9) */
	lim->max_integrity_segments = 1;
	if (l->max_discard_sectors)
		lim->discard_granularity = l->discard_granularity;
#ifdef HAVE_QUEUE_LIMITS_ATOMIC_WRITE
	lim->atomic_write_hw_max = l->atomic_bs;
	lim->atomic_write_hw_unit_min = l->lbs;
	lim->atomic_write_hw_unit_max = rounddown_pow_of_two(l->atomic_bs);
#ifdef BLK_FEAT_ATOMIC_WRITES
	lim->features |= BLK_FEAT_ATOMIC_WRITES;
#endif
#endif
#ifdef BLK_FEAT_WRITE_CACHE
	/* the cache flags are features in the limits */
	if (l->wc)
		lim->features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
#endif
}

/* The limits go to blk_mq_alloc_disk() as a struct queue_limits. */
static inline struct gendisk *
blkcompat_alloc_disk(struct blk_mq_tag_set *set,
		     const struct blkcompat_limits *l, void *queuedata)
{
	struct queue_limits lim = { };

	blkcompat_fill_limits(&lim, l);
	return blk_mq_alloc_disk(set, &lim, queuedata);
}

/*
 * New limits for a disk in use (a namespace formatted again), given while
 * its queue is frozen.
 */
static inline int blkcompat_update_limits(struct gendisk *disk,
					  const struct blkcompat_limits *l)
{
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	blkcompat_fill_limits(&lim, l);
	return queue_limits_commit_update(disk->queue, &lim);
}

#else /* !HAVE_BLK_MQ_ALLOC_DISK_LIMITS */

/* Limits are set on the queue, one by one. */
static inline void blkcompat_apply_limits(struct request_queue *q,
					  const struct blkcompat_limits *l)
{
	blk_queue_logical_block_size(q, l->lbs);
	blk_queue_physical_block_size(q, l->pbs);
	blk_queue_io_min(q, l->io_min);
	blk_queue_io_opt(q, l->io_opt);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_virt_boundary(q, l->virt_boundary);
	blk_queue_dma_alignment(q, 3);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		blk_queue_max_discard_segments(q, l->max_discard_segments);
		q->limits.discard_granularity = l->discard_granularity;
#ifdef QUEUE_FLAG_DISCARD
		/* until v5.19 the limit alone does not enable discard */
		blk_queue_flag_set(QUEUE_FLAG_DISCARD, q);
#endif
	}
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	/* flash: until v6.11 a queue is rotational unless told otherwise */
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
}

#ifdef HAVE_BLK_MQ_ALLOC_DISK
static inline struct gendisk *
blkcompat_alloc_disk(struct blk_mq_tag_set *set,
		     const struct blkcompat_limits *l, void *queuedata)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);

	if (!IS_ERR(disk))
		blkcompat_apply_limits(disk->queue, l);
	return disk;
}
#else
/* Without blk_mq_alloc_disk(), the queue and the disk come separately. */
static inline struct gendisk *
blkcompat_alloc_disk(struct blk_mq_tag_set *set,
		     const struct blkcompat_limits *l, void *queuedata)
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
	blkcompat_apply_limits(q, l);
	return disk;
}
#endif /* HAVE_BLK_MQ_ALLOC_DISK */

/* New limits for a disk in use, given while its queue is frozen. */
static inline int blkcompat_update_limits(struct gendisk *disk,
					  const struct blkcompat_limits *l)
{
	blkcompat_apply_limits(disk->queue, l);
	return 0;
}
#endif /* HAVE_BLK_MQ_ALLOC_DISK_LIMITS */

/*
 * Thaw a queue frozen with blk_freeze_queue_start() and
 * blk_mq_freeze_queue_wait().  Where blk_mq_freeze_queue() saves the
 * memalloc flags and blk_mq_unfreeze_queue() wants them back (after v6.12:
 * not in Debian's 6.12, in its 7.3), the plain thaw is
 * blk_mq_unfreeze_queue_nomemrestore().
 */
static inline void blkcompat_unfreeze_queue(struct request_queue *q)
{
#ifdef HAVE_BLK_MQ_UNFREEZE_QUEUE_NOMEMRESTORE
	blk_mq_unfreeze_queue_nomemrestore(q);
#else
	blk_mq_unfreeze_queue(q);
#endif
}

/*
 * Declare the write cache, unless blkcompat_alloc_disk() did (as features
 * in the limits).
 */
static inline void blkcompat_disk_set_wc(struct gendisk *disk, bool wc)
{
#if !defined(HAVE_BLK_MQ_ALLOC_DISK_LIMITS) || !defined(BLK_FEAT_WRITE_CACHE)
	blk_queue_write_cache(disk->queue, wc, wc);
#endif
}

/* Make the disk visible; older kernels cannot fail this. */
static inline int blkcompat_add_disk(struct device *parent,
				     struct gendisk *disk)
{
#ifdef HAVE_DEVICE_ADD_DISK_INT
	return device_add_disk(parent, disk, NULL);
#else
	device_add_disk(parent, disk, NULL);
	return 0;
#endif
}

/*
 * Drop the driver's reference to a disk, after del_gendisk() or when adding
 * it failed.  Where blk_cleanup_disk() exists (v5.14 to v5.19) it cleans
 * the queue up and puts the disk, also in v5.18 and v5.19, which have
 * ->free_disk() already but whose put_disk() leaves the queue alone; from
 * v6.0 the disk's release tears the queue down; before v5.14 the queue was
 * cleaned up here.
 */
static inline void blkcompat_put_disk(struct gendisk *disk)
{
#if defined(HAVE_BLK_CLEANUP_DISK)
	blk_cleanup_disk(disk);
#elif defined(HAVE_BDEV_FREE_DISK)
	put_disk(disk);
#else
	blk_cleanup_queue(disk->queue);
	put_disk(disk);
#endif
}

#if !defined(HAVE_BLK_EXECUTE_RQ_STATUS) && !defined(HAVE_BLK_EXECUTE_RQ_DISK)
struct blkcompat_sync_rq {
	struct completion done;
	blk_status_t status;
};

static inline void blkcompat_sync_rq_end(struct request *rq,
					 blk_status_t status)
{
	struct blkcompat_sync_rq *wait = rq->end_io_data;

	wait->status = status;
	complete(&wait->done);
}
#endif

/*
 * Execute a passthrough request synchronously (at the tail); the block
 * status says whether it reached the device.
 */
static inline blk_status_t blkcompat_execute_rq(struct request *rq)
{
#if defined(HAVE_BLK_EXECUTE_RQ_STATUS)
	return blk_execute_rq(rq, false);
#elif defined(HAVE_BLK_EXECUTE_RQ_DISK)
	return blk_execute_rq(NULL, rq, false);
#else
	/* blk_execute_rq() does not return the status: wait here instead */
	struct blkcompat_sync_rq wait = { .status = BLK_STS_OK };

	init_completion(&wait.done);
	rq->end_io_data = &wait;
	blk_execute_rq_nowait(rq->q, NULL, rq, false, blkcompat_sync_rq_end);
	wait_for_completion_io(&wait.done);
	return wait.status;
#endif
}

/* Map a request's data to a scatterlist. */
static inline int blkcompat_rq_map_sg(struct request *rq,
				      struct scatterlist *sgl)
{
#ifdef HAVE_BLK_RQ_MAP_SG_RQ
	return blk_rq_map_sg(rq, sgl);
#else
	return blk_rq_map_sg(rq->q, rq, sgl);
#endif
}

/*
 * Spread the hardware queues like the PCI device's interrupt vectors,
 * starting at vector @offset.  blk_mq_pci_map_queues() comes first where it
 * exists: stable kernels that got blk_mq_map_hw_queues() without the PCI
 * bus's ->irq_get_affinity() (Debian's 6.12) would fall back to a mapping
 * that ignores the vectors.
 */
static inline void blkcompat_map_hw_queues(struct blk_mq_queue_map *map,
					   struct pci_dev *pdev, int offset)
{
#if defined(HAVE_BLK_MQ_PCI_MAP_QUEUES)
	blk_mq_pci_map_queues(map, pdev, offset);
#elif defined(HAVE_BLK_MQ_MAP_HW_QUEUES)
	blk_mq_map_hw_queues(map, &pdev->dev, offset);
#else
#error "blk-compat: no way to map hardware queues to a PCI device's vectors"
#endif
}

/*
 * Completion batches: the interrupt handler collects the requests that
 * completed without error in a struct io_comp_batch and ends them together
 * (blk_mq_end_request_batch()), as nvme-pci does.  Before v5.16 there are
 * none: blkcompat_add_to_batch() refuses every request, which then
 * completes on its own, and the batch stays empty.
 */
#ifndef HAVE_IO_COMP_BATCH
struct io_comp_batch {
	void (*complete)(struct io_comp_batch *iob);
};

#define DEFINE_IO_COMP_BATCH(name)	struct io_comp_batch name = { }
#endif

static inline bool blkcompat_add_to_batch(struct request *rq,
					  struct io_comp_batch *iob,
					  void (*complete)(struct io_comp_batch *))
{
#ifdef HAVE_IO_COMP_BATCH
	return blk_mq_add_to_batch(rq, iob, 0, complete);
#else
	return false;
#endif
}

/* Whether completions can be batched at all (a compile-time constant). */
static inline bool blkcompat_has_batches(void)
{
#ifdef HAVE_IO_COMP_BATCH
	return true;
#else
	return false;
#endif
}

/* The requests of a batch: the first, then each one's next (NULL: no more). */
static inline struct request *blkcompat_batch_first(struct io_comp_batch *iob)
{
#ifdef HAVE_IO_COMP_BATCH
	return rq_list_peek(&iob->req_list);
#else
	return NULL;
#endif
}

static inline struct request *blkcompat_batch_next(struct request *rq)
{
#ifdef HAVE_IO_COMP_BATCH
	return rq->rq_next;
#else
	return NULL;
#endif
}

/* End every request of @iob (each released by the caller first). */
static inline void blkcompat_end_batch(struct io_comp_batch *iob)
{
#ifdef HAVE_IO_COMP_BATCH
	blk_mq_end_request_batch(iob);
#endif
}

/*
 * The largest transfer worth mapping in one piece: dma_opt_mapping_size()
 * where it exists (behind an IOMMU, the largest size the IOVA caches keep;
 * larger ones take the allocator's slow path), else the DMA layer's hard
 * limit (swiotlb).
 */
static inline size_t blkcompat_dma_opt_size(struct device *dev)
{
#ifdef HAVE_DMA_OPT_MAPPING_SIZE
	return dma_opt_mapping_size(dev);
#else
	return dma_max_mapping_size(dev);
#endif
}

/* Tag set flags: bio merging is asked for where it is not the default. */
#ifdef HAVE_BLK_MQ_F_SHOULD_MERGE
#define BLKCOMPAT_TAG_SET_FLAGS	BLK_MQ_F_SHOULD_MERGE
#else
#define BLKCOMPAT_TAG_SET_FLAGS	0
#endif

/* The open mode block_device_operations are given. */
#ifdef HAVE_BLK_MODE_T
#define blkcompat_mode_t	blk_mode_t
#else
#define blkcompat_mode_t	fmode_t
#endif

/*
 * The driver's object behind a disk lives until neither the driver nor the
 * disk holds it.  It embeds a struct blkcompat_disk_hold, whose address is
 * the disk's private_data; blkcompat_disk_hold_put() drops the driver's
 * hold (and its disk reference, after del_gendisk() or a failed add), and
 * BLKCOMPAT_DISK_HOLD_OPS in the block_device_operations lets the disk drop
 * its own.  @free frees the object.  blkcompat_disk_hold_get() and
 * blkcompat_disk_hold_drop() hold it for a while longer (a lookup).
 */
struct blkcompat_disk_hold {
	struct kref ref;	/* kernels without ->free_disk(): openers */
	void (*free)(struct blkcompat_disk_hold *hold);
};

static inline void blkcompat_disk_hold_init(struct blkcompat_disk_hold *hold,
					    void (*free)(struct blkcompat_disk_hold *))
{
	kref_init(&hold->ref);
	hold->free = free;
}

#ifdef HAVE_BDEV_FREE_DISK
/* ->free_disk() runs after the last reference to an added disk */
static inline void blkcompat_free_disk(struct gendisk *disk)
{
	struct blkcompat_disk_hold *hold = disk->private_data;

	hold->free(hold);
}

static inline void blkcompat_disk_hold_put(struct blkcompat_disk_hold *hold,
					   struct gendisk *disk, bool added)
{
	blkcompat_put_disk(disk);
	if (!added)
		hold->free(hold);
}

/* one more hold, taken while another one is known to be there */
static inline void blkcompat_disk_hold_get(struct blkcompat_disk_hold *hold,
					   struct gendisk *disk)
{
	get_device(disk_to_dev(disk));
}

static inline void blkcompat_disk_hold_drop(struct blkcompat_disk_hold *hold,
					    struct gendisk *disk)
{
	put_device(disk_to_dev(disk));
}

#define BLKCOMPAT_DISK_HOLD_OPS	.free_disk = blkcompat_free_disk
#else
/* no ->free_disk(): every opener holds the object, as the driver does */
static inline void blkcompat_disk_hold_free(struct kref *ref)
{
	struct blkcompat_disk_hold *hold =
		container_of(ref, struct blkcompat_disk_hold, ref);

	hold->free(hold);
}

static inline int blkcompat_disk_open(struct block_device *bdev, fmode_t mode)
{
	struct blkcompat_disk_hold *hold = bdev->bd_disk->private_data;

	return kref_get_unless_zero(&hold->ref) ? 0 : -ENXIO;
}

static inline void blkcompat_disk_release(struct gendisk *disk, fmode_t mode)
{
	struct blkcompat_disk_hold *hold = disk->private_data;

	kref_put(&hold->ref, blkcompat_disk_hold_free);
}

static inline void blkcompat_disk_hold_put(struct blkcompat_disk_hold *hold,
					   struct gendisk *disk, bool added)
{
	blkcompat_put_disk(disk);
	kref_put(&hold->ref, blkcompat_disk_hold_free);
}

static inline void blkcompat_disk_hold_get(struct blkcompat_disk_hold *hold,
					   struct gendisk *disk)
{
	kref_get(&hold->ref);
}

static inline void blkcompat_disk_hold_drop(struct blkcompat_disk_hold *hold,
					    struct gendisk *disk)
{
	kref_put(&hold->ref, blkcompat_disk_hold_free);
}

#define BLKCOMPAT_DISK_HOLD_OPS	\
	.open = blkcompat_disk_open, .release = blkcompat_disk_release
#endif

/*
 * blk_mq_ops callbacks whose shape changed.  The driver writes each one
 * once, with the parameter list given here, whose names are fixed (rq,
 * data, hctx, iob); an argument that older kernels add ("reserved") goes
 * unused.
 */

/* ->timeout(rq) since v6.0; before, also a "reserved" flag */
#ifdef HAVE_MQ_OPS_TIMEOUT_NO_RESERVED
#define BLKCOMPAT_TIMEOUT_PARAMS	struct request *rq
#else
#define BLKCOMPAT_TIMEOUT_PARAMS	struct request *rq, bool reserved
#endif

/* busy_tag_iter_fn(rq, data) since v6.0; before, also "reserved" */
#ifdef HAVE_BUSY_TAG_ITER_NO_RESERVED
#define BLKCOMPAT_BUSY_ITER_PARAMS	struct request *rq, void *data
#else
#define BLKCOMPAT_BUSY_ITER_PARAMS	\
	struct request *rq, void *data, bool reserved
#endif

/*
 * ->poll(hctx, iob) with completion batches since 5.16; before, ->poll(hctx)
 * and BLKCOMPAT_POLL_BATCH is NULL: no batch to add completions to.
 */
#ifdef HAVE_IO_COMP_BATCH
#define BLKCOMPAT_POLL_PARAMS	\
	struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob
#define BLKCOMPAT_POLL_BATCH	iob
#else
#define BLKCOMPAT_POLL_PARAMS	struct blk_mq_hw_ctx *hctx
#define BLKCOMPAT_POLL_BATCH	NULL
#endif

/*
 * ->map_queues() returns void since 6.1 and an int (always 0) before: the
 * driver writes the int one; BLKCOMPAT_DEFINE_MAP_QUEUES(fn) adds fn's void
 * twin where needed and BLKCOMPAT_MAP_QUEUES(fn) names the callback.
 */
#ifdef HAVE_MQ_OPS_MAP_QUEUES_VOID
#define BLKCOMPAT_DEFINE_MAP_QUEUES(fn)				\
static void fn##_void(struct blk_mq_tag_set *set)			\
{									\
	fn(set);							\
}

#define BLKCOMPAT_MAP_QUEUES(fn)	fn##_void
#else
#define BLKCOMPAT_DEFINE_MAP_QUEUES(fn)
#define BLKCOMPAT_MAP_QUEUES(fn)	fn
#endif

#endif /* BLKCOMPAT_H */
