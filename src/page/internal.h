/* SPDX-License-Identifier: MIT */
/*
 * page/internal.h - the page allocator's interface to the layers above it
 * (slab, vmalloc) and to the unit tests.  Public callers use <kmm/page.h>.
 */
#ifndef KMM_PAGE_INTERNAL_H
#define KMM_PAGE_INTERNAL_H

#include <string.h>

#include "../numa/mempolicy.h"
#include "../numa/mmzone.h"
#include "pcp.h"

/*
 * Internal gfp bit: only blocks that are free already, no zone growth and no
 * draining of other CPUs' caches (vmalloc prefers reusing free memory).
 */
#define __GFP_NOGROW 0x80000000u

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

/*
 * rmqueue() - one block of @order from @zone's buddy, as an allocated block;
 * @dirty (or NULL): set to how many pages from its head may not read zero.
 */
struct kmm_page *rmqueue(struct kmm_zone *zone, unsigned int order, bool may_grow,
			 unsigned long *dirty);

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

/*
 * buddy_check_zone() - walk every free list of @zone and check its invariants
 * (flags, order, alignment, counts, no free block overlapping another).
 * Return: 0, or panics with what is wrong.  Context: takes zone->lock.
 */
int buddy_check_zone(struct kmm_zone *zone);

/* Copy the free block counts of @zone, one per order, under its lock. */
void zone_free_counts(struct kmm_zone *zone, unsigned long counts[NR_PAGE_ORDERS]);

/*
 * alloc_pages_fast() - the common case inline: a small block for the local
 * node's first zone, popped from this CPU's cache, counted as a local hit.
 * Everything else (DMA32, a chosen node or policy, large orders, an empty
 * cache, no rseq) is __alloc_pages().
 * Budget: ~35 instructions on a hit, one call on a miss.
 */
static __always_inline struct kmm_page *alloc_pages_fast(kmm_gfp_t gfp, unsigned int order, int nid)
{
	if (likely(order <= PCP_MAX_ORDER && nid == KMM_NUMA_NO_NODE && !(gfp & KMM_GFP_DMA32) &&
		   kmm_mpol_mode == MPOL_MODE_LOCAL)) {
		int local = numa_node_id();
		struct kmm_zone *zone = kmm_node(local)->zonelist.zonerefs[0].zone;
		struct kmm_page *page = pcp_alloc_fast(zone, order);

		if (likely(page)) {
			numa_event_add(local, NUMA_HIT_LOCAL, 1UL << order);
			if (gfp & KMM_GFP_ZERO)
				memset(page_to_virt(page), 0, PAGE_SIZE << order);
			return page;
		}
	}
	return __alloc_pages(gfp, order, nid);
}

/*
 * free_pages_fast() - a well-formed small block goes onto this CPU's cache
 * inline; anything else, including every kind of misuse, is __free_pages().
 */
static __always_inline void free_pages_fast(struct kmm_zone *zone, struct kmm_page *page,
					    unsigned int order)
{
	if (likely(order <= PCP_MAX_ORDER && page->flags == PG_head && page->order == order &&
		   pcp_free_fast(zone, page, order)))
		return;
	__free_pages(page, order);
}

/*
 * alloc_pages_exact() - @npages contiguous pages (the kernel's
 * alloc_pages_exact()): a free block of the order below with the free pages
 * after it, else a block of the next order up whose unused tail is freed at
 * once.  The head is PG_exact with private = @npages; the run is aligned to
 * the largest power of two that is not above @npages.
 */
struct kmm_page *alloc_pages_exact(kmm_gfp_t gfp, unsigned long npages, int nid);
/*
 * alloc_pages_exact_dirty() - alloc_pages_exact() without KMM_GFP_ZERO's
 * memset; @dirty: set to how many pages from the head may hold old bytes.
 * The others read zero already (not written since the zone grew over them,
 * or released with MADV_DONTNEED): a caller that zeroes only those touches
 * nothing else.
 */
struct kmm_page *alloc_pages_exact_dirty(kmm_gfp_t gfp, unsigned long npages, int nid,
					 unsigned long *dirty);
/*
 * grow_pages_exact() - extend an exact run in place to @npages pages (at most
 * MAX_ORDER_NR_PAGES) if the pages after it are free in the buddy.
 * Return: false, the run unchanged, if they are not.
 */
bool grow_pages_exact(struct kmm_page *page, unsigned long npages);
/* Give back the tail of an exact run beyond its first @npages pages. */
void shrink_pages_exact(struct kmm_page *page, unsigned long npages);
/* Give back a whole exact run; anything else is diagnosed. */
void free_pages_exact(struct kmm_page *page);

/*
 * Free blocks are given back to the system down to 2 MiB (SECTION_ORDER, a
 * whole huge page) on the free paths, where a sweep must stay cheap and
 * huge pages intact; down to 256 KiB by kmm_reclaim() and the background
 * thread, whose purpose is RSS: memory between long-lived small objects is
 * mostly in blocks below 2 MiB (bench/rss.sh: 320 MiB kept at 2 MiB, 124 at
 * 256 KiB).
 */
#define RELEASE_MIN_ORDER 6

/*
 * release_free_pages() - give every free block of RELEASE_MIN_ORDER and up
 * back to the system (kmm_reclaim()).  Return: the pages released.
 */
unsigned long release_free_pages(void);
/*
 * zone_release_maybe() - once per KMM_DECAY_MS, give back the free blocks of
 * @min_order and up that have stayed free a whole period, keeping the
 * zone's high watermark of free memory.
 */
void zone_release_maybe(struct kmm_zone *zone, unsigned int min_order);

/* Views (vmstat.c). */
struct kmm_seq;
void show_buddyinfo(struct kmm_seq *m);
void show_zoneinfo(struct kmm_seq *m);
void show_pagetypeinfo(struct kmm_seq *m);
void show_pagemap(struct kmm_seq *m);
void show_page_vmstat(struct kmm_seq *m);

#endif /* KMM_PAGE_INTERNAL_H */
