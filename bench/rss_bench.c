// SPDX-License-Identifier: MIT
/*
 * rss_bench.c - does freed memory go back?  Through whatever malloc is
 * preloaded, in phases:
 *
 *   grow    blocks of mixed sizes (half 16 B-1 KiB, 30% 1-64 KiB, 20%
 *           256 KiB-16 MiB), each touched, until 2 GiB are live
 *   shrink  random blocks freed until 100 MiB are live
 *   idle    2 s of a trickle of small allocations (a server between bursts),
 *           long enough for any allocator's decay to run
 *
 * and again grow to 2 GiB and shrink, to see what the second burst costs.
 * Prints one line:
 *   peak_rss_kb=P shrunk_rss_kb=S final_rss_kb=F work_ms=W
 * shrunk: RSS right after the last shrink; final: after the idle phase;
 * work_ms: the grow and shrink phases only (not the idle one).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)
#define MAX_BLOCKS (4 << 20)

static void **blocks;
static size_t *sizes;
static size_t nr, live;
static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static long rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static size_t pick_size(void)
{
	unsigned int r = (unsigned int)(next() % 100);

	if (r < 50)
		return 16 + next() % 1009;
	if (r < 80)
		return 1024 + next() % (63 * 1024);
	return (256 * 1024) + next() % (16 * MiB - 256 * 1024);
}

static void grow_to(size_t target)
{
	while (live < target && nr < MAX_BLOCKS) {
		size_t size = pick_size();
		char *p = malloc(size);

		if (!p) {
			fprintf(stderr, "malloc(%zu) failed\n", size);
			exit(2);
		}
		for (size_t off = 0; off < size; off += 4096)
			p[off] = (char)size;
		p[size - 1] = (char)size;
		blocks[nr] = p;
		sizes[nr++] = size;
		live += size;
	}
}

static void shrink_to(size_t target)
{
	while (live > target && nr) {
		size_t i = next() % nr;

		if (((char *)blocks[i])[sizes[i] - 1] != (char)sizes[i]) {
			fprintf(stderr, "WRONG: block %zu changed\n", i);
			exit(1);
		}
		free(blocks[i]);
		live -= sizes[i];
		blocks[i] = blocks[--nr];
		sizes[i] = sizes[nr];
	}
}

int main(void)
{
	long peak = 0, shrunk;
	uint64_t t0, work = 0;

	blocks = calloc(MAX_BLOCKS, sizeof(void *));
	sizes = calloc(MAX_BLOCKS, sizeof(size_t));
	if (!blocks || !sizes)
		return 2;
	for (int round = 0; round < 2; round++) {
		t0 = now_ms();
		grow_to(2048 * MiB);
		if (rss_kb() > peak)
			peak = rss_kb();
		shrink_to(100 * MiB);
		work += now_ms() - t0;
	}
	shrunk = rss_kb();
	/* Idle: a few small allocations every 10 ms for 2 s. */
	for (int i = 0; i < 200; i++) {
		void *p[8];

		for (int k = 0; k < 8; k++)
			p[k] = malloc(64 + (size_t)k * 100);
		for (int k = 0; k < 8; k++)
			free(p[k]);
		usleep(10 * 1000);
	}
	printf("peak_rss_kb=%ld shrunk_rss_kb=%ld final_rss_kb=%ld work_ms=%llu\n", peak, shrunk,
	       rss_kb(), (unsigned long long)work);
	shrink_to(0);
	free(blocks);
	free(sizes);
	return 0;
}
