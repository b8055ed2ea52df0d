/*
 * blk_mq_freeze_queue() returns the memalloc flags it saved and
 * blk_mq_unfreeze_queue() takes them; a queue frozen otherwise is thawed
 * with blk_mq_unfreeze_queue_nomemrestore().  After v6.12 (absent from
 * Debian's 6.12 headers, present in its 7.3 ones).
 */
#include <linux/blk-mq.h>
void probe(struct request_queue *q)
{
	blk_mq_unfreeze_queue_nomemrestore(q);
}
