// SPDX-License-Identifier: MIT
/*
 * pcp_conservation.c - the per-CPU page cache loses nothing and never hands a
 * block to two owners.
 *
 * For N = 1, 2, 8 and 32 threads (on a 2-CPU machine: preemption inside the
 * rseq sequences is certain), each thread allocates and frees blocks of random
 * orders 0..4 while a mover thread keeps moving the workers between CPUs with
 * sched_setaffinity and a drainer thread keeps calling kmm_drain_all_pages().
 * Every block is claimed in a shared ownership map with compare-and-swap when
 * it is handed out (a second owner is caught at once) and carries its owner's
 * tag in every page, checked before it is freed.  Then the workers stop with
 * their blocks still held, every cache is drained, and
 *	free pages in the buddy + pages held == pages in service;
 * after the held blocks are freed and drained, every page is free and merged.
 *
 * KT_EXPECT_PCP (rseq, locked, off) names the mode meson expects: the default
 * run uses rseq, GLIBC_TUNABLES=glibc.pthread.rseq=0 the locked fallback, and
 * KMM_PCP=0 no cache.  Valgrind cannot run rseq sequences and glibc's
 * registration fails under it, so the valgrind run always tests the locked
 * fallback (checked here too).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../kt_kmm.h"
#include "page/internal.h"
#include "page/pcp.h"

#define LIMIT (256UL << 20)
#define NPAGES (LIMIT >> KMM_PAGE_SHIFT)
#define HELD 48
#define MAX_THREADS 32

static _Atomic unsigned char owner_map[NPAGES];
static uintptr_t base;
static _Atomic int errors, stop_workers, stop_helpers, workers_done;

struct held {
	char *addr;
	unsigned int order;
	uint64_t tag;
};

struct worker {
	pthread_t tid;
	int id;
	long ops;
	uint64_t rng;
	struct held held[HELD];
	unsigned long held_pages;
};

static struct worker workers[MAX_THREADS];
static int nr_workers;
static unsigned long in_use_at_start;

static int claim(const char *addr, unsigned int order, unsigned char id)
{
	unsigned long first = ((uintptr_t)addr - base) >> KMM_PAGE_SHIFT;

	for (unsigned long i = first; i < first + (1UL << order); i++) {
		unsigned char expected = 0;

		if (i >= NPAGES || !atomic_compare_exchange_strong(&owner_map[i], &expected, id)) {
			fprintf(stderr,
				"page %p of block %p (order %u) handed to thread %d while "
				"thread %d holds it\n",
				(void *)(base + (i << KMM_PAGE_SHIFT)), (void *)addr, order, id,
				i < NPAGES ? expected : -1);
			return 0;
		}
	}
	return 1;
}

static void release(const char *addr, unsigned int order)
{
	unsigned long first = ((uintptr_t)addr - base) >> KMM_PAGE_SHIFT;

	for (unsigned long i = first; i < first + (1UL << order); i++)
		atomic_store(&owner_map[i], 0);
}

static void put_block(struct held *h)
{
	for (unsigned long i = 0; i < (1UL << h->order); i++)
		if (*(uint64_t *)(h->addr + (i << KMM_PAGE_SHIFT)) != h->tag + i) {
			fprintf(stderr, "block %p (order %u) overwritten while held\n",
				(void *)h->addr, h->order);
			atomic_fetch_add(&errors, 1);
			break;
		}
	release(h->addr, h->order);
	if (h->order & 1)
		kmm_free_pages(kmm_virt_to_page(h->addr), h->order);
	else
		kmm_free_pages_va(h->addr, h->order);
	h->addr = NULL;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	long limit = kt_under_valgrind() ? 1500 : -1;

	while (!atomic_load_explicit(&stop_workers, memory_order_relaxed) && w->ops != limit) {
		struct held *h = &w->held[kt_rand_r(&w->rng) % HELD];

		w->ops++;
		if (h->addr) {
			put_block(h);
			continue;
		}
		h->order = (unsigned int)(kt_rand_r(&w->rng) % 5);
		h->addr = kmm_get_free_pages(KMM_GFP_KERNEL, h->order);
		if (!h->addr)
			continue;
		if (!claim(h->addr, h->order, (unsigned char)w->id)) {
			atomic_fetch_add(&errors, 1);
			h->addr = NULL;
			continue;
		}
		h->tag = kt_rand_r(&w->rng);
		for (unsigned long i = 0; i < (1UL << h->order); i++)
			*(uint64_t *)(h->addr + (i << KMM_PAGE_SHIFT)) = h->tag + i;
	}
	for (int i = 0; i < HELD; i++)
		if (w->held[i].addr)
			w->held_pages += 1UL << w->held[i].order;
	atomic_fetch_add(&workers_done, 1);
	return NULL;
}

static void *mover_fn(void *arg)
{
	uint64_t rng = 12345;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	(void)arg;
	while (!atomic_load(&stop_helpers)) {
		struct worker *w = &workers[kt_rand_r(&rng) % (uint64_t)nr_workers];
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)(kt_rand_r(&rng) % (uint64_t)ncpu), &set);
		if (kt_rand_r(&rng) % 4 == 0)
			for (int c = 0; c < ncpu; c++)
				CPU_SET(c, &set);
		pthread_setaffinity_np(w->tid, sizeof(set), &set);
		usleep(200);
	}
	return NULL;
}

static void *drainer_fn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_helpers)) {
		kmm_drain_all_pages();
		usleep(500);
	}
	return NULL;
}

static unsigned long zone_free(struct kmm_zone *zone)
{
	unsigned long counts[KMM_NR_PAGE_ORDERS], pages = 0;

	zone_free_counts(zone, counts);
	for (int o = 0; o < KMM_NR_PAGE_ORDERS; o++)
		pages += counts[o] << o;
	return pages;
}

static void run(int nthreads, int millis)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	pthread_t mover, drainer;
	unsigned long held = 0, free_pages, present;
	long ops = 0;

	nr_workers = nthreads;
	atomic_store(&stop_workers, 0);
	atomic_store(&stop_helpers, 0);
	atomic_store(&workers_done, 0);
	for (int i = 0; i < nthreads; i++) {
		workers[i] = (struct worker){ .id = i + 1, .rng = kt_rand() | 1 };
		pthread_create(&workers[i].tid, NULL, worker_fn, &workers[i]);
	}
	pthread_create(&mover, NULL, mover_fn, NULL);
	pthread_create(&drainer, NULL, drainer_fn, NULL);
	if (!kt_under_valgrind()) {
		usleep((useconds_t)millis * 1000);
		atomic_store(&stop_workers, 1);
	}
	/* The mover may touch a worker's pthread_t only until it is joined. */
	while (atomic_load(&workers_done) < nthreads)
		usleep(1000);
	atomic_store(&stop_helpers, 1);
	pthread_join(mover, NULL);
	pthread_join(drainer, NULL);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(workers[i].tid, NULL);
		held += workers[i].held_pages;
		ops += workers[i].ops;
	}

	KT_CHECK(atomic_load(&errors) == 0, "%d threads: %d ownership or pattern errors", nthreads,
		 atomic_load(&errors));
	kmm_drain_all_pages();
	KT_CHECK(pcp_total(zone) == 0, "%lu pages still cached after a drain", pcp_total(zone));
	free_pages = zone_free(zone);
	present = zone_present(zone);
	KT_CHECK(free_pages + held + in_use_at_start == present,
		 "%d threads: %lu free + %lu held + %lu in use before != %lu in service (lost %ld)",
		 nthreads, free_pages, held, in_use_at_start, present,
		 (long)(present - free_pages - held - in_use_at_start));
	buddy_check_zone(zone);

	for (int i = 0; i < nthreads; i++)
		for (int s = 0; s < HELD; s++)
			if (workers[i].held[s].addr)
				put_block(&workers[i].held[s]);
	kmm_drain_all_pages();
	KT_CHECK(zone_free(zone) + in_use_at_start == zone_present(zone),
		 "%lu of %lu pages free after all frees (%lu in use before)", zone_free(zone),
		 zone_present(zone), in_use_at_start);
	buddy_check_zone(zone);
	printf("%2d threads: %8ld operations, %5lu pages held at the stop, mode %d\n", nthreads,
	       ops, held, pcp_mode);
}

static void test_mode_as_expected(void)
{
	const char *want = getenv("KT_EXPECT_PCP");
	int expect = PCP_RSEQ;

	KT_REQUIRE(kmm_init() == 0, "init");
	if (want && !strcmp(want, "locked"))
		expect = PCP_LOCKED;
	else if (want && !strcmp(want, "off"))
		expect = PCP_OFF;
	if (expect == PCP_RSEQ && kt_under_valgrind())
		expect = PCP_LOCKED;
	KT_CHECK(pcp_mode == expect, "pcp mode %d, expected %d (%s)", pcp_mode, expect,
		 want ? want : "rseq");
}

static void test_conservation(void)
{
	static const int counts[] = { 1, 2, 8, 32 };

	base = kmm_nodes[0].node_zones[ZONE_NORMAL].zone_start_pfn << KMM_PAGE_SHIFT;
	in_use_at_start = kt_normal_in_use();
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		run(counts[i], 700);
}

KT_MAIN(KT_TEST(test_mode_as_expected), KT_TEST(test_conservation))
