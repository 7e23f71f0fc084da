/*
 * cache-scratch: passive false sharing, after the cache-scratch test of
 * Hoard (Berger et al., 2000).
 *
 * The main thread allocates one small object per thread, one after the
 * other, so they are likely to share a cache line, and hands one to each
 * thread.  Each thread frees the object it was given and then, like
 * cache-thrash, allocates, writes, checks and frees small objects over and
 * over.  An allocator that gives the freed object (and its neighbours in
 * the line) back to the thread that freed it keeps the threads writing to
 * one cache line; one that returns it to its owner does not.
 *
 * usage: cache-scratch [THREADS=2] [OBJECTS=1000] [WRITES=20000] [SIZE=8]
 */
#include "common.h"

struct arg {
	void *given;
};

static long nthreads, nobjs, nwrites, objsize;

static void *worker(void *argp)
{
	struct arg *a = argp;
	volatile unsigned char *g = a->given;

	for (long k = 0; k < objsize; k++)
		if (g[k] != 0xa5)
			wrong("cache-scratch: the object handed over was overwritten");
	free(a->given);
	thrash_objects("cache-scratch", nobjs, objsize, nwrites);
	return NULL;
}

int main(int argc, char **argv)
{
	struct arg *args;
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 1, 2);
	nobjs = arg_long(argc, argv, 2, 1000);
	nwrites = arg_long(argc, argv, 3, 20000);
	objsize = arg_long(argc, argv, 4, 8);
	tid = xmalloc(nthreads * sizeof(*tid));
	args = xmalloc(nthreads * sizeof(*args));
	for (long t = 0; t < nthreads; t++) {
		args[t].given = xmalloc(objsize);
		memset(args[t].given, 0xa5, objsize);
	}
	start_threads(tid, nthreads, worker, args, sizeof(*args), 0);
	join_threads(tid, nthreads);
	printf("cache-scratch threads=%ld objects=%ld writes=%ld size=%ld\n", nthreads, nobjs,
	       nwrites, objsize);
	free(args);
	free(tid);
	bench_idle();
	return 0;
}
