// SPDX-License-Identifier: MIT
/*
 * contract_test.c - the outer edges of the malloc contract, as glibc 2.41,
 * C17 and C++17 define them (linked with libkmm.so):
 *  - aligned_alloc takes powers of two only, memalign any alignment up to
 *    SIZE_MAX / 2 + 1 (EINVAL beyond);
 *  - alignments of 8, 64 and 256 MiB at sizes 0 to 4096 work through every
 *    aligned call, can be freed, resized and measured, and cost the pages
 *    asked for, not the alignment;
 *  - a size near SIZE_MAX fails with ENOMEM on every entry point, and a
 *    realloc to one keeps the block as it was;
 *  - realloc within the usable size keeps the block.
 */
#include <malloc.h>
#include <stdint.h>

#define KT_SETUP kt_skip_under_asan()
#include "../ktest.h"

#include <kmm/kmm.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Values the compiler must not see: the calls below are meant to fail at run time. */
static size_t opaque(size_t x)
{
	volatile size_t v = x;

	return v;
}

/* Sizes no allocation can have, and the ones just below and above the limits. */
static const size_t huge_sizes[] = {
	SIZE_MAX,	 SIZE_MAX - 1,		SIZE_MAX - 15,
	SIZE_MAX - 16,	 SIZE_MAX - 4095,	SIZE_MAX - 4096,
	SIZE_MAX - 4097, SIZE_MAX - 4 * MiB,	SIZE_MAX / 2 + 1, /* PTRDIFF_MAX + 1 */
	SIZE_MAX / 2,						  /* PTRDIFF_MAX */
	(size_t)1 << 62, ((size_t)1 << 47) + 1,
};
#define NR_HUGE (sizeof(huge_sizes) / sizeof(huge_sizes[0]))

static const size_t big_aligns[] = { 8 * MiB, 64 * MiB, 256 * MiB };

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Bytes of the arena handed out (mallinfo2: system less free). */
static size_t arena_in_use(void)
{
	return mallinfo2().uordblks;
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

/* -1 if @p holds fill()'s pattern over @n bytes, else the first byte that differs. */
static long check_fill(const unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i += 1 + (i >> 12))
		if (p[i] != (unsigned char)(i * 31 + seed))
			return (long)i;
	if (n && p[n - 1] != (unsigned char)((n - 1) * 31 + seed))
		return (long)(n - 1);
	return -1;
}

/* ---- aligned_alloc and memalign: which alignments are valid ---- */

static void test_aligned_alloc_powers_of_two_only(void)
{
	const size_t bad[] = {
		0,	 3,   5,    6,	   24,	       48,	     65,
		96,	 100, 4097, 12288, MiB + 4096, SIZE_MAX / 2, SIZE_MAX / 2 + 2,
		SIZE_MAX
	};
	const size_t sizes[] = { 0, 1, 10, 4096 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			void *p;

			errno = 0;
			p = aligned_alloc(opaque(bad[i]), sizes[j]);
			KT_CHECK(p == NULL && errno == EINVAL,
				 "aligned_alloc(%zu, %zu) = %p, errno %d: want NULL, EINVAL",
				 bad[i], sizes[j], p, errno);
			free(p);
		}
	for (size_t align = 1; align <= 4 * MiB; align <<= 1) {
		void *p = aligned_alloc(opaque(align), 10);

		KT_CHECK(p && ((uintptr_t)p & (align - 1)) == 0, "aligned_alloc(%zu, 10) = %p",
			 align, p);
		free(p);
	}
	errno = 0;
	KT_CHECK(aligned_alloc(opaque((size_t)1 << 63), 10) == NULL && errno == ENOMEM,
		 "aligned_alloc(2^63, 10): a valid alignment no block can have: errno %d", errno);
}

static void test_memalign_alignment_limits(void)
{
	/* glibc's memalign rounds any alignment up to a power of two. */
	const size_t odd[] = { 3, 24, 65, 96, 4097, 3 * MiB };

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		size_t pow2 = (size_t)1 << (64 - __builtin_clzl(odd[i]));
		void *p = memalign(opaque(odd[i]), 100);

		KT_CHECK(p && ((uintptr_t)p & (pow2 - 1)) == 0, "memalign(%zu, 100) = %p", odd[i],
			 p);
		free(p);
	}
	/* Above SIZE_MAX / 2 + 1 no power of two is left to round to: EINVAL. */
	const size_t invalid[] = { SIZE_MAX / 2 + 2, SIZE_MAX / 2 + 4096, SIZE_MAX - 4095,
				   SIZE_MAX };

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		errno = 0;
		KT_CHECK(memalign(opaque(invalid[i]), 10) == NULL && errno == EINVAL,
			 "memalign(%#zx, 10): errno %d, want EINVAL", invalid[i], errno);
	}
	/* Up to it, the alignment is valid and the request impossible: ENOMEM (glibc). */
	const size_t too_big[] = { SIZE_MAX / 2 + 1, SIZE_MAX / 4 + 2, (size_t)1 << 50 };

	for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
		errno = 0;
		KT_CHECK(memalign(opaque(too_big[i]), 10) == NULL && errno == ENOMEM,
			 "memalign(%#zx, 10): errno %d, want ENOMEM", too_big[i], errno);
	}
}

/* ---- 8, 64 and 256 MiB alignments ---- */

enum { VIA_POSIX, VIA_ALIGNED_ALLOC, VIA_MEMALIGN, NR_VIA };
static const char *const via_name[NR_VIA] = { "posix_memalign", "aligned_alloc", "memalign" };

static void *alloc_via(int via, size_t align, size_t size)
{
	void *p = NULL;
	int ret;

	switch (via) {
	case VIA_POSIX:
		ret = posix_memalign(&p, align, size);
		if (ret) {
			errno = ret;
			return NULL;
		}
		return p;
	case VIA_ALIGNED_ALLOC: return aligned_alloc(align, size);
	default: return memalign(align, size);
	}
}

static void test_big_alignments_small_sizes(void)
{
	size_t step = kt_under_valgrind() ? 97 : 1;

	for (size_t a = 0; a < sizeof(big_aligns) / sizeof(big_aligns[0]); a++)
		for (int via = 0; via < NR_VIA; via++)
			for (size_t size = 0; size <= 4096; size += size < 64 ? 1 : step) {
				size_t align = big_aligns[a], usable;
				unsigned char *p = alloc_via(via, align, size);

				KT_REQUIRE(p, "%s(%zu MiB, %zu): errno %d", via_name[via],
					   align / MiB, size, errno);
				KT_CHECK(((uintptr_t)p & (align - 1)) == 0,
					 "%s(%zu MiB, %zu) = %p not aligned", via_name[via],
					 align / MiB, size, (void *)p);
				usable = malloc_usable_size(p);
				KT_CHECK(usable >= size && usable <= 64 * KiB,
					 "%s(%zu MiB, %zu): usable %zu", via_name[via], align / MiB,
					 size, usable);
				memset(p, 0x5c, usable);
				free(p);
			}
	/* The sizes around a page, each way. */
	for (size_t a = 0; a < sizeof(big_aligns) / sizeof(big_aligns[0]); a++) {
		const size_t edge[] = { 4095, 4096, 4097 };

		for (size_t i = 0; i < 3; i++) {
			void *p = alloc_via(VIA_POSIX, big_aligns[a], edge[i]);

			KT_CHECK(p && ((uintptr_t)p & (big_aligns[a] - 1)) == 0,
				 "posix_memalign(%zu MiB, %zu) = %p", big_aligns[a] / MiB, edge[i],
				 p);
			free(p);
		}
	}
}

static void test_big_alignment_realloc(void)
{
	for (size_t a = 0; a < sizeof(big_aligns) / sizeof(big_aligns[0]); a++) {
		size_t align = big_aligns[a];
		unsigned char *p = alloc_via(VIA_POSIX, align, 100), *q;

		KT_REQUIRE(p, "posix_memalign(%zu MiB, 100)", align / MiB);
		fill(p, 100, 1);
		q = realloc(p, 5000);
		KT_REQUIRE(q && check_fill(q, 100, 1) < 0, "realloc to 5000: %p", (void *)q);
		fill(q, 5000, 2);
		p = realloc(q, 10 * MiB);
		KT_REQUIRE(p && check_fill(p, 5000, 2) < 0, "realloc to 10 MiB: %p", (void *)p);
		KT_CHECK(malloc_usable_size(p) >= 10 * MiB, "usable %zu", malloc_usable_size(p));
		fill(p, 10 * MiB, 3);
		q = realloc(p, 1);
		KT_REQUIRE(q && q[0] == 3, "realloc to 1: %p", (void *)q);
		free(q);
	}
}

/*
 * Many live at once: each is where its alignment says, and holds the pages
 * it needs, not its alignment: 64 blocks of 1 byte at 256 MiB cost a few
 * pages each, not 16 GiB; at 1-4 MiB (page runs from the buddy), not 4 MiB
 * each of the arena.
 */
static void test_big_alignments_many_live(void)
{
	enum { N = 64 };
	static void *live[N];
	int n = kt_under_valgrind() ? 8 : N;
	size_t rss0, used0;

	for (size_t a = 0; a < sizeof(big_aligns) / sizeof(big_aligns[0]); a++) {
		rss0 = rss_bytes();
		for (int i = 0; i < n; i++) {
			live[i] = alloc_via(i % NR_VIA, big_aligns[a], 1);
			KT_REQUIRE(live[i], "%s #%d at %zu MiB: errno %d", via_name[i % NR_VIA], i,
				   big_aligns[a] / MiB, errno);
			KT_CHECK(((uintptr_t)live[i] & (big_aligns[a] - 1)) == 0, "%p", live[i]);
			*(char *)live[i] = 1;
		}
		KT_CHECK(rss_bytes() < rss0 + (size_t)n * 64 * KiB + 4 * MiB,
			 "%d one-byte blocks at %zu MiB alignment: resident %zu -> %zu KiB", n,
			 big_aligns[a] / MiB, rss0 >> 10, rss_bytes() >> 10);
		for (int i = 0; i < n; i++)
			for (int j = 0; j < i; j++)
				KT_CHECK(live[i] != live[j], "blocks %d and %d are both %p", i, j,
					 live[i]);
		for (int i = 0; i < n; i++)
			free(live[i]);
	}
	for (size_t align = MiB; align <= 4 * MiB; align <<= 1) {
		kmm_reclaim();
		used0 = arena_in_use();
		for (int i = 0; i < n; i++) {
			live[i] = alloc_via(i % NR_VIA, align, 1);
			KT_REQUIRE(live[i] && ((uintptr_t)live[i] & (align - 1)) == 0,
				   "%s(%zu MiB, 1) #%d = %p", via_name[i % NR_VIA], align / MiB, i,
				   live[i]);
			KT_CHECK(malloc_usable_size(live[i]) == 4096, "usable %zu",
				 malloc_usable_size(live[i]));
		}
		KT_CHECK(arena_in_use() < used0 + (size_t)n * 64 * KiB + 4 * MiB,
			 "%d one-byte blocks at %zu MiB alignment hold %zu KiB of the arena", n,
			 align / MiB, (arena_in_use() - used0) >> 10);
		for (int i = 0; i < n; i++)
			free(live[i]);
	}
}

/* ---- sizes near SIZE_MAX ---- */

static void test_huge_sizes_fail_everywhere(void)
{
	const size_t aligns[] = { 16, 64, 4096, 2 * MiB, 8 * MiB, 256 * MiB };

	for (size_t i = 0; i < NR_HUGE; i++) {
		size_t s = opaque(huge_sizes[i]);
		void *p = NULL;

#define EXPECT_ENOMEM(call)                                                                        \
	do {                                                                                       \
		void *r_;                                                                          \
		errno = 0;                                                                         \
		r_ = (call);                                                                       \
		KT_CHECK(r_ == NULL && errno == ENOMEM, "%s with size %#zx: %p, errno %d", #call,  \
			 s, r_, errno);                                                            \
	} while (0)
		EXPECT_ENOMEM(malloc(s));
		EXPECT_ENOMEM(calloc(1, s));
		EXPECT_ENOMEM(calloc(s, 1));
		EXPECT_ENOMEM(realloc(NULL, s));
		EXPECT_ENOMEM(reallocarray(NULL, 1, s));
		EXPECT_ENOMEM(reallocarray(NULL, s, 1));
		EXPECT_ENOMEM(valloc(s));
		EXPECT_ENOMEM(pvalloc(s));
		EXPECT_ENOMEM(kmm_kmalloc(s, KMM_GFP_KERNEL));
		EXPECT_ENOMEM(kmm_kzalloc(s, KMM_GFP_KERNEL));
		EXPECT_ENOMEM(kmm_kmalloc_node(s, KMM_GFP_KERNEL, 0));
		EXPECT_ENOMEM(kmm_krealloc(NULL, s, KMM_GFP_KERNEL));
		EXPECT_ENOMEM(kmm_vmalloc(s));
		EXPECT_ENOMEM(kmm_vzalloc(s));
		EXPECT_ENOMEM(kmm_vmalloc_node(s, 0));
		EXPECT_ENOMEM(kmm_vrealloc(NULL, s));
		EXPECT_ENOMEM(kmm_kvmalloc(s, KMM_GFP_KERNEL));
		EXPECT_ENOMEM(kmm_mempool_create_kmalloc_pool(1, s));
		for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
			/* The size itself, and the sizes where size + alignment wraps. */
			const size_t sz[] = { s, SIZE_MAX - aligns[a] + 1, SIZE_MAX - aligns[a],
					      SIZE_MAX - aligns[a] - 1 };

			for (size_t k = 0; k < 4; k++) {
				size_t z = opaque(sz[k]);

				EXPECT_ENOMEM(memalign(aligns[a], z));
				EXPECT_ENOMEM(aligned_alloc(aligns[a], z));
				errno = 0;
				KT_CHECK(posix_memalign(&p, aligns[a], z) == ENOMEM && !p,
					 "posix_memalign(%zu, %#zx)", aligns[a], z);
			}
		}
#undef EXPECT_ENOMEM
	}
	/* Products: one that wraps, and ones that fit in size_t but not in memory. */
	errno = 0;
	KT_CHECK(calloc(opaque(2), opaque(SIZE_MAX / 2 + 1)) == NULL && errno == ENOMEM,
		 "calloc wraps");
	errno = 0;
	KT_CHECK(calloc(opaque(SIZE_MAX / 3), 3) == NULL && errno == ENOMEM, "calloc = SIZE_MAX");
	errno = 0;
	KT_CHECK(calloc(opaque(4096), (SIZE_MAX >> 12) - 1) == NULL && errno == ENOMEM,
		 "calloc just below SIZE_MAX");
	errno = 0;
	KT_CHECK(reallocarray(NULL, opaque(SIZE_MAX / 5), 5) == NULL && errno == ENOMEM,
		 "reallocarray = SIZE_MAX");
}

/* One block of each kind: slab objects, page runs, vmalloc areas, aligned runs and areas. */
struct block_kind {
	const char *name;
	size_t size, align;
};

static const struct block_kind kinds[] = {
	{ "slab 100", 100, 0 },
	{ "slab 32 KiB", 32 * KiB, 0 },
	{ "run 32 KiB + 1", 32 * KiB + 1, 0 },
	{ "run 100 KB", 100000, 0 },
	{ "run 1 MiB", MiB, 0 },
	{ "run 4 MiB", 4 * MiB, 0 },
	{ "area 4 MiB + 1", 4 * MiB + 1, 0 },
	{ "area 9 MiB", 9 * MiB, 0 },
	{ "run 3 MiB at 2 MiB", 3 * MiB, 2 * MiB },
	{ "area 100 at 8 MiB", 100, 8 * MiB },
	{ "slab 200 at 64", 200, 64 },
};
#define NR_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static void *alloc_kind(const struct block_kind *k)
{
	return k->align ? aligned_alloc(k->align, k->size) : malloc(k->size);
}

/* realloc to a size no block can have fails and leaves the block as it was. */
static void test_realloc_huge_keeps_block(void)
{
	for (size_t k = 0; k < NR_KINDS; k++) {
		unsigned char *p = alloc_kind(&kinds[k]);
		size_t usable;

		KT_REQUIRE(p, "%s", kinds[k].name);
		usable = malloc_usable_size(p);
		fill(p, usable, (unsigned int)k);
		for (size_t i = 0; i < NR_HUGE; i++) {
			size_t s = opaque(huge_sizes[i]);
			void *q;

			errno = 0;
			q = realloc(p, s);
			KT_CHECK(q == NULL && errno == ENOMEM,
				 "%s: realloc(%p, %#zx) = %p, errno %d: want NULL, ENOMEM",
				 kinds[k].name, (void *)p, s, q, errno);
			if (q) /* it claims to have grown: give the old block up */
				break;
			errno = 0;
			q = reallocarray(p, s / 8 ? s / 8 : 1, 8);
			KT_CHECK(q == NULL && errno == ENOMEM, "%s: reallocarray to %#zx: %p",
				 kinds[k].name, s / 8 * 8, q);
			if (q)
				break;
			errno = 0;
			q = kmm_krealloc(p, s, KMM_GFP_KERNEL);
			KT_CHECK(q == NULL && errno == ENOMEM, "%s: kmm_krealloc to %#zx: %p",
				 kinds[k].name, s, q);
			if (q)
				break;
			KT_CHECK(malloc_usable_size(p) == usable,
				 "%s: usable %zu -> %zu after %#zx", kinds[k].name, usable,
				 malloc_usable_size(p), s);
		}
		KT_CHECK(check_fill(p, usable, (unsigned int)k) < 0, "%s: byte %ld changed",
			 kinds[k].name, check_fill(p, usable, (unsigned int)k));
		/* Still a block libkmm knows: it grows and frees as usual. */
		p = realloc(p, usable + 1);
		KT_REQUIRE(p, "%s: realloc to %zu after the failures", kinds[k].name, usable + 1);
		KT_CHECK(check_fill(p, usable, (unsigned int)k) < 0, "%s: lost on growth",
			 kinds[k].name);
		free(p);
	}
	/* vrealloc of a vmalloc area. */
	unsigned char *v = kmm_vmalloc(MiB);

	KT_REQUIRE(v, "vmalloc");
	fill(v, MiB, 9);
	for (size_t i = 0; i < NR_HUGE; i++) {
		errno = 0;
		KT_CHECK(kmm_vrealloc(v, opaque(huge_sizes[i])) == NULL && errno == ENOMEM,
			 "kmm_vrealloc(%#zx): errno %d", huge_sizes[i], errno);
	}
	KT_CHECK(check_fill(v, MiB, 9) < 0, "vmalloc area changed");
	kmm_vfree(v);
}

/* ---- realloc within the usable size ---- */

/* Every size from @size up to the usable size, and down to half of it, keeps the block. */
static void check_keeps(const char *what, unsigned char *p, size_t size, size_t lowest, size_t step)
{
	size_t usable = malloc_usable_size(p);

	fill(p, size, 7);
	for (size_t n = size; n <= usable; n += step) {
		void *q = realloc(p, n);

		if (q != p) {
			KT_CHECK(0, "%s: realloc(%p of %zu, usable %zu) to %zu moved it to %p",
				 what, (void *)p, size, usable, n, q);
			free(q);
			return;
		}
		if (n + step > usable && n != usable)
			n = usable - step;
	}
	KT_CHECK(malloc_usable_size(p) >= usable, "%s: usable %zu -> %zu", what, usable,
		 malloc_usable_size(p));
	for (size_t n = usable; n >= lowest && n > 0; n -= MIN(step, n)) {
		void *q = realloc(p, n);

		if (q != p) {
			KT_CHECK(0, "%s: realloc(%p, usable %zu) down to %zu moved it to %p", what,
				 (void *)p, usable, n, q);
			free(q);
			return;
		}
	}
	KT_CHECK(check_fill(p, MIN(size, lowest), 7) < 0, "%s: contents changed", what);
	free(p);
}

static void test_realloc_within_usable_keeps_block(void)
{
	size_t prev = 0;
	char what[64];

	/* Slab objects: every class, from its smallest size up (and down to half). */
	for (size_t size = 1; size <= 32 * KiB; size++) {
		void *p = malloc(size);
		size_t usable = malloc_usable_size(p);

		if (usable == prev) {
			free(p);
			continue;
		}
		prev = usable;
		snprintf(what, sizeof(what), "class %zu", usable);
		check_keeps(what, p, size, usable <= 128 ? 1 : usable / 2 + 1, 1 + usable / 512);
	}
	/* Page runs: down to just above the largest class, which moves to a slab. */
	const size_t runs[] = { 32 * KiB + 1, 40000, 64 * KiB + 1, MiB - 1, 3 * MiB + 5, 4 * MiB };

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		snprintf(what, sizeof(what), "run of %zu", runs[i]);
		check_keeps(what, malloc(runs[i]), runs[i], 32 * KiB + 1, 4093);
	}
	/* vmalloc areas, plain and aligned. */
	const size_t areas[] = { 4 * MiB + 1, 9 * MiB, 33 * MiB + 3 };

	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		snprintf(what, sizeof(what), "area of %zu", areas[i]);
		check_keeps(what, malloc(areas[i]), areas[i], 32 * KiB + 1, 65521);
	}
	check_keeps("area of 5000 at 64 MiB", aligned_alloc(64 * MiB, 5000), 5000, 32 * KiB + 1,
		    17);
	check_keeps("run of 5000 at 2 MiB", aligned_alloc(2 * MiB, 5000), 5000, 32 * KiB + 1, 17);
}

KT_MAIN(KT_TEST(test_aligned_alloc_powers_of_two_only), KT_TEST(test_memalign_alignment_limits),
	KT_TEST(test_big_alignments_small_sizes), KT_TEST(test_big_alignment_realloc),
	KT_TEST(test_big_alignments_many_live), KT_TEST(test_huge_sizes_fail_everywhere),
	KT_TEST(test_realloc_huge_keeps_block), KT_TEST(test_realloc_within_usable_keeps_block))
