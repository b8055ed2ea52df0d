/*
 * v5.19: blk_execute_rq(rq, at_head) returns the request's block status.
 */
#include <linux/blk-mq.h>
blk_status_t probe(struct request *rq)
{
	return blk_execute_rq(rq, false);
}
