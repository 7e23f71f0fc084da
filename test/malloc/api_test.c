// SPDX-License-Identifier: MIT
/*
 * api_test.c - the malloc API as a program sees it, linked with libkmm.so
 * (so every allocation of this process, stdio's included, is libkmm's).
 * Each function, its alignment guarantees (up to 64 MiB), errno on failure,
 * usable sizes, realloc across every class boundary, glibc 2.36's answers for
 * the edge cases (docs/DESIGN.md, "The contract's edges"), blocks of
 * 1-4 MiB made of freed areas rather than a grown zone, and misuse
 * diagnosed.  contract_test.c holds the contract's outer edges.
 */
#include <malloc.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdint.h>

#define KT_SETUP kt_skip_under_asan()
#include "../kt_kmm.h"

#include <kmm/kmm.h>
#include <kmm/numa.h>
#include <kmm/slab.h>

void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

/* Sizes the compiler must not see: the calls below are meant to fail at run time. */
static size_t opaque(size_t x)
{
	volatile size_t v = x;

	return v;
}

static int owned_by_libkmm(void *p)
{
	/* libkmm's views count it; glibc's malloc_usable_size would not know it. */
	return kmm_ksize(p) >= 1;
}

static void test_malloc_free_every_size(void)
{
	for (size_t size = 0; size <= 70000; size += size < 512 ? 1 : size < 8192 ? 61 : 997) {
		unsigned char *p = malloc(size);

		KT_REQUIRE(p, "malloc(%zu)", size);
		KT_CHECK(((uintptr_t)p & 15) == 0, "malloc(%zu) = %p not 16-aligned", size,
			 (void *)p);
		KT_CHECK(malloc_usable_size(p) >= size, "usable %zu < %zu", malloc_usable_size(p),
			 size);
		KT_CHECK(owned_by_libkmm(p), "malloc(%zu) not from libkmm", size);
		memset(p, 0xab, malloc_usable_size(p));
		free(p);
	}
}

static void test_size_class_waste(void)
{
	/* Above 128 bytes, at most 25% of the block is waste; below, under 16 bytes. */
	for (size_t size = 1; size <= KMM_KMALLOC_MAX_CACHE_SIZE; size++) {
		void *p = malloc(size);
		size_t usable = malloc_usable_size(p);

		KT_CHECK(usable >= size, "size %zu usable %zu", size, usable);
		if (size > 128)
			KT_CHECK((usable - size) * 4 <= usable,
				 "size %zu in a %zu class wastes over 25%%", size, usable);
		else
			KT_CHECK(usable - size < 16, "size %zu usable %zu", size, usable);
		free(p);
	}
}

/*
 * A page run is its whole buddy block up to 1 MiB, then whole MiBs: a tail
 * given back was taken by slabs, and the freed run could not merge again
 * (kmalloc_large()).
 */
static void test_page_run_blocks(void)
{
	static const struct {
		size_t size, usable;
	} runs[] = {
		{ 36 * 1024 + 1, 64 * 1024 }, { 100 * 1024, 128 * 1024 },
		{ 256 * 1024, 256 * 1024 },   { 600 * 1024, 1024 * 1024 },
		{ 1024 * 1024 + 1, 2 << 20 }, { 3 << 20, 3 << 20 },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char *p = calloc(1, runs[i].size);

		KT_REQUIRE(p, "calloc(1, %zu)", runs[i].size);
		KT_CHECK(malloc_usable_size(p) == runs[i].usable,
			 "%zu bytes: a run of %zu, not %zu", runs[i].size, malloc_usable_size(p),
			 runs[i].usable);
		KT_CHECK(p[runs[i].size - 1] == 0, "%zu bytes: zeroed", runs[i].size);
		memset(p, 1, malloc_usable_size(p));
		free(p);
	}
}

static void test_calloc(void)
{
	for (size_t n = 1; n < 5000000; n = n * 3 + 1) {
		unsigned char *p = malloc(n);

		memset(p, 0xcd, n);
		free(p);
		p = calloc(1, n);
		KT_REQUIRE(p, "calloc(1, %zu)", n);
		for (size_t i = 0; i < n; i += (n < 4096 ? 1 : 511))
			if (p[i]) {
				KT_CHECK(0, "calloc(1, %zu)[%zu] = %d", n, i, p[i]);
				break;
			}
		free(p);
	}
	errno = 0;
	KT_CHECK(calloc(opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM, "overflow: errno %d",
		 errno);
	errno = 0;
	KT_CHECK(calloc(opaque((size_t)1 << 33), (size_t)1 << 33) == NULL && errno == ENOMEM,
		 "overflow");
}

/*
 * calloc of a page run zeroes only the pages that may hold old bytes: those
 * of a fresh run (past the highest block ever handed out) or of a released
 * one (MADV_DONTNEED) read zero already, and a memset would make them all
 * resident where the program may never look (glibc's calloc of fresh memory
 * skips it too).  Runs first: fresh memory is what a new process has.
 */
static void test_calloc_untouched_pages(void)
{
	const size_t size = (1u << 20) + 1; /* a 2 MiB run */
	unsigned char *p, *q;
	long rss0;

	rss0 = kt_rss_kb();
	p = calloc(1, size);
	KT_REQUIRE(p, "calloc(1, %zu)", size);
	p[size / 2] = 1;
	if (!kt_under_valgrind()) /* memcheck must see them written */
		KT_CHECK(kt_rss_kb() - rss0 < 512,
			 "a fresh calloc(1 MiB + 1) with one byte written: RSS %ld -> %ld KiB",
			 rss0, kt_rss_kb());
	for (size_t i = 0; i < size; i += 4093)
		KT_CHECK(p[i] == (i == size / 2), "fresh calloc: byte %zu is %d", i, p[i]);
	/* Written whole, freed and given back: a calloc there reads zero. */
	memset(p, 0xcd, size);
	free(p);
	KT_CHECK(malloc_trim(0) == 1, "malloc_trim");
	/*
	 * RSS is read before the bytes are: some kernels (6.18 here) give a
	 * read fault of anonymous memory a page of its own, not the shared
	 * zero page, so reading makes it resident whoever wrote it.
	 */
	rss0 = kt_rss_kb();
	q = calloc(1, size);
	KT_REQUIRE(q, "calloc(1, %zu)", size);
	if (!kt_under_valgrind() && q == p)
		KT_CHECK(kt_rss_kb() - rss0 < 512,
			 "a released run calloc'd again: RSS %ld -> %ld KiB", rss0, kt_rss_kb());
	for (size_t i = 0; i < size; i++)
		if (q[i]) {
			KT_CHECK(0, "calloc after release: byte %zu of %zu is %#x", i, size, q[i]);
			break;
		}
	/*
	 * A release the kernel refuses (locked pages: EINVAL) leaves the bytes:
	 * that block must not count as released.
	 */
	memset(q, 0xcd, size);
	if (mlock(q, size) == 0) {
		unsigned char *locked = q;

		free(q);
		malloc_trim(0);
		q = calloc(1, size);
		KT_REQUIRE(q, "calloc(1, %zu)", size);
		for (size_t i = 0; i < size; i++)
			if (q[i]) {
				KT_CHECK(0,
					 "calloc after a refused release: byte %zu of %zu is %#x",
					 i, size, q[i]);
				break;
			}
		munlock(locked, size);
	} else {
		printf("mlock: %s (the refused release is not checked)\n", strerror(errno));
	}
	/* Written and freed, not given back: calloc must zero it. */
	memset(q, 0xcd, size);
	free(q);
	p = calloc(1, size);
	KT_REQUIRE(p, "calloc(1, %zu)", size);
	for (size_t i = 0; i < size; i++)
		if (p[i]) {
			KT_CHECK(0, "calloc of written memory: byte %zu of %zu is %#x", i, size,
				 p[i]);
			break;
		}
	free(p);
}

static void test_realloc_preserves_contents(void)
{
	/* Grow one byte past every class boundary, then shrink back down. */
	unsigned char *p = NULL;
	size_t size = 0;

	for (size_t next = 1; next <= (9u << 20); next = next < 64 ? next + 7 : next * 5 / 4 + 1) {
		unsigned char *q = realloc(p, next);

		KT_REQUIRE(q, "realloc(%zu -> %zu)", size, next);
		for (size_t i = 0; i < size && i < next; i += 1 + i / 64)
			if (q[i] != (unsigned char)(i * 7)) {
				KT_CHECK(0, "realloc %zu -> %zu lost byte %zu", size, next, i);
				break;
			}
		for (size_t i = size; i < next; i++)
			q[i] = (unsigned char)(i * 7);
		p = q;
		size = next;
	}
	for (size_t next = size / 3; next > 8; next = next / 3) {
		p = realloc(p, next);
		KT_REQUIRE(p, "shrink to %zu", next);
		for (size_t i = 0; i < next; i += 1 + i / 64)
			if (p[i] != (unsigned char)(i * 7)) {
				KT_CHECK(0, "shrink to %zu lost byte %zu", next, i);
				break;
			}
	}
	free(p);
}

static void test_glibc_edge_cases(void)
{
	void *p, *q;

	p = malloc(0);
	KT_CHECK(p != NULL, "malloc(0) is NULL");
	free(p);
	p = malloc(10);
	errno = 0;
	KT_CHECK(realloc(p, 0) == NULL, "realloc(p, 0) returns NULL (and frees)");
	p = realloc(NULL, 100);
	KT_CHECK(p && malloc_usable_size(p) >= 100, "realloc(NULL, n)");
	free(p);
	errno = 0;
	KT_CHECK(aligned_alloc(opaque(3), 10) == NULL && errno == EINVAL,
		 "aligned_alloc(3, 10): glibc 2.38 and later refuse it");
	p = aligned_alloc(64, 10);
	KT_CHECK(p && ((uintptr_t)p & 63) == 0, "aligned_alloc(64, 10)");
	free(p);
	p = memalign(opaque(0), 10);
	KT_CHECK(p != NULL, "memalign(0, 10)");
	free(p);
	errno = 0;
	KT_CHECK(memalign(opaque((size_t)1 << 63), 10) == NULL && errno == ENOMEM,
		 "memalign(2^63)");
	errno = 12345;
	KT_CHECK(posix_memalign(&q, opaque(3), 10) == EINVAL && errno == 12345,
		 "posix_memalign(3)");
	KT_CHECK(posix_memalign(&q, opaque(4), 10) == EINVAL && errno == 12345,
		 "posix_memalign(4)");
	KT_CHECK(posix_memalign(&q, opaque((size_t)1 << 40), opaque((size_t)1 << 62)) == ENOMEM,
		 "huge");
	p = pvalloc(5000);
	KT_CHECK(p && ((uintptr_t)p & 4095) == 0 && malloc_usable_size(p) >= 8192, "pvalloc(5000)");
	free(p);
	p = valloc(5000);
	KT_CHECK(p && ((uintptr_t)p & 4095) == 0, "valloc(5000)");
	free(p);
	KT_CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
	errno = 0;
	KT_CHECK(reallocarray(NULL, opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM,
		 "reallocarray");
	p = reallocarray(NULL, 10, 10);
	KT_CHECK(p && malloc_usable_size(p) >= 100, "reallocarray(10, 10)");
	free(p);
	errno = 0;
	KT_CHECK(malloc(opaque(SIZE_MAX - 4096)) == NULL && errno == ENOMEM,
		 "malloc(opaque(SIZE_MAX - 4096))");
	errno = 0;
	KT_CHECK(malloc((size_t)1 << 62) == NULL && errno == ENOMEM, "malloc(2^62)");
	errno = 0;
	KT_CHECK(realloc(malloc(1), opaque(SIZE_MAX - 10)) == NULL && errno == ENOMEM,
		 "realloc huge");
}

static void test_free_preserves_errno(void)
{
	void *small = malloc(32), *large = malloc(100000), *huge = malloc(9 << 20);

	errno = 4242;
	free(small);
	free(large);
	free(huge);
	free(NULL);
	KT_CHECK(errno == 4242, "free changed errno to %d", errno);
}

static void test_alignments(void)
{
	for (size_t align = 16; align <= ((size_t)64 << 20); align <<= 1) {
		size_t sizes[] = { 1, align / 2 + 1, align, align + 1, 3 * align + 5 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = NULL;
			int ret = posix_memalign(&p, align, sizes[i]);

			KT_REQUIRE(ret == 0 && p, "posix_memalign(%zu, %zu): %d", align, sizes[i],
				   ret);
			KT_CHECK(((uintptr_t)p & (align - 1)) == 0, "%p not %zu-aligned", p, align);
			KT_CHECK(malloc_usable_size(p) >= sizes[i], "usable");
			memset(p, 1, sizes[i]);
			free(p);
			p = aligned_alloc(align, sizes[i]);
			KT_CHECK(p && ((uintptr_t)p & (align - 1)) == 0, "aligned_alloc(%zu)",
				 align);
			free(p);
			p = memalign(align, sizes[i]);
			KT_CHECK(p && ((uintptr_t)p & (align - 1)) == 0, "memalign(%zu)", align);
			free_aligned_sized(p, align, sizes[i]);
		}
	}
}

static void test_c23_and_introspection(void)
{
	void *p = malloc(100);
	struct mallinfo2 mi;

	free_sized(p, 100);
	mi = mallinfo2();
	KT_CHECK(mi.arena > 0 && mi.uordblks <= mi.arena, "mallinfo2 arena %zu in use %zu",
		 mi.arena, mi.uordblks);
	KT_CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1, "mallopt");
	KT_CHECK(malloc_trim(0) == 1, "malloc_trim");
	KT_CHECK(mallinfo().arena > 0, "mallinfo");
}

static void test_many_live_objects(void)
{
	enum { N = 200000 };
	static void *live[N];

	for (int i = 0; i < N; i++) {
		live[i] = malloc((size_t)(i % 700) + 1);
		KT_REQUIRE(live[i], "malloc #%d", i);
		memset(live[i], i & 0xff, (size_t)(i % 700) + 1);
	}
	for (int i = 0; i < N; i += 2)
		free(live[i]);
	for (int i = 1; i < N; i += 2) {
		unsigned char *c = live[i];

		if (c[0] != (i & 0xff) || c[i % 700] != (i & 0xff)) {
			KT_CHECK(0, "object %d overwritten", i);
			break;
		}
		free(live[i]);
	}
}

/* ---- misuse ---- */

static void double_free_small(void *a)
{
	void *p = malloc(40);
	(void)a;
	free(p);
	free(p);
}
static void double_free_large(void *a)
{
	void *p = malloc(100000);
	(void)a;
	free(p);
	free(p);
}
static void interior_small(void *a)
{
	char *p = malloc(64);
	(void)a;
	free(p + 16);
}
static void interior_large(void *a)
{
	char *p = malloc(100000);
	(void)a;
	free(p + 4096);
}
static void foreign_stack(void *a)
{
	char buf[64];
	(void)a;
	free(buf + 8);
}
static void foreign_mmap(void *a)
{
	(void)a;
	free(mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}
static void double_free_cxx_style(void *a)
{
	void **p = malloc(24);

	(void)a;
	free(p);
	malloc(24); /* someone else may get it: still no silent corruption below */
	free(p);
	free(p);
}

#define MiB (1UL << 20)

/*
 * Free blocks of the largest order (4 MiB) in the Normal zone of the node
 * this thread allocates from (it is pinned), per-CPU lists drained.
 */
static unsigned long free_4mib_blocks(void)
{
	unsigned long counts[KMM_NR_PAGE_ORDERS];

	kmm_drain_all_pages();
	KT_REQUIRE(!kt_buddyinfo_node(kmm_numa_node_id(), "Normal", counts), "no buddyinfo");
	return counts[KMM_NR_PAGE_ORDERS - 1];
}

/*
 * A malloc of 2-4 MiB (a 4 MiB buddy block) that the zone would have to
 * grow for, while the area cache holds as much, is an area made of the
 * cache's memory: the zone does not grow and nothing is mapped fresh.  The
 * blocks work as any other (contents, usable size, realloc, free back to
 * the cache).
 */
static void test_runs_from_cached_areas(void)
{
	static const size_t sizes[] = { 2 * MiB + 5, 3 * MiB + MiB / 2, 4 * MiB - 100 };
	/* Moved in by mremap, on the node the cache's area is on. */
	bool from_cache = kt_vmstat("vmalloc_stitching") == 1 && kt_vmstat("numa_nodes") == 1;
	unsigned long present, fresh;
	void *held[256], *p[3];
	cpu_set_t cpus, one;
	int n = 0, cpu = sched_getcpu();
	bool pinned = false;

	/*
	 * On one CPU: with several nodes (KMM_FAKE_NUMA) a thread that moves
	 * allocates from another node's zone, whose free blocks it does not see
	 * (where the pinning is refused, the test runs unpinned, as it did).
	 */
	if (cpu >= 0 && cpu < CPU_SETSIZE && !sched_getaffinity(0, sizeof(cpus), &cpus)) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
	}
	/* Large blocks seen reused (a free, then a request the freed area would have served). */
	for (int i = 0; i < 2; i++)
		kmm_vfree(kmm_vmalloc(8 * MiB));
	kmm_reclaim();
	/* The cache empty: 4 MiB page runs, until the zone holds no free 4 MiB block. */
	while (n < 256 && free_4mib_blocks()) {
		held[n] = malloc(4 * MiB);
		KT_REQUIRE(held[n] && !kmm_is_vmalloc_addr(held[n]),
			   "a 4 MiB block with no area cached: %p", held[n]);
		n++;
	}
	KT_REQUIRE(n < 256, "the zone kept free 4 MiB blocks");
	kmm_vfree(kmm_vmalloc(16 * MiB));
	KT_REQUIRE(kt_vmstat("vmalloc_cached_kb") >= 16 * 1024, "the freed 16 MiB are not cached");
	present = kt_vmstat("nr_present_pages");
	fresh = kt_vmstat("vmalloc_fresh");
	for (int i = 0; i < 3; i++) {
		p[i] = malloc(sizes[i]);
		KT_REQUIRE(p[i], "malloc(%zu) failed", sizes[i]);
		memset(p[i], i + 1, sizes[i]);
		KT_CHECK(malloc_usable_size(p[i]) >= sizes[i], "%zu bytes usable of %zu",
			 malloc_usable_size(p[i]), sizes[i]);
		if (from_cache)
			KT_CHECK(kmm_is_vmalloc_addr(p[i]),
				 "malloc(%zu) is a run at %p, not an area", sizes[i], p[i]);
	}
	KT_CHECK(kt_vmstat("nr_present_pages") == present,
		 "the zone grew from %lu to %lu pages with 16 MiB of areas cached", present,
		 kt_vmstat("nr_present_pages"));
	if (from_cache)
		KT_CHECK(kt_vmstat("vmalloc_fresh") == fresh, "%lu fresh mappings for the blocks",
			 kt_vmstat("vmalloc_fresh") - fresh);
	for (int i = 0; i < 3; i++) {
		unsigned char *q = (unsigned char *)p[i];

		KT_CHECK(q[0] == i + 1 && q[sizes[i] - 1] == i + 1, "block %d lost its contents",
			 i);
	}
	p[0] = realloc(p[0], 3 * MiB);
	KT_REQUIRE(p[0], "realloc failed");
	KT_CHECK(((unsigned char *)p[0])[2 * MiB + 4] == 1, "realloc lost the contents");
	for (int i = 0; i < 3; i++)
		free(p[i]);
	for (int i = 0; i < n; i++)
		free(held[i]);
	kmm_reclaim();
	if (pinned)
		sched_setaffinity(0, sizeof(cpus), &cpus);
}

static void test_misuse_is_diagnosed(void)
{
	kt_expect_death("double free (slab)", double_free_small, NULL, "double free");
	kt_expect_death("double free (pages)", double_free_large, NULL, "invalid free");
	kt_expect_death("interior (slab)", interior_small, NULL, "not the start of an object");
	kt_expect_death("interior (pages)", interior_large, NULL, "invalid free");
	kt_expect_death("stack pointer", foreign_stack, NULL, "not allocated by libkmm");
	kt_expect_death("foreign mapping", foreign_mmap, NULL, "not allocated by libkmm");
	kt_expect_death("double free after reuse", double_free_cxx_style, NULL, "double free");
}

KT_MAIN(KT_TEST(test_calloc_untouched_pages), KT_TEST(test_malloc_free_every_size),
	KT_TEST(test_size_class_waste), KT_TEST(test_page_run_blocks), KT_TEST(test_calloc),
	KT_TEST(test_realloc_preserves_contents), KT_TEST(test_glibc_edge_cases),
	KT_TEST(test_free_preserves_errno), KT_TEST(test_alignments),
	KT_TEST(test_c23_and_introspection), KT_TEST(test_many_live_objects),
	KT_TEST(test_runs_from_cached_areas), KT_TEST(test_misuse_is_diagnosed))
