/*
 * v6.14 (and some stable kernels): blk_mq_map_hw_queues() asks the device's
 * bus for the interrupt affinity of each queue.
 */
#include <linux/blk-mq.h>
void probe(struct blk_mq_queue_map *map, struct device *dev)
{
	blk_mq_map_hw_queues(map, dev, 1);
}
