// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: resets.  The reset work (a controller reset asked for by a
 * timeout, an ioctl or sysfs), and the resets that come from outside: a
 * function-level reset (reset_prepare/reset_done), PCI error recovery
 * (error_detected, slot_reset, resume) and the orderly shutdown at poweroff.
 */
#include "nvme-iova.h"

/*
 * The two halves of a reset.  nvi_reset_stop() quiesces the namespaces and
 * disables the controller: what it held is requeued (the state is
 * RESETTING), to be sent again by nvi_reset_restart(), which brings the
 * controller back (or declares it dead) and restarts the queues.  The reset
 * work runs both; an FLR (reset_prepare) and PCI error recovery
 * (error_detected) run the first half themselves, before the function or
 * the link is reset, mark it done with reset_stopped, and leave the second
 * to the reset work (reset_done, slot_reset).
 */
static void nvi_reset_stop(struct nvi_ctrl *ctrl)
{
	if (ctrl->reset_stopped)
		return;
	nvi_kick_namespaces(ctrl, true);
	nvi_dev_disable(ctrl, false);
}

static void nvi_reset_restart(struct nvi_ctrl *ctrl)
{
	int ret;

	ret = nvi_dev_enable(ctrl, false);
	if (ret) {
		dev_err(ctrl->dev, "reset failed (%d), controller is dead\n",
			ret);
		nvi_change_state(ctrl, NVI_DEAD);
		nvi_dev_disable(ctrl, false);
	} else if (!nvi_change_state(ctrl, NVI_LIVE)) {
		dev_info(ctrl->dev, "removed while resetting\n");
	}
	ctrl->reset_stopped = false;
	nvi_kick_namespaces(ctrl, false);
}

void nvi_reset_work(struct work_struct *work)
{
	struct nvi_ctrl *ctrl = container_of(work, struct nvi_ctrl, reset_work);

	if (ctrl->state != NVI_RESETTING)
		return;
	dev_info(ctrl->dev, "resetting controller\n");
	nvi_reset_stop(ctrl);
	nvi_reset_restart(ctrl);
}

/*
 * Move a live controller to RESETTING for a reset driven from outside the
 * reset work (FLR, PCI error recovery, shutdown), after any reset in
 * progress: false if the controller is not live then (dead, going away).
 * A controller an earlier error recovery stopped and never restarted (its
 * link reset failed: no slot_reset came) is taken over as it is.  The
 * caller holds the PCI device lock: remove, the other error and reset
 * callbacks, and so every setter of reset_stopped, are kept out.
 */
static bool nvi_claim_reset(struct nvi_ctrl *ctrl)
{
	while (!nvi_change_state(ctrl, NVI_RESETTING)) {
		if (READ_ONCE(ctrl->state) != NVI_RESETTING)
			return false;
		/* a reset is scheduled or running: let it finish */
		flush_work(&ctrl->reset_work);
		if (ctrl->reset_stopped && READ_ONCE(ctrl->state) == NVI_RESETTING)
			return true;
		cond_resched();
	}
	return true;
}

void nvi_schedule_reset(struct nvi_ctrl *ctrl)
{
	if (nvi_change_state(ctrl, NVI_RESETTING))
		queue_work(nvi_wq, &ctrl->reset_work);
}

int nvi_reset_ctrl_sync(struct nvi_ctrl *ctrl)
{
	if (!nvi_change_state(ctrl, NVI_RESETTING))
		return -EBUSY;
	queue_work(nvi_wq, &ctrl->reset_work);
	flush_work(&ctrl->reset_work);
	return ctrl->state == NVI_LIVE ? 0 : -ENODEV;
}

/* Requests the controller holds (started, not completed). */
static bool nvi_count_busy(BLKCOMPAT_BUSY_ITER_PARAMS)
{
	unsigned int *n = data;

	if (blk_mq_request_started(rq) && !blk_mq_request_completed(rq))
		(*n)++;
	return true;
}

/*
 * Power off or reboot, I/O may be in flight: as nvme-pci, an orderly
 * shutdown (CC.SHN) after any reset in progress, and what the controller
 * held is requeued into the quiesced queues, where it stays: nothing is
 * failed to its submitter, nothing is sent again, and no interrupt or DMA
 * comes from the controller afterwards.
 */
void nvi_shutdown(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);
	unsigned int busy = 0;

	if (!ctrl || !nvi_claim_reset(ctrl))
		return;
	if (ctrl->tagset_ready)
		blk_mq_tagset_busy_iter(&ctrl->tagset, nvi_count_busy, &busy);
	if (!ctrl->reset_stopped)
		nvi_kick_namespaces(ctrl, true);
	nvi_dev_disable(ctrl, true);
	/* stopped for good: a later reset (kexec, FLR) takes it from here */
	ctrl->reset_stopped = true;
	dev_info(ctrl->dev, "shut down (CC.SHN) with %u request(s) in flight, requeued\n",
		 busy);
}

/*
 * A function-level reset (sysfs reset, VFIO, ...) is about to reset the
 * controller under us: stop it and keep its requests.  The PCI core saves
 * and restores the config space around the reset itself.
 */
static void nvi_reset_prepare(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	if (!nvi_claim_reset(ctrl))
		return;
	dev_info(ctrl->dev, "function reset: stopping the controller\n");
	nvi_reset_stop(ctrl);
	ctrl->reset_stopped = true;
}

static void nvi_reset_done(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	if (!ctrl->reset_stopped)
		return;
	if (ctrl->config_lost) {
		/*
		 * An error recovery reset the link, then gave up before
		 * slot_reset: the config space the PCI core saved for this
		 * FLR was the blank one, put ours back
		 */
		dev_info(ctrl->dev, "restoring the config space the failed error recovery lost\n");
		nvi_restore_config(ctrl);
	}
	queue_work(nvi_wq, &ctrl->reset_work);
	flush_work(&ctrl->reset_work);
}

static pci_ers_result_t nvi_error_detected(struct pci_dev *pdev,
					   pci_channel_state_t state)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	switch (state) {
	case pci_channel_io_normal:
		/* the link still works: nothing to stop */
		dev_info(ctrl->dev, "PCI error (normal channel), continuing\n");
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		dev_warn(ctrl->dev, "PCI error (frozen channel), stopping the controller until the slot reset\n");
		if (nvi_claim_reset(ctrl)) {
			nvi_reset_stop(ctrl);
			ctrl->reset_stopped = true;
			/* the link reset that follows blanks the config space */
			ctrl->config_lost = true;
		} else if (ctrl->state == NVI_DEAD) {
			return PCI_ERS_RESULT_DISCONNECT;
		}
		return PCI_ERS_RESULT_NEED_RESET;
	case pci_channel_io_perm_failure:
	default:
		dev_warn(ctrl->dev, "PCI error (permanent failure), controller is dead\n");
		/* no reset is coming: fail everything, queued or held */
		flush_work(&ctrl->reset_work);
		nvi_change_state(ctrl, NVI_DEAD);
		nvi_dev_disable(ctrl, false);
		if (ctrl->reset_stopped) {
			ctrl->reset_stopped = false;
			nvi_kick_namespaces(ctrl, false);
		}
		return PCI_ERS_RESULT_DISCONNECT;
	}
}

static pci_ers_result_t nvi_slot_reset(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	dev_info(ctrl->dev, "slot reset: restarting the controller\n");
	nvi_restore_config(ctrl);
	if (ctrl->reset_stopped)
		queue_work(nvi_wq, &ctrl->reset_work);
	return PCI_ERS_RESULT_RECOVERED;
}

static void nvi_error_resume(struct pci_dev *pdev)
{
	struct nvi_ctrl *ctrl = pci_get_drvdata(pdev);

	flush_work(&ctrl->reset_work);
	dev_info(ctrl->dev, "PCI error recovery done, controller %s\n",
		 nvi_state_name(ctrl->state));
}

const struct pci_error_handlers nvi_err_handler = {
	.error_detected	= nvi_error_detected,
	.slot_reset	= nvi_slot_reset,
	.resume		= nvi_error_resume,
	.reset_prepare	= nvi_reset_prepare,
	.reset_done	= nvi_reset_done,
};
