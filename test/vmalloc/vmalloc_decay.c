// SPDX-License-Identifier: MIT
/*
 * vmalloc_decay.c - freed areas wait in the cache for KMM_DECAY_MS (run with
 * 100), then the next large allocation or free gives them back: the pages to
 * the system (RSS drops), the range to the reservation.  Until large blocks
 * are seen reused, and again once the cache decays, the cache holds no more
 * than a quarter of the rest of the footprint (4 MiB at least).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kt_kmm.h"

#define MiB (1UL << 20)

static void test_decay_releases(void)
{
	char *p, *q;
	long before, after;

	/* A free, and a request it would have served: the cache keeps 48 MiB. */
	for (int i = 0; i < 2; i++)
		kmm_vfree(kmm_vmalloc(8 * MiB));
	kmm_reclaim();
	p = kmm_vmalloc(48 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 1, 48 * MiB);
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1, "a freed 48 MiB area should wait in the cache");
	/* Within the delay, the next request reuses it. */
	q = kmm_vmalloc(40 * MiB);
	KT_CHECK(q == p, "a request within the delay should reuse the cached area");
	kmm_vfree(q);
	before = kt_rss_kb();
	usleep(250 * 1000);
	q = kmm_vmalloc(64 * 1024); /* any large call lets the decay run */
	after = kt_rss_kb();
	/*
	 * Two: the 40 MiB area, and the 8 MiB the request did not need (where
	 * pages cannot move, valgrind, those went back to the system at once).
	 */
	KT_CHECK(kt_vmstat("vmalloc_cached") == 0 &&
			 kt_vmstat("vmalloc_decayed") == (kt_vmstat("vmalloc_stitching") ? 2 : 1),
		 "the area was not released after the delay (cached %lu, decayed %lu)",
		 kt_vmstat("vmalloc_cached"), kt_vmstat("vmalloc_decayed"));
	KT_CHECK(before - after > 36 * 1024, "RSS went from %ld to %ld kB: the pages stayed",
		 before, after);
	kmm_vfree(q);
}

/*
 * The cache that decayed keeps a quarter of the rest of the footprint, 4 MiB
 * at least: in this small program a freed 12 MiB block goes back at once
 * (its RSS with it) and a 3 MiB one waits.  A request the released block
 * would have served lifts the bound: the next free of 12 MiB waits, and
 * serves the next request at its address.
 */
static void test_footprint_bound(void)
{
	char *p, *q;
	long before;

	kmm_vfree(kmm_vmalloc(3 * MiB));
	usleep(150 * 1000);
	kmm_vfree(kmm_vmalloc(64 * 1024)); /* the decay runs */
	KT_CHECK(kt_vmstat("vmalloc_decayed") > 0, "nothing decayed");
	kmm_reclaim();
	p = kmm_vmalloc(12 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 1, 12 * MiB);
	before = kt_rss_kb();
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 0,
		 "a freed 12 MiB block waits in the cache of a small program");
	if (!kt_under_valgrind())
		KT_CHECK(before - kt_rss_kb() > 8 * 1024, "RSS went from %ld to %ld kB", before,
			 kt_rss_kb());
	kmm_vfree(kmm_vmalloc(3 * MiB));
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1, "a freed 3 MiB block does not wait");
	kmm_reclaim();
	p = kmm_vmalloc(12 * MiB);
	KT_REQUIRE(p, "vmalloc failed");
	kmm_vfree(p);
	KT_CHECK(kt_vmstat("vmalloc_cached") == 1,
		 "an alloc/free loop of 12 MiB misses the cache twice");
	q = kmm_vmalloc(12 * MiB);
	KT_CHECK(q == p, "the cached 12 MiB area was not reused (%p, now %p)", (void *)p,
		 (void *)q);
	kmm_vfree(q);
	kmm_reclaim();
}

KT_MAIN({ "decay_releases", test_decay_releases }, { "footprint_bound", test_footprint_bound })
