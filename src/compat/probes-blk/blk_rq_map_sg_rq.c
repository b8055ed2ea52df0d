/*
 * blk_rq_map_sg() takes the request and the scatterlist only (the
 * request_queue argument went).  v6.15, commit 75618ac6e98f ("block:
 * remove unused parameter 'q' parameter in __blk_rq_map_sg()").
 */
#include <linux/blk-mq.h>
#include <linux/scatterlist.h>
int probe(struct request *rq, struct scatterlist *sgl)
{
	return blk_rq_map_sg(rq, sgl);
}
