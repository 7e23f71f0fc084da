// SPDX-License-Identifier: MIT
/*
 * secure_classes_test.c - run with KMM_SECURE=1 (test/meson.build): every
 * kmalloc class, whose secure slot layout may take a larger slab order than
 * the default one, serves and takes back a slab's worth of blocks, written
 * and read back, with rseq on (the secure mode's slow paths use it).  A free
 * the slab checks against the default order's bounds aborts the process.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ktest.h"

#define LIVE 48 /* more than a secure slab's objects in every class */

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i);
}

static size_t bad_bytes(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += p[i] != (unsigned char)(seed + i);
	return bad;
}

static void one_size(size_t n)
{
	unsigned char *live[LIVE];

	for (int i = 0; i < LIVE; i++) {
		live[i] = malloc(n);
		KT_REQUIRE(live[i], "malloc(%zu) failed", n);
		KT_CHECK(malloc_usable_size(live[i]) >= n, "malloc(%zu)", n);
		fill(live[i], n, (unsigned char)i);
	}
	for (int i = 0; i < LIVE; i++) {
		KT_CHECK(bad_bytes(live[i], n, (unsigned char)i) == 0, "block %d of %zu bytes", i,
			 n);
		free(live[i]);
	}
}

/* Every 16-byte step up to 1 KiB, then the five sizes per doubling up to 32 KiB. */
static void test_every_class(void)
{
	for (size_t n = 16; n <= 1024; n += 16)
		one_size(n - 1);
	for (size_t b = 1024; b < 32768; b *= 2) {
		one_size(b + b / 8);
		for (size_t k = 1; k <= 4; k++)
			one_size(b + b / 4 * k);
	}
}

KT_MAIN(KT_TEST(test_every_class))
