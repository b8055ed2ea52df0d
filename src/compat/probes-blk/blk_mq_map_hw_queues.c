/*
 * blk_mq_map_hw_queues() asks the device's bus for the interrupt affinity
 * of each queue.  v6.14, commit 1452e9b470c9 ("blk-mq: introduce
 * blk_mq_map_hw_queues"); also in 6.12.y from 6.12.25 (Debian's 6.12 has
 * it, with blk_mq_pci_map_queues()).
 */
#include <linux/blk-mq.h>
void probe(struct blk_mq_queue_map *map, struct device *dev)
{
	blk_mq_map_hw_queues(map, dev, 1);
}
