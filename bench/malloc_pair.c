// SPDX-License-Identifier: MIT
/*
 * malloc_pair.c - SIZE N: N malloc+free pairs of SIZE bytes after a warm-up;
 * prints nanoseconds per pair.  The allocator is whatever the process uses:
 * run it plain (glibc) or with LD_PRELOAD=libjemalloc.so / libkmm.so, in the
 * same session (bench/malloc_pairs.sh does, and adds callgrind's exact
 * instruction counts from two values of N).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	long n = argc > 2 ? atol(argv[2]) : 10000000;
	void *volatile sink;
	struct timespec a, b;

	for (int i = 0; i < 1000; i++) {
		sink = malloc(size);
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		sink = malloc(size);
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
