/*
 * v6.0: blk_mq_ops.map_queues() returns void.
 */
#include <linux/blk-mq.h>
static void fn(struct blk_mq_tag_set *set)
{
}

void probe(struct blk_mq_ops *ops)
{
	ops->map_queues = fn;
}
