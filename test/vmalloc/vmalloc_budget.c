// SPDX-License-Identifier: MIT
/*
 * vmalloc_budget.c - the mapping budget (run with a low KMM_MAX_MAPS): when
 * the buddy's free memory is scattered, stitching it would cost a kernel
 * mapping per piece; past the budget the rest of a request is one fresh
 * mapping, every allocation still succeeds, and the process's mapping count
 * stays within what libkmm counted.  Meanwhile a program creating 1,000
 * threads is not disturbed: every stack is where pthread put it, intact.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kt_kmm.h"
#include "vmalloc/vmalloc.h"

#define MiB (1UL << 20)
#define ORDER_2M 9 /* stitching moves whole 2 MiB units only */

#define NR_BLOCKS 64
static struct kmm_page *blocks[NR_BLOCKS];

static void test_budget_degrades_to_fresh(void)
{
	unsigned long used, budget, hits = kt_vmstat("vmalloc_budget_hit");
	int maps_before;
	char *p;

	vmalloc_map_counts(&used, &budget);
	KT_REQUIRE(budget == 16, "KMM_MAX_MAPS=16 not applied (budget %lu)", budget);
	if (kt_vmstat("vmalloc_stitching") != 1) {
		printf("pages cannot move here (valgrind): nothing is stitched, no budget to "
		       "test\n");
		return;
	}
	/* The area index's own mapping comes with the first area: not counted below. */
	kmm_vfree(kmm_vmalloc(MiB));
	kmm_reclaim();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	maps_before = kt_count_maps();
	/*
	 * 48 MiB out of 24 scattered 2 MiB blocks would be about 24 mappings
	 * (fewer where two freed blocks lie side by side: which ones the
	 * buddy hands out first decides that, so 32 MiB was not enough).
	 */
	p = kmm_vmalloc(48 * MiB);
	KT_REQUIRE(p, "vmalloc failed under the budget");
	memset(p, 0x3c, 48 * MiB);
	vmalloc_map_counts(&used, &budget);
	KT_CHECK(used <= budget, "%lu mappings counted, budget %lu", used, budget);
	KT_CHECK(kt_vmstat("vmalloc_budget_hit") > hits, "the budget never stopped stitching");
	KT_CHECK(kt_vmstat("vmalloc_fresh") > 0, "no fresh mapping made up the rest");
	KT_CHECK(kt_count_maps() - maps_before <= (int)used + 2,
		 "the process gained %d mappings, libkmm counted %lu",
		 kt_count_maps() - maps_before, used);
	KT_CHECK(p[0] == 0x3c && p[48 * MiB - 1] == 0x3c, "contents");
	kmm_vfree(p);
	kmm_reclaim();
	KT_CHECK(kt_count_maps() == maps_before, "mappings %d before, %d after the free",
		 maps_before, kt_count_maps());
	vmalloc_map_counts(&used, &budget);
	KT_CHECK(used == 0, "%lu mappings still counted", used);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
}

static void test_many_areas_all_succeed(void)
{
	enum { N = 200 };
	static char *areas[N];
	unsigned long used, budget;
	int failed = 0;

	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	for (int i = 0; i < N; i++) {
		size_t size = (1 + (size_t)(kt_rand() % 8)) * MiB + 4096 * (kt_rand() % 64);

		areas[i] = kmm_vmalloc(size);
		if (!areas[i]) {
			failed++;
			continue;
		}
		areas[i][0] = (char)i;
		areas[i][size - 1] = (char)i;
	}
	KT_CHECK(failed == 0, "%d of %d allocations failed", failed, N);
	vmalloc_map_counts(&used, &budget);
	/*
	 * An area costs two mappings of its own (itself, and the split of the
	 * reservation after it); stitched pieces stop at the budget.
	 */
	KT_CHECK(used <= budget + 2 * N, "%lu mappings counted for %d areas, budget %lu", used, N,
		 budget);
	for (int i = 0; i < N; i++)
		if (areas[i]) {
			KT_CHECK(areas[i][0] == (char)i, "area %d changed", i);
			kmm_vfree(areas[i]);
		}
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
}

/* ---- 1,000 threads while stitching ---- */

static volatile int stop;
static pthread_barrier_t all_up;

static void *stitch_loop(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!stop) {
		char *p = kmm_vmalloc((1 + n % 16) * MiB);

		if (!p)
			abort();
		memset(p, (int)n, MiB);
		p = kmm_vrealloc(p, (17 + n % 16) * MiB);
		if (!p || p[MiB - 1] != (char)n)
			abort();
		kmm_vfree(p);
		n++;
	}
	return (void *)n;
}

static void *stack_user(void *arg)
{
	unsigned char buf[16384];
	uintptr_t id = (uintptr_t)arg;

	memset(buf, (int)(id & 0xff), sizeof(buf));
	pthread_barrier_wait(&all_up);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != (unsigned char)(id & 0xff))
			return (void *)1;
	return NULL;
}

static void test_threads_while_stitching(void)
{
	int nr = kt_under_valgrind() ? 100 : 1000, created = 0, corrupted = 0;
	pthread_t stitcher, *t = calloc((size_t)nr, sizeof(*t));
	pthread_attr_t attr;
	void *ret, *rounds;

	KT_REQUIRE(t, "calloc");
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&all_up, NULL, (unsigned int)nr + 1);
	stop = 0;
	KT_REQUIRE(!pthread_create(&stitcher, NULL, stitch_loop, NULL), "pthread_create");
	for (int i = 0; i < nr; i++) {
		int err = pthread_create(&t[i], &attr, stack_user, (void *)(uintptr_t)i);

		if (err) {
			fprintf(stderr, "pthread_create %d: %s\n", i, strerror(err));
			break;
		}
		created++;
	}
	KT_REQUIRE(created == nr, "only %d of %d threads could be created", created, nr);
	pthread_barrier_wait(&all_up);
	for (int i = 0; i < created; i++) {
		pthread_join(t[i], &ret);
		corrupted += ret != NULL;
	}
	stop = 1;
	pthread_join(stitcher, &rounds);
	printf("%d threads created while %lu areas were stitched\n", created,
	       (unsigned long)(uintptr_t)rounds);
	KT_CHECK(corrupted == 0, "%d thread stacks corrupted", corrupted);
	KT_CHECK((uintptr_t)rounds > 0, "the stitcher made no progress");
	pthread_attr_destroy(&attr);
	pthread_barrier_destroy(&all_up);
	free(t);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
}

KT_MAIN({ "budget_degrades_to_fresh", test_budget_degrades_to_fresh },
	{ "many_areas_all_succeed", test_many_areas_all_succeed },
	{ "threads_while_stitching", test_threads_while_stitching })
