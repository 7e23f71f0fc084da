// SPDX-License-Identifier: MIT
/*
 * trim_test.c - the top of a zone goes back at once (KMM_TRIM, 128 KiB by
 * default), as glibc trims its heap: free blocks that reach up to the
 * highest page written, once they hold KMM_TRIM, are released at the free
 * that made them, read zero when handed out again, and a program that keeps
 * taking its top back stops being trimmed.  With KMM_TRIM=0
 * (KT_EXPECT_TRIM=0) nothing is trimmed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kmm/page.h>

#include "../kt_kmm.h"

#define NR 64 /* blocks of 16 KiB: 1 MiB */
#define ORDER 2

static struct kmm_page *blocks[NR];

static bool expect_trim(void)
{
	const char *e = getenv("KT_EXPECT_TRIM");

	return !e || *e != '0';
}

/* Pages of [@p, @p + 16 KiB) resident (mincore), or -1. */
static long resident(void *p)
{
	unsigned char vec[4];
	long n = 0;

	if (mincore(p, 4 << 12, vec))
		return -1;
	for (int i = 0; i < 4; i++)
		n += vec[i] & 1;
	return n;
}

/* Take NR blocks: new ones, past every page written before (the zone's top). */
static void take(kmm_gfp_t gfp, int byte)
{
	for (int i = 0; i < NR; i++) {
		blocks[i] = kmm_alloc_pages(gfp, ORDER);
		KT_REQUIRE(blocks[i], "an order-%d block", ORDER);
		if (byte >= 0)
			memset(kmm_page_address(blocks[i]), byte, 4 << 12);
	}
}

static void give_back(void)
{
	for (int i = 0; i < NR; i++)
		kmm_free_pages(blocks[i], ORDER);
}

static void test_top_trimmed_and_reads_zero(void)
{
	unsigned long before, trimmed;
	unsigned long nonzero = 0;
	long kept = 0;

	/* The budget of faults a trim may cause grows with the time since start-up. */
	kmm_drain_all_pages();
	usleep(300 * 1000);
	take(KMM_GFP_KERNEL, 0x77);
	before = kt_vmstat("pages_released");
	give_back();
	kmm_drain_all_pages(); /* the per-CPU lists' blocks too */
	trimmed = kt_vmstat("pages_released") - before;
	for (int i = 0; i < NR; i++)
		kept += resident(kmm_page_address(blocks[i]));
	printf("1 MiB freed at the top: %lu pages trimmed, %ld of %d resident\n", trimmed, kept,
	       NR * 4);
	if (!expect_trim()) {
		KT_CHECK(trimmed == 0, "KMM_TRIM=0: %lu pages trimmed", trimmed);
		return;
	}
	KT_CHECK(trimmed >= 32, "1 MiB freed at the zone's top: only %lu pages trimmed", trimmed);
	KT_CHECK(kt_under_valgrind() || kept <= NR * 4 - 32,
		 "1 MiB freed at the zone's top: %ld of %d pages still resident", kept, NR * 4);
	/* Handed out again, asked zero: zero, trimmed or not. */
	take(KMM_GFP_ZERO, -1);
	for (int i = 0; i < NR; i++) {
		unsigned char *p = kmm_page_address(blocks[i]);

		for (size_t off = 0; off < (4 << 12); off += 256)
			nonzero += p[off] != 0;
	}
	KT_CHECK(nonzero == 0, "%lu bytes of KMM_GFP_ZERO blocks are not zero", nonzero);
	give_back();
}

/*
 * A program that writes its top again right after each trim: the faults
 * stay within the budget (5 a millisecond), so most rounds keep their top.
 */
static void test_churn_stops_trims(void)
{
	unsigned long before = kt_vmstat("pages_released"), trimmed;
	int rounds = 400;

	if (!expect_trim() || kt_under_valgrind())
		return;
	for (int r = 0; r < rounds; r++) {
		take(KMM_GFP_KERNEL, r & 0xff);
		give_back();
	}
	trimmed = kt_vmstat("pages_released") - before;
	printf("%d rounds of 1 MiB at the top: %lu pages trimmed\n", rounds, trimmed);
	KT_CHECK(trimmed < (unsigned long)rounds * NR * 4 / 4,
		 "%lu pages trimmed in %d rounds that took them back at once", trimmed, rounds);
}

KT_MAIN({ "top_trimmed_and_reads_zero", test_top_trimmed_and_reads_zero },
	{ "churn_stops_trims", test_churn_stops_trims })
