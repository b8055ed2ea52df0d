/*
 * blk_mq_ops.map_queues() returns void.  v6.1, commit a4e1d0b76e7b
 * ("block: Change the return type of blk_mq_map_queues() into void").
 */
#include <linux/blk-mq.h>
static void fn(struct blk_mq_tag_set *set)
{
}

void probe(struct blk_mq_ops *ops)
{
	ops->map_queues = fn;
}
