// SPDX-License-Identifier: MIT
/*
 * thp_touch.c - what a first touch costs, per 4 KiB, on huge pages and on
 * 4 KiB pages (bench/results/memory.md §24).  Maps SIZE MiB, advises it
 * MADV_HUGEPAGE (MODE 1) or MADV_NOHUGEPAGE (MODE 0), writes one byte per
 * 4 KiB page, prints the time, unmaps; ROUNDS times.  On a virtual machine
 * that hands free memory back to its host, run it after a pause of a few
 * seconds and again at once: the first round pays the host's faults too.
 *
 *   cc -O2 -o thp_touch bench/thp_touch.c && ./thp_touch 256 1 3; sleep 3; ./thp_touch 256 0 3
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t size = (argc > 1 ? (size_t)atol(argv[1]) : 256) << 20, huge = 2UL << 20;
	int mode = argc > 2 ? atoi(argv[2]) : 1, rounds = argc > 3 ? atoi(argv[3]) : 3;

	for (int r = 0; r < rounds; r++) {
		char *p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *q;
		double t;

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		q = (char *)(((unsigned long)p + huge - 1) & ~(huge - 1));
		if (madvise(q, size, mode ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
			perror("madvise");
		t = now();
		for (size_t i = 0; i < size; i += 4096)
			q[i] = 1;
		t = now() - t;
		printf("%s pages, %zu MiB: %.1f ms (%.2f us per 4 KiB)\n", mode ? "huge" : "4 KiB",
		       size >> 20, t * 1e3, t * 1e6 / (double)(size / 4096));
		munmap(p, size + huge);
	}
	return 0;
}
