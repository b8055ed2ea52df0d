/*
 * v6.9: blk_mq_alloc_disk() takes the queue limits, as a struct
 * queue_limits, with the tag set and queuedata.
 */
#include <linux/blk-mq.h>
struct gendisk *probe(struct blk_mq_tag_set *set, struct queue_limits *lim,
		      void *queuedata)
{
	return blk_mq_alloc_disk(set, lim, queuedata);
}
