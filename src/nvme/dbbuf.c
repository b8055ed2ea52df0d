// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: shadow doorbells (Doorbell Buffer Config, NVMe 1.3), as
 * nvme-pci uses them.  The driver writes each I/O queue's SQ tail and CQ
 * head into a page of host memory the controller reads, and writes the
 * MMIO doorbell only when the controller asks for it through the event
 * index it keeps in a second page: when the new value passes the index.
 * A controller that is busy with a queue does not ask, so at depth most
 * doorbells cost a memory write instead of a register write (which traps
 * to the hypervisor in a guest).  The admin queue always uses its
 * register, as in nvme-pci.
 *
 * Layout, as the register doorbells: entry 2 * qid * stride is the SQ's,
 * the next stride the CQ's, in both pages.
 */
#include "nvme-iova.h"

static size_t nvi_dbbuf_size(struct nvi_ctrl *ctrl)
{
	return (ctrl->max_io_queues + 1) * 8 * ctrl->db_stride;
}

/**
 * nvi_dbbuf_alloc - get the shadow doorbell pages ready for an enable
 * @ctrl: controller, identified, disabled or with only its admin queue
 *
 * None if the controller does not offer Doorbell Buffer Config or the
 * shadow_doorbells parameter is off (pages of an earlier enable are freed:
 * the disabled controller forgot them).  Pages left from an earlier
 * enable are cleared: the controller starts from the register values, and
 * a stale event index would suppress a doorbell it needs.  Without memory
 * the controller runs on its registers.
 */
void nvi_dbbuf_alloc(struct nvi_ctrl *ctrl)
{
	size_t size = nvi_dbbuf_size(ctrl);

	if (!(ctrl->oacs & NVME_CTRL_OACS_DBBUF_SUPP) ||
	    !READ_ONCE(nvi_shadow_doorbells)) {
		nvi_dbbuf_free(ctrl);	/* turned off since the last enable */
		return;
	}
	if (ctrl->dbbuf_dbs) {
		memset(ctrl->dbbuf_dbs, 0, size);
		memset(ctrl->dbbuf_eis, 0, size);
		return;
	}
	ctrl->dbbuf_dbs = dma_alloc_coherent(ctrl->dev, size,
					     &ctrl->dbbuf_dbs_dma, GFP_KERNEL);
	ctrl->dbbuf_eis = dma_alloc_coherent(ctrl->dev, size,
					     &ctrl->dbbuf_eis_dma, GFP_KERNEL);
	if (!ctrl->dbbuf_dbs || !ctrl->dbbuf_eis) {
		dev_warn(ctrl->dev, "no memory for shadow doorbells\n");
		nvi_dbbuf_free(ctrl);
	}
}

/**
 * nvi_dbbuf_free - give the shadow doorbell pages back
 * @ctrl: controller that no longer reads them (disabled, or never told)
 */
void nvi_dbbuf_free(struct nvi_ctrl *ctrl)
{
	size_t size = nvi_dbbuf_size(ctrl);

	if (ctrl->dbbuf_dbs)
		dma_free_coherent(ctrl->dev, size, ctrl->dbbuf_dbs,
				  ctrl->dbbuf_dbs_dma);
	if (ctrl->dbbuf_eis)
		dma_free_coherent(ctrl->dev, size, ctrl->dbbuf_eis,
				  ctrl->dbbuf_eis_dma);
	ctrl->dbbuf_dbs = NULL;
	ctrl->dbbuf_eis = NULL;
}

/**
 * nvi_dbbuf_init_queue - point an I/O queue at its shadow doorbells
 * @nvmeq: queue being created (not yet given to blk-mq)
 *
 * The queue rings its registers if there are no pages (or it is the admin
 * queue).
 */
void nvi_dbbuf_init_queue(struct nvi_queue *nvmeq)
{
	struct nvi_ctrl *ctrl = nvmeq->ctrl;
	unsigned int sq = 2 * nvmeq->qid * ctrl->db_stride;
	unsigned int cq = sq + ctrl->db_stride;

	if (!ctrl->dbbuf_dbs || !nvmeq->qid) {
		nvmeq->dbbuf_sq_db = NULL;
		nvmeq->dbbuf_cq_db = NULL;
		nvmeq->dbbuf_sq_ei = NULL;
		nvmeq->dbbuf_cq_ei = NULL;
		return;
	}
	nvmeq->dbbuf_sq_db = &ctrl->dbbuf_dbs[sq];
	nvmeq->dbbuf_cq_db = &ctrl->dbbuf_dbs[cq];
	nvmeq->dbbuf_sq_ei = &ctrl->dbbuf_eis[sq];
	nvmeq->dbbuf_cq_ei = &ctrl->dbbuf_eis[cq];
}

/**
 * nvi_dbbuf_set - tell the controller where the shadow doorbells are
 * @ctrl: controller whose I/O queues were just created, before any I/O
 *	is queued on them (as nvme-pci: after queue creation)
 *
 * If the controller refuses, every queue goes back to its registers.
 */
void nvi_dbbuf_set(struct nvi_ctrl *ctrl)
{
	struct nvme_command c = { };
	unsigned int i;
	int ret;

	if (!ctrl->dbbuf_dbs)
		return;
	c.dbbuf.opcode = nvme_admin_dbbuf;
	c.dbbuf.prp1 = cpu_to_le64(ctrl->dbbuf_dbs_dma);
	c.dbbuf.prp2 = cpu_to_le64(ctrl->dbbuf_eis_dma);
	ret = nvi_submit_admin(ctrl, &c, NULL, 0);
	if (!ret)
		return;
	dev_warn(ctrl->dev, "Doorbell Buffer Config failed (%d), using the doorbell registers\n",
		 ret);
	nvi_dbbuf_free(ctrl);
	for (i = 1; i <= ctrl->nr_io_queues; i++)
		nvi_dbbuf_init_queue(&ctrl->queues[i]);
}

/**
 * nvi_dbbuf_update - write a doorbell value to its shadow
 * @value: new SQ tail or CQ head
 * @db: the queue's shadow doorbell (NULL: it has none)
 * @ei: its event index
 *
 * Context: under the lock of that side of the queue.
 * Return: true if the register must be written too: no shadow, or the
 * controller's event index lies in (old value, @value].
 */
bool nvi_dbbuf_update(u16 value, __le32 *db, __le32 *ei)
{
	u16 old, event;

	if (!db)
		return true;
	/* the entries (or the consumed CQEs) before the tail (head) */
	wmb();
	old = le32_to_cpu(*db);
	WRITE_ONCE(*db, cpu_to_le32(value));
	/* the shadow before the event index: the controller orders the other way */
	mb();
	event = le32_to_cpu(READ_ONCE(*ei));
	return (u16)(value - event - 1) < (u16)(value - old);
}
