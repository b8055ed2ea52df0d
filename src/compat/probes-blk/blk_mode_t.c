/*
 * v6.5: block_device_operations take a blk_mode_t (before, an fmode_t).
 */
#include <linux/blkdev.h>
blk_mode_t probe(blk_mode_t mode)
{
	return mode;
}
