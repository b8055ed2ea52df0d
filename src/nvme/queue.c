// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: submission and completion queues: the rings, doorbells,
 * reaping completions, interrupts, creating I/O queues (with an interrupt
 * or polled).  The block layer's side is in blk-mq.c.
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

/* Count an I/O queue's doorbell: register written or not. */
static void nvi_count_doorbell(struct nvi_queue *nvmeq, bool sq, bool mmio)
{
	struct nvi_stats __percpu *s = nvmeq->ctrl->stats;

	if (!s || !nvmeq->qid)
		return;
	if (sq)
		this_cpu_inc(*(mmio ? &s->sq_mmio : &s->sq_shadow));
	else
		this_cpu_inc(*(mmio ? &s->cq_mmio : &s->cq_shadow));
}

/*
 * Tell the controller about every command queued since it was last told:
 * through the shadow doorbell, and the register if the controller asks.
 */
void nvi_ring_sq(struct nvi_queue *nvmeq)
{
	bool mmio = nvi_dbbuf_update(nvmeq->sq_tail, nvmeq->dbbuf_sq_db,
				     nvmeq->dbbuf_sq_ei);

	if (mmio)
		writel(nvmeq->sq_tail, nvmeq->q_db);
	nvmeq->sq_db_tail = nvmeq->sq_tail;
	nvi_count_doorbell(nvmeq, true, mmio);
}

/* The completion queue's head, the same way. */
static void nvi_ring_cq(struct nvi_queue *nvmeq)
{
	bool mmio = nvi_dbbuf_update(nvmeq->cq_head, nvmeq->dbbuf_cq_db,
				     nvmeq->dbbuf_cq_ei);

	if (mmio)
		writel(nvmeq->cq_head, nvmeq->q_db + nvmeq->ctrl->db_stride);
	nvi_count_doorbell(nvmeq, false, mmio);
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
	u16 next;

	spin_lock(&nvmeq->sq_lock);
	memcpy(&nvmeq->sqes[nvmeq->sq_tail], cmd, sizeof(*cmd));
	if (++nvmeq->sq_tail == nvmeq->q_depth)
		nvmeq->sq_tail = 0;
	next = nvmeq->sq_tail + 1 == nvmeq->q_depth ? 0 : nvmeq->sq_tail + 1;
	if (ring || next == nvmeq->sq_db_tail)
		nvi_ring_sq(nvmeq);
	spin_unlock(&nvmeq->sq_lock);
}

static void nvi_handle_cqe(struct nvi_queue *nvmeq, struct nvme_completion *cqe,
			   struct io_comp_batch *iob)
{
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	u16 cid = cqe->command_id, tag = cid & NVI_CID_TAG_MASK;
	struct request *rq;
	struct nvi_iod *iod;

	if (!nvmeq->qid) {
		nvi_admin_complete(ctrl, cid, le16_to_cpu(cqe->status) >> 1,
				   le64_to_cpu(cqe->result.u64));
		return;
	}
	if (unlikely(tag >= ctrl->tagset.queue_depth)) {
		dev_warn_ratelimited(ctrl->dev, "invalid command id %#x on queue %u\n",
				     cid, nvmeq->qid);
		return;
	}
	rq = blk_mq_tag_to_rq(ctrl->tagset.tags[nvmeq->qid - 1], tag);
	if (unlikely(!rq || !blk_mq_request_started(rq) ||
		     blk_mq_request_completed(rq))) {
		dev_warn_ratelimited(ctrl->dev, "stray completion %#x on queue %u\n",
				     cid, nvmeq->qid);
		return;
	}
	if (unlikely(cid != nvi_cid(rq))) {
		/* an older command on this tag, completed late: not this one */
		dev_warn_ratelimited(ctrl->dev, "stale completion %#x on queue %u (tag now %#x)\n",
				     cid, nvmeq->qid, nvi_cid(rq));
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

/**
 * nvi_reap_cq - reap the completions a queue has posted
 * @nvmeq: queue
 * @iob: batch for the requests that can be ended together (NULL: each is
 *	ended on its own)
 *
 * Return: number of completions handled.
 */
int nvi_reap_cq(struct nvi_queue *nvmeq, struct io_comp_batch *iob)
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
		nvi_ring_cq(nvmeq);
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
	nvi_dbbuf_init_queue(nvmeq);
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
