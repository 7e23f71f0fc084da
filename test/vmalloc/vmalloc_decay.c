// SPDX-License-Identifier: MIT
/*
 * vmalloc_decay.c - freed areas wait in the cache for KMM_DECAY_MS (run with
 * 100), then the next large allocation or free gives them back: the pages to
 * the system (RSS drops), the range to the reservation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kt_kmm.h"

#define MiB (1UL << 20)

static void test_decay_releases(void)
{
	char *p = kmm_vmalloc(48 * MiB), *q;
	long before, after;

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

KT_MAIN({ "decay_releases", test_decay_releases })
