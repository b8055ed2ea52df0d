/*
 * v6.11 ("block: Add core atomic write support"): a disk declares the
 * atomic write units it guarantees in its queue limits.
 */
#include <linux/blkdev.h>
void probe(struct queue_limits *lim)
{
	lim->atomic_write_hw_max = 4096;
	lim->atomic_write_hw_unit_min = 512;
	lim->atomic_write_hw_unit_max = 4096;
}
