// SPDX-License-Identifier: GPL-2.0
/*
 * A negative control for the test harness: loading this module prints a
 * kernel WARNING, which the console verdict must turn into a failure.  It
 * refuses to stay loaded.  Used only by tests/guest/harness-warn.sh.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init dis_harness_warn_init(void)
{
	WARN(1, "dis_harness_warn: deliberate warning for the harness self-test\n");
	return -EAGAIN;
}

module_init(dis_harness_warn_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test harness negative control: WARNs when loaded");
MODULE_AUTHOR("dma-iova-shim developers");
