// SPDX-License-Identifier: MIT
/*
 * secure_classes_test.c - run with KMM_SECURE=1 (test/meson.build): every
 * kmalloc class, whose secure slot layout may take a larger slab order than
 * the default one, serves and takes back a slab's worth of blocks, written
 * and read back, with rseq on (the secure mode's slow paths use it).  A free
 * the slab checks against the default order's bounds aborts the process.
 * Then the quarantine's rseq ring on one CPU: a freed block comes back
 * exactly after 1024 more frees (FIFO), and a write after free is reported
 * when the block leaves the ring, or is drained from it by malloc_trim().
 * Last, kmm_cache_destroy() of a cache whose objects other threads push out
 * of the shared rings, and are still giving back, when it runs.
 */
#include <stdbool.h>
#include <kmm/slab.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ktest.h"

#define LIVE 48 /* more than a secure slab's objects in every class */

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i);
}

static size_t bad_bytes(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != (unsigned char)(seed + i);
	return bad;
}

static void one_size(size_t n)
{
	unsigned char *live[LIVE];

	for (int i = 0; i < LIVE; i++) {
		live[i] = malloc(n);
		KT_REQUIRE(live[i], "malloc(%zu) failed", n);
		KT_CHECK(malloc_usable_size(live[i]) >= n, "malloc(%zu)", n);
		fill(live[i], n, (unsigned char)i);
	}
	for (int i = 0; i < LIVE; i++) {
		KT_CHECK(bad_bytes(live[i], n, (unsigned char)i) == 0, "block %d of %zu bytes", i,
			 n);
		free(live[i]);
	}
}

/* Every 16-byte step up to 1 KiB, then the five sizes per doubling up to 32 KiB. */
static void test_every_class(void)
{
	for (size_t n = 16; n <= 1024; n += 16)
		one_size(n - 1);
	for (size_t b = 1024; b < 32768; b *= 2) {
		one_size(b + b / 8);
		for (size_t k = 1; k <= 4; k++)
			one_size(b + b / 4 * k);
	}
}

#define QUARANTINE 1024 /* frees on a CPU before a freed small block leaves it */

/* Bind the thread to the CPU it runs on: one quarantine ring sees every free. */
static bool pin_here(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	if (cpu < 0)
		return false;
	CPU_SET(cpu, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

/* The quarantine is libkmm's only under KMM_SECURE=1, without ASan or memcheck. */
static bool quarantine_testable(void)
{
#ifdef KT_ASAN
	return false;
#endif
	if (kt_under_valgrind() || !pin_here()) {
		printf("skipped: ASan, memcheck, or the thread cannot be bound to a CPU\n");
		return false;
	}
	return true;
}

/* Malloc+free pairs of @n bytes until one returns @p: how many (0: none in @max). */
static int pairs_until(const void *p, size_t n, int max)
{
	for (int k = 1; k <= max; k++) {
		void *q = malloc(n);

		if (q == p)
			return k;
		free(q);
	}
	return 0;
}

static void test_quarantine_fifo(void)
{
	void *p;
	int k;

	if (!quarantine_testable())
		return;
	p = malloc(64);
	KT_REQUIRE(p, "malloc(64)");
	free(p);
	/* The 1024th free after it evicts it; the next malloc pops it. */
	k = pairs_until(p, 64, 4 * QUARANTINE);
	KT_CHECK(k == QUARANTINE + 1, "the freed block came back after %d pairs, not %d", k,
		 QUARANTINE + 1);
}

static void write_after_free(void *trim)
{
	unsigned char *p = malloc(64);

	pin_here();
	free(p);
	p[32] ^= 0x5a;
	if (trim)
		malloc_trim(0);
	else
		pairs_until(NULL, 64, 2 * QUARANTINE);
}

static void test_quarantine_reports(void)
{
	if (!quarantine_testable())
		return;
	kt_expect_death("leaving the ring", write_after_free, NULL,
			"byte +32 is 0x5a, not 0 (found when it left the quarantine)");
	kt_expect_death("drained by malloc_trim", write_after_free, "trim",
			"byte +32 is 0x5a, not 0 (found when it left the quarantine)");
}

#define DESTROYERS 4
#define DESTROY_OBJS 400

static volatile int destroy_stop;

/*
 * Each thread makes a cache, fills and frees it three times, then destroys
 * it, over and over.  Its frees go on the CPU's ring, shared with the other
 * threads, whose frees push them out and give them back: a destroy that
 * counted those in flight as allocated aborted a correct program (in about
 * 0.1 s with four threads).  Return: how many caches it destroyed.
 */
static void *destroyer(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	uintptr_t destroyed = 0;
	cpu_set_t all;

	/* Unbound (the FIFO test bound the main thread): frees on both CPUs. */
	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	sched_setaffinity(0, sizeof(all), &all);
	while (!destroy_stop) {
		size_t size = 16 + (rand_r(&seed) % 64) * 16;
		struct kmm_cache *c = kmm_cache_create("destroy_race", size, 0, 0, NULL);
		uint64_t *obj[DESTROY_OBJS];

		KT_REQUIRE(c, "kmm_cache_create(%zu) failed", size);
		for (int round = 0; round < 3; round++) {
			for (int i = 0; i < DESTROY_OBJS; i++) {
				obj[i] = kmm_cache_alloc(c, 0);
				KT_REQUIRE(obj[i], "kmm_cache_alloc failed");
				KT_CHECK(*obj[i] != 0xabcdef, "object %p handed out twice",
					 (void *)obj[i]);
				*obj[i] = 0xabcdef;
				if (rand_r(&seed) % 8 == 0)
					sched_yield(); /* the others' frees in between */
			}
			for (int i = 0; i < DESTROY_OBJS; i++) {
				*obj[i] = 0;
				kmm_cache_free(c, obj[i]);
			}
		}
		kmm_cache_destroy(c);
		destroyed++;
	}
	return (void *)destroyed;
}

static void test_destroy_while_others_free(void)
{
	pthread_t t[DESTROYERS];
	uintptr_t total = 0;

	destroy_stop = 0;
	for (int i = 0; i < DESTROYERS; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, destroyer, (void *)(uintptr_t)(i + 7)),
			   "pthread_create");
	nanosleep(&(struct timespec){ 1, 0 }, NULL);
	destroy_stop = 1;
	for (int i = 0; i < DESTROYERS; i++) {
		void *n;

		pthread_join(t[i], &n);
		total += (uintptr_t)n;
	}
	KT_CHECK(total >= DESTROYERS, "%lu caches destroyed in 1 s", (unsigned long)total);
}

KT_MAIN(KT_TEST(test_every_class), KT_TEST(test_quarantine_fifo), KT_TEST(test_quarantine_reports),
	KT_TEST(test_destroy_while_others_free))
