/*
 * v5.14 to v5.18: blk_execute_rq(disk, rq, at_head) returns the request's
 * block status (before, it took the queue too and returned nothing).
 */
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
blk_status_t probe(struct request *rq)
{
	return blk_execute_rq(NULL, rq, false);
}
