// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: the block layer's side.  Building the command of a request
 * (read/write, flush, discard of several ranges, write zeroes), queue_rq,
 * completion one by one and in batches, retries, timeout and Abort,
 * cancellation on reset, the hardware queue maps (with interrupt, polled)
 * and the tag set.
 */
#include "nvme-iova.h"
#include "trace.h"

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
 * list from the pools (up to NVME_DSM_MAX_RANGES, the most the queue
 * limits allow, fill a page).
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
	range = nvi_alloc_list(ns->ctrl, &iod->list, segs * sizeof(*range),
			       GFP_ATOMIC);
	if (!range)
		return BLK_STS_RESOURCE;
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
	c->dsm.dptr.prp1 = cpu_to_le64(iod->list.dma);
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

	nvi_iod_init(iod, ctrl->map_mode);
	iod->status = 0;
	iod->result = 0;
	iod->aborted = false;
	iod->mapped = false;
	iod->list.va = NULL;
	iod->list.whole_page = false;
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
	iod->genctr++;
	iod->cmd.common.command_id = nvi_cid(rq);
	/* debugfs inject_stale_cid: as if an older command on the tag answered */
	if (unlikely(atomic_read(&ctrl->inject_stale_cid)) &&
	    atomic_dec_if_positive(&ctrl->inject_stale_cid) >= 0)
		iod->cmd.common.command_id ^= 1 << NVI_CID_GEN_SHIFT;
	trace_nvme_iova_submit(nvmeq, rq);
	nvi_submit_cmd(nvmeq, &iod->cmd, bd->last);
	return BLK_STS_OK;

free_list:
	if (!blk_rq_is_passthrough(rq))
		nvi_free_list(&iod->list);
	return ret;
}

/* blk-mq sent a batch without bd->last (a later request failed to queue). */
static void nvi_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct nvi_queue *nvmeq = hctx->driver_data;

	spin_lock(&nvmeq->sq_lock);
	if (nvmeq->sq_tail != nvmeq->sq_db_tail)
		nvi_ring_sq(nvmeq);
	spin_unlock(&nvmeq->sq_lock);
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

static struct nvi_ctrl *nvi_rq_ctrl(struct request *rq)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;

	return nvmeq->ctrl;
}

/*
 * Give back what the request held for the controller: mapping, list page.
 * With @batch, its IOVA range waits there for the caller's flush.
 */
static void nvi_release_rq(struct request *rq, struct dma_iova_batch *batch)
{
	struct nvi_ctrl *ctrl = nvi_rq_ctrl(rq);
	struct nvi_iod *iod = nvi_rq_iod(rq);

	if (iod->mapped)
		nvi_unmap_rq(ctrl, rq, batch);
	iod->mapped = false;
	if (!blk_rq_is_passthrough(rq))
		nvi_free_list(&iod->list);
	iod->list.va = NULL;
}

void nvi_complete_rq(struct request *rq)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct nvi_iod *iod = nvi_rq_iod(rq);
	blk_status_t sts = nvi_error_status(iod->status);

	trace_nvme_iova_complete(nvmeq, rq);
	nvi_release_rq(rq, NULL);
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
	if (ctrl->stats)
		this_cpu_inc(ctrl->stats->single);
	blk_mq_end_request(rq, sts);
}

/* The batched ranges of one controller's requests: flush, then count. */
static void nvi_flush_batch(struct nvi_ctrl *ctrl, struct dma_iova_batch *batch,
			    unsigned int rqs, unsigned int ranges)
{
	dma_iova_batch_flush(ctrl->dev, batch);
	nvi_count_batch(ctrl, rqs, ranges);
}

/*
 * Requests that completed without error, ended together (as nvme-pci).
 *
 * Under batched unmapping (nvi_batching(): batch_unmap, in a strict
 * domain) their IOVA ranges are destroyed into one dma_iova_batch and
 * invalidated by one flush, and only then is any of them ended: no memory
 * goes back to its owner while the device may still reach it, which is
 * strict mode's promise.  A batch can hold the requests of several
 * controllers (io_uring polling more than one disk); each controller's
 * run of requests is flushed on its own, the batch being per device.
 */
void nvi_complete_batch(struct io_comp_batch *iob)
{
	DEFINE_DMA_IOVA_BATCH(batch);
	unsigned int rqs = 0, ranges = 0;
	struct nvi_ctrl *ctrl = NULL;
	struct dma_iova_batch *into = NULL;
	struct request *rq;

	for (rq = blkcompat_batch_first(iob); rq; rq = blkcompat_batch_next(rq)) {
		struct nvi_iod *iod = nvi_rq_iod(rq);

		if (nvi_rq_ctrl(rq) != ctrl) {
			if (ctrl)
				nvi_flush_batch(ctrl, &batch, rqs, ranges);
			ctrl = nvi_rq_ctrl(rq);
			into = nvi_batching(ctrl) ? &batch : NULL;
			rqs = 0;
			ranges = 0;
		}
		if (into && iod->mapped && iod->map.mode == NVI_MAP_IOVA &&
		    dma_use_iova(&iod->map.state))
			ranges++;
		trace_nvme_iova_complete(rq->mq_hctx->driver_data, rq);
		nvi_release_rq(rq, into);
		iod->retries = 0;
		rqs++;
	}
	if (ctrl)
		nvi_flush_batch(ctrl, &batch, rqs, ranges);
	blkcompat_end_batch(iob);
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

static enum blk_eh_timer_return nvi_timeout(BLKCOMPAT_TIMEOUT_PARAMS)
{
	struct nvi_queue *nvmeq = rq->mq_hctx->driver_data;
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	struct nvi_iod *iod = nvi_rq_iod(rq);

	/*
	 * A lost interrupt?  As nvme-pci: a request the poll reaped is no
	 * longer in flight (it may have ended already, so "completed" alone
	 * would miss it and abort a finished command), and a poll that had to
	 * find it is worth a line: lost interrupts show as 30 s stalls.
	 */
	nvi_poll_cq(nvmeq);
	if (blk_mq_rq_state(rq) != MQ_RQ_IN_FLIGHT) {
		dev_warn(ctrl->dev, "I/O tag %d (queue %u) timed out, completion polled\n",
			 rq->tag, nvmeq->qid);
		return BLK_EH_DONE;
	}
	switch (ctrl->state) {
	case NVI_LIVE:
		break;
	case NVI_RESETTING:
		return BLK_EH_RESET_TIMER;	/* the reset cancels it */
	default:
		/*
		 * As nvme-pci: while the controller is being removed (or never
		 * came up) nobody else will end this request: stop the
		 * controller, which cancels everything it holds.
		 */
		dev_warn(ctrl->dev, "I/O tag %d (queue %u) timed out while %s, disabling the controller\n",
			 rq->tag, nvmeq->qid, nvi_state_name(ctrl->state));
		nvi_dev_disable(ctrl, false);
		return BLK_EH_DONE;
	}
	if (!iod->aborted) {
		iod->aborted = true;
		dev_warn(ctrl->dev, "I/O tag %d (queue %u) timed out, aborting\n",
			 rq->tag, nvmeq->qid);
		nvi_abort(ctrl, nvmeq->qid, nvi_cid(rq));
		return BLK_EH_RESET_TIMER;
	}
	dev_warn(ctrl->dev, "I/O tag %d (queue %u) abort timed out, resetting\n",
		 rq->tag, nvmeq->qid);
	nvi_schedule_reset(ctrl);
	return BLK_EH_RESET_TIMER;
}

static bool nvi_cancel_rq(BLKCOMPAT_BUSY_ITER_PARAMS)
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
 * No read map: reads share the default queues.  Cannot fail (0).
 */
static int nvi_map_queues(struct blk_mq_tag_set *set)
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
		return 0;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = ctrl->nr_poll_queues;
	map->queue_offset = nr_irq;
	blk_mq_map_queues(map);
	return 0;
}

BLKCOMPAT_DEFINE_MAP_QUEUES(nvi_map_queues)

/* Reap a polled queue for blk-mq (io_uring IOPOLL, RWF_HIPRI). */
static int nvi_poll(BLKCOMPAT_POLL_PARAMS)
{
	struct nvi_queue *nvmeq = hctx->driver_data;

	if (!nvi_cqe_pending(nvmeq))
		return 0;
	return nvi_reap_cq(nvmeq, BLKCOMPAT_POLL_BATCH);
}

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
	blk_mq_tagset_busy_iter(&ctrl->tagset, nvi_cancel_rq, ctrl);
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
	.timeout	= nvi_timeout,
	.init_hctx	= nvi_init_hctx,
	.map_queues	= BLKCOMPAT_MAP_QUEUES(nvi_map_queues),
	.poll		= nvi_poll,
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
	set->cmd_size = nvi_pdu_size(ctrl->map_mode);
	set->flags = BLKCOMPAT_TAG_SET_FLAGS;
	set->driver_data = ctrl;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	ctrl->tagset_ready = true;
	return 0;
}
