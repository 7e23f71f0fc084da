// SPDX-License-Identifier: MIT
/*
 * memcheck_prog.c - a program linked with libkmm, run under memcheck by
 * memcheck.sh.  "bugs": one 100-byte leak (leak_100) and one read of a freed
 * block (read_freed); "clean": the same traffic, every block freed, no bug.
 * Both run every kind of block (slab objects of several classes, calloc,
 * realloc in place and moved, page runs, a vmalloc area), so that any access
 * libkmm makes to its own memory shows as an error of the clean run.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_100(void)
{
	char *p = malloc(100);

	memset(p, 1, 100);
	sink = p;
	sink = NULL;
}

__attribute__((noinline)) static int read_freed(void)
{
	char *volatile p = malloc(64);
	int v;

	memset(p, 7, 64);
	free(p);
	v = p[10]; /* the bug */
	return v;
}

/* Every kind of block, each freed; returns a checksum so nothing is elided. */
static unsigned long traffic(void)
{
	static const size_t sizes[] = { 0,   1,	   8,	 15,	16,	24,	 100,
					200, 1000, 5000, 40000, 300000, 6u << 20 };
	unsigned long sum = 0;

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i];
			char *p = malloc(n), *q = calloc(1, n + 1);

			if (!p || !q)
				abort();
			memset(p, (int)i, n);
			sum += (unsigned char)q[n];
			p = realloc(p, n + 10); /* in place or moved */
			sum += n ? (unsigned char)p[n - 1] : 0;
			p = realloc(p, n / 2 + 1);
			sum += (unsigned char)p[0];
			p[malloc_usable_size(p) - 1] = 1; /* the usable size is the program's */
			free(q);
			free(p);
		}
		void *a[200];
		for (int i = 0; i < 200; i++)
			a[i] = malloc((size_t)(i % 50) * 8 + 1);
		for (int i = 0; i < 200; i += 2)
			free(a[i]);
		for (int i = 1; i < 200; i += 2)
			free(a[i]);
		void *al = aligned_alloc(4096, 8192);
		sum += (uintptr_t)al & 4095;
		free(al);
	}
	return sum;
}

int main(int argc, char **argv)
{
	int bugs = argc > 1 && !strcmp(argv[1], "bugs");
	unsigned long sum = traffic();

	if (bugs) {
		leak_100();
		sum += (unsigned long)read_freed();
	}
	printf("memcheck_prog %s: %lu\n", bugs ? "bugs" : "clean", sum);
	return 0;
}
