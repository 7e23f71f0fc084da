// SPDX-License-Identifier: MIT
/*
 * vmalloc_large.c - large areas move memory only in whole, 2 MiB-aligned
 * units: an area maps whole units, a freed area is reused at the same
 * address with what the request does not need set aside in the cache,
 * huge pages survive reuse and moves (AnonHugePages in /proc/self/smaps,
 * where THP is enabled and the kernel gave huge pages), and a realloc that
 * outgrows its room moves its pages instead of copying them.  A request
 * that uses less than half of its last unit maps only half of it, so that
 * no huge page is faulted in for its last bytes.  Once large blocks are
 * reused, the cache keeps what is freed below the most libkmm held.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kt_kmm.h"
#include "vmalloc/vmalloc.h"

#define MiB (1UL << 20)

static bool stitching(void)
{
	return kt_vmstat("vmalloc_stitching") == 1;
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

/* Sum of a /proc/self/smaps field (kB) over the mappings that start in [@p, @p + @len). */
static long smaps_kb(const void *p, size_t len, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	size_t flen = strlen(field);
	unsigned long lo, hi;
	char line[256];
	bool in = false;
	long kb = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo >= (uintptr_t)p && lo < (uintptr_t)p + len;
		else if (in && !strncmp(line, field, flen) && line[flen] == ':')
			kb += strtol(line + flen + 1, NULL, 10);
	}
	fclose(f);
	return kb;
}

static long huge_kb(const void *p, size_t len)
{
	return smaps_kb(p, len, "AnonHugePages");
}

/* The kernel mappings that start in [@p, @p + @len). */
static int maps_in(const void *p, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && lo >= (uintptr_t)p &&
		     lo < (uintptr_t)p + len;
	fclose(f);
	return n;
}

/*
 * Can huge pages be checked here?  THP must not be "never", pages must be
 * able to move (not under valgrind), and the kernel must have given a fresh
 * area of @len bytes at @p all its huge pages (it may lack free 2 MiB pages).
 */
static bool huge_checkable(const void *p, size_t len)
{
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	if (!f || strstr(mode, "[never]")) {
		printf("THP is never here: huge pages not checked\n");
		return false;
	}
	if (!stitching()) {
		printf("pages cannot move here (valgrind): huge pages not checked\n");
		return false;
	}
	if (huge_kb(p, len) != (long)(len >> 10)) {
		printf("the kernel gave a fresh %zu MiB area %ld kB of huge pages: not checked\n",
		       len / MiB, huge_kb(p, len));
		return false;
	}
	return true;
}

/* An area of @size bytes rounds up to whole 2 MiB units (whole pages below 2 MiB). */
static void test_whole_units(void)
{
	char *p = kmm_vmalloc(5 * MiB + 1), *q = kmm_vmalloc(300 * 1024 + 1);

	KT_REQUIRE(p && q, "vmalloc failed");
	KT_CHECK(((uintptr_t)p & (2 * MiB - 1)) == 0, "a 5 MiB area at %p is not 2 MiB aligned",
		 (void *)p);
	KT_CHECK(kmm_ksize(p) == 6 * MiB, "5 MiB + 1 maps %zu bytes, not 6 MiB", kmm_ksize(p));
	KT_CHECK(kmm_ksize(q) == 300 * 1024 + 4096, "300 KiB + 1 maps %zu bytes", kmm_ksize(q));
	kmm_vfree(p);
	kmm_vfree(q);
	kmm_reclaim();
}

/*
 * A freed 20 MiB area serves a 9 MiB request at its own address, with no
 * fresh memory; the 10 MiB it does not need wait in the cache, and serve
 * the next request with their huge pages.
 */
static void test_same_address_reuse(void)
{
	unsigned long fresh, reused = kt_vmstat("vmalloc_cache_reused_kb");
	long huge_before;
	char *p, *q, *r;
	bool huge;

	cache_reusing();
	p = kmm_vmalloc(20 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 1, 20 * MiB);
	huge = huge_checkable(p, 20 * MiB);
	huge_before = huge_kb(p, 20 * MiB);
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1, "the freed area is not cached");
	fresh = kt_vmstat("vmalloc_fresh");
	q = kmm_vmalloc(9 * MiB + 5);
	KT_REQUIRE(q, "vmalloc failed");
	KT_CHECK(q == p, "a freed 20 MiB area was not reused at its address (%p, now %p)",
		 (void *)p, (void *)q);
	KT_CHECK(kmm_ksize(q) == 10 * MiB, "the reused area holds %zu bytes, not 10 MiB",
		 kmm_ksize(q));
	KT_CHECK(kt_vmstat("vmalloc_fresh") == fresh, "the reused area mapped fresh memory");
	if (stitching()) {
		KT_CHECK(q[0] == 1 && q[10 * MiB - 1] == 1, "the reused area lost its pages");
		KT_CHECK(kt_vmstat("vmalloc_cached") == 1 &&
				 kt_vmstat("vmalloc_cached_kb") == 10 * 1024,
			 "the 10 MiB not needed are not in the cache (%lu areas, %lu kB)",
			 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_cached_kb"));
	}
	if (huge)
		KT_CHECK(huge_kb(q, 10 * MiB) == 10 * 1024,
			 "the reused area has %ld kB of huge pages, not 10240",
			 huge_kb(q, 10 * MiB));
	/* The rest serves a request too large for it to be reused whole, moved in whole units. */
	r = kmm_vmalloc(30 * MiB);
	KT_REQUIRE(r, "vmalloc failed");
	if (stitching()) {
		KT_CHECK(kt_vmstat("vmalloc_cache_reused_kb") == reused + 10 * 1024,
			 "the cached 10 MiB did not move into the new area (%lu kB moved)",
			 kt_vmstat("vmalloc_cache_reused_kb") - reused);
		KT_CHECK(r[0] == 1 && r[10 * MiB - 1] == 1,
			 "the new area does not start with the cached pages");
	}
	if (huge)
		KT_CHECK(huge_kb(q, 10 * MiB) + huge_kb(r, 30 * MiB) == huge_before,
			 "huge pages lost on the way: %ld kB before, %ld + %ld kB after",
			 huge_before, huge_kb(q, 10 * MiB), huge_kb(r, 30 * MiB));
	kmm_vfree(q);
	kmm_vfree(r);
	kmm_reclaim();
}

/*
 * A request more than twice as small as a cached area takes whole units
 * from its end: an odd size must not cut a huge page of the donor or of
 * the new area.
 */
static void test_units_from_a_donor(void)
{
	char *p, *q;
	bool huge;

	cache_reusing();
	p = kmm_vmalloc(20 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 2, 20 * MiB);
	huge = huge_checkable(p, 20 * MiB);
	kmm_vfree(p);
	q = kmm_vmalloc(7 * MiB + 100 * 1024);
	KT_REQUIRE(q, "vmalloc failed");
	KT_CHECK(kmm_ksize(q) == 8 * MiB, "7.1 MiB maps %zu bytes, not 8 MiB", kmm_ksize(q));
	if (stitching())
		KT_CHECK(q[0] == 2 && q[8 * MiB - 1] == 2,
			 "the area did not take the cached pages");
	if (huge) {
		KT_CHECK(huge_kb(q, 8 * MiB) == 8 * 1024, "the new area has %ld kB of huge pages",
			 huge_kb(q, 8 * MiB));
		KT_CHECK(huge_kb(p, 12 * MiB) == 12 * 1024,
			 "the donor kept %ld kB of huge pages, not 12288", huge_kb(p, 12 * MiB));
	}
	kmm_vfree(q);
	kmm_reclaim();
}

/* Growth past a neighbour moves the pages by mremap, huge pages and all: nothing is copied. */
static void test_realloc_moves_pages(void)
{
	unsigned long moved = kt_vmstat("vrealloc_moved");
	char *p, *blocker, *q;
	long huge_before;
	bool huge;

	kmm_reclaim();
	p = kmm_vmalloc(8 * MiB);
	blocker = kmm_vmalloc(2 * MiB);
	KT_REQUIRE(p && blocker, "vmalloc failed");
	memset(p, 3, 8 * MiB);
	huge = huge_checkable(p, 8 * MiB);
	huge_before = huge_kb(p, 8 * MiB);
	q = kmm_vrealloc(p, 40 * MiB);
	KT_REQUIRE(q, "vrealloc to 40 MiB failed");
	KT_CHECK(q[0] == 3 && q[8 * MiB - 1] == 3, "contents lost");
	KT_CHECK(q != p && (!stitching() || kt_vmstat("vrealloc_moved") == moved + 1),
		 "growth past a neighbour did not move the pages");
	if (huge)
		KT_CHECK(huge_kb(q, 8 * MiB) == huge_before,
			 "the moved pages have %ld kB of huge pages, %ld before",
			 huge_kb(q, 8 * MiB), huge_before);
	kmm_vfree(q);
	kmm_vfree(blocker);
	kmm_reclaim();
}

/*
 * 4 MiB + 8 bytes map 5 MiB, not 6: the touch of the last 8 bytes faults in
 * 4 KiB, not a third huge page (Rss and AnonHugePages of the area, where
 * the kernel gives huge pages).  A realloc into the rest of that unit grows
 * the area's one mapping over it, and the mapping count stays exact.
 */
static void test_half_tail(void)
{
	unsigned long used, budget, used_after;
	char *p, *q;
	long huge;

	kmm_reclaim();
	p = kmm_vmalloc(4 * MiB + 8);
	KT_REQUIRE(p, "vmalloc failed");
	KT_CHECK(kmm_ksize(p) == 5 * MiB, "4 MiB + 8 maps %zu bytes, not 5 MiB", kmm_ksize(p));
	p = kmm_vrealloc(p, 4 * MiB + MiB / 2);
	KT_REQUIRE(p, "vrealloc to 4.5 MiB failed");
	KT_CHECK(kmm_ksize(p) == 5 * MiB, "4.5 MiB holds %zu bytes, not 5 MiB", kmm_ksize(p));
	memset(p, 5, 4 * MiB + MiB / 2);
	huge = huge_kb(p, 6 * MiB);
	if (!stitching() || huge < 4096) {
		printf("%ld kB of huge pages for 4 MiB (or valgrind): not checked\n", huge);
	} else {
		KT_CHECK(huge == 4096, "a 4.5 MiB block has %ld kB of huge pages, not 4096", huge);
		KT_CHECK(smaps_kb(p, 6 * MiB, "Rss") <= 4096 + 512 + 4,
			 "a 4.5 MiB block holds %ld kB", smaps_kb(p, 6 * MiB, "Rss"));
	}
	vmalloc_map_counts(&used, &budget);
	q = kmm_vrealloc(p, 5 * MiB + 4096);
	KT_REQUIRE(q, "vrealloc to 5 MiB + 4 KiB failed");
	KT_CHECK(kmm_ksize(q) == 6 * MiB, "5 MiB + 4 KiB maps %zu bytes", kmm_ksize(q));
	KT_CHECK(q[0] == 5 && q[4 * MiB + MiB / 2 - 1] == 5, "contents lost");
	vmalloc_map_counts(&used_after, &budget);
	if (stitching() && q == p) {
		KT_CHECK(used_after == used, "growth in place counts %lu mappings, %lu before",
			 used_after, used);
		KT_CHECK(maps_in(q, 6 * MiB) == 1, "the grown area is %d mappings, not 1",
			 maps_in(q, 6 * MiB));
	}
	kmm_vfree(q);
	kmm_reclaim();
}

/*
 * A cached 10 MiB area serves 4 MiB + 8 bytes at its address with whole
 * units, faulted in already: it keeps 6 MiB, not the half unit a fresh
 * area would map, and its other 4 MiB wait in the cache.
 */
static void test_half_tail_from_cache(void)
{
	char *p, *q;

	cache_reusing();
	p = kmm_vmalloc(10 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 6, 10 * MiB);
	kmm_vfree(p);
	q = kmm_vmalloc(4 * MiB + 8);
	KT_REQUIRE(q, "vmalloc failed");
	KT_CHECK(q == p && kmm_ksize(q) == 6 * MiB,
		 "4 MiB + 8 from a cached 10 MiB area: %p (area at %p), %zu bytes", (void *)q,
		 (void *)p, kmm_ksize(q));
	if (stitching())
		KT_CHECK(q[0] == 6 && kt_vmstat("vmalloc_cached_kb") == 4096,
			 "the cache holds %lu kB of the rest, not the 4096 of its whole units",
			 kt_vmstat("vmalloc_cached_kb"));
	kmm_vfree(q);
	kmm_reclaim();
}

/*
 * A freed area with a half unit enters the cache with that unit mapped
 * whole, its contents kept: 4 MiB + 8 bytes wait as 6 MiB and serve a
 * 5.5 MiB request at their address.
 */
static void test_half_tail_cached_whole(void)
{
	char *p, *q;

	cache_reusing();
	p = kmm_vmalloc(4 * MiB + 8);
	KT_REQUIRE(p, "vmalloc failed");
	KT_CHECK(kmm_ksize(p) == 5 * MiB, "4 MiB + 8 maps %zu bytes, not 5 MiB", kmm_ksize(p));
	memset(p, 7, 4 * MiB + 8);
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1 && kt_vmstat("vmalloc_cached_kb") == 6 * 1024,
		 "the freed 5 MiB area waits as %lu areas, %lu kB, not one of 6144",
		 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_cached_kb"));
	q = kmm_vmalloc(5 * MiB + MiB / 2);
	/* (Memcheck holds a reused block's contents undefined: not read there.) */
	KT_CHECK(q == p && kmm_ksize(q) == 6 * MiB && (kt_under_valgrind() || q[4 * MiB] == 7),
		 "5.5 MiB took %p (%zu bytes), not the cached area at %p", (void *)q, kmm_ksize(q),
		 (void *)p);
	kmm_vfree(q);
	kmm_reclaim();
}

/*
 * Once large blocks are reused, a freed area larger than VM_CACHE_BYTES
 * waits in the cache while libkmm held as much before: 160 MiB freed beside
 * 160 in use serve the next 160 MiB request at their address, with no fresh
 * mapping; freed after it too, both wait.  (Never written: no RSS.)
 */
static void test_cache_keeps_below_peak(void)
{
	unsigned long fresh;
	char *a, *b, *c;

	cache_reusing();
	a = kmm_vmalloc(160 * MiB);
	b = kmm_vmalloc(160 * MiB);
	KT_REQUIRE(a && b, "vmalloc failed");
	kmm_vfree(a);
	KT_CHECK(kt_vmstat("vmalloc_cached_kb") >= 160 * 1024,
		 "a freed 160 MiB area beside another is not cached (%lu kB cached)",
		 kt_vmstat("vmalloc_cached_kb"));
	fresh = kt_vmstat("vmalloc_fresh");
	c = kmm_vmalloc(160 * MiB);
	KT_REQUIRE(c, "vmalloc failed");
	if (stitching())
		KT_CHECK(c == a && kt_vmstat("vmalloc_fresh") == fresh,
			 "160 MiB took %p and %lu fresh mappings, not the cached area at %p",
			 (void *)c, kt_vmstat("vmalloc_fresh") - fresh, (void *)a);
	kmm_vfree(b);
	kmm_vfree(c);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 2 && kt_vmstat("vmalloc_cached_kb") == 320 * 1024,
		 "the two freed 160 MiB areas wait as %lu areas, %lu kB",
		 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_cached_kb"));
	kmm_reclaim();
	KT_CHECK(kt_vmstat("vmalloc_cached") == 0, "kmm_reclaim() left cached areas");
}

/*
 * A cache full by count gives up its smallest area, not its oldest: twenty
 * 2 MiB areas freed after a 64 MiB one leave the 64 MiB waiting, and it
 * serves the next 64 MiB request at its address.
 */
static void test_full_cache_keeps_large(void)
{
	char *big, *small[20], *again;

	cache_reusing();
	big = kmm_vmalloc(64 * MiB);
	KT_REQUIRE(big, "vmalloc failed");
	for (int i = 0; i < 20; i++) {
		small[i] = kmm_vmalloc(2 * MiB);
		KT_REQUIRE(small[i], "vmalloc failed");
	}
	kmm_vfree(big);
	for (int i = 0; i < 20; i++)
		kmm_vfree(small[i]);
	KT_CHECK(kt_vmstat("vmalloc_cached_kb") >= 64 * 1024,
		 "%lu areas, %lu kB cached: the 64 MiB area was pushed out by 2 MiB ones",
		 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_cached_kb"));
	again = kmm_vmalloc(64 * MiB);
	KT_REQUIRE(again, "vmalloc failed");
	if (stitching())
		KT_CHECK(again == big, "64 MiB took %p, not the cached area at %p", (void *)again,
			 (void *)big);
	kmm_vfree(again);
	kmm_reclaim();
}

KT_MAIN({ "whole_units", test_whole_units }, { "half_tail", test_half_tail },
	{ "half_tail_cached_whole", test_half_tail_cached_whole },
	{ "half_tail_from_cache", test_half_tail_from_cache },
	{ "same_address_reuse", test_same_address_reuse },
	{ "units_from_a_donor", test_units_from_a_donor },
	{ "realloc_moves_pages", test_realloc_moves_pages },
	{ "cache_keeps_below_peak", test_cache_keeps_below_peak },
	{ "full_cache_keeps_large", test_full_cache_keeps_large })
