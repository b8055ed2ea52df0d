/*
 * v6.15: blk_rq_map_sg() takes the request and the scatterlist only (the
 * request_queue argument went).
 */
#include <linux/blk-mq.h>
#include <linux/scatterlist.h>
int probe(struct request *rq, struct scatterlist *sgl)
{
	return blk_rq_map_sg(rq, sgl);
}
