// SPDX-License-Identifier: MIT
/*
 * stock_test.c - the per-CPU stacks of a slab cache scaled to the heap: in a
 * fresh process (a heap of one section) a cache's stacks start below their
 * full capacity, and their high and batch rise with the heap.  Its own
 * program: slab_test's earlier tests leave tens of MiB in service.
 */
#include "../kt_kmm.h"
#include "slab/slab.h"

/*
 * Per-CPU stacks scaled to the heap (stock_high()): a cache's stacks hold at
 * most 1/64 of the memory in service in objects (16 KiB at least), and
 * their high and batch rise with the heap, up to the cache's cpu_high.
 */
static void test_stock_scales_with_heap(void)
{
	KT_REQUIRE(kmm_init() == 0, "init");
	unsigned long before = READ_ONCE(kmm_arena.committed_pages) << PAGE_SHIFT;
	struct kmm_cache *c = kmm_cache_create("stock512", 512, 0, 0, NULL);
	unsigned long after = READ_ONCE(kmm_arena.committed_pages) << PAGE_SHIFT;
	unsigned int lo, hi, top = 0;
	enum { BIG = 24 << 10, NBIG = 1024 }; /* 24 MiB of 24 KiB blocks */
	void **big = calloc(NBIG, sizeof(*big)), *obj[300];

	KT_REQUIRE(c && big, "no cache");
	/* First after start-up: a heap below 8 MiB, where the stacks start lower. */
	KT_CHECK(c->high < c->cpu_high, "%s: high %u, the full %u already with %lu KiB in service",
		 c->name, c->high, c->cpu_high, before >> 10);
	lo = MIN(c->cpu_high, (unsigned int)(MAX(16ul << 10, before >> 6) / c->size));
	hi = MIN(c->cpu_high, (unsigned int)(MAX(16ul << 10, after >> 6) / c->size));
	KT_CHECK(c->high >= lo && c->high <= hi,
		 "%s: high %u with %lu-%lu KiB in service, expected %u-%u", c->name, c->high,
		 before >> 10, after >> 10, lo, hi);
	KT_CHECK(c->batch == MAX(1u, MIN(c->high / 2, 64u)), "%s: batch %u for high %u", c->name,
		 c->batch, c->high);
	for (int i = 0; i < NBIG; i++) {
		big[i] = kmm_kmalloc(BIG, KMM_GFP_KERNEL);
		KT_REQUIRE(big[i], "kmalloc(24 KiB) #%d", i);
	}
	/* Refills and overflows raise it: allocate and free past a stack's worth. */
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 300; i++) {
			obj[i] = kmm_cache_alloc(c, 0);
			KT_REQUIRE(obj[i], "object %d", i);
		}
		for (int i = 0; i < 300; i++)
			kmm_cache_free(c, obj[i]);
	}
	KT_CHECK(c->high == c->cpu_high && c->batch == MAX(1u, MIN(c->cpu_high / 2, 64u)),
		 "%s: high %u batch %u with %lu KiB in service, not the full %u", c->name, c->high,
		 c->batch, (unsigned long)READ_ONCE(kmm_arena.committed_pages) << (PAGE_SHIFT - 10),
		 c->cpu_high);
	for (int cpu = 0; cpu < kmm_nr_cpu_ids; cpu++)
		top = MAX(top, READ_ONCE(c->cpu[cpu].stack.high));
	KT_CHECK(top == c->cpu_high, "%s: no stack raised to %u (highest %u)", c->name, c->cpu_high,
		 top);
	for (int i = 0; i < NBIG; i++)
		kmm_kfree(big[i]);
	free(big);
	kmm_cache_destroy(c);
}

KT_MAIN(KT_TEST(test_stock_scales_with_heap))
