// SPDX-License-Identifier: MIT
/*
 * page_limit.c - exhaustion under KMM_ARENA_LIMIT (meson sets 64M): requests
 * past the limit return NULL with errno ENOMEM, exactly the limit can be
 * allocated, and the allocator keeps working after frees.
 */
#include "../kt_kmm.h"

#define LIMIT (64UL << 20)
#define NPAGES (LIMIT / KMM_PAGE_SIZE)

static void *pages[NPAGES + 1];

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

static void test_exhaustion_and_recovery(void)
{
	unsigned long n = 0, counts[KMM_NR_PAGE_ORDERS], in_use = kt_normal_in_use();
	char start_text[8192], end_text[8192];
	void *big;

	while (n <= NPAGES && (pages[n] = kmm_get_free_page(KMM_GFP_KERNEL)) != NULL)
		n++;
	KT_CHECK(n == NPAGES - in_use, "allocated %lu pages under a %lu-page limit (%lu in use)", n,
		 NPAGES, in_use);
	errno = 0;
	KT_CHECK(kmm_get_free_page(KMM_GFP_KERNEL) == NULL && errno == ENOMEM, "errno %d", errno);
	errno = 0;
	KT_CHECK(kmm_get_free_pages(KMM_GFP_KERNEL, 4) == NULL && errno == ENOMEM, "errno %d",
		 errno);
	errno = 0;
	KT_CHECK(kmm_get_free_page(KMM_GFP_DMA32) == NULL && errno == ENOMEM,
		 "DMA32 past the limit: errno %d", errno);

	/* One free makes exactly one page available again. */
	kmm_free_page_va(pages[n / 2]);
	pages[n / 2] = kmm_get_free_page(KMM_GFP_KERNEL);
	KT_CHECK(pages[n / 2] != NULL, "no page after a free");
	KT_CHECK(kmm_get_free_page(KMM_GFP_KERNEL) == NULL, "a page from nowhere");

	/*
	 * A big block needs 16 aligned free pages: free an aligned run.  By
	 * address: the per-CPU stocks hand pages out in no particular order.
	 */
	qsort(pages, n, sizeof(pages[0]), cmp_ptr);
	for (unsigned long i = 0; i < n; i++)
		if (((uintptr_t)pages[i] & (16 * KMM_PAGE_SIZE - 1)) == 0 && i + 16 <= n &&
		    (char *)pages[i + 15] == (char *)pages[i] + 15 * KMM_PAGE_SIZE) {
			for (int j = 0; j < 16; j++) {
				kmm_free_page_va(pages[i + j]);
				pages[i + j] = NULL;
			}
			break;
		}
	big = kmm_get_free_pages(KMM_GFP_KERNEL, 4);
	KT_CHECK(big != NULL, "order 4 after freeing an aligned run: %s", strerror(errno));

	for (unsigned long i = 0; i < n; i++)
		if (pages[i])
			kmm_free_page_va(pages[i]);
	kmm_free_pages_va(big, 4);

	kmm_drain_all_pages();
	KT_REQUIRE(kt_buddyinfo("Normal", counts) == 0, "buddyinfo");
	KT_CHECK(counts[KMM_MAX_PAGE_ORDER] >= (LIMIT >> 22) - 1, "%lu free 4 MiB blocks",
		 counts[KMM_MAX_PAGE_ORDER]);
	KT_CHECK(kt_normal_in_use() == in_use, "pages in use: %lu before, %lu after", in_use,
		 kt_normal_in_use());

	/* The same exhaustion again ends in the same buddyinfo: nothing leaks. */
	kt_dump("buddyinfo", start_text, sizeof(start_text));
	for (n = 0; n <= NPAGES && (pages[n] = kmm_get_free_page(KMM_GFP_KERNEL)) != NULL; n++)
		;
	KT_CHECK(n == NPAGES - in_use, "second fill: %lu pages", n);
	while (n)
		kmm_free_page_va(pages[--n]);
	kmm_drain_all_pages();
	kt_dump("buddyinfo", end_text, sizeof(end_text));
	KT_CHECK(strcmp(start_text, end_text) == 0, "buddyinfo changed:\n%s\n%s", start_text,
		 end_text);

	/* And a 4 MiB block can be had again. */
	big = kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER);
	KT_CHECK(big != NULL, "order 10 after everything was freed");
	kmm_free_pages_va(big, KMM_MAX_PAGE_ORDER);
}

KT_MAIN(KT_TEST(test_exhaustion_and_recovery))
