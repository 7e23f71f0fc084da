// SPDX-License-Identifier: MIT
/*
 * background_test.c - RSS comes back (run with KMM_BACKGROUND=1 and
 * KMM_DECAY_MS=100): a program that allocates 1 GiB in small and large
 * blocks, frees it all and then only waits past the decay delay, calling
 * nothing of libkmm, ends within 64 MiB of the RSS it started with; and so
 * does a fork()ed child, whose thread libkmm starts again.  A program busy
 * with small blocks gets its freed areas back after KMM_DECAY_MS too.
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kt_kmm.h"

#define MiB (1UL << 20)

static void test_rss_comes_back(void)
{
	size_t scale = kt_under_valgrind() ? 8 : 1;
	size_t nsmall = (512 * MiB / 256) / scale, nlarge = 64 / scale, nhuge = 16 / scale;
	void **small = malloc(nsmall * sizeof(void *));
	void *large[64], *huge[16];
	long start, peak, end;

	KT_REQUIRE(small, "malloc");
	kmm_kfree(kmm_kmalloc(1, KMM_GFP_KERNEL)); /* libkmm up before the baseline */
	start = kt_rss_kb();
	for (size_t i = 0; i < nsmall; i++) {
		small[i] = kmm_kmalloc(256, KMM_GFP_KERNEL);
		KT_REQUIRE(small[i], "small allocation %zu failed", i);
		memset(small[i], 1, 256);
	}
	for (size_t i = 0; i < nlarge; i++) {
		large[i] = kmm_kmalloc(4 * MiB, KMM_GFP_KERNEL);
		KT_REQUIRE(large[i], "4 MiB allocation failed");
		memset(large[i], 2, 4 * MiB);
	}
	for (size_t i = 0; i < nhuge; i++) {
		huge[i] = kmm_vmalloc(16 * MiB);
		KT_REQUIRE(huge[i], "16 MiB vmalloc failed");
		memset(huge[i], 3, 16 * MiB);
	}
	peak = kt_rss_kb();
	for (size_t i = 0; i < nsmall; i++)
		kmm_kfree(small[i]);
	for (size_t i = 0; i < nlarge; i++)
		kmm_kfree(large[i]);
	for (size_t i = 0; i < nhuge; i++)
		kmm_vfree(huge[i]);
	free(small);
	/* Wait, calling nothing of libkmm: only the background thread can act. */
	usleep(800 * 1000);
	end = kt_rss_kb();
	printf("RSS: start %ld MiB, peak %ld MiB, after the delay %ld MiB\n", start / 1024,
	       peak / 1024, end / 1024);
	KT_CHECK(peak - start > (long)(900 * 1024 / scale), "the allocations did not show in RSS");
#ifndef KT_ASAN
	/* (ASan's and valgrind's shadow memory of what was touched stays with them.) */
	if (!kt_under_valgrind())
		KT_CHECK(end - start < 64 * 1024, "RSS %ld MiB above its start after the delay",
			 (end - start) / 1024);
#endif
	KT_CHECK(kt_vmstat("vmalloc_cached") == 0, "freed vmalloc areas were not released");
}

/*
 * The child of a fork() has no threads but the one that forked: libkmm
 * starts its background thread again on the child's first allocation.
 */
static void test_after_fork(void)
{
	size_t n = kt_under_valgrind() ? 8 : 64;
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	KT_REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		void *big[64];
		long start, peak, end;

		kmm_kfree(kmm_kmalloc(1, KMM_GFP_KERNEL));
		start = kt_rss_kb();
		for (size_t i = 0; i < n; i++) {
			big[i] = kmm_kmalloc(4 * MiB, KMM_GFP_KERNEL);
			if (!big[i])
				_exit(3);
			memset(big[i], 4, 4 * MiB);
		}
		peak = kt_rss_kb();
		for (size_t i = 0; i < n; i++)
			kmm_kfree(big[i]);
		usleep(800 * 1000);
		end = kt_rss_kb();
		printf("child RSS: start %ld MiB, peak %ld MiB, after the delay %ld MiB\n",
		       start / 1024, peak / 1024, end / 1024);
		fflush(stdout);
		if (peak - start < (long)(n * 3 * 1024))
			_exit(4);
#ifndef KT_ASAN
		if (!kt_under_valgrind() && end - start >= 64 * 1024)
			_exit(5);
#endif
		_exit(0);
	}
	waitpid(pid, &status, 0);
	KT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "child: status %#x (3: out of memory, 4: no RSS growth, 5: RSS not back)", status);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * A program at work on small blocks makes no request that would decay the
 * area cache, and the thread does not find it idle (the slabs' traffic):
 * its rounds release the areas no request took for KMM_DECAY_MS all the
 * same.  The batches of 1024 overflow the per-CPU stacks, so each round
 * sees traffic.
 */
static void test_busy_program_decays_areas(void)
{
	unsigned long decayed;
	void *objs[1024];
	long t0;

	/* Large blocks seen reused: the cache keeps a freed area whatever the footprint. */
	for (int i = 0; i < 2; i++)
		kmm_vfree(kmm_vmalloc(8 * MiB));
	kmm_vfree(kmm_vmalloc(32 * MiB));
	KT_REQUIRE(kt_vmstat("vmalloc_cached") >= 1, "the freed 32 MiB area is not cached");
	decayed = kt_vmstat("vmalloc_decayed");
	t0 = now_ms();
	while (now_ms() - t0 < 3000 && kt_vmstat("vmalloc_cached")) {
		for (int i = 0; i < 1024; i++) {
			objs[i] = kmm_kmalloc(256, KMM_GFP_KERNEL);
			KT_REQUIRE(objs[i], "kmalloc failed");
		}
		for (int i = 0; i < 1024; i++)
			kmm_kfree(objs[i]);
	}
	printf("areas cached after %ld ms of small blocks: %lu (decayed %lu)\n", now_ms() - t0,
	       kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_decayed") - decayed);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 0 && kt_vmstat("vmalloc_decayed") > decayed,
		 "after %ld ms at work: %lu areas cached, %lu decayed", now_ms() - t0,
		 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_decayed") - decayed);
}

KT_MAIN({ "rss_comes_back", test_rss_comes_back }, { "after_fork", test_after_fork },
	{ "busy_program_decays_areas", test_busy_program_decays_areas })
