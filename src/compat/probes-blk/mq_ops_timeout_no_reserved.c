/*
 * blk_mq_ops.timeout() lost its "reserved" argument.  v6.0, commit
 * 9bdb4833dd39 ("blk-mq: Drop blk_mq_ops.timeout 'reserved' arg").
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
