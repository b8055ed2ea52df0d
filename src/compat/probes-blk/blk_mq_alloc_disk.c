/*
 * blk_mq_alloc_disk(set, queuedata) allocates a disk with its request
 * queue (before, blk_mq_init_queue() and alloc_disk()).  v5.14, commit
 * b461dfc49eb6 ("blk-mq: add the blk_mq_alloc_disk APIs").  v6.9 added
 * the limits argument (blk_mq_alloc_disk_limits.c).
 */
#include <linux/blk-mq.h>
struct gendisk *probe(struct blk_mq_tag_set *set, void *queuedata)
{
	return blk_mq_alloc_disk(set, queuedata);
}
