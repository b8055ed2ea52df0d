/*
 * busy_tag_iter_fn, the blk_mq_tagset_busy_iter() callback, lost its
 * "reserved" argument.  v6.0, commit 2dd6532e9591 ("blk-mq: Drop
 * 'reserved' arg of busy_tag_iter_fn").
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
