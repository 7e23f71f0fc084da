// SPDX-License-Identifier: MIT
/*
 * misuse_test.c - invalid frees that pass a boundary check, through the
 * malloc API (linked with libkmm.so): a free in a slab's tail slack at an
 * object-sized offset, and a free of a slot that was never handed out.  Both
 * would put memory on a free list that overlaps other memory; both must be
 * diagnosed with the pointer and the cache, then abort.  And the page run
 * held back after its free, and a C++ sized delete of a page run.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KT_SETUP kt_skip_under_asan()
#include "../ktest.h"

#define PAGE 4096

static void free_ptr(void *p)
{
	free(p);
}

/* Expect free(@p) to die with "invalid free of <p> (slab object, cache @cache): @why". */
static void expect_bad_free(const char *what, void *p, const char *cache, const char *why)
{
	char needle[160];

	snprintf(needle, sizeof(needle), "invalid free of %p (slab object, cache %s): %s", p, cache,
		 why);
	kt_expect_death(what, free_ptr, p, needle);
}

/*
 * kmalloc-48's slab is one page (85 objects, <= 1/16 wasted, for any CPU
 * count): its last 16 bytes, at 4080 = 85 * 48, are slack on an object
 * boundary.
 */
static void test_free_in_slack(void)
{
	char *p = malloc(48);

	KT_REQUIRE(p && malloc_usable_size(p) == 48, "malloc(48) is not in kmalloc-48");
	expect_bad_free("free in kmalloc-48's tail slack",
			(char *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1)) + 4080, "kmalloc-48",
			"in the slab's tail slack, past its last object");
	free(p);
}

/*
 * kmalloc-2560 is used by nothing else here: the first allocation is the
 * first object of a new slab, and the next slot was never handed out.
 */
static void test_free_never_allocated(void)
{
	char *p = malloc(2560);

	KT_REQUIRE(p && malloc_usable_size(p) == 2560, "malloc(2560) is not in kmalloc-2560");
	expect_bad_free("free of a slot never allocated", p + 2560, "kmalloc-2560",
			"double free (or never allocated)");
	free(p);
}

/*
 * A new slab writes the free marks of its first page's objects only; its
 * other pages are no object's until a refill reaches them.  kmalloc-2560's
 * slab is 16 KiB (6 objects) and its first refill takes two objects, both
 * in its first page: a free of its last object, in its fourth page, is of
 * an object never handed out, and must be refused as such (its mark is not
 * there to catch it).
 */
static void test_free_in_fresh_page(void)
{
	char *p;

	if (kt_under_valgrind())
		return; /* memcheck reports the free of no block it knows first */
	p = malloc(2560);
	KT_REQUIRE(p && malloc_usable_size(p) == 2560, "malloc(2560) is not in kmalloc-2560");
	kt_expect_death("free of an object in a page of its slab not used yet", free_ptr,
			(char *)((uintptr_t)p & ~(uintptr_t)(16 * 1024 - 1)) + 5 * 2560,
			"(slab page, cache kmalloc-2560): never allocated (no object of this page "
			"was handed out yet)");
	free(p);
}

/*
 * The page run freed last (256 KiB at most) is held back (kmalloc.c): the
 * next allocation of its size gets another block, a write to its first word
 * is reported when it leaves (the next run's free), and malloc_trim() gives
 * it back.  Off under memcheck.
 */
#define RUN (256u << 10)

static void write_to_held_run(void *arg)
{
	volatile char *p = arg;

	free((void *)p);
	p[0] ^= 0x5a; /* always a change: a fixed byte is the mark's own 1 time in 256 */
	free(malloc(RUN));
}

static void test_held_run(void)
{
	char *p = malloc(RUN), *q, needle[128];
	size_t held, trimmed;

	if (kt_under_valgrind())
		return;
	KT_REQUIRE(p, "malloc(256 KiB)");
	memset(p, 'A', RUN);
	free(p);
	q = malloc(RUN);
	KT_CHECK(q && q != p, "the run just freed (%p) was handed straight back", (void *)p);
	free(q); /* p leaves, intact; q is held */
	held = mallinfo2().uordblks;
	KT_CHECK(malloc_trim(0) == 1, "malloc_trim");
	trimmed = mallinfo2().uordblks;
	KT_CHECK(trimmed + RUN <= held, "malloc_trim gave back %zu bytes, not the held run's %u",
		 held - trimmed, RUN);

	p = malloc(RUN);
	KT_REQUIRE(p, "malloc(256 KiB)");
	snprintf(needle, sizeof(needle),
		 "write after free to %p (page run of 64 pages, freed and held back)", (void *)p);
	kt_expect_death("a write to the held run's first word", write_to_held_run, p, needle);
	free(p);
}

/* C++'s operator new(size_t) and sized delete, as libkmm.so exports them. */
void *_Znwm(size_t size);
void _ZdlPvm(void *p, size_t size);

static void sized_delete_150k(void *p)
{
	_ZdlPvm(p, 150 * 1024);
}

/*
 * A run of 200 KiB is its whole 256 KiB block, but a sized delete must name
 * the 50 pages asked for: 150 KiB (38 pages) is caught, though its run would
 * be the same block.
 */
static void test_run_sized_delete(void)
{
	void *p = _Znwm(200 * 1024);
	char needle[160];

	if (kt_under_valgrind())
		return;
	snprintf(needle, sizeof(needle),
		 "mismatched sized delete of %p (page run of 64 pages, 50 asked for", p);
	kt_expect_death("a sized delete of 150 KiB of a 200 KiB block", sized_delete_150k, p,
			needle);
	_ZdlPvm(p, 200 * 1024 - 100); /* the same pages: accepted */
}

KT_MAIN(KT_TEST(test_free_in_slack), KT_TEST(test_free_never_allocated),
	KT_TEST(test_free_in_fresh_page), KT_TEST(test_held_run), KT_TEST(test_run_sized_delete))
