/*
 * blk_execute_rq(rq, at_head) returns the request's block status.  v5.17,
 * commit b84ba30b6c7a ("block: remove the gendisk argument to
 * blk_execute_rq").
 */
#include <linux/blk-mq.h>
blk_status_t probe(struct request *rq)
{
	return blk_execute_rq(rq, false);
}
