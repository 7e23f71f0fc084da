/*
 * mstress: memory stress, after mimalloc's test-stress (mstress in
 * mimalloc-bench).
 *
 * Each round starts THREADS new threads.  A thread keeps a local set of
 * objects whose size swings: it grows the set to a random target, then
 * shrinks it by freeing random objects, several times.  Sizes are random
 * and mostly small (24 B to 1 KiB), with one object in 100 up to 64 KiB
 * and one in 4000 up to 1 MiB.  One new object in 8 is swapped into a
 * global transfer array shared by all threads (and all rounds), and the
 * thread frees whatever object it took out, so objects die in other
 * threads, often in threads that started after their allocator exited.
 * Threads exit with part of their set still in the transfer array.
 *
 * usage: mstress [ROUNDS=10] [THREADS=4] [STEPS=50000] [LIVE=2000] [TRANSFER=1000]
 *   STEPS is the number of allocations per thread per round, LIVE the
 *   most objects a thread's set holds.
 */
#include "common.h"

#include <stdatomic.h>

struct obj {
	uint64_t size; /* the object starts with its size and tag */
	uint64_t tag;
};

struct worker {
	long id, round;
	uint64_t made, freed;
};

static long nthreads, nsteps, nlive, ntransfer;
static _Atomic(struct obj *) *transfer;

static struct obj *obj_new(uint64_t *rng, uint64_t id)
{
	uint64_t r = rnd_next(rng) % 4000, size;
	struct obj *o;

	if (r == 0)
		size = rnd_range(rng, 64 << 10, 1 << 20);
	else if (r < 40)
		size = rnd_range(rng, 1024, 64 << 10);
	else
		size = rnd_skew(rng, 24, 1024);
	o = xmalloc(size);
	obj_fill(o, size, tag_of(id));
	memcpy(o, &size, 8); /* obj_fill put the tag in the first 8 bytes */
	memcpy(&o->tag, (char *)o + size - 8, 8);
	return o;
}

static uint64_t obj_del(struct obj *o)
{
	uint64_t tag = o->tag, size = o->size;

	if (size < 24 || size > (1 << 20))
		wrong("mstress: an object's size field was overwritten");
	memcpy(o, &tag, 8);
	if (!obj_check(o, size, tag))
		wrong("mstress: object of %llu bytes was overwritten", (unsigned long long)size);
	free(o);
	return tag;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 11000 + (uint64_t)w->id * 131 + (uint64_t)w->round;
	uint64_t id = ((uint64_t)w->round << 48) | ((uint64_t)w->id << 36);
	long cap = nlive, live = 0, target = 0;
	struct obj **set = xmalloc(cap * sizeof(*set));

	for (long s = 0; s < nsteps; s++) {
		struct obj *o;

		if (live == target) {
			/* A new target, up or down: the live set swings. */
			target = (long)rnd_range(&rng, 0, (uint64_t)cap);
			while (live > target) {
				long k = (long)(rnd_next(&rng) % (uint64_t)live);

				w->freed += obj_del(set[k]);
				set[k] = set[--live];
			}
		}
		o = obj_new(&rng, id++);
		w->made += o->tag;
		if (rnd_next(&rng) % 8 == 0) {
			o = atomic_exchange(&transfer[rnd_next(&rng) % (uint64_t)ntransfer], o);
			if (!o)
				continue;
		}
		if (live < cap)
			set[live++] = o;
		else
			w->freed += obj_del(o);
		if (live > target)
			target = live;
	}
	while (live)
		w->freed += obj_del(set[--live]);
	free(set);
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = arg_long(argc, argv, 1, 10);
	uint64_t made = 0, freed = 0;
	struct worker *workers;
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 2, 4);
	nsteps = arg_long(argc, argv, 3, 50000);
	nlive = arg_long(argc, argv, 4, 2000);
	ntransfer = arg_long(argc, argv, 5, 1000);
	transfer = calloc(ntransfer, sizeof(*transfer));
	workers = calloc(nthreads, sizeof(*workers));
	tid = xmalloc(nthreads * sizeof(*tid));
	if (!transfer || !workers)
		fail("calloc returned NULL");
	for (long r = 0; r < rounds; r++) {
		for (long t = 0; t < nthreads; t++) {
			workers[t].id = t;
			workers[t].round = r;
		}
		start_threads(tid, nthreads, worker_main, workers, sizeof(*workers), 0);
		join_threads(tid, nthreads);
		for (long t = 0; t < nthreads; t++) {
			made += workers[t].made;
			freed += workers[t].freed;
			workers[t].made = workers[t].freed = 0;
		}
	}
	for (long i = 0; i < ntransfer; i++)
		if (transfer[i])
			freed += obj_del(transfer[i]);
	if (made != freed)
		wrong("mstress: the tags of the objects freed differ from those made");
	printf("mstress rounds=%ld threads=%ld objects=%llu tags=%016llx\n", rounds, nthreads,
	       (unsigned long long)(rounds * nthreads * nsteps), (unsigned long long)made);
	free(transfer);
	free(workers);
	free(tid);
	bench_idle();
	return 0;
}
