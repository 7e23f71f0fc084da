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
 * block of @order; anything else is reported with @what (the address the
 * caller was given, for the message) and aborts.
 */
void __free_pages(struct kmm_page *page, unsigned int order);

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
