/*
 * block_device_operations.free_disk() is called when the last reference to
 * an added disk goes.  v5.18, commit 76792055c4c8 ("block: add a
 * ->free_disk method").  blk-compat.h also takes it to mean that put_disk()
 * tears down a blk_mq_alloc_disk() disk's queue, which holds from v6.0 only
 * (blk_cleanup_disk.c): on v5.18 and v5.19 both probes pass.
 */
#include <linux/blkdev.h>
static void fn(struct gendisk *disk)
{
}

static const struct block_device_operations ops = {
	.free_disk	= fn,
};

const struct block_device_operations *probe(void)
{
	return &ops;
}
