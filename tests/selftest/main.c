// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: an in-guest self-test of the two-step DMA API (the shim's,
 * or the kernel's own) with QEMU's edu device doing real DMA through the
 * ranges.  It binds to an edu device only when asked (driver_override);
 * writing 1 to /sys/kernel/debug/dis_selftest/run (or loading it with
 * run_cases=1: at probe time) runs every case and prints one line per case:
 *
 *	dis_selftest: <case>: pass | skip | FAIL <reason>
 *	dis_selftest: summary: <n> passed, <n> failed, <n> skipped in <ms> ms
 *
 * and before each result line, "dis_selftest: time: <case> <ms> ms".
 *
 * Writing N to /sys/kernel/debug/dis_selftest/requests32 then makes N
 * requests of 32 scattered pages (no device DMA), for the host to count
 * the IOTLB invalidations they cost.  Writing 1 to .../leak allocates and
 * links a range that is never freed, to test the shim's leak handling when
 * the device is unbound.  .../mbench runs the mapping microbenchmark
 * (mbench.c); load with run_cases=0 to bind without running the cases.
 * Writing MS to .../stress_injected runs the stress case for MS ms with
 * the shim's fault injection expected on (stress.c) and prints its result
 * line like a case.  Writing "N B" to .../batch_requests32 makes N requests
 * of 32 pages whose ranges are destroyed into a batch flushed every B
 * (cases-batch.c), for the host to count their invalidations; writing N
 * (1-63) to .../batch_leave destroys N ranges into a batch that is never
 * flushed, to test the shim's report of it when the device is unbound.
 */
#include <linux/debugfs.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <dma-iova-shim.h>

#include "mbench.h"
#include "selftest.h"

static bool expect_iova = true;
module_param(expect_iova, bool, 0444);
MODULE_PARM_DESC(expect_iova,
		 "The IOMMU mode translates, so try_alloc must succeed (default Y)");

static unsigned int stale;
module_param(stale, uint, 0444);
MODULE_PARM_DESC(stale,
		 "Stale-IOVA cases: 0 skip, 1 dead at once (strict), 2 dead after the deferred flush of a lazy domain (default 0)");

#ifdef DMA_IOVA_SHIM_USES_NATIVE
static char *api = "native";
#else
static char *api = "shim";
#endif
module_param(api, charp, 0444);
MODULE_PARM_DESC(api, "Read only: which implementation the module calls (native or shim)");

/*
 * Not at probe time by default: a probe runs under the device lock and,
 * from drivers_probe, the sysfs file's mutex, and the cases read the
 * shim's debugfs files; lockdep sees seq_file's lock nest in kernfs's
 * there, the reverse of every sysfs read (a false cycle, between
 * different files, that still switches lockdep off for the boot).
 */
static bool run_cases;
module_param(run_cases, bool, 0444);
MODULE_PARM_DESC(run_cases,
		 "Run the test cases when binding (default N: bind only; write 1 to debugfs dis_selftest/run)");

static unsigned int stale_tries = 10;
module_param(stale_tries, uint, 0444);
MODULE_PARM_DESC(stale_tries,
		 "Stale accesses per stale case in a strict domain, each required to fault (default 10, at most 16)");

static unsigned int stress_ms = 1500;
module_param(stress_ms, uint, 0444);
MODULE_PARM_DESC(stress_ms, "Duration of the stress case in ms (default 1500)");

static bool fail_probe;
module_param(fail_probe, bool, 0644);
MODULE_PARM_DESC(fail_probe,
		 "Fail the next probes after one try_alloc, as a driver whose probe fails late does (default N)");

static const struct {
	const char *name;
	int (*run)(struct dis_test *t);
} dis_cases[] = {
	{ "alloc", dis_case_alloc },
	{ "corner-size", dis_case_corner },
	{ "fallback-map-phys", dis_case_fallback },
	{ "link-dma-4-pages", dis_case_link_dma },
	{ "unaligned-first", dis_case_unaligned },
	{ "link-unaligned-eio", dis_case_link_eio },
	{ "misuse-link", dis_case_misuse_link },
	{ "misuse-destroy", dis_case_misuse_destroy },
	{ "non-pci-device", dis_case_non_pci },
	{ "stale-after-destroy", dis_case_stale_destroy },
	{ "stale-after-unlink", dis_case_stale_unlink },
	{ "mixing", dis_case_mixing },
	{ "irqs-off", dis_case_irqs_off },
	{ "unlink-mixed", dis_case_unlink_mixed },
	{ "untrusted", dis_case_untrusted },
	{ "iova-exhaustion", dis_case_exhaustion },
	{ "lazy-no-early-reuse", dis_case_lazy_reuse },
	{ "stress", dis_case_stress },
	{ "batch-stale", dis_case_batch_stale },
	{ "batch-no-early-reuse", dis_case_batch_reuse },
	{ "batch-misuse", dis_case_batch_misuse },
	{ "batch-completion", dis_case_batch_completion },
	{ "batch-stress", dis_case_batch_stress },
};

#define DIS_MAX_REQUESTS 100000
#define DIS_MAX_STRESS_MS 60000

/*
 * The debugfs operations are serialised by dis_lock and run the cases on
 * the bound device's test, which they hold (dis_get_test()) so that
 * remove waits for them.  Probe and remove never take dis_lock: they run
 * under the driver core's locks and, from sysfs, a kernfs file's mutex,
 * and the cases read the shim's debugfs files (seq_file's lock), which
 * every sysfs read takes the other way round (a false cycle between
 * different files for lockdep, which then switches itself off).
 */
static DEFINE_MUTEX(dis_lock);
static DEFINE_SPINLOCK(dis_current_lock);	/* protects dis_current */
static struct dis_test *dis_current;
static atomic_t dis_users = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(dis_idle);

/* The bound device's test, held until dis_put_test(); NULL if none. */
static struct dis_test *dis_get_test(void)
{
	struct dis_test *t;

	spin_lock(&dis_current_lock);
	t = dis_current;
	if (t)
		atomic_inc(&dis_users);
	spin_unlock(&dis_current_lock);
	return t;
}

static void dis_put_test(void)
{
	if (atomic_dec_and_test(&dis_users))
		wake_up(&dis_idle);
}

static struct dentry *dis_debugfs;

static ssize_t dis_requests_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct dis_test *t;
	unsigned int n;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &n);
	if (ret)
		return ret;
	if (!n || n > DIS_MAX_REQUESTS)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	ret = dis_requests(t, n, 32, 0);
	mutex_unlock(&dis_lock);
	dis_put_test();
	return ret ? ret : len;
}

static ssize_t dis_batch_requests_write(struct file *file,
					const char __user *ubuf, size_t len,
					loff_t *ppos)
{
	unsigned int n, every;
	struct dis_test *t;
	char buf[32];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%u %u", &n, &every) != 2 || !n ||
	    n > DIS_MAX_REQUESTS || !every)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	ret = dis_requests(t, n, 32, every);
	mutex_unlock(&dis_lock);
	dis_put_test();
	return ret ? ret : len;
}

static ssize_t dis_batch_leave_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct dis_test *t;
	unsigned int n;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &n);
	if (ret)
		return ret;
	if (!n || n >= DMA_IOVA_BATCH_MAX)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	ret = dis_batch_leave(t, n);
	mutex_unlock(&dis_lock);
	dis_put_test();
	return ret ? ret : len;
}

static ssize_t dis_leak_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	struct dis_test *t;
	bool yes;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &yes);
	if (ret)
		return ret;
	if (!yes)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	ret = dis_leak(t);
	mutex_unlock(&dis_lock);
	dis_put_test();
	return ret ? ret : len;
}

static ssize_t dis_stress_injected_write(struct file *file,
					 const char __user *ubuf, size_t len,
					 loff_t *ppos)
{
	struct dis_test *t;
	unsigned int ms;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &ms);
	if (ret)
		return ret;
	if (!ms || ms > DIS_MAX_STRESS_MS)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	t->why[0] = 0;
	ret = dis_stress_injected(t, ms);
	if (ret)
		pr_info("stress-injected: FAIL %s (%d)\n",
			t->why[0] ? t->why : "error", ret);
	else
		pr_info("stress-injected: pass\n");
	mutex_unlock(&dis_lock);
	dis_put_test();
	return ret ? ret : len;
}

static void dis_run(struct dis_test *t)
{
	unsigned int i, pass = 0, fail = 0, skip = 0;
	ktime_t start, all = ktime_get();
	int ret;

	for (i = 0; i < ARRAY_SIZE(dis_cases); i++) {
		t->why[0] = 0;
		start = ktime_get();
		ret = dis_cases[i].run(t);
		pr_info("time: %s %lld ms\n", dis_cases[i].name,
			ktime_ms_delta(ktime_get(), start));
		if (ret == 1) {
			skip++;
			pr_info("%s: skip\n", dis_cases[i].name);
		} else if (ret) {
			fail++;
			pr_info("%s: FAIL %s (%d)\n", dis_cases[i].name,
				t->why[0] ? t->why : "error", ret);
		} else {
			pass++;
			pr_info("%s: pass\n", dis_cases[i].name);
		}
	}
	pr_info("summary: %u passed, %u failed, %u skipped in %lld ms\n", pass,
		fail, skip, ktime_ms_delta(ktime_get(), all));
}

static ssize_t dis_run_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct dis_test *t;
	bool yes;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &yes);
	if (ret)
		return ret;
	if (!yes)
		return -EINVAL;
	t = dis_get_test();
	if (!t)
		return -ENODEV;
	mutex_lock(&dis_lock);
	dis_run(t);
	mutex_unlock(&dis_lock);
	dis_put_test();
	return len;
}

static const struct file_operations dis_run_fops = {
	.owner = THIS_MODULE,
	.write = dis_run_write,
};

static ssize_t dis_mbench_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct dis_test *t;
	char *cmd;
	int ret;

	if (len > 127)
		return -EINVAL;
	cmd = memdup_user_nul(ubuf, len);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	t = dis_get_test();
	if (t) {
		mutex_lock(&dis_lock);
		ret = dis_mbench_cmd(t, strim(cmd));
		mutex_unlock(&dis_lock);
		dis_put_test();
	} else {
		ret = -ENODEV;
	}
	kfree(cmd);
	return ret ? ret : len;
}

static ssize_t dis_mbench_file_read(struct file *file, char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&dis_lock);
	ret = dis_mbench_read(ubuf, len, ppos);
	mutex_unlock(&dis_lock);
	return ret;
}

static const struct file_operations dis_mbench_fops = {
	.owner = THIS_MODULE,
	.read = dis_mbench_file_read,
	.write = dis_mbench_write,
};

static const struct file_operations dis_leak_fops = {
	.owner = THIS_MODULE,
	.write = dis_leak_write,
};

static const struct file_operations dis_stress_injected_fops = {
	.owner = THIS_MODULE,
	.write = dis_stress_injected_write,
};

static const struct file_operations dis_batch_requests_fops = {
	.owner = THIS_MODULE,
	.write = dis_batch_requests_write,
};

static const struct file_operations dis_batch_leave_fops = {
	.owner = THIS_MODULE,
	.write = dis_batch_leave_write,
};

static const struct file_operations dis_requests_fops = {
	.owner = THIS_MODULE,
	.write = dis_requests_write,
};

static int dis_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dis_test *t;
	struct dis_edu *edu;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	if (READ_ONCE(fail_probe))
		return dis_probe_fails(&pdev->dev);
	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	t = devm_kzalloc(&pdev->dev, sizeof(*t), GFP_KERNEL);
	if (!edu || !t)
		return -ENOMEM;
	ret = dis_edu_init(edu, pdev);
	if (ret)
		return ret;
	/* reachable under the 28-bit mask even without an IOMMU */
	t->scratch = (void *)devm_get_free_pages(&pdev->dev, GFP_KERNEL | GFP_DMA, 0);
	if (!t->scratch)
		return -ENOMEM;
	t->dev = &pdev->dev;
	t->edu = edu;
	t->expect_iova = expect_iova;
	t->stale = stale;
	t->stale_tries = stale_tries;
	t->stress_ms = stress_ms;
	if (run_cases)
		dis_run(t);
	spin_lock(&dis_current_lock);
	dis_current = t;
	spin_unlock(&dis_current_lock);
	return 0;
}

static void dis_remove(struct pci_dev *pdev)
{
	spin_lock(&dis_current_lock);
	/* the page stays: a leaked range may still point at it */
	dis_current = NULL;
	spin_unlock(&dis_current_lock);
	wait_event(dis_idle, !atomic_read(&dis_users));
}

/* No ID table: it binds only to a device whose driver_override names it. */
static struct pci_driver dis_driver = {
	.name = KBUILD_MODNAME,
	.probe = dis_probe,
	.remove = dis_remove,
};

static int __init dis_init(void)
{
	dis_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("requests32", 0200, dis_debugfs, NULL,
			    &dis_requests_fops);
	debugfs_create_file("leak", 0200, dis_debugfs, NULL, &dis_leak_fops);
	debugfs_create_file("batch_requests32", 0200, dis_debugfs, NULL,
			    &dis_batch_requests_fops);
	debugfs_create_file("batch_leave", 0200, dis_debugfs, NULL,
			    &dis_batch_leave_fops);
	debugfs_create_file("run", 0200, dis_debugfs, NULL, &dis_run_fops);
	debugfs_create_file("stress_injected", 0200, dis_debugfs, NULL,
			    &dis_stress_injected_fops);
	debugfs_create_file("mbench", 0600, dis_debugfs, NULL, &dis_mbench_fops);
	return pci_register_driver(&dis_driver);
}

static void __exit dis_exit(void)
{
	pci_unregister_driver(&dis_driver);
	debugfs_remove_recursive(dis_debugfs);
	dis_mbench_exit();
}

module_init(dis_init);
module_exit(dis_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Self-test of the two-step DMA API with QEMU's edu device");
MODULE_AUTHOR("dma-iova-shim developers");
