/*
 * blk_execute_rq(disk, rq, at_head) returns the request's block status.
 * v5.14, commit fb9b16e15cd7 ("block: return errors from
 * blk_execute_rq()"), to v5.16: v5.17 dropped the disk
 * (blk_execute_rq_status.c).  5.10's also takes the queue and returns
 * nothing.
 */
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
blk_status_t probe(struct request *rq)
{
	return blk_execute_rq(NULL, rq, false);
}
