// SPDX-License-Identifier: MIT
/*
 * mempool_test.c - the mempool API (run with KMM_ARENA_LIMIT=64M): with the
 * underlying allocator made to fail by the arena limit, min_nr allocations
 * still succeed from the reserve; a KMM_GFP_NOFAIL allocation waits until an
 * element is freed and then gets it; frees refill the reserve first; resize
 * and destroy give back what they should; no element is handed out twice.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kmm/mempool.h>

#include "../kt_kmm.h"

#define ELEM 65536 /* 64 KiB kmalloc blocks: page runs of 16 pages */
#define MIN_NR 16

/* Hold every block the allocator gives until it fails: the limit is reached. */
static void **exhaust(size_t size, int *n)
{
	int cap = 4096;
	void **held = calloc((size_t)cap, sizeof(void *));

	*n = 0;
	while (*n < cap && (held[*n] = kmm_kmalloc(size, KMM_GFP_KERNEL)))
		(*n)++;
	if (*n == cap) {
		fprintf(stderr, "the arena limit did not stop kmalloc (%d blocks)\n", cap);
		exit(2);
	}
	return held;
}

static void release(void **held, int n)
{
	for (int i = 0; i < n; i++)
		kmm_kfree(held[i]);
	free(held);
}

static void test_reserve_when_allocator_fails(void)
{
	struct kmm_mempool *pool = kmm_mempool_create_kmalloc_pool(MIN_NR, ELEM);
	void *got[MIN_NR + 1];
	void **held;
	int n, dup = 0;

	KT_REQUIRE(pool, "kmm_mempool_create_kmalloc_pool failed");
	held = exhaust(ELEM, &n);
	KT_CHECK(!kmm_kmalloc(ELEM, KMM_GFP_KERNEL), "the allocator should be failing now");
	for (int i = 0; i < MIN_NR; i++) {
		got[i] = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);
		KT_CHECK(got[i], "reserve allocation %d of %d failed", i, MIN_NR);
		if (got[i])
			memset(got[i], i, ELEM);
	}
	errno = 0;
	got[MIN_NR] = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);
	KT_CHECK(!got[MIN_NR] && errno == ENOMEM,
		 "allocation %d beyond an empty reserve must fail with ENOMEM", MIN_NR + 1);
	for (int i = 0; i < MIN_NR; i++)
		for (int j = 0; j < i; j++)
			dup += got[i] && got[i] == got[j];
	KT_CHECK(dup == 0, "%d elements handed out twice", dup);
	for (int i = 0; i < MIN_NR; i++)
		KT_CHECK(got[i] && ((unsigned char *)got[i])[ELEM - 1] == (unsigned char)i,
			 "element %d was overwritten", i);
	/* Frees refill the reserve: the same elements serve again. */
	for (int i = 0; i < MIN_NR; i++)
		kmm_mempool_free(got[i], pool);
	for (int i = 0; i < MIN_NR; i++)
		KT_CHECK((got[i] = kmm_mempool_alloc(pool, KMM_GFP_KERNEL)),
			 "second round: allocation %d failed", i);
	for (int i = 0; i < MIN_NR; i++)
		kmm_mempool_free(got[i], pool);
	release(held, n);
	kmm_mempool_destroy(pool);
}

struct waiter {
	struct kmm_mempool *pool;
	void *got;
	volatile int done;
};

static void *wait_for_element(void *arg)
{
	struct waiter *w = arg;

	w->got = kmm_mempool_alloc(w->pool, KMM_GFP_NOFAIL);
	w->done = 1;
	return NULL;
}

static void test_nofail_waits_for_a_free(void)
{
	struct kmm_mempool *pool = kmm_mempool_create_kmalloc_pool(2, ELEM);
	struct waiter w = { pool, NULL, 0 };
	void *a, *b, **held;
	pthread_t t;
	int n;

	KT_REQUIRE(pool, "pool creation failed");
	held = exhaust(ELEM, &n);
	a = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);
	b = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);
	KT_REQUIRE(a && b, "the reserve of 2 did not serve 2");
	KT_REQUIRE(!pthread_create(&t, NULL, wait_for_element, &w), "pthread_create");
	usleep(200 * 1000);
	KT_CHECK(!w.done, "a NOFAIL allocation returned with the pool and allocator empty");
	kmm_mempool_free(b, pool);
	for (int i = 0; i < 200 && !w.done; i++)
		usleep(10 * 1000);
	KT_CHECK(w.done, "the waiter was not woken by the free");
	pthread_join(t, NULL);
	KT_CHECK(w.got == b, "the waiter should get the freed element %p, got %p", b, w.got);
	kmm_mempool_free(a, pool);
	kmm_mempool_free(w.got, pool);
	release(held, n);
	kmm_mempool_destroy(pool);
}

/* A pool over counting functions: when does it call the allocator and the free? */
static int allocs, frees, live;

static void *count_alloc(kmm_gfp_t gfp, void *data)
{
	void *p = kmm_kmalloc((size_t)(uintptr_t)data, gfp & ~KMM_GFP_NOFAIL);

	allocs += p != NULL;
	live += p != NULL;
	return p;
}

static void count_free(void *element, void *data)
{
	(void)data;
	frees++;
	live--;
	kmm_kfree(element);
}

static void test_custom_functions_resize_destroy(void)
{
	struct kmm_mempool *pool = kmm_mempool_create(4, count_alloc, count_free, (void *)100);
	void *e[8];

	KT_REQUIRE(pool, "kmm_mempool_create failed");
	KT_CHECK(allocs == 4 && frees == 0, "create made %d elements (want 4)", allocs);
	/* The allocator works: allocations use it, and frees beyond a full reserve free. */
	for (int i = 0; i < 8; i++)
		e[i] = kmm_mempool_alloc(pool, KMM_GFP_KERNEL);
	KT_CHECK(allocs == 12, "8 allocations called the allocator %d times, not 8", allocs - 4);
	for (int i = 0; i < 8; i++)
		kmm_mempool_free(e[i], pool);
	KT_CHECK(frees == 8 && live == 4, "with the reserve full, frees must free (%d, live %d)",
		 frees, live);
	KT_CHECK(kmm_mempool_resize(pool, 10) == 0 && live == 10, "resize up to 10: live %d", live);
	KT_CHECK(kmm_mempool_resize(pool, 2) == 0 && live == 2, "resize down to 2: live %d", live);
	kmm_mempool_destroy(pool);
	KT_CHECK(live == 0, "destroy left %d elements allocated", live);
	errno = 0;
	KT_CHECK(!kmm_mempool_create(-1, count_alloc, count_free, NULL) && errno == EINVAL,
		 "a negative min_nr must fail with EINVAL");
}

static void test_slab_pool(void)
{
	struct kmm_cache *cache = kmm_cache_create("mempool_test", 200, 0, 0, NULL);
	struct kmm_mempool *pool = kmm_mempool_create_slab_pool(8, cache);
	void *e[32];

	KT_REQUIRE(cache && pool, "slab pool creation failed");
	for (int i = 0; i < 32; i++) {
		e[i] = kmm_mempool_alloc(pool, KMM_GFP_ZERO);
		KT_CHECK(e[i] && ((char *)e[i])[199] == 0, "slab pool element %d", i);
	}
	for (int i = 0; i < 32; i++)
		kmm_mempool_free(e[i], pool);
	kmm_mempool_destroy(pool);
	/* Every object is back: destroying the cache would abort on a leak. */
	kmm_cache_destroy(cache);
}

KT_MAIN({ "reserve_when_allocator_fails", test_reserve_when_allocator_fails },
	{ "nofail_waits_for_a_free", test_nofail_waits_for_a_free },
	{ "custom_functions_resize_destroy", test_custom_functions_resize_destroy },
	{ "slab_pool", test_slab_pool })
