/*
 * v6.0: blk_mq_ops.timeout() lost its "reserved" argument.
 */
#include <linux/blk-mq.h>
static enum blk_eh_timer_return fn(struct request *rq)
{
	return BLK_EH_DONE;
}

void probe(struct blk_mq_ops *ops)
{
	ops->timeout = fn;
}
