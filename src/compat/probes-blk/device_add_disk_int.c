/*
 * device_add_disk() can fail and returns an error code.  v5.15, commit
 * 83cbce957446 ("block: add error handling for device_add_disk /
 * add_disk").
 */
#include <linux/blkdev.h>
int probe(struct device *parent, struct gendisk *disk)
{
	return device_add_disk(parent, disk, NULL);
}
