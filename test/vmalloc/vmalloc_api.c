// SPDX-License-Identifier: MIT
/*
 * vmalloc_api.c - the vmalloc API (<kmm/vmalloc.h>): areas stitched from
 * buddy pages, zeroing, vrealloc in place and by moving, vmap, kvmalloc, the
 * views, the guard gap and the diagnosis of bad frees.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kt_kmm.h"
#include "vmalloc/internal.h"

#define MiB (1UL << 20)

/*
 * Start-up leaves the layer's probes (the map budget, the mremap move) to
 * the first area: a process that never makes one pays none of their system
 * calls.  The first test of this binary, before any area or view.
 */
static void test_setup_waits_for_first_area(void)
{
	unsigned long used, budget;

	KT_REQUIRE(kmm_init() == 0, "init");
	KT_CHECK(!__atomic_load_n(&vm_state.ready, __ATOMIC_ACQUIRE),
		 "the vmalloc layer probed at start-up");
	kmm_vfree(kmm_vmalloc(MiB));
	KT_CHECK(__atomic_load_n(&vm_state.ready, __ATOMIC_ACQUIRE), "no probe at the first area");
	vmalloc_map_counts(&used, &budget);
	KT_CHECK(budget > 0, "map budget %lu after the first area", budget);
}

/*
 * Can pages move here?  Not under valgrind, which does not know
 * MREMAP_DONTUNMAP: every area is then a fresh mapping, and what is checked
 * of stitching is skipped.
 */
static bool stitching(void)
{
	return kt_vmstat("vmalloc_stitching") == 1;
}

static int count_lines(const char *buf, const char *needle)
{
	int n = 0;

	for (const char *p = buf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Minor page faults of this process so far. */
static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void test_vmalloc_basic(void)
{
	unsigned long in_use, stitched = kt_vmstat("vmalloc_stitched");
	struct kmm_page *page, *blocks[3];
	long faults;
	char *p;

	/* The first area's metadata takes slab pages that stay: warm up first. */
	kmm_vfree(kmm_vmalloc(10 * MiB));
	kmm_reclaim();
	/* Free blocks in the buddy with their pages faulted in: what stitching reuses. */
	for (int i = 0; i < 3; i++) {
		blocks[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 10);
		KT_REQUIRE(blocks[i], "order-10 allocation failed");
		memset(kmm_page_address(blocks[i]), 0x11, 4 * MiB);
	}
	for (int i = 0; i < 3; i++)
		kmm_free_pages(blocks[i], 10);
	in_use = kt_normal_in_use();
	p = kmm_vmalloc(10 * MiB + 12345);
	faults = minor_faults();
	KT_REQUIRE(p, "vmalloc of 10 MiB failed");
	KT_CHECK(kmm_is_vmalloc_addr(p) && kmm_is_vmalloc_addr(p + 10 * MiB),
		 "the area is not in the vmalloc region");
	KT_CHECK(((uintptr_t)p & (2 * MiB - 1)) == 0, "a 10 MiB area at %p is not 2 MiB aligned",
		 (void *)p);
	kt_fill(p, 0, 10 * MiB + 12344, 1);
	faults = minor_faults() - faults;
	KT_CHECK(kt_check(p, 10 * MiB + 12344, 1) == 10 * MiB + 12344, "contents lost");
	/* Its pages came from the buddy: they are in use there, and described. */
	if (stitching()) {
		KT_CHECK(kt_vmstat("vmalloc_stitched") > stitched, "no run was stitched in");
		/*
		 * 10 MiB fresh would be 2560 faults; the two 4 MiB runs were
		 * faulted in above (the 2 MiB one may be another free block).
		 */
		KT_CHECK(faults < 1024, "writing 10 MiB of reused pages took %ld page faults",
			 faults);
		KT_CHECK(kt_normal_in_use() >= in_use + (10 * MiB >> 12) - 64,
			 "the zone lends no pages to the area (%lu -> %lu in use)", in_use,
			 kt_normal_in_use());
		page = kmm_vmalloc_to_page(p + 5 * MiB);
		KT_CHECK(page && kmm_page_address(page) != p + 5 * MiB,
			 "vmalloc_to_page gave no zone page for a stitched address");
	} else {
		KT_CHECK(kt_vmstat("vmalloc_fresh") > 0, "no fresh mapping without stitching");
	}
	KT_CHECK(!kmm_vmalloc_to_page(p + 20 * MiB), "vmalloc_to_page beyond the area");
	KT_CHECK(!kmm_is_vmalloc_addr(&in_use), "a stack address counts as vmalloc");
	kmm_vfree(p);
	kmm_reclaim();
	KT_CHECK(kt_normal_in_use() == in_use, "pages not back in the zone: %lu -> %lu", in_use,
		 kt_normal_in_use());
	kmm_vfree(NULL);
	errno = 0;
	KT_CHECK(!kmm_vmalloc(0) && errno == EINVAL, "vmalloc(0) must fail with EINVAL");
	errno = 0;
	KT_CHECK(!kmm_vmalloc(SIZE_MAX / 2) && errno == ENOMEM,
		 "an impossible vmalloc must fail with ENOMEM");
}

static void test_vzalloc_zeroes_reused_pages(void)
{
	size_t len = 24 * MiB;
	char *p = kmm_vmalloc(len), *q;
	size_t bad = len;

	KT_REQUIRE(p, "vmalloc failed");
	memset(p, 0xa5, len);
	kmm_vfree(p);
	/* The same runs come back from the buddy, dirty: vzalloc must clear them. */
	q = kmm_vzalloc(len);
	KT_REQUIRE(q, "vzalloc failed");
	for (size_t i = 0; i < len; i++)
		if (q[i]) {
			bad = i;
			break;
		}
	KT_CHECK(bad == len, "vzalloc byte %zu is %#x", bad, bad < len ? q[bad] : 0);
	kmm_vfree(q);
}

static void test_vrealloc(void)
{
	unsigned long in_place = kt_vmstat("vrealloc_in_place"),
		      moved = kt_vmstat("vrealloc_moved");
	size_t big = kt_under_valgrind() ? 128 * MiB : 1024 * MiB;
	char *p, *q, *blocker;

	kmm_reclaim(); /* the blocker below must be a new area, not a cached one */
	p = kmm_vmalloc(8 * MiB);

	KT_REQUIRE(p, "vmalloc failed");
	kt_fill(p, 0, 8 * MiB, 7);
	/* Room after it: grows where it is. */
	q = kmm_vrealloc(p, 16 * MiB);
	KT_REQUIRE(q, "vrealloc to 16 MiB failed");
	KT_CHECK(q == p, "growth with room after the area moved it");
	KT_CHECK(kt_vmstat("vrealloc_in_place") == in_place + 1, "in-place growth not counted");
	KT_CHECK(kt_check(q, 8 * MiB, 7) == 8 * MiB, "contents lost growing in place");
	kt_fill(q + 8 * MiB, 0, 8 * MiB, 8);
	/* An area right after the claimed room: growth must move, not copy. */
	blocker = kmm_vmalloc(1 * MiB);
	KT_REQUIRE(blocker, "vmalloc failed");
	p = kmm_vrealloc(q, big);
	KT_REQUIRE(p, "vrealloc to %zu MiB failed", big / MiB);
	KT_CHECK(kt_check(p, 8 * MiB, 7) == 8 * MiB && kt_check(p + 8 * MiB, 8 * MiB, 8) == 8 * MiB,
		 "contents lost when the area moved");
	KT_CHECK(p != q && (!stitching() || kt_vmstat("vrealloc_moved") == moved + 1),
		 "growth past a neighbour did not move the area");
	p[big - 1] = 1;
	/* Shrinking keeps the head, to the end of its 2 MiB unit, and gives the tail back. */
	q = kmm_vrealloc(p, 3 * MiB + 5);
	KT_CHECK(q == p, "shrinking moved the area");
	KT_CHECK(kt_check(q, 3 * MiB, 7) == 3 * MiB, "contents lost shrinking");
	KT_CHECK(kmm_ksize(q) == 4 * MiB, "a 3 MiB area holds %zu bytes, not 4 MiB", kmm_ksize(q));
	KT_CHECK(kmm_vmalloc_to_page(q + 4 * MiB + 4096) == NULL, "the tail is still mapped");
	kmm_vfree(q);
	kmm_vfree(blocker);
}

static void test_kmalloc_large_is_vmalloc(void)
{
	unsigned long from_run = kt_vmstat("vrealloc_from_run");
	char *run = kmm_kmalloc(3 * MiB, KMM_GFP_KERNEL), *p;

	KT_REQUIRE(run, "kmalloc of 3 MiB failed");
	KT_CHECK(!kmm_is_vmalloc_addr(run), "a 3 MiB kmalloc is not a buddy run");
	kt_fill(run, 0, 3 * MiB, 3);
	/* Outgrowing the largest buddy block: the run moves into an area, no copy. */
	p = kmm_krealloc(run, 9 * MiB, KMM_GFP_KERNEL);
	KT_REQUIRE(p, "krealloc to 9 MiB failed");
	KT_CHECK(kmm_is_vmalloc_addr(p), "a 9 MiB block is not in the vmalloc region");
	KT_CHECK(!stitching() || kt_vmstat("vrealloc_from_run") == from_run + 1,
		 "the run was copied, not moved");
	KT_CHECK(kt_check(p, 3 * MiB, 3) == 3 * MiB, "contents lost");
	KT_CHECK(kmm_ksize(p) >= 9 * MiB, "ksize %zu < 9 MiB", kmm_ksize(p));
	p = kmm_krealloc(p, 100, KMM_GFP_KERNEL);
	KT_REQUIRE(p, "krealloc to 100 bytes failed");
	KT_CHECK(!kmm_is_vmalloc_addr(p) && kt_check(p, 96, 3) == 96,
		 "a small realloc of an area should land in a slab with its bytes");
	kmm_kfree(p);
	p = kmm_kmalloc(6 * MiB, KMM_GFP_ZERO);
	KT_REQUIRE(p && kmm_is_vmalloc_addr(p) && p[6 * MiB - 1] == 0, "kzalloc of 6 MiB");
	kmm_kfree(p);
}

static void test_vmap(void)
{
	struct kmm_page *pages[8];
	unsigned char *v;

	for (int i = 0; i < 8; i++) {
		pages[i] = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
		KT_REQUIRE(pages[i], "page allocation failed");
		memset(kmm_page_address(pages[i]), 0x10 + i, 4096);
	}
	v = kmm_vmap(pages, 8);
	KT_REQUIRE(v, "vmap failed");
	for (int i = 0; i < 8; i++)
		KT_CHECK(v[i * 4096] == 0x10 + i && v[i * 4096 + 4095] == 0x10 + i,
			 "vmap page %d does not show its page's contents", i);
	KT_CHECK(kmm_vmalloc_to_page(v + 3 * 4096 + 7) == pages[3], "vmalloc_to_page of a vmap");
	memset(v + 2 * 4096, 0x77, 4096);
	kmm_vunmap(v);
	KT_CHECK(((unsigned char *)kmm_page_address(pages[2]))[100] == 0x77,
		 "a write through the vmap is not in the page after vunmap");
	KT_CHECK(((unsigned char *)kmm_page_address(pages[5]))[100] == 0x15,
		 "page 5 lost its contents");
	for (int i = 0; i < 8; i++)
		kmm_free_pages(pages[i], 0);
}

static void test_kvmalloc(void)
{
	void *small = kmm_kvmalloc(1000, KMM_GFP_KERNEL);
	void *big = kmm_kvmalloc(64 * MiB, KMM_GFP_ZERO);

	KT_REQUIRE(small && big, "kvmalloc failed");
	KT_CHECK(!kmm_is_vmalloc_addr(small), "a small kvmalloc went to vmalloc");
	KT_CHECK(kmm_is_vmalloc_addr(big), "a 64 MiB kvmalloc is not vmalloc");
	KT_CHECK(((char *)big)[64 * MiB - 1] == 0, "kvmalloc with KMM_GFP_ZERO is not zero");
	kmm_kvfree(small);
	kmm_kvfree(big);
	kmm_kvfree(NULL);
}

static void test_views(void)
{
	static char buf[65536];
	void *a, *b, *v;
	struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, 0);
	unsigned long used = 0, total = 0;
	char *l;

	kmm_reclaim(); /* no freed area of the tests before left in the cache */
	a = kmm_vmalloc(5 * MiB);
	b = kmm_vmalloc(300 * 1024);
	v = kmm_vmap(&page, 1);

	KT_REQUIRE(a && b && v, "allocations failed");
	KT_CHECK(kt_dump("vmallocinfo", buf, sizeof(buf)) == 0, "vmallocinfo failed");
	KT_CHECK(count_lines(buf, "\n") == 3, "vmallocinfo has %d lines, not 3:\n%s",
		 count_lines(buf, "\n"), buf);
	KT_CHECK(count_lines(buf, " vmalloc") == 2 && count_lines(buf, " vmap") == 1,
		 "vmallocinfo kinds wrong:\n%s", buf);
	/* 5 MiB maps whole 2 MiB units: 6 MiB; 300 KiB whole pages. */
	KT_CHECK(strstr(buf, "pages=1536 vmalloc") && strstr(buf, "pages=75 vmalloc") &&
			 strstr(buf, "pages=1 vmap"),
		 "vmallocinfo page counts wrong:\n%s", buf);
	KT_CHECK(strstr(buf, "0x") == buf && strstr(buf, " 6356992 "),
		 "vmallocinfo range or size (with the guard) wrong:\n%s", buf);
	KT_CHECK(kt_dump("meminfo", buf, sizeof(buf)) == 0, "meminfo failed");
	for (l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		sscanf(l, "VmallocUsed: %lu kB", &used);
		sscanf(l, "VmallocTotal: %lu kB", &total);
	}
	KT_CHECK(used == 6 * 1024 + 300 + 4, "VmallocUsed %lu kB", used);
	KT_CHECK(total >= 1024 * 1024, "VmallocTotal %lu kB (less than 1 GiB)", total);
	kmm_vunmap(v);
	kmm_free_pages(page, 0);
	kmm_vfree(a);
	kmm_vfree(b);
	kt_dump("vmallocinfo", buf, sizeof(buf));
	KT_CHECK(count_lines(buf, "unpurged vm_area") == 2 && count_lines(buf, "\n") == 2,
		 "the freed areas should wait in the cache, unpurged:\n%s", buf);
	kmm_reclaim();
	kt_dump("vmallocinfo", buf, sizeof(buf));
	KT_CHECK(buf[0] == '\0', "vmallocinfo not empty after kmm_reclaim():\n%s", buf);
}

/* vmallocinfo copies areas a batch at a time: more areas than a batch, each once, in order. */
static void test_vmallocinfo_many(void)
{
	static char buf[65536];
	void *v[40];
	char *l, *prev = NULL;
	int lines = 0, ordered = 1;

	kmm_reclaim();
	for (int i = 0; i < 40; i++)
		KT_REQUIRE((v[i] = kmm_vmalloc(300 * 1024 + (size_t)i * 4096)), "vmalloc %d", i);
	KT_CHECK(kt_dump("vmallocinfo", buf, sizeof(buf)) == 0, "vmallocinfo failed");
	for (l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (prev && strcmp(prev, l) >= 0)
			ordered = 0;
		prev = l;
		lines++;
	}
	KT_CHECK(lines == 40, "vmallocinfo has %d lines for 40 areas", lines);
	KT_CHECK(ordered, "vmallocinfo lines out of order or repeated");
	for (int i = 0; i < 40; i++)
		kmm_vfree(v[i]);
	kmm_reclaim();
}

/* ---- misuse ---- */

static void *victim;

static void do_overrun(void *arg)
{
	volatile char *p = victim;

	p[(size_t)(uintptr_t)arg] = 1;
}

/* Run do_overrun(@off) in a child; require that it dies of SIGSEGV. */
static void expect_fault(size_t off)
{
	int status = 0;
	pid_t pid;

	kt_checks++;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL); /* not a sanitizer's report: the fault itself */
		do_overrun((void *)(uintptr_t)off);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
		kt_failures++;
		fprintf(stderr, "FAIL %s: a write at offset %zu of a 1 MiB area did not fault\n",
			kt_current, off);
	}
}

static void test_guard_gap(void)
{
	void *neighbour;

	victim = kmm_vmalloc(1 * MiB);
	neighbour = kmm_vmalloc(1 * MiB);
	KT_REQUIRE(victim && neighbour, "vmalloc failed");
	memset(neighbour, 0x5a, 1 * MiB);
	expect_fault(1 * MiB);
	expect_fault(1 * MiB + 4095);
	expect_fault(1 * MiB + 64 * 1024 - 1);
	KT_CHECK(((char *)neighbour)[0] == 0x5a, "the neighbour changed");
	/* The same after a free: the range is a reservation again, not a hole. */
	kmm_vfree(neighbour);
	expect_fault(1 * MiB + 100);
	/* Freed, it waits mapped in the cache; purged, its range faults. */
	kmm_vfree(victim);
	kmm_reclaim();
	expect_fault(0);
}

static void do_double_vfree(void *arg)
{
	void *p = kmm_vmalloc(1 * MiB);

	(void)arg;
	kmm_vfree(p);
	kmm_vfree(p);
}

static void do_interior_vfree(void *arg)
{
	char *p = kmm_vmalloc(1 * MiB);

	(void)arg;
	kmm_vfree(p + 4096);
}

static void do_vfree_vmap(void *arg)
{
	struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, 0);

	(void)arg;
	kmm_vfree(kmm_vmap(&page, 1));
}

static void do_vfree_heap(void *arg)
{
	(void)arg;
	kmm_vfree(kmm_kmalloc(64, KMM_GFP_KERNEL));
}

static void do_kfree_moved_run(void *arg)
{
	char *p = kmm_vmalloc(8 * MiB);

	(void)arg;
	/* The old address of a run that now backs the area. */
	kmm_kfree(kmm_page_address(kmm_vmalloc_to_page(p)));
}

static void test_bad_frees(void)
{
	kt_expect_death("double vfree", do_double_vfree, NULL, "double free");
	kt_expect_death("interior vfree", do_interior_vfree, NULL,
			"not the start of a vmalloc area");
	kt_expect_death("vfree of a vmap area", do_vfree_vmap, NULL, "vmap area");
	kt_expect_death("vfree of a slab object", do_vfree_heap, NULL, "not a vmalloc address");
	if (stitching())
		kt_expect_death("kfree of a run lent to an area", do_kfree_moved_run, NULL,
				"invalid free of");
}

KT_MAIN({ "setup_waits_for_first_area", test_setup_waits_for_first_area },
	{ "vmalloc_basic", test_vmalloc_basic }, { "vmallocinfo_many", test_vmallocinfo_many },
	{ "vzalloc_zeroes_reused_pages", test_vzalloc_zeroes_reused_pages },
	{ "vrealloc", test_vrealloc },
	{ "kmalloc_large_is_vmalloc", test_kmalloc_large_is_vmalloc }, { "vmap", test_vmap },
	{ "kvmalloc", test_kvmalloc }, { "views", test_views }, { "guard_gap", test_guard_gap },
	{ "bad_frees", test_bad_frees })
