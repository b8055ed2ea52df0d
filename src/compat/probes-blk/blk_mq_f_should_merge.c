/*
 * A tag set asks for bio merging with BLK_MQ_F_SHOULD_MERGE (an enum
 * constant, hence a probe).  Gone in v6.14, commit cc76ace465d6 ("block:
 * remove BLK_MQ_F_SHOULD_MERGE"); later kernels always merge.
 */
#include <linux/blk-mq.h>
unsigned int probe(void)
{
	return BLK_MQ_F_SHOULD_MERGE;
}
