/*
 * v6.0: busy_tag_iter_fn, the blk_mq_tagset_busy_iter() callback, lost its
 * "reserved" argument.
 */
#include <linux/blk-mq.h>
static bool fn(struct request *rq, void *data)
{
	return true;
}

busy_tag_iter_fn *probe(void)
{
	return fn;
}
