/*
 * v5.14 to v5.19: blk_cleanup_disk() cleans up a blk_mq_alloc_disk()
 * disk's queue and drops the disk.
 */
#include <linux/blkdev.h>
void probe(struct gendisk *disk)
{
	blk_cleanup_disk(disk);
}
