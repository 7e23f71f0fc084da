/* SPDX-License-Identifier: MIT */
/*
 * page/internal.h - the page allocator's interface to the layers above it
 * (slab, vmalloc) and to the unit tests.  Public callers use <kmm/page.h>.
 */
#ifndef KMM_PAGE_INTERNAL_H
#define KMM_PAGE_INTERNAL_H

#include "../numa/mmzone.h"

/* Bring the buddy up: empty free lists, watermarks (kmm_init step "mem_init"). */
void buddy_init(void);

/*
 * __alloc_pages() - allocate 2^@order pages for @gfp, starting from node @nid's
 * zonelist (KMM_NUMA_NO_NODE: the local node).  Sets no errno.
 * Return: the head descriptor, or NULL.
 */
struct kmm_page *__alloc_pages(kmm_gfp_t gfp, unsigned int order, int nid);

/*
 * __free_pages() - give back a block.  @page must be the head of an allocated
 * block of @order; anything else is reported with its address and aborts.
 */
void __free_pages(struct kmm_page *page, unsigned int order);

/* rmqueue() - one block of @order from @zone's buddy, as an allocated block. */
struct kmm_page *rmqueue(struct kmm_zone *zone, unsigned int order, bool may_grow);

/*
 * rmqueue_bulk() - take up to @count blocks of @order from @zone's buddy in one
 * lock round trip, marked PG_pcp.  Return: the number taken.
 */
int rmqueue_bulk(struct kmm_zone *zone, unsigned int order, unsigned int count,
		 struct kmm_page **pages, bool may_grow);
/* free_pages_bulk() - give @count blocks back in one lock round trip. */
void free_pages_bulk(struct kmm_zone *zone, struct kmm_page *const *pages, unsigned int count,
		     unsigned int order);
/* free_one_page() - give one block back to the buddy (no checks, no pcp). */
void free_one_page(struct kmm_zone *zone, struct kmm_page *page, unsigned int order);

/* Descriptor pointer check: is @page the descriptor of a page in service? */
struct kmm_zone *page_zone_checked(const struct kmm_page *page);

/*
 * buddy_check_zone() - walk every free list of @zone and check its invariants
 * (flags, order, alignment, counts, no free block overlapping another).
 * Return: 0, or panics with what is wrong.  Context: takes zone->lock.
 */
int buddy_check_zone(struct kmm_zone *zone);

/* Copy the free block counts of @zone, one per order, under its lock. */
void zone_free_counts(struct kmm_zone *zone, unsigned long counts[NR_PAGE_ORDERS]);

/* Views (vmstat.c). */
struct kmm_seq;
void show_buddyinfo(struct kmm_seq *m);
void show_zoneinfo(struct kmm_seq *m);

#endif /* KMM_PAGE_INTERNAL_H */
