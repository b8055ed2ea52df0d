// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: reading the shim's per-device counters from inside the
 * guest kernel.
 *
 * The shim exports no counter API (and should not grow one for a test): its
 * debugfs file is the interface.  kernel_read() refuses debugfs files (their
 * proxy file operations have no read_iter), so the file is opened with
 * filp_open() and its seq_file's show() is run into a buffer of ours, under
 * the seq_file's lock, exactly what a read() from offset 0 would print.
 * Safe here because the device cannot be unbound while a case runs (this
 * module is its driver).  It needs debugfs mounted at /sys/kernel/debug (the
 * guest's /init does) and exists only when the shim serves the device: with
 * the kernel's native API there is none, and the callers skip what needs it.
 * The shim creates the file from a work item after the device's first
 * try_alloc, so opening waits a little for it.
 */
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <dma-iova-shim.h>

#include "selftest.h"
#include "shimstat.h"

static const struct {
	const char *name;
	size_t off;
	bool is_signed;
} dis_shim_fields[] = {
	{ "allocs", offsetof(struct dis_shim_stats, allocs) },
	{ "frees", offsetof(struct dis_shim_stats, frees) },
	{ "links", offsetof(struct dis_shim_stats, links) },
	{ "link_errors", offsetof(struct dis_shim_stats, link_errors) },
	{ "unlinks", offsetof(struct dis_shim_stats, unlinks) },
	{ "bytes_mapped", offsetof(struct dis_shim_stats, bytes_mapped) },
	{ "outstanding", offsetof(struct dis_shim_stats, outstanding), true },
	{ "fq_queued", offsetof(struct dis_shim_stats, fq_queued) },
	{ "fq_flushes", offsetof(struct dis_shim_stats, fq_flushes) },
	{ "fq_depth", offsetof(struct dis_shim_stats, fq_depth) },
	{ "fallback_untrusted", offsetof(struct dis_shim_stats, fb_untrusted) },
	{ "fallback_nospace", offsetof(struct dis_shim_stats, fb_nospace) },
	{ "fallback_injected", offsetof(struct dis_shim_stats, fb_injected) },
	{ "batch_holds", offsetof(struct dis_shim_stats, batch_holds) },
	{ "batch_destroys", offsetof(struct dis_shim_stats, batch_destroys) },
	{ "batch_held", offsetof(struct dis_shim_stats, batch_held) },
	{ "batch_flushes", offsetof(struct dis_shim_stats, batch_flushes) },
	{ "batch_flushed", offsetof(struct dis_shim_stats, batch_flushed) },
	{ "batch_depth", offsetof(struct dis_shim_stats, batch_depth), true },
	{ "batch_unflushed", offsetof(struct dis_shim_stats, batch_unflushed) },
	{ "batch_hist_1", offsetof(struct dis_shim_stats, batch_hist[0]) },
	{ "batch_hist_2", offsetof(struct dis_shim_stats, batch_hist[1]) },
	{ "batch_hist_4", offsetof(struct dis_shim_stats, batch_hist[2]) },
	{ "batch_hist_8", offsetof(struct dis_shim_stats, batch_hist[3]) },
	{ "batch_hist_16", offsetof(struct dis_shim_stats, batch_hist[4]) },
	{ "batch_hist_32", offsetof(struct dis_shim_stats, batch_hist[5]) },
};

/**
 * dis_shim_open - open the shim's counter file of the test device
 * @t: the test
 * @sf: filled in
 *
 * Return: 0, -ENOENT when the shim does not serve the device (native API,
 * or no file within a second), or another negative errno.
 */
int dis_shim_open(struct dis_test *t, struct dis_shim_file *sf)
{
	char path[96];
	int tries = 50;

	if (DIS_API_NATIVE)
		return -ENOENT;
	snprintf(path, sizeof(path), DIS_SHIM_DIR "%s", dev_name(t->dev));
	for (;;) {
		sf->f = filp_open(path, O_RDONLY, 0);
		if (!IS_ERR(sf->f))
			return 0;
		if (PTR_ERR(sf->f) != -ENOENT || !--tries)
			return PTR_ERR(sf->f);
		msleep(20);
	}
}

/* Print the seq_file of the open file into sf->buf; its length or < 0. */
static ssize_t dis_shim_show(struct dis_shim_file *sf)
{
	struct seq_file *m = sf->f->private_data;
	size_t saved_size, saved_count;
	char *saved_buf;
	loff_t pos = 0;
	ssize_t n;
	void *v;
	int ret;

	if (!m || m->file != sf->f || !m->op || !m->op->show)
		return -EOPNOTSUPP;
	mutex_lock(&m->lock);
	saved_buf = m->buf;
	saved_size = m->size;
	saved_count = m->count;
	m->buf = sf->buf;
	m->size = sizeof(sf->buf) - 1;
	m->count = 0;
	v = m->op->start(m, &pos);
	ret = IS_ERR_OR_NULL(v) ? -EIO : m->op->show(m, v);
	m->op->stop(m, v);
	n = seq_has_overflowed(m) ? -EOVERFLOW : m->count;
	m->buf = saved_buf;
	m->size = saved_size;
	m->count = saved_count;
	mutex_unlock(&m->lock);
	return ret ? ret : n;
}

/**
 * dis_shim_read - read and parse the counters once
 * @sf: an open counter file
 * @s: filled in
 *
 * Return: 0, or a negative errno (-EPROTO: a field is missing).
 */
int dis_shim_read(struct dis_shim_file *sf, struct dis_shim_stats *s)
{
	unsigned int i, seen = 0;
	char *line, *rest;
	ssize_t n;
	long long v;
	char name[32];

	n = dis_shim_show(sf);
	if (n < 0)
		return n;
	sf->buf[n] = 0;
	memset(s, 0, sizeof(*s));
	rest = sf->buf;
	while ((line = strsep(&rest, "\n"))) {
		if (!strcmp(line, "domain lazy")) {
			s->lazy = true;
			continue;
		}
		if (!strcmp(line, "deferred_free dma-ops")) {
			s->dma_ops_defer = true;
			continue;
		}
		if (sscanf(line, "%31s %lld", name, &v) != 2)
			continue;
		for (i = 0; i < ARRAY_SIZE(dis_shim_fields); i++) {
			if (strcmp(name, dis_shim_fields[i].name))
				continue;
			if (dis_shim_fields[i].is_signed)
				*(s64 *)((char *)s + dis_shim_fields[i].off) = v;
			else
				*(u64 *)((char *)s + dis_shim_fields[i].off) = v;
			seen |= BIT(i);
		}
	}
	return seen == GENMASK(ARRAY_SIZE(dis_shim_fields) - 1, 0) ? 0 : -EPROTO;
}

void dis_shim_close(struct dis_shim_file *sf)
{
	filp_close(sf->f, NULL);
}

/**
 * dis_shim_snapshot - the counters now
 * @t: the test
 * @s: filled in
 *
 * Return: 0, -ENOENT when the shim does not serve the device, or another
 * negative errno.
 */
int dis_shim_snapshot(struct dis_test *t, struct dis_shim_stats *s)
{
	struct dis_shim_file *sf = kmalloc(sizeof(*sf), GFP_KERNEL);
	int ret;

	if (!sf)
		return -ENOMEM;
	ret = dis_shim_open(t, sf);
	if (!ret) {
		ret = dis_shim_read(sf, s);
		dis_shim_close(sf);
	}
	kfree(sf);
	return ret;
}
