// SPDX-License-Identifier: MIT
/*
 * page_alloc.c - the zone buddy allocator (the kernel's mm/page_alloc.c).
 *
 * Theory of operation.  Each zone keeps free_area[order] for orders 0 to
 * MAX_PAGE_ORDER: a list of free blocks of 2^order pages, each aligned to its
 * size.  A block's buddy is the block it was split from, found by flipping bit
 * @order of its pfn.  Allocation takes the smallest free block that fits and
 * splits it, putting the unused halves back one order lower each (expand()).
 * Freeing merges the block with its buddy for as long as the buddy is free and
 * of the same order, then puts the result on its list (__free_one_page()).
 * Lists are LIFO, so the most recently freed (warmest) block is reused first;
 * blocks never written (past the zone's frontier) or released go to the tail,
 * and an allocation splits a larger warm block before it takes a smaller
 * cold one, so that the pages a program touches are reused before new ones
 * count in its RSS.
 *
 * When a zone has no block big enough it brings its next 2 MiB section into
 * service (arena_grow_zone()) and frees it into the buddy, where it merges with
 * its neighbour into a 4 MiB block when that is free.
 *
 * Only the head page of a block carries state: PG_buddy and the order while
 * free, PG_head and the order while allocated.  That is what makes an invalid
 * free detectable: freeing a block whose head is not PG_head with the same
 * order is reported and aborts, and never reaches the free lists.
 *
 * Locking: one lock per zone, zone->lock, protects the free lists, the counts
 * and the flags of free pages.  It is never held while calling another layer;
 * growth (an mmap or mprotect) happens under it, rarely.  Zones are locked one
 * at a time; the only nesting is none.
 *
 * Zonelists: an allocation walks its node's zonelist (own zones, then other
 * nodes by distance), skipping zones above the gfp's highest zone.  A Normal
 * request may use DMA32 pages that are already free but never grows DMA32,
 * whose address space below 4 GiB is kept for requests that need it (the
 * kernel's lowmem_reserve, in its simplest form).
 */
#include <errno.h>
#include <string.h>

#include "../lib/bug.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/memcheck.h"
#include "../numa/os.h"
#include "internal.h"
#include "pcp.h"

static inline bool page_is_buddy(const struct kmm_page *page, unsigned int order)
{
	return (page->flags & PG_buddy) && page->order == order;
}

/*
 * A free block is warm when its pages may be resident: it lies below the
 * zone's frontier and was not released.  Warm blocks go to the head of their
 * list, cold ones (never written, or given back) to the tail, so that a
 * list's head is warm whenever the list holds a warm block, and its tail is
 * the cold block added last.
 */
static inline bool block_is_warm(const struct kmm_zone *zone, unsigned long pfn,
				 unsigned int released)
{
	return !released && pfn < zone->frontier;
}

static inline void add_to_free_list(struct kmm_zone *zone, struct kmm_page *page,
				    unsigned int order, bool warm)
{
	page->flags = PG_buddy;
	page->order = (uint8_t)order;
	if (warm)
		list_add(&page->lru, &zone->free_area[order].free_list);
	else
		list_add_tail(&page->lru, &zone->free_area[order].free_list);
	zone->free_area[order].nr_free++;
}

static inline void del_from_free_list(struct kmm_zone *zone, struct kmm_page *page,
				      unsigned int order)
{
	/* A released block counts as released only while it is free and whole. */
	if (page->flags & PG_released)
		zone->nr_released -= 1UL << order;
	list_del(&page->lru);
	page->flags = 0;
	zone->free_area[order].nr_free--;
}

/*
 * Split a block of order @high down to @low, freeing the upper halves; the
 * halves of a released block (@released: PG_released or 0) stay released.
 */
static inline void expand(struct kmm_zone *zone, struct kmm_page *page, unsigned long pfn,
			  unsigned int low, unsigned int high, unsigned int released)
{
	unsigned long size = 1UL << high;

	while (high > low) {
		high--;
		size >>= 1;
		add_to_free_list(zone, page + size, high,
				 block_is_warm(zone, pfn + size, released));
		if (released) {
			page[size].flags |= PG_released;
			zone->nr_released += size;
		}
	}
}

/* Runs of 2^this pages and up are released when freed (release_run()). */
#define RUN_RELEASE_MIN_ORDER 5

/*
 * Pages [@lo, @hi) of a free block were taken (a request of
 * RUN_RELEASE_MIN_ORDER and up, or a run grown or fitted over free pages):
 * count the pages it faults in again that a run release gave back (those of
 * a released block, or, as a released run merged with a buddy in use before
 * is no longer marked, those of the last run released).  Context:
 * zone->lock.
 */
static void count_released_reuse(struct kmm_zone *zone, unsigned long lo, unsigned long hi,
				 unsigned int released)
{
	if (released) {
		zone->released_reused += hi - lo;
		return;
	}
	lo = MAX(lo, zone->last_released_pfn);
	hi = MIN(hi, zone->last_released_pfn + zone->last_released_pages);
	if (hi > lo)
		zone->released_reused += hi - lo;
}

/*
 * Does a free block released with @flags read zero?  After MADV_DONTNEED it
 * does; MADV_FREE may leave the old bytes.
 */
static inline bool released_reads_zero(unsigned int flags)
{
	return (flags & PG_released) && kmm_config.purge == KMM_PURGE_DONTNEED;
}

/*
 * Take a free block of at least @order: the smallest warm one, else the
 * smallest (the kernel takes the smallest, resident or not; here a program's
 * peak RSS counts every page it ever touched, so freed memory is used again
 * before a page never written is).  Its flags are PG_zero if it was released
 * and reads zero, else 0.  Context: zone->lock.
 */
static __always_inline struct kmm_page *__rmqueue_smallest(struct kmm_zone *zone,
							   unsigned int order)
{
	struct kmm_page *page = NULL;
	unsigned int o, released;
	unsigned long pfn;

	for (o = order; o < NR_PAGE_ORDERS; o++) {
		struct kmm_list *list = &zone->free_area[o].free_list;

		if (list_empty(list))
			continue;
		page = list_first_entry(list, struct kmm_page, lru);
		if (block_is_warm(zone, page_to_pfn(page), page->flags & PG_released))
			break;
		page = NULL;
	}
	for (o = order; !page && o < NR_PAGE_ORDERS; o++) {
		struct kmm_list *list = &zone->free_area[o].free_list;

		if (!list_empty(list)) /* the last cold block added: LIFO too */
			page = list_last_entry(list, struct kmm_page, lru);
	}
	if (!page)
		return NULL;
	o = page->order;
	pfn = page_to_pfn(page);
	released = page->flags & PG_released;
	if (order >= RUN_RELEASE_MIN_ORDER)
		count_released_reuse(zone, pfn, pfn + (1UL << order), released);
	del_from_free_list(zone, page, o);
	expand(zone, page, pfn, order, o, released);
	page->flags = released_reads_zero(released) ? PG_zero : 0;
	return page;
}

/*
 * Put the block of @order at @pfn on the free lists, merging with free
 * buddies.  Zone bases are aligned to MAX_ORDER_NR_PAGES and zones grow in
 * whole sections, so the buddy of any block below MAX_PAGE_ORDER that lies in
 * a section in service is in service too... except the upper half of a 4 MiB
 * block whose second section is not present yet: checked against present.
 * @released: PG_released if the block's pages were given back to the
 * system; the merged block stays released only if every part was.
 * Context: zone->lock.
 */
static __noclone void __free_one_page(struct kmm_zone *zone, struct kmm_page *page,
				      unsigned long pfn, unsigned int order, unsigned int released)
{
	unsigned long end = zone->zone_start_pfn + zone->present_pages;

	zone->nr_free_pages += 1UL << order;
	while (order < MAX_PAGE_ORDER) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);
		struct kmm_page *buddy;

		if (buddy_pfn >= end)
			break;
		buddy = page + ((long)buddy_pfn - (long)pfn);
		if (!page_is_buddy(buddy, order))
			break;
		released &= buddy->flags;
		del_from_free_list(zone, buddy, order);
		if (buddy_pfn < pfn) {
			page = buddy;
			pfn = buddy_pfn;
		}
		order++;
	}
	add_to_free_list(zone, page, order, block_is_warm(zone, pfn, released));
	if (released) {
		page->flags |= PG_released;
		zone->nr_released += 1UL << order;
	} else if (pfn + (1UL << order) >= zone->frontier) {
		zone->trim_pending = true;
	}
}

/* The integer square root (the kernel's int_sqrt()). */
static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, bit = 1UL << (sizeof(long) * 8 - 2);

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/*
 * Set the watermarks from the pages in service, as the kernel's
 * calculate_min_free_kbytes() and __setup_per_zone_wmarks() do: min_free
 * is sqrt(16 x memory in KiB), between 128 KiB and 256 MiB; low and high
 * step up by the larger of min/4 and watermark_scale_factor (10) /10000 of
 * the zone.  Each zone is its own "lowmem" here: they grow apart.
 */
static void zone_set_watermarks(struct kmm_zone *zone)
{
	unsigned long managed = zone->present_pages;
	unsigned long kb = managed << (PAGE_SHIFT - 10);
	unsigned long min_kb = MIN(MAX(int_sqrt(kb * 16), 128UL), 262144UL);
	unsigned long min = MIN(min_kb >> (PAGE_SHIFT - 10), managed);
	unsigned long tmp = MAX(min / 4, managed * 10 / 10000);

	zone->watermark[WMARK_MIN] = min;
	zone->watermark[WMARK_LOW] = min + tmp;
	zone->watermark[WMARK_HIGH] = min + 2 * tmp;
	zone->watermark[WMARK_PROMO] = min + 3 * tmp;
}

/* Bring one more section of @zone into service.  Context: zone->lock. */
static bool zone_grow_locked(struct kmm_zone *zone)
{
	unsigned long pfn;
	int nr = arena_grow_zone(zone, &pfn);

	if (nr < 0) {
		zone->stat[ZSTAT_GROW_FAILED]++;
		return false;
	}
	/* Node 0's Normal zone is 0 there, as mmap() gave the descriptors. */
	for (int i = 0; zone_page_id(zone) && i < nr; i++)
		zone_pfn_to_page(zone, pfn + (unsigned long)i)->zone_id = zone_page_id(zone);
	/* Publish the descriptors before the pages become findable by address. */
	__atomic_store_n(&zone->present_pages, zone->present_pages + (unsigned long)nr,
			 __ATOMIC_RELEASE);
	if (zone->id == ZONE_NORMAL) /* node 0's: free()'s hit path covers it (lib/ready.h) */
		fastpath_free_span(zone->present_pages << PAGE_SHIFT);
	for (int i = 0; i < nr; i += (int)PAGES_PER_SECTION)
		__free_one_page(zone, zone_pfn_to_page(zone, pfn + (unsigned long)i),
				pfn + (unsigned long)i, SECTION_ORDER, 0);
	zone->stat[ZSTAT_GROW]++;
	zone_set_watermarks(zone);
	if (pcp_mode != PCP_OFF)
		pcp_zone_update(zone);
	return true;
}

/*
 * The frontier moves up to @end: pages past it are written from now on.
 * Below frontier_max they were written before a trim gave them back
 * (zone_trim_top()): each one is a page fault the trim cost.  Context:
 * zone->lock.
 */
static inline void frontier_raise(struct kmm_zone *zone, unsigned long end)
{
	if (end <= zone->frontier)
		return;
	if (zone->frontier < zone->frontier_max)
		zone->trim_refaults += MIN(end, zone->frontier_max) - zone->frontier;
	zone->frontier = end;
	zone->frontier_max = MAX(zone->frontier_max, end);
}

/*
 * How many pages, from the head of the block of @order at @page just taken
 * (flags PG_zero or 0: __rmqueue_smallest()), may hold old bytes: none if
 * the block reads zero, else those below the zone's frontier, the end of
 * the highest block ever handed out (what lies past it was never written).
 * Then the frontier moves past the block.  Context: zone->lock.
 */
static unsigned long take_frontier(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), end = pfn + (1UL << order), dirty;

	if (page->flags & PG_zero)
		dirty = 0;
	else
		dirty = zone->frontier > pfn ? MIN(zone->frontier - pfn, 1UL << order) : 0;
	frontier_raise(zone, end);
	return dirty;
}

/*
 * The free pages of @zone that are resident: those of its free blocks below
 * the frontier (what lies above it was never written, or was trimmed) and
 * not released.  A released block the trim passed on its way down counts
 * twice here, as released and as above: the figure errs low.  Context:
 * zone->lock.
 */
static inline unsigned long resident_free(const struct kmm_zone *zone)
{
	unsigned long above = zone->zone_start_pfn + zone->present_pages - zone->frontier;
	unsigned long gone = zone->nr_released + above;

	return zone->nr_free_pages > gone ? zone->nr_free_pages - gone : 0;
}

/*
 * What the zone keeps of resident free pages when its RSS grows: its
 * high watermark (the kernel's kswapd reclaims down to it).  Past that, the
 * program is taking pages it never wrote while pages it freed sit unused,
 * too small or too scattered for what it asks now: its RSS grows by what it
 * could have kept level (zone_release_on_rise()).
 */
static inline unsigned long rise_keep(const struct kmm_zone *zone)
{
	return zone->watermark[WMARK_HIGH];
}

/*
 * Allocate from one zone, growing it when @may_grow; @dirty (or NULL): set
 * to the pages from its head that may not read zero.  Context: zone->lock.
 */
static struct kmm_page *__rmqueue(struct kmm_zone *zone, unsigned int order, bool may_grow,
				  unsigned long *dirty)
{
	struct kmm_page *page;

	for (;;) {
		page = __rmqueue_smallest(zone, order);
		if (page || !may_grow || !zone_grow_locked(zone))
			break;
	}
	if (page) {
		unsigned long below = zone->frontier, d = take_frontier(zone, page, order);

		if (dirty)
			*dirty = d;
		zone->nr_free_pages -= 1UL << order;
		zone->stat[ZSTAT_PGALLOC]++;
		/* Pages never written, or given back: the RSS grows by the block. */
		if ((zone->frontier > below || (page->flags & PG_zero)) &&
		    resident_free(zone) > rise_keep(zone))
			zone->rise_pending = true;
	}
	return page;
}

static __noinline __cold void zone_release_on_rise(struct kmm_zone *zone);

static __always_inline void zone_rise_check(struct kmm_zone *zone)
{
	if (unlikely(READ_ONCE(zone->rise_pending)))
		zone_release_on_rise(zone);
}

struct kmm_page *rmqueue(struct kmm_zone *zone, unsigned int order, bool may_grow,
			 unsigned long *dirty)
{
	struct kmm_page *page;

	kmm_lock(&zone->lock);
	page = __rmqueue(zone, order, may_grow, dirty);
	kmm_unlock(&zone->lock);
	zone_rise_check(zone);
	if (page) {
		page->flags = PG_head;
		page->order = (uint8_t)order;
	}
	return page;
}

int rmqueue_bulk(struct kmm_zone *zone, unsigned int order, unsigned int count,
		 struct kmm_page **pages, bool may_grow)
{
	unsigned int n = 0;

	kmm_lock(&zone->lock);
	while (n < count) {
		struct kmm_page *page = __rmqueue(zone, order, may_grow, NULL);

		if (!page)
			break;
		page->flags = PG_pcp;
		page->order = (uint8_t)order;
		pages[n++] = page;
	}
	zone->stat[ZSTAT_PCP_REFILL]++;
	kmm_unlock(&zone->lock);
	zone_rise_check(zone);
	return (int)n;
}

static struct kmm_page *free_block_of(struct kmm_zone *zone, unsigned long pfn);

#define TOP_TRIM_BATCH 16
/*
 * The faults trims may cost: pages written again after a trim, at most this
 * many per millisecond the process has run (about 1 µs each: 0.5% of its
 * time).
 */
#define TOP_TRIM_REFAULTS_PER_MS 5
#define TOP_TRIM_MAX_PAGES 1024

static uint64_t trim_start_ms; /* start-up (buddy_init()) */

/*
 * Milliseconds the process has run, at least 1: the fault budgets' clock.
 * Inline: as a function of its own it lay outside .text.kmm_hot (src/layout.ld)
 * and cost every program that trims its top a second window of code.
 */
static __always_inline uint64_t ms_since_start(void)
{
	return kmm_now_ms() - trim_start_ms + 1;
}

/*
 * May libkmm give free pages back while the program runs, at the cost of
 * faulting them in again (trims, kept-run sweeps, releases on growth)?  Not
 * with KMM_DECAY_MS=0, nor with KMM_PURGE=free, whose pages may keep their
 * bytes.
 */
static inline bool early_release_on(void)
{
	return kmm_config.decay_ms && kmm_config.purge == KMM_PURGE_DONTNEED;
}

/*
 * zone_trim_top() - give back the free blocks that reach up to the
 * frontier once they hold KMM_TRIM (128 KiB), as glibc trims the top of its
 * heap past M_TRIM_THRESHOLD: a program whose structures
 * come and go at the top of the zone (logicmin's tables and the list nodes
 * around them) keeps what it holds now, not the most it ever held there.
 * The frontier moves down to the lowest block trimmed, so the pages above
 * it are again pages never written: they read zero (MADV_DONTNEED; with
 * KMM_PURGE=free nothing is trimmed) and the buddy hands them out last.
 * Released blocks on the way down are passed, not released twice.  Each
 * page written again below the highest frontier costs a fault: once they
 * reach TOP_TRIM_REFAULTS_PER_MS for the time the process has run, trims
 * wait until the time catches up, so that a program that takes its top
 * back each time (simple's bursts of 400 KiB, `large`'s buffers) spends
 * about 0.5% of its time on it; one trim gives back at most the budget or
 * TOP_TRIM_MAX_PAGES.  (A budget from the start, or a trim no larger than
 * what is left of it, took logicmin's peak up again: the early trims spend
 * it before the peak.)
 * Called after a free that merged up to the frontier.
 */
static __noinline __cold void zone_trim_top(struct kmm_zone *zone)
{
	struct kmm_page *batch[TOP_TRIM_BATCH];
	unsigned long end[TOP_TRIM_BATCH], low, pages = 0, budget;
	bool failed[TOP_TRIM_BATCH];
	unsigned int n = 0;

	kmm_lock(&zone->lock);
	zone->trim_pending = false;
	if (!kmm_config.trim || !early_release_on())
		goto out;
	budget = ms_since_start() * TOP_TRIM_REFAULTS_PER_MS;
	if (zone->trim_refaults >= budget)
		goto out;
	low = zone->frontier;
	while (n < TOP_TRIM_BATCH && low > zone->zone_start_pfn) {
		struct kmm_page *page = free_block_of(zone, low - 1);
		unsigned long pfn;

		if (!page)
			break;
		pfn = page_to_pfn(page);
		if (!(page->flags & PG_released)) {
			/* One trim faults back at most its budget, or 4 MiB. */
			if (pages + (low - pfn) > MAX(budget, TOP_TRIM_MAX_PAGES))
				break;
			batch[n] = page;
			end[n++] = low;
			pages += low - pfn;
		}
		low = pfn;
	}
	if (!pages || pages < kmm_config.trim >> PAGE_SHIFT)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int o = batch[i]->order;

		del_from_free_list(zone, batch[i], o); /* keeps ->order */
		zone->nr_free_pages -= 1UL << o;
	}
	zone->frontier = low;
	kmm_unlock(&zone->lock);
	/* What a block holds past the old frontier was never written. */
	for (unsigned int i = 0; i < n; i++)
		failed[i] = os_release(page_to_virt(batch[i]),
				       (end[i] - page_to_pfn(batch[i])) << PAGE_SHIFT, false) != 0;
	kmm_lock(&zone->lock);
	for (unsigned int i = 0; i < n; i++) {
		unsigned long pfn = page_to_pfn(batch[i]);
		unsigned int o = batch[i]->order;

		if (failed[i]) /* the bytes stay (mlockall()): not past the frontier */
			zone->frontier = MAX(zone->frontier, end[i]);
		else
			zone->stat[ZSTAT_RELEASED] += end[i] - pfn;
		batch[i]->flags = 0;
		__free_one_page(zone, batch[i], pfn, o, 0);
	}
	zone->trim_pending = false;
out:
	kmm_unlock(&zone->lock);
}

static __always_inline void zone_trim_check(struct kmm_zone *zone)
{
	if (unlikely(READ_ONCE(zone->trim_pending)))
		zone_trim_top(zone);
}

void free_pages_bulk(struct kmm_zone *zone, struct kmm_page *const *pages, unsigned int count,
		     unsigned int order)
{
	kmm_lock(&zone->lock);
	for (unsigned int i = 0; i < count; i++) {
		pages[i]->flags = 0;
		zone->stat[ZSTAT_PGFREE]++;
		__free_one_page(zone, pages[i], page_to_pfn(pages[i]), order, 0);
	}
	zone->stat[ZSTAT_PCP_DRAIN]++;
	kmm_unlock(&zone->lock);
	zone_trim_check(zone);
	zone_release_maybe(zone, SECTION_ORDER);
}

/* The highest zone @gfp may use (the kernel's gfp_zone()). */
static inline int gfp_zone(kmm_gfp_t gfp)
{
	return (gfp & KMM_GFP_DMA32) ? ZONE_DMA32 : ZONE_NORMAL;
}

/* get_page_from_freelist(): the first zone of the zonelist that has room. */
static struct kmm_page *get_page_from_freelist(kmm_gfp_t gfp, unsigned int order, int nid,
					       unsigned long *dirty)
{
	int highest = gfp_zone(gfp);
	struct kmm_zoneref *z;
	struct kmm_page *page;

	for (z = kmm_node(nid)->zonelist.zonerefs; z->zone; z++) {
		if (z->zone_idx > highest)
			continue;
		if ((gfp & KMM_GFP_THISNODE) && z->zone->node != nid)
			continue;
		bool may_grow = z->zone_idx == highest && !(gfp & __GFP_NOGROW);

		*dirty = 1UL << order; /* a per-CPU cache's block: not known */
		if (order <= PCP_MAX_ORDER && pcp_mode != PCP_OFF)
			page = pcp_alloc(z->zone, order, may_grow);
		else
			page = rmqueue(z->zone, order, may_grow, dirty);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * The slow path (the kernel's __alloc_pages_slowpath(), what applies): free
 * pages may sit in per-CPU caches, out of the buddy's reach and unmerged;
 * drain them all and try once more before failing.
 */
static __cold struct kmm_page *__alloc_pages_slowpath(kmm_gfp_t gfp, unsigned int order, int nid,
						      unsigned long *dirty)
{
	if (pcp_mode == PCP_OFF)
		return NULL;
	drain_all_pages();
	return get_page_from_freelist(gfp, order, nid, dirty);
}

/*
 * __alloc_pages() but for the huge-page advice and the zeroing
 * (alloc_pages_exact() does its own); @dirty: set to how many pages from the
 * head may not read zero.
 */
static __noinline struct kmm_page *alloc_block(kmm_gfp_t gfp, unsigned int order, int nid,
					       unsigned long *dirty)
{
	bool interleaved = false;
	struct kmm_page *page;

	if (unlikely(order > MAX_PAGE_ORDER))
		return NULL;
	if (nid == KMM_NUMA_NO_NODE || !node_online(nid))
		nid = policy_node(&interleaved);
	page = get_page_from_freelist(gfp, order, nid, dirty);
	if (unlikely(!page && !(gfp & __GFP_NOGROW)))
		page = __alloc_pages_slowpath(gfp, order, nid, dirty);
	if (unlikely(!page))
		return NULL;
	numa_count_alloc(nid, page_zone(page)->node, 1UL << order, interleaved);
	if (kmm_vg()) { /* a freed block's pages were no-access to memcheck */
		kmm_vg_undefined(page_to_virt(page), PAGE_SIZE << order);
		*dirty = 1UL << order; /* zeroed or not, memcheck needs them written */
	}
	return page;
}

struct kmm_page *__alloc_pages(kmm_gfp_t gfp, unsigned int order, int nid)
{
	unsigned long dirty;
	struct kmm_page *page = alloc_block(gfp, order, nid, &dirty);

	if (unlikely(!page))
		return NULL;
	if (unlikely(order >= SECTION_ORDER))
		arena_advise_run(page_zone(page), page_to_pfn(page), 1UL << order);
	if (gfp & KMM_GFP_ZERO)
		memset(page_to_virt(page), 0, dirty << PAGE_SHIFT);
	return page;
}

static __cold __noreturn void bad_free(const struct kmm_page *page, unsigned int order,
				       const char *why)
{
	kmm_panic("invalid free of page block %p (descriptor %p, order %u): %s", page_to_virt(page),
		  (const void *)page, order, why);
}

/*
 * The cheap checks that keep misuse out of the free lists (the kernel's
 * free_page_is_bad()).  They read the head without the lock: a racing double
 * free of the same block by two threads can slip through, a sequential one
 * cannot.
 */
static void free_pages_check(struct kmm_page *page, unsigned int order)
{
	unsigned int flags = READ_ONCE(page->flags);

	if (likely(flags == PG_head && page->order == order))
		return;
	if (flags & (PG_buddy | PG_pcp))
		bad_free(page, order, "double free (the block is already free)");
	if (!(flags & PG_head))
		bad_free(page, order, "not the head of an allocated block");
	if (page->order != order)
		kmm_panic("invalid free of page block %p (descriptor %p): freed with "
			  "order %u but allocated with order %u",
			  page_to_virt(page), (const void *)page, order, page->order);
	bad_free(page, order, "the page belongs to another owner");
}

void __free_pages(struct kmm_page *page, unsigned int order)
{
	struct kmm_zone *zone = page_zone(page);
	unsigned long pfn = page_to_pfn(page);

	free_pages_check(page, order);
	if (unlikely(!IS_ALIGNED(pfn, 1UL << order)))
		bad_free(page, order, "block not aligned to its order (corrupted descriptor)");
	if (order <= PCP_MAX_ORDER && pcp_mode != PCP_OFF) {
		pcp_free(zone, page, order);
		return;
	}
	free_one_page(zone, page, order);
}

void free_one_page(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	kmm_lock(&zone->lock);
	page->flags = 0;
	zone->stat[ZSTAT_PGFREE]++;
	__free_one_page(zone, page, page_to_pfn(page), order, 0);
	kmm_unlock(&zone->lock);
	zone_trim_check(zone);
	zone_release_maybe(zone, SECTION_ORDER);
}

__init void buddy_init(void)
{
	struct kmm_zone *zone;

	trim_start_ms = kmm_now_ms();
	for_each_zone (zone) {
		kmm_lock_init(&zone->lock);
		zone->nr_free_pages = 0;
		for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
			list_init(&zone->free_area[o].free_list);
			zone->free_area[o].nr_free = 0;
		}
		zone_set_watermarks(zone);
	}
}

void zone_free_counts(struct kmm_zone *zone, unsigned long counts[NR_PAGE_ORDERS])
{
	kmm_lock(&zone->lock);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		counts[o] = zone->free_area[o].nr_free;
	kmm_unlock(&zone->lock);
}

int buddy_check_zone(struct kmm_zone *zone)
{
	unsigned long free_pages = 0, end;

	kmm_lock(&zone->lock);
	end = zone->zone_start_pfn + zone->present_pages;
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct kmm_list *pos;
		unsigned long n = 0;

		list_for_each (pos, &zone->free_area[o].free_list) {
			struct kmm_page *page = list_entry(pos, struct kmm_page, lru);
			unsigned long pfn = page_to_pfn(page);

			if (page_zone(page) != zone || pfn < zone->zone_start_pfn ||
			    pfn + (1UL << o) > end)
				kmm_panic("buddy: zone %s: free block %p of order %u outside the "
					  "zone",
					  zone->name, pfn_to_virt(pfn), o);
			if (!page_is_buddy(page, o) || !IS_ALIGNED(pfn, 1UL << o))
				kmm_panic("buddy: zone %s: free block %p on list %u has flags %x "
					  "order %u",
					  zone->name, pfn_to_virt(pfn), o, page->flags,
					  page->order);
			/* No page inside a free block heads anything. */
			for (unsigned long i = 1; i < (1UL << o); i++)
				if (page[i].flags & (PG_buddy | PG_head))
					kmm_panic("buddy: zone %s: page %p inside free block %p "
						  "(order %u) has flags %x",
						  zone->name, pfn_to_virt(pfn + i),
						  pfn_to_virt(pfn), o, page[i].flags);
			/* A free buddy of the same order should have been merged. */
			if (o < MAX_PAGE_ORDER && (pfn ^ (1UL << o)) < end &&
			    page_is_buddy(page + ((long)(pfn ^ (1UL << o)) - (long)pfn), o))
				kmm_panic("buddy: zone %s: free buddies %p and %p (order %u) "
					  "not merged",
					  zone->name, pfn_to_virt(pfn),
					  pfn_to_virt(pfn ^ (1UL << o)), o);
			n++;
			free_pages += 1UL << o;
		}
		if (n != zone->free_area[o].nr_free)
			kmm_panic("buddy: zone %s: order %u lists %lu blocks but nr_free is %lu",
				  zone->name, o, n, zone->free_area[o].nr_free);
	}
	if (free_pages != zone->nr_free_pages)
		kmm_panic("buddy: zone %s: free lists hold %lu pages but nr_free_pages is %lu",
			  zone->name, free_pages, zone->nr_free_pages);
	kmm_unlock(&zone->lock);
	return 0;
}

/*
 * Put pages [@start, @end) back as the largest aligned blocks they split
 * into, @released (PG_released or 0) as __free_one_page() takes it.
 * Context: zone->lock.  Return: the number of blocks.
 */
static unsigned long free_pfn_range(struct kmm_zone *zone, unsigned long start, unsigned long end,
				    unsigned int released)
{
	unsigned long blocks = 0;

	for (; start < end; blocks++) {
		unsigned int order =
			MIN((unsigned int)__builtin_ctzl(start), (unsigned int)MAX_PAGE_ORDER);
		struct kmm_page *page = zone_pfn_to_page(zone, start);

		while (start + (1UL << order) > end)
			order--;
		page->flags = 0;
		page->private = NULL;
		__free_one_page(zone, page, start, order, released);
		start += 1UL << order;
	}
	return blocks;
}

/*
 * Free pages [@from, @to) of the run at @head (in pages from the head)
 * straight into the buddy under one lock: pieces of a large run must merge
 * back with their neighbours.  Through the per-CPU caches the small pieces
 * would sit unmerged, and every new large run would need fresh sections
 * (measured: a loop of 1-64 MiB buffers grew to 390 MiB, not 100).
 */
static void free_page_range(struct kmm_page *head, unsigned long from, unsigned long to)
{
	struct kmm_zone *zone = page_zone(head);
	unsigned long pfn = page_to_pfn(head);

	kmm_lock(&zone->lock);
	zone->stat[ZSTAT_PGFREE] += free_pfn_range(zone, pfn + from, pfn + to, 0);
	kmm_unlock(&zone->lock);
	zone_trim_check(zone);
	zone_release_maybe(zone, SECTION_ORDER);
}

/*
 * A run freed at this size or more goes back to the system at once, as glibc
 * unmaps a chunk it had mmapped (128 KiB: glibc's first mmap threshold).
 * glibc then raises its threshold to the chunk's size, so that a program
 * freeing and allocating buffers of one size does not fault them in again and
 * again; but after one chunk of a size, every later one of that size stays,
 * reused or not (sqlite3's peak: 27.2 MiB with a fixed threshold, 27.6 with
 * glibc's rule).  Here the threshold rises only when the faulting in again
 * happens: when, since the last run released, runs took back at least as
 * many released pages as the run now freed holds (zone->released_reused,
 * count_released_reuse()).  `large`, which frees and allocates buffers of
 * 1-4 MiB, and logicmin, which does so with runs of 128 and 256 KiB, trip it
 * in their first rounds.  Smaller runs, and runs below a raised threshold,
 * wait for the free-page release (zone_release_maybe()).
 */
#define RUN_RELEASE_MIN_PAGES (1UL << RUN_RELEASE_MIN_ORDER)

static __noclone unsigned long zone_release_free(struct kmm_zone *zone, bool all,
						 unsigned long keep, unsigned int min_order);

/*
 * What the runs a raised threshold keeps may add up to: the free pages still
 * resident in @zone, with the run of @npages about to join them, stay within
 * an eighth of what libkmm holds (the arena's committed pages: zones and
 * vmalloc areas), or RUN_KEEP_MIN_PAGES (a largest run) in a smaller heap.
 * Past that, a run of 1 MiB or more freed gives back the free blocks of
 * 1 MiB and up that were free already at the last sweep (PG_aged), largest
 * first, down to half the budget: a block the program takes back at once (the
 * run just freed, large's two buffers of 1-4 MiB, mstress's churn) stays, and
 * blocks it freed and does not take back do not pile up (python3's json: 4 MiB
 * blocks freed beside 3.8 MB runs taken elsewhere, 10.8 MiB of free pages
 * resident at the peak of a 25 MiB zone).  Each page given back may fault in
 * again, so these sweeps give back at most RUN_KEEP_PAGES_PER_MS for the time
 * the process has run, as zone_trim_top() budgets its faults.  Racy reads: a
 * sweep more or less.
 */
#define RUN_KEEP_MIN_PAGES MAX_ORDER_NR_PAGES
#define RUN_KEEP_PAGES_PER_MS 10
#define RUN_KEEP_SWEEP_ORDER 8
#define RUN_KEEP_SWEEP_PAGES (1UL << RUN_KEEP_SWEEP_ORDER)

static void run_keep_check(struct kmm_zone *zone, unsigned long npages)
{
	unsigned long resident = READ_ONCE(zone->nr_free_pages) - READ_ONCE(zone->nr_released);
	unsigned long held = __atomic_load_n(&kmm_arena.committed_pages, __ATOMIC_RELAXED);
	unsigned long budget = MAX(held / 8, RUN_KEEP_MIN_PAGES), allowed, spent;

	if (npages < RUN_KEEP_SWEEP_PAGES || !early_release_on() || resident + npages <= budget)
		return;
	allowed = ms_since_start() * RUN_KEEP_PAGES_PER_MS;
	spent = READ_ONCE(zone->keep_released);
	if (spent + RUN_KEEP_SWEEP_PAGES > allowed)
		return;
	spent = zone_release_free(zone, false,
				  MAX(budget / 2, resident - MIN(resident, allowed - spent)),
				  RUN_KEEP_SWEEP_ORDER);
	__atomic_fetch_add(&zone->keep_released, spent, __ATOMIC_RELAXED);
}

/*
 * zone_release_on_rise() - the zone handed out a block that grows the RSS
 * (past the frontier, or released) while more than the high watermark of
 * free pages lay resident below the frontier (__rmqueue()): give back
 * free blocks of RISE_MIN_ORDER and up, largest first, down to the
 * watermark.  The pages the program writes above keep its RSS where it was
 * instead of adding to it (logicmin: each pass's tables take runs at the top
 * while the last pass's nodes left single pages and 128 KiB blocks free
 * among the slabs below).  Each page given back may fault in again: these
 * releases share run_keep_check()'s budget, RUN_KEEP_PAGES_PER_MS for the
 * time the process has run.
 */
#define RISE_MIN_ORDER 0

static __noinline __cold void zone_release_on_rise(struct kmm_zone *zone)
{
	unsigned long allowed = ms_since_start() * RUN_KEEP_PAGES_PER_MS;
	unsigned long spent = READ_ONCE(zone->keep_released), resident, keep;

	WRITE_ONCE(zone->rise_pending, false);
	if (!early_release_on() || spent >= allowed)
		return;
	kmm_lock(&zone->lock);
	resident = resident_free(zone);
	/* zone_release_free() counts every unreleased page: those above too. */
	keep = zone->nr_free_pages - zone->nr_released - resident;
	keep += MAX(rise_keep(zone), resident - MIN(resident, allowed - spent));
	kmm_unlock(&zone->lock);
	spent = zone_release_free(zone, true, keep, RISE_MIN_ORDER);
	__atomic_fetch_add(&zone->keep_released, spent, __ATOMIC_RELAXED);
	if (spent) {
		kmm_lock(&zone->lock);
		zone->stat[ZSTAT_RELEASED_GROWTH] += spent;
		kmm_unlock(&zone->lock);
	}
}

static bool release_run(struct kmm_zone *zone, struct kmm_page *page, unsigned long npages)
{
	unsigned long threshold = READ_ONCE(zone->run_release_pages);
	unsigned long reused = READ_ONCE(zone->released_reused);
	unsigned long seen = READ_ONCE(zone->released_reused_seen);

	if (npages < MAX(threshold, RUN_RELEASE_MIN_PAGES) || !kmm_config.decay_ms) {
		run_keep_check(zone, npages);
		return false;
	}
	/*
	 * Racy, and only ever rising: a lost update is one release more or
	 * less.  The first run released (threshold 0) sets the mark: what was
	 * faulted in before it is not this rule's doing.
	 */
	WRITE_ONCE(zone->released_reused_seen, reused);
	if (threshold && reused - seen >= npages) {
		WRITE_ONCE(zone->run_release_pages, npages + 1);
		run_keep_check(zone, npages);
		return false;
	}
	if (!threshold)
		WRITE_ONCE(zone->run_release_pages, RUN_RELEASE_MIN_PAGES);
	return os_release(page_to_virt(page), npages << PAGE_SHIFT,
			  kmm_config.purge == KMM_PURGE_FREE) == 0;
}

static bool take_free_range(struct kmm_zone *zone, unsigned long start, unsigned long end);

/*
 * How many free blocks alloc_run_fit() looks at, under the zone's lock: a
 * run that does not fit in the first ones takes a whole block.
 */
#define RUN_FIT_TRIES 32

/*
 * A run of @npages, more than 2 MiB and not a power of two, from a free 2 MiB
 * block and the free pages after it, in the zone @gfp and the policy choose:
 * the pages it needs rather than a 4 MiB block, the largest, which a
 * fragmented zone may only have by growing while it holds free memory
 * enough (sqlite3's 3 MiB runs: the zone 2-4 MiB larger).  The run starts on
 * the block, so it is aligned to any power of two no larger than itself.
 * Smaller runs take a block as before: blocks of their order are plenty.
 * Return: the head (not yet marked), or NULL: no growth, no drain.
 */
static __noinline struct kmm_page *alloc_run_fit(kmm_gfp_t gfp, unsigned long npages, int nid)
{
	unsigned int order = 63 - (unsigned int)__builtin_clzl(npages);
	bool interleaved = false;
	struct kmm_page *page, *found = NULL;
	struct kmm_zone *zone;
	struct kmm_list *pos;
	unsigned int tries = 0;

	if (nid == KMM_NUMA_NO_NODE || !node_online(nid))
		nid = policy_node(&interleaved);
	zone = &kmm_node(nid)->node_zones[gfp_zone(gfp)];
	if (!zone->present_pages)
		return NULL;
	kmm_lock(&zone->lock);
	list_for_each (pos, &zone->free_area[order].free_list) {
		unsigned long pfn;

		page = list_entry(pos, struct kmm_page, lru);
		pfn = page_to_pfn(page);
		if (take_free_range(zone, pfn, pfn + npages)) {
			zone->stat[ZSTAT_PGALLOC]++;
			found = page;
			break;
		}
		if (++tries == RUN_FIT_TRIES)
			break;
	}
	kmm_unlock(&zone->lock);
	if (found) {
		numa_count_alloc(nid, zone->node, npages, interleaved);
		if (kmm_vg())
			kmm_vg_undefined(page_to_virt(found), npages << PAGE_SHIFT);
	}
	return found;
}

__noinline struct kmm_page *alloc_pages_exact_dirty(kmm_gfp_t gfp, unsigned long npages, int nid,
						    unsigned long *dirty)
{
	unsigned int order = npages <= 1 ? 0 : (unsigned int)(64 - __builtin_clzl(npages - 1));
	struct kmm_page *page = NULL;

	*dirty = npages;
	if (unlikely(npages == 0 || order > MAX_PAGE_ORDER))
		return NULL;
	if (npages > PAGES_PER_SECTION && (npages & (npages - 1)))
		page = alloc_run_fit(gfp, npages, nid);
	if (!page) {
		page = alloc_block(gfp & ~KMM_GFP_ZERO, order, nid, dirty);
		if (!page)
			return NULL;
		*dirty = MIN(*dirty, npages);
		/* The kernel's alloc_pages_exact(): the unused tail goes back at once. */
		free_page_range(page, npages, 1UL << order);
	}
	if (npages >= PAGES_PER_SECTION)
		arena_advise_run(page_zone(page), page_to_pfn(page), npages);
	page->flags = PG_exact;
	page->private = (void *)npages;
	return page;
}

struct kmm_page *alloc_pages_exact(kmm_gfp_t gfp, unsigned long npages, int nid)
{
	unsigned long dirty;
	struct kmm_page *page = alloc_pages_exact_dirty(gfp, npages, nid, &dirty);

	if (page && (gfp & KMM_GFP_ZERO))
		memset(page_to_virt(page), 0, dirty << PAGE_SHIFT);
	return page;
}

void shrink_pages_exact(struct kmm_page *page, unsigned long npages)
{
	unsigned long old = (unsigned long)page->private;

	if (npages < old && npages) {
		page->private = (void *)npages;
		free_page_range(page, npages, old);
	}
}

/*
 * Free the run at @page released (release_run()), or return false.  Out of
 * line: free_pages_exact() stays short for the runs below the threshold.
 */
static __noinline __cold bool free_run_released(struct kmm_page *page, unsigned long npages)
{
	struct kmm_zone *zone = page_zone(page);
	unsigned long pfn = page_to_pfn(page);

	if (!release_run(zone, page, npages))
		return false;
	kmm_lock(&zone->lock);
	zone->stat[ZSTAT_PGFREE] += free_pfn_range(zone, pfn, pfn + npages, PG_released);
	zone->stat[ZSTAT_RELEASED] += npages;
	zone->last_released_pfn = pfn;
	zone->last_released_pages = npages;
	kmm_unlock(&zone->lock);
	return true;
}

void free_pages_exact(struct kmm_page *page)
{
	unsigned long npages = (unsigned long)page->private;

	if (unlikely(page->flags != PG_exact))
		bad_free(page, 0, "not the head of an exact page run");
	if (npages >= RUN_RELEASE_MIN_PAGES && free_run_released(page, npages))
		return;
	free_page_range(page, 0, npages);
}

/* The free block that holds @pfn, or NULL.  Context: zone->lock. */
static struct kmm_page *free_block_of(struct kmm_zone *zone, unsigned long pfn)
{
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		unsigned long head = pfn & ~((1UL << order) - 1);
		struct kmm_page *page;

		if (head < zone->zone_start_pfn)
			break;
		page = zone_pfn_to_page(zone, head);
		if ((page->flags & PG_buddy) && head + (1UL << page->order) > pfn)
			return page;
	}
	return NULL;
}

/*
 * Take the free pages [@start, @end) out of the buddy, splitting the free
 * blocks that hold them and giving back what lies outside (the kernel's
 * take_page_off_buddy(), for a range).  Context: zone->lock.
 * Return: false, taking nothing, if a page of the range is not free there.
 */
static bool take_free_range(struct kmm_zone *zone, unsigned long start, unsigned long end)
{
	unsigned long pfn;

	if (end > zone->zone_start_pfn + zone->present_pages)
		return false;
	for (pfn = start; pfn < end;) {
		struct kmm_page *page = free_block_of(zone, pfn);

		if (!page)
			return false;
		pfn = page_to_pfn(page) + (1UL << page->order);
	}
	for (pfn = start; pfn < end;) {
		struct kmm_page *page = free_block_of(zone, pfn);
		unsigned long head = page_to_pfn(page), block_end = head + (1UL << page->order);
		unsigned int released = page->flags & PG_released;

		del_from_free_list(zone, page, page->order);
		zone->nr_free_pages -= block_end - head;
		frontier_raise(zone, block_end);
		count_released_reuse(zone, MAX(head, start), MIN(end, block_end), released);
		/* The parts of the block outside the range go back, released if it was. */
		free_pfn_range(zone, head, MAX(head, start), released);
		free_pfn_range(zone, MAX(end, head), block_end, released);
		pfn = block_end;
	}
	return true;
}

bool grow_pages_exact(struct kmm_page *page, unsigned long npages)
{
	struct kmm_zone *zone = page_zone(page);
	unsigned long old = (unsigned long)page->private, pfn = page_to_pfn(page);
	bool ok;

	if (npages <= old)
		return true;
	if (npages > MAX_ORDER_NR_PAGES)
		return false;
	kmm_lock(&zone->lock);
	/* A run at the top of a Normal zone grows with the zone. */
	for (;;) {
		unsigned long top = zone->zone_start_pfn + zone->present_pages;

		if (zone->type != ZONE_NORMAL || pfn + npages <= top ||
		    (pfn + old != top && !free_block_of(zone, top - 1)) || !zone_grow_locked(zone))
			break;
	}
	ok = take_free_range(zone, pfn + old, pfn + npages);
	if (ok)
		zone->stat[ZSTAT_PGALLOC]++;
	kmm_unlock(&zone->lock);
	if (ok) {
		page->private = (void *)npages;
		if (npages >= PAGES_PER_SECTION)
			arena_advise_run(zone, pfn, npages);
	}
	return ok;
}

/* The free-page-reporting sweeps take this many blocks off the lists at a time. */
#define RELEASE_BATCH 16

/*
 * zone_release_free() - give the free blocks of @min_order and up of @zone
 * back to the system (MADV_DONTNEED, or MADV_FREE with KMM_PURGE=free),
 * largest first, keeping @keep
 * pages of unreleased free memory.  @all: every such block; else only the
 * blocks an earlier sweep saw free (so that memory freed less than one decay
 * period ago stays), marking the others.  The kernel's free page reporting:
 * blocks leave the free lists while the system call runs without the lock,
 * and come back marked PG_released, so they are neither released twice nor
 * handed out uncounted.  Blocks that start at or past the frontier are
 * passed: never written, or trimmed, they hold no memory to give back
 * (unless huge pages back the zone, KMM_THP=1).  One
 * copy (__noclone): gcc's copy per caller's constants cost the first window
 * of code (src/layout.ld) 1.6 KiB.  Return: the pages released.
 */
static __noclone unsigned long zone_release_free(struct kmm_zone *zone, bool all,
						 unsigned long keep, unsigned int min_order)
{
	unsigned long released = 0, written;
	struct kmm_page *batch[RELEASE_BATCH];
	bool failed[RELEASE_BATCH], refused = false;
	unsigned int n;

	do {
		n = 0;
		kmm_lock(&zone->lock);
		zone->last_sweep_ms = kmm_now_ms();
		/* Above the frontier: never written, or trimmed (a huge page maps them all). */
		written = kmm_arena.thp ? ~0UL : zone->frontier;
		/* Down to @min_order, 0 included (an unsigned o >= 0 would never end). */
		for (unsigned int o = MAX_PAGE_ORDER + 1; o-- > min_order && n < RELEASE_BATCH;) {
			struct kmm_list *head = &zone->free_area[o].free_list, *pos = head->next;

			while (pos != head && n < RELEASE_BATCH &&
			       zone->nr_free_pages - zone->nr_released > keep + (1UL << o)) {
				struct kmm_page *page = list_entry(pos, struct kmm_page, lru);

				pos = pos->next;
				if ((page->flags & PG_released) || page_to_pfn(page) >= written)
					continue;
				if (!all && !(page->flags & PG_aged)) {
					page->flags |= PG_aged;
					continue;
				}
				del_from_free_list(zone, page, o);
				zone->nr_free_pages -= 1UL << o;
				page->order = (uint8_t)o;
				batch[n++] = page;
			}
		}
		kmm_unlock(&zone->lock);
		/*
		 * A release the kernel refused (mlockall()'s locked pages:
		 * EINVAL) leaves the bytes there: that block is not marked, so
		 * no calloc takes it for zero (take_frontier()).
		 */
		for (unsigned int i = 0; i < n; i++)
			failed[i] = os_release(page_to_virt(batch[i]), PAGE_SIZE << batch[i]->order,
					       kmm_config.purge == KMM_PURGE_FREE) != 0;
		kmm_lock(&zone->lock);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int o = batch[i]->order;
			unsigned long pfn = page_to_pfn(batch[i]), buddy = pfn ^ (1UL << o);

			if (failed[i]) { /* back unmarked; no more tries this sweep */
				refused = true;
				batch[i]->flags = 0;
				__free_one_page(zone, batch[i], pfn, o, 0);
				continue;
			}
			zone->stat[ZSTAT_RELEASED] += 1UL << o;
			released += 1UL << o;
			/* Its buddy came free meanwhile: merge, the result unmarked. */
			if (o < MAX_PAGE_ORDER &&
			    buddy < zone->zone_start_pfn + zone->present_pages &&
			    page_is_buddy(zone_pfn_to_page(zone, buddy), o)) {
				batch[i]->flags = 0;
				__free_one_page(zone, batch[i], pfn, o, PG_released);
				continue;
			}
			add_to_free_list(zone, batch[i], o, false);
			batch[i]->flags |= PG_released;
			zone->nr_free_pages += 1UL << o;
			zone->nr_released += 1UL << o;
		}
		kmm_unlock(&zone->lock);
	} while (n == RELEASE_BATCH && !refused);
	return released;
}

unsigned long release_free_pages(void)
{
	unsigned long released = 0;
	struct kmm_zone *zone;

	for_each_zone (zone)
		released += zone_release_free(zone, true, 0, RELEASE_MIN_ORDER);
	return released;
}

void zone_release_maybe(struct kmm_zone *zone, unsigned int min_order)
{
	uint64_t decay = kmm_config.decay_ms;

	/* The clock last: most frees leave less free memory than this to sweep. */
	if (!decay ||
	    READ_ONCE(zone->nr_free_pages) - READ_ONCE(zone->nr_released) <=
		    zone->watermark[WMARK_HIGH] + (1UL << SECTION_ORDER) ||
	    kmm_now_ms() - READ_ONCE(zone->last_sweep_ms) < decay)
		return;
	zone_release_free(zone, false, zone->watermark[WMARK_HIGH], min_order);
}
