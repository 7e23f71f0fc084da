/*
 * cache-thrash: active false sharing, after the cache-thrash test of Hoard
 * (Berger et al., "Hoard: A Scalable Memory Allocator for Multithreaded
 * Applications", 2000).
 *
 * Each thread, at the same time as the others, allocates a small object,
 * writes every byte of it many times, checks it and frees it, over and
 * over.  An allocator that hands objects in one cache line to different
 * threads makes the cores fight over that line, and the run slows down
 * many times over; one that keeps each thread's objects apart does not.
 *
 * usage: cache-thrash [THREADS=2] [OBJECTS=1000] [WRITES=20000] [SIZE=8]
 *   OBJECTS is per thread; WRITES is the number of passes over each object.
 */
#include "common.h"

static long nthreads, nobjs, nwrites, objsize;

static void *worker(void *arg)
{
	(void)arg;
	thrash_objects("cache-thrash", nobjs, objsize, nwrites);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 1, 2);
	nobjs = arg_long(argc, argv, 2, 1000);
	nwrites = arg_long(argc, argv, 3, 20000);
	objsize = arg_long(argc, argv, 4, 8);
	tid = xmalloc(nthreads * sizeof(*tid));
	start_threads(tid, nthreads, worker, NULL, 0, 0);
	join_threads(tid, nthreads);
	printf("cache-thrash threads=%ld objects=%ld writes=%ld size=%ld\n", nthreads, nobjs,
	       nwrites, objsize);
	free(tid);
	bench_idle();
	return 0;
}
