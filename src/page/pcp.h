/* SPDX-License-Identifier: MIT */
/*
 * pcp.h - the per-CPU page cache in front of each zone's buddy allocator (the
 * kernel's struct per_cpu_pages).  See pcp.c for the theory of operation.
 */
#ifndef KMM_PAGE_PCP_H
#define KMM_PAGE_PCP_H

#include "../lib/percpu_stack.h"
#include "../numa/mmzone.h"

#define PCP_MAX_ORDER 3 /* the kernel's PAGE_ALLOC_COSTLY_ORDER */
#define NR_PCP_LISTS (PCP_MAX_ORDER + 1)
/*
 * struct kmm_pcp - one zone's cache on one CPU: its four lists, stacks of
 * free blocks of one order each (lib/percpu_stack.h: count, high (0 while a
 * drain owns it), its lock), in one 4 KiB page.  Order k's stack is 2 KiB
 * >> k long, order 3's the 512 bytes left: 254, 126, 62 and 62 blocks, more
 * than order_high() ever asks (pcp.c: 127, 63, 31 and 15).  A page per list
 * made a CPU's cache 16 KiB of RSS, and a program's 28 KiB on two CPUs.
 */
struct kmm_pcp {
	char bytes[PAGE_SIZE];
};

/* Order @order's list: its offset in struct kmm_pcp, and its slots. */
#define PCP_LIST_OFFSET(order) (PAGE_SIZE - (PAGE_SIZE >> (order)))
#define PCP_LIST_BYTES(order)                                                                      \
	((order) == PCP_MAX_ORDER ? PAGE_SIZE >> PCP_MAX_ORDER : PAGE_SIZE >> 1 >> (order))
#define PCP_LIST_SLOTS(order) PERCPU_STACK_SLOTS(PCP_LIST_BYTES(order))
/* The most pages a CPU keeps over all orders (zone_highsize()). */
#define PCP_HIGH_MAX PERCPU_STACK_SLOTS(PAGE_SIZE)

_Static_assert(PCP_LIST_OFFSET(PCP_MAX_ORDER) + PCP_LIST_BYTES(PCP_MAX_ORDER) == PAGE_SIZE,
	       "the lists fill the page");

enum pcp_mode {
	PCP_OFF,    /* KMM_PCP=0: every page goes to the buddy */
	PCP_LOCKED, /* no rseq: per-CPU trylock, as the kernel's pcp_spin_trylock() */
	PCP_RSEQ,   /* lock-free: rseq on glibc's registration */
};

extern int pcp_mode;

/* setup_per_cpu_pageset(): sizes, memory, and the mode.  Return: 0 or -ENOMEM. */
int pcp_init(void);
void pcp_zone_update(struct kmm_zone *zone);

/* Allocation and free of blocks of order <= PCP_MAX_ORDER through @zone's pcp. */
struct kmm_page *pcp_alloc(struct kmm_zone *zone, unsigned int order, bool may_grow);
void pcp_free(struct kmm_zone *zone, struct kmm_page *page, unsigned int order);

/* Give every block cached for @zone on @cpu back to the buddy. */
void drain_zone_pages(struct kmm_zone *zone, int cpu);
/* The same for every zone and CPU (the kernel's drain_all_pages()). */
void drain_all_pages(void);

/* fork(): the drain mutex and pcp locks, and every zone lock (src/init.c has the order). */
void page_fork_pcp(enum kmm_fork_op op);
void page_fork_zone(enum kmm_fork_op op);

/* Pages (not blocks) cached for @zone on @cpu, and over all CPUs. */
unsigned long pcp_count(const struct kmm_zone *zone, int cpu);
unsigned long pcp_total(const struct kmm_zone *zone);

/* @zone's list of @order on @cpu. */
static __always_inline struct percpu_stack *pcp_list(const struct kmm_zone *zone, int cpu,
						     unsigned int order)
{
	return (struct percpu_stack *)(zone->per_cpu_pageset[cpu].bytes + PCP_LIST_OFFSET(order));
}

/* The per-CPU stacks of @zone's blocks of @order. */
static __always_inline struct percpu_stack_ptr pcp_stacks(struct kmm_zone *zone, unsigned int order)
{
	return (struct percpu_stack_ptr){ pcp_list(zone, 0, order), (long)sizeof(struct kmm_pcp),
					  (unsigned int)kmm_nr_cpu_ids };
}

/*
 * pcp_alloc_fast() - pop a block from this CPU's cache of @zone, lock-free.
 * Budget: the rseq pop (14 instructions) and one store; NULL sends the caller
 * to the slow path (empty stack, locked or off mode).
 */
static __always_inline struct kmm_page *pcp_alloc_fast(struct kmm_zone *zone, unsigned int order)
{
	if (likely(pcp_mode == PCP_RSEQ)) {
		struct kmm_page *page = __percpu_stack_pop(pcp_stacks(zone, order));

		if (likely(page)) {
			page->flags = PG_head;
			return page;
		}
	}
	return NULL;
}

/*
 * pcp_free_fast() - push a checked block onto this CPU's cache of @zone.
 * Return: false when the caller must take the slow path (full stack, locked
 * or off mode); the block is then unchanged.
 */
static __always_inline bool pcp_free_fast(struct kmm_zone *zone, struct kmm_page *page,
					  unsigned int order)
{
	if (likely(pcp_mode == PCP_RSEQ)) {
		page->flags = PG_pcp;
		if (likely(__percpu_stack_push(pcp_stacks(zone, order), page) == 0))
			return true;
		page->flags = PG_head;
	}
	return false;
}

#endif /* KMM_PAGE_PCP_H */
