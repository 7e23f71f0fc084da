// SPDX-License-Identifier: MIT
/*
 * track_prog.c - a program linked with libkmm for track.sh: make_blocks()
 * allocates 8000 blocks of 100 bytes, free_blocks() frees 3000 of them, 5000
 * stay (the "leak"); a few page runs and one vmalloc-sized block stay live
 * too, and 7 objects of a kmm_cache.  Run with KMM_TRACK=1 KMM_STATS=alloc_traces,free_traces.  Linked with
 * -rdynamic, its functions extern: dladdr() then knows their names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/slab.h>

#define NR_BLOCKS 8000

void make_blocks(void);
void free_blocks(void);
void make_big(void);
void make_objects(void);

void *blocks[NR_BLOCKS];
void *big[4]; /* extern: the stores stay */

__attribute__((noinline)) void make_blocks(void)
{
	for (int i = 0; i < NR_BLOCKS; i++) {
		blocks[i] = malloc(100);
		memset(blocks[i], 1, 100);
	}
}

__attribute__((noinline)) void free_blocks(void)
{
	for (int i = 0; i < 3000; i++) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
}

__attribute__((noinline)) void make_big(void)
{
	for (int i = 0; i < 2; i++)
		big[i] = malloc(100000 * (size_t)(i + 1)); /* page runs */
	big[2] = malloc(8 << 20);			   /* a vmalloc area */
	big[3] = calloc(1, 50);
}

/* The kernel-style API: 7 objects of a cache of its own, kept. */
__attribute__((noinline)) void make_objects(void)
{
	struct kmm_cache *cache = kmm_cache_create("track_objects", 48, 0, 0, NULL);

	for (int i = 0; i < 7; i++)
		if (!kmm_cache_alloc(cache, KMM_GFP_KERNEL))
			abort();
}

int main(void)
{
	make_blocks();
	make_big();
	make_objects();
	free_blocks();
	/* a little traffic from elsewhere */
	for (int i = 0; i < 100; i++)
		free(malloc((size_t)i * 10 + 1));
	printf("track_prog: done\n");
	return 0;
}
