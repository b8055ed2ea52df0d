/*
 * blk_mq_alloc_disk() takes the queue limits, as a struct queue_limits,
 * with the tag set and queuedata.  v6.9, commit 27e32cd23fed ("block: pass
 * a queue_limits argument to blk_mq_alloc_disk").
 */
#include <linux/blk-mq.h>
struct gendisk *probe(struct blk_mq_tag_set *set, struct queue_limits *lim,
		      void *queuedata)
{
	return blk_mq_alloc_disk(set, lim, queuedata);
}
