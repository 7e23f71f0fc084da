// SPDX-License-Identifier: MIT
/*
 * page_pairs.c - ORDER N: N alloc+free pairs of order ORDER through the page
 * API, after a warm-up.  Run under callgrind with two values of N: the
 * difference of the two totals divided by the difference of N is the exact
 * instruction count of one pair (start-up and warm-up cancel out).
 * bench/page_callgrind.sh does that.
 */
#include <stdio.h>
#include <stdlib.h>

#include <kmm/kmm.h>

int main(int argc, char **argv)
{
	unsigned int order = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;
	long n = argc > 2 ? atol(argv[2]) : 1000;
	void *warm[8];

	for (int i = 0; i < 8; i++)
		warm[i] = kmm_get_free_pages(KMM_GFP_KERNEL, order);
	for (int i = 0; i < 8; i++)
		kmm_free_pages_va(warm[i], order);
	for (long i = 0; i < n; i++) {
		struct kmm_page *page = kmm_alloc_pages(KMM_GFP_KERNEL, order);

		if (!page)
			return 1;
		kmm_free_pages(page, order);
	}
	return 0;
}
