/*
 * threads: many threads, each holding a little memory, to measure what an
 * allocator spends per thread (or per CPU) in time and above all in RSS.
 * bench/run runs it as threads64 and threads512.
 *
 * Each round starts THREADS threads.  Each allocates OBJECTS objects of 16
 * to 256 bytes, then waits until every thread holds its objects (so they
 * are all live at once: this is where the peak RSS is), then replaces
 * random objects OPS times, checks and frees everything and exits.
 *
 * usage: threads [THREADS=64] [OBJECTS=200] [OPS=2000] [ROUNDS=10]
 */
#include "common.h"

struct obj {
	void *p;
	size_t size;
	uint64_t tag;
};

struct worker {
	long id;
	uint64_t allocs, sum;
};

static long nthreads, nobjs, nops;
static pthread_barrier_t barrier;

static void obj_new(struct obj *o, uint64_t *rng, struct worker *w)
{
	o->size = rnd_skew(rng, 16, 256);
	o->tag = tag_of(((uint64_t)w->id << 32) | w->allocs++);
	o->p = xmalloc(o->size);
	obj_fill(o->p, o->size, o->tag);
	w->sum += o->tag;
}

static void obj_del(struct obj *o, struct worker *w)
{
	if (!obj_check(o->p, o->size, o->tag))
		wrong("threads: object of %zu bytes was overwritten", o->size);
	free(o->p);
	w->sum -= o->tag;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 6000 + w->id;
	struct obj *objs = xmalloc(nobjs * sizeof(*objs));

	for (long i = 0; i < nobjs; i++)
		obj_new(&objs[i], &rng, w);
	pthread_barrier_wait(&barrier);
	for (long i = 0; i < nops; i++) {
		struct obj *o = &objs[rnd_next(&rng) % (uint64_t)nobjs];

		obj_del(o, w);
		obj_new(o, &rng, w);
	}
	for (long i = 0; i < nobjs; i++)
		obj_del(&objs[i], w);
	free(objs);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *workers;
	pthread_t *tid;
	uint64_t allocs = 0;
	long rounds;

	nthreads = arg_long(argc, argv, 1, 64);
	nobjs = arg_long(argc, argv, 2, 200);
	nops = arg_long(argc, argv, 3, 2000);
	rounds = arg_long(argc, argv, 4, 10);
	workers = calloc(nthreads, sizeof(*workers));
	tid = xmalloc(nthreads * sizeof(*tid));
	if (!workers)
		fail("calloc returned NULL");
	for (long r = 0; r < rounds; r++) {
		pthread_barrier_init(&barrier, NULL, nthreads);
		for (long t = 0; t < nthreads; t++) {
			workers[t].id = r * nthreads + t;
			workers[t].allocs = 0;
			workers[t].sum = 0;
		}
		start_threads(tid, nthreads, worker_main, workers, sizeof(*workers), 256 << 10);
		join_threads(tid, nthreads);
		pthread_barrier_destroy(&barrier);
		for (long t = 0; t < nthreads; t++) {
			if (workers[t].sum != 0)
				wrong("threads: thread %ld freed other tags than it allocated", t);
			allocs += workers[t].allocs;
		}
	}
	printf("threads threads=%ld rounds=%ld allocs=%llu\n", nthreads, rounds,
	       (unsigned long long)allocs);
	free(workers);
	free(tid);
	bench_idle();
	return 0;
}
