/*
 * block_device_operations take a blk_mode_t (before, an fmode_t).  v6.5,
 * commit 05bdb9965305 ("block: replace fmode_t with a block-specific type
 * for block open flags").
 */
#include <linux/blkdev.h>
blk_mode_t probe(blk_mode_t mode)
{
	return mode;
}
