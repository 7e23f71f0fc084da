// SPDX-License-Identifier: MIT
/*
 * vmalloc_fail.c - refused system calls on vmalloc's internal paths (the
 * kernel's fail_page_alloc, here os.h's fault injection, debug builds): a
 * move refused halfway through a realloc, its move back refused too, a fill
 * that finds no mapping, a cached area that cannot give its pieces.  Every
 * case returns NULL (ENOMEM at the API) with the caller's block intact and
 * freeable, nothing is lost or counted twice (the zone's pages in use come
 * back to where they were), and once the calls work again stitching does too.
 */
#define KT_SETUP fail_setup()

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kt_kmm.h"
#include "numa/os.h"
#include "vmalloc/vmalloc.h"

#define MiB (1UL << 20)
#define ORDER_2M 9 /* stitching moves whole 2 MiB units only */
#define NR_BLOCKS 64

static struct kmm_page *blocks[NR_BLOCKS];

static bool can_stitch; /* at start: false where pages cannot move (valgrind) */

static bool stitching(void)
{
	return kt_vmstat("vmalloc_stitching") == 1;
}

static void faults(long move_skip, long move_times, long map_times)
{
	os_fail_move.skip = move_skip;
	os_fail_move.times = move_times;
	os_fail_map.skip = 0;
	os_fail_map.times = map_times;
}

static void fill(char *p, size_t size, unsigned int seed)
{
	for (size_t i = 0; i < size; i += 4096)
		memcpy(p + i, &(unsigned long){ seed * 7919UL + i }, sizeof(unsigned long));
}

static bool intact(const char *p, size_t size, unsigned int seed)
{
	for (size_t i = 0; i < size; i += 4096) {
		unsigned long v;

		memcpy(&v, p + i, sizeof(v));
		if (v != seed * 7919UL + i)
			return false;
	}
	return true;
}

/*
 * An 8 MiB area of scattered runs and a neighbour: growing it to 48 MiB, more
 * than the chunk of address space an 8 MiB area is placed in, must move it,
 * stretch by stretch.
 */
#define GROWN (48 * MiB)
static char *area_that_must_move(char **blocker)
{
	char *p;

	kmm_reclaim();
	p = kmm_vmalloc(8 * MiB);
	*blocker = kmm_vmalloc(8 * MiB);
	if (!p || !*blocker)
		return NULL;
	fill(p, 8 * MiB, 1);
	return p;
}

static void check_no_leak(unsigned long in_use, const char *what)
{
	unsigned long now;

	KT_CHECK(stitching() == can_stitch, "%s: a refused move switched stitching off", what);
	kmm_reclaim();
	now = kt_normal_in_use();
	KT_CHECK(now == in_use, "%s: %lu pages in use before, %lu after", what, in_use, now);
}

static void test_grow_move_refused(void)
{
	unsigned long in_use, failed = kt_vmstat("vmalloc_move_failed");
	unsigned long moved = kt_vmstat("vrealloc_moved");
	char *p, *blocker, *q;

	if (!can_stitch) {
		printf("pages cannot move here (valgrind): nothing to refuse\n");
		return;
	}
	kmm_reclaim();
	in_use = kt_normal_in_use();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	p = area_that_must_move(&blocker);
	KT_REQUIRE(p, "vmalloc");
	/* The first stretch moves, the second is refused; the move back works. */
	faults(1, 1, 0);
	q = __vrealloc(p, GROWN, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_CHECK(!q, "realloc succeeded through a refused move");
	KT_CHECK(kt_vmstat("vmalloc_move_failed") > failed, "no move was refused");
	KT_CHECK(intact(p, 8 * MiB, 1), "the block changed after a refused move");
	KT_CHECK(kmm_ksize(p) == 8 * MiB, "the block is %zu bytes now", kmm_ksize(p));
	/* Nothing latched: the same realloc works now, moved with its pages. */
	q = __vrealloc(p, GROWN, KMM_GFP_KERNEL);
	KT_REQUIRE(q, "realloc after the refusal");
	KT_CHECK(kt_vmstat("vrealloc_moved") > moved, "the realloc did not move");
	KT_CHECK(intact(q, 8 * MiB, 1), "contents lost in the move");
	kmm_vfree(q);
	kmm_vfree(blocker);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
	check_no_leak(in_use, "refused move");
}

static void test_grow_move_back_refused(void)
{
	unsigned long in_use, copied = kt_vmstat("vmalloc_copied_back");
	char *p, *blocker, *q;

	if (!can_stitch)
		return;
	kmm_reclaim();
	in_use = kt_normal_in_use();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	p = area_that_must_move(&blocker);
	KT_REQUIRE(p, "vmalloc");
	/* The first stretch moves; every move after it, the move back included, is refused. */
	faults(1, -1, -1);
	q = __vrealloc(p, GROWN, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_CHECK(!q, "realloc succeeded through a refused move");
	KT_CHECK(kt_vmstat("vmalloc_copied_back") > copied, "the refused move back was not copied");
	KT_CHECK(intact(p, 8 * MiB, 1), "the block changed after a refused move back");
	q = kmm_vrealloc(p, GROWN);
	KT_REQUIRE(q, "realloc after the refusal");
	KT_CHECK(intact(q, 8 * MiB, 1), "contents lost");
	kmm_vfree(q);
	kmm_vfree(blocker);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
	check_no_leak(in_use, "refused move back");
}

/* The pages move to the new range, but nothing can fill the rest: all of it goes back. */
static void test_grow_fill_refused(void)
{
	unsigned long in_use;
	char *p, *blocker, *q;

	kmm_reclaim();
	in_use = kt_normal_in_use();
	/* One fresh piece each: the move to the new range is one call. */
	faults(0, -1, 0);
	p = area_that_must_move(&blocker);
	faults(0, 0, 0);
	KT_REQUIRE(p, "vmalloc");
	/* The pages move over; stitching the rest is refused once, a fresh mapping always. */
	faults(1, 1, -1);
	q = __vrealloc(p, GROWN, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_REQUIRE(!q, "realloc succeeded with every fresh mapping refused");
	KT_CHECK(intact(p, 8 * MiB, 1), "the block changed after a refused fill");
	KT_CHECK(kmm_ksize(p) == 8 * MiB, "the block is %zu bytes now", kmm_ksize(p));
	/* And every move after the first, the move back included: krealloc's copy fails too. */
	faults(1, -1, -1);
	q = kmm_krealloc(p, GROWN, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_REQUIRE(!q && errno == ENOMEM, "krealloc under refused mappings: %p", (void *)q);
	KT_CHECK(intact(p, 8 * MiB, 1), "the block changed after a refused move back");
	KT_CHECK(kmm_ksize(p) == 8 * MiB, "the block is %zu bytes now", kmm_ksize(p));
	q = kmm_krealloc(p, GROWN, KMM_GFP_KERNEL);
	KT_REQUIRE(q, "krealloc after the refusal");
	KT_CHECK(intact(q, 8 * MiB, 1), "contents lost");
	kmm_kfree(q);
	kmm_vfree(blocker);
	check_no_leak(in_use, "refused fill");
}

/* A page run outgrowing the buddy moves into an area; a refused fill moves it back. */
static void test_run_to_area_refused(void)
{
	unsigned long in_use;
	char *p, *q;

	if (!can_stitch)
		return;
	kmm_reclaim();
	in_use = kt_normal_in_use();
	p = kmm_kmalloc(3 * MiB, KMM_GFP_KERNEL);
	KT_REQUIRE(p && !kmm_is_vmalloc_addr(p), "a 3 MiB kmalloc");
	fill(p, 3 * MiB, 2);
	/* The run moves in, stitching is refused once, fresh mappings always: moved back. */
	faults(1, 1, -1);
	q = vmalloc_from_run(kmm_virt_to_page(p), 9 * MiB, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_REQUIRE(!q, "the run grew with every fresh mapping refused");
	KT_CHECK(intact(p, 3 * MiB, 2), "the run changed after a refused fill");
	KT_CHECK(kmm_ksize(p) == 3 * MiB, "the run is %zu bytes now", kmm_ksize(p));
	/* Every move after the first refused, the move back included: copied back. */
	faults(1, -1, -1);
	q = kmm_krealloc(p, 9 * MiB, KMM_GFP_KERNEL);
	faults(0, 0, 0);
	KT_REQUIRE(!q && errno == ENOMEM, "krealloc under refused mappings: %p", (void *)q);
	KT_CHECK(intact(p, 3 * MiB, 2), "the run changed after a refused move back");
	KT_CHECK(kmm_ksize(p) == 3 * MiB, "the run is %zu bytes now", kmm_ksize(p));
	q = kmm_krealloc(p, 9 * MiB, KMM_GFP_KERNEL);
	KT_REQUIRE(q && kmm_is_vmalloc_addr(q), "krealloc after the refusal");
	KT_CHECK(intact(q, 3 * MiB, 2), "contents lost");
	kmm_kfree(q);
	check_no_leak(in_use, "refused run move");
}

/*
 * Show the vmalloc cache a large block reused (a free, then a request the
 * freed area would have served), so that it keeps freed areas whatever the
 * footprint (it does so until it decays), and leave it empty.
 */
static void cache_reusing(void)
{
	for (int i = 0; i < 2; i++)
		kmm_vfree(kmm_vmalloc(8 * MiB));
	kmm_reclaim();
}

/*
 * A freed area in the cache gives its pieces to the next request; a refused
 * move halfway through puts them back.  With every call refused, large
 * allocations fail cleanly; once the calls work, they stitch again.
 */
static void test_cache_donor_refused(void)
{
	unsigned long in_use, stitched, failed = kt_vmstat("vmalloc_move_failed");
	char *p, *q;

	if (!can_stitch)
		return;
	cache_reusing();
	in_use = kt_normal_in_use();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	p = kmm_vmalloc(16 * MiB);
	KT_REQUIRE(p, "vmalloc");
	memset(p, 0x5a, 16 * MiB);
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1, "the freed area is not cached");
	faults(1, 1, 0);
	q = kmm_vmalloc(40 * MiB);
	faults(0, 0, 0);
	KT_REQUIRE(q, "vmalloc after one refused move");
	KT_CHECK(kt_vmstat("vmalloc_move_failed") > failed, "no move was refused");
	memset(q, 1, 40 * MiB);
	kmm_vfree(q);
	kmm_reclaim();

	p = kmm_vmalloc(16 * MiB);
	KT_REQUIRE(p, "vmalloc");
	kmm_vfree(p);
	faults(1, -1, -1);
	errno = 0;
	q = kmm_vmalloc(40 * MiB);
	KT_CHECK(!q && errno == ENOMEM, "vmalloc with every call refused: %p", (void *)q);
	errno = 0;
	q = kmm_kmalloc(64 * MiB, KMM_GFP_KERNEL);
	KT_CHECK(!q && errno == ENOMEM, "kmalloc with every call refused: %p", (void *)q);
	faults(0, 0, 0);
	KT_CHECK(stitching(), "a refused move switched stitching off");
	stitched = kt_vmstat("vmalloc_stitched");
	kmm_reclaim();
	/* Less than the scattered blocks hold: they are stitched. */
	q = kmm_vmalloc(16 * MiB);
	KT_REQUIRE(q, "vmalloc once the calls work again");
	KT_CHECK(kt_vmstat("vmalloc_stitched") > stitched, "nothing stitched after the pressure");
	kmm_vfree(q);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
	check_no_leak(in_use, "refused cache donor");
}

/*
 * Random large allocations, reallocs and frees, each under a random set of
 * refused calls: every failure is NULL with ENOMEM and the old block intact,
 * every success holds what it should, and nothing leaks.
 */
static void test_random_faults(void)
{
	enum { SLOTS = 12, STEPS = 300 };
	static struct {
		char *p;
		size_t size;
		unsigned int seed;
	} slot[SLOTS];
	unsigned long in_use, failures = 0;

	kmm_reclaim();
	in_use = kt_normal_in_use();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	for (unsigned int step = 0; step < STEPS; step++) {
		unsigned int i = (unsigned int)(kt_rand() % SLOTS);
		size_t size = (4 + kt_rand() % 21) * MiB + (kt_rand() % 16) * 4096;
		char *q;

		if (slot[i].p && kt_rand() % 3 == 0) {
			kmm_kfree(slot[i].p);
			slot[i].p = NULL;
			continue;
		}
		faults((long)(kt_rand() % 4), kt_rand() % 3 ? (long)(kt_rand() % 3) : -1,
		       kt_rand() % 4 ? 0 : -1);
		errno = 0;
		q = slot[i].p ? kmm_krealloc(slot[i].p, size, KMM_GFP_KERNEL)
			      : kmm_kmalloc(size, KMM_GFP_KERNEL);
		faults(0, 0, 0);
		if (!q) {
			failures++;
			KT_CHECK(errno == ENOMEM, "step %u: NULL with errno %d", step, errno);
			KT_CHECK(!slot[i].p || intact(slot[i].p, slot[i].size, slot[i].seed),
				 "step %u: a failed realloc changed the block", step);
			continue;
		}
		KT_CHECK(!slot[i].p || intact(q, MIN(slot[i].size, size) & ~4095UL, slot[i].seed),
			 "step %u: realloc lost the contents", step);
		slot[i].p = q;
		slot[i].size = size;
		slot[i].seed = step + 1;
		fill(q, size, slot[i].seed);
	}
	for (int i = 0; i < SLOTS; i++) {
		if (!slot[i].p)
			continue;
		KT_CHECK(intact(slot[i].p, slot[i].size, slot[i].seed), "slot %d changed", i);
		kmm_kfree(slot[i].p);
		slot[i].p = NULL;
	}
	printf("%lu of the requests failed under refused calls\n", failures);
	KT_CHECK(failures > 0, "no request failed: the faults did not reach vmalloc");
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
	check_no_leak(in_use, "random faults");
}

static size_t max_map_count(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = '\0';
		close(fd);
	}
	return buf[0] ? strtoul(buf, NULL, 10) : 65530;
}

/*
 * Real pressure: the process's mappings at vm.max_map_count, made of many
 * one-page mappings of alternating protection.  Return: the region, its
 * size in *@size (NULL if the limit could not be reached).
 */
static char *exhaust_map_count(size_t *size)
{
	size_t pages = 2 * max_map_count() + 64;
	char *p;

	*size = pages * 4096;
	p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < pages; i += 2)
		if (mprotect(p + i * 4096, 4096, PROT_NONE))
			return errno == ENOMEM ? p : NULL;
	munmap(p, *size);
	return NULL;
}

static void test_map_count_exhausted(void)
{
	unsigned long in_use, stitched;
	char *p, *blocker, *q, *pressure;
	size_t size;

	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload")) {
		printf("skipped under valgrind: it keeps mappings of its own\n");
		return;
	}
#if defined(__SANITIZE_ADDRESS__)
	printf("skipped under ASan: its allocator needs mappings of its own\n");
	return;
#endif
	kmm_reclaim();
	in_use = kt_normal_in_use();
	kt_scatter_free(blocks, NR_BLOCKS, ORDER_2M);
	p = area_that_must_move(&blocker);
	KT_REQUIRE(p, "vmalloc");
	pressure = exhaust_map_count(&size);
	KT_REQUIRE(pressure, "could not reach vm.max_map_count");
	errno = 0;
	q = kmm_krealloc(p, GROWN, KMM_GFP_KERNEL);
	KT_CHECK(!q && errno == ENOMEM, "krealloc with no mappings left: %p", (void *)q);
	errno = 0;
	q = kmm_vmalloc(GROWN);
	KT_CHECK(!q && errno == ENOMEM, "vmalloc with no mappings left: %p", (void *)q);
	munmap(pressure, size);
	KT_CHECK(intact(p, 8 * MiB, 1), "the block changed under pressure");
	KT_CHECK(kmm_ksize(p) == 8 * MiB, "the block is %zu bytes now", kmm_ksize(p));
	/* The pressure is gone: stitching works again. */
	stitched = kt_vmstat("vmalloc_stitched");
	q = kmm_vmalloc(16 * MiB);
	KT_REQUIRE(q, "vmalloc after the pressure");
	KT_CHECK(!can_stitch || kt_vmstat("vmalloc_stitched") > stitched,
		 "nothing stitched after the pressure");
	kmm_vfree(q);
	q = kmm_krealloc(p, GROWN, KMM_GFP_KERNEL);
	KT_REQUIRE(q, "krealloc after the pressure");
	KT_CHECK(intact(q, 8 * MiB, 1), "contents lost");
	kmm_kfree(q);
	kmm_vfree(blocker);
	kt_release_scattered(blocks, NR_BLOCKS, ORDER_2M);
	check_no_leak(in_use, "map count exhausted");
}

/* Fault injection is compiled in debug builds only. */
static void fail_setup(void)
{
	if (KMM_DEBUG == 0) {
		printf("skipped: fault injection is compiled in debug builds only\n");
		exit(77);
	}
	kmm_init();
	can_stitch = stitching();
}

KT_MAIN({ "grow_move_refused", test_grow_move_refused },
	{ "grow_move_back_refused", test_grow_move_back_refused },
	{ "grow_fill_refused", test_grow_fill_refused },
	{ "run_to_area_refused", test_run_to_area_refused },
	{ "cache_donor_refused", test_cache_donor_refused },
	{ "random_faults", test_random_faults },
	{ "map_count_exhausted", test_map_count_exhausted })
