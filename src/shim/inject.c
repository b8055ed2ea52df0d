// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: fault injection, so that callers' fallback and error
 * paths can be tested.  Writable at run time through
 * /sys/module/dma_iova_shim/parameters/.
 */
#include <linux/atomic.h>
#include <linux/moduleparam.h>

#include "shim.h"

unsigned int dmashim_fail_alloc_every;
module_param_named(fail_alloc_every, dmashim_fail_alloc_every, uint, 0644);
MODULE_PARM_DESC(fail_alloc_every,
		 "Make every Nth dma_iova_try_alloc fall back (0: never, 1: always; default 0)");

unsigned int dmashim_fail_link_every;
module_param_named(fail_link_every, dmashim_fail_link_every, uint, 0644);
MODULE_PARM_DESC(fail_link_every,
		 "Make every Nth dma_iova_link fail with -ENOMEM (0: never, 1: always; default 0)");

static atomic_t fail_validation = ATOMIC_INIT(0);

static int dmashim_fail_validation_set(const char *val,
				       const struct kernel_param *kp)
{
	unsigned int n;
	int ret = kstrtouint(val, 0, &n);

	if (ret)
		return ret;
	if (n > INT_MAX)
		return -EINVAL;
	atomic_set(&fail_validation, n);
	return 0;
}

static int dmashim_fail_validation_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%d\n", atomic_read(&fail_validation));
}

static const struct kernel_param_ops dmashim_fail_validation_ops = {
	.set = dmashim_fail_validation_set,
	.get = dmashim_fail_validation_get,
};
module_param_cb(fail_validation, &dmashim_fail_validation_ops, NULL, 0644);
MODULE_PARM_DESC(fail_validation,
		 "Make the next N device validations run out of memory, as a transient failure (default 0)");

/* Injection is on: this validation's page allocation fails. */
bool dmashim_inject_validation_failure(void)
{
	return atomic_add_unless(&fail_validation, -1, 0);
}

static atomic_t alloc_calls = ATOMIC_INIT(0);
static atomic_t link_calls = ATOMIC_INIT(0);

/* Injection is on (@every > 0): is this call the Nth? */
bool dmashim_inject_nth_alloc(unsigned int every)
{
	return (unsigned int)atomic_inc_return(&alloc_calls) % every == 0;
}

bool dmashim_inject_nth_link(unsigned int every)
{
	return (unsigned int)atomic_inc_return(&link_calls) % every == 0;
}
