// SPDX-License-Identifier: MIT
/*
 * idle_test.c - memory comes back while the program is idle, in the default
 * configuration (no KMM_* variable): two threads allocate 1 GiB, mostly
 * small objects, and free it all; the program then only sleeps, calling
 * nothing of libkmm, and within 2 s its RSS is back within 64 MiB of where
 * it started.  The background thread that does it starts only once the heap
 * passed 64 MiB: before that the program has no thread of libkmm's.  Then
 * the model half: objects still in use while the thread gives memory back
 * keep their contents.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kt_kmm.h"

#define MiB (1UL << 20)
#define NR_THREADS 2
#define SMALL_BYTES (768 * MiB) /* in objects of 32-256 bytes */
#define LARGE_BYTES (256 * MiB) /* in 1 MiB page runs and 8 MiB vmalloc areas */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t obj_size(size_t i)
{
	return 32 + (i % 8) * 32; /* 32..256, 144 on average */
}

struct part {
	void **objs;
	size_t nr;
	unsigned char tag;
};

static void *fill(void *arg)
{
	struct part *p = arg;

	for (size_t i = 0; i < p->nr; i++) {
		p->objs[i] = malloc(obj_size(i));
		if (!p->objs[i])
			return NULL;
		memset(p->objs[i], p->tag, obj_size(i));
	}
	return p;
}

/* Each thread frees the other's objects: remote frees, as a real program's. */
static void *drop(void *arg)
{
	struct part *p = arg;

	for (size_t i = 0; i < p->nr; i++)
		free(p->objs[i]);
	return NULL;
}

static void run_threads(void *(*fn)(void *), struct part *parts, int swap)
{
	pthread_t t[NR_THREADS];
	void *ret;

	for (int i = 0; i < NR_THREADS; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, fn, &parts[swap ? NR_THREADS - 1 - i : i]),
			   "pthread_create");
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_join(t[i], &ret);
		KT_REQUIRE(fn != fill || ret, "out of memory");
	}
}

/* RSS within @slack_kb of @base_kb, polled for up to @limit_ms.  Return: ms it took, or -1. */
static long wait_rss(long base_kb, long slack_kb, uint64_t limit_ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		uint64_t t = now_ms() - t0;

		if (kt_rss_kb() - base_kb < slack_kb)
			return (long)t;
		if (t > limit_ms)
			return -1;
		usleep(20 * 1000);
	}
}

static void test_idle_return(void)
{
	size_t per_thread = SMALL_BYTES / 144 / NR_THREADS;
	struct part parts[NR_THREADS];
	void *large[LARGE_BYTES / MiB];
	size_t nlarge = 0;
	long start, peak, took;

	free(malloc(1)); /* libkmm up before the baseline */
	start = kt_rss_kb();
	KT_CHECK(kt_vmstat("kswapd_running") == 0, "a small program has libkmm's thread");
	for (int i = 0; i < NR_THREADS; i++) {
		parts[i].objs = malloc(per_thread * sizeof(void *));
		KT_REQUIRE(parts[i].objs, "malloc");
		parts[i].nr = per_thread;
		parts[i].tag = (unsigned char)(0x11 * (i + 1));
	}
	run_threads(fill, parts, 0);
	for (size_t b = 0; b < LARGE_BYTES / 2; b += MiB)
		large[nlarge++] = malloc(MiB);
	for (size_t b = 0; b < LARGE_BYTES / 2; b += 8 * MiB)
		large[nlarge++] = malloc(8 * MiB);
	for (size_t i = 0; i < nlarge; i++) {
		KT_REQUIRE(large[i], "large allocation %zu failed", i);
		memset(large[i], 5, MiB);
	}
	peak = kt_rss_kb();
	KT_CHECK(kt_vmstat("kswapd_running") == 1, "no thread past 16 MiB");
	run_threads(drop, parts, 1);
	for (size_t i = 0; i < nlarge; i++)
		free(large[i]);
	for (int i = 0; i < NR_THREADS; i++)
		free(parts[i].objs);
	/* From here on the program calls nothing of libkmm until the RSS is back. */
	took = wait_rss(start, 64 * 1024, 2000);
	printf("RSS: start %ld MiB, peak %ld MiB; back within 64 MiB after %ld ms (now %ld MiB)\n",
	       start / 1024, peak / 1024, took, kt_rss_kb() / 1024);
	KT_CHECK(peak - start > (long)(800 * 1024), "the allocations did not show in RSS");
	KT_CHECK(took >= 0, "RSS %ld MiB above its start 2 s after the frees",
		 (kt_rss_kb() - start) / 1024);
}

/*
 * Objects in use while the thread gives back the slabs, stocks and blocks
 * around them keep their contents: every 16th of 16 MiB of objects stays,
 * the rest is freed, and after an idle round (counted in vmstat) each one
 * kept still holds its pattern and can be freed.
 */
static void test_live_objects_kept(void)
{
	size_t n = 16 * MiB / 144, kept = 0;
	void **objs = malloc(n * sizeof(void *));
	unsigned long rounds;
	uint64_t t0;
	int bad = 0;

	KT_REQUIRE(objs, "malloc");
	for (size_t i = 0; i < n; i++) {
		objs[i] = malloc(obj_size(i));
		KT_REQUIRE(objs[i], "malloc");
		memset(objs[i], (int)(i & 0xff) | 1, obj_size(i));
	}
	for (size_t i = 0; i < n; i++)
		if (i % 16) {
			free(objs[i]);
			objs[i] = NULL;
		}
	rounds = kt_vmstat("kswapd_rounds");
	t0 = now_ms();
	while (kt_vmstat("kswapd_rounds") == rounds && now_ms() - t0 < 2500)
		usleep(50 * 1000);
	KT_CHECK(kt_vmstat("kswapd_rounds") > rounds, "no idle round within 2.5 s");
	for (size_t i = 0; i < n; i += 16) {
		const unsigned char *p = objs[i];

		for (size_t j = 0; j < obj_size(i); j++)
			bad += p[j] != ((i & 0xff) | 1);
		free(objs[i]);
		kept++;
	}
	free(objs);
	KT_CHECK(bad == 0, "%d bytes of %zu objects in use changed across an idle round", bad,
		 kept);
}

static void *exit_main(void *arg)
{
	(void)arg;
	pthread_exit(NULL);
}

/*
 * The thread never keeps a process alive: a child whose main thread calls
 * pthread_exit() once the thread runs exits with status 0 (the background
 * thread blocks every signal, so nothing else would end it).
 */
static void test_pthread_exit(void)
{
	int status = -1;
	uint64_t t0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	KT_REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		for (int i = 0; i < 80; i++)
			memset(malloc(MiB), 1, MiB);
		free(malloc(64));
		if (kt_vmstat("kswapd_running") != 1)
			_exit(3);
		exit_main(NULL);
	}
	t0 = now_ms();
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() - t0 < 5000)
		usleep(20 * 1000);
	if (now_ms() - t0 >= 5000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	KT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "child: status %#x (3: no thread; killed: still alive 5 s after pthread_exit)",
		 status);
}

int main(void)
{
	/* The fork first, while this process is small: its child starts a thread of its own. */
	static const struct kt_test tests[] = { KT_TEST(test_pthread_exit),
						KT_TEST(test_idle_return),
						KT_TEST(test_live_objects_kept) };

	kt_skip_under_asan();
	if (kt_under_valgrind()) {
		printf("skipped: 1 GiB under valgrind adds nothing the unit tests do not cover\n");
		return 77;
	}
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]));
}
