/*
 * v5.15: device_add_disk() can fail and returns an error code.
 */
#include <linux/blkdev.h>
int probe(struct device *parent, struct gendisk *disk)
{
	return device_add_disk(parent, disk, NULL);
}
