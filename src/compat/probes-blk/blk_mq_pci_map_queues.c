/*
 * Until v6.14: <linux/blk-mq-pci.h> and blk_mq_pci_map_queues() spread a
 * PCI device's queues like its interrupt vectors.
 */
#include <linux/blk-mq.h>
#include <linux/blk-mq-pci.h>
#include <linux/pci.h>
void probe(struct blk_mq_queue_map *map, struct pci_dev *pdev)
{
	blk_mq_pci_map_queues(map, pdev, 1);
}
