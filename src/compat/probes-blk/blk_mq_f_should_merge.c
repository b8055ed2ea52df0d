/*
 * Until v6.14 a tag set asks for bio merging with BLK_MQ_F_SHOULD_MERGE (an
 * enum constant, hence a probe); later kernels always merge.
 */
#include <linux/blk-mq.h>
unsigned int probe(void)
{
	return BLK_MQ_F_SHOULD_MERGE;
}
