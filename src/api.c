// SPDX-License-Identifier: MIT
/*
 * api.c - the public page API (<kmm/page.h>): lazy start-up, argument checks
 * and errno.  Only this boundary sets errno; the layers below return NULL or
 * -errno.  Mirrors the kernel's wrappers of seed tables 3.1 and 3.2:
 * alloc_pages() -> __alloc_pages(), __get_free_pages() -> alloc_pages(),
 * free_pages() -> __free_pages().
 */
#include <errno.h>

#include <kmm/kmm.h>

#include "init.h"
#include "lib/bug.h"
#include "page/internal.h"

static __always_inline struct kmm_page *alloc_pages(int nid, kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page = NULL;

	if (likely(kmm_ready()))
		page = alloc_pages_fast(gfp, order, nid);
	if (unlikely(!page))
		errno = ENOMEM;
	return page;
}

__export struct kmm_page *kmm_alloc_pages_node(int nid, kmm_gfp_t gfp, unsigned int order)
{
	return alloc_pages(nid, gfp, order);
}

__export struct kmm_page *kmm_alloc_pages(kmm_gfp_t gfp, unsigned int order)
{
	return alloc_pages(KMM_NUMA_NO_NODE, gfp, order);
}

__export void kmm_free_pages(struct kmm_page *page, unsigned int order)
{
	struct kmm_zone *zone;

	if (!page)
		return;
	zone = kmm_ready() ? page_zone_checked(page) : NULL;
	if (unlikely(!zone))
		kmm_panic("invalid free: %p is not a libkmm page descriptor (order %u)",
			  (void *)page, order);
	free_pages_fast(zone, page, order);
}

__export void *kmm_get_free_pages(kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page = alloc_pages(KMM_NUMA_NO_NODE, gfp, order);

	return page ? page_to_virt(page) : NULL;
}

__export void kmm_free_pages_va(void *addr, unsigned int order)
{
	struct kmm_page *page;

	if (!addr)
		return;
	page = kmm_ready() ? virt_to_page_checked(addr) : NULL;
	if (unlikely(!page))
		kmm_panic("invalid free: %p was not allocated by libkmm (order %u)", addr, order);
	if (unlikely(((uintptr_t)addr & (PAGE_SIZE - 1)) != 0))
		kmm_panic("invalid free: %p is not the start of a page block (order %u)", addr,
			  order);
	free_pages_fast(page_zone(page), page, order);
}

__export void *kmm_page_address(const struct kmm_page *page)
{
	return page_to_virt(page);
}

__export struct kmm_page *kmm_virt_to_page(const void *addr)
{
	if (!kmm_ready())
		return NULL;
	return virt_to_page_checked(addr);
}

__export void kmm_drain_all_pages(void)
{
	if (kmm_ready())
		drain_all_pages();
}
