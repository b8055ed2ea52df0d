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
