/*
 * Completions can be collected in a struct io_comp_batch and ended
 * together.  v5.16, commits 5a72e899ceb4 ("block: add a struct
 * io_comp_batch argument to fops->iopoll()") and f794f3351f26 ("block: add
 * support for blk_mq_end_request_batch()").
 */
#include <linux/blk-mq.h>
void probe(struct request *rq, struct io_comp_batch *iob,
	   void (*complete)(struct io_comp_batch *))
{
	if (blk_mq_add_to_batch(rq, iob, 0, complete))
		blk_mq_end_request_batch(iob);
}
