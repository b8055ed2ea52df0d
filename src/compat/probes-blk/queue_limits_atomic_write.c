/*
 * A disk declares the atomic write units it guarantees in its queue
 * limits.  v6.11, commit 9da3d1e912f3 ("block: Add core atomic write
 * support").
 */
#include <linux/blkdev.h>
void probe(struct queue_limits *lim)
{
	lim->atomic_write_hw_max = 4096;
	lim->atomic_write_hw_unit_min = 512;
	lim->atomic_write_hw_unit_max = 4096;
}
