/*
 * shortthreads: many short-lived threads, each doing a little allocation,
 * after glibc's bench-malloc-thread (glibc-thread in mimalloc-bench) and
 * the thread churn of servers that start a thread per request.
 *
 * Each round starts THREADS threads at once.  A thread allocates OBJECTS
 * objects of 16 to 512 bytes (skewed to small), frees three in four of
 * them in a random order, and leaves the rest to the main thread, which
 * checks and frees them after joining it; then the thread exits.  What
 * counts here is what an allocator spends setting a thread up and tearing
 * it down (per-thread caches, arena binding, memory given back or kept),
 * in time and in RSS.
 *
 * usage: shortthreads [ROUNDS=1000] [THREADS=4] [OBJECTS=300]
 */
#include "common.h"

struct obj {
	void *p;
	size_t size;
	uint64_t tag;
};

struct worker {
	long id;
	struct obj *objs; /* allocated by the main thread */
	uint64_t sum;
};

static long nthreads, nobjs;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 9000 + (uint64_t)w->id;

	for (long i = 0; i < nobjs; i++) {
		struct obj *o = &w->objs[i];

		o->size = rnd_skew(&rng, 16, 512);
		o->tag = tag_of(((uint64_t)w->id << 20) | (uint64_t)i);
		o->p = xmalloc(o->size);
		obj_fill(o->p, o->size, o->tag);
		w->sum += o->tag;
	}
	/* Free three in four, in a random order; the main thread frees the rest. */
	for (long k = 0; k < nobjs; k++) {
		struct obj *o = &w->objs[rnd_next(&rng) % (uint64_t)nobjs];

		if (!o->p || (o - w->objs) % 4 == 0)
			continue;
		if (!obj_check(o->p, o->size, o->tag))
			wrong("shortthreads: object of %zu bytes was overwritten", o->size);
		free(o->p);
		o->p = NULL;
		w->sum -= o->tag;
	}
	for (long i = 0; i < nobjs; i++) {
		struct obj *o = &w->objs[i];

		if (o->p && i % 4) {
			if (!obj_check(o->p, o->size, o->tag))
				wrong("shortthreads: object of %zu bytes was overwritten", o->size);
			free(o->p);
			o->p = NULL;
			w->sum -= o->tag;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = arg_long(argc, argv, 1, 1000);
	struct worker *workers;
	uint64_t left = 0, freed = 0, started = 0;
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 2, 4);
	nobjs = arg_long(argc, argv, 3, 300);
	workers = xmalloc(nthreads * sizeof(*workers));
	tid = xmalloc(nthreads * sizeof(*tid));
	for (long r = 0; r < rounds; r++) {
		for (long t = 0; t < nthreads; t++) {
			workers[t].id = started++;
			workers[t].objs = calloc(nobjs, sizeof(struct obj));
			workers[t].sum = 0;
			if (!workers[t].objs)
				fail("calloc returned NULL");
		}
		start_threads(tid, nthreads, worker_main, workers, sizeof(*workers), 64 << 10);
		join_threads(tid, nthreads);
		for (long t = 0; t < nthreads; t++) {
			uint64_t sum = 0;

			for (long i = 0; i < nobjs; i++) {
				struct obj *o = &workers[t].objs[i];

				if (i % 4 ? o->p != NULL : o->p == NULL)
					wrong("shortthreads: thread %ld freed the wrong objects",
					      t);
				if (!o->p)
					continue;
				if (!obj_check(o->p, o->size, o->tag))
					wrong("shortthreads: object of %zu bytes was overwritten",
					      o->size);
				free(o->p);
				sum += o->tag;
			}
			if (sum != workers[t].sum)
				wrong("shortthreads: the tags left do not add up");
			left += sum;
			freed++;
			free(workers[t].objs);
		}
	}
	printf("shortthreads threads=%llu objects=%llu tags=%016llx\n", (unsigned long long)started,
	       (unsigned long long)(started * nobjs), (unsigned long long)left);
	free(workers);
	free(tid);
	bench_idle();
	return freed == started ? 0 : 1;
}
