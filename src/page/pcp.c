// SPDX-License-Identifier: MIT
/*
 * pcp.c - the per-CPU page cache (the kernel's per_cpu_pages, pcp lists).
 *
 * Theory of operation.  Every zone has, for every possible CPU, a struct
 * kmm_pcp: one stack of free blocks for each order 0..PCP_MAX_ORDER.  An
 * allocation pops the top of its CPU's stack; a free pushes onto it.  When a
 * stack is empty, a batch of blocks comes from the buddy in one round trip of
 * the zone lock (rmqueue_bulk()); when a free finds it at its high mark, a
 * batch goes back the same way (free_pages_bulk()).  The kernel's sizes:
 * batch ~ a quarter of 1/1024 of the zone, at most 63 pages; high = 4 batches.
 * Orders above 0 hold proportionally fewer blocks (high >> order).
 *
 * Three modes, chosen once at start-up:
 * - PCP_RSEQ: push and pop are restartable sequences on glibc's rseq
 *   registration (lib/rseq-*.h): no lock, no atomic instruction; the CPU is
 *   read inside the sequence and one store commits.  Refill and overflow use
 *   the bulk sequences, so they too never take the pcp lock.
 * - PCP_LOCKED: without rseq, each operation takes its CPU's pcp lock with a
 *   trylock (the kernel's pcp_spin_trylock()); when the trylock fails, the
 *   operation goes to the buddy directly.  Slower, never wrong.
 * - PCP_OFF (KMM_PCP=0): no cache; every block goes through the zone lock.
 *
 * Draining another CPU's cache (drain_zone_pages()) in PCP_RSEQ mode: take
 * the pcp lock (excludes other drains), set every list's high to 0 — a
 * "stopped" list that no sequence will push to or pop from — then fence that
 * CPU with membarrier's RSEQ command, so every sequence that read the old high
 * has committed or been aborted.  The lists are then the drain's alone until
 * it restores high, after storing count = 0 (the sequences read high first:
 * see lib/rseq-x86_64.h).  In PCP_LOCKED mode the lock alone suffices.
 *
 * Page state: a block in a pcp has PG_pcp on its head (not PG_buddy: the buddy
 * must not merge it) and its order; freeing it again is a double free.
 *
 * Lock order: pcp_drain_mutex, pcp->lock, then zone->lock (a drain holds the
 * first two while it frees into the buddy).  No path takes them in another
 * order.
 */
#include <errno.h>

#include "../lib/bug.h"
#include "../lib/config.h"
#include "../lib/rseq.h"
#include "../numa/os.h"
#include "internal.h"
#include "pcp.h"

#define PCP_BATCH_MAX 63 /* pages; also the size of the bulk buffers */

int pcp_mode = PCP_OFF;

static inline struct kmm_pcp *zone_pcp(const struct kmm_zone *zone, int cpu)
{
	return &zone->per_cpu_pageset[cpu];
}

/* This thread's CPU now, as an index into the per-CPU arrays. */
static inline int this_cpu(void)
{
	int cpu = kmm_current_cpu();

	return likely(cpu < kmm_nr_cpu_ids) ? cpu : 0;
}

static inline unsigned int order_batch(const struct kmm_zone *zone, unsigned int order)
{
	return MAX(1u, zone->pcp_batch >> order);
}

static inline unsigned int order_high(const struct kmm_zone *zone, unsigned int order)
{
	return MIN((unsigned int)PCP_SLOTS,
		   MAX(zone->pcp_high >> order, 4 * order_batch(zone, order)));
}

/*
 * The kernel's zone_batchsize(): a quarter of 1/1024 of the zone, at most
 * 256 KiB / 4, made a power of two minus one (avoids cache aliasing).  The
 * zone's layout stands for its size (it grows on demand), capped by the
 * arena limit when one is set.
 */
static unsigned int zone_batchsize(const struct kmm_zone *zone)
{
	unsigned long pages = zone->spanned_pages, batch;

	if (kmm_arena.limit_pages && kmm_arena.limit_pages < pages)
		pages = kmm_arena.limit_pages;
	batch = MIN(pages >> 10, (1UL << 20) / PAGE_SIZE) / 4;
	batch = MAX(batch, 1UL);
	batch = batch + batch / 2;
	batch = 1UL << (63 - __builtin_clzl(batch));
	return (unsigned int)MIN(batch > 1 ? batch - 1 : 1, (unsigned long)PCP_BATCH_MAX);
}

int pcp_init(void)
{
	struct kmm_zone *zone;

	if (!kmm_config.pcp) {
		pcp_mode = PCP_OFF;
		return 0;
	}
	pcp_mode = kmm_rseq_usable ? PCP_RSEQ : PCP_LOCKED;
	for_each_zone (zone) {
		size_t size = ALIGN_UP(sizeof(struct kmm_pcp) * (size_t)kmm_nr_cpu_ids, PAGE_SIZE);
		struct kmm_pcp *pcp = os_map_noreserve(size);

		if (!pcp) {
			pcp_mode = PCP_OFF;
			return -ENOMEM;
		}
		zone->pcp_batch = zone_batchsize(zone);
		/* The kernel's floor for high: four batches. */
		zone->pcp_high = 4 * zone->pcp_batch;
		for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++) {
			kmm_lock_init(&pcp[cpu].lock);
			for (unsigned int o = 0; o < NR_PCP_LISTS; o++) {
				pcp[cpu].lists[o].count = 0;
				pcp[cpu].lists[o].high = order_high(zone, o);
			}
		}
		zone->per_cpu_pageset = pcp;
	}
	return 0;
}

/* Blocks taken from the cache become allocated blocks. */
static inline struct kmm_page *prep_new_page(struct kmm_page *page)
{
	page->flags = PG_head;
	return page;
}

/* Refill from the buddy: one block for the caller, the rest onto @list. */
static struct kmm_page *refill_locked(struct kmm_zone *zone, struct pcp_list *list,
				      unsigned int order, bool may_grow)
{
	struct kmm_page *pages[PCP_BATCH_MAX];
	int n = rmqueue_bulk(zone, order, order_batch(zone, order), pages, may_grow);

	if (n <= 0)
		return NULL;
	for (int i = 1; i < n; i++)
		list->slot[list->count++] = pages[i];
	return prep_new_page(pages[0]);
}

static struct kmm_page *pcp_alloc_locked(struct kmm_zone *zone, unsigned int order, bool may_grow)
{
	struct kmm_pcp *pcp = zone_pcp(zone, this_cpu());
	struct pcp_list *list = &pcp->lists[order];
	struct kmm_page *page;

	if (!kmm_trylock(&pcp->lock)) {
		/* Contended or being drained: the buddy serves this one. */
		return rmqueue(zone, order, may_grow);
	}
	if (list->count)
		page = prep_new_page(list->slot[--list->count]);
	else
		page = refill_locked(zone, list, order, may_grow);
	kmm_unlock(&pcp->lock);
	return page;
}

#if KMM_HAVE_RSEQ_ASM
/* rseq mode, stack empty: a batch from the buddy, all but one pushed. */
static __cold struct kmm_page *pcp_refill_rseq(struct kmm_zone *zone, unsigned int order,
					       bool may_grow)
{
	struct kmm_page *pages[PCP_BATCH_MAX];
	int n = rmqueue_bulk(zone, order, order_batch(zone, order), pages, may_grow), pushed = 0;

	if (n <= 0)
		return NULL;
	if (n > 1)
		pushed = rseq_list_push_bulk(PCP_RSEQ_ARGS(zone, order), (void *const *)(pages + 1),
					     (unsigned int)n - 1);
	/* Migrated to a full (or stopped) stack: what did not fit goes back. */
	if (pushed < 0)
		pushed = 0;
	if (1 + pushed < n)
		free_pages_bulk(zone, pages + 1 + pushed, (unsigned int)(n - 1 - pushed), order);
	return prep_new_page(pages[0]);
}
#endif

struct kmm_page *pcp_alloc(struct kmm_zone *zone, unsigned int order, bool may_grow)
{
	if (unlikely(order > PCP_MAX_ORDER))
		kmm_panic("pcp: no per-CPU list for order %u", order);
	struct kmm_page *page = pcp_alloc_fast(zone, order);

	if (page)
		return page;
#if KMM_HAVE_RSEQ_ASM
	if (pcp_mode == PCP_RSEQ)
		return pcp_refill_rseq(zone, order, may_grow);
#endif
	return pcp_alloc_locked(zone, order, may_grow);
}

static void pcp_free_locked(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	struct kmm_pcp *pcp = zone_pcp(zone, this_cpu());
	struct pcp_list *list = &pcp->lists[order];

	if (!kmm_trylock(&pcp->lock)) {
		free_one_page(zone, page, order);
		return;
	}
	if (list->count >= list->high) {
		unsigned int batch = MIN(order_batch(zone, order), list->count);

		list->count -= batch;
		free_pages_bulk(zone, &list->slot[list->count], batch, order);
	}
	if (list->count < list->high)
		list->slot[list->count++] = page;
	else
		free_one_page(zone, page, order);
	kmm_unlock(&pcp->lock);
}

#if KMM_HAVE_RSEQ_ASM
/* rseq mode, stack at its high mark: a batch back to the buddy, then retry. */
static __cold void pcp_overflow_rseq(struct kmm_zone *zone, struct kmm_page *page,
				     unsigned int order)
{
	struct kmm_page *pages[PCP_BATCH_MAX];
	int n = rseq_list_pop_bulk(PCP_RSEQ_ARGS(zone, order), (void **)pages,
				   order_batch(zone, order));

	if (n > 0)
		free_pages_bulk(zone, pages, (unsigned int)n, order);
	if (n < 0 || rseq_list_push(PCP_RSEQ_ARGS(zone, order), page) != 0)
		free_one_page(zone, page, order);
}
#endif

void pcp_free(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	if (unlikely(order > PCP_MAX_ORDER))
		kmm_panic("pcp: no per-CPU list for order %u", order);
	if (pcp_free_fast(zone, page, order))
		return;
	page->flags = PG_pcp;
#if KMM_HAVE_RSEQ_ASM
	if (pcp_mode == PCP_RSEQ) {
		pcp_overflow_rseq(zone, page, order);
		return;
	}
#endif
	pcp_free_locked(zone, page, order);
}

/*
 * Drains, one at a time (the kernel's pcpu_drain_mutex).  In PCP_RSEQ mode
 * only a drain takes a pcp lock, so this one lock keeps every pcp lock free
 * (what fork() relies on: see page_fork_pcp()).
 */
static struct kmm_lock pcp_drain_mutex = KMM_LOCK_INIT;

void drain_zone_pages(struct kmm_zone *zone, int cpu)
{
	struct kmm_pcp *pcp;
	uint32_t *high[NR_PCP_LISTS], saved[NR_PCP_LISTS];

	if (pcp_mode == PCP_OFF || !zone->per_cpu_pageset)
		return;
	pcp = zone_pcp(zone, cpu);
	for (unsigned int o = 0; o < NR_PCP_LISTS; o++)
		high[o] = &pcp->lists[o].high;
	kmm_lock(&pcp_drain_mutex);
	kmm_lock(&pcp->lock);
	if (pcp_mode == PCP_RSEQ)
		rseq_lists_stop(high, NR_PCP_LISTS, saved, cpu);
	for (unsigned int o = 0; o < NR_PCP_LISTS; o++) {
		struct pcp_list *list = &pcp->lists[o];
		uint32_t count = __atomic_load_n(&list->count, __ATOMIC_RELAXED);

		if (count)
			free_pages_bulk(zone, list->slot, count, o);
		__atomic_store_n(&list->count, 0, __ATOMIC_RELAXED);
	}
	if (pcp_mode == PCP_RSEQ)
		rseq_lists_restart(high, NR_PCP_LISTS, saved);
	kmm_unlock(&pcp->lock);
	kmm_unlock(&pcp_drain_mutex);
}

void drain_all_pages(void)
{
	struct kmm_zone *zone;

	for_each_zone (zone)
		for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
			drain_zone_pages(zone, cpu);
}

unsigned long pcp_count(const struct kmm_zone *zone, int cpu)
{
	unsigned long pages = 0;

	if (!zone->per_cpu_pageset)
		return 0;
	for (unsigned int o = 0; o < NR_PCP_LISTS; o++)
		pages += (unsigned long)READ_ONCE(zone_pcp(zone, cpu)->lists[o].count) << o;
	return pages;
}

unsigned long pcp_total(const struct kmm_zone *zone)
{
	unsigned long pages = 0;

	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		pages += pcp_count(zone, cpu);
	return pages;
}

/*
 * fork() (src/init.c lists every lock in order): the drain mutex, then every
 * pcp lock, then every zone lock.  With the drain mutex held no drain is half
 * done (no list is left stopped, high 0, in the child), and in PCP_RSEQ mode
 * no pcp lock is held either: the pcp locks are taken only in PCP_LOCKED mode,
 * where every operation takes them.  Leaving them alone spares a page fault
 * per CPU and zone in the parent and the child after the copy.
 */
static bool pcp_fork_locked; /* this fork took the pcp locks */

void page_fork_pcp(enum kmm_fork_op op)
{
	struct kmm_zone *zone;

	if (op == FORK_LOCK) {
		kmm_lock(&pcp_drain_mutex);
		pcp_fork_locked = pcp_mode == PCP_LOCKED;
	}
	if (pcp_fork_locked)
		for_each_zone (zone)
			if (zone->per_cpu_pageset)
				for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
					kmm_lock_fork(&zone_pcp(zone, cpu)->lock, op);
	if (op != FORK_LOCK)
		kmm_lock_fork(&pcp_drain_mutex, op);
}

void page_fork_zone(enum kmm_fork_op op)
{
	struct kmm_zone *zone;

	for_each_zone (zone)
		kmm_lock_fork(&zone->lock, op);
}
