// SPDX-License-Identifier: MIT
/*
 * vmalloc_bench.c - large blocks through whatever malloc is preloaded:
 *
 *   double  one buffer grown by realloc from 1 MiB to 1 GiB by doubling
 *   step    the same by 1 MiB steps (1023 reallocs)
 *   loop    ITERS blocks of 1-64 MiB (skewed to the small end) allocated,
 *           touched (a word in every 4 KiB page) and freed
 *
 * In the realloc modes every new page is written and the whole buffer is
 * checked at the end, so an allocator cannot skip work.  Prints one line:
 *   mode=M total_us=T realloc_us=R peak_rss_kb=P anonhuge_kb=H
 * realloc_us is the time spent inside realloc() alone; anonhuge_kb is the
 * most AnonHugePages (smaps_rollup) seen while a block was live.
 *
 * usage: vmalloc_bench double|step|loop [ITERS=200]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MiB (1UL << 20)
#define PAGE 4096UL

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static unsigned long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	unsigned long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void touch(unsigned char *p, size_t from, size_t to, uint64_t tag)
{
	for (size_t off = from; off < to; off += PAGE)
		*(uint64_t *)(p + off) = tag ^ off;
}

static void check(const unsigned char *p, size_t size, uint64_t tag)
{
	for (size_t off = 0; off < size; off += PAGE)
		if (*(const uint64_t *)(p + off) != (tag ^ off)) {
			fprintf(stderr, "WRONG: page at %zu of %zu\n", off, size);
			exit(1);
		}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "double";
	long iters = argc > 2 ? atol(argv[2]) : 200;
	uint64_t t0 = now_us(), in_realloc = 0;
	unsigned long huge = 0;
	struct rusage ru;

	if (!strcmp(mode, "double") || !strcmp(mode, "step")) {
		size_t size = MiB, top = 1024 * MiB;
		unsigned char *p = malloc(size);

		if (!p)
			return 2;
		touch(p, 0, size, 7);
		while (size < top) {
			size_t next = !strcmp(mode, "double") ? size * 2 : size + MiB;
			uint64_t t = now_us();
			unsigned char *q = realloc(p, next);

			in_realloc += now_us() - t;
			if (!q)
				return 2;
			p = q;
			touch(p, size, next, 7);
			size = next;
		}
		huge = anon_huge_kb();
		check(p, size, 7);
		free(p);
	} else if (!strcmp(mode, "loop")) {
		uint64_t rng = 12345;

		for (long i = 0; i < iters; i++) {
			size_t size;
			unsigned char *p;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			/* 1-64 MiB, about uniform in the logarithm, not page aligned. */
			size = MiB << ((rng >> 33) % 6);
			size += (rng >> 20) % size;
			p = malloc(size);
			if (!p)
				return 2;
			touch(p, 0, size - 8, (uint64_t)i);
			if (i % 16 == 0 && anon_huge_kb() > huge)
				huge = anon_huge_kb();
			check(p, size - 8, (uint64_t)i);
			free(p);
		}
	} else {
		fprintf(stderr, "usage: vmalloc_bench double|step|loop [ITERS]\n");
		return 2;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("mode=%s total_us=%llu realloc_us=%llu peak_rss_kb=%ld anonhuge_kb=%lu\n", mode,
	       (unsigned long long)(now_us() - t0), (unsigned long long)in_realloc, ru.ru_maxrss,
	       huge);
	return 0;
}
