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
 * As in the kernel, whose count covers every order, high bounds the pages of
 * all of a CPU's lists together: each order holds a quarter of it, in fewer
 * blocks as the order rises, but at least two batches.
 *
 * The stacks are lib/percpu_stack.h's, one per order in a struct kmm_pcp per
 * zone and CPU.  Three modes, chosen once at start-up:
 * - PCP_RSEQ: the stacks' rseq backend: no lock, no atomic instruction; the
 *   refill and overflow batches move with the bulk sequences too.
 * - PCP_LOCKED: without rseq, their locked backend: each operation takes its
 *   stack with a trylock (the kernel's pcp_spin_trylock()); when the trylock
 *   fails, the operation goes to the buddy directly.  Slower, never wrong.
 * - PCP_OFF (KMM_PCP=0): no cache; every block goes through the zone lock.
 * One code path serves both backends.
 *
 * Draining another CPU's cache (drain_zone_pages()) stops its stacks
 * (percpu_stack_stop(): their locks, and with rseq high 0 and a membarrier
 * fence of that CPU), gives their blocks to the buddy, and restarts them.
 *
 * Page state: a block in a pcp has PG_pcp on its head (not PG_buddy: the buddy
 * must not merge it) and its order; freeing it again is a double free.
 *
 * Lock order: pcp_drain_mutex, the stack locks of one pcp in order, then
 * zone->lock (a drain holds the first two while it frees into the buddy).  No
 * path takes them in another order.
 */
#include <errno.h>

#include "../lib/bug.h"
#include "../lib/config.h"
#include "../numa/os.h"
#include "internal.h"
#include "pcp.h"

#define PCP_BATCH_MAX 63 /* pages; also the size of the bulk buffers */

int pcp_mode = PCP_OFF;

static inline unsigned int order_batch(const struct kmm_zone *zone, unsigned int order)
{
	return MAX(1u, READ_ONCE(zone->pcp_batch) >> order);
}

/*
 * A list's high in blocks.  A quarter of high each: with a whole high per
 * order, as before, a CPU could keep four times high, and did: 376 KiB of
 * logicmin's 3.9 MiB peak.
 */
static inline unsigned int order_high(const struct kmm_zone *zone, unsigned int order)
{
	return MIN((unsigned int)PCP_LIST_SLOTS(order),
		   MAX((READ_ONCE(zone->pcp_high) / NR_PCP_LISTS) >> order,
		       2 * order_batch(zone, order)));
}

/*
 * The kernel's zone_batchsize(): a quarter of 1/1024 of the zone's pages, at
 * most 256 KiB / 4, made a power of two minus one (avoids cache aliasing).
 * The zone's pages are those in service (present), which grow with the
 * heap: a program of a few MiB moves single blocks, one of a GiB 63.
 */
static unsigned int zone_batchsize(const struct kmm_zone *zone)
{
	unsigned long batch = MIN(zone->present_pages >> 10, (1UL << 20) / PAGE_SIZE) / 4;

	batch = MAX(batch, 1UL);
	batch = batch + batch / 2;
	batch = 1UL << (63 - __builtin_clzl(batch));
	return (unsigned int)MIN(batch > 1 ? batch - 1 : 1, (unsigned long)PCP_BATCH_MAX);
}

/*
 * The kernel's zone_highsize() with percpu_pagelist_high_fraction 0: the
 * zone's low watermark split between the CPUs, at least four batches.  With
 * the watermarks' square root it rises slower than the zone: 40 pages on a
 * 4 MiB zone, 160 on 64 MiB, PCP_HIGH_MAX from about 1 GiB (for one CPU;
 * split between two, half that).  Before, batch and high came from the
 * zone's span (its whole reservation): 63 and 252 from the start, up to
 * 4 MiB of free blocks per CPU over the four lists, which a program of a
 * few MiB kept resident (logicmin: 1-1.4 MiB of its 4.9 MiB peak).
 */
static unsigned int zone_highsize(const struct kmm_zone *zone, unsigned int batch)
{
	unsigned long high = zone->watermark[WMARK_LOW] / (unsigned long)kmm_nr_cpu_ids;

	return (unsigned int)MIN(MAX(high, 4UL * batch), (unsigned long)PCP_HIGH_MAX);
}

/*
 * Batch and high for @zone's present size, at start-up and whenever the
 * zone grows (the kernel's zone_pcp_update() after memory hotplug).  A list
 * takes a new, larger high at its next overflow (percpu_stack_grow()); the
 * zone never shrinks, so neither does high.  Context: zone->lock, or
 * start-up.  Read without a lock by the pcp paths: a stale value is only a
 * batch of another size.
 */
void pcp_zone_update(struct kmm_zone *zone)
{
	unsigned int batch = zone_batchsize(zone);

	WRITE_ONCE(zone->pcp_batch, batch);
	WRITE_ONCE(zone->pcp_high, zone_highsize(zone, batch));
}

__init int pcp_init(void)
{
	struct kmm_zone *zone;

	if (!kmm_config.pcp) {
		pcp_mode = PCP_OFF;
		return 0;
	}
	pcp_mode = percpu_stack_rseq() ? PCP_RSEQ : PCP_LOCKED;
	for_each_zone (zone) {
		size_t size = ALIGN_UP(sizeof(struct kmm_pcp) * (size_t)kmm_nr_cpu_ids, PAGE_SIZE);
		struct kmm_pcp *pcp = os_map_noreserve(size);

		if (!pcp) {
			pcp_mode = PCP_OFF;
			return -ENOMEM;
		}
		pcp_zone_update(zone);
		/*
		 * The lists stay as mmap() gave them, zero: each gets its high
		 * when its CPU first pushes to it (pcp_activate()), so a CPU
		 * that never frees to this zone's cache costs no page of RSS
		 * (they were 64 KiB of every program's).
		 */
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

/*
 * Drains, one at a time (the kernel's pcpu_drain_mutex).  In PCP_RSEQ mode
 * only a drain, or a list's first use under a trylock of this lock
 * (pcp_activate()), takes a pcp lock, so this one lock keeps every pcp lock
 * free (what fork() relies on: see page_fork_pcp()).
 */
static struct kmm_lock pcp_drain_mutex = KMM_LOCK_INIT;

static void drain_zone_pages_locked(struct kmm_zone *zone, int cpu);

/*
 * A single-threaded program has one CPU's stocks in use at a time, but the
 * scheduler moves it: then the stocks of the CPU it left wait, resident,
 * until it comes back (sqlite's peak RSS went from 28.5 to 29.7 MiB with a
 * busy loop on the other CPU).  So its first refill on another CPU gives the
 * pages left on the CPU of the last one back to the buddy, where they merge.
 * Threaded programs keep theirs: their threads come back.
 */
static void pcp_follow_thread(struct kmm_zone *zone)
{
	int cpu, last;

	if (!kmm_single_threaded())
		return;
	cpu = percpu_this_cpu((unsigned int)kmm_nr_cpu_ids);
	last = zone->pcp_last_cpu;
	zone->pcp_last_cpu = cpu;
	if (last != cpu && pcp_count(zone, last) && kmm_trylock(&pcp_drain_mutex)) {
		drain_zone_pages_locked(zone, last);
		kmm_unlock(&pcp_drain_mutex);
	}
}

/* This CPU's list of @order gets its high on first use (zero, as mapped). */
static bool pcp_activate(struct kmm_zone *zone, unsigned int order)
{
	return percpu_stack_grow(pcp_stacks(zone, order), order_high(zone, order),
				 &pcp_drain_mutex);
}

/*
 * Stack empty: a batch from the buddy in one round trip of the zone lock, one
 * block for the caller and the rest pushed; what does not fit (the thread
 * migrated to a full or stopped stack) goes back.
 */
static __cold struct kmm_page *pcp_refill(struct kmm_zone *zone, unsigned int order, bool may_grow)
{
	struct kmm_page *pages[PCP_BATCH_MAX];
	int n, pushed = 0;

	pcp_follow_thread(zone);
	n = rmqueue_bulk(zone, order, order_batch(zone, order), pages, may_grow);

	if (n <= 0)
		return NULL;
	if (n > 1) {
		struct percpu_stack_ptr stacks = pcp_stacks(zone, order);

		pcp_activate(zone, order);
		pushed = percpu_stack_push_bulk(stacks, (void *const *)(pages + 1),
						(unsigned int)n - 1);
	}
	if (pushed < 0)
		pushed = 0;
	if (1 + pushed < n)
		free_pages_bulk(zone, pages + 1 + pushed, (unsigned int)(n - 1 - pushed), order);
	return prep_new_page(pages[0]);
}

struct kmm_page *pcp_alloc(struct kmm_zone *zone, unsigned int order, bool may_grow)
{
	void *page;

	if (unlikely(order > PCP_MAX_ORDER))
		kmm_panic("pcp: no per-CPU list for order %u", order);
	switch (percpu_stack_pop(pcp_stacks(zone, order), &page)) {
	case 1: return prep_new_page(page);
	case 0: return pcp_refill(zone, order, may_grow);
	default: /* contended or being drained: the buddy serves this one */
		return rmqueue(zone, order, may_grow, NULL);
	}
}

/* Stack at its high mark: a batch back to the buddy, then push again. */
static __cold void pcp_overflow(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	struct kmm_page *pages[PCP_BATCH_MAX];
	struct percpu_stack_ptr stacks = pcp_stacks(zone, order);
	int n;

	if (pcp_activate(zone, order) && percpu_stack_push(stacks, page) == 0)
		return;
	n = percpu_stack_pop_bulk(stacks, (void **)pages, order_batch(zone, order));
	if (n > 0)
		free_pages_bulk(zone, pages, (unsigned int)n, order);
	if (n < 0 || percpu_stack_push(stacks, page) != 0)
		free_one_page(zone, page, order);
}

void pcp_free(struct kmm_zone *zone, struct kmm_page *page, unsigned int order)
{
	if (unlikely(order > PCP_MAX_ORDER))
		kmm_panic("pcp: no per-CPU list for order %u", order);
	page->flags = PG_pcp;
	switch (percpu_stack_push(pcp_stacks(zone, order), page)) {
	case 0: return;
	case 1: pcp_overflow(zone, page, order); return;
	default: /* contended or being drained */ free_one_page(zone, page, order);
	}
}

/* Context: pcp_drain_mutex. */
static void drain_zone_pages_locked(struct kmm_zone *zone, int cpu)
{
	struct percpu_stack *stacks[NR_PCP_LISTS];
	unsigned int orders[NR_PCP_LISTS], n = 0;

	/*
	 * Lists never used (high 0: no drain runs beside this one) are left
	 * untouched: taking their locks would make their pages resident.  One
	 * that a CPU starts using meanwhile is as if it pushed after the drain.
	 */
	for (unsigned int o = 0; o < NR_PCP_LISTS; o++) {
		struct percpu_stack *s = pcp_list(zone, cpu, o);

		if (percpu_stack_used(s)) {
			orders[n] = o;
			stacks[n++] = s;
		}
	}
	if (!n)
		return;
	percpu_stack_stop(stacks, n, cpu);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int count = percpu_stack_take_all(stacks[i]);

		if (count)
			free_pages_bulk(zone, (struct kmm_page **)stacks[i]->slot, count,
					orders[i]);
	}
	percpu_stack_restart(stacks, n);
}

void drain_zone_pages(struct kmm_zone *zone, int cpu)
{
	if (pcp_mode == PCP_OFF || !zone->per_cpu_pageset)
		return;
	kmm_lock(&pcp_drain_mutex);
	drain_zone_pages_locked(zone, cpu);
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
		pages += (unsigned long)percpu_stack_count(pcp_list(zone, cpu, o)) << o;
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
					for (unsigned int o = 0; o < NR_PCP_LISTS; o++)
						kmm_lock_fork(&pcp_list(zone, cpu, o)->lock, op);
	if (op != FORK_LOCK)
		kmm_lock_fork(&pcp_drain_mutex, op);
}

void page_fork_zone(enum kmm_fork_op op)
{
	struct kmm_zone *zone;

	for_each_zone (zone)
		kmm_lock_fork(&zone->lock, op);
}
