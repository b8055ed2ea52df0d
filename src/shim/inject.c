// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: fault injection, so that callers' fallback and error
 * paths can be tested.  Writable at run time through
 * /sys/module/dma_iova_shim/parameters/.
 */
#include <linux/atomic.h>
#include <linux/moduleparam.h>

#include "shim.h"

static unsigned int fail_alloc_every;
module_param(fail_alloc_every, uint, 0644);
MODULE_PARM_DESC(fail_alloc_every,
		 "Make every Nth dma_iova_try_alloc fall back (0: never, 1: always; default 0)");

static unsigned int fail_link_every;
module_param(fail_link_every, uint, 0644);
MODULE_PARM_DESC(fail_link_every,
		 "Make every Nth dma_iova_link fail with -ENOMEM (0: never, 1: always; default 0)");

static atomic_t alloc_calls = ATOMIC_INIT(0);
static atomic_t link_calls = ATOMIC_INIT(0);

static bool dmashim_nth(unsigned int every, atomic_t *calls)
{
	if (!every)
		return false;
	return (unsigned int)atomic_inc_return(calls) % every == 0;
}

bool dmashim_inject_alloc_failure(void)
{
	return dmashim_nth(READ_ONCE(fail_alloc_every), &alloc_calls);
}

bool dmashim_inject_link_failure(void)
{
	return dmashim_nth(READ_ONCE(fail_link_every), &link_calls);
}
