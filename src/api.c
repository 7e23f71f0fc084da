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
#include "page/pcp.h"

__export struct kmm_page *kmm_alloc_pages_node(int nid, kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page;

	if (unlikely(!kmm_ready())) {
		errno = ENOMEM;
		return NULL;
	}
	page = __alloc_pages(gfp, order, nid);
	if (unlikely(!page))
		errno = ENOMEM;
	return page;
}

__export struct kmm_page *kmm_alloc_pages(kmm_gfp_t gfp, unsigned int order)
{
	return kmm_alloc_pages_node(KMM_NUMA_NO_NODE, gfp, order);
}

__export void kmm_free_pages(struct kmm_page *page, unsigned int order)
{
	if (!page)
		return;
	if (unlikely(!kmm_ready() || !page_zone_checked(page)))
		kmm_panic("invalid free: %p is not a libkmm page descriptor (order %u)",
			  (void *)page, order);
	__free_pages(page, order);
}

__export void *kmm_get_free_pages(kmm_gfp_t gfp, unsigned int order)
{
	struct kmm_page *page = kmm_alloc_pages_node(KMM_NUMA_NO_NODE, gfp, order);

	return page ? kmm_page_address(page) : NULL;
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
	__free_pages(page, order);
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
