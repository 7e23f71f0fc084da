// SPDX-License-Identifier: MIT
/*
 * malloc_mixed.c - [N [LO HI]]: N malloc+free pairs over 64 blocks in flight,
 * each pair freeing the oldest block and allocating one of a size from LO to
 * HI bytes (default 16 to 2048, a fixed pseudo-random sequence, the same for
 * every allocator); prints nanoseconds per pair.  The allocator is whatever
 * the process uses (LD_PRELOAD), as for malloc_pair.c; bench/fastpath.sh runs
 * the peers side by side.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 64   /* blocks in flight */
#define SIZES 4096 /* length of the size sequence */

static void *slot[SLOTS];
static uint16_t sizes[SIZES];

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	unsigned long lo = argc > 3 ? strtoul(argv[2], NULL, 0) : 16;
	unsigned long hi = argc > 3 ? strtoul(argv[3], NULL, 0) : 2048;
	struct timespec a, b;
	uint32_t x = 12345;

	for (int i = 0; i < SIZES; i++) {
		x = x * 1103515245u + 12345u;
		sizes[i] = (uint16_t)(lo + (x >> 8) % (hi - lo + 1));
	}
	for (long i = 0; i < 100000; i++) { /* warm-up */
		free(slot[i % SLOTS]);
		slot[i % SLOTS] = malloc(sizes[i % SIZES]);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		free(slot[i % SLOTS]);
		slot[i % SLOTS] = malloc(sizes[i % SIZES]);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (int i = 0; i < SLOTS; i++)
		free(slot[i]);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
