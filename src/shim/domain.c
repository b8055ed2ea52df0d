// SPDX-License-Identifier: GPL-2.0
/*
 * dma_iova_shim: which devices the shim can serve, and the IOVA allocator
 * it shares with the regular DMA API for each of them.
 *
 * The DMA API of these kernels allocates IOVAs from a struct iova_domain
 * embedded in dma-iommu's private cookie (domain->iova_cookie).  The shim
 * must use that same allocator, so that a driver can mix dma_iova_* with
 * dma_map_* on one device.  The cookie's layout is private and differs
 * between kernels, so the shim considers a few candidate positions of the
 * iova_domain in it and accepts one only after checking it against this
 * very device at run time:
 *
 *  - its granule is the domain's smallest page size, its start pfn and
 *    32-bit boundary are what dma-iommu derives from the domain geometry;
 *  - a page mapped with dma_map_page() on the device lies inside an IOVA
 *    that find_iova() returns from the candidate, and the domain translates
 *    that address back to the page.
 *
 * 5.10's VT-d has DMA ops of its own and no cookie: its DMA ops allocate
 * from the iova_domain in its public struct dmar_domain, which is checked
 * the same way (see dmashim_domain_private_iovad()).
 *
 * If no candidate passes, the device is marked failed: try_alloc returns
 * false (the caller falls back) and the reason is logged once.  Nothing is
 * ever written to a candidate that did not pass.
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

/* Where the iova_domain may sit in the cookie: after an enum, or first. */
static const size_t dmashim_iovad_offsets[] = { sizeof(long), 0 };

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

static bool dmashim_iovad_plausible(struct iommu_domain *domain,
				    struct iova_domain *iovad)
{
	unsigned long granule = 1UL << __ffs(domain->pgsize_bitmap);
	unsigned int shift = __ffs(granule);
	unsigned long base_pfn;

	base_pfn = max_t(unsigned long, 1,
			 domain->geometry.aperture_start >> shift);
	return iovad->granule == granule &&
	       iovad->start_pfn == base_pfn &&
	       iovad->dma_32bit_pfn == 1UL << (32 - shift);
}

/*
 * Reasons a validation may give that say nothing about the device: running
 * out of memory or of IOVA space.  The device stays unclassified and is
 * tried again on its next try_alloc.
 */
static const char dmashim_why_nomem[] = "no memory for the validation page";
static const char dmashim_why_nomap[] = "dma_map_page of the validation page failed";

static bool dmashim_why_transient(const char *why)
{
	return why == dmashim_why_nomem || why == dmashim_why_nomap;
}

/* Map a scratch page through the regular DMA API and find it in iovad. */
static const char *dmashim_round_trip(struct device *dev,
				      struct iommu_domain *domain,
				      struct iova_domain *iovad)
{
	const char *why = NULL;
	struct page *page;
	struct iova *iova;
	dma_addr_t addr;
	unsigned long pfn;

	page = dmashim_inject_validation_failure() ? NULL :
		alloc_page(GFP_ATOMIC);
	if (!page)
		return dmashim_why_nomem;
	addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		why = dmashim_why_nomap;
		goto out_free;
	}
	pfn = addr >> __ffs(iovad->granule);
	iova = find_iova(iovad, pfn);
	if (!iova || pfn < iova->pfn_lo || pfn > iova->pfn_hi)
		why = "a dma_map_page IOVA is not in the candidate allocator";
	else if (iommu_iova_to_phys(domain, addr) != page_to_phys(page))
		why = "the domain does not translate the dma_map_page IOVA";
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
out_free:
	__free_page(page);
	return why;
}

/*
 * A domain without a dma-iommu cookie may keep its allocator in the IOMMU
 * driver's own domain (5.10's VT-d, see dmashim_domain_private_iovad()).
 */
static struct iova_domain *dmashim_find_private_iovad(struct device *dev,
						      struct iommu_domain *domain,
						      const char **why)
{
	struct iova_domain *iovad = dmashim_domain_private_iovad(domain);

	if (!iovad) {
		*why = "the domain has no dma-iommu IOVA cookie";
		return NULL;
	}
	if (!dmashim_iovad_plausible(domain, iovad)) {
		*why = "the IOMMU driver's IOVA allocator does not match the domain geometry";
		return NULL;
	}
	*why = dmashim_round_trip(dev, domain, iovad);
	return *why ? NULL : iovad;
}

/* Find and validate the device's IOVA allocator; NULL + reason if none. */
static struct iova_domain *dmashim_find_iovad(struct device *dev,
					      struct iommu_domain *domain,
					      const char **why)
{
	void *cookie = dmashim_domain_cookie(domain);
	struct iova_domain *iovad;
	unsigned int i;

	if (!cookie)
		return dmashim_find_private_iovad(dev, domain, why);
	*why = "no candidate IOVA allocator matches the domain geometry";
	for (i = 0; i < ARRAY_SIZE(dmashim_iovad_offsets); i++) {
		iovad = cookie + dmashim_iovad_offsets[i];
		if (!dmashim_iovad_plausible(domain, iovad))
			continue;
		*why = dmashim_round_trip(dev, domain, iovad);
		if (!*why || dmashim_why_transient(*why))
			return *why ? NULL : iovad;
	}
	return NULL;
}

/*
 * Devices the shim does not serve at all, whatever their domain: those not
 * on the PCI bus (a device's context is dropped when its PCI driver
 * unbinds, and the shim watches no other bus) and those that are not
 * DMA-coherent (the shim does no cache maintenance).  They get no context:
 * this is checked again on every try_alloc, and costs two loads.
 */
static bool dmashim_dev_unsupported(struct device *dev)
{
	return !dev_is_pci(dev) || !dev_is_dma_coherent(dev);
}

/* Classify a device the shim cannot translate for; false if it can. */
static bool dmashim_unusable(struct device *dev, struct iommu_domain *domain,
			     enum dmashim_fallback *why)
{
	if (!domain) {
		*why = DMASHIM_FB_NO_IOMMU;
		return true;
	}
	if (!dmashim_domain_is_dma_api(domain)) {
		*why = DMASHIM_FB_IDENTITY;
		return true;
	}
	if (!dmashim_dev_uses_dma_iommu(dev) ||
	    (!dmashim_domain_cookie(domain) &&
	     !dmashim_domain_private_iovad(domain))) {
		*why = DMASHIM_FB_NOT_DMA_API;
		return true;
	}
	if (!dmashim_domain_has_pgtbl_ops(domain)) {
		*why = DMASHIM_FB_NOT_DMA_API;
		return true;
	}
	if (dmashim_dev_untrusted(dev)) {
		*why = DMASHIM_FB_UNTRUSTED;
		return true;
	}
	return false;
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

/* What the log and debugfs say about a device classified as unusable. */
static const char *dmashim_unusable_reason(enum dmashim_fallback why)
{
	switch (why) {
	case DMASHIM_FB_NO_IOMMU:
		return "no IOMMU translates for the device";
	case DMASHIM_FB_IDENTITY:
		return "identity (passthrough) or blocked IOMMU domain";
	default:
		return "the IOMMU domain is not one the DMA API manages";
	}
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
