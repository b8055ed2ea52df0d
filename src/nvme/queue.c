// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: submission/completion queues, interrupts and the blk-mq glue
 * (queue_rq, completion, timeout, cancellation on reset).
 */
#include <linux/interrupt.h>

#include "nvme-iova.h"

static u32 __iomem *nvi_db(struct nvi_ctrl *ctrl, int qid)
{
	return (u32 __iomem *)(ctrl->bar + NVME_REG_DBS) +
		qid * 2 * ctrl->db_stride;
}

int nvi_alloc_queue(struct nvi_ctrl *ctrl, int qid, int depth)
{
	struct nvi_queue *nvmeq = &ctrl->queues[qid];

	if (nvmeq->sqes)
		return 0;
	nvmeq->cqes = dma_alloc_coherent(ctrl->dev, depth * sizeof(struct nvme_completion),
					 &nvmeq->cq_dma, GFP_KERNEL);
	if (!nvmeq->cqes)
		return -ENOMEM;
	nvmeq->sqes = dma_alloc_coherent(ctrl->dev, depth * sizeof(struct nvme_command),
					 &nvmeq->sq_dma, GFP_KERNEL);
	if (!nvmeq->sqes) {
		dma_free_coherent(ctrl->dev, depth * sizeof(struct nvme_completion),
				  nvmeq->cqes, nvmeq->cq_dma);
		nvmeq->cqes = NULL;
		return -ENOMEM;
	}
	nvmeq->ctrl = ctrl;
	nvmeq->qid = qid;
	nvmeq->q_depth = depth;
	nvmeq->q_db = nvi_db(ctrl, qid);
	nvmeq->cq_vector = -1;
	spin_lock_init(&nvmeq->sq_lock);
	spin_lock_init(&nvmeq->cq_lock);
	return 0;
}

void nvi_free_queues(struct nvi_ctrl *ctrl)
{
	unsigned int i;

	for (i = 0; i <= ctrl->max_io_queues; i++) {
		struct nvi_queue *nvmeq = &ctrl->queues[i];

		if (!nvmeq->sqes)
			continue;
		dma_free_coherent(ctrl->dev, nvmeq->q_depth * sizeof(struct nvme_completion),
				  nvmeq->cqes, nvmeq->cq_dma);
		dma_free_coherent(ctrl->dev, nvmeq->q_depth * sizeof(struct nvme_command),
				  nvmeq->sqes, nvmeq->sq_dma);
		nvmeq->sqes = NULL;
		nvmeq->cqes = NULL;
	}
}

/* Empty the rings before the controller is told about them. */
void nvi_init_queue(struct nvi_queue *nvmeq)
{
	nvmeq->sq_tail = 0;
	nvmeq->sq_db_tail = 0;
	nvmeq->cq_head = 0;
	nvmeq->cq_phase = 1;
	memset(nvmeq->cqes, 0, nvmeq->q_depth * sizeof(struct nvme_completion));
}

/* Tell the controller about every command queued since it was last told. */
static void nvi_ring_sq(struct nvi_queue *nvmeq)
{
	writel(nvmeq->sq_tail, nvmeq->q_db);
	nvmeq->sq_db_tail = nvmeq->sq_tail;
}

/**
 * nvi_submit_cmd - queue a command on a submission queue
 * @nvmeq: the queue
 * @cmd: the command, copied
 * @ring: write the doorbell now; false when more commands follow at once
 *	(blk-mq's bd->last), and nvi_commit_rqs() or the last of them rings
 *
 * One doorbell write (an MMIO write, costly in a guest) per batch instead
 * of per command.  The doorbell is rung anyway when the tail would
 * otherwise lap the last value the controller saw.
 */
void nvi_submit_cmd(struct nvi_queue *nvmeq, struct nvme_command *cmd,
		    bool ring)
{
	unsigned long flags;
	u16 next;

	spin_lock_irqsave(&nvmeq->sq_lock, flags);
	memcpy(&nvmeq->sqes[nvmeq->sq_tail], cmd, sizeof(*cmd));
	if (++nvmeq->sq_tail == nvmeq->q_depth)
		nvmeq->sq_tail = 0;
	next = nvmeq->sq_tail + 1 == nvmeq->q_depth ? 0 : nvmeq->sq_tail + 1;
	if (ring || next == nvmeq->sq_db_tail)
		nvi_ring_sq(nvmeq);
	spin_unlock_irqrestore(&nvmeq->sq_lock, flags);
}

static void nvi_complete_rq(struct request *rq);
static void nvi_complete_batch(struct io_comp_batch *iob);

static void nvi_handle_cqe(struct nvi_queue *nvmeq, struct nvme_completion *cqe,
			   struct io_comp_batch *iob)
{
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	u16 cid = cqe->command_id;
	struct request *rq;
	struct nvi_iod *iod;

	if (!nvmeq->qid) {
		if (cid != ctrl->admin_cid || completion_done(&ctrl->admin_done))
			return;	/* late, or an event we never asked for */
		ctrl->admin_status = le16_to_cpu(cqe->status) >> 1;
		ctrl->admin_result = le64_to_cpu(cqe->result.u64);
		complete(&ctrl->admin_done);
		return;
	}
	if (unlikely(cid >= ctrl->tagset.queue_depth)) {
		dev_warn_ratelimited(ctrl->dev, "invalid command id %u on queue %u\n",
				     cid, nvmeq->qid);
		return;
	}
	rq = blk_mq_tag_to_rq(ctrl->tagset.tags[nvmeq->qid - 1], cid);
	if (unlikely(!rq || !blk_mq_request_started(rq) ||
		     blk_mq_request_completed(rq))) {
		dev_warn_ratelimited(ctrl->dev, "stray completion %u on queue %u\n",
				     cid, nvmeq->qid);
		return;
	}
	iod = nvi_rq_iod(rq);
	iod->status = le16_to_cpu(cqe->status) >> 1;
	iod->result = le64_to_cpu(cqe->result.u64);
	/*
	 * As nvme-pci: completed on the submitting CPU if blk-mq wants that,
	 * else here; here, a request that succeeded joins the batch that the
	 * caller ends after the completion queue lock is dropped.
	 */
	if (blk_mq_complete_request_remote(rq))
		return;
	if (iod->status || !blkcompat_add_to_batch(rq, iob, nvi_complete_batch))
		nvi_complete_rq(rq);
}

/*
 * Reap the completions a queue has posted; requests that can be ended in a
 * batch go to @iob (NULL: each is ended on its own).
 */
static int nvi_reap_cq(struct nvi_queue *nvmeq, struct io_comp_batch *iob)
{
	unsigned long flags;
	int found = 0;

	if (!nvmeq->cqes)
		return 0;
	spin_lock_irqsave(&nvmeq->cq_lock, flags);
	for (;;) {
		struct nvme_completion *cqe = &nvmeq->cqes[nvmeq->cq_head];

		if ((le16_to_cpu(READ_ONCE(cqe->status)) & 1) != nvmeq->cq_phase)
			break;
		dma_rmb();
		nvi_handle_cqe(nvmeq, cqe, iob);
		found++;
		if (++nvmeq->cq_head == nvmeq->q_depth) {
			nvmeq->cq_head = 0;
			nvmeq->cq_phase ^= 1;
		}
	}
	if (found && READ_ONCE(nvmeq->enabled))
		writel(nvmeq->cq_head, nvmeq->q_db + nvmeq->ctrl->db_stride);
	spin_unlock_irqrestore(&nvmeq->cq_lock, flags);
	return found;
}

/**
 * nvi_poll_cq - reap and complete what a queue has posted, one by one
 * @nvmeq: queue
 *
 * Called from the timeout handler and when a queue is torn down (the
 * interrupt handler batches).  Return: number of completions handled.
 */
int nvi_poll_cq(struct nvi_queue *nvmeq)
{
	return nvi_reap_cq(nvmeq, NULL);
}

static irqreturn_t nvi_irq(int irq, void *data)
{
	DEFINE_IO_COMP_BATCH(iob);
	int found = nvi_reap_cq(data, &iob);

	if (iob.complete)
		iob.complete(&iob);
	return found ? IRQ_HANDLED : IRQ_NONE;
}

int nvi_request_queue_irq(struct nvi_queue *nvmeq)
{
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	int ret;

	if (nvmeq->cq_vector < 0)
		nvmeq->cq_vector = nvmeq->qid ?
			(ctrl->nr_vecs > 1 ? nvmeq->qid : 0) : 0;
	ret = request_irq(pci_irq_vector(ctrl->pdev, nvmeq->cq_vector), nvi_irq,
			  IRQF_SHARED, dev_name(&ctrl->device), nvmeq);
	if (!ret)
		nvmeq->irq_requested = true;
	return ret;
}

void nvi_free_queue_irq(struct nvi_queue *nvmeq)
{
	if (!nvmeq->irq_requested)
		return;
	free_irq(pci_irq_vector(nvmeq->ctrl->pdev, nvmeq->cq_vector), nvmeq);
	nvmeq->irq_requested = false;
}

/* Stop a queue: no new doorbells, the interrupt handler has finished. */
void nvi_suspend_queue(struct nvi_queue *nvmeq)
{
	if (!nvmeq->sqes)
		return;
	WRITE_ONCE(nvmeq->enabled, false);
	if (nvmeq->irq_requested)
		synchronize_irq(pci_irq_vector(nvmeq->ctrl->pdev,
					       nvmeq->cq_vector));
}

/**
 * nvi_setup_irqs - move from the single bring-up vector to one per queue
 * @ctrl: controller with a live admin queue on vector 0
 * @nr_io: I/O queues the controller allows
 *
 * Of the I/O queues, up to nr_poll_queues (leaving at least one with an
 * interrupt) go without one.  Asks for one vector for the admin queue plus
 * one per other I/O queue, spread over the CPUs; falls back to fewer
 * vectors (and then fewer queues), and finally to a single vector shared by
 * the admin queue and one I/O queue.
 */
int nvi_setup_irqs(struct nvi_ctrl *ctrl, unsigned int nr_io)
{
	struct irq_affinity affd = { .pre_vectors = 1 };
	struct nvi_queue *aq = &ctrl->queues[0];
	unsigned int nr_poll;
	int nvec;

	nr_io = clamp_t(unsigned int, nr_io, 1, ctrl->max_io_queues);
	nr_poll = min(ctrl->nr_poll_queues, nr_io - 1);
	nr_io -= nr_poll;
	nvi_free_queue_irq(aq);
	pci_free_irq_vectors(ctrl->pdev);
	nvec = nr_io > 1 || num_possible_cpus() > 1 ?
		pci_alloc_irq_vectors_affinity(ctrl->pdev, 2, nr_io + 1,
					       PCI_IRQ_MSIX | PCI_IRQ_MSI |
					       PCI_IRQ_AFFINITY, &affd) : -ENOSPC;
	if (nvec < 2) {
		nvec = pci_alloc_irq_vectors(ctrl->pdev, 1, 1, PCI_IRQ_ALL_TYPES);
		if (nvec < 0)
			return nvec;
		nr_io = 1;
	} else {
		nr_io = nvec - 1;
	}
	ctrl->nr_vecs = nvec;
	ctrl->nr_poll_queues = nr_poll;
	ctrl->nr_io_queues = nr_io + nr_poll;
	aq->cq_vector = 0;
	return nvi_request_queue_irq(aq);
}

int nvi_create_io_queue(struct nvi_ctrl *ctrl, int qid)
{
	struct nvi_queue *nvmeq = &ctrl->queues[qid];
	struct nvme_command c = { };
	int ret;

	ret = nvi_alloc_queue(ctrl, qid, ctrl->q_depth);
	if (ret)
		return ret;
	nvi_init_queue(nvmeq);
	nvmeq->polled = qid > ctrl->nr_io_queues - ctrl->nr_poll_queues;
	if (nvmeq->cq_vector < 0 && !nvmeq->polled)
		nvmeq->cq_vector = ctrl->nr_vecs > 1 ? qid : 0;

	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(nvmeq->cq_dma);
	c.create_cq.cqid = cpu_to_le16(qid);
	c.create_cq.qsize = cpu_to_le16(nvmeq->q_depth - 1);
	if (nvmeq->polled) {
		c.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG);
	} else {
		c.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG |
						   NVME_CQ_IRQ_ENABLED);
		c.create_cq.irq_vector = cpu_to_le16(nvmeq->cq_vector);
	}
	ret = nvi_submit_admin(ctrl, &c, NULL, 0);
	if (ret)
		goto err;

	memset(&c, 0, sizeof(c));
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(nvmeq->sq_dma);
	c.create_sq.sqid = cpu_to_le16(qid);
	c.create_sq.qsize = cpu_to_le16(nvmeq->q_depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG |
					   NVME_SQ_PRIO_MEDIUM);
	c.create_sq.cqid = cpu_to_le16(qid);
	ret = nvi_submit_admin(ctrl, &c, NULL, 0);
	if (ret)
		goto err;

	if (!nvmeq->polled && !nvmeq->irq_requested) {
		ret = nvi_request_queue_irq(nvmeq);
		if (ret)
			return ret;
	}
	WRITE_ONCE(nvmeq->enabled, true);
	return 0;
err:
	dev_err(ctrl->dev, "creating I/O queue %d failed: %d\n", qid, ret);
	return ret < 0 ? ret : -EIO;
}

/* ------------------------------------------------------------------- */
/* blk-mq */

static blk_status_t nvi_setup_rw(struct nvi_ns *ns, struct request *rq,
				 struct nvme_command *c)
{
	u16 control = 0;

	if (rq->cmd_flags & REQ_FUA)
		control |= NVME_RW_FUA;
	c->rw.opcode = rq_data_dir(rq) ? nvme_cmd_write : nvme_cmd_read;
	c->rw.nsid = cpu_to_le32(ns->nsid);
	c->rw.slba = cpu_to_le64(blk_rq_pos(rq) >> (ns->lba_shift - SECTOR_SHIFT));
	c->rw.length = cpu_to_le16((blk_rq_bytes(rq) >> ns->lba_shift) - 1);
	c->rw.control = cpu_to_le16(control);
	return BLK_STS_OK;
}

/*
 * A discard of one or (merged) several ranges: one DSM range per bio, in a
 * list page from the pool (room for NVME_DSM_MAX_RANGES, the most the
 * queue limits allow).
 */
static blk_status_t nvi_setup_discard(struct nvi_ns *ns, struct request *rq,
				      struct nvi_iod *iod)
{
	unsigned short segs = blk_rq_nr_discard_segments(rq), n = 0;
	unsigned int sect_shift = ns->lba_shift - SECTOR_SHIFT;
	struct nvme_command *c = &iod->cmd;
	struct nvme_dsm_range *range;
	struct bio *bio;

	if (WARN_ON_ONCE(segs > NVME_DSM_MAX_RANGES))
		return BLK_STS_IOERR;
	range = dma_pool_alloc(ns->ctrl->list_pool, GFP_ATOMIC, &iod->list_dma);
	if (!range)
		return BLK_STS_RESOURCE;
	iod->list = range;
	if (queue_max_discard_segments(rq->q) == 1) {
		range[0].cattr = 0;
		range[0].nlb = cpu_to_le32(blk_rq_sectors(rq) >> sect_shift);
		range[0].slba = cpu_to_le64(blk_rq_pos(rq) >> sect_shift);
		n = 1;
	} else {
		__rq_for_each_bio(bio, rq) {
			if (n < segs) {
				range[n].cattr = 0;
				range[n].nlb = cpu_to_le32(bio_sectors(bio) >> sect_shift);
				range[n].slba = cpu_to_le64(bio->bi_iter.bi_sector >>
							    sect_shift);
			}
			n++;
		}
	}
	if (WARN_ON_ONCE(n != segs))
		return BLK_STS_IOERR;
	c->dsm.opcode = nvme_cmd_dsm;
	c->dsm.nsid = cpu_to_le32(ns->nsid);
	c->dsm.nr = cpu_to_le32(segs - 1);
	c->dsm.attributes = cpu_to_le32(NVME_DSMGMT_AD);
	c->dsm.dptr.prp1 = cpu_to_le64(iod->list_dma);
	return BLK_STS_OK;
}

static blk_status_t nvi_setup_cmd(struct nvi_ns *ns, struct request *rq,
				  struct nvi_iod *iod)
{
	struct nvme_command *c = &iod->cmd;

	memset(c, 0, sizeof(*c));
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		return nvi_setup_rw(ns, rq, c);
	case REQ_OP_FLUSH:
		c->common.opcode = nvme_cmd_flush;
		c->common.nsid = cpu_to_le32(ns->nsid);
		return BLK_STS_OK;
	case REQ_OP_DISCARD:
		return nvi_setup_discard(ns, rq, iod);
	case REQ_OP_WRITE_ZEROES:
		c->write_zeroes.opcode = nvme_cmd_write_zeroes;
		c->write_zeroes.nsid = cpu_to_le32(ns->nsid);
		c->write_zeroes.slba = cpu_to_le64(blk_rq_pos(rq) >>
						   (ns->lba_shift - SECTOR_SHIFT));
		c->write_zeroes.length =
			cpu_to_le16((blk_rq_bytes(rq) >> ns->lba_shift) - 1);
		return BLK_STS_OK;
	default:
		return BLK_STS_NOTSUPP;
	}
}

static blk_status_t nvi_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct nvi_queue *nvmeq = hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct request *rq = bd->rq;
	struct nvi_iod *iod = nvi_rq_iod(rq);
	blk_status_t ret;

	if (unlikely(!READ_ONCE(nvmeq->enabled)))
		return ctrl->state == NVI_RESETTING ? BLK_STS_RESOURCE :
			BLK_STS_IOERR;

	nvi_iod_init(iod, nvi_map_mode);
	iod->status = 0;
	iod->result = 0;
	iod->aborted = false;
	iod->mapped = false;
	iod->list = NULL;
	if (!blk_rq_is_passthrough(rq)) {
		ret = nvi_setup_cmd(rq->q->queuedata, rq, iod);
		if (ret)
			goto free_list;
		if (blk_rq_nr_phys_segments(rq) && req_op(rq) != REQ_OP_DISCARD) {
			ret = nvi_map_rq(ctrl, rq);
			if (ret)
				goto free_list;
		}
	}
	blk_mq_start_request(rq);
	iod->cmd.common.command_id = rq->tag;
	nvi_submit_cmd(nvmeq, &iod->cmd, bd->last);
	return BLK_STS_OK;

free_list:
	if (iod->list && !blk_rq_is_passthrough(rq))
		dma_pool_free(ctrl->list_pool, iod->list, iod->list_dma);
	iod->list = NULL;
	return ret;
}

/* blk-mq sent a batch without bd->last (a later request failed to queue). */
static void nvi_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct nvi_queue *nvmeq = hctx->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&nvmeq->sq_lock, flags);
	if (nvmeq->sq_tail != nvmeq->sq_db_tail)
		nvi_ring_sq(nvmeq);
	spin_unlock_irqrestore(&nvmeq->sq_lock, flags);
}

/*
 * Retry a request that ended because the driver stopped it, not because of
 * what it asked for: cancelled by a controller reset, or aborted after a
 * timeout (a controller that honours the Abort completes the command with
 * Command Abort Requested), unless the controller said Do Not Retry; at
 * most NVI_MAX_RETRIES times, and never a passthrough command.
 */
static bool nvi_retry_rq(struct nvi_ctrl *ctrl, struct request *rq,
			 struct nvi_iod *iod)
{
	if (blk_rq_is_passthrough(rq) || blk_noretry_request(rq) ||
	    iod->retries >= NVI_MAX_RETRIES)
		return false;
	if (iod->status == NVME_SC_HOST_ABORTED_CMD)
		return ctrl->state == NVI_RESETTING;
	return iod->aborted && !(iod->status & NVI_STATUS_DNR) &&
	       (iod->status & NVI_STATUS_CODE) == NVME_SC_ABORT_REQ;
}

/* Give back what the request held for the controller: mapping, list page. */
static void nvi_release_rq(struct request *rq)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct nvi_iod *iod = nvi_rq_iod(rq);

	if (iod->mapped)
		nvi_unmap_rq(ctrl, rq);
	iod->mapped = false;
	if (iod->list && !blk_rq_is_passthrough(rq))
		dma_pool_free(ctrl->list_pool, iod->list, iod->list_dma);
	iod->list = NULL;
}

static void nvi_complete_rq(struct request *rq)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct nvi_iod *iod = nvi_rq_iod(rq);
	blk_status_t sts = nvi_error_status(iod->status);

	nvi_release_rq(rq);
	if (nvi_retry_rq(ctrl, rq, iod)) {
		iod->retries++;
		/* a reset restarts the queues itself when it is done */
		blk_mq_requeue_request(rq, ctrl->state != NVI_RESETTING);
		return;
	}
	if (sts && !blk_rq_is_passthrough(rq) && !(rq->rq_flags & RQF_QUIET))
		dev_err_ratelimited(ctrl->dev,
				    "I/O error: op 0x%x sector %llu len %u status 0x%x\n",
				    req_op(rq), (unsigned long long)blk_rq_pos(rq),
				    blk_rq_bytes(rq), iod->status);
	iod->retries = 0;
	blk_mq_end_request(rq, sts);
}

static void nvi_release_batched_rq(struct request *rq)
{
	nvi_release_rq(rq);
	nvi_rq_iod(rq)->retries = 0;
}

/* Requests that completed without error, ended together (as nvme-pci). */
static void nvi_complete_batch(struct io_comp_batch *iob)
{
	blkcompat_end_batch(iob, nvi_release_batched_rq);
}

/* Send Abort for a timed-out command; the answer does not matter. */
static void nvi_abort(struct nvi_ctrl *ctrl, u16 qid, u16 cid)
{
	struct nvme_command c = { };

	c.abort.opcode = nvme_admin_abort_cmd;
	c.abort.cid = cid;
	c.abort.sqid = cpu_to_le16(qid);
	nvi_submit_admin(ctrl, &c, NULL, 2 * HZ);
}

static enum blk_eh_timer_return nvi_timeout(struct request *rq)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct nvi_iod *iod = nvi_rq_iod(rq);

	/* a lost interrupt? */
	nvi_poll_cq(nvmeq);
	if (blk_mq_request_completed(rq))
		return BLK_EH_DONE;
	if (ctrl->state != NVI_LIVE)
		return BLK_EH_RESET_TIMER;	/* reset or removal cancels it */
	if (!iod->aborted) {
		iod->aborted = true;
		dev_warn(ctrl->dev, "I/O tag %d (queue %u) timed out, aborting\n",
			 rq->tag, nvmeq->qid);
		nvi_abort(ctrl, nvmeq->qid, rq->tag);
		return BLK_EH_RESET_TIMER;
	}
	dev_warn(ctrl->dev, "I/O tag %d (queue %u) abort timed out, resetting\n",
		 rq->tag, nvmeq->qid);
	nvi_schedule_reset(ctrl);
	return BLK_EH_RESET_TIMER;
}

static bool nvi_cancel_rq(struct request *rq, void *data)
{
	struct nvi_iod *iod = nvi_rq_iod(rq);

	if (blk_mq_request_completed(rq))
		return true;
	iod->status = NVME_SC_HOST_ABORTED_CMD;
	blk_mq_complete_request(rq);
	return true;
}

/*
 * The queues with interrupts serve the default map, spread like their
 * vectors; the polled ones (after them) the poll map, spread over the CPUs.
 * No read map: reads share the default queues.
 */
static void nvi_map_queues(struct blk_mq_tag_set *set)
{
	struct nvi_ctrl *ctrl = set->driver_data;
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];
	unsigned int nr_irq = ctrl->nr_io_queues - ctrl->nr_poll_queues;

	map->nr_queues = nr_irq;
	map->queue_offset = 0;
	if (ctrl->nr_vecs > 1)
		blkcompat_map_hw_queues(map, ctrl->pdev, 1);
	else
		blk_mq_map_queues(map);
	if (set->nr_maps <= HCTX_TYPE_POLL)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = ctrl->nr_poll_queues;
	map->queue_offset = nr_irq;
	blk_mq_map_queues(map);
}

/* Reap a polled queue for blk-mq (io_uring IOPOLL, RWF_HIPRI). */
static int nvi_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct nvi_queue *nvmeq = hctx->driver_data;
	struct nvme_completion *cqe = &nvmeq->cqes[READ_ONCE(nvmeq->cq_head)];

	/* nothing posted: spare the lock (a stale look only delays a reap) */
	if ((le16_to_cpu(READ_ONCE(cqe->status)) & 1) != READ_ONCE(nvmeq->cq_phase))
		return 0;
	return nvi_reap_cq(nvmeq, iob);
}

/*
 * Callbacks of the older shapes (see src/compat/blk-compat.h): a "reserved"
 * argument we never use, and ->map_queues() returning an int.
 */
#ifdef HAVE_MQ_OPS_TIMEOUT_NO_RESERVED
#define nvi_timeout_cb		nvi_timeout
#else
static enum blk_eh_timer_return nvi_timeout_cb(struct request *rq,
					       bool reserved)
{
	return nvi_timeout(rq);
}
#endif

#ifdef HAVE_BUSY_TAG_ITER_NO_RESERVED
#define nvi_cancel_rq_cb	nvi_cancel_rq
#else
static bool nvi_cancel_rq_cb(struct request *rq, void *data, bool reserved)
{
	return nvi_cancel_rq(rq, data);
}
#endif

#ifdef HAVE_IO_COMP_BATCH
#define nvi_poll_cb		nvi_poll
#else
static int nvi_poll_cb(struct blk_mq_hw_ctx *hctx)
{
	return nvi_poll(hctx, NULL);
}
#endif

#ifdef HAVE_MQ_OPS_MAP_QUEUES_VOID
#define nvi_map_queues_cb	nvi_map_queues
#else
static int nvi_map_queues_cb(struct blk_mq_tag_set *set)
{
	nvi_map_queues(set);
	return 0;
}
#endif

/**
 * nvi_cancel_requests - complete everything the controller still holds
 * @ctrl: controller whose queues are all suspended and reaped
 *
 * The requests end with a host-aborted status: nvi_complete_rq() requeues
 * them if the controller is resetting and fails them otherwise.
 */
void nvi_cancel_requests(struct nvi_ctrl *ctrl)
{
	if (!ctrl->tagset_ready)
		return;
	blk_mq_tagset_busy_iter(&ctrl->tagset, nvi_cancel_rq_cb, ctrl);
	blk_mq_tagset_wait_completed_request(&ctrl->tagset);
}

static int nvi_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			 unsigned int hctx_idx)
{
	struct nvi_ctrl *ctrl = data;

	hctx->driver_data = &ctrl->queues[hctx_idx + 1];
	return 0;
}

const struct blk_mq_ops nvi_mq_ops = {
	.queue_rq	= nvi_queue_rq,
	.commit_rqs	= nvi_commit_rqs,
	.complete	= nvi_complete_rq,
	.timeout	= nvi_timeout_cb,
	.init_hctx	= nvi_init_hctx,
	.map_queues	= nvi_map_queues_cb,
	.poll		= nvi_poll_cb,
};

int nvi_alloc_tagset(struct nvi_ctrl *ctrl)
{
	struct blk_mq_tag_set *set = &ctrl->tagset;
	int ret;

	set->ops = &nvi_mq_ops;
	set->nr_hw_queues = ctrl->nr_io_queues;
	/* all three maps once there are polled queues (the read map empty) */
	set->nr_maps = ctrl->nr_poll_queues ? HCTX_MAX_TYPES : 1;
	set->queue_depth = ctrl->q_depth - 1;
	set->timeout = nvi_io_timeout * HZ;
	set->numa_node = dev_to_node(ctrl->dev);
	set->cmd_size = nvi_pdu_size(nvi_map_mode);
	set->flags = BLKCOMPAT_TAG_SET_FLAGS;
	set->driver_data = ctrl;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	ctrl->tagset_ready = true;
	return 0;
}
