/*
 * <linux/blk-mq-pci.h> and blk_mq_pci_map_queues() spread a PCI device's
 * queues like its interrupt vectors.  Gone in v6.14, commit 9bc1e897a821
 * ("blk-mq: remove unused queue mapping helpers").
 */
#include <linux/blk-mq.h>
#include <linux/blk-mq-pci.h>
#include <linux/pci.h>
void probe(struct blk_mq_queue_map *map, struct pci_dev *pdev)
{
	blk_mq_pci_map_queues(map, pdev, 1);
}
