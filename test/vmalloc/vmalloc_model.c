// SPDX-License-Identifier: MIT
/*
 * vmalloc_model.c - random vmalloc, vzalloc, vrealloc and vfree of 64 KiB to
 * 256 MiB from several threads.  Every byte written is read back after every
 * move; live areas never overlap; once all is freed the zone has every page
 * back and the process has exactly the mappings it had before.  Then fork()
 * while other threads stitch: parent and child each keep their own data.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KT_SETUP setup()
static void setup(void);

#include "../kt_kmm.h"
#include "slab/slab.h"
#include "vmalloc/vmalloc.h"

#define MiB (1UL << 20)
#define NR_THREADS 3
#define NR_SLOTS 3

static size_t max_size;
static int nr_ops;

static size_t is_zero(const void *p, size_t len)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return i * 8;
	return len;
}

/* Live ranges of all threads, to check that areas never overlap. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uintptr_t start, end;
} live[NR_THREADS * NR_SLOTS];
static int overlaps;

static void set_live(int id, void *p, size_t size)
{
	pthread_mutex_lock(&live_lock);
	live[id].start = (uintptr_t)p;
	live[id].end = (uintptr_t)p + size;
	for (int i = 0; p && i < NR_THREADS * NR_SLOTS; i++) {
		if (i != id && live[i].start && live[i].start < live[id].end &&
		    live[id].start < live[i].end) {
			overlaps++;
			fprintf(stderr, "areas overlap: %#lx-%#lx and %#lx-%#lx\n",
				(unsigned long)live[id].start, (unsigned long)live[id].end,
				(unsigned long)live[i].start, (unsigned long)live[i].end);
		}
	}
	pthread_mutex_unlock(&live_lock);
}

/* 64 KiB to max_size, uniform in the logarithm; a multiple of 8. */
static size_t rand_size(uint64_t *rng)
{
	unsigned int span = (unsigned int)__builtin_ctzl(max_size / (64 * 1024));
	size_t base = (64 * 1024UL) << (kt_rand_r(rng) % (span + 1));

	return MIN(max_size, base + (kt_rand_r(rng) % base & ~7UL));
}

struct worker {
	int id;
	uint64_t rng;
	int errors;
	unsigned long reallocs, moves;
};

static void *model_thread(void *arg)
{
	struct worker *w = arg;
	struct {
		char *p;
		size_t size;
		uint64_t seed;
	} slot[NR_SLOTS] = { 0 };

	for (int op = 0; op < nr_ops; op++) {
		int s = (int)(kt_rand_r(&w->rng) % NR_SLOTS), id = w->id * NR_SLOTS + s;
		unsigned int what = (unsigned int)(kt_rand_r(&w->rng) % 10);
		size_t size = rand_size(&w->rng), bad;

		if (!slot[s].p) {
			bool zero = what < 5;

			slot[s].p = zero ? kmm_vzalloc(size) : kmm_vmalloc(size);
			if (!slot[s].p) {
				fprintf(stderr, "vmalloc(%zu) failed\n", size);
				w->errors++;
				continue;
			}
			if (zero && (bad = is_zero(slot[s].p, size)) != size) {
				fprintf(stderr, "vzalloc(%zu): byte %zu not zero\n", size, bad);
				w->errors++;
			}
			slot[s].size = size;
			slot[s].seed = kt_rand_r(&w->rng);
			set_live(id, slot[s].p, size);
			kt_fill(slot[s].p, 0, size, slot[s].seed);
		} else if (what < 6) {
			char *q;

			/* Until it returns, the old range is this thread's; then the new one. */
			set_live(id, NULL, 0);
			q = kmm_vrealloc(slot[s].p, size);
			size_t keep = MIN(size, slot[s].size);

			if (!q) {
				fprintf(stderr, "vrealloc(%zu) failed\n", size);
				w->errors++;
				set_live(id, slot[s].p, slot[s].size);
				continue;
			}
			w->reallocs++;
			w->moves += q != slot[s].p;
			set_live(id, q, size);
			if ((bad = kt_check(q, keep, slot[s].seed)) != keep) {
				fprintf(stderr, "vrealloc %zu -> %zu (%s): byte %zu lost\n",
					slot[s].size, size, q == slot[s].p ? "in place" : "moved",
					bad);
				w->errors++;
			}
			kt_fill(q, keep, size, slot[s].seed);
			slot[s].p = q;
			slot[s].size = size;
		} else {
			if ((bad = kt_check(slot[s].p, slot[s].size, slot[s].seed)) !=
			    slot[s].size) {
				fprintf(stderr, "area of %zu: byte %zu changed\n", slot[s].size,
					bad);
				w->errors++;
			}
			set_live(id, NULL, 0);
			kmm_vfree(slot[s].p);
			slot[s].p = NULL;
		}
	}
	for (int s = 0; s < NR_SLOTS; s++) {
		if (!slot[s].p)
			continue;
		if (kt_check(slot[s].p, slot[s].size, slot[s].seed) != slot[s].size)
			w->errors++;
		set_live(w->id * NR_SLOTS + s, NULL, 0);
		kmm_vfree(slot[s].p);
	}
	return NULL;
}

static void *idle_thread(void *arg)
{
	return arg;
}

static unsigned long vmalloc_maps(void)
{
	unsigned long used, budget;

	vmalloc_map_counts(&used, &budget);
	return used;
}

/* Pages in use with the slab caches' empty slabs given back too. */
static unsigned long settled_in_use(void)
{
	kmm_reclaim();
	return kt_normal_in_use();
}

static void test_model(void)
{
	struct worker w[NR_THREADS];
	pthread_t t[NR_THREADS];
	unsigned long in_use, reallocs = 0, moves = 0;
	int maps, errors = 0;
	static char buf[4096];

	/*
	 * Warm up: the zone past its THP threshold, the metadata caches made,
	 * and glibc's cache of thread stacks (two mappings each) filled.
	 */
	kmm_vfree(kmm_vmalloc(64 * MiB));
	for (int i = 0; i < NR_THREADS; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, idle_thread, NULL), "pthread_create");
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	in_use = settled_in_use();
	kmm_reclaim();
	maps = kt_count_maps();
	for (int i = 0; i < NR_THREADS; i++) {
		w[i] = (struct worker){ .id = i, .rng = kt_rand() | 1 };
		KT_REQUIRE(!pthread_create(&t[i], NULL, model_thread, &w[i]), "pthread_create");
	}
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
		reallocs += w[i].reallocs;
		moves += w[i].moves;
	}
	printf("%d threads x %d operations up to %zu MiB: %lu reallocs, %lu moved\n", NR_THREADS,
	       nr_ops, max_size / MiB, reallocs, moves);
	KT_CHECK(errors == 0, "%d errors in the model threads (see above)", errors);
	KT_CHECK(overlaps == 0, "%d overlapping areas", overlaps);
	KT_CHECK(settled_in_use() == in_use, "pages in use %lu before, %lu after", in_use,
		 settled_in_use()); /* empties the cache of freed areas too */
	/* valgrind maps memory of its own as the program runs. */
	KT_CHECK(kt_under_valgrind() || kt_count_maps() == maps, "mappings %d before, %d after",
		 maps, kt_count_maps());
	if (kt_count_maps() != maps && getenv("KT_SHOW_MAPS")) {
		kmm_dump(2, "vmstat");
		system("grep -E '^[0-9a-f]+-|VmFlags|AnonHuge|^Rss' /proc/$PPID/smaps >&2");
	}
	KT_CHECK(vmalloc_maps() == 0, "the budget still counts %lu mappings", vmalloc_maps());
	kt_dump("vmallocinfo", buf, sizeof(buf));
	KT_CHECK(buf[0] == '\0', "areas left:\n%s", buf);
}

/* ---- fork while stitching ---- */

static volatile int stop_stitching;

static void *stitcher(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	while (!stop_stitching) {
		size_t size = 4 * MiB + (kt_rand_r(&rng) % (16 * MiB));
		char *p = kmm_vmalloc(size);

		if (!p)
			continue;
		kt_fill(p, 0, size, rng);
		p = kmm_vrealloc(p, size * 2);
		if (p && kt_check(p, size, rng) != size)
			abort();
		kmm_vfree(p);
	}
	return NULL;
}

static void test_fork_while_stitching(void)
{
	int rounds = kt_under_valgrind() ? 3 : 20, failed = 0;
	size_t size = 24 * MiB;
	pthread_t t[2];
	char *mine = kmm_vmalloc(size);

	KT_REQUIRE(mine, "vmalloc failed");
	kt_fill(mine, 0, size, 42);
	stop_stitching = 0;
	for (int i = 0; i < 2; i++)
		KT_REQUIRE(
			!pthread_create(&t[i], NULL, stitcher, (void *)(uintptr_t)(kt_rand() | 1)),
			"pthread_create");
	for (int r = 0; r < rounds; r++) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			/* The child: its copy is intact, it writes it, and it can stitch. */
			char *more;

			if (kt_check(mine, size, 42) != size)
				_exit(2);
			kt_fill(mine, 0, size, 1000 + (uint64_t)r);
			more = kmm_vmalloc(9 * MiB);
			if (!more)
				_exit(3);
			kt_fill(more, 0, 9 * MiB, 7);
			mine = kmm_vrealloc(mine, 2 * size);
			if (!mine || kt_check(mine, size, 1000 + (uint64_t)r) != size ||
			    kt_check(more, 9 * MiB, 7) != 9 * MiB)
				_exit(4);
			kmm_vfree(more);
			kmm_vfree(mine);
			_exit(0);
		}
		KT_REQUIRE(pid > 0, "fork failed");
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			failed++;
			fprintf(stderr, "child %d: %s %d\n", r,
				WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		/* The parent's copy never sees the child's writes. */
		KT_CHECK(kt_check(mine, size, 42) == size,
			 "the child's write showed in the parent");
	}
	stop_stitching = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	KT_CHECK(failed == 0, "%d of %d children failed", failed, rounds);
	kmm_vfree(mine);
}

static void setup(void)
{
	max_size = kt_under_valgrind() ? 8 * MiB : 256 * MiB;
	nr_ops = kt_under_valgrind() ? 12 : 60;
}

KT_MAIN({ "model", test_model }, { "fork_while_stitching", test_fork_while_stitching })
