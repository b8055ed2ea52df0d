// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: the device contexts.  A device gets one on its first
 * try_alloc, classified and validated by validate.c; every later call finds
 * it lock-free (dmashim_ctx_find() in shim.h); it is dropped when the
 * device's driver unbinds, a probe fails or the device goes away.  Also the
 * walk over all of them, and the counters of devices without one.
 */
#include <linux/dma-mapping.h>
#include <linux/hashtable.h>
#include <linux/slab.h>

#include "shim.h"

/* every device with a context; lookups: dmashim_ctx_find() in shim.h */
DEFINE_HASHTABLE(dmashim_table, DMASHIM_TABLE_BITS);
static DEFINE_SPINLOCK(dmashim_table_lock);
static struct dmashim_counters __percpu *dmashim_orphan_stats;
static atomic64_t dmashim_ctx_ids = ATOMIC64_INIT(0);

static void dmashim_ctx_release(struct kref *ref)
{
	struct dmashim_ctx *ctx = container_of(ref, struct dmashim_ctx, ref);

	free_percpu(ctx->stats);
	put_device(ctx->dev);
	/* lookups walk the table under RCU only */
	kfree_rcu(ctx, rcu);
}

void dmashim_ctx_put(struct dmashim_ctx *ctx)
{
	kref_put(&ctx->ref, dmashim_ctx_release);
}

/* Table writers hold dmashim_table_lock. */
static struct dmashim_ctx *dmashim_lookup(struct device *dev)
{
	struct dmashim_ctx *ctx;

	hash_for_each_possible(dmashim_table, ctx, node, (unsigned long)dev)
		if (ctx->dev == dev)
			return ctx;
	return NULL;
}

/*
 * The first try_alloc for a device may run in atomic context (a block
 * driver's ->queue_rq()): its debugfs file is made later, in process
 * context, holding a reference until then.
 */
static void dmashim_debugfs_work(struct work_struct *work)
{
	struct dmashim_ctx *ctx = container_of(work, struct dmashim_ctx,
					       debugfs_work);

	dmashim_debugfs_add(ctx);
	dmashim_ctx_put(ctx);
}

/*
 * A new context: validated for the two-step API, or, if @unusable is not
 * DMASHIM_FB_MAX, one that only remembers why the device falls back, so
 * that its later calls cost a lookup, not a classification.
 */
static struct dmashim_ctx *dmashim_ctx_new(struct device *dev,
					   struct iommu_domain *domain,
					   enum dmashim_fallback unusable)
{
	struct dmashim_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_ATOMIC);
	if (!ctx)
		return NULL;
	ctx->stats = alloc_percpu_gfp(struct dmashim_counters, GFP_ATOMIC);
	if (!ctx->stats) {
		kfree(ctx);
		return NULL;
	}
	ctx->dev = get_device(dev);
	ctx->domain = domain;
	ctx->id = atomic64_inc_return(&dmashim_ctx_ids);
	kref_init(&ctx->ref);
	dmashim_ranges_init_ctx(ctx);
	dmashim_batch_init_ctx(ctx);
	INIT_WORK(&ctx->debugfs_work, dmashim_debugfs_work);
	dmashim_fq_init(ctx);
	ctx->fallback = unusable;
	if (dmashim_ctx_unusable(ctx)) {
		ctx->reason = dmashim_unusable_reason(unusable);
		return ctx;
	}
	ctx->iovad = dmashim_find_iovad(dev, domain, &ctx->reason);
	if (ctx->iovad) {
		ctx->shift = __ffs(ctx->iovad->granule);
		ctx->lazy = dmashim_domain_is_lazy(domain, ctx->iovad);
		/*
		 * The IOMMU driver's own DMA ops defer flushes the domain ops
		 * cannot (their ->unmap() invalidates at once): a lazy range
		 * is torn down through the DMA API (see dmashim_teardown()).
		 */
		ctx->dma_ops_fq = ctx->lazy && !dmashim_domain_cookie(domain) &&
				  dmashim_ops_unmap_flushes(domain);
		return ctx;
	}
	if (dmashim_why_transient(ctx->reason)) {
		/* not the device's fault: no context, try again next time */
		dev_info_ratelimited(dev, "two-step DMA validation deferred: %s\n",
				     ctx->reason);
		dmashim_ctx_put(ctx);
		return NULL;
	}
	ctx->fallback = DMASHIM_FB_VALIDATION;
	return ctx;
}

/* First use of a device: classify it, create and validate its context. */
static struct dmashim_ctx *dmashim_ctx_create(struct device *dev,
					      enum dmashim_fallback *why)
{
	enum dmashim_fallback unusable = DMASHIM_FB_MAX;
	struct dmashim_ctx *ctx, *old;
	struct iommu_domain *domain;
	unsigned long flags;

	if (dmashim_dev_unsupported(dev)) {
		*why = DMASHIM_FB_UNSUPPORTED;
		return NULL;
	}
	domain = iommu_get_domain_for_dev(dev);
	if (dmashim_unusable(dev, domain, &unusable)) {
		*why = unusable;
		/* a flag that may change: checked on every call instead */
		if (unusable == DMASHIM_FB_UNTRUSTED)
			return NULL;
	}
	ctx = dmashim_ctx_new(dev, domain, unusable);
	if (!ctx) {
		*why = DMASHIM_FB_NOMEM;
		return NULL;
	}
	spin_lock_irqsave(&dmashim_table_lock, flags);
	old = dmashim_lookup(dev);
	if (old) {
		/* another CPU was first; ours was never visible */
		spin_unlock_irqrestore(&dmashim_table_lock, flags);
		dmashim_ctx_put(ctx);
		return old;
	}
	hash_add_rcu(dmashim_table, &ctx->node, (unsigned long)dev);
	kref_get(&ctx->ref);	/* the debugfs work's */
	spin_unlock_irqrestore(&dmashim_table_lock, flags);
	if (ctx->fallback == DMASHIM_FB_VALIDATION)
		dev_warn(dev, "two-step DMA falls back to the regular DMA API: %s\n",
			 ctx->reason);
	else if (dmashim_ctx_unusable(ctx))
		dev_info(dev, "two-step DMA falls back to the regular DMA API: %s\n",
			 ctx->reason);
	else
		dev_info(dev, "two-step DMA through the %s IOMMU domain\n",
			 ctx->lazy ? "lazy" : "strict");
	schedule_work(&ctx->debugfs_work);
	return ctx;
}

/**
 * dmashim_ctx_get - the context of a device, created on its first use
 * @dev: the device
 * @why: set to the fallback reason when NULL is returned
 *
 * The first call classifies the device and, if it can be served,
 * validates its IOVA allocator; a device that cannot be served gets a
 * context too, marked failed with the reason (&dmashim_ctx.fallback).
 * Later calls only look it up: the device's domain cannot change under a
 * bound driver (the IOMMU core changes a group's domain only while no
 * driver is bound, or hands the group to VFIO, which needs every driver
 * unbound), and unbinding the driver drops the context.  The untrusted
 * flag is the caller's to check on every call.
 *
 * Context: any context, under rcu_read_lock().
 *
 * Return: the context (valid until rcu_read_unlock()), or NULL if
 * none could be made (an untrusted device on its first use, a device the
 * shim does not serve at all, or no memory).
 */
struct dmashim_ctx *dmashim_ctx_get(struct device *dev,
				    enum dmashim_fallback *why)
{
	struct dmashim_ctx *ctx = dmashim_ctx_find(dev);

	if (likely(ctx))
		return ctx;
	return dmashim_ctx_create(dev, why);
}

/**
 * dmashim_count_fallback - count a try_alloc that returned false
 * @ctx: the device's context, or NULL if it has none
 * @why: the reason
 *
 * Context: under rcu_read_lock().
 */
void dmashim_count_fallback(struct dmashim_ctx *ctx, enum dmashim_fallback why)
{
	if (ctx)
		this_cpu_inc(ctx->stats->fallbacks[why]);
	else
		this_cpu_inc(dmashim_orphan_stats->fallbacks[why]);
}

/* Orphan counters (devices without a context) are shown as "other". */
struct dmashim_counters __percpu *dmashim_orphans(void)
{
	return dmashim_orphan_stats;
}

/*
 * Undo everything for a device that goes away.  The context has left the
 * table and a grace period has passed: no dma_iova_* call still uses it.
 */
static void dmashim_ctx_remove(struct dmashim_ctx *ctx)
{
	if (cancel_work_sync(&ctx->debugfs_work))
		dmashim_ctx_put(ctx);	/* the work's reference */
	dmashim_debugfs_remove(ctx);
	dmashim_release_batches(ctx);
	dmashim_release_ranges(ctx);
	dmashim_fq_drain(ctx);
	dmashim_ranges_drop_spares(ctx);
	dmashim_ctx_put(ctx);
}

static void dmashim_forget(struct device *dev)
{
	struct dmashim_ctx *ctx;
	unsigned long flags;

	spin_lock_irqsave(&dmashim_table_lock, flags);
	ctx = dmashim_lookup(dev);
	if (ctx)
		hash_del_rcu(&ctx->node);
	spin_unlock_irqrestore(&dmashim_table_lock, flags);
	if (ctx) {
		synchronize_rcu();
		dmashim_ctx_remove(ctx);
	}
}

/**
 * dmashim_walk_ctxs - visit every known device context
 * @walk: walk->visit() is called without locks held, with a reference
 */
void dmashim_walk_ctxs(struct dmashim_walk *walk)
{
	struct dmashim_ctx *ctx, **all;
	unsigned int n = 0, i, bkt;
	unsigned long flags;

again:
	spin_lock_irqsave(&dmashim_table_lock, flags);
	hash_for_each(dmashim_table, bkt, ctx, node)
		n++;
	spin_unlock_irqrestore(&dmashim_table_lock, flags);
	all = kcalloc(n + 1, sizeof(*all), GFP_KERNEL);
	if (!all)
		return;
	i = 0;
	spin_lock_irqsave(&dmashim_table_lock, flags);
	hash_for_each(dmashim_table, bkt, ctx, node) {
		if (i > n) {
			spin_unlock_irqrestore(&dmashim_table_lock, flags);
			kfree(all);
			n = i + 8;
			goto again;
		}
		kref_get(&ctx->ref);
		all[i++] = ctx;
	}
	spin_unlock_irqrestore(&dmashim_table_lock, flags);
	n = i;
	for (i = 0; i < n; i++) {
		walk->visit(all[i], walk);
		dmashim_ctx_put(all[i]);
	}
	kfree(all);
}

/*
 * Drop a device's context when its driver is unbound, when a probe that
 * may have used the API fails (the driver is never bound, so no unbind
 * follows), or when the device is removed.  A failed probe is notified
 * before the driver core releases its devres: a range a devm action would
 * still destroy is reported as leaked and released here, and that later
 * destroy is refused; nothing is unmapped twice.
 */
static int dmashim_bus_notify(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	if (action == BUS_NOTIFY_UNBOUND_DRIVER ||
	    action == BUS_NOTIFY_DRIVER_NOT_BOUND ||
	    action == BUS_NOTIFY_DEL_DEVICE)
		dmashim_forget(data);
	return NOTIFY_DONE;
}

static struct notifier_block dmashim_pci_nb = {
	.notifier_call = dmashim_bus_notify,
};

int dmashim_domains_init(void)
{
	int ret;

	ret = dmashim_ranges_init();
	if (ret)
		return ret;
	dmashim_orphan_stats = alloc_percpu(struct dmashim_counters);
	if (!dmashim_orphan_stats) {
		ret = -ENOMEM;
		goto out_ranges;
	}
	ret = bus_register_notifier(&pci_bus_type, &dmashim_pci_nb);
	if (ret)
		goto out_stats;
	return 0;

out_stats:
	free_percpu(dmashim_orphan_stats);
out_ranges:
	dmashim_ranges_exit();
	return ret;
}

void dmashim_domains_exit(void)
{
	struct dmashim_ctx *ctx;
	struct hlist_node *tmp;
	unsigned long flags;
	unsigned int bkt;
	HLIST_HEAD(gone);

	bus_unregister_notifier(&pci_bus_type, &dmashim_pci_nb);
	spin_lock_irqsave(&dmashim_table_lock, flags);
	hash_for_each_safe(dmashim_table, bkt, tmp, ctx, node) {
		hash_del(&ctx->node);
		hlist_add_head(&ctx->node, &gone);
	}
	spin_unlock_irqrestore(&dmashim_table_lock, flags);
	synchronize_rcu();
	hlist_for_each_entry_safe(ctx, tmp, &gone, node)
		dmashim_ctx_remove(ctx);
	dmashim_ranges_exit();
	free_percpu(dmashim_orphan_stats);
}
