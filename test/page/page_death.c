// SPDX-License-Identifier: MIT
/*
 * page_death.c - invalid frees are diagnosed (a message naming the address on
 * stderr, then abort), and never reach the free lists.
 */
#include "../kt_kmm.h"
#include "page/internal.h"

static void double_free_va(void *arg)
{
	void *p = kmm_get_free_pages(KMM_GFP_KERNEL, 2);

	(void)arg;
	kmm_free_pages_va(p, 2);
	kmm_free_pages_va(p, 2);
}

static void double_free_merged(void *arg)
{
	/* The block merges with its buddy on the first free: no longer a head. */
	struct kmm_page *a = kmm_alloc_pages(KMM_GFP_KERNEL, 0);

	(void)arg;
	kmm_free_pages(a, 0);
	kmm_free_pages(a, 0);
}

static void interior_pointer(void *arg)
{
	char *p = kmm_get_free_pages(KMM_GFP_KERNEL, 3);

	(void)arg;
	kmm_free_pages_va(p + 2 * KMM_PAGE_SIZE, 0);
}

static void unaligned_pointer(void *arg)
{
	char *p = kmm_get_free_pages(KMM_GFP_KERNEL, 0);

	(void)arg;
	kmm_free_pages_va(p + 16, 0);
}

static void wrong_order(void *arg)
{
	void *p = kmm_get_free_pages(KMM_GFP_KERNEL, 3);

	(void)arg;
	kmm_free_pages_va(p, 2);
}

static void foreign_pointer(void *arg)
{
	static char not_ours[2 * 4096];

	kmm_free_pages_va(arg ? arg : not_ours, 0);
}

static void foreign_descriptor(void *arg)
{
	static struct {
		char bytes[64];
	} fake;

	(void)arg;
	kmm_get_free_page(KMM_GFP_KERNEL);
	kmm_free_pages((struct kmm_page *)&fake, 0);
}

static void never_allocated(void *arg)
{
	/* A page in service that is free and was never handed out. */
	char *p = kmm_get_free_pages(KMM_GFP_KERNEL, 0);

	(void)arg;
	kmm_free_pages_va(p + 64 * KMM_PAGE_SIZE, 0);
}

static void test_invalid_frees_abort(void)
{
	kt_expect_death("double free", double_free_va, NULL, "double free");
	kt_expect_death("double free after merge", double_free_merged, NULL, "invalid free");
	kt_expect_death("interior page", interior_pointer, NULL, "not the head");
	kt_expect_death("unaligned", unaligned_pointer, NULL, "not the start of a page block");
	kt_expect_death("wrong order", wrong_order, NULL,
			"freed with order 2 but allocated with order 3");
	kt_expect_death("foreign pointer", foreign_pointer, NULL, "was not allocated by libkmm");
	kt_expect_death("foreign descriptor", foreign_descriptor, NULL,
			"not a libkmm page descriptor");
	kt_expect_death("never allocated", never_allocated, NULL, "invalid free of page block 0x");
}

/* The message names the address the program passed. */
static void test_message_names_pointer(void)
{
	static char not_ours[4096] __attribute__((aligned(4096)));
	char needle[64];

	snprintf(needle, sizeof(needle), "%p", (void *)not_ours);
	kt_expect_death("names the pointer", foreign_pointer, not_ours, needle);
}

/* After a diagnosed free in a child, the parent's allocator is intact. */
static void test_parent_unaffected(void)
{
	void *p = kmm_get_free_pages(KMM_GFP_KERNEL, 5);

	KT_REQUIRE(p, "alloc");
	kmm_free_pages_va(p, 5);
	buddy_check_zone(&kmm_nodes[0].node_zones[ZONE_NORMAL]);
}

KT_MAIN(KT_TEST(test_invalid_frees_abort), KT_TEST(test_message_names_pointer),
	KT_TEST(test_parent_unaffected))
