// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_iova: what a passthrough command may change, and what the driver does
 * about it.  The controller states each command's effects in its Commands
 * Supported and Effects log (log page 05h); the driver adds the ones the
 * NVMe spec implies for commands a log may understate (Format NVM and
 * Sanitize change every namespace's data and format; writes change logical
 * block content).  As nvme-pci:
 *
 *  - an admin command with execution restrictions (CSE) runs with every
 *    namespace queue frozen and no namespace scan running;
 *  - afterwards, if it may have changed namespace formats, capacities or
 *    the namespace inventory (NCC, NIC), the namespaces are read again:
 *    a changed block size or capacity is applied, a format the driver cannot
 *    serve leaves the disk read-only with no capacity, a namespace that went
 *    away loses its disk, a new one gets one;
 *  - the queues run again only after that, so no request is built from a
 *    stale block size (older nvme-pci also revalidated before unfreezing,
 *    for that reason: its nvme_passthru_end() comment, v5.0 to v6.1).
 */
#include "nvme-iova.h"

/**
 * nvi_read_effects - read the Commands Supported and Effects log
 * @ctrl: controller whose admin queue is live
 * @lpa: Identify Controller's Log Page Attributes
 *
 * A controller without the log (LPA bit 1 clear) is driven by the effects
 * the spec implies alone.  Read again on every controller enable: a
 * firmware activation may change it.
 *
 * Return: 0, or a negative errno (the admin command failed to run).
 */
int nvi_read_effects(struct nvi_ctrl *ctrl, u8 lpa)
{
	struct nvme_command c = { };
	u32 ndw = sizeof(*ctrl->effects) / 4 - 1;
	int ret;

	if (!(lpa & NVME_CTRL_LPA_CMD_EFFECTS_LOG)) {
		kfree(ctrl->effects);
		ctrl->effects = NULL;
		return 0;
	}
	if (!ctrl->effects) {
		ctrl->effects = kzalloc(sizeof(*ctrl->effects), GFP_KERNEL);
		if (!ctrl->effects)
			return -ENOMEM;
	}
	c.get_log_page.opcode = nvme_admin_get_log_page;
	c.get_log_page.nsid = cpu_to_le32(NVME_NSID_ALL);
	c.get_log_page.lid = NVME_LOG_CMD_EFFECTS;
	c.get_log_page.numdl = cpu_to_le16(ndw & 0xffff);
	c.get_log_page.numdu = cpu_to_le16(ndw >> 16);
	ret = nvi_admin_data(ctrl, &c, ctrl->effects, sizeof(*ctrl->effects),
			     DMA_FROM_DEVICE);
	if (ret) {
		/* an error status: do without the log, as without LPA bit 1 */
		dev_warn(ctrl->dev, "reading the command effects log failed: %d\n",
			 ret);
		kfree(ctrl->effects);
		ctrl->effects = NULL;
		return ret < 0 ? ret : 0;
	}
	return 0;
}

/* What the NVMe spec says of admin commands whatever the log claims. */
static u32 nvi_known_admin_effects(u8 opcode)
{
	switch (opcode) {
	case nvme_admin_format_nvm:
		return NVME_CMD_EFFECTS_LBCC | NVME_CMD_EFFECTS_NCC |
			NVME_CMD_EFFECTS_CSE_MASK;
	case nvme_admin_sanitize_nvm:
		return NVME_CMD_EFFECTS_LBCC | NVME_CMD_EFFECTS_CSE_MASK;
	default:
		return 0;
	}
}

static u32 nvi_known_io_effects(u8 opcode)
{
	switch (opcode) {
	case nvme_cmd_write:
	case nvme_cmd_write_zeroes:
	case nvme_cmd_write_uncor:
		return NVME_CMD_EFFECTS_LBCC;
	default:
		return 0;
	}
}

/**
 * nvi_command_effects - the effects of one passthrough command
 * @ctrl: controller
 * @io: an I/O command (else an admin command)
 * @opcode: its opcode
 *
 * An I/O command never gets execution restrictions: freezing the queue it
 * runs on would wait for itself.  An unusual I/O effect is reported once.
 */
u32 nvi_command_effects(struct nvi_ctrl *ctrl, bool io, u8 opcode)
{
	u32 effects;

	if (io) {
		effects = ctrl->effects ?
			le32_to_cpu(ctrl->effects->iocs[opcode]) : 0;
		effects |= nvi_known_io_effects(opcode);
		if (effects & ~(NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC))
			dev_warn_once(ctrl->dev, "I/O command 0x%02x has unusual effects 0x%08x\n",
				      opcode, effects);
		return effects & ~NVME_CMD_EFFECTS_CSE_MASK;
	}
	effects = ctrl->effects ? le32_to_cpu(ctrl->effects->acs[opcode]) : 0;
	return effects | nvi_known_admin_effects(opcode);
}

/* Effects after which the namespaces are read again. */
#define NVI_EFFECTS_RESCAN	(NVME_CMD_EFFECTS_NCC | NVME_CMD_EFFECTS_NIC)

/**
 * nvi_passthru_start - get ready for an admin command's effects
 * @ctrl: controller
 * @effects: nvi_command_effects() of the command
 *
 * With execution restrictions: no scan may run and no namespace I/O may be
 * in flight while the command runs.  Requests already queued complete
 * first; new ones wait in the block layer until nvi_passthru_end().
 */
void nvi_passthru_start(struct nvi_ctrl *ctrl, u32 effects)
{
	if (!(effects & NVME_CMD_EFFECTS_CSE_MASK))
		return;
	mutex_lock(&ctrl->scan_lock);
	nvi_freeze_namespaces(ctrl);
}

/**
 * nvi_passthru_end - act on an admin command's effects
 * @ctrl: controller
 * @effects: as given to nvi_passthru_start()
 *
 * Runs even if the command failed: a Format NVM may have been applied in
 * part.  Namespaces that went away are removed only after their queues
 * run again, as del_gendisk() waits for them.
 */
void nvi_passthru_end(struct nvi_ctrl *ctrl, u32 effects)
{
	bool frozen = effects & NVME_CMD_EFFECTS_CSE_MASK;

	if (effects & NVME_CMD_EFFECTS_CCC)
		dev_info_once(ctrl->dev, "controller capabilities changed: a reset may be needed for them to take effect\n");
	if (!(effects & NVI_EFFECTS_RESCAN)) {
		if (frozen) {
			nvi_unfreeze_namespaces(ctrl);
			mutex_unlock(&ctrl->scan_lock);
		}
		return;
	}
	if (!frozen)
		mutex_lock(&ctrl->scan_lock);
	nvi_scan_locked(ctrl, frozen);
	mutex_unlock(&ctrl->scan_lock);
}
