// SPDX-License-Identifier: MIT
/*
 * page_threads.c - several threads allocating and freeing at once (meson sets
 * KMM_ARENA_LIMIT=256M).  Each page handed out is claimed in a shared
 * ownership map with an atomic test-and-set, so a page given to two owners at
 * once is caught at the moment it happens; each block carries its owner's tag
 * in every page and is checked before it is freed.  At the end the zone's free
 * lists are walked and every page is free again and merged.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "../kt_kmm.h"
#include "page/internal.h"

#define LIMIT (256UL << 20)
#define NPAGES (LIMIT >> KMM_PAGE_SHIFT)
#define NTHREADS 8
#define HELD 64

static _Atomic unsigned char owner_map[NPAGES];
static uintptr_t base;
static _Atomic int errors;

struct worker {
	int id;
	int iterations;
	uint64_t rng;
	unsigned long allocs, failures;
};

static int claim(char *addr, unsigned int order, unsigned char id)
{
	unsigned long first = ((uintptr_t)addr - base) >> KMM_PAGE_SHIFT;

	if (first + (1UL << order) > NPAGES)
		return 0;
	for (unsigned long i = first; i < first + (1UL << order); i++) {
		unsigned char expected = 0;

		if (!atomic_compare_exchange_strong(&owner_map[i], &expected, id))
			return 0;
	}
	return 1;
}

static void release(char *addr, unsigned int order)
{
	unsigned long first = ((uintptr_t)addr - base) >> KMM_PAGE_SHIFT;

	for (unsigned long i = first; i < first + (1UL << order); i++)
		atomic_store(&owner_map[i], 0);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct {
		char *addr;
		unsigned int order;
		uint64_t tag;
	} held[HELD] = { { 0 } };

	for (int it = 0; it < w->iterations; it++) {
		int slot = (int)(kt_rand_r(&w->rng) % HELD);

		if (held[slot].addr) {
			for (unsigned long i = 0; i < (1UL << held[slot].order); i++)
				if (*(uint64_t *)(held[slot].addr + (i << KMM_PAGE_SHIFT)) !=
				    held[slot].tag + i)
					atomic_fetch_add(&errors, 1);
			release(held[slot].addr, held[slot].order);
			kmm_free_pages_va(held[slot].addr, held[slot].order);
			held[slot].addr = NULL;
		} else {
			unsigned int order = (unsigned int)(kt_rand_r(&w->rng) % 7);
			char *p = kmm_get_free_pages(KMM_GFP_KERNEL, order);

			if (!p) {
				w->failures++;
				continue;
			}
			if (!claim(p, order, (unsigned char)w->id)) {
				fprintf(stderr, "page %p (order %u) handed to two owners\n",
					(void *)p, order);
				atomic_fetch_add(&errors, 1);
				continue;
			}
			held[slot].addr = p;
			held[slot].order = order;
			held[slot].tag = kt_rand_r(&w->rng);
			for (unsigned long i = 0; i < (1UL << order); i++)
				*(uint64_t *)(p + (i << KMM_PAGE_SHIFT)) = held[slot].tag + i;
			w->allocs++;
		}
	}
	for (int s = 0; s < HELD; s++)
		if (held[s].addr) {
			release(held[s].addr, held[s].order);
			kmm_free_pages_va(held[s].addr, held[s].order);
		}
	return NULL;
}

static void test_concurrent_alloc_free(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	pthread_t tid[NTHREADS];
	struct worker w[NTHREADS];
	unsigned long counts[KMM_NR_PAGE_ORDERS], free_pages = 0, allocs = 0;

	unsigned long in_use;

	KT_REQUIRE(kmm_init() == 0, "init");
	in_use = kt_normal_in_use();
	base = zone->zone_start_pfn << KMM_PAGE_SHIFT;
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .id = i + 1,
					.iterations = kt_under_valgrind() ? 10000 : 100000,
					.rng = kt_rand() | 1 };
		pthread_create(&tid[i], NULL, worker_fn, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(tid[i], NULL);
		allocs += w[i].allocs;
	}
	KT_CHECK(atomic_load(&errors) == 0, "%d ownership or pattern errors", atomic_load(&errors));
	KT_CHECK(allocs > 0, "nothing was allocated");
	kmm_drain_all_pages();
	buddy_check_zone(zone);
	KT_REQUIRE(kt_buddyinfo("Normal", counts) == 0, "buddyinfo");
	for (int o = 0; o < KMM_NR_PAGE_ORDERS; o++)
		free_pages += counts[o] << o;
	KT_CHECK(free_pages + in_use == zone_present(zone),
		 "free %lu + %lu in use at the start != %lu pages in service", free_pages, in_use,
		 zone_present(zone));
	KT_CHECK(kt_normal_in_use() == in_use, "pages in use: %lu at the start, %lu at the end",
		 in_use, kt_normal_in_use());
	printf("%lu allocations by %d threads\n", allocs, NTHREADS);
}

KT_MAIN(KT_TEST(test_concurrent_alloc_free))
