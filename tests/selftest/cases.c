// SPDX-License-Identifier: GPL-2.0
/*
 * dis_selftest: the test cases.  Each returns 0 (pass), 1 (skipped) or a
 * negative errno (fail) with the reason in t->why.
 */
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <dma-iova-shim.h>

#include "selftest.h"

void dis_fill(struct page *p, u8 seed)
{
	u8 *v = page_address(p);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE; i++)
		v[i] = seed + i * 7;
}

void dis_free_pages(struct page **pages, unsigned int n)
{
	while (n--)
		if (pages[n])
			__free_page(pages[n]);
}

/* n pages allocated one by one: scattered in physical memory */
int dis_alloc_pages(struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			dis_free_pages(pages, i);
			return -ENOMEM;
		}
		dis_fill(pages[i], i * 31 + 1);
	}
	return 0;
}

/* Every page of a range translates to the page linked there. */
static int dis_check_translation(struct dis_test *t, dma_addr_t addr,
				 struct page **pages, unsigned int n)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(t->dev);
	phys_addr_t got;
	unsigned int i;

	for (i = 0; i < n; i++) {
		got = iommu_iova_to_phys(dom, addr + i * PAGE_SIZE);
		if (got != page_to_phys(pages[i]))
			return dis_fail(t, "page %u: IOVA %pad translates to %pa, not %pa",
					i, &addr, &got, &(phys_addr_t){page_to_phys(pages[i])});
	}
	return 0;
}

/* Read len bytes of the device buffer back through a regular mapping. */
int dis_read_back(struct dis_test *t, u32 off, void *out, u32 len)
{
	dma_addr_t a;
	int ret;

	a = dma_map_single(t->dev, t->scratch, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(t->dev, a))
		return -ENOMEM;
	ret = dis_edu_from_device(t->edu, off, a, len);
	dma_unmap_single(t->dev, a, PAGE_SIZE, DMA_FROM_DEVICE);
	memcpy(out, t->scratch, len);
	return ret;
}

/* Fill the device buffer with a byte through a regular mapping. */
int dis_preset(struct dis_test *t, u32 off, u8 byte, u32 len)
{
	dma_addr_t a;
	int ret;

	memset(t->scratch, byte, PAGE_SIZE);
	a = dma_map_single(t->dev, t->scratch, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(t->dev, a))
		return -ENOMEM;
	ret = dis_edu_to_device(t->edu, a, off, len);
	dma_unmap_single(t->dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	return ret;
}

int dis_case_alloc(struct dis_test *t)
{
	struct dma_iova_state st;
	bool ok;

	memset(&st, 0xaa, sizeof(st));
	ok = dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE);
	if (ok != t->expect_iova)
		return dis_fail(t, "try_alloc returned %d in a mode that expects %d",
				ok, t->expect_iova);
	if (!ok) {
		if (st.addr || st.__size || dma_use_iova(&st))
			return dis_fail(t, "state not zeroed on fallback");
		return 0;
	}
	if (!dma_use_iova(&st) || dma_iova_size(&st) != PAGE_SIZE)
		return dis_fail(t, "dma_use_iova/dma_iova_size disagree: size %zu",
				dma_iova_size(&st));
	if (st.addr & (PAGE_SIZE - 1))
		return dis_fail(t, "aligned request got unaligned IOVA %pad", &st.addr);
	if (st.addr + PAGE_SIZE - 1 > DMA_BIT_MASK(EDU_DMA_BITS))
		return dis_fail(t, "IOVA %pad beyond the device's DMA mask", &st.addr);
	dma_iova_free(t->dev, &st);
	return 0;
}

int dis_case_corner(struct dis_test *t)
{
	struct dma_iova_state st;

	memset(&st, 0xaa, sizeof(st));
	if (dma_iova_try_alloc(t->dev, &st, 0, 0) || dma_use_iova(&st))
		return dis_fail(t, "size 0 was accepted or left state set");
	if (dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE | DMA_IOVA_USE_SWIOTLB) ||
	    dma_use_iova(&st))
		return dis_fail(t, "size with bit 63 was accepted");
	return 0;
}

/* The fallback path: the device reads a page mapped with dma_map_phys. */
int dis_case_fallback(struct dis_test *t)
{
	struct page *p;
	dma_addr_t a;
	u8 got[512];
	int ret;

	/* below the edu's 28-bit DMA mask: no IOMMU may be there to help */
	p = alloc_page(GFP_KERNEL | GFP_DMA);
	if (!p)
		return -ENOMEM;
	dis_fill(p, 77);
	a = dma_map_phys(t->dev, page_to_phys(p) + 256, 512, DMA_TO_DEVICE, 0);
	if (dma_mapping_error(t->dev, a)) {
		ret = dis_fail(t, "dma_map_phys failed");
		goto out;
	}
	ret = dis_edu_to_device(t->edu, a, 0, 512);
	dma_unmap_phys(t->dev, a, 512, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dis_read_back(t, 0, got, 512);
	if (!ret && memcmp(got, page_address(p) + 256, 512))
		ret = dis_fail(t, "device read wrong bytes through dma_map_phys");
out:
	__free_page(p);
	return ret;
}

/* Four scattered pages in one range, one sync, DMA across page borders. */
int dis_case_link_dma(struct dis_test *t)
{
	struct page *pages[4];
	struct dma_iova_state st;
	u8 *p0, *p1, *p2, *p3;
	unsigned int i;
	int ret;

	if (!t->expect_iova)
		return 1;
	if (dis_alloc_pages(pages, 4))
		return -ENOMEM;
	ret = -ENOSPC;
	if (!dma_iova_try_alloc(t->dev, &st, 0, 4 * PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc of 4 pages failed");
		goto out;
	}
	for (i = 0; i < 4; i++) {
		ret = dma_iova_link(t->dev, &st, page_to_phys(pages[i]),
				    i * PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
		if (ret) {
			dis_fail(t, "link %u: %d", i, ret);
			goto destroy;
		}
	}
	ret = dma_iova_sync(t->dev, &st, 0, 4 * PAGE_SIZE);
	if (ret) {
		dis_fail(t, "sync: %d", ret);
		goto destroy;
	}
	ret = dis_check_translation(t, st.addr, pages, 4);
	if (ret)
		goto destroy;
	/* device reads across pages 0|1, writes across pages 2|3 */
	ret = dis_edu_to_device(t->edu, st.addr + PAGE_SIZE - 1024, 0, 2048);
	if (!ret)
		ret = dis_edu_from_device(t->edu, 0, st.addr + 3 * PAGE_SIZE - 1024,
					  2048);
	if (ret) {
		dis_fail(t, "edu DMA: %d", ret);
		goto destroy;
	}
	p0 = page_address(pages[0]);
	p1 = page_address(pages[1]);
	p2 = page_address(pages[2]);
	p3 = page_address(pages[3]);
	if (memcmp(p2 + PAGE_SIZE - 1024, p0 + PAGE_SIZE - 1024, 1024) ||
	    memcmp(p3, p1, 1024))
		ret = dis_fail(t, "bytes the device copied through the range differ");
destroy:
	dma_iova_destroy(t->dev, &st, 4 * PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
out:
	dis_free_pages(pages, 4);
	return ret;
}

/* A first segment starting inside a page: state->addr keeps the offset. */
int dis_case_unaligned(struct dis_test *t)
{
	const size_t pad = 0x300, first = PAGE_SIZE - pad;
	struct page *pages[2];
	struct dma_iova_state st;
	u8 got[1024];
	int ret;

	if (!t->expect_iova)
		return 1;
	if (dis_alloc_pages(pages, 2))
		return -ENOMEM;
	if (!dma_iova_try_alloc(t->dev, &st, page_to_phys(pages[0]) + pad,
				first + PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	if ((st.addr & (PAGE_SIZE - 1)) != pad) {
		ret = dis_fail(t, "state->addr %pad lost the in-page offset %#zx",
			       &st.addr, pad);
		goto destroy;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(pages[0]) + pad, 0, first,
			    DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_link(t->dev, &st, page_to_phys(pages[1]), first,
				    PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, &st, 0, first + PAGE_SIZE);
	if (ret) {
		dis_fail(t, "link/sync: %d", ret);
		goto destroy;
	}
	/* 512 bytes before and after the page border */
	ret = dis_edu_to_device(t->edu, st.addr + first - 512, 0, 1024);
	if (!ret)
		ret = dis_read_back(t, 0, got, 1024);
	if (ret) {
		dis_fail(t, "edu DMA: %d", ret);
		goto destroy;
	}
	if (memcmp(got, page_address(pages[0]) + PAGE_SIZE - 512, 512) ||
	    memcmp(got + 512, page_address(pages[1]), 512))
		ret = dis_fail(t, "device read wrong bytes around the unaligned start");
destroy:
	dma_iova_destroy(t->dev, &st, first + PAGE_SIZE, DMA_TO_DEVICE, 0);
out:
	dis_free_pages(pages, 2);
	return ret;
}

/* Only the first link may start inside a granule: -EIO (and a WARN). */
int dis_case_link_eio(struct dis_test *t)
{
	struct dma_iova_state st;
	struct page *p;
	int ret;

	if (!t->expect_iova)
		return 1;
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (!dma_iova_try_alloc(t->dev, &st, 0, 2 * PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p) + 64, PAGE_SIZE, 512,
			    DMA_TO_DEVICE, 0);
	ret = ret == -EIO ? 0 : dis_fail(t, "unaligned link at offset > 0 returned %d", ret);
	dma_iova_free(t->dev, &st);
out:
	__free_page(p);
	return ret;
}

/*
 * Strict domains: each of t->stale_tries stale accesses must be blocked.
 * Every try is a one-page range of its own, linked to a page of its own
 * pattern: the device reads it while it is live (which also puts the
 * translation in the IOMMU's IOTLB), the range is destroyed or unlinked,
 * and the device reads (even tries) or writes (odd tries) through the old
 * IOVA.  In the device buffer, live reads land in 64-byte slots at
 * [0, 1024) and stale reads in slots at [1024, 2048): one preset and one
 * read back check them all, keeping the DMAs (~100 ms each) to 2n + 2.
 */
#define DIS_STALE_SLOT	64
#define DIS_STALE_MAX	(1024 / DIS_STALE_SLOT)

static int dis_stale_try(struct dis_test *t, bool destroy, unsigned int i,
			 struct page *p)
{
	struct dma_iova_state st;
	dma_addr_t old;
	int ret;

	if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE))
		return dis_fail(t, "try %u: try_alloc failed", i);
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
			    DMA_BIDIRECTIONAL, 0);
	if (ret) {
		dma_iova_free(t->dev, &st);
		return dis_fail(t, "try %u: link: %d", i, ret);
	}
	ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
	if (!ret)
		ret = dis_edu_to_device(t->edu, st.addr, i * DIS_STALE_SLOT,
					DIS_STALE_SLOT);
	old = st.addr;
	if (destroy)
		dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	else
		dma_iova_unlink(t->dev, &st, 0, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	if (ret)
		ret = dis_fail(t, "try %u: sync or live DMA: %d", i, ret);
	else if (i & 1)
		ret = dis_edu_from_device(t->edu, 1024 + i * DIS_STALE_SLOT, old,
					  DIS_STALE_SLOT);
	else
		ret = dis_edu_to_device(t->edu, old, 1024 + i * DIS_STALE_SLOT,
					DIS_STALE_SLOT);
	if (!destroy)
		dma_iova_free(t->dev, &st);
	return ret;
}

static int dis_stale_strict(struct dis_test *t, bool destroy)
{
	unsigned int n = min_t(unsigned int, t->stale_tries, DIS_STALE_MAX);
	struct page *pages[DIS_STALE_MAX];
	unsigned int i;
	u8 *buf, *slot;
	int ret;

	if (!n)
		return 1;
	buf = kmalloc(2048, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (dis_alloc_pages(pages, n)) {
		kfree(buf);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		memset(page_address(pages[i]), 0xa0 + i, PAGE_SIZE);
	ret = dis_preset(t, 0, 0x11, 2048);
	for (i = 0; i < n && !ret; i++)
		ret = dis_stale_try(t, destroy, i, pages[i]);
	if (!ret)
		ret = dis_read_back(t, 0, buf, 2048);
	for (i = 0; i < n && !ret; i++) {
		slot = buf + i * DIS_STALE_SLOT;
		if (memchr_inv(slot, 0xa0 + i, DIS_STALE_SLOT))
			ret = dis_fail(t, "try %u: the live range did not carry the data", i);
		else if (!(i & 1) &&
			 !memchr_inv(slot + 1024, 0xa0 + i, DIS_STALE_SLOT))
			ret = dis_fail(t, "try %u of %u: device read the old page, stale IOVA",
				       i, n);
		else if ((i & 1) &&
			 memchr_inv(page_address(pages[i]), 0xa0 + i, PAGE_SIZE))
			ret = dis_fail(t, "try %u of %u: device wrote the old page, stale IOVA",
				       i, n);
	}
	dis_free_pages(pages, n);
	kfree(buf);
	if (!ret)
		pr_info("stale-after-%s: %u of %u stale accesses blocked (%u reads, %u writes)\n",
			destroy ? "destroy" : "unlink", n, n, (n + 1) / 2, n / 2);
	return ret;
}

/* After unlink or destroy the device must not reach the old page. */
static int dis_stale(struct dis_test *t, bool destroy)
{
	struct dma_iova_state st;
	struct page *p;
	u8 got[1024];
	dma_addr_t old;
	int ret;

	if (!t->expect_iova || !t->stale)
		return 1;
	if (t->stale == 1)
		return dis_stale_strict(t, destroy);
	p = alloc_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memset(page_address(p), 0xa5, PAGE_SIZE);
	if (!dma_iova_try_alloc(t->dev, &st, 0, PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	ret = dma_iova_link(t->dev, &st, page_to_phys(p), 0, PAGE_SIZE,
			    DMA_BIDIRECTIONAL, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
	/* the live mapping works */
	if (!ret)
		ret = dis_preset(t, 0, 0x11, 1024);
	if (!ret)
		ret = dis_edu_to_device(t->edu, st.addr, 0, 1024);
	if (!ret)
		ret = dis_read_back(t, 0, got, 1024);
	if (ret || memchr_inv(got, 0xa5, 1024)) {
		ret = dis_fail(t, "the live mapping did not carry the data (%d)", ret);
		dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
		goto out;
	}
	old = st.addr;
	/*
	 * Lazy domain: let the kernel's own flush queue flush the regular
	 * mappings used so far (within 10 ms), and use none until the stale
	 * IOVA has been tried, so that only the shim's own deferred flush
	 * can make it fault.
	 */
	ret = dis_preset(t, 0, 0x11, 1024);
	if (t->stale == 2) {
		msleep(100);
		/* and have the IOMMU cache the translation again after it */
		if (!ret)
			ret = dis_edu_to_device(t->edu, old, 2048, 1024);
	}
	if (destroy) {
		dma_iova_destroy(t->dev, &st, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
		/* lazy: the shim's deferred flush is due within 10 ms */
		if (t->stale == 2)
			msleep(100);
	} else {
		dma_iova_unlink(t->dev, &st, 0, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	}
	/* now the device tries both directions through the stale IOVA */
	if (!ret)
		ret = dis_edu_to_device(t->edu, old, 0, 1024);
	if (!ret)
		ret = dis_read_back(t, 0, got, 1024);
	if (!ret && !memchr_inv(got, 0xa5, 1024))
		ret = dis_fail(t, "the device read the old page through a stale IOVA");
	if (!ret) {
		ret = dis_preset(t, 0, 0x5a, 1024);
		if (!ret)
			ret = dis_edu_from_device(t->edu, 0, old, 1024);
		if (!ret && memchr_inv(page_address(p), 0xa5, PAGE_SIZE))
			ret = dis_fail(t, "the device wrote the old page through a stale IOVA");
	}
	if (!destroy)
		dma_iova_free(t->dev, &st);
out:
	__free_page(p);
	return ret;
}

int dis_case_stale_destroy(struct dis_test *t)
{
	return dis_stale(t, true);
}

int dis_case_stale_unlink(struct dis_test *t)
{
	return dis_stale(t, false);
}

/* Regular mappings and two-step ranges on one device never overlap. */
#define DIS_MIX 32
struct dis_mix {
	struct dma_iova_state st[DIS_MIX];
	dma_addr_t maps[DIS_MIX];
	u64 lo[2 * DIS_MIX], hi[2 * DIS_MIX];
	struct page *pages[DIS_MIX];
};

static int dis_mix_check(struct dis_test *t, struct dis_mix *m, unsigned int n)
{
	unsigned int i, j;
	int ret = 0;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (m->lo[i] < m->hi[j] && m->lo[j] < m->hi[i])
				return dis_fail(t, "ranges overlap: [%llx,%llx) and [%llx,%llx)",
						m->lo[i], m->hi[i], m->lo[j], m->hi[j]);
	for (i = 0; i < DIS_MIX && !ret; i++) {
		ret = dis_check_translation(t, m->maps[i], &m->pages[i], 1);
		if (!ret)
			ret = dis_check_translation(t, m->st[i].addr, &m->pages[i], 1);
	}
	return ret;
}

int dis_case_mixing(struct dis_test *t)
{
	struct dis_mix *m;
	unsigned int i, n = 0;
	size_t len;
	int ret = 0;

	if (!t->expect_iova)
		return 1;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	if (dis_alloc_pages(m->pages, DIS_MIX)) {
		kfree(m);
		return -ENOMEM;
	}
	for (i = 0; i < DIS_MIX; i++)
		m->maps[i] = DMA_MAPPING_ERROR;
	for (i = 0; i < DIS_MIX; i++) {
		m->maps[i] = dma_map_page(t->dev, m->pages[i], 0, PAGE_SIZE,
					  DMA_TO_DEVICE);
		if (dma_mapping_error(t->dev, m->maps[i])) {
			ret = dis_fail(t, "dma_map_page %u failed", i);
			goto out;
		}
		m->lo[n] = m->maps[i];
		m->hi[n++] = m->maps[i] + PAGE_SIZE;
		len = (1 + get_random_u32() % 8) * PAGE_SIZE;
		if (!dma_iova_try_alloc(t->dev, &m->st[i], 0, len)) {
			ret = dis_fail(t, "try_alloc %u failed", i);
			goto out;
		}
		ret = dma_iova_link(t->dev, &m->st[i], page_to_phys(m->pages[i]), 0,
				    PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (!ret)
			ret = dma_iova_sync(t->dev, &m->st[i], 0, PAGE_SIZE);
		if (ret) {
			dis_fail(t, "link %u: %d", i, ret);
			goto out;
		}
		m->lo[n] = m->st[i].addr;
		m->hi[n++] = m->st[i].addr + len;
	}
	ret = dis_mix_check(t, m, n);
out:
	for (i = 0; i < DIS_MIX; i++) {
		if (!dma_mapping_error(t->dev, m->maps[i]))
			dma_unmap_page(t->dev, m->maps[i], PAGE_SIZE, DMA_TO_DEVICE);
		if (dma_use_iova(&m->st[i]))
			dma_iova_destroy(t->dev, &m->st[i], PAGE_SIZE, DMA_TO_DEVICE, 0);
	}
	dis_free_pages(m->pages, DIS_MIX);
	kfree(m);
	return ret;
}

/**
 * dis_requests - n requests of nseg scattered pages, no device DMA
 * @t: the test
 * @n: requests
 * @nseg: pages per request
 * @every: 0: each range destroyed on its own; else destroyed into a batch
 *	(the shim's extension), flushed after this many destroys and at the end
 *
 * Each request is try_alloc, one link per page, one sync, destroy: what a
 * block driver does per I/O.  The host counts the IOTLB invalidations the
 * batch costs (QEMU trace): one per flush in a strict domain when batched.
 *
 * Return: 0, or a negative errno.
 */
int dis_requests(struct dis_test *t, unsigned int n, unsigned int nseg,
		 unsigned int every)
{
	DEFINE_DMA_IOVA_BATCH(batch);
	struct page **pages;
	struct dma_iova_state st;
	unsigned int i, k;
	int ret = 0;

	pages = kcalloc(nseg, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (dis_alloc_pages(pages, nseg)) {
		kfree(pages);
		return -ENOMEM;
	}
	for (i = 0; i < n && !ret; i++) {
		if (!dma_iova_try_alloc(t->dev, &st, 0, nseg * PAGE_SIZE)) {
			ret = -ENOSPC;
			break;
		}
		for (k = 0; k < nseg; k++) {
			ret = dma_iova_link(t->dev, &st, page_to_phys(pages[k]),
					    k * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
			if (ret)
				break;
		}
		if (!ret)
			ret = dma_iova_sync(t->dev, &st, 0, nseg * PAGE_SIZE);
		if (!every) {
			dma_iova_destroy(t->dev, &st, k * PAGE_SIZE, DMA_TO_DEVICE, 0);
			continue;
		}
		dma_iova_destroy_batched(t->dev, &st, k * PAGE_SIZE,
					 DMA_TO_DEVICE, 0, &batch);
		if ((i + 1) % every == 0)
			dma_iova_batch_flush(t->dev, &batch);
	}
	if (every)
		dma_iova_batch_flush(t->dev, &batch);
	dis_free_pages(pages, nseg);
	kfree(pages);
	return ret;
}

/**
 * dis_leak - allocate and link a range and never free it
 * @t: the test
 *
 * For testing the shim's leak report and cleanup when the device goes away.
 *
 * Return: 0, or a negative errno.
 */
int dis_leak(struct dis_test *t)
{
	struct dma_iova_state st;
	int ret;

	if (!t->leak_page) {
		t->leak_page = alloc_page(GFP_KERNEL);
		if (!t->leak_page)
			return -ENOMEM;
	}
	if (!dma_iova_try_alloc(t->dev, &st, 0, 2 * PAGE_SIZE))
		return -ENOSPC;
	ret = dma_iova_link(t->dev, &st, page_to_phys(t->leak_page), 0,
			    PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, &st, 0, PAGE_SIZE);
	return ret;
}

/*
 * Every call from where a completion handler runs: under a spinlock_t taken
 * with spin_lock_irqsave().  That is interrupts off on a kernel whose IRQ
 * handlers run in hard-IRQ context; on PREEMPT_RT, whose handlers run in
 * threads, the lock sleeps and interrupts stay on, and a call that turned
 * preemption off around a lock of its own would schedule while atomic.  No
 * call may change the interrupt state it was called in (an IRQ-unsafe lock
 * would turn interrupts back on, which kernels without lockdep only notice
 * as a WARN in the interrupt core).
 */
static DEFINE_SPINLOCK(dis_completion_lock);

int dis_case_irqs_off(struct dis_test *t)
{
	struct dma_iova_state st;
	const char *step = NULL;
	unsigned long flags;
	struct page *p;
	bool ok, off;
	int i, ret = 0;

	p = alloc_pages(GFP_KERNEL, 2);
	if (!p)
		return -ENOMEM;
	spin_lock_irqsave(&dis_completion_lock, flags);
	off = irqs_disabled();
	if (off == IS_ENABLED(CONFIG_PREEMPT_RT))
		step = "spin_lock_irqsave (the case's own premise)";
	ok = !step && dma_iova_try_alloc(t->dev, &st, 0, 4 * PAGE_SIZE);
	if (!step && irqs_disabled() != off)
		step = "try_alloc";
	for (i = 0; ok && !step && i < 4; i++) {
		ret = dma_iova_link(t->dev, &st, page_to_phys(p + i),
				    i * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (irqs_disabled() != off)
			step = "link";
		if (ret)
			break;
	}
	if (ok && !ret && !step) {
		ret = dma_iova_sync(t->dev, &st, 0, 4 * PAGE_SIZE);
		if (irqs_disabled() != off)
			step = "sync";
	}
	if (ok) {
		dma_iova_destroy(t->dev, &st, i * PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (irqs_disabled() != off && !step)
			step = "destroy";
	}
	spin_unlock_irqrestore(&dis_completion_lock, flags);
	__free_pages(p, 2);
	if (step)
		return dis_fail(t, "%s changed the interrupt state (%s before)",
				step, off ? "off" : "on");
	if (ok != t->expect_iova)
		return dis_fail(t, "try_alloc returned %d in completion context, expected %d",
				ok, t->expect_iova);
	if (ret)
		return dis_fail(t, "link/sync in completion context: %d", ret);
	return 0;
}

/*
 * Unlinking part of a range that the IOMMU mapped with pages of several
 * sizes (4 KiB pages, then a 64 KiB block) takes exactly that part: the
 * link behind it still translates.  IOMMU drivers that unmap one page per
 * call may unmap a whole large page at once; a caller counting calls
 * instead of bytes runs past the part.
 */
int dis_case_unlink_mixed(struct dis_test *t)
{
	struct dma_iova_state st;
	struct page *small[17], *block;
	unsigned int i, n = 0;
	size_t off;
	int ret = 0;

	if (!t->expect_iova)
		return 1;
	block = alloc_pages(GFP_KERNEL, 4);	/* 64 KiB, naturally aligned */
	if (!block)
		return -ENOMEM;
	for (n = 0; n < ARRAY_SIZE(small); n++) {
		small[n] = alloc_page(GFP_KERNEL);
		if (!small[n]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* [0, 64K): 16 pages, [64K, 128K): the block, at 128K: one page */
	if (!dma_iova_try_alloc(t->dev, &st, 0, SZ_128K + PAGE_SIZE)) {
		ret = dis_fail(t, "try_alloc failed");
		goto out;
	}
	for (i = 0, off = 0; i < 16 && !ret; i++, off += PAGE_SIZE)
		ret = dma_iova_link(t->dev, &st, page_to_phys(small[i]), off,
				    PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_link(t->dev, &st, page_to_phys(block), SZ_64K,
				    SZ_64K, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_link(t->dev, &st, page_to_phys(small[16]), SZ_128K,
				    PAGE_SIZE, DMA_TO_DEVICE, 0);
	if (!ret)
		ret = dma_iova_sync(t->dev, &st, 0, SZ_128K + PAGE_SIZE);
	if (ret) {
		dma_iova_destroy(t->dev, &st, off, DMA_TO_DEVICE, 0);
		ret = dis_fail(t, "link/sync failed: %d", ret);
		goto out;
	}
	/* take [4K, 128K) away: page 0 and the page at 128K stay */
	dma_iova_unlink(t->dev, &st, PAGE_SIZE, SZ_128K - PAGE_SIZE,
			DMA_TO_DEVICE, 0);
	ret = dis_check_translation(t, st.addr, &small[0], 1);
	if (!ret)
		ret = dis_check_translation(t, st.addr + SZ_128K, &small[16], 1);
	dma_iova_unlink(t->dev, &st, 0, PAGE_SIZE, DMA_TO_DEVICE, 0);
	dma_iova_unlink(t->dev, &st, SZ_128K, PAGE_SIZE, DMA_TO_DEVICE, 0);
	dma_iova_free(t->dev, &st);
out:
	while (n--)
		__free_page(small[n]);
	__free_pages(block, 4);
	return ret;
}
