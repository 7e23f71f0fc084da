/* SPDX-License-Identifier: MIT */
/*
 * kmm/page.h - the page allocator, after the kernel's include/linux/gfp.h.
 *
 * A page is 4 KiB.  An order-n block is 2^n contiguous pages aligned to its own
 * size; orders run from 0 (4 KiB) to KMM_MAX_PAGE_ORDER (4 MiB).  A block is
 * named either by the descriptor of its first page (struct kmm_page, opaque
 * here) or by its address.
 *
 * Every function here may be called before kmm_init(): the allocator
 * initializes itself on first use.  Allocation failures return NULL and set
 * errno to ENOMEM (an order beyond KMM_MAX_PAGE_ORDER, or no memory left under
 * KMM_ARENA_LIMIT).  Freeing anything that is not the head of an allocated
 * block of the given order is diagnosed on stderr and aborts the program.
 */
#ifndef KMM_PAGE_H
#define KMM_PAGE_H

#include <kmm/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMM_PAGE_SHIFT 12
#define KMM_PAGE_SIZE (1UL << KMM_PAGE_SHIFT)
/* Largest order, inclusive, as the kernel's MAX_PAGE_ORDER: 2^10 pages = 4 MiB. */
#define KMM_MAX_PAGE_ORDER 10
#define KMM_NR_PAGE_ORDERS (KMM_MAX_PAGE_ORDER + 1)

struct kmm_page;

/* Allocate 2^order pages on the local node.  Return: the head's descriptor or NULL. */
struct kmm_page *kmm_alloc_pages(kmm_gfp_t gfp, unsigned int order);
/* Allocate 2^order pages, preferring node @nid (KMM_NUMA_NO_NODE: local). */
struct kmm_page *kmm_alloc_pages_node(int nid, kmm_gfp_t gfp, unsigned int order);
/* Free a block returned by kmm_alloc_pages*() with the order it was allocated with. */
void kmm_free_pages(struct kmm_page *page, unsigned int order);

/* The same, by address (the kernel's __get_free_pages() and free_pages()). */
void *kmm_get_free_pages(kmm_gfp_t gfp, unsigned int order);
void kmm_free_pages_va(void *addr, unsigned int order);

/* Address of the first byte of @page. */
void *kmm_page_address(const struct kmm_page *page);
/* Descriptor of the page that holds @addr, or NULL if libkmm does not own @addr. */
struct kmm_page *kmm_virt_to_page(const void *addr);

/*
 * Give every page held in the per-CPU caches back to the buddy allocator (the
 * kernel's drain_all_pages()).  Safe while other threads allocate.
 */
void kmm_drain_all_pages(void);

static inline struct kmm_page *kmm_alloc_page(kmm_gfp_t gfp)
{
	return kmm_alloc_pages(gfp, 0);
}

static inline void kmm_free_page(struct kmm_page *page)
{
	kmm_free_pages(page, 0);
}

static inline void *kmm_get_free_page(kmm_gfp_t gfp)
{
	return kmm_get_free_pages(gfp, 0);
}

static inline void *kmm_get_zeroed_page(kmm_gfp_t gfp)
{
	return kmm_get_free_pages(gfp | KMM_GFP_ZERO, 0);
}

static inline void kmm_free_page_va(void *addr)
{
	kmm_free_pages_va(addr, 0);
}

#ifdef __cplusplus
}
#endif

#endif /* KMM_PAGE_H */
