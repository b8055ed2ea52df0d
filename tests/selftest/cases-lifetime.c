// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: devices the shim must not keep state for, because it would
 * never learn that they went away.
 *
 *  - non-pci-device: a try_alloc for a platform device falls back and
 *    leaves no context behind (the shim watches only the PCI bus, so a
 *    context would hold the device forever);
 *  - dis_probe_fails(): with fail_probe=1 the probe makes one try_alloc and
 *    fails, so the driver is never bound and no unbind follows; the shim
 *    must drop the device's context on that failed probe.
 *    shim-selftest.sh checks that its counter file is gone.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/platform_device.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

#define DIS_PLAT_NAME	"dis_selftest_plat"

/* Does the shim have a counter file for the device named @name? */
static bool dis_shim_knows(const char *name)
{
	char path[96];
	struct file *f;

	snprintf(path, sizeof(path), DIS_SHIM_DIR "%s", name);
	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return false;
	filp_close(f, NULL);
	return true;
}

int dis_case_non_pci(struct dis_test *t)
{
	struct platform_device *pdev;
	struct dma_iova_state st;
	int ret = 0;

	pdev = platform_device_register_simple(DIS_PLAT_NAME,
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return dis_fail(t, "platform device: %ld", PTR_ERR(pdev));
	if (dma_iova_try_alloc(&pdev->dev, &st, 0, PAGE_SIZE)) {
		dma_iova_free(&pdev->dev, &st);
		ret = dis_fail(t, "try_alloc gave a platform device without an IOMMU a range");
		goto out;
	}
	/* the shim makes a context's file from a work: give it time */
	msleep(200);
	if (!DIS_API_NATIVE && dis_shim_knows(DIS_PLAT_NAME))
		ret = dis_fail(t, "the shim keeps a context for a platform device");
out:
	platform_device_unregister(pdev);
	return ret;
}

/**
 * dis_probe_fails - what a probe does that fails after using the API
 * @dev: the device being probed
 *
 * Return: -ENXIO, always.
 */
int dis_probe_fails(struct device *dev)
{
	struct dma_iova_state st;

	if (dma_iova_try_alloc(dev, &st, 0, PAGE_SIZE))
		dma_iova_free(dev, &st);
	dev_info(dev, "failing the probe on purpose (fail_probe=1)\n");
	return -ENXIO;
}
