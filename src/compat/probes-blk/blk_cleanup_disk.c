/*
 * blk_cleanup_disk() cleans up a blk_mq_alloc_disk() disk's queue and
 * drops the disk.  v5.14, commit f525464a8000 ("block: add blk_alloc_disk
 * and blk_cleanup_disk APIs"), to v5.19: gone in v6.0, commit 8b9ab6266204
 * ("block: remove blk_cleanup_disk").
 */
#include <linux/blkdev.h>
void probe(struct gendisk *disk)
{
	blk_cleanup_disk(disk);
}
